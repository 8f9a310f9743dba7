#!/usr/bin/env node
// Benchmark del registro de eventos (`pnpm bench:eventos`, y el final de `pnpm bench`): ¿cuánto cuesta a la
// ingesta tener 100 clientes del stream SSE conectados, y cuánto tarda un pago confirmado en llegarles?
//
// En UNA ejecución y contra el MISMO PostgreSQL embebido, cada fase en su base recién migrada y con su API
// real (modo anónimo: todos los pagos y los streams son del mismo socio; su asignador de secuencias y su
// LISTEN en marcha en las dos fases):
//   1. sin: la carga de POST /pagos sola;
//   2. con: la misma carga con BENCH_CLIENTES (100) clientes de GET /eventos/stream conectados desde el inicio.
// Imprime peticiones/s, p50/p99 de cada fase, el cociente con/sin, los eventos que recibió cada cliente y el
// retraso confirmación→stream (p50/p95/p99) medido en un cliente como llegada − ocurrido_en del pago.pendiente
// (cota superior: ocurrido_en es la hora del dominio al recibir la petición, un poco antes del commit).
// Guarda el JSON en bench/resultados/.
//
// Variables: BENCH_SEGUNDOS (20), BENCH_CALENTAMIENTO (2), BENCH_CONCURRENCIA (50), BENCH_CLIENTES (100),
// BENCH_RONDAS (1: con N > 1 las fases se intercalan N veces y se informa la mediana del cociente).
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentiles } from '@aeropartners/kit-pruebas';
import { adaptadores, arrancarServicioDe, conCliente, ejecutarJson, iniciarPostgres, versionActual } from './lib/topologia.mjs';
import { entero } from './lib/variables.mjs';

const aqui = path.dirname(fileURLToPath(import.meta.url));
const SEGUNDOS = entero('BENCH_SEGUNDOS', 20);
const CALENTAMIENTO = entero('BENCH_CALENTAMIENTO', 2, 0);
const CONCURRENCIA = entero('BENCH_CONCURRENCIA', 50);
const CLIENTES = entero('BENCH_CLIENTES', 100);
const RONDAS = entero('BENCH_RONDAS', 1);
const SOCIO = 'bench-eventos';
const decir = (texto) => process.stdout.write(`${texto}\n`);

const postgres = await iniciarPostgres();
decir(`PostgreSQL embebido: ${postgres.url}`);
const urlDe = postgres.urlDe;

/** Un cliente SSE que cuenta eventos; si `medir`, guarda el retraso de cada uno (ms). */
function clienteStream(puerto, medir) {
  const estado = { eventos: 0, retrasos: [], ultimo: 0, fallo: null };
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
    const resultado = await ejecutarJson(path.join(aqui, 'lib/carga-http.mjs'), [
      `http://127.0.0.1:${api.puerto}/pagos`,
      String(CONCURRENCIA),
      String(SEGUNDOS),
      'unicos',
      String(CALENTAMIENTO),
    ]);
    const { rows } = await conCliente(url, (c) => c.query('SELECT count(*)::int AS n FROM historial_pagos'));
    const escritos = rows[0].n;
    // Hasta que el cliente que mide haya recibido todo (o 30 s).
    const t0 = Date.now();
    while (conClientes && clientes[0].estado.eventos < escritos && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 100));
    const recibidos = clientes.map((c) => c.estado.eventos);
    const fallos = clientes.map((c) => c.estado.fallo).filter(Boolean);
    const retrasos = conClientes ? clientes[0].estado.retrasos : [];
    return {
      clave,
      resultado,
      escritos,
      recibidosMin: recibidos.length ? Math.min(...recibidos) : null,
      recibidosMax: recibidos.length ? Math.max(...recibidos) : null,
      fallos,
      retraso: retrasos.length
        ? (() => {
            const [p50, p95, p99] = percentiles(retrasos, [50, 95, 99]);
            return { p50, p95, p99, n: retrasos.length };
          })()
        : null,
    };
  } finally {
    for (const c of clientes) c.cerrar();
    await api.parar();
  }
}

const rondas = [];
try {
  await conCliente(postgres.url, (c) => c.query('CREATE DATABASE bench_plantilla'));
  await adaptadores.migrarUrl(urlDe('bench_plantilla'));
  for (let ronda = 1; ronda <= RONDAS; ronda += 1) {
    const r = {};
    for (const [clave, con] of [
      ['sin', false],
      ['con', true],
    ]) {
      decir(`[ronda ${ronda}/${RONDAS}] ${clave} clientes de stream: ${CONCURRENCIA} concurrentes, ${CALENTAMIENTO} s + ${SEGUNDOS} s`);
      r[clave] = await fase(clave, con);
    }
    rondas.push(r);
  }
} finally {
  await postgres.detener();
}

const cocientes = rondas.map((r) => r.con.resultado.porSegundo / r.sin.resultado.porSegundo);
const ordenados = [...cocientes].sort((a, b) => a - b);
const representativa = rondas[cocientes.indexOf(ordenados[Math.floor((ordenados.length - 1) / 2)])];
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');
const linea = (nombre, f) =>
  [
    nombre.padEnd(6),
    fmt(f.resultado.porSegundo).padStart(7),
    fmt(f.resultado.p50, 1).padStart(7),
    fmt(f.resultado.p99, 1).padStart(7),
    String(f.resultado.errores).padStart(5),
  ].join(' ');
const { sin, con } = representativa;
const lineas = [
  '',
  `Eventos: ${CONCURRENCIA} concurrentes, ${CALENTAMIENTO} s + ${SEGUNDOS} s por fase, ${RONDAS} ronda(s); ${os.cpus().length} núcleos, Node ${process.version}`,
  'API real (modo anónimo, POST /pagos) con el asignador de secuencias y la escucha LISTEN en marcha en las dos fases',
  ['fase'.padEnd(6), 'pet./s'.padStart(7), 'p50 ms'.padStart(7), 'p99 ms'.padStart(7), 'err.'.padStart(5)].join(' '),
  linea('sin', sin),
  linea('con', con),
  '',
  `con ${CLIENTES} clientes / sin: ${fmt(cocientes[rondas.indexOf(representativa)], 3)}×` +
    (RONDAS > 1 ? `   rondas: ${cocientes.map((c) => c.toFixed(3)).join(', ')}` : ''),
  `eventos escritos en la fase con clientes: ${con.escritos}; recibidos por cliente: ${con.recibidosMin}…${con.recibidosMax}` +
    (con.fallos.length ? `; fallos de clientes: ${con.fallos.length} (${con.fallos[0]})` : ''),
  con.retraso
    ? `retraso confirmación→stream (un cliente, ${con.retraso.n} eventos): p50 ${fmt(con.retraso.p50)} ms, p95 ${fmt(con.retraso.p95)} ms, p99 ${fmt(con.retraso.p99)} ms`
    : 'retraso confirmación→stream: sin eventos recibidos',
];
for (const l of lineas) decir(l);
const carpeta = path.join(aqui, 'resultados');
mkdirSync(carpeta, { recursive: true });
const archivo = path.join(carpeta, `eventos-${new Date().toISOString().replaceAll(':', '-')}.json`);
writeFileSync(archivo, `${JSON.stringify({ concurrencia: CONCURRENCIA, segundos: SEGUNDOS, clientes: CLIENTES, rondas }, null, 2)}\n`);
decir(`resultado: ${path.relative(process.cwd(), archivo)}`);
