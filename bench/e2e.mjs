#!/usr/bin/env node
// Benchmark de extremo a extremo (`pnpm bench:e2e`): N pagos por todo el pipeline (API → outbox → relay →
// broker embebido → consumidor → pasarela simulada) sobre el PostgreSQL embebido, en procesos separados.
//   Parte A: pasarela sin latencia. Imprime aceptados/s, terminados/s, p50/p99 de aceptación → estado final
//            y los duplicados absorbidos por etapa.
//   Parte B: perfil de la semilla (2–8 s por cobro): el rendimiento crece con el límite en vuelo del
//            consumidor (ley de Little: λ = L / W), frente al ritmo en serie de la semilla (1 / W).
// Variables: BENCH_E2E_PAGOS (20000), BENCH_E2E_CONCURRENCIA (50), BENCH_E2E_REPLICAS (0.1),
//            BENCH_E2E_EN_VUELO (256), BENCH_E2E_LIMITES ("16,64,256"), BENCH_E2E_SOLO_A (1 = sin parte B),
//            BENCH_E2E_REPETICIONES (3: pasadas de la parte A, cada una sobre un PostgreSQL nuevo; se
//            imprime la mediana y el detalle de la pasada central: la máquina es compartida y ruidosa).
// La parte A imprime también la CPU por pago de cada proceso (generador, api, relay, consumidor y
// PostgreSQL con todos sus procesos, leída de /proc): con 2 núcleos, el techo es 2 s / esa suma.
// Diagnóstico (cambian lo medido; no para las cifras):
//   BENCH_E2E_SQL=1            pg_stat_statements: sentencias con más tiempo y CPU de PostgreSQL por cliente
//   BENCH_E2E_FLAGS_PG="a=b …" ajustes extra del servidor (p. ej. auto_explain)
//   BENCH_E2E_REGISTRO_PG=F    la salida del servidor, a un archivo
//   BENCH_NODE_ARGS="…"        flags de node para los servicios (p. ej. --cpu-prof --cpu-prof-dir=D)
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuPorArbol, cpuPostgresPorCliente, restarCpu } from './lib/cpu.mjs';
import { mediana } from './lib/estadistica.mjs';
import { arrancarServicio, ejecutarJson, iniciarPostgres, pg, puertoLibre, adaptadores } from './lib/topologia.mjs';

const aqui = path.dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.BENCH_E2E_PAGOS ?? 20_000);
const CONCURRENCIA = Number(process.env.BENCH_E2E_CONCURRENCIA ?? 50);
const REPLICAS = Number(process.env.BENCH_E2E_REPLICAS ?? 0.1);
const EN_VUELO = Number(process.env.BENCH_E2E_EN_VUELO ?? 256);
const LIMITES = (process.env.BENCH_E2E_LIMITES ?? '16,64,256').split(',').map(Number);
const REPETICIONES = Number(process.env.BENCH_E2E_REPETICIONES ?? 3);

const decir = (texto) => process.stdout.write(`${texto}\n`);

async function arrancarTopologia(url, envConsumidor) {
  const puertoApi = await puertoLibre();
  const puertoRelay = await puertoLibre();
  const puertoConsumidor = await puertoLibre();
  // El consumidor primero: su suscripción existe antes de que el relay publique.
  const consumer = await arrancarServicio('consumer', { DATABASE_URL: url, PUERTO_SALUD: String(puertoConsumidor), ...envConsumidor });
  const outbox = await arrancarServicio('outbox', { DATABASE_URL: url, PUERTO_SALUD: String(puertoRelay) });
  const api = await arrancarServicio('api', { DATABASE_URL: url, PORT: String(puertoApi), HOST: '127.0.0.1' });
  return { api, outbox, consumer, urlPagos: `http://127.0.0.1:${puertoApi}/pagos` };
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
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM fecha_procesamiento - fecha_creacion) * 1000) AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM fecha_procesamiento - fecha_creacion) * 1000) AS p99
     FROM pagos WHERE fecha_creacion >= $1`,
    [desde],
  );
  return rows[0];
}

// BENCH_E2E_SQL=1: carga pg_stat_statements e imprime al final de la parte A las sentencias que más
// tiempo de servidor se llevan (diagnóstico de dónde va la CPU de PostgreSQL).
const PERFIL_SQL = process.env.BENCH_E2E_SQL === '1';
const EXTRA = (process.env.BENCH_E2E_FLAGS_PG ?? '').split(' ').filter(Boolean).flatMap((f) => ['-c', f]);
const FLAGS_PG = [...EXTRA, ...(PERFIL_SQL ? ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all', '-c', 'pg_stat_statements.track_planning=on'] : [])];

/** Un PostgreSQL embebido nuevo y migrado, con un cliente para medir. */
async function nuevoPostgres() {
  const postgres = await iniciarPostgres({ registro: process.env.BENCH_E2E_REGISTRO_PG, flagsPostgres: FLAGS_PG });
  await adaptadores.migrarUrl(postgres.url);
  const cliente = new pg.Client({ connectionString: postgres.url });
  await cliente.connect();
  if (PERFIL_SQL) await cliente.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  return {
    postgres,
    cliente,
    async cerrar() {
      await cliente.end();
      await postgres.detener();
    },
  };
}

/** Una pasada de la parte A sobre un PostgreSQL nuevo: mide y devuelve todo (no imprime). */
async function pasadaParteA() {
  const { postgres, cliente, cerrar } = await nuevoPostgres();
  try {
    const topo = await arrancarTopologia(postgres.url, { PASARELA_PERFIL: 'sin-latencia', CONSUMIDOR_EN_VUELO: String(EN_VUELO) });
    const raices = () => ({ api: topo.api.proceso.pid, relay: topo.outbox.proceso.pid, consumidor: topo.consumer.proceso.pid, postgres: postgres.pid() });
    const cpuAntes = cpuPorArbol(raices());
    const cargaInicial = os.loadavg()[0];
    const desde = new Date();
    const envio = await ejecutarJson(path.join(aqui, 'lib/enviar-pagos.mjs'), [topo.urlPagos, String(CONCURRENCIA), String(N), String(REPLICAS)]);
    await esperarFinales(cliente, envio.aceptados, desde, 15 * 60_000);
    const cpu = restarCpu(cpuPorArbol(raices()), cpuAntes);
    const cpuPostgres = await cpuPostgresPorCliente(cliente, postgres.pid(), { api: topo.api.proceso.pid, relay: topo.outbox.proceso.pid, consumidor: topo.consumer.proceso.pid, bench: process.pid });
    const medida = await medir(cliente, desde);
    const saludRelay = await topo.outbox.salud();
    const saludConsumidor = await topo.consumer.salud();
    const { rows: cargos } = await cliente.query(
      "SELECT count(*) FILTER (WHERE resultado = 'exitoso')::int AS cargos, count(DISTINCT id_pago)::int AS pagos FROM pasarela_simulada.cargos",
    );
    const { rows: pendientes } = await cliente.query('SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL');
    let sentencias = [];
    if (PERFIL_SQL) {
      sentencias = (
        await cliente.query(
          `SELECT calls, rows, total_exec_time, total_plan_time, plans,
                  CASE WHEN query LIKE '%INSERT INTO pagos%' THEN '[crear pagos] '
                       WHEN query LIKE '%UPDATE pagos%INSERT INTO inbox%' THEN '[guardar y anotar] '
                       WHEN query LIKE '%UPDATE pagos%' THEN '[guardar] ' ELSE '' END
                  || left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS q
           FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25`,
        )
      ).rows;
    }
    await Promise.all([topo.api.parar(), topo.outbox.parar(), topo.consumer.parar()]);
    const porPago = { generador: envio.cpuSegundos, ...(cpu ?? {}) };
    const cpuTotal = Object.values(porPago).reduce((x, y) => x + y, 0);
    return {
      envio,
      medida,
      terminadosPorSegundo: medida.n / medida.segundos,
      cargaInicial,
      cpu: porPago,
      cpuTotalMsPorPago: (cpuTotal * 1000) / medida.n,
      cpuPostgres,
      sentencias,
      saludRelay,
      saludConsumidor,
      cargos: cargos[0],
      outboxPendiente: pendientes[0].n,
    };
  } finally {
    await cerrar();
  }
}

function imprimirPasada(x) {
  const { envio, medida: a, cargos, outboxPendiente } = x;
  const c = x.saludConsumidor?.contadores ?? {};
  const r = x.saludRelay?.contadores ?? {};
  decir(`aceptados/s (API)                 ${envio.porSegundo.toFixed(0)}   (${envio.aceptados} en ${envio.segundos.toFixed(1)} s, ${envio.errores} errores)`);
  decir(`terminados/s (estado final)       ${x.terminadosPorSegundo.toFixed(0)}   (${a.n} pagos: ${a.exitosos} EXITOSO, ${a.fallidos} FALLIDO, en ${a.segundos.toFixed(1)} s)`);
  decir(`aceptación → final                p50 ${Number(a.p50).toFixed(0)} ms · p99 ${Number(a.p99).toFixed(0)} ms`);
  decir('duplicados absorbidos por etapa:');
  decir(`  entrada (réplicas HTTP)          ${envio.replays}`);
  decir(`  broker (productor, secuencia)    ${r.broker_descartados_por_duplicado ?? 'n/d'}`);
  decir(`  inbox del consumidor             ${c.duplicados ?? 'n/d'}`);
  decir(`  pasarela (clave = id del pago)   ${c.pasarela_repeticionesAbsorbidas ?? 'n/d'}`);
  decir(`cargos en el libro de la pasarela  ${cargos.cargos} exitosos sobre ${cargos.pagos} pagos distintos (EXITOSO: ${a.exitosos})`);
  decir(`outbox sin publicar al final       ${outboxPendiente}`);
  if (x.sentencias.length > 0) {
    decir('sentencias con más tiempo de servidor (ms total · llamadas · filas):');
    for (const f of x.sentencias) decir(`  ${f.total_exec_time.toFixed(0).padStart(7)} (+${f.total_plan_time.toFixed(0)} plan, ${f.plans} planes) · ${String(f.calls).padStart(6)} · ${String(f.rows).padStart(7)}  ${f.q}`);
  }
  // CPU por pago terminado y proceso: con 2 núcleos, el techo del pipeline es ~2 s de CPU / suma de estos.
  decir(`CPU por pago terminado (ms)       ${Object.entries(x.cpu).map(([k, v]) => `${k} ${((v * 1000) / a.n).toFixed(2)}`).join(' · ')} · total ${x.cpuTotalMsPorPago.toFixed(2)}`);
  const cpuPg = Object.entries(x.cpuPostgres).filter(([, v]) => v > (0.005 * a.n) / 1000).sort((p, q) => q[1] - p[1]);
  decir(`  de ella, PostgreSQL por origen    ${cpuPg.map(([k, v]) => `${k.replace(/^backend /, '')} ${((v * 1000) / a.n).toFixed(2)}`).join(' · ')}  (desde que arrancó cada proceso)`);
  decir(`techo con ${os.cpus().length} núcleos (núcleos / CPU por pago)  ${((os.cpus().length * 1000) / x.cpuTotalMsPorPago).toFixed(0)} pagos/s`);
}

const informe = { fecha: new Date().toISOString(), nucleos: os.cpus().length, node: process.version, repeticiones: REPETICIONES };

// ---------------- Parte A ----------------
decir(`Parte A: ${N} pagos, ${CONCURRENCIA} clientes concurrentes, ${REPLICAS * 100}% réplicas, pasarela sin latencia, consumidor con ${EN_VUELO} en vuelo; ${REPETICIONES} pasada(s), cada una sobre un PostgreSQL nuevo…`);
const pasadas = [];
for (let i = 1; i <= REPETICIONES; i += 1) {
  const x = await pasadaParteA();
  pasadas.push(x);
  decir(`  pasada ${i}: ${x.terminadosPorSegundo.toFixed(0)} terminados/s · aceptados ${x.envio.porSegundo.toFixed(0)}/s · p50 ${Number(x.medida.p50).toFixed(0)} ms · CPU ${x.cpuTotalMsPorPago.toFixed(2)} ms/pago · carga al empezar ${x.cargaInicial.toFixed(1)}`);
}
const ordenadas = [...pasadas].sort((p, q) => p.terminadosPorSegundo - q.terminadosPorSegundo);
const central = ordenadas[Math.floor((ordenadas.length - 1) / 2)];
informe.parteA = { pasadas, medianaTerminadosPorSegundo: mediana(pasadas.map((x) => x.terminadosPorSegundo)) };
decir('');
if (REPETICIONES > 1) {
  decir(`terminados/s, mediana de ${REPETICIONES} pasadas  ${informe.parteA.medianaTerminadosPorSegundo.toFixed(0)}   (mín ${ordenadas[0].terminadosPorSegundo.toFixed(0)}, máx ${ordenadas.at(-1).terminadosPorSegundo.toFixed(0)}; la máquina es compartida)`);
  decir(`detalle de la pasada central:`);
}
imprimirPasada(central);

// ---------------- Parte B ----------------
if (process.env.BENCH_E2E_SOLO_A !== '1') {
  decir('');
  decir('Parte B: perfil de la semilla (2–8 s por cobro, media W = 5 s): rendimiento frente al límite en vuelo L');
  informe.parteB = [];
  const { postgres, cliente, cerrar } = await nuevoPostgres();
  try {
    for (const limite of LIMITES) {
      const n = Math.max(40, limite * 3);
      const topoB = await arrancarTopologia(postgres.url, { PASARELA_PERFIL: 'semilla', CONSUMIDOR_EN_VUELO: String(limite) });
      const desdeB = new Date();
      await ejecutarJson(path.join(aqui, 'lib/enviar-pagos.mjs'), [topoB.urlPagos, String(Math.min(50, n)), String(n), '0']);
      await esperarFinales(cliente, n, desdeB, 10 * 60_000);
      const b = await medir(cliente, desdeB);
      await Promise.all([topoB.api.parar(), topoB.outbox.parar(), topoB.consumer.parar()]);
      const medido = b.n / b.segundos;
      informe.parteB.push({ limite, pagos: b.n, segundos: b.segundos, porSegundo: medido, prediccionLittle: limite / 5 });
      decir(`  L = ${String(limite).padStart(4)}: ${medido.toFixed(1).padStart(6)} pagos/s  (Little: L/W = ${(limite / 5).toFixed(1)}/s; ${b.n} pagos en ${b.segundos.toFixed(1)} s)`);
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
