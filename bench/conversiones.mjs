#!/usr/bin/env node
// Benchmark de ingesta de conversiones (`pnpm bench:conversiones`, y el final de `pnpm bench`): ¿cuántos
// hechos de conversión por segundo acepta la API frente a cuántos pagos nuevos, en la misma ejecución?
//
// Contra UN PostgreSQL embebido (fsync y synchronous_commit activados: se comprueba), cada fase en su base
// recién creada desde una plantilla ya migrada (tras un CHECKPOINT), con la API real compilada
// (`services/api/dist/main.js`, su configuración por defecto) y `Authorization: Bearer` del mismo socio,
// creado con `pnpm socios crear` y con su regla de comisión de `pnpm socios comision` en la plantilla:
//   1. pagos: POST /pagos, pagos nuevos (`lib/carga-http.mjs`, como la fase «API real, pagos nuevos
//      (Bearer)» de `pnpm bench:ingesta`);
//   2. conversiones: POST /conversiones/eventos, ciclos de vida con id_evento nuevos
//      (`lib/carga-conversiones.mjs`: creada, a veces ajustada, aprobada / revertida / nada; algunos
//      desordenados).
// Misma concurrencia, calentamiento y duración; el orden de las dos fases se alterna entre rondas. Al acabar
// cada fase se cuentan las filas (pagos = outbox = historial; hechos = outbox = historial de conversiones
// = hechos aceptados) y que ninguna respuesta sea una réplica (todo nuevo en las dos fases). Imprime pet./s, p50/p99, la CPU de la API por petición y el cociente
// conversiones/pagos (objetivo del issue 12: ≥ 0,8×). Sale con 1 si una fase tuvo errores o filas que no cuadran.
//
// Antes de medir, una pasada corta de cada fase que no cuenta (BENCH_CALENTAMIENTO_CLUSTER s): la primera
// fase sobre el clúster recién arrancado sale mucho más lenta.
// Variables: BENCH_SEGUNDOS (15), BENCH_CALENTAMIENTO (2), BENCH_CONCURRENCIA (50), BENCH_RONDAS (1: con
// N > 1 las fases se intercalan N veces; la tabla da la ronda con el cociente mediano), BENCH_CALENTAMIENTO_CLUSTER (5).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fijarComision } from './lib/comision.mjs';
import { cpuPorArbol } from './lib/cpu.mjs';
import { mediana } from './lib/estadistica.mjs';
import { adaptadores, arrancarServicioDe, conCliente, crearSocio, ejecutarJson, iniciarPostgres, versionActual } from './lib/topologia.mjs';
import { entero } from './lib/variables.mjs';

const aqui = path.dirname(fileURLToPath(import.meta.url));
const SEGUNDOS = entero('BENCH_SEGUNDOS', 15);
const CALENTAMIENTO = entero('BENCH_CALENTAMIENTO', 2, 0);
const CONCURRENCIA = entero('BENCH_CONCURRENCIA', 50);
const RONDAS = entero('BENCH_RONDAS', 1);
const CALENTAMIENTO_CLUSTER = entero('BENCH_CALENTAMIENTO_CLUSTER', 5, 1);
const decir = (texto) => process.stdout.write(`${texto}\n`);
const cargaMedia = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const cpuDe = (pid) => cpuPorArbol({ pid })?.pid ?? 0;

const postgres = await iniciarPostgres();
decir(`PostgreSQL embebido: ${postgres.url}`);
const urlDe = postgres.urlDe;

let socio;
const FASES = {
  pagos: {
    nombre: 'API, POST /pagos (pagos nuevos)',
    carga: (puerto, segundos) =>
      ejecutarJson(path.join(aqui, 'lib/carga-http.mjs'), [
        `http://127.0.0.1:${puerto}/pagos`,
        String(CONCURRENCIA),
        String(segundos),
        'unicos',
        String(CALENTAMIENTO),
        socio.clave,
      ]),
    filas: `SELECT (SELECT count(*) FROM pagos)::int AS escritos, (SELECT count(*) FROM outbox)::int AS outbox,
                   (SELECT count(*) FROM historial_pagos)::int AS historial,
                   (SELECT coalesce(array_agg(DISTINCT id_socio), '{}') FROM pagos) AS socios`,
    // Los pagos aceptados no los cuenta el generador de pagos: basta con que las tres tablas cuadren.
    coherentes: (f, r) => f.escritos > 0 && f.escritos === f.outbox && f.outbox === f.historial && r.replays === 0,
  },
  conversiones: {
    nombre: 'API, POST /conversiones/eventos (hechos nuevos)',
    carga: (puerto, segundos) =>
      ejecutarJson(path.join(aqui, 'lib/carga-conversiones.mjs'), [
        `http://127.0.0.1:${puerto}`,
        String(CONCURRENCIA),
        'segundos',
        String(segundos),
        String(CALENTAMIENTO),
        socio.clave,
      ]),
    filas: `SELECT (SELECT count(*) FROM hechos_conversion)::int AS escritos, (SELECT count(*) FROM outbox)::int AS outbox,
                   (SELECT count(*) FROM historial_conversiones)::int AS historial,
                   (SELECT coalesce(array_agg(DISTINCT id_socio), '{}') FROM hechos_conversion) AS socios`,
    // Todo hecho es nuevo: una réplica (Idempotent-Replayed) sería una carga más barata que la de pagos.
    coherentes: (f, r) => f.escritos === r.aceptadosTotales && f.escritos === f.outbox && f.outbox === f.historial && r.replays === 0,
  },
};

/**
 * Commits de la base de la fase (`pg_stat_database.xact_commit`). Con `alCerrar`, espera antes a que se
 * cierren sus conexiones: un backend publica sus estadísticas al terminar.
 */
async function commitsDe(base, alCerrar = false) {
  return conCliente(postgres.url, async (c) => {
    const limite = Date.now() + 15_000;
    while (alCerrar && Date.now() < limite) {
      const { rows } = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [base]);
      if (rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (alCerrar) await new Promise((r) => setTimeout(r, 200));
    await c.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await c.query('SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = $1', [base]);
    return Number(rows[0]?.n ?? Number.NaN);
  });
}

let numeroBase = 0;
async function fase(clave, segundos = SEGUNDOS) {
  const definicion = FASES[clave];
  numeroBase += 1;
  const base = `bench_conv_${numeroBase}_${clave}`;
  await conCliente(postgres.url, async (c) => {
    await c.query(`CREATE DATABASE ${base} TEMPLATE bench_plantilla`);
    await c.query('CHECKPOINT');
  });
  const carga = cargaMedia();
  const commits0 = await commitsDe(base);
  const api = await arrancarServicioDe(versionActual, 'api', { DATABASE_URL: urlDe(base) });
  let resultado;
  let cpuApi;
  try {
    const cpu0 = cpuDe(api.proceso.pid);
    resultado = await definicion.carga(api.puerto, segundos);
    cpuApi = cpuDe(api.proceso.pid) - cpu0;
  } finally {
    await api.parar();
  }
  const commits = (await commitsDe(base, true)) - commits0;
  const filas = await conCliente(urlDe(base), async (c) => (await c.query(definicion.filas)).rows[0]);
  const coherentes = definicion.coherentes(filas, resultado) && filas.socios.join() === socio.id_socio;
  if (!coherentes) process.stderr.write(`  ¡filas incoherentes en ${clave}! ${JSON.stringify(filas)}\n`);
  await conCliente(postgres.url, (c) => c.query(`DROP DATABASE ${base}`));
  return {
    clave,
    resultado,
    filas,
    coherentes,
    carga,
    // CPU de la API por petición (toda la fase, calentamiento incluido), en ms.
    cpuApiMsPorPeticion: (1000 * cpuApi) / resultado.peticionesTotales,
    commitsPorPeticion: commits / resultado.peticionesTotales,
  };
}

const rondas = [];
let durabilidad;
try {
  durabilidad = await conCliente(postgres.url, async (c) => {
    const { rows } = await c.query(`SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'server_version')`);
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  });
  if (durabilidad.fsync !== 'on' || durabilidad.synchronous_commit !== 'on') {
    throw new Error(`el benchmark exige fsync y synchronous_commit activados (${JSON.stringify(durabilidad)})`);
  }
  await conCliente(postgres.url, (c) => c.query('CREATE DATABASE bench_plantilla'));
  await adaptadores.migrarUrl(urlDe('bench_plantilla'));
  socio = await crearSocio(versionActual, urlDe('bench_plantilla'), 'bench-conversiones', ['--limite-rps', '1000000']);
  await fijarComision(urlDe('bench_plantilla'), socio.id_socio);
  decir(`socio del benchmark: ${socio.id_socio} (límite 1000000 pet/s; comisión del 10 %, pnpm socios comision)`);
  // La primera fase sobre el clúster recién arrancado sale siempre mucho más lenta (lo que sea que calienta:
  // cachés, el primer CREATE DATABASE…) y falsearía el cociente de la primera ronda: una pasada corta de
  // cada fase que no cuenta.
  decir(`calentamiento del clúster (no cuenta): ${CALENTAMIENTO_CLUSTER} s de cada fase`);
  for (const clave of ['pagos', 'conversiones']) await fase(clave, CALENTAMIENTO_CLUSTER);
  for (let ronda = 1; ronda <= RONDAS; ronda += 1) {
    const orden = ronda % 2 === 1 ? ['pagos', 'conversiones'] : ['conversiones', 'pagos'];
    const r = {};
    for (const clave of orden) {
      decir(
        `[ronda ${ronda}/${RONDAS}] ${FASES[clave].nombre}: ${CONCURRENCIA} concurrentes, ${CALENTAMIENTO} s + ${SEGUNDOS} s (carga ${cargaMedia()})`,
      );
      r[clave] = await fase(clave);
    }
    rondas.push(r);
  }
} finally {
  await postgres.detener();
}

const cocientes = rondas.map((r) => r.conversiones.resultado.porSegundo / r.pagos.resultado.porSegundo);
const cocientesCpu = rondas.map((r) => r.conversiones.cpuApiMsPorPeticion / r.pagos.cpuApiMsPorPeticion);
const cocienteMediano = mediana(cocientes);
const representativa = rondas[cocientes.indexOf([...cocientes].sort((a, b) => a - b)[Math.floor((cocientes.length - 1) / 2)])];
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');
const linea = (f) =>
  [
    FASES[f.clave].nombre.padEnd(48),
    fmt(f.resultado.porSegundo).padStart(7),
    fmt(f.resultado.p50, 1).padStart(7),
    fmt(f.resultado.p99, 1).padStart(7),
    String(f.resultado.errores).padStart(5),
    fmt(f.commitsPorPeticion, 3).padStart(8),
    fmt(f.cpuApiMsPorPeticion, 3).padStart(10),
    String(f.carga).padStart(6),
  ].join(' ');
const h = representativa.conversiones.resultado.hechos;
const incoherentes = rondas.flatMap((r) => Object.values(r).filter((f) => !f.coherentes || f.resultado.errores > 0));
const lineas = [
  '',
  `Conversiones frente a pagos: ${CONCURRENCIA} concurrentes, ${CALENTAMIENTO} s + ${SEGUNDOS} s por fase, ${RONDAS} ronda(s); ` +
    `${os.cpus().length} núcleos, Node ${process.version}; PostgreSQL ${durabilidad.server_version} (fsync=on, synchronous_commit=on)`,
  [
    'fase'.padEnd(48),
    'pet./s'.padStart(7),
    'p50 ms'.padStart(7),
    'p99 ms'.padStart(7),
    'err.'.padStart(5),
    'commit/p'.padStart(8),
    'CPU API ms'.padStart(10),
    ' carga',
  ].join(' '),
  linea(representativa.pagos),
  linea(representativa.conversiones),
  `  hechos aceptados en la fase de conversiones: creada ${h.creada}, ajustada ${h.ajustada}, aprobada ${h.aprobada}, revertida ${h.revertida} ` +
    `(toda la fase: ${fmt(h.creada / representativa.conversiones.resultado.duracionTotal)} conversiones nuevas/s, ${fmt(representativa.conversiones.resultado.aceptadosTotales / representativa.conversiones.resultado.duracionTotal)} hechos/s; ` +
    `réplicas: ${representativa.conversiones.resultado.replays} hechos, ${representativa.pagos.resultado.replays} pagos)`,
  '',
  `conversiones / pagos: ${fmt(cocienteMediano, 2)}×  (objetivo del issue 12 ≥ 0.8×: ${cocienteMediano >= 0.8 ? 'cumple' : 'NO cumple'})` +
    (RONDAS > 1 ? `   rondas: ${cocientes.map((c) => c.toFixed(2)).join(', ')}` : ''),
  `  CPU de la API por petición, conversiones / pagos: ${fmt(mediana(cocientesCpu), 2)}×` +
    (RONDAS > 1 ? `   rondas: ${cocientesCpu.map((c) => c.toFixed(2)).join(', ')}` : '') +
    ' (informativo: depende menos de la carga de la máquina)',
  'commit/p: commits de la base de la fase por petición (calentamiento incluido); CPU API ms: CPU del proceso de la API por petición;',
  'carga: loadavg de 1 min al empezar la fase (con > 2, otros procesos se llevan parte de los 2 núcleos).',
];
if (incoherentes.length > 0) lineas.push(`ATENCIÓN: ${incoherentes.length} fase(s) con errores o filas incoherentes (ver JSON).`);
for (const l of lineas) decir(l);
const carpeta = path.join(aqui, 'resultados');
mkdirSync(carpeta, { recursive: true });
const archivo = path.join(carpeta, `conversiones-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  archivo,
  `${JSON.stringify({ concurrencia: CONCURRENCIA, segundos: SEGUNDOS, calentamiento: CALENTAMIENTO, durabilidad, cocientes, cocientesCpu, rondas }, null, 2)}\n`,
);
decir(`resultado: ${path.relative(process.cwd(), archivo)}`);
if (incoherentes.length > 0) process.exitCode = 1;
