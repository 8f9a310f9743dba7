#!/usr/bin/env node
// Benchmark de envejecimiento (`pnpm bench:envejecimiento`, y el final de `pnpm bench`): ¿se frena la
// ingesta cuando las tablas de la cola tienen la edad de un servicio que lleva meses en marcha?
//
// En UNA ejecución y contra el MISMO PostgreSQL embebido, cada fase en su base recién migrada, con la API
// real (modo anónimo; o el repositorio sin HTTP, BENCH_CARGA) y el relay real (broker embebido, purga por
// retención activa: RETENCION_DIAS=30, una pasada por segundo):
//   1. vacías: las tablas recién creadas;
//   2. envejecidas: antes de arrancar se siembran BENCH_FILAS_VIEJAS (1 000 000) filas de hace 40 días en
//      el outbox (publicadas), en el inbox (con sus pagos, EXITOSO) y en los mensajes muertos del broker
//      embebido, más VACUUM ANALYZE (como las dejaría el autovacuum); la purga las borra MIENTRAS se mide.
// Imprime peticiones/s, p50/p99 y errores de cada fase, lo que la purga borró durante la medida, cuánto
// tardó en vaciarlas del todo y el cociente envejecidas / vacías; guarda el JSON en bench/resultados/.
//
// Variables: BENCH_SEGUNDOS (20), BENCH_CALENTAMIENTO (2), BENCH_CONCURRENCIA (50), BENCH_FILAS_VIEJAS
// (1000000), BENCH_RONDAS (1: con N > 1 las fases se intercalan N veces y se informa la mediana),
// BENCH_ESPERA_PURGA (180: segundos como mucho esperando a que la purga termine tras la medida),
// BENCH_CARGA (`api`: POST /pagos por HTTP; `repositorio`: la sentencia de creación real sin HTTP, la de
// `lib/linea-base-pg.mjs`, un pago por sentencia, con BENCH_POOL conexiones, 20).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mediana } from './lib/estadistica.mjs';
import { adaptadores, arrancarServicioDe, conCliente, ejecutarJson, iniciarPostgres, pg, versionActual } from './lib/topologia.mjs';
import { entero } from './lib/variables.mjs';

const aqui = path.dirname(fileURLToPath(import.meta.url));
const raiz = path.resolve(aqui, '..');

const SEGUNDOS = entero('BENCH_SEGUNDOS', 20);
const CALENTAMIENTO = entero('BENCH_CALENTAMIENTO', 2, 0);
const CONCURRENCIA = entero('BENCH_CONCURRENCIA', 50);
const FILAS = entero('BENCH_FILAS_VIEJAS', 1_000_000);
const RONDAS = entero('BENCH_RONDAS', 1);
const ESPERA_PURGA_S = entero('BENCH_ESPERA_PURGA', 180);
const POOL = entero('BENCH_POOL', 20);
const CARGA = process.env.BENCH_CARGA ?? 'api';
if (CARGA !== 'api' && CARGA !== 'repositorio') {
  process.stderr.write(`BENCH_CARGA debe ser api o repositorio (recibido «${CARGA}»)\n`);
  process.exit(2);
}
const decir = (texto) => process.stdout.write(`${texto}\n`);
const segundosDesde = (t0) => (performance.now() - t0) / 1000;

const postgres = await iniciarPostgres();
decir(`PostgreSQL embebido: ${postgres.url}`);
const urlDe = postgres.urlDe;

let numeroBase = 0;
async function baseNueva(fase) {
  numeroBase += 1;
  const nombre = `bench_env_${numeroBase}_${fase}`;
  await conCliente(postgres.url, async (c) => {
    await c.query(`CREATE DATABASE ${nombre} TEMPLATE bench_plantilla`);
    await c.query('CHECKPOINT');
  });
  return nombre;
}

// Filas de hace 40 días, como las deja el servicio: ids de evento UUIDv7 de esa fecha, pagos terminados.
const SQL_SEMBRAR = [
  [
    'pagos',
    `INSERT INTO pagos (id, id_socio, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version,
                        fecha_creacion, fecha_actualizacion, fecha_procesamiento, referencia_transaccion)
     SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'bench-viejo', 'viejo-' || i, 'afiliado-' || (i % 1000),
            15075, 'USD', 'viejo-' || i, 'EXITOSO', 3, now() - interval '40 days', now() - interval '40 days',
            now() - interval '40 days', 'tr_viejo_' || i
     FROM generate_series(1, $1) AS i`,
  ],
  [
    'outbox',
    `INSERT INTO outbox (id_evento, id_agregado, version_agregado, tipo, payload, metadatos, fecha_creacion, fecha_publicacion,
                         secuencia, productor)
     SELECT gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 3, 'PagoExitoso',
            jsonb_build_object('idSocio', 'bench-viejo', 'referenciaTransaccion', 'tr_viejo_' || i),
            jsonb_build_object('id_correlacion', 'viejo-' || i), now() - interval '40 days', now() - interval '40 days',
            i, 'relay-viejo'
     FROM generate_series(1, $1) AS i`,
  ],
  [
    'inbox',
    `INSERT INTO inbox (suscripcion, id_evento, id_pago, tipo_evento, version, procesado_en)
     SELECT 'consumidor-pagos',
            (lpad(to_hex((extract(epoch FROM now() - interval '40 days') * 1000)::bigint + i / 100), 12, '0') || '7000' || '8' ||
             lpad(to_hex(i), 15, '0'))::uuid,
            ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'PagoPendiente', 1, now() - interval '40 days'
     FROM generate_series(1, $1) AS i`,
  ],
  [
    'broker.muertos',
    `INSERT INTO broker.muertos (id, id_suscripcion, clave, productor, secuencia, cuerpo, propiedades, entregas, publicado_en, motivo, muerto_en)
     SELECT i, s.id, 'clave-' || (i % 1000), 'relay-viejo', i, '{"tipo":"PagoPendiente"}', '{}'::jsonb, 50,
            now() - interval '40 days', 'sobre inválido', now() - interval '40 days'
     FROM generate_series(1, $1) AS i, (SELECT id FROM broker.suscripciones WHERE nombre = 'consumidor-pagos') AS s`,
  ],
];

async function sembrar(base) {
  const t0 = performance.now();
  await conCliente(urlDe(base), async (c) => {
    for (const [tabla, sql] of SQL_SEMBRAR) {
      const t = performance.now();
      await c.query(sql, [FILAS]);
      decir(`  sembradas ${FILAS} filas viejas en ${tabla} (${segundosDesde(t).toFixed(1)} s)`);
    }
    await c.query('VACUUM ANALYZE');
  });
  return segundosDesde(t0);
}

const SQL_VIEJAS = `SELECT (SELECT count(*) FROM outbox WHERE fecha_creacion < now() - interval '30 days')::int AS outbox,
                           (SELECT count(*) FROM inbox WHERE procesado_en < now() - interval '30 days')::int AS inbox,
                           (SELECT count(*) FROM broker.muertos WHERE muerto_en < now() - interval '30 days')::int AS broker_muertos`;
const viejasQuedan = (base) => conCliente(urlDe(base), async (c) => (await c.query(SQL_VIEJAS)).rows[0]);

/** `aeropartners_pagos_retencion_filas_purgadas_total{tabla}` del /metrics del relay. */
async function purgadasSegunMetricas(puerto) {
  const texto = await (await fetch(`http://127.0.0.1:${puerto}/metrics`)).text();
  const filas = { outbox: 0, inbox: 0, broker_muertos: 0 };
  for (const m of texto.matchAll(/^aeropartners_pagos_retencion_filas_purgadas_total\{[^}]*tabla="(\w+)"[^}]*\} (\d+)/gm)) {
    filas[m[1]] = Number(m[2]);
  }
  return filas;
}

const ENTORNO_RELAY = { RETENCION_DIAS: '30', RETENCION_PURGA_PERIODO_MS: '1000' };
// El modo anónimo: sin Authorization, la API atribuye los pagos a este socio (y lo crea si falta); con el
// límite de ritmo más alto que admite (se aplica a cada petición y no rechaza ninguna).
const ENTORNO_API = { API_ANONIMA_SOCIO: 'bench-envejecimiento', API_LIMITE_RPS: '1000000' };

async function fase(clave, envejecer) {
  const base = await baseNueva(clave);
  const siembra = envejecer ? await sembrar(base) : 0;
  const url = urlDe(base);
  const relay = await arrancarServicioDe(versionActual, 'outbox', { DATABASE_URL: url, ...ENTORNO_RELAY });
  let resultado;
  if (CARGA === 'api') {
    const api = await arrancarServicioDe(versionActual, 'api', { DATABASE_URL: url, ...ENTORNO_API });
    try {
      resultado = await ejecutarJson(path.join(aqui, 'lib/carga-http.mjs'), [
        `http://127.0.0.1:${api.puerto}/pagos`,
        String(CONCURRENCIA),
        String(SEGUNDOS),
        'unicos',
        String(CALENTAMIENTO),
      ]);
    } finally {
      await api.parar();
    }
  } else {
    resultado = await ejecutarJson(path.join(aqui, 'lib/linea-base-pg.mjs'), [
      url,
      String(CONCURRENCIA),
      String(SEGUNDOS),
      String(POOL),
      String(CALENTAMIENTO),
    ]);
  }
  const purgadasDurante = await purgadasSegunMetricas(relay.puerto);
  const quedabanAlAcabar = await viejasQuedan(base);
  // Tras la medida, el relay sigue hasta que la purga vacía lo viejo (o se agota la espera).
  const t0 = performance.now();
  let quedan = quedabanAlAcabar;
  while (envejecer && quedan.outbox + quedan.inbox + quedan.broker_muertos > 0 && segundosDesde(t0) < ESPERA_PURGA_S) {
    await new Promise((r) => setTimeout(r, 1000));
    quedan = await viejasQuedan(base);
  }
  const esperaPurga = segundosDesde(t0);
  const purgadasTotal = await purgadasSegunMetricas(relay.puerto);
  await relay.parar();
  const pagosNuevos = await conCliente(url, async (c) => {
    const { rows } = await c.query(`SELECT count(*)::int AS n FROM pagos WHERE id_socio <> 'bench-viejo'`);
    return rows[0].n;
  });
  return { clave, base, siembra, resultado, purgadasDurante, quedabanAlAcabar, quedan, esperaPurga, purgadasTotal, pagosNuevos };
}

const rondas = [];
try {
  await conCliente(postgres.url, (c) => c.query('CREATE DATABASE bench_plantilla'));
  await adaptadores.migrarUrl(urlDe('bench_plantilla'));
  const pool = new pg.Pool({ connectionString: urlDe('bench_plantilla'), max: 1 });
  try {
    await adaptadores.migrarBroker(pool);
    await pool.query(`INSERT INTO broker.suscripciones (topico, nombre) VALUES ('pagos', 'consumidor-pagos') ON CONFLICT DO NOTHING`);
  } finally {
    await pool.end();
  }
  for (let ronda = 1; ronda <= RONDAS; ronda += 1) {
    const r = {};
    for (const [clave, envejecer] of [
      ['vacias', false],
      ['envejecidas', true],
    ]) {
      decir(`[ronda ${ronda}/${RONDAS}] ${clave}: ${CONCURRENCIA} concurrentes, ${CALENTAMIENTO} s + ${SEGUNDOS} s`);
      r[clave] = await fase(clave, envejecer);
    }
    rondas.push(r);
  }
} finally {
  await postgres.detener();
}

// ---- informe ----
const cocientes = rondas.map((r) => r.envejecidas.resultado.porSegundo / r.vacias.resultado.porSegundo);
const representativa = rondas[cocientes.indexOf([...cocientes].sort((a, b) => a - b)[Math.floor((cocientes.length - 1) / 2)])];
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');
const filas = (f) => `${f.outbox}/${f.inbox}/${f.broker_muertos}`;
const lineaFase = (nombre, f) =>
  [
    nombre.padEnd(12),
    fmt(f.resultado.porSegundo).padStart(7),
    fmt(f.resultado.p50, 1).padStart(7),
    fmt(f.resultado.p99, 1).padStart(7),
    String(f.resultado.errores).padStart(5),
    filas(f.purgadasDurante).padStart(26),
    filas(f.quedabanAlAcabar).padStart(26),
  ].join(' ');
const { vacias, envejecidas } = representativa;
const totalViejas = 3 * FILAS;
const purgadoTodo = envejecidas.quedan.outbox + envejecidas.quedan.inbox + envejecidas.quedan.broker_muertos === 0;
const lineas = [
  '',
  `Envejecimiento: ${CONCURRENCIA} concurrentes, ${CALENTAMIENTO} s + ${SEGUNDOS} s por fase, ${RONDAS} ronda(s); ` +
    `${FILAS} filas viejas (40 días) en outbox, inbox (con sus pagos) y broker.muertos; ${os.cpus().length} núcleos, Node ${process.version}`,
  `${CARGA === 'api' ? 'API real (modo anónimo, POST /pagos)' : 'repositorio real sin HTTP (lib/linea-base-pg.mjs)'} + relay real (broker embebido, RETENCION_DIAS=30, una pasada de purga por segundo)`,
  [
    'fase'.padEnd(12),
    'pet./s'.padStart(7),
    'p50 ms'.padStart(7),
    'p99 ms'.padStart(7),
    'err.'.padStart(5),
    'purgadas en la medida o/i/m'.padStart(26),
    'viejas al acabar o/i/m'.padStart(26),
  ].join(' '),
  lineaFase('vacías', vacias),
  lineaFase('envejecidas', envejecidas),
  '',
  `envejecidas / vacías: ${fmt(cocientes[rondas.indexOf(representativa)], 2)}×` +
    (RONDAS > 1 ? `   rondas: ${cocientes.map((c) => c.toFixed(2)).join(', ')}` : ''),
  `siembra de ${totalViejas} filas viejas (+${FILAS} pagos): ${fmt(envejecidas.siembra, 1)} s; ` +
    (purgadoTodo
      ? `la purga las vació ${fmt(envejecidas.esperaPurga, 1)} s después de acabar la medida ` +
        `(${filas(envejecidas.purgadasTotal)} purgadas en total)`
      : `tras ${ESPERA_PURGA_S} s de espera aún quedaban ${filas(envejecidas.quedan)}`),
  `pagos nuevos: vacías ${vacias.pagosNuevos}, envejecidas ${envejecidas.pagosNuevos}`,
];
const errores = rondas.flatMap((r) => Object.values(r)).reduce((n, f) => n + f.resultado.errores, 0);
if (errores > 0) lineas.push(`ATENCIÓN: ${errores} errores HTTP (ver JSON).`);
decir(lineas.join('\n'));

mkdirSync(path.join(aqui, 'resultados'), { recursive: true });
const archivo = path.join(aqui, 'resultados', `envejecimiento-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  archivo,
  `${JSON.stringify(
    {
      fecha: new Date().toISOString(),
      maquina: { nucleos: os.cpus().length, modelo: os.cpus()[0]?.model, node: process.version },
      parametros: {
        carga: CARGA,
        segundos: SEGUNDOS,
        calentamiento: CALENTAMIENTO,
        concurrencia: CONCURRENCIA,
        filasViejas: FILAS,
        rondas: RONDAS,
      },
      cocientes: { mediana: mediana(cocientes), porRonda: cocientes },
      rondas,
    },
    null,
    2,
  )}\n`,
);
decir(`resultados en ${path.relative(raiz, archivo)}`);
if (errores > 0) process.exitCode = 1;
