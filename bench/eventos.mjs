#!/usr/bin/env node
// Benchmark del registro de eventos (`pnpm bench:eventos`, y el final de `pnpm bench`): ¿cuánto cuesta a la
// ingesta tener 100 clientes del stream SSE conectados, y cuánto tarda un pago confirmado en llegarles?
//
// En UNA ejecución y contra el MISMO PostgreSQL embebido, cada fase en su base recién migrada y con su API
// real (modo anónimo: todos los pagos y los streams son del mismo socio; su asignador de secuencias y su
// LISTEN en marcha en las dos fases):
//   1. sin: la carga de POST /pagos sola;
//   2. con: la misma carga con BENCH_CLIENTES (100) clientes de GET /eventos/stream conectados desde el inicio.
// La máquina es compartida y su carga cambia de un minuto a otro: un cociente de dos fases largas mide sobre
// todo eso. Por eso se hacen MUCHAS rondas CORTAS, cada una una pareja sin/con una detrás de otra y en orden
// alterno (sin-con, con-sin, sin-con… : una deriva de la carga no favorece siempre a la misma fase), y se
// informa la MEDIANA de los cocientes por pareja con su dispersión (mínimo, cuartiles, máximo).
// Imprime peticiones/s de cada fase, el cociente de cada pareja (y el de CPU de la API por petición, que depende
// menos de lo que hagan los demás procesos), los eventos que recibió cada cliente y el
// retraso hasta el stream (p50/p95/p99 de todas las fases con clientes juntas, medido en un cliente): desde
// `ocurrido_en` del evento (la hora del dominio al recibir la petición, un poco antes del commit: cota
// superior de confirmación→stream) y desde `registrado_en` (cuando el asignador lo numeró).
// Guarda el JSON en bench/resultados/.
//
// Antes de las parejas, una pasada con clientes que no cuenta (la primera fase sobre el clúster recién arrancado
// sale más lenta).
//
// Variables: BENCH_SEGUNDOS (6), BENCH_CALENTAMIENTO (1), BENCH_CONCURRENCIA (50), BENCH_CLIENTES (100),
// BENCH_RONDAS (8 parejas).
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mediana, percentiles } from '@aeropartners/kit-pruebas';
import { cpuPorArbol } from './lib/cpu.mjs';
import { adaptadores, arrancarServicioDe, conCliente, ejecutarJson, iniciarPostgres, versionActual } from './lib/topologia.mjs';
import { entero } from './lib/variables.mjs';

const aqui = path.dirname(fileURLToPath(import.meta.url));
const SEGUNDOS = entero('BENCH_SEGUNDOS', 6);
const CALENTAMIENTO = entero('BENCH_CALENTAMIENTO', 1, 0);
const CONCURRENCIA = entero('BENCH_CONCURRENCIA', 50);
const CLIENTES = entero('BENCH_CLIENTES', 100);
const RONDAS = entero('BENCH_RONDAS', 8);
const SOCIO = 'bench-eventos';
const decir = (texto) => process.stdout.write(`${texto}\n`);

const postgres = await iniciarPostgres();
decir(`PostgreSQL embebido: ${postgres.url}`);
const urlDe = postgres.urlDe;

/** Un cliente SSE que cuenta eventos; si `medir`, guarda los retrasos de cada uno (ms) desde ocurrido_en y registrado_en. */
function clienteStream(puerto, medir) {
  const estado = { eventos: 0, retrasos: [], retrasosRegistro: [], ultimo: 0, fallo: null };
  let resto = '';
  const peticion = http.get({ host: '127.0.0.1', port: puerto, path: '/eventos/stream', agent: false }, (res) => {
    if (res.statusCode !== 200) estado.fallo = `HTTP ${res.statusCode}`;
    res.setEncoding('utf8');
    res.on('data', (trozo) => {
      const ahora = Date.now();
      resto += trozo;
      for (let i = resto.indexOf('\n\n'); i !== -1; i = resto.indexOf('\n\n')) {
        const bloque = resto.slice(0, i);
        resto = resto.slice(i + 2);
        if (!bloque.startsWith('id: ')) continue;
        estado.eventos += 1;
        if (medir) {
          const data = bloque.slice(bloque.indexOf('\ndata: ') + 7);
          const evento = JSON.parse(data);
          estado.retrasos.push(ahora - Date.parse(evento.ocurrido_en));
          estado.retrasosRegistro.push(ahora - Date.parse(evento.registrado_en));
          estado.ultimo = evento.secuencia;
        }
      }
    });
    res.on('error', (e) => (estado.fallo ??= e.message));
  });
  peticion.on('error', (e) => (estado.fallo ??= e.message));
  return { estado, cerrar: () => peticion.destroy() };
}

let numeroBase = 0;
async function fase(clave, conClientes) {
  numeroBase += 1;
  const base = `bench_eventos_${numeroBase}_${clave}`;
  await conCliente(postgres.url, (c) => c.query(`CREATE DATABASE ${base} TEMPLATE bench_plantilla`));
  const url = urlDe(base);
  // Sin límite de ritmo: todos los pagos son de un mismo socio y se mide la ingesta, no el límite.
  const api = await arrancarServicioDe(versionActual, 'api', {
    DATABASE_URL: url,
    API_ANONIMA_SOCIO: SOCIO,
    ID_SOCIO_POR_DEFECTO: SOCIO,
    API_LIMITE_RPS: '1000000',
  });
  const clientes = [];
  try {
    if (conClientes) {
      for (let i = 0; i < CLIENTES; i += 1) clientes.push(clienteStream(api.puerto, i === 0));
      await new Promise((r) => setTimeout(r, 500));
    }
    const cpuApi = () => cpuPorArbol({ api: api.proceso.pid })?.api ?? Number.NaN;
    const cpu0 = cpuApi();
    const resultado = await ejecutarJson(path.join(aqui, 'lib/carga-http.mjs'), [
      `http://127.0.0.1:${api.puerto}/pagos`,
      String(CONCURRENCIA),
      String(SEGUNDOS),
      'unicos',
      String(CALENTAMIENTO),
    ]);
    const { rows } = await conCliente(url, (c) => c.query('SELECT count(*)::int AS n FROM historial_pagos'));
    const escritos = rows[0].n;
    // Hasta que todos los clientes hayan recibido todo (o 30 s).
    const t0 = Date.now();
    while (conClientes && clientes.some((c) => c.estado.eventos < escritos) && Date.now() - t0 < 30_000)
      await new Promise((r) => setTimeout(r, 100));
    // CPU de la API desde antes de la carga hasta que los clientes lo recibieron todo (también el envío a los streams).
    const cpuMsPorPeticion = ((cpuApi() - cpu0) * 1000) / resultado.peticionesTotales;
    const recibidos = clientes.map((c) => c.estado.eventos);
    const fallos = clientes.map((c) => c.estado.fallo).filter(Boolean);
    return {
      clave,
      resultado,
      cpuMsPorPeticion,
      escritos,
      recibidosMin: recibidos.length ? Math.min(...recibidos) : null,
      recibidosMax: recibidos.length ? Math.max(...recibidos) : null,
      fallos,
      retrasos: conClientes ? clientes[0].estado.retrasos : [],
      retrasosRegistro: conClientes ? clientes[0].estado.retrasosRegistro : [],
    };
  } finally {
    for (const c of clientes) c.cerrar();
    await api.parar();
  }
}

const cargaInicial = os.loadavg();
const rondas = [];
try {
  await conCliente(postgres.url, (c) => c.query('CREATE DATABASE bench_plantilla'));
  await adaptadores.migrarUrl(urlDe('bench_plantilla'));
  // Una pasada que no cuenta: la primera fase sobre el clúster recién arrancado sale más lenta (cachés frías).
  decir(`[pasada previa, no cuenta] con clientes de stream: ${CONCURRENCIA} concurrentes, ${CALENTAMIENTO} s + ${SEGUNDOS} s`);
  await fase('previa', true);
  for (let ronda = 1; ronda <= RONDAS; ronda += 1) {
    const r = {};
    // Orden alterno: sin-con en las impares, con-sin en las pares.
    const orden = ronda % 2 === 1 ? ['sin', 'con'] : ['con', 'sin'];
    for (const clave of orden) {
      decir(`[pareja ${ronda}/${RONDAS}] ${clave} clientes de stream: ${CONCURRENCIA} concurrentes, ${CALENTAMIENTO} s + ${SEGUNDOS} s`);
      r[clave] = await fase(clave, clave === 'con');
    }
    r.cociente = r.con.resultado.porSegundo / r.sin.resultado.porSegundo;
    r.cocienteCpu = r.con.cpuMsPorPeticion / r.sin.cpuMsPorPeticion;
    decir(
      `  sin ${r.sin.resultado.porSegundo.toFixed(0)} pet./s, con ${r.con.resultado.porSegundo.toFixed(0)} pet./s: ${r.cociente.toFixed(3)}×; ` +
        `CPU de la API por petición ${r.sin.cpuMsPorPeticion.toFixed(2)} / ${r.con.cpuMsPorPeticion.toFixed(2)} ms: ${r.cocienteCpu.toFixed(3)}×`,
    );
    rondas.push(r);
  }
} finally {
  await postgres.detener();
}
const cargaFinal = os.loadavg();

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');
const cocientes = rondas.map((r) => r.cociente);
const [c25, c75] = percentiles(cocientes, [25, 75]);
const cMediana = mediana(cocientes);
const cMin = Math.min(...cocientes);
const cMax = Math.max(...cocientes);
const mediaDe = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const cocientesCpu = rondas.map((r) => r.cocienteCpu);
const [k25, k75] = percentiles(cocientesCpu, [25, 75]);
const sinMediana = mediana(rondas.map((r) => r.sin.resultado.porSegundo));
const conMediana = mediana(rondas.map((r) => r.con.resultado.porSegundo));
const retrasos = rondas.flatMap((r) => r.con.retrasos);
const retrasosRegistro = rondas.flatMap((r) => r.con.retrasosRegistro);
const [o50, o95, o99] = percentiles(retrasos, [50, 95, 99]);
const [g50, g95, g99] = percentiles(retrasosRegistro, [50, 95, 99]);
const p95PorPareja = rondas.map((r) => percentiles(r.con.retrasos, [95])[0]);
const incompletas = rondas.filter((r) => r.con.recibidosMin !== r.con.escritos).length;
const errores = rondas.reduce((t, r) => t + r.sin.resultado.errores + r.con.resultado.errores, 0);
const lineas = [
  '',
  `Eventos: ${RONDAS} parejas sin/con en orden alterno, ${CONCURRENCIA} concurrentes, ${CALENTAMIENTO} s + ${SEGUNDOS} s por fase; ` +
    `${os.cpus().length} núcleos, Node ${process.version}; carga media al empezar ${cargaInicial.map((x) => x.toFixed(2)).join(' ')}, al terminar ${cargaFinal.map((x) => x.toFixed(2)).join(' ')}`,
  'API real (modo anónimo, POST /pagos) con el asignador de secuencias y la escucha LISTEN en marcha en las dos fases',
  [
    'pareja'.padEnd(7),
    'sin pet./s'.padStart(10),
    'con pet./s'.padStart(10),
    'con/sin'.padStart(8),
    'CPU API ms/pet. sin / con'.padStart(26),
    'p95 stream'.padStart(11),
  ].join(' '),
  ...rondas.map((r, i) =>
    [
      String(i + 1).padEnd(7),
      fmt(r.sin.resultado.porSegundo).padStart(10),
      fmt(r.con.resultado.porSegundo).padStart(10),
      fmt(r.cociente, 3).padStart(8),
      `${fmt(r.sin.cpuMsPorPeticion, 2)} / ${fmt(r.con.cpuMsPorPeticion, 2)} (${fmt(r.cocienteCpu, 2)}×)`.padStart(26),
      `${fmt(p95PorPareja[i])} ms`.padStart(11),
    ].join(' '),
  ),
  '',
  `con ${CLIENTES} clientes / sin: mediana de los cocientes por pareja ${fmt(cMediana, 3)}× (coste ${fmt((1 - cMediana) * 100, 1)} %; objetivo del issue: ≤ 15 %)`,
  `  dispersión: mínimo ${fmt(cMin, 3)}, cuartiles ${fmt(c25, 3)}–${fmt(c75, 3)}, máximo ${fmt(cMax, 3)}; media ${fmt(mediaDe(cocientes), 3)}; ` +
    `parejas con coste ≤ 15 %: ${cocientes.filter((c) => c >= 0.85).length} de ${cocientes.length}`,
  `  medianas de pet./s: sin ${fmt(sinMediana)}, con ${fmt(conMediana)}; errores HTTP: ${errores}`,
  `CPU de la API por petición (hasta que los clientes lo recibieron todo), con / sin: mediana por pareja ${fmt(mediana(cocientesCpu), 3)}× ` +
    `(mínimo ${fmt(Math.min(...cocientesCpu), 3)}, cuartiles ${fmt(k25, 3)}–${fmt(k75, 3)}, máximo ${fmt(Math.max(...cocientesCpu), 3)}; depende menos de la carga de la máquina que las pet./s)`,
  `eventos: todos los clientes recibieron todos los eventos escritos en ${RONDAS - incompletas} de ${RONDAS} fases con clientes` +
    (incompletas
      ? ` (en las otras, el que menos recibió: ${rondas
          .filter((r) => r.con.recibidosMin !== r.con.escritos)
          .map((r) => `${r.con.recibidosMin} de ${r.con.escritos}`)
          .join(', ')})`
      : ''),
  retrasos.length
    ? `retraso hasta el stream (un cliente, ${retrasos.length} eventos de todas las fases con clientes): desde ocurrido_en (cota superior de confirmación→stream) p50 ${fmt(o50)} ms, p95 ${fmt(o95)} ms, p99 ${fmt(o99)} ms; desde registrado_en p50 ${fmt(g50)} ms, p95 ${fmt(g95)} ms, p99 ${fmt(g99)} ms`
    : 'retraso hasta el stream: sin eventos recibidos',
];
for (const l of lineas) decir(l);
const carpeta = path.join(aqui, 'resultados');
mkdirSync(carpeta, { recursive: true });
const archivo = path.join(carpeta, `eventos-${new Date().toISOString().replaceAll(':', '-')}.json`);
// Sin las listas de retrasos de cada evento (solo sus percentiles): el JSON se queda pequeño.
const resumenFase = ({ retrasos: r, retrasosRegistro: g, ...f }) => ({
  ...f,
  retraso: r.length ? Object.fromEntries(['p50', 'p95', 'p99'].map((k, i) => [k, percentiles(r, [50, 95, 99])[i]])) : null,
  retrasoRegistro: g.length ? Object.fromEntries(['p50', 'p95', 'p99'].map((k, i) => [k, percentiles(g, [50, 95, 99])[i]])) : null,
});
writeFileSync(
  archivo,
  `${JSON.stringify(
    {
      concurrencia: CONCURRENCIA,
      segundos: SEGUNDOS,
      clientes: CLIENTES,
      cargaInicial,
      cargaFinal,
      cociente: { mediana: cMediana, minimo: cMin, c25, c75, maximo: cMax },
      cocienteCpu: {
        mediana: mediana(cocientesCpu),
        minimo: Math.min(...cocientesCpu),
        c25: k25,
        c75: k75,
        maximo: Math.max(...cocientesCpu),
      },
      rondas: rondas.map((r) => ({ cociente: r.cociente, cocienteCpu: r.cocienteCpu, sin: resumenFase(r.sin), con: resumenFase(r.con) })),
    },
    null,
    2,
  )}\n`,
);
decir(`resultado: ${path.relative(process.cwd(), archivo)}`);
if (errores > 0 || incompletas > 0) process.exitCode = 1;
