#!/usr/bin/env node
// Benchmark del repartidor de webhooks (`pnpm bench:webhooks`): ¿cuántas entregas por segundo saca un
// proceso, cuánto tarda un evento registrado en llegar a su receptor, y dónde se va el tiempo?
//
// En UNA ejecución y contra el MISMO PostgreSQL embebido, cada fase en su base recién migrada, con el
// repartidor real (`iniciarRepartidorWebhooks` de adaptadores/dist) y un receptor HTTP local por socio que
// responde 204 a los BENCH_RETARDO_MS (0 = al instante; un receptor real en internet tarda decenas o
// cientos de milisegundos) y deduplica por `webhook-id`:
//   - «antes»: la configuración de antes (4 en vuelo por webhook, 32 en total, una conexión nueva por
//     envío, una sentencia por intento anotado y el sondeo entero aunque haya trabajo);
//   - «después»: la configuración por defecto (conexiones persistentes, anotación por tandas y los
//     límites por defecto de WEBHOOKS_POR_DESTINO y WEBHOOKS_CONCURRENCIA);
//   - y las intermedias: «antes» con solo uno de los cambios (persistentes, tandas, limites, sondeo).
// Cada fase mide dos cosas:
//   1. drenaje: BENCH_ATRASO eventos ya registrados antes de arrancar el repartidor → entregas/s hasta
//      vaciarlos (la capacidad);
//   2. ritmo fijo: BENCH_RITMO eventos/s repartidos entre los socios durante BENCH_SEGUNDOS → retraso
//      registro→entrega (registrado_en del evento → llegada al receptor) p50/p95/p99 y entregas/s.
// Y, de cada fase, lo que el repartidor cuenta de sí mismo: tiempo en SQL (rondas y anotaciones) y
// sentencias por entrega, tiempo de firma, de comprobación del destino y de HTTP, y conexiones abiertas.
// Sin aserciones: imprime cifras y guarda el JSON en bench/resultados/.
//
// Variables: BENCH_SOCIOS (4: un webhook y un receptor por socio), BENCH_RETARDO_MS (0), BENCH_ATRASO (4000), BENCH_RITMO (300),
// BENCH_SEGUNDOS (10), BENCH_RONDAS (1: con N > 1 las fases se recorren N veces, en orden inverso las
// pares), BENCH_POOL (4: el PG_POOL_SIZE por defecto del outbox), BENCH_FASES (todas, separadas por comas).
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentiles } from '@aeropartners/kit-pruebas';
import { adaptadores, conCliente, iniciarPostgres } from './lib/topologia.mjs';
import { entero } from './lib/variables.mjs';

const aqui = path.dirname(fileURLToPath(import.meta.url));

const SOCIOS = entero('BENCH_SOCIOS', 4);
const ATRASO = entero('BENCH_ATRASO', 4000);
const RITMO = entero('BENCH_RITMO', 300);
const SEGUNDOS = entero('BENCH_SEGUNDOS', 10);
const RONDAS = entero('BENCH_RONDAS', 1);
const POOL = entero('BENCH_POOL', 4);
const RETARDO_MS = entero('BENCH_RETARDO_MS', 0, 0);
const decir = (texto) => process.stdout.write(`${texto}\n`);

const ANTES = { concurrencia: 32, porDestino: 4, conexionesPersistentes: false, loteAnotaciones: 1, sondeoActivoMs: 500 };
// Las intermedias separan lo que aporta cada cambio: conexiones persistentes solas, tandas solas, los
// límites nuevos sin lo demás, y el sondeo corto mientras hay trabajo.
const FASES = {
  antes: ANTES,
  persistentes: { ...ANTES, conexionesPersistentes: true },
  tandas: { ...ANTES, loteAnotaciones: 200 },
  limites: { ...ANTES, concurrencia: 128, porDestino: 16 },
  sondeo: { ...ANTES, sondeoActivoMs: 50 },
  despues: {},
};
const ELEGIDAS = (process.env.BENCH_FASES ?? 'antes,persistentes,tandas,limites,sondeo,despues').split(',').map((f) => f.trim());
for (const f of ELEGIDAS) {
  if (!(f in FASES)) {
    process.stderr.write(`BENCH_FASES: fase desconocida «${f}» (hay: ${Object.keys(FASES).join(', ')})\n`);
    process.exit(2);
  }
}

const postgres = await iniciarPostgres();
decir(`PostgreSQL embebido: ${postgres.url}`);
await conCliente(postgres.url, (c) => c.query('CREATE DATABASE bench_plantilla'));
await adaptadores.migrarUrl(postgres.urlDe('bench_plantilla'));

let numeroBase = 0;
async function baseNueva(fase) {
  numeroBase += 1;
  const nombre = `bench_wh_${numeroBase}_${fase}`;
  await conCliente(postgres.url, (c) => c.query(`CREATE DATABASE ${nombre} TEMPLATE bench_plantilla`));
  return postgres.urlDe(nombre);
}

/** Un receptor por socio: responde 204 (tras BENCH_RETARDO_MS); anota la primera llegada de cada `webhook-id`. */
async function receptor(llegadas) {
  let conexiones = 0;
  let peticiones = 0;
  const servidor = http.createServer((peticion, respuesta) => {
    const trozos = [];
    peticion.on('data', (t) => trozos.push(t));
    peticion.on('end', () => {
      peticiones += 1;
      const id = peticion.headers['webhook-id'];
      if (typeof id === 'string' && !llegadas.has(id)) {
        const { registrado_en } = JSON.parse(Buffer.concat(trozos).toString('utf8'));
        llegadas.set(id, { llegada: Date.now(), registrado: Date.parse(registrado_en) });
      }
      if (RETARDO_MS === 0) respuesta.writeHead(204).end();
      else setTimeout(() => respuesta.writeHead(204).end(), RETARDO_MS);
    });
  });
  servidor.on('connection', () => {
    conexiones += 1;
  });
  servidor.listen(0, '127.0.0.1');
  await once(servidor, 'listening');
  return {
    url: `http://127.0.0.1:${servidor.address().port}/webhook`,
    cuentas: () => ({ conexiones, peticiones }),
    cerrar: () => {
      servidor.closeAllConnections();
      servidor.close();
    },
  };
}

let idFuente = 0;
const ultimas = new Map();
/** `n` eventos más del socio en una sentencia (con su contador), como los deja el asignador. */
async function registrar(pool, socio, n) {
  const desde = (ultimas.get(socio) ?? 0) + 1;
  const hasta = desde + n - 1;
  ultimas.set(socio, hasta);
  const primerId = idFuente + 1;
  idFuente += n;
  await pool.query(
    `WITH ev AS (
       INSERT INTO eventos_socio (id_socio, modo, secuencia, tipo, sujeto, ocurrido_en, id_solicitud, id_correlacion, datos, fuente, id_fuente)
       SELECT $1, 'live', s, 'pago.exitoso', 'pago-' || s, now(), 'req_' || s, 'corr-' || s,
              jsonb_build_object('estado', 'EXITOSO', 'monto', 15075, 'moneda', 'USD'), 'bench', $4 + (s - $2)
       FROM generate_series($2::bigint, $3::bigint) AS s
       RETURNING 1
     )
     INSERT INTO eventos_contadores (id_socio, modo, ultima) SELECT $1, 'live', $3 WHERE (SELECT count(*) FROM ev) > 0
     ON CONFLICT (id_socio, modo) DO UPDATE SET ultima = GREATEST(eventos_contadores.ultima, EXCLUDED.ultima)`,
    [socio, desde, hasta, primerId],
  );
}

const esperar = (ms) => new Promise((r) => setTimeout(r, ms));

async function esperarLlegadas(llegadas, total, maximoMs) {
  const t0 = performance.now();
  while (llegadas.size < total && performance.now() - t0 < maximoMs) await esperar(20);
  return llegadas.size >= total;
}

async function fase(nombre, configuracion) {
  const url = await baseNueva(nombre);
  const pool = adaptadores.crearPoolPostgres({ url, tamano: POOL, nombreAplicacion: `bench-webhooks-${nombre}` });
  const almacen = new adaptadores.PostgresWebhooks({ pool });
  const llegadas = new Map();
  const receptores = [];
  const socios = Array.from({ length: SOCIOS }, (_, i) => `bench-socio-${i + 1}`);
  ultimas.clear();
  for (const socio of socios) {
    const rx = await receptor(llegadas);
    receptores.push(rx);
    await almacen.crear({ idSocio: socio, modo: 'live' }, { url: rx.url, tipos: ['*'] });
  }
  // 1. Drenaje de un atraso ya registrado.
  for (const [i, socio] of socios.entries()) {
    const parte = Math.floor(ATRASO / SOCIOS) + (i < ATRASO % SOCIOS ? 1 : 0);
    if (parte > 0) await registrar(pool, socio, parte);
  }
  const repartidor = adaptadores.iniciarRepartidorWebhooks({
    pool,
    logger: { info: () => undefined, warn: () => undefined, error: (_c, m) => process.stderr.write(`${m}\n`) },
    permitirRedLocal: true,
    ...configuracion,
  });
  const t0 = performance.now();
  const drenado = await esperarLlegadas(llegadas, ATRASO, 600_000);
  const segundosDrenaje = (performance.now() - t0) / 1000;
  const tiemposDrenaje = repartidor.contadores().tiempos;
  const drenaje = { eventos: llegadas.size, segundos: segundosDrenaje, porSegundo: llegadas.size / segundosDrenaje, completo: drenado };

  // 2. Ritmo fijo: un tick cada 50 ms, los eventos repartidos entre los socios por turnos.
  llegadas.clear();
  const porTick = RITMO / 20;
  let debidos = 0;
  let registrados = 0;
  let turno = 0;
  const t1 = performance.now();
  for (let tick = 1; tick <= SEGUNDOS * 20; tick++) {
    debidos += porTick;
    const ahora = Math.floor(debidos) - registrados;
    const porSocio = new Map();
    for (let k = 0; k < ahora; k++) {
      const socio = socios[turno++ % SOCIOS];
      porSocio.set(socio, (porSocio.get(socio) ?? 0) + 1);
    }
    await Promise.all([...porSocio].map(([socio, n]) => registrar(pool, socio, n)));
    registrados += ahora;
    const siguiente = t1 + tick * 50;
    const falta = siguiente - performance.now();
    if (falta > 0) await esperar(falta);
  }
  const segundosRegistro = (performance.now() - t1) / 1000;
  const completo = await esperarLlegadas(llegadas, registrados, 600_000);
  const segundosRitmo = (performance.now() - t1) / 1000;
  const retrasos = [...llegadas.values()].map((l) => l.llegada - l.registrado);
  const [p50, p95, p99] = percentiles(retrasos, [50, 95, 99]);
  const contadores = repartidor.contadores();
  await repartidor.detener();
  const cuentas = receptores.map((r) => r.cuentas());
  for (const r of receptores) r.cerrar();
  await pool.end();

  const entregas = contadores.intentos.exitoso;
  const t = contadores.tiempos;
  return {
    fase: nombre,
    configuracion,
    drenaje,
    tiemposDrenaje,
    ritmo: {
      registrados,
      entregados: llegadas.size,
      segundosRegistro,
      segundos: segundosRitmo,
      registradosPorSegundo: registrados / segundosRegistro,
      completo,
      retrasoMs: { p50, p95, p99 },
    },
    porEntrega: {
      sentencias: (t.sentenciasRonda + t.sentenciasAnotar) / entregas,
      sentenciasAnotar: t.sentenciasAnotar / entregas,
      sqlRondaMs: t.sqlRondaMs / entregas,
      sqlAnotarMs: t.sqlAnotarMs / entregas,
      firmaMs: t.firmaMs / entregas,
      destinoMs: t.destinoMs / entregas,
      httpMs: t.httpMs / entregas,
    },
    tiempos: t,
    entregas,
    fallidos: contadores.intentos.error_http + contadores.intentos.error_red + contadores.intentos.tiempo_agotado,
    conexionesRepartidor: t.conexiones,
    conexionesReceptores: cuentas.reduce((s, c) => s + c.conexiones, 0),
    peticionesReceptores: cuentas.reduce((s, c) => s + c.peticiones, 0),
  };
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : String(x));
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : String(x));
function imprimir(r) {
  decir(`\n── ${r.fase} ${JSON.stringify(r.configuracion)}`);
  decir(
    `  drenaje de ${ATRASO}: ${r.drenaje.eventos} en ${f1(r.drenaje.segundos)} s → ${f1(r.drenaje.porSegundo)} entregas/s${r.drenaje.completo ? '' : ' (INCOMPLETO)'}`,
  );
  decir(
    `  ritmo fijo: ${r.ritmo.registrados} registrados a ${f1(r.ritmo.registradosPorSegundo)}/s; ${r.ritmo.entregados} entregados en ${f1(r.ritmo.segundos)} s${r.ritmo.completo ? '' : ' (INCOMPLETO)'}`,
  );
  decir(`  retraso registro→entrega: p50 ${r.ritmo.retrasoMs.p50} ms, p95 ${r.ritmo.retrasoMs.p95} ms, p99 ${r.ritmo.retrasoMs.p99} ms`);
  const e = r.porEntrega;
  decir(
    `  por entrega: ${f2(e.sentencias)} sentencias (${f2(e.sentenciasAnotar)} de anotar); SQL rondas ${f2(e.sqlRondaMs)} ms, SQL anotar ${f2(e.sqlAnotarMs)} ms, firma ${f2(e.firmaMs)} ms, destino ${f2(e.destinoMs)} ms, HTTP ${f2(e.httpMs)} ms (tiempos acumulados de envíos en paralelo, no de reloj)`,
  );
  decir(
    `  conexiones: ${r.conexionesRepartidor} abiertas por el repartidor, ${r.conexionesReceptores} aceptadas por los receptores, para ${r.peticionesReceptores} peticiones; intentos fallidos ${r.fallidos}`,
  );
}

const resultados = [];
try {
  decir(`uptime: ${os.loadavg().map(f2).join(' ')} (carga 1/5/15 min); ${os.cpus().length} núcleos`);
  decir(
    `${SOCIOS} socios (un webhook cada uno), receptores con ${RETARDO_MS} ms de retardo, atraso ${ATRASO}, ritmo ${RITMO}/s durante ${SEGUNDOS} s, pool ${POOL}, ${RONDAS} ronda(s)`,
  );
  for (let ronda = 1; ronda <= RONDAS; ronda++) {
    const orden = ronda % 2 === 1 ? ELEGIDAS : [...ELEGIDAS].reverse();
    for (const nombre of orden) {
      const r = await fase(nombre, FASES[nombre]);
      r.ronda = ronda;
      resultados.push(r);
      imprimir(r);
    }
  }
  decir('\n── resumen (drenaje en entregas/s y cociente frente a «antes» de la misma ronda; retraso p95 a ritmo fijo)');
  for (let ronda = 1; ronda <= RONDAS; ronda++) {
    const a = resultados.find((r) => r.ronda === ronda && r.fase === 'antes');
    for (const r of resultados.filter((x) => x.ronda === ronda)) {
      const cociente = a ? ` (${f2(r.drenaje.porSegundo / a.drenaje.porSegundo)}×)` : '';
      decir(
        `  ronda ${ronda} ${r.fase.padEnd(12)} ${f1(r.drenaje.porSegundo).padStart(7)} entregas/s${cociente}; retraso p95 ${r.ritmo.retrasoMs.p95} ms`,
      );
    }
  }
  decir(`uptime al terminar: ${os.loadavg().map(f2).join(' ')}`);
  mkdirSync(path.join(aqui, 'resultados'), { recursive: true });
  const fichero = path.join(aqui, 'resultados', `webhooks-${new Date().toISOString().replaceAll(':', '-')}.json`);
  writeFileSync(fichero, `${JSON.stringify({ carga: os.loadavg(), resultados }, null, 2)}\n`);
  decir(`JSON: ${path.relative(process.cwd(), fichero)}`);
} finally {
  await postgres.detener();
}
