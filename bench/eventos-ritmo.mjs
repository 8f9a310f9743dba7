#!/usr/bin/env node
// El coste en CPU de la API de servir el stream a 100 clientes, aislado de la ingesta (complemento de
// `pnpm bench:eventos`). En `bench:eventos` la CPU de la API por petición depende del ritmo de la ingesta (a
// más pet./s, menos CPU por petición), y ese ritmo lo mueven los demás procesos de la máquina: el cociente
// mezcla el coste del stream con esa deriva. Aquí los eventos llegan a un RITMO FIJO escritos por SQL desde
// este proceso (pagos e historial, como el test del cliente lento: no gastan CPU de la API), la API real tiene
// su asignador y su LISTEN en marcha, y se mide su CPU con 0 y con BENCH_CLIENTES (100) clientes del stream:
// la diferencia por evento es lo que cuesta servirlos. También el retraso desde `ocurrido_en` (el now() de la
// inserción) hasta que lo recibe un cliente.
//
// Compara varias versiones compiladas en la misma ejecución, en rondas y en orden alterno: BENCH_VERSIONES,
// carpetas de clones compilados separadas por comas (por defecto, este árbol de trabajo).
// Uso: pnpm bench:eventos (compila) y después node bench/eventos-ritmo.mjs.
// Variables: BENCH_RONDAS (3), BENCH_SEGUNDOS (6), BENCH_EVENTOS_POR_SEGUNDO (500, en 10 inserciones por
// segundo), BENCH_CLIENTES (100).
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { mediana, percentiles } from '@aeropartners/kit-pruebas';
import { cpuPorArbol } from './lib/cpu.mjs';
import { adaptadores, arrancarServicioDe, conCliente, iniciarPostgres, pg, versionActual, versionEn } from './lib/topologia.mjs';
import { entero } from './lib/variables.mjs';

const RONDAS = entero('BENCH_RONDAS', 3);
const SEGUNDOS = entero('BENCH_SEGUNDOS', 6);
const POR_SEGUNDO = entero('BENCH_EVENTOS_POR_SEGUNDO', 500, 10);
const CLIENTES = entero('BENCH_CLIENTES', 100);
const POR_INSERCION = Math.round(POR_SEGUNDO / 10);
const SOCIO = 'bench-eventos';
const versiones = (process.env.BENCH_VERSIONES ?? '')
  .split(',')
  .filter(Boolean)
  .map((carpeta) => versionEn(carpeta, path.basename(path.resolve(carpeta))));
if (versiones.length === 0) versiones.push(versionActual);
const decir = (texto) => process.stdout.write(`${texto}\n`);

/** Un cliente SSE que cuenta eventos; si `medir`, guarda el retraso de cada uno desde ocurrido_en (ms). */
function clienteStream(puerto, medir) {
  const estado = { eventos: 0, retrasos: [] };
  let resto = '';
  const peticion = http.get({ host: '127.0.0.1', port: puerto, path: '/eventos/stream', agent: false }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (trozo) => {
      const ahora = Date.now();
      resto += trozo;
      for (let i = resto.indexOf('\n\n'); i !== -1; i = resto.indexOf('\n\n')) {
        const bloque = resto.slice(0, i);
        resto = resto.slice(i + 2);
        if (!bloque.startsWith('id: ')) continue;
        estado.eventos += 1;
        if (medir) estado.retrasos.push(ahora - Date.parse(JSON.parse(bloque.slice(bloque.indexOf('\ndata: ') + 7)).ocurrido_en));
      }
    });
    res.on('error', () => undefined);
  });
  peticion.on('error', () => undefined);
  return { estado, cerrar: () => peticion.destroy() };
}

const SQL_PAGOS = `
WITH p AS (
  INSERT INTO pagos (id, id_socio, modo, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version,
                     fecha_creacion, fecha_actualizacion)
  SELECT gen_random_uuid(), $1, 'live', $2 || '-' || g, 'afiliado-ritmo', 15075, 'USD', $2 || '-' || g, 'PENDIENTE', 1, now(), now()
  FROM generate_series(1, $3) g
  RETURNING id)
INSERT INTO historial_pagos (id_pago, version, estado, tipo_evento, id_evento, ocurrido_en, id_correlacion)
SELECT id, 1, 'PENDIENTE', 'PagoCreado', gen_random_uuid(), now(), gen_random_uuid()::text FROM p`;

const postgres = await iniciarPostgres();
let numeroBase = 0;
async function fase(version, clientes) {
  numeroBase += 1;
  const base = `bench_ritmo_${numeroBase}`;
  await conCliente(postgres.url, (c) => c.query(`CREATE DATABASE ${base} TEMPLATE bench_plantilla`));
  const url = postgres.urlDe(base);
  const api = await arrancarServicioDe(version, 'api', {
    DATABASE_URL: url,
    API_ANONIMA_SOCIO: SOCIO,
    ID_SOCIO_POR_DEFECTO: SOCIO,
    API_LIMITE_RPS: '1000000',
  });
  const conexiones = Array.from({ length: clientes }, (_, i) => clienteStream(api.puerto, i === 0));
  const escritor = new pg.Client({ connectionString: url });
  try {
    await escritor.connect();
    await new Promise((r) => setTimeout(r, 1000));
    const cpuApi = () => cpuPorArbol({ api: api.proceso.pid })?.api ?? Number.NaN;
    const cpu0 = cpuApi();
    const t0 = Date.now();
    let escritos = 0;
    for (let i = 0; i < SEGUNDOS * 10; i += 1) {
      await escritor.query(SQL_PAGOS, [SOCIO, `ritmo-${numeroBase}-${i}`, POR_INSERCION]);
      escritos += POR_INSERCION;
      const espera = t0 + (i + 1) * 100 - Date.now();
      if (espera > 0) await new Promise((r) => setTimeout(r, espera));
    }
    // Hasta que todos lo hayan recibido todo (o 30 s); sin clientes, lo que tarde el asignador en numerarlo.
    const t1 = Date.now();
    while (conexiones.some((c) => c.estado.eventos < escritos) && Date.now() - t1 < 30_000) await new Promise((r) => setTimeout(r, 50));
    if (clientes === 0) await new Promise((r) => setTimeout(r, 300));
    const cpuMs = (cpuApi() - cpu0) * 1000;
    const recibidos = conexiones.map((c) => c.estado.eventos);
    const [p50, p95] = clientes ? percentiles(conexiones[0].estado.retrasos, [50, 95]) : [];
    return { cpuMs, escritos, completos: recibidos.every((n) => n === escritos), p50, p95 };
  } finally {
    for (const c of conexiones) c.cerrar();
    await escritor.end().catch(() => undefined);
    await api.parar();
  }
}

const cargaInicial = os.loadavg();
const medidas = new Map(versiones.map((v) => [v, []]));
try {
  await conCliente(postgres.url, (c) => c.query('CREATE DATABASE bench_plantilla'));
  await adaptadores.migrarUrl(postgres.urlDe('bench_plantilla'));
  for (let ronda = 1; ronda <= RONDAS; ronda += 1) {
    // Orden alterno de versiones y de fases: una deriva de la carga no favorece siempre a la misma.
    const orden = ronda % 2 === 1 ? versiones : [...versiones].reverse();
    for (const version of orden) {
      const r = {};
      for (const n of ronda % 2 === 1 ? [0, CLIENTES] : [CLIENTES, 0]) r[n] = await fase(version, n);
      const costo = ((r[CLIENTES].cpuMs - r[0].cpuMs) * 1000) / r[CLIENTES].escritos;
      medidas.get(version).push({ costo, sin: r[0], con: r[CLIENTES] });
      decir(
        `[ronda ${ronda}/${RONDAS}] ${version.nombre}: CPU de la API ${r[0].cpuMs.toFixed(0)} ms sin clientes, ${r[CLIENTES].cpuMs.toFixed(0)} ms con ${CLIENTES}` +
          ` (${r[CLIENTES].escritos} eventos): ${costo.toFixed(1)} µs por evento; retraso p50 ${r[CLIENTES].p50} ms, p95 ${r[CLIENTES].p95} ms` +
          (r[CLIENTES].completos ? '' : '; ¡algún cliente no lo recibió todo!'),
      );
    }
  }
} finally {
  await postgres.detener();
}
const cargaFinal = os.loadavg();
decir('');
decir(
  `Eventos a ritmo fijo: ${POR_SEGUNDO}/s (${POR_INSERCION} por inserción, 10 por segundo) durante ${SEGUNDOS} s, ${CLIENTES} clientes; ${RONDAS} rondas; ` +
    `${os.cpus().length} núcleos, Node ${process.version}; carga media al empezar ${cargaInicial.map((x) => x.toFixed(2)).join(' ')}, al terminar ${cargaFinal.map((x) => x.toFixed(2)).join(' ')}`,
);
let incompletas = 0;
for (const [version, filas] of medidas) {
  incompletas += filas.filter((f) => !f.con.completos).length;
  decir(
    `${version.nombre}: CPU de la API por evento para servir a ${CLIENTES} clientes, mediana ${mediana(filas.map((f) => f.costo)).toFixed(1)} µs ` +
      `(rondas: ${filas.map((f) => f.costo.toFixed(1)).join(', ')}); retraso ocurrido_en→stream p95 por ronda: ${filas.map((f) => `${f.con.p95} ms`).join(', ')}`,
  );
}
if (incompletas > 0) process.exitCode = 1;
