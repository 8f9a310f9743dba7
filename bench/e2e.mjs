#!/usr/bin/env node
// Benchmark de extremo a extremo (`pnpm bench:e2e`; detalle y cómo leerlo en bench/README.md).
//   Parte A: N pagos por todo el pipeline (API → outbox → relay → broker embebido → consumidor → pasarela
//            simulada sin latencia), cada servicio en su proceso, en rondas que alternan tres
//            contendientes, cada pasada sobre un PostgreSQL embebido nuevo:
//              · base: la versión anterior (BENCH_E2E_BASE, por defecto b0c7343), compilada aparte en
//                .data/bench-base/<sha> (lib/versiones.mjs);
//              · nueva: la del árbol de trabajo (o un commit: BENCH_E2E_NUEVA=<rev>, preparada igual);
//              · graphile-worker 0.17: el par, trabajos desnudos (lib/graphile-*.mjs).
//            Las dos versiones con el mismo comportamiento de la pasarela: el perfil sin-latencia con las
//            tasas de fallo tras cobrar a 0 (la base no las tiene).
//            Imprime cada pasada, las medianas, nueva/base, pagos terminados/s ÷ trabajos/s, la CPU y las
//            escrituras por pago de cada proceso, y si quedó exactamente un cargo por pago EXITOSO.
//   Parte B: (solo la nueva) perfil de la semilla (2–8 s por cobro): el rendimiento crece con el límite
//            en vuelo del consumidor (ley de Little: λ = L / W), frente al ritmo en serie (1 / W).
// Variables: ver la tabla de bench/README.md.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REGLAS_CON_PAGOS_FINALES, comprobarExactamenteUnaVez, describirViolaciones } from '@aeropartners/kit-pruebas';
import { arrancarProceso, conTope } from '@aeropartners/procesos';
import { cpuPorArbol, cpuPostgresPorCliente, restarCpu } from './lib/cpu.mjs';
import { mediana } from './lib/estadistica.mjs';
import { arrancarServicioDe, crearSocio, ejecutarJson, esperarMensaje, iniciarPostgres, pg, versionActual } from './lib/topologia.mjs';
import { booleano, decimal, entero, enteros } from './lib/variables.mjs';
import { describirArbol, prepararVersion } from './lib/versiones.mjs';
import { CONVERSIONES_E2E, parteConversiones } from './lib/e2e-conversiones.mjs';

const aqui = path.dirname(fileURLToPath(import.meta.url));
const N = entero('BENCH_E2E_PAGOS', 20_000);
const CONCURRENCIA = entero('BENCH_E2E_CONCURRENCIA', 50);
const REPLICAS = decimal('BENCH_E2E_REPLICAS', 0.1, 0, 1);
const EN_VUELO = entero('BENCH_E2E_EN_VUELO', 256);
const LIMITES = enteros('BENCH_E2E_LIMITES', [16, 64, 256]);
const RONDAS = entero('BENCH_E2E_REPETICIONES', 3);
const SOLO_A = booleano('BENCH_E2E_SOLO_A', false);
const BASE = process.env.BENCH_E2E_BASE || 'b0c7343';
const CONTENDIENTES = (process.env.BENCH_E2E_CONTENDIENTES || 'base,nueva,graphile').split(',').map((x) => x.trim());
if (CONTENDIENTES.some((c) => !['base', 'nueva', 'graphile'].includes(c))) {
  process.stderr.write(
    `BENCH_E2E_CONTENDIENTES: una lista de base, nueva y graphile separados por comas (recibido «${CONTENDIENTES.join(',')}»)\n`,
  );
  process.exit(2);
}
const CON_BASE = CONTENDIENTES.includes('base');
const CON_GRAPHILE = CONTENDIENTES.includes('graphile');
const CON_NUEVA = CONTENDIENTES.includes('nueva');
const GW_CONCURRENCIA = entero('BENCH_GW_CONCURRENCIA', 16);
const GW = {
  concurrencia: GW_CONCURRENCIA,
  colaLocal: entero('BENCH_GW_COLA_LOCAL', 200),
  loteMs: entero('BENCH_GW_LOTE_MS', 250, -1),
  // graphile-worker avisa si su pool es menor que su concurrencia.
  poolTrabajador: entero('BENCH_GW_POOL_TRABAJADOR', GW_CONCURRENCIA + 2),
  // Una conexión por cliente: ningún addJob espera a otro para empezar su transacción.
  poolEncolador: entero('BENCH_GW_POOL_ENCOLADOR', CONCURRENCIA),
};

const decir = (texto) => process.stdout.write(`${texto}\n`);
const fijo = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');
const carga = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

// Mismo comportamiento de la pasarela en las dos versiones: sin latencia, sin los fallos tras cobrar.
const ENTORNO_CONSUMIDOR_A = {
  PASARELA_PERFIL: 'sin-latencia',
  PASARELA_TASA_SIN_RESPUESTA: '0',
  PASARELA_TASA_500_TRAS_COBRO: '0',
  PASARELA_TASA_EN_CURSO: '0',
  CONSUMIDOR_EN_VUELO: String(EN_VUELO),
};

// Diagnóstico (cambian lo medido; no para las cifras): BENCH_E2E_SQL, BENCH_E2E_FLAGS_PG, BENCH_E2E_REGISTRO_PG.
const PERFIL_SQL = booleano('BENCH_E2E_SQL', false);
const EXTRA = (process.env.BENCH_E2E_FLAGS_PG ?? '')
  .split(' ')
  .filter(Boolean)
  .flatMap((f) => ['-c', f]);
const FLAGS_PG = [
  ...EXTRA,
  ...(PERFIL_SQL
    ? [
        '-c',
        'shared_preload_libraries=pg_stat_statements',
        '-c',
        'pg_stat_statements.track=all',
        '-c',
        'pg_stat_statements.track_planning=on',
      ]
    : []),
];

/** Un PostgreSQL embebido nuevo (migrado con las migraciones de `version`, si se da) y un cliente para medir. */
async function nuevoPostgres(version) {
  const postgres = await iniciarPostgres({ registro: process.env.BENCH_E2E_REGISTRO_PG, flagsPostgres: FLAGS_PG });
  try {
    if (version) await (await version.adaptadores()).migrarUrl(postgres.url);
    // Una versión con socios autentica cada petición: su socio y su clave (límite alto, que no rechaza).
    const socio =
      version && existsSync(path.join(version.raiz, 'packages/adaptadores/dist/cli/socios.js'))
        ? await crearSocio(version, postgres.url, 'bench-e2e', ['--limite-rps', '1000000'])
        : undefined;
    const cliente = new pg.Client({ connectionString: conAplicacion(postgres.url, 'bench') });
    await cliente.connect();
    if (PERFIL_SQL) await cliente.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    return {
      postgres,
      cliente,
      clave: socio?.clave,
      async cerrar() {
        await cliente.end();
        await postgres.detener();
      },
    };
  } catch (error) {
    await postgres.detener();
    throw error;
  }
}

function conAplicacion(url, nombre) {
  const u = new URL(url);
  u.searchParams.set('application_name', nombre);
  return u.toString();
}

/** Contadores de escritura de la base y posición del WAL: se restan dos lecturas para tener el coste por pago. */
async function contadoresBase(cliente) {
  await cliente.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await cliente.query(
    `SELECT xact_commit::float8 AS commits, (tup_inserted + tup_updated + tup_deleted)::float8 AS filas,
            pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS wal
     FROM pg_stat_database WHERE datname = current_database()`,
  );
  return rows[0];
}
const restarContadores = (despues, antes) => Object.fromEntries(Object.keys(despues).map((k) => [k, despues[k] - antes[k]]));

/** Las estadísticas de un backend se publican al terminar: se espera a que cierren los de los servicios. */
async function esperarSinClientes(cliente) {
  const limite = Date.now() + 15_000;
  for (;;) {
    const { rows } = await cliente.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
    );
    if (rows[0].n === 0 || Date.now() > limite) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function arrancarTopologia(version, url, envConsumidor) {
  // El consumidor primero: su suscripción existe antes de que el relay publique.
  const consumer = await arrancarServicioDe(version, 'consumer', { DATABASE_URL: url, ...envConsumidor });
  const outbox = await arrancarServicioDe(version, 'outbox', { DATABASE_URL: url });
  const api = await arrancarServicioDe(version, 'api', { DATABASE_URL: url });
  return {
    api,
    outbox,
    consumer,
    urlPagos: `http://127.0.0.1:${api.puerto}/pagos`,
    parar: () => Promise.all([api.parar(), outbox.parar(), consumer.parar()]),
  };
}

async function esperarFinales(cliente, esperados, desde, limiteMs) {
  const fin = Date.now() + limiteMs;
  for (;;) {
    const { rows } = await cliente.query(
      "SELECT count(*)::int AS finales FROM pagos WHERE estado IN ('EXITOSO','FALLIDO') AND fecha_creacion >= $1",
      [desde],
    );
    if (rows[0].finales >= esperados) return;
    if (Date.now() > fin) throw new Error(`solo ${rows[0].finales} de ${esperados} pagos llegaron a un estado final a tiempo`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function medir(cliente, desde) {
  const { rows } = await cliente.query(
    `SELECT count(*)::int AS n,
            count(*) FILTER (WHERE estado = 'EXITOSO')::int AS exitosos,
            count(*) FILTER (WHERE estado = 'FALLIDO')::int AS fallidos,
            extract(epoch FROM max(fecha_procesamiento) - min(fecha_creacion))::float8 AS segundos,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM fecha_procesamiento - fecha_creacion) * 1000) AS p50,
            percentile_disc(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM fecha_procesamiento - fecha_creacion) * 1000) AS p99
     FROM pagos WHERE fecha_creacion >= $1`,
    [desde],
  );
  return rows[0];
}

/** La CPU de PostgreSQL por origen (`application_name` de cada conexión), agrupada por servicio. */
function agruparPostgres(cpuPostgres) {
  const grupos = {};
  for (const [origen, segundos] of Object.entries(cpuPostgres)) {
    // Nombres de aplicación de los servicios: aeropartners-outbox[:broker], aeropartners-relay-lider,
    // aeropartners-[pagos-]consumer[:broker] y aeropartners-pagos (la API); los procesos propios del
    // servidor (walwriter, autovacuum…) son el fondo.
    const o = origen.replace(/^backend /, '');
    const grupo = /relay|outbox/.test(o)
      ? 'relay'
      : /consum/.test(o)
        ? 'consumidor'
        : /^aeropartners|^api$/.test(o)
          ? 'api'
          : /trabajador/.test(o)
            ? 'trabajador'
            : /encolador/.test(o)
              ? 'encolador'
              : /^bench/.test(o)
                ? 'bench'
                : 'fondo';
    grupos[grupo] = (grupos[grupo] ?? 0) + segundos;
  }
  return grupos;
}

// Las reglas que dicen «exactamente un cargo por pago EXITOSO» (las demás también se evalúan).
const REGLAS_DEL_CARGO = ['cargo-unico', 'exitoso-con-su-cargo', 'fallido-sin-cargo', 'cargo-de-exitoso'];

/**
 * El comprobador común (@aeropartners/kit-pruebas) sobre todos los pagos de la pasada (la base es nueva
 * en cada una), con las reglas que valen en cuanto todos los pagos son finales. Cifras, no una aserción.
 */
async function comprobarUnaVez(cliente) {
  const { rows } = await cliente.query('SELECT id::text AS id FROM pagos');
  const v = await comprobarExactamenteUnaVez(cliente, {
    pagos: { tipo: 'ids', ids: rows.map((f) => f.id) },
    reglas: REGLAS_CON_PAGOS_FINALES,
  });
  const evaluadas = v.reglas.filter((r) => r.violaciones !== undefined);
  return {
    aprobada: v.aprobada,
    unCargoPorExitoso: REGLAS_DEL_CARGO.every((codigo) => v.reglas.some((r) => r.regla === codigo && r.violaciones === 0)),
    exitosos: v.porEstado.EXITOSO ?? 0,
    evaluadas: evaluadas.map((r) => r.regla),
    noEvaluadas: v.reglas.filter((r) => r.violaciones === undefined).map((r) => `${r.regla} (${r.nota})`),
    violaciones: v.violaciones,
  };
}

function describirUnaVez(u) {
  const cargo = u.unCargoPorExitoso ? `sí (${u.exitosos} pagos EXITOSO)` : 'NO';
  const resto = u.aprobada
    ? `las ${u.evaluadas.length} reglas con pagos finales se cumplen${u.noEvaluadas.length ? `; sin evaluar: ${u.noEvaluadas.join(', ')}` : ''}`
    : `incumplidas:\n${describirViolaciones(u.violaciones)}`;
  return `${cargo}; ${resto}`;
}

/** Una pasada de la parte A de una versión del pipeline, sobre un PostgreSQL nuevo: mide y devuelve todo. */
async function pasadaPipeline(version) {
  const { postgres, cliente, clave, cerrar } = await nuevoPostgres(version);
  try {
    const topo = await arrancarTopologia(version, postgres.url, ENTORNO_CONSUMIDOR_A);
    try {
      const pids = { api: topo.api.proceso.pid, relay: topo.outbox.proceso.pid, consumidor: topo.consumer.proceso.pid };
      const raices = { ...pids, postgres: postgres.pid() };
      const cargaInicial = os.loadavg()[0];
      const contadores0 = await contadoresBase(cliente);
      const cpuAntes = cpuPorArbol(raices);
      const desde = new Date();
      const envio = await ejecutarJson(path.join(aqui, 'lib/enviar-pagos.mjs'), [
        topo.urlPagos,
        String(CONCURRENCIA),
        String(N),
        String(REPLICAS),
        ...(clave ? [clave] : []),
      ]);
      await esperarFinales(cliente, envio.aceptados, desde, 15 * 60_000);
      const cpu = restarCpu(cpuPorArbol(raices), cpuAntes);
      const cpuPostgres = await cpuPostgresPorCliente(cliente, postgres.pid(), { ...pids, bench: process.pid });
      const medida = await medir(cliente, desde);
      const saludRelay = await topo.outbox.salud();
      const saludConsumidor = await topo.consumer.salud();
      const unaVez = await comprobarUnaVez(cliente);
      const { rows: pendientes } = await cliente.query('SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL');
      const sentencias = PERFIL_SQL ? await sentenciasConMasTiempo(cliente) : [];
      await topo.parar();
      await esperarSinClientes(cliente);
      const escrituras = restarContadores(await contadoresBase(cliente), contadores0);
      const porProceso = { generador: envio.cpuSegundos, ...(cpu ?? {}) };
      return {
        contendiente: version.nombre,
        envio,
        medida,
        porSegundo: medida.n / medida.segundos,
        unidades: medida.n,
        cargaInicial,
        cpu: porProceso,
        cpuPostgres,
        cpuPostgresAgrupada: agruparPostgres(cpuPostgres),
        escrituras,
        sentencias,
        saludRelay,
        saludConsumidor,
        unaVez,
        outboxPendiente: pendientes[0].n,
      };
    } finally {
      await topo.parar();
    }
  } finally {
    await cerrar();
  }
}

async function sentenciasConMasTiempo(cliente) {
  const { rows } = await cliente.query(
    `SELECT calls, rows, total_exec_time, total_plan_time, plans,
            CASE WHEN query LIKE '%INSERT INTO pagos%' THEN '[crear pagos] '
                 WHEN query LIKE '%UPDATE pagos%INSERT INTO inbox%' THEN '[guardar y anotar] '
                 WHEN query LIKE '%UPDATE pagos%' THEN '[guardar] ' ELSE '' END
            || left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS q
     FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25`,
  );
  return rows;
}

/**
 * Una pasada del par: graphile-worker sobre un PostgreSQL embebido nuevo (el mismo binario y los mismos
 * ajustes), un proceso trabajador y otro que encola N trabajos desnudos con C clientes concurrentes. Termina
 * cuando la tabla de trabajos queda vacía (un trabajo completado se borra; uno fallido se queda).
 */
async function pasadaGraphile() {
  const { postgres, cliente, cerrar } = await nuevoPostgres(null);
  const trabajador = arrancarProceso({
    script: path.join(aqui, 'lib/graphile-trabajador.mjs'),
    argumentos: [conAplicacion(postgres.url, 'graphile-trabajador'), GW.concurrencia, GW.colaLocal, GW.loteMs, GW.poolTrabajador].map(
      String,
    ),
    opcionesNode: [],
    entorno: process.env,
    alLinea: (linea, flujo) => flujo === 'stderr' && process.stderr.write(`[graphile-trabajador] ${linea}\n`),
  });
  let encolador;
  try {
    await esperarMensaje(trabajador, 'listo', 60_000);
    const raices = { trabajador: trabajador.pid, postgres: postgres.pid() };
    const cargaInicial = os.loadavg()[0];
    const contadores0 = await contadoresBase(cliente);
    const cpuAntes = cpuPorArbol(raices);
    encolador = arrancarProceso({
      script: path.join(aqui, 'lib/graphile-encolar.mjs'),
      argumentos: [conAplicacion(postgres.url, 'graphile-encolador'), CONCURRENCIA, N, GW.poolEncolador].map(String),
      opcionesNode: [],
      entorno: process.env,
      alLinea: (linea, flujo) => flujo === 'stderr' && process.stderr.write(`[graphile-encolador] ${linea}\n`),
    });
    const envio = await esperarMensaje(encolador, 'encolados', 15 * 60_000);
    const limite = Date.now() + 15 * 60_000;
    let finMs;
    for (;;) {
      const { rows } = await cliente.query('SELECT EXISTS (SELECT 1 FROM graphile_worker._private_jobs) AS quedan');
      if (!rows[0].quedan) {
        finMs = Date.now();
        break;
      }
      if (Date.now() > limite) throw new Error('graphile-worker: quedan trabajos sin completar tras 15 min');
      await new Promise((r) => setTimeout(r, 20));
    }
    const cpu = restarCpu(cpuPorArbol(raices), cpuAntes);
    const cpuPostgres = await cpuPostgresPorCliente(cliente, postgres.pid(), {
      trabajador: trabajador.pid,
      encolador: encolador.pid,
      bench: process.pid,
    });
    encolador.hijo.send({ tipo: 'fin' });
    await conTope(encolador.salida, 10_000, 'el encolador de graphile-worker no terminó tras «fin»');
    await trabajador.parar({ graciaMs: 20_000 });
    await esperarSinClientes(cliente);
    const escrituras = restarContadores(await contadoresBase(cliente), contadores0);
    const segundos = (finMs - envio.inicioMs) / 1000;
    return {
      contendiente: 'graphile-worker',
      envio,
      segundos,
      porSegundo: envio.aceptados / segundos,
      unidades: envio.aceptados,
      cargaInicial,
      cpu: { generador: envio.cpuSegundos, ...(cpu ?? {}) },
      cpuPostgres,
      cpuPostgresAgrupada: agruparPostgres(cpuPostgres),
      escrituras,
    };
  } finally {
    await encolador?.parar({ graciaMs: 5_000 });
    await trabajador.parar({ graciaMs: 5_000 });
    await cerrar();
  }
}

const msPor = (segundos, n) => (segundos * 1000) / n;
const cpuTotal = (x) => Object.values(x.cpu).reduce((a, b) => a + b, 0);

function lineaPasada(ronda, x) {
  const cpu = `CPU ${fijo(msPor(cpuTotal(x), x.unidades), 2)} ms`;
  if (x.contendiente === 'graphile-worker') {
    return `  ronda ${ronda} · ${x.contendiente.padEnd(14)} ${fijo(x.porSegundo).padStart(5)} trabajos/s   · encolados ${fijo(x.envio.porSegundo)}/s (${x.envio.errores} errores) · ${cpu}/trabajo · carga ${fijo(x.cargaInicial, 1)}`;
  }
  return (
    `  ronda ${ronda} · ${x.contendiente.padEnd(14)} ${fijo(x.porSegundo).padStart(5)} terminados/s · aceptados ${fijo(x.envio.porSegundo)}/s · p50 ${fijo(Number(x.medida.p50))} ms · ` +
    `${cpu}/pago · un cargo por EXITOSO: ${x.unaVez.unCargoPorExitoso ? 'sí' : 'NO'}${x.unaVez.aprobada ? '' : ' (y reglas incumplidas)'} · carga ${fijo(x.cargaInicial, 1)}`
  );
}

function imprimirDetalle(x) {
  const { envio, medida: a, outboxPendiente } = x;
  const c = x.saludConsumidor?.contadores ?? {};
  const r = x.saludRelay?.contadores ?? {};
  decir(
    `aceptados/s (API)                 ${fijo(envio.porSegundo)}   (${envio.aceptados} en ${envio.segundos.toFixed(1)} s, ${envio.errores} errores)`,
  );
  decir(
    `terminados/s (estado final)       ${fijo(x.porSegundo)}   (${a.n} pagos: ${a.exitosos} EXITOSO, ${a.fallidos} FALLIDO, en ${a.segundos.toFixed(1)} s)`,
  );
  decir(`aceptación → final                p50 ${fijo(Number(a.p50))} ms · p99 ${fijo(Number(a.p99))} ms`);
  decir('duplicados absorbidos por etapa:');
  decir(`  entrada (réplicas HTTP)          ${envio.replays}`);
  decir(`  broker (productor, secuencia)    ${r.broker_descartados_por_duplicado ?? 'n/d'}`);
  decir(`  inbox del consumidor             ${c.duplicados ?? 'n/d'}`);
  decir(`  pasarela (clave = id del pago)   ${c.pasarela_repeticionesAbsorbidas ?? 'n/d'}`);
  decir(`exactamente un cargo por EXITOSO   ${describirUnaVez(x.unaVez)}`);
  decir(`outbox sin publicar al final       ${outboxPendiente}`);
  if (x.sentencias.length > 0) {
    decir('sentencias con más tiempo de servidor (ms total · llamadas · filas):');
    for (const f of x.sentencias)
      decir(
        `  ${f.total_exec_time.toFixed(0).padStart(7)} (+${f.total_plan_time.toFixed(0)} plan, ${f.plans} planes) · ${String(f.calls).padStart(6)} · ${String(f.rows).padStart(7)}  ${f.q}`,
      );
  }
  const cpuPg = Object.entries(x.cpuPostgres)
    .filter(([, v]) => v > (0.005 * a.n) / 1000)
    .sort((p, q) => q[1] - p[1]);
  decir(
    `PostgreSQL por origen (ms/pago)    ${cpuPg.map(([k, v]) => `${k.replace(/^backend /, '')} ${fijo(msPor(v, a.n), 2)}`).join(' · ')}  (desde que arrancó cada proceso)`,
  );
}

// ---------------- Preparación ----------------
const informe = {
  fecha: new Date().toISOString(),
  nucleos: os.cpus().length,
  node: process.version,
  cargaAlEmpezar: os.loadavg(),
  rondas: RONDAS,
  graphile: GW,
};
decir(`bench:e2e · ${os.cpus().length} núcleos · Node ${process.version} · carga de la máquina al empezar (1/5/15 min): ${carga()}`);
const base = CON_BASE ? prepararVersion(BASE, 'base', decir) : null;
const nueva = process.env.BENCH_E2E_NUEVA ? prepararVersion(process.env.BENCH_E2E_NUEVA, 'nueva', decir) : versionActual;
if (!process.env.BENCH_E2E_NUEVA) decir(`versión nueva: el árbol de trabajo (${describirArbol()})`);
informe.base = base && { rev: BASE, sha: base.sha };
informe.nueva = nueva.sha ? { rev: process.env.BENCH_E2E_NUEVA, sha: nueva.sha } : { arbol: describirArbol() };

const contendientes = [
  ...(base ? [{ clave: 'base', correr: () => pasadaPipeline(base) }] : []),
  ...(CON_NUEVA ? [{ clave: 'nueva', correr: () => pasadaPipeline(nueva) }] : []),
  ...(CON_GRAPHILE ? [{ clave: 'graphile', correr: pasadaGraphile }] : []),
];

// ---------------- Parte A ----------------
decir('');
decir(
  `Parte A: ${N} pagos, ${CONCURRENCIA} clientes concurrentes, ${REPLICAS * 100}% réplicas, pasarela sin latencia y sin fallos tras cobrar, ` +
    `consumidor con ${EN_VUELO} en vuelo; ${RONDAS} ronda(s) de ${contendientes.map((c) => c.clave).join(' / ')} (el orden rota en cada ronda), ` +
    'cada pasada sobre un PostgreSQL nuevo',
);
if (CON_GRAPHILE) {
  decir(
    `  graphile-worker ${(await import('graphile-worker/package.json', { with: { type: 'json' } })).default.version}: ${N} trabajos desnudos, ${CONCURRENCIA} clientes con un addJob cada uno ` +
      `(pool ${GW.poolEncolador}); trabajador con concurrency ${GW.concurrencia}, localQueue ${GW.colaLocal}, completeJobBatchDelay ${GW.loteMs} ms (pool ${GW.poolTrabajador})`,
  );
}
const pasadas = Object.fromEntries(contendientes.map((c) => [c.clave, []]));
for (let ronda = 1; ronda <= RONDAS; ronda += 1) {
  const desplazamiento = (ronda - 1) % contendientes.length;
  for (const c of [...contendientes.slice(desplazamiento), ...contendientes.slice(0, desplazamiento)]) {
    const x = await c.correr();
    x.ronda = ronda;
    pasadas[c.clave].push(x);
    decir(lineaPasada(ronda, x));
  }
}
informe.parteA = pasadas;

// ---------------- Resumen ----------------
const medianaDe = (clave, f) => mediana(pasadas[clave].map(f));
const porRonda = (a, b) => pasadas[a].map((x, i) => x.porSegundo / pasadas[b][i].porSegundo);
const nombreDe = (clave) => pasadas[clave][0].contendiente;
const unidadDe = (clave) => (clave === 'graphile' ? 'trabajos/s' : 'terminados/s');

decir('');
decir(`Resumen: medianas de ${RONDAS} ronda(s) · carga de la máquina ahora (1/5/15 min): ${carga()}`);
for (const { clave } of contendientes) {
  const valores = pasadas[clave].map((x) => fijo(x.porSegundo)).join(' · ');
  decir(
    `  ${nombreDe(clave).padEnd(16)} ${fijo(medianaDe(clave, (x) => x.porSegundo)).padStart(5)} ${unidadDe(clave).padEnd(13)} (pasadas: ${valores})`,
  );
}
const cocientes = {};
if (base && CON_NUEVA) {
  const r = porRonda('nueva', 'base');
  cocientes.nuevaBase = { medianas: medianaDe('nueva', (x) => x.porSegundo) / medianaDe('base', (x) => x.porSegundo), porRonda: r };
  decir(
    `  nueva / base                     ${fijo(cocientes.nuevaBase.medianas, 2)}×  (cociente de las medianas; por ronda: ${r.map((v) => fijo(v, 2)).join(' · ')})`,
  );
  // La CPU por pago apenas depende de la carga de la máquina: es el cociente estable.
  const cpuPorPago = (clave) => mediana(pasadas[clave].map((x) => msPor(cpuTotal(x), x.unidades)));
  const cpu = pasadas.nueva.map((x, i) => msPor(cpuTotal(x), x.unidades) / msPor(cpuTotal(pasadas.base[i]), pasadas.base[i].unidades));
  cocientes.cpuNuevaBase = { medianas: cpuPorPago('nueva') / cpuPorPago('base'), porRonda: cpu };
  decir(
    `  CPU por pago, nueva / base        ${fijo(cocientes.cpuNuevaBase.medianas, 2)}×  (${fijo(cpuPorPago('nueva'), 3)} frente a ${fijo(cpuPorPago('base'), 3)} ms; ` +
      `por ronda: ${cpu.map((v) => fijo(v, 2)).join(' · ')}; la cifra que menos depende de la carga de la máquina)`,
  );
}
if (CON_GRAPHILE && CON_NUEVA) {
  const r = porRonda('nueva', 'graphile');
  cocientes.nuevaGraphile = { medianas: medianaDe('nueva', (x) => x.porSegundo) / medianaDe('graphile', (x) => x.porSegundo), porRonda: r };
  decir(
    `  pagos terminados/s ÷ trabajos/s  ${fijo(cocientes.nuevaGraphile.medianas, 2)}×  (objetivo ≥ 2×; por ronda: ${r.map((v) => fijo(v, 2)).join(' · ')}; ` +
      'un pago son ~10 escrituras y una llamada a la pasarela, un trabajo desnudo 2–3)',
  );
}
informe.cocientes = cocientes;
const delPipeline = [...(pasadas.base ?? []), ...(pasadas.nueva ?? [])];
if (delPipeline.length > 0) {
  const cargos = delPipeline.every((x) => x.unaVez.unCargoPorExitoso);
  const reglas = delPipeline.every((x) => x.unaVez.aprobada);
  decir(
    `  exactamente un cargo por EXITOSO: ${cargos ? 'sí, en todas las pasadas' : 'NO en alguna pasada (ver el detalle)'}; ` +
      `el resto de reglas del comprobador común con pagos finales: ${reglas ? 'se cumplen' : 'alguna incumplida (ver el detalle)'}`,
  );
}

// CPU y escrituras por unidad terminada (mediana por columna).
decir('');
decir('Coste por pago (por trabajo, en graphile-worker), mediana de las pasadas:');
const PROCESOS = ['generador', 'api', 'relay', 'consumidor', 'trabajador', 'postgres'];
const cabecera = ['', ...PROCESOS, 'total', '│ pg: api', 'relay', 'consum.', 'trabaj.', 'encol.', 'fondo', '│ commits', 'filas', 'WAL kB'];
const anchos = [16, 9, 6, 6, 10, 10, 8, 7, 9, 6, 7, 7, 7, 6, 9, 6, 7];
const fila = (celdas) => `  ${celdas.map((c, i) => (i === 0 ? String(c).padEnd(anchos[i]) : String(c).padStart(anchos[i]))).join(' ')}`;
decir(`${fila(cabecera)}   (CPU en ms de cada proceso; pg: la de PostgreSQL por origen, ya incluida en postgres)`);
const costes = {};
for (const { clave } of contendientes) {
  const xs = pasadas[clave];
  const med = (f) => mediana(xs.map((x) => f(x) / x.unidades));
  const c = {
    cpu: Object.fromEntries(PROCESOS.map((p) => [p, xs.some((x) => p in x.cpu) ? med((x) => (x.cpu[p] ?? 0) * 1000) : undefined])),
    total: med((x) => cpuTotal(x) * 1000),
    pg: Object.fromEntries(
      ['api', 'relay', 'consumidor', 'trabajador', 'encolador', 'fondo'].map((g) => [
        g,
        med((x) => (x.cpuPostgresAgrupada[g] ?? 0) * 1000),
      ]),
    ),
    commits: med((x) => x.escrituras.commits),
    filas: med((x) => x.escrituras.filas),
    walKb: med((x) => x.escrituras.wal / 1024),
  };
  costes[clave] = c;
  decir(
    fila([
      nombreDe(clave),
      ...PROCESOS.map((p) => (c.cpu[p] === undefined ? '—' : fijo(c.cpu[p], 3))),
      fijo(c.total, 3),
      `│ ${fijo(c.pg.api, 3)}`,
      fijo(c.pg.relay, 3),
      fijo(c.pg.consumidor, 3),
      fijo(c.pg.trabajador, 3),
      fijo(c.pg.encolador, 3),
      fijo(c.pg.fondo, 3),
      `│ ${fijo(c.commits, 2)}`,
      fijo(c.filas, 1),
      fijo(c.walKb, 2),
    ]),
  );
}
if (base && CON_NUEVA) {
  const n = costes.nueva;
  const b = costes.base;
  const d = (x, y, dd = 3) => (x === undefined || y === undefined ? '—' : `${x - y >= 0 ? '+' : ''}${fijo(x - y, dd)}`);
  decir(
    fila([
      'nueva − base',
      ...PROCESOS.map((p) => d(n.cpu[p], b.cpu[p])),
      d(n.total, b.total),
      `│ ${d(n.pg.api, b.pg.api)}`,
      d(n.pg.relay, b.pg.relay),
      d(n.pg.consumidor, b.pg.consumidor),
      '—',
      '—',
      d(n.pg.fondo, b.pg.fondo),
      `│ ${d(n.commits, b.commits, 2)}`,
      d(n.filas, b.filas, 1),
      d(n.walKb, b.walKb, 2),
    ]),
  );
  decir(
    '  (relay y su pg: la cerca de liderazgo y el latido; consumidor y su pg: el turno de cobro —sin fallos tras cobrar no hay consultas a la pasarela—)',
  );
}
decir(
  `  techo con ${os.cpus().length} núcleos (núcleos / CPU total por pago): ${contendientes.map(({ clave }) => `${nombreDe(clave)} ${fijo((os.cpus().length * 1000) / costes[clave].total)}/s`).join(' · ')}`,
);
informe.costes = costes;

const centralDe = (clave) => [...pasadas[clave]].sort((p, q) => p.porSegundo - q.porSegundo)[Math.floor((pasadas[clave].length - 1) / 2)];
for (const clave of ['base', 'nueva']) {
  if (!pasadas[clave]) continue;
  decir('');
  decir(`Detalle de la pasada mediana de ${nombreDe(clave)}:`);
  imprimirDetalle(centralDe(clave));
}

// ---------------- Parte C (lib/e2e-conversiones.mjs) ----------------
if (CON_NUEVA && CONVERSIONES_E2E > 0) {
  decir('');
  informe.parteC = await parteConversiones(nueva, { concurrencia: CONCURRENCIA, entornoConsumidor: ENTORNO_CONSUMIDOR_A, decir });
  if (informe.parteC.planes.fallos.length > 0) process.exitCode = 1;
}

// ---------------- Parte B ----------------
if (!SOLO_A && CON_NUEVA) {
  decir('');
  decir(`Parte B (${nueva.nombre}): perfil de la semilla (2–8 s por cobro, media W = 5 s): rendimiento frente al límite en vuelo L`);
  informe.parteB = [];
  const { postgres, cliente, clave, cerrar } = await nuevoPostgres(nueva);
  try {
    for (const limite of LIMITES) {
      const n = Math.max(40, limite * 3);
      const topoB = await arrancarTopologia(nueva, postgres.url, { PASARELA_PERFIL: 'semilla', CONSUMIDOR_EN_VUELO: String(limite) });
      try {
        const desdeB = new Date();
        await ejecutarJson(path.join(aqui, 'lib/enviar-pagos.mjs'), [
          topoB.urlPagos,
          String(Math.min(50, n)),
          String(n),
          '0',
          ...(clave ? [clave] : []),
        ]);
        await esperarFinales(cliente, n, desdeB, 10 * 60_000);
        const b = await medir(cliente, desdeB);
        const medido = b.n / b.segundos;
        informe.parteB.push({ limite, pagos: b.n, segundos: b.segundos, porSegundo: medido, prediccionLittle: limite / 5 });
        decir(
          `  L = ${String(limite).padStart(4)}: ${medido.toFixed(1).padStart(6)} pagos/s  (Little: L/W = ${(limite / 5).toFixed(1)}/s; ${b.n} pagos en ${b.segundos.toFixed(1)} s)`,
        );
      } finally {
        await topoB.parar();
      }
    }
    decir('  semilla (un cobro a la vez, síncrono): 1/W = 0.2 pagos/s');
  } finally {
    await cerrar();
  }
}
mkdirSync(path.join(aqui, 'resultados'), { recursive: true });
const archivo = path.join(aqui, 'resultados', `e2e-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(archivo, `${JSON.stringify(informe, null, 2)}\n`);
decir(`resultados en ${path.relative(path.resolve(aqui, '..'), archivo)}`);
