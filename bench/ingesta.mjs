#!/usr/bin/env node
// Benchmark de ingesta (`pnpm bench` = `pnpm bench:ingesta`, que compila antes con turbo).
//
// En UNA ejecución y contra el MISMO PostgreSQL embebido (fsync, synchronous_commit y full_page_writes
// activados: se comprueba y se imprime), cada fase en su propia base de datos recién migrada:
//   1. pg crudo: el repositorio real (`PostgresRepositorioPagos`: pago + outbox + historial en una
//      sentencia, ON CONFLICT) sin agrupar, `loteMaximo: 1`: UN pago por sentencia (= un commit por pago),
//      sin HTTP ni validación de la petición;
//   2. Hono ingenuo: BEGIN / INSERT pago / INSERT outbox / COMMIT por petición (sin idempotencia ni
//      historial);
//   3. API real (`services/api/dist/main.js`, su configuración por defecto salvo LOG_LEVEL=warn),
//      pagos nuevos con `Authorization: Bearer` de un socio creado con la administración de socios en la
//      base de la fase: autenticación, ámbito del socio, límite de ritmo (alto: se aplica y no rechaza),
//      validación, idempotencia, outbox e historial;
//   4. lo mismo en el modo anónimo (`API_ANONIMA_SOCIO`, sin cabecera Authorization): la API sin
//      autenticación, en la misma ejecución, para el cociente autenticada/anónima;
//   5. y 6. API real, réplicas autenticadas y anónimas: se reenvían 500 pagos ya creados (misma clave,
//      mismo cuerpo), configuración por defecto (la caché de réplicas responde sin ir a la base de datos);
//   7. réplicas autenticadas con IDEMPOTENCIA_CACHE_ENTRADAS=0: cada réplica la responde la base de datos
//      (el `previos` de la sentencia de creación, sin escribir nada).
// La carga HTTP sale de otro proceso (`lib/carga-http.mjs`), con keep-alive. Imprime peticiones/s,
// p50/p99, commits y fsync de WAL por petición, CPU de cada proceso y los cocientes; guarda el JSON en
// bench/resultados/ (ignorada por git).
//
// Variables: BENCH_SEGUNDOS (15), BENCH_CALENTAMIENTO (2), BENCH_CONCURRENCIA (50),
// BENCH_POOL (20: pool de las dos líneas base), BENCH_RONDAS (1: con N > 1 las fases se repiten
// intercaladas N veces y se informa la mediana de cada una), BENCH_API_ENV (variables extra para la
// API, p. ej. "PG_POOL_SIZE=8").
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arrancarServicio } from '@aeropartners/procesos';
import { cpuPorArbol } from './lib/cpu.mjs';
import { mediana } from './lib/estadistica.mjs';
import { adaptadores, arrancarServicioDe, conCliente, crearSocio, ejecutarJson, iniciarPostgres, versionActual } from './lib/topologia.mjs';
import { entero } from './lib/variables.mjs';

const aqui = path.dirname(fileURLToPath(import.meta.url));
const raiz = path.resolve(aqui, '..');

const SEGUNDOS = entero('BENCH_SEGUNDOS', 15);
const CALENTAMIENTO = entero('BENCH_CALENTAMIENTO', 2, 0);
const CONCURRENCIA = entero('BENCH_CONCURRENCIA', 50);
const POOL = entero('BENCH_POOL', 20);
const RONDAS = entero('BENCH_RONDAS', 1);
const API_ENV = Object.fromEntries(
  (process.env.BENCH_API_ENV ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((par) => [par.slice(0, par.indexOf('=')), par.slice(par.indexOf('=') + 1)]),
);
const decir = (texto) => process.stdout.write(`${texto}\n`);

// ---- CPU por proceso (/proc, `lib/cpu.mjs`), para explicar dónde se va el tiempo en 2 núcleos ----
const TICS = 100; // CLK_TCK en Linux
/** Segundos de CPU del árbol de procesos de `pid` (0 fuera de Linux). */
const cpuDe = (pid) => cpuPorArbol({ pid })?.pid ?? 0;
const cargaMedia = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const cpuTotalSistema = () => {
  const [, ...v] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const inactivo = v[3] + v[4];
  return { ocupado: (v.reduce((a, b) => a + b, 0) - inactivo) / TICS, total: v.reduce((a, b) => a + b, 0) / TICS };
};

// ---- PostgreSQL ----
const postgres = await iniciarPostgres();
const pidPostmaster = postgres.pid();
decir(`PostgreSQL embebido: ${postgres.url}`);
const urlDe = postgres.urlDe;

async function ajustesDurabilidad() {
  return conCliente(postgres.url, async (c) => {
    const { rows } = await c.query(
      `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'server_version')`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  });
}

/** Fsync de WAL acumulados en el clúster (pg_stat_io, PostgreSQL ≥ 18; si no, pg_stat_wal). */
async function fsyncsWal() {
  return conCliente(postgres.url, async (c) => {
    try {
      const { rows } = await c.query(`SELECT coalesce(sum(fsyncs), 0)::bigint AS n FROM pg_stat_io WHERE object = 'wal'`);
      return Number(rows[0].n);
    } catch {
      const { rows } = await c.query(`SELECT wal_sync AS n FROM pg_stat_wal`).catch(() => ({ rows: [{ n: NaN }] }));
      return Number(rows[0].n);
    }
  });
}

async function estadisticasBase(baseDeDatos) {
  return conCliente(postgres.url, async (c) => {
    await c.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await c.query('SELECT xact_commit::bigint AS commits FROM pg_stat_database WHERE datname = $1', [baseDeDatos]);
    return { commits: Number(rows[0]?.commits ?? NaN) };
  });
}

async function contarFilas(baseDeDatos) {
  return conCliente(urlDe(baseDeDatos), async (c) => {
    const { rows } = await c.query(
      `SELECT (SELECT count(*) FROM pagos)::int AS pagos, (SELECT count(*) FROM outbox)::int AS outbox,
              (SELECT count(*) FROM historial_pagos)::int AS historial,
              (SELECT coalesce(array_agg(DISTINCT id_socio ORDER BY id_socio), '{}') FROM pagos) AS socios`,
    );
    return { ...rows[0], socioBench };
  });
}

let numeroBase = 0;
/** Base de datos nueva, copia de la plantilla ya migrada; deja el clúster con un checkpoint hecho. */
async function baseNueva(fase) {
  numeroBase += 1;
  const nombre = `bench_${numeroBase}_${fase.replace(/\W/g, '_').toLowerCase()}`;
  await conCliente(postgres.url, async (c) => {
    await c.query(`CREATE DATABASE ${nombre} TEMPLATE bench_plantilla`);
    await c.query('CHECKPOINT');
  });
  return nombre;
}

/** Las estadísticas de un backend se publican al terminar: se espera a que cierren todas las conexiones. */
async function esperarSinConexiones(baseDeDatos) {
  const limite = Date.now() + 15_000;
  await conCliente(postgres.url, async (c) => {
    for (;;) {
      const { rows } = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [baseDeDatos]);
      if (rows[0].n === 0 || Date.now() > limite) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  await new Promise((r) => setTimeout(r, 200));
}

/**
 * Ejecuta una fase y mide alrededor de ella: CPU de cada proceso, commits de su base, fsync del WAL y
 * carga media. `cuerpo` recibe la base de datos y devuelve `{ resultado, pidServidor? }`.
 */
async function medirFase(fase, baseDeDatos, cuerpo) {
  const antes = {
    pg: cpuDe(pidPostmaster),
    sistema: cpuTotalSistema(),
    fsyncs: await fsyncsWal(),
    ...(await estadisticasBase(baseDeDatos)),
  };
  const carga = cargaMedia();
  const { resultado, cpuServidor } = await cuerpo(baseDeDatos);
  await esperarSinConexiones(baseDeDatos);
  const despues = {
    pg: cpuDe(pidPostmaster),
    sistema: cpuTotalSistema(),
    fsyncs: await fsyncsWal(),
    ...(await estadisticasBase(baseDeDatos)),
  };
  const peticionesTotales = resultado.peticionesTotales;
  const duracion = resultado.duracionTotal;
  return {
    ...resultado,
    fase,
    baseDeDatos,
    cargaMediaAlEmpezar: carga,
    cargaMediaAlAcabar: cargaMedia(),
    // Por petición, sobre TODA la fase (calentamiento incluido, que es lo que abarcan los contadores).
    commitsPorPeticion: (despues.commits - antes.commits) / peticionesTotales,
    fsyncsWalPorSegundo: (despues.fsyncs - antes.fsyncs) / duracion,
    fsyncsWalPorPeticion: (despues.fsyncs - antes.fsyncs) / peticionesTotales,
    // Núcleos ocupados de media (2 = la máquina entera).
    nucleos: {
      carga: resultado.cpuSegundos / duracion,
      servidor: cpuServidor === undefined ? null : cpuServidor / duracion,
      postgres: (despues.pg - antes.pg) / duracion,
      sistema: (despues.sistema.ocupado - antes.sistema.ocupado) / duracion,
    },
  };
}

/** Límite de ritmo del socio del benchmark: el máximo (el limitador trabaja en cada petición y no rechaza ninguna). */
const LIMITE_RPS_BENCH = 1_000_000;
/** Socio del modo anónimo (`API_ANONIMA_SOCIO`): la API lo crea si falta. */
const SOCIO_ANONIMO = 'bench-anonimo';
/**
 * El modo anónimo: su socio no tiene límite propio, así que rige el de la instancia, que se sube al mismo
 * máximo que el del socio del benchmark (el limitador trabaja igual en las dos fases y no rechaza).
 */
const ENTORNO_ANONIMO = { API_ANONIMA_SOCIO: SOCIO_ANONIMO, API_LIMITE_RPS: String(LIMITE_RPS_BENCH) };
/** La clave del socio del benchmark (creado en la plantilla: toda base de fase lo tiene). */
let clave;
let socioBench;

/** `arrancar(url)` → `{ proceso, puerto }` de un servidor HTTP ya listo; la carga sale de otro proceso. */
async function faseServidorHttp(baseDeDatos, { arrancar, modo, autenticada = false }) {
  const { proceso, puerto } = await arrancar(urlDe(baseDeDatos));
  try {
    const cpu0 = cpuDe(proceso.pid);
    const resultado = await ejecutarJson(path.join(aqui, 'lib/carga-http.mjs'), [
      `http://127.0.0.1:${puerto}/pagos`,
      String(CONCURRENCIA),
      String(SEGUNDOS),
      modo,
      String(CALENTAMIENTO),
      ...(autenticada ? [clave] : []),
    ]);
    return { resultado, cpuServidor: cpuDe(proceso.pid) - cpu0 };
  } finally {
    await proceso.parar({ graciaMs: 20_000 });
  }
}

/** La API compilada del árbol, con su configuración por defecto salvo LOG_LEVEL=warn y BENCH_API_ENV. */
const api =
  (extra = {}) =>
  (url) =>
    arrancarServicioDe(versionActual, 'api', { DATABASE_URL: url, ...API_ENV, ...extra });
const honoIngenuo = (url) =>
  arrancarServicio({
    nombre: 'hono-ingenuo',
    script: path.join(aqui, 'lib/hono-ingenuo.mjs'),
    argumentos: [url, String(POOL)],
    opcionesNode: [],
    entorno: process.env,
    alLinea: (linea, flujo) => flujo === 'stderr' && process.stderr.write(`[hono-ingenuo] ${linea}\n`),
  });

const FASES = [
  {
    clave: 'pgCrudo',
    nombre: 'pg crudo (repositorio, 1 pago/sentencia)',
    esperado: (f) => f.pagos === f.outbox && f.outbox === f.historial,
    correr: (base) =>
      ejecutarJson(path.join(aqui, 'lib/linea-base-pg.mjs'), [
        urlDe(base),
        String(CONCURRENCIA),
        String(SEGUNDOS),
        String(POOL),
        String(CALENTAMIENTO),
      ]).then((resultado) => ({ resultado })),
  },
  {
    clave: 'honoIngenuo',
    nombre: 'Hono ingenuo (BEGIN/2×INSERT/COMMIT)',
    esperado: (f) => f.pagos === f.outbox && f.historial === 0,
    correr: (base) => faseServidorHttp(base, { arrancar: honoIngenuo, modo: 'unicos' }),
  },
  {
    clave: 'api',
    nombre: 'API real, pagos nuevos (Bearer)',
    esperado: (f) => f.pagos === f.outbox && f.outbox === f.historial && f.socios.join() === f.socioBench,
    correr: (base) => faseServidorHttp(base, { arrancar: api(), modo: 'unicos', autenticada: true }),
  },
  {
    clave: 'apiAnonima',
    nombre: 'API real, pagos nuevos (anónima)',
    esperado: (f) => f.pagos === f.outbox && f.outbox === f.historial && f.socios.join() === SOCIO_ANONIMO,
    correr: (base) => faseServidorHttp(base, { arrancar: api(ENTORNO_ANONIMO), modo: 'unicos' }),
  },
  {
    clave: 'apiReplicas',
    nombre: 'API real, réplicas (Bearer)',
    // Solo los 500 pagos sembrados: las réplicas no escriben nada.
    esperado: (f) => f.pagos === 500 && f.outbox === 500 && f.historial === 500 && f.socios.join() === f.socioBench,
    correr: (base) => faseServidorHttp(base, { arrancar: api(), modo: 'repetidos', autenticada: true }),
  },
  {
    clave: 'apiReplicasAnonima',
    nombre: 'API real, réplicas (anónima)',
    esperado: (f) => f.pagos === 500 && f.outbox === 500 && f.historial === 500 && f.socios.join() === SOCIO_ANONIMO,
    correr: (base) => faseServidorHttp(base, { arrancar: api(ENTORNO_ANONIMO), modo: 'repetidos' }),
  },
  {
    clave: 'apiReplicasBd',
    nombre: 'API real, réplicas, sin caché (Bearer)',
    esperado: (f) => f.pagos === 500 && f.outbox === 500 && f.historial === 500 && f.socios.join() === f.socioBench,
    correr: (base) => faseServidorHttp(base, { arrancar: api({ IDEMPOTENCIA_CACHE_ENTRADAS: '0' }), modo: 'repetidos', autenticada: true }),
  },
];

/**
 * Las fases de una ronda: en las pares, la anónima de cada par va delante de su autenticada, para que la
 * deriva de la carga de la máquina no favorezca siempre a la misma.
 */
function fasesDeRonda(ronda) {
  if (ronda % 2 === 1) return FASES;
  const orden = FASES.map((f) => f.clave);
  for (const [a, b] of [
    ['api', 'apiAnonima'],
    ['apiReplicas', 'apiReplicasAnonima'],
  ]) {
    const i = orden.indexOf(a);
    const j = orden.indexOf(b);
    [orden[i], orden[j]] = [orden[j], orden[i]];
  }
  return orden.map((clave) => FASES.find((f) => f.clave === clave));
}

const rondas = [];
let durabilidad;
try {
  durabilidad = await ajustesDurabilidad();
  if (durabilidad.fsync !== 'on' || durabilidad.synchronous_commit !== 'on') {
    throw new Error(`el benchmark exige fsync y synchronous_commit activados (${JSON.stringify(durabilidad)})`);
  }
  await conCliente(postgres.url, (c) => c.query('CREATE DATABASE bench_plantilla'));
  await adaptadores.migrarUrl(urlDe('bench_plantilla'));
  // El socio del benchmark, con la administración de socios, en la plantilla: cada base de fase lo copia.
  ({ id_socio: socioBench, clave } = await crearSocio(versionActual, urlDe('bench_plantilla'), 'bench', [
    '--limite-rps',
    String(LIMITE_RPS_BENCH),
  ]));
  decir(`socio del benchmark: ${socioBench} (límite ${LIMITE_RPS_BENCH} pet/s); modo anónimo: ${SOCIO_ANONIMO}`);

  for (let ronda = 1; ronda <= RONDAS; ronda += 1) {
    const resultados = {};
    for (const [i, fase] of fasesDeRonda(ronda).entries()) {
      decir(
        `[ronda ${ronda}/${RONDAS}, fase ${i + 1}/${FASES.length}] ${fase.nombre}: ${CONCURRENCIA} concurrentes, ${CALENTAMIENTO} s + ${SEGUNDOS} s (carga media ${cargaMedia()})`,
      );
      const base = await baseNueva(fase.clave);
      const r = await medirFase(fase.clave, base, fase.correr);
      r.filas = await contarFilas(base);
      r.filasCoherentes = fase.esperado(r.filas);
      if (!r.filasCoherentes) process.stderr.write(`  ¡filas incoherentes en ${fase.clave}! ${JSON.stringify(r.filas)}\n`);
      if (r.errores > 0) process.stderr.write(`  ${r.errores} errores en ${fase.clave}\n`);
      resultados[fase.clave] = r;
    }
    rondas.push(resultados);
  }
} finally {
  await postgres.detener();
}

// ---- informe ----
/** Con varias rondas, la fila de cada fase es la de la ronda con la mediana de peticiones/s. */
function representativo(clave) {
  const ordenadas = rondas.map((r) => r[clave]).sort((a, b) => a.porSegundo - b.porSegundo);
  return ordenadas[Math.floor((ordenadas.length - 1) / 2)];
}
const res = Object.fromEntries(FASES.map((f) => [f.clave, representativo(f.clave)]));
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');
const fila = (nombre, r) =>
  [
    nombre.padEnd(44),
    fmt(r.porSegundo).padStart(7),
    fmt(r.p50, 1).padStart(7),
    fmt(r.p99, 1).padStart(7),
    String(r.errores).padStart(5),
    fmt(r.commitsPorPeticion, 3).padStart(8),
    fmt(r.fsyncsWalPorSegundo).padStart(7),
    `${fmt(r.nucleos.carga, 2)}/${r.nucleos.servidor === null ? '—' : fmt(r.nucleos.servidor, 2)}/${fmt(r.nucleos.postgres, 2)}`.padStart(
      15,
    ),
    `  ${r.cargaMediaAlEmpezar.split(' ')[0]}`,
  ].join(' ');
const cociente = (a, b) => a / b;
/** CPU del servidor HTTP por petición, en ms (toda la fase, calentamiento incluido): menos ruidosa que pet./s. */
const cpuPorPeticion = (r) => (1000 * r.nucleos.servidor * r.duracionTotal) / r.peticionesTotales;
const cocientesPorRonda = rondas.map((r) => ({
  apiIngenuo: cociente(r.api.porSegundo, r.honoIngenuo.porSegundo),
  apiPg: cociente(r.api.porSegundo, r.pgCrudo.porSegundo),
  replicas: cociente(r.apiReplicas.porSegundo, r.api.porSegundo),
  replicasBd: cociente(r.apiReplicasBd.porSegundo, r.api.porSegundo),
  autenticadaNuevos: cociente(r.api.porSegundo, r.apiAnonima.porSegundo),
  autenticadaReplicas: cociente(r.apiReplicas.porSegundo, r.apiReplicasAnonima.porSegundo),
  cpuAutenticadaNuevos: cociente(cpuPorPeticion(r.api), cpuPorPeticion(r.apiAnonima)),
  cpuAutenticadaReplicas: cociente(cpuPorPeticion(r.apiReplicas), cpuPorPeticion(r.apiReplicasAnonima)),
}));
const medianaCociente = (k) => mediana(cocientesPorRonda.map((c) => c[k]));
const marca = (valor, objetivo) => (valor >= objetivo ? 'cumple' : 'NO cumple');
const detalleRondas = (k) => (RONDAS > 1 ? `   rondas: ${cocientesPorRonda.map((c) => c[k].toFixed(2)).join(', ')}` : '');

const lineas = [
  '',
  `Ingesta: ${CONCURRENCIA} concurrentes, ${CALENTAMIENTO} s de calentamiento + ${SEGUNDOS} s medidos por fase, ${RONDAS} ronda(s)` +
    `${RONDAS > 1 ? ' intercaladas (mediana por fase)' : ''}; ${os.cpus().length} núcleos, Node ${process.version}`,
  `PostgreSQL ${durabilidad.server_version} embebido: fsync=${durabilidad.fsync}, synchronous_commit=${durabilidad.synchronous_commit}, ` +
    `full_page_writes=${durabilidad.full_page_writes}, wal_sync_method=${durabilidad.wal_sync_method}; pool de las líneas base: ${POOL}` +
    `${Object.keys(API_ENV).length ? `; API con ${JSON.stringify(API_ENV)}` : ''}`,
  [
    'fase'.padEnd(44),
    'pet./s'.padStart(7),
    'p50 ms'.padStart(7),
    'p99 ms'.padStart(7),
    'err.'.padStart(5),
    'commit/p'.padStart(8),
    'fsync/s'.padStart(7),
    'núcleos c/s/pg'.padStart(15),
    '  carga',
  ].join(' '),
  ...FASES.map((f) => fila(f.nombre, res[f.clave])),
  '',
  `API / Hono ingenuo:       ${medianaCociente('apiIngenuo').toFixed(2)}×  (objetivo ≥ 1.0×: ${marca(medianaCociente('apiIngenuo'), 1)})${detalleRondas('apiIngenuo')}`,
  `API / pg crudo:           ${medianaCociente('apiPg').toFixed(2)}×  (objetivo ≥ 0.60×: ${marca(medianaCociente('apiPg'), 0.6)})${detalleRondas('apiPg')}`,
  `réplicas / pagos nuevos:  ${medianaCociente('replicas').toFixed(2)}×  (objetivo ≥ 2×: ${marca(medianaCociente('replicas'), 2)}; ` +
    `${res.apiReplicas.replays} de ${res.apiReplicas.peticiones} con Idempotent-Replayed)${detalleRondas('replicas')}`,
  `  sin caché, a la base:    ${medianaCociente('replicasBd').toFixed(2)}×  (informativo: cada réplica pasa por la sentencia de creación; ` +
    `${res.apiReplicasBd.replays} de ${res.apiReplicasBd.peticiones} con Idempotent-Replayed)${detalleRondas('replicasBd')}`,
  `Bearer / anónima, nuevos: ${medianaCociente('autenticadaNuevos').toFixed(2)}×  (objetivo ≥ 0.90×, la autenticación, el ámbito y el límite cuestan ≤ 10 %: ` +
    `${marca(medianaCociente('autenticadaNuevos'), 0.9)})${detalleRondas('autenticadaNuevos')}`,
  `Bearer / anónima, réplicas: ${medianaCociente('autenticadaReplicas').toFixed(2)}×  (objetivo ≥ 0.85×, cuestan ≤ 15 %: ` +
    `${marca(medianaCociente('autenticadaReplicas'), 0.85)})${detalleRondas('autenticadaReplicas')}`,
  `  CPU de la API por petición, Bearer / anónima: nuevos ${medianaCociente('cpuAutenticadaNuevos').toFixed(2)}×${detalleRondas('cpuAutenticadaNuevos')}; ` +
    `réplicas ${medianaCociente('cpuAutenticadaReplicas').toFixed(2)}×${detalleRondas('cpuAutenticadaReplicas')} (informativo: depende menos de la carga de la máquina)`,
  '',
  'commit/p: commits de la base de la fase por petición; fsync/s: fsync del WAL por segundo (todo el clúster);',
  'núcleos c/s/pg: núcleos ocupados de media por el generador de carga / el servidor HTTP / PostgreSQL; carga: loadavg 1 min al empezar.',
];
const incoherentes = rondas.flatMap((r) => Object.values(r).filter((x) => !x.filasCoherentes || x.errores > 0));
if (incoherentes.length > 0) lineas.push(`ATENCIÓN: ${incoherentes.length} fase(s) con errores o filas incoherentes (ver JSON).`);
decir(lineas.join('\n'));

mkdirSync(path.join(aqui, 'resultados'), { recursive: true });
const archivo = path.join(aqui, 'resultados', `ingesta-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  archivo,
  `${JSON.stringify(
    {
      fecha: new Date().toISOString(),
      maquina: { nucleos: os.cpus().length, modelo: os.cpus()[0]?.model, node: process.version },
      parametros: {
        segundos: SEGUNDOS,
        calentamiento: CALENTAMIENTO,
        concurrencia: CONCURRENCIA,
        poolLineasBase: POOL,
        rondas: RONDAS,
        apiEnv: API_ENV,
      },
      durabilidad,
      cocientes: {
        mediana: {
          apiIngenuo: medianaCociente('apiIngenuo'),
          apiPg: medianaCociente('apiPg'),
          replicas: medianaCociente('replicas'),
          replicasBd: medianaCociente('replicasBd'),
          autenticadaNuevos: medianaCociente('autenticadaNuevos'),
          autenticadaReplicas: medianaCociente('autenticadaReplicas'),
          cpuAutenticadaNuevos: medianaCociente('cpuAutenticadaNuevos'),
          cpuAutenticadaReplicas: medianaCociente('cpuAutenticadaReplicas'),
        },
        porRonda: cocientesPorRonda,
      },
      rondas,
    },
    null,
    2,
  )}\n`,
);
decir(`resultados en ${path.relative(raiz, archivo)}`);
if (incoherentes.length > 0) process.exitCode = 1;
