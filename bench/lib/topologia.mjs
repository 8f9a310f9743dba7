// Topología local para los benchmarks: PostgreSQL embebido nuevo + api + outbox + consumer como procesos.
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const raiz = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const adaptadores = await import(path.join(raiz, 'packages/adaptadores/dist/index.js'));
export const pg = (await import(createRequire(path.join(raiz, 'packages/adaptadores/package.json')).resolve('pg'))).default;

export function puertoLibre() {
  return new Promise((resolver, rechazar) => {
    const s = createServer();
    s.once('error', rechazar);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolver(port));
    });
  });
}

/** `registro`: archivo al que se añade la salida del servidor (p. ej. con auto_explain). */
export async function iniciarPostgres({ flagsPostgres = [], registro } = {}) {
  const directorio = mkdtempSync(path.join(os.tmpdir(), 'bench-pg-'));
  chmodSync(directorio, 0o755); // como root, PostgreSQL corre como el usuario «postgres»
  const puerto = await puertoLibre();
  const postgres = await adaptadores.iniciarPostgresEmbebido({ directorio: path.join(directorio, 'datos'), puerto, flagsPostgres, onLog: registro ? (m) => appendFileSync(registro, m) : undefined });
  for (const senal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(senal);
  return {
    url: postgres.url,
    /** pid del proceso principal de PostgreSQL (primera línea de postmaster.pid); sus hijos son los backends. */
    pid() {
      try {
        return Number(readFileSync(path.join(directorio, 'datos', 'postmaster.pid'), 'utf8').split('\n')[0]);
      } catch {
        return 0;
      }
    },
    async detener() {
      await postgres.detener();
      rmSync(directorio, { recursive: true, force: true });
    },
  };
}

async function esperarSalud(url, limiteMs, proceso) {
  const fin = Date.now() + limiteMs;
  while (Date.now() < fin) {
    if (proceso.exitCode !== null) throw new Error(`${url}: el proceso terminó al arrancar`);
    const r = await fetch(url).catch(() => null);
    if (r?.ok) return;
    await new Promise((x) => setTimeout(x, 100));
  }
  throw new Error(`${url} no respondió a tiempo`);
}

/** Arranca un servicio construido (`services/<nombre>/dist/main.js`) y espera a su /health. */
export async function arrancarServicio(nombre, env) {
  // BENCH_NODE_ARGS: flags extra de node para los servicios (p. ej. `--cpu-prof --cpu-prof-dir=/tmp/perfiles`).
  const flagsNode = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proceso = spawn(process.execPath, [...flagsNode, path.join(raiz, `services/${nombre}/dist/main.js`)], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const puerto = env.PORT ?? env.PUERTO_SALUD;
  await esperarSalud(`http://127.0.0.1:${puerto}/health`, 30_000, proceso);
  return {
    proceso,
    puerto,
    async salud() {
      const r = await fetch(`http://127.0.0.1:${puerto}/health`).catch(() => null);
      return r?.ok ? r.json() : null;
    },
    async parar() {
      if (proceso.exitCode !== null) return;
      await new Promise((resolver) => {
        proceso.once('exit', resolver);
        proceso.kill('SIGTERM');
      });
    },
  };
}

/** Ejecuta un script en otro proceso y devuelve la última línea JSON de su salida. */
export function ejecutarJson(script, args) {
  return new Promise((resolver, rechazar) => {
    const hijo = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let salida = '';
    hijo.stdout.on('data', (d) => (salida += d));
    hijo.on('exit', (codigo) =>
      codigo === 0 ? resolver(JSON.parse(salida.trim().split('\n').at(-1))) : rechazar(new Error(`${script} terminó con ${codigo}`)),
    );
  });
}
