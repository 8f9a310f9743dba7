import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crearBrokerEmbebido } from '@aeropartners/adaptadores';
import type pg from 'pg';
import { crearEjecutor, nuevoEstadoCarga, paraVeredicto, type ObservacionMutable } from './carga.js';
import { planearFallos, type FalloPlaneado } from './fallos.js';
import { paginaHtml } from './html.js';
import { cubetas, duplicadosEnElTiempo, resumenLatencias, tablaTexto, totalContador, type Informe, type MarcaFallo } from './informe.js';
import { crearPool, iniciarMuestreo } from './muestreo.js';
import { leerOpciones, textoAyuda } from './opciones.js';
import { crearPlan, prefijoCorrida } from './plan.js';
import { TopologiaLocal } from './topologia-local.js';
import { juzgar, juzgarFuera } from './veredicto.js';

const RAIZ = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SUSCRIPCION = 'consumidor-pagos';
const decir = (t: string) => process.stdout.write(`[experimento] ${t}\n`);
const esperar = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('es-ES');

const lectura = leerOpciones(process.argv.slice(2), process.env);
if (!lectura.ok) {
  process.stderr.write(`${lectura.mensaje}\n`);
  process.exit(2);
}
const o = lectura.opciones;
if (o.ayuda) {
  process.stdout.write(`${textoAyuda()}\n`);
  process.exit(0);
}
if (o.rehacer) {
  const json = path.resolve(o.rehacer);
  const informe = JSON.parse(readFileSync(json, 'utf8')) as Informe;
  const html = path.join(path.dirname(json), 'informe.html');
  writeFileSync(html, paginaHtml(informe));
  decir(`rehecho ${path.relative(process.cwd(), html)}`);
  process.exit(informe.resultado === 'APROBADO' ? 0 : 1);
}

const ahora = new Date();
const corrida = `${ahora.toISOString().replace(/[-:T]/g, '').slice(0, 14)}${randomBytes(2).toString('hex')}`;
const prefijo = prefijoCorrida(corrida);
const idSocio = process.env.ID_SOCIO_POR_DEFECTO || 'aeropartners';
const carpeta = path.resolve(RAIZ, o.salida, corrida);
mkdirSync(carpeta, { recursive: true });

let topologia: TopologiaLocal | undefined;
let pool: pg.Pool | undefined;
let codigo = 2;
try {
  codigo = await ejecutar();
} catch (error) {
  process.stderr.write(`\nEl experimento no pudo completarse: ${error instanceof Error ? error.message : String(error)}\n`);
  codigo = 2;
} finally {
  await pool?.end().catch(() => undefined);
  if (topologia?.propia) {
    decir('parando la topología que arrancó el experimento…');
    await topologia.parar();
  }
}
process.exit(codigo);

async function ejecutar(): Promise<number> {
  // ── Montaje ────────────────────────────────────────────────────────────────
  let urlApi: string;
  let databaseUrl: string | undefined;
  const local = o.url === undefined;
  if (local) {
    topologia = TopologiaLocal.adoptar(RAIZ);
    if (topologia) decir(`usando la topología local en marcha (supervisor ${topologia.procesos().supervisor})`);
    else {
      topologia = await TopologiaLocal.arrancar(RAIZ, {
        registro: path.join(carpeta, 'servicios.log'),
        decir,
        entorno: {
          LOG_LEVEL: o.nivelLog,
          PASARELA_PERFIL: o.perfilPasarela,
          CONSUMIDOR_EN_VUELO: String(o.consumidorEnVuelo),
          BROKER_DUPLICAR_ENTREGAS: String(o.duplicarEntregas),
        },
      });
    }
    urlApi = topologia.urlApi;
    databaseUrl = topologia.databaseUrl;
  } else {
    urlApi = o.url as string;
    databaseUrl = o.databaseUrl;
    decir(`despliegue remoto ${urlApi}: solo HTTP (sin fallos de procesos)${databaseUrl ? '' : '; sin --database-url, el veredicto es solo desde fuera'}`);
  }
  if (databaseUrl) pool = crearPool(databaseUrl);

  const plan = crearPlan({ corrida, socios: o.socios, pagosPorSocio: o.pagosPorSocio, dobles: o.dobles, triples: o.triples, timeouts: o.timeouts, tardias: o.tardias, conflictos: o.conflictos, desorden: o.desorden, semilla: o.semilla });
  const fallosProcesos: FalloPlaneado[] = local ? planearFallos({ matarConsumidor: o.matarConsumidor, matarRelay: o.matarRelay, reiniciarPostgres: o.reiniciarPostgres, semilla: o.semilla }) : [];
  const brokerEmbebido = local && !process.env.PULSAR_URL && topologia?.procesos().postgresEmbebido !== undefined;
  decir(
    `corrida ${corrida}: ${o.socios} socios × ${fmt(o.pagosPorSocio)} pagos = ${fmt(plan.pagos.length)} pagos, ${fmt(plan.peticiones)} peticiones planeadas ` +
      `(${fmt(plan.duplicadas)} repetidas, ${((100 * plan.duplicadas) / plan.peticiones).toFixed(1)} %), ` +
      `${o.rampa ? `rampa ${o.rampa.inicio}+${o.rampa.paso}/${o.rampa.escalonS}s` : o.ritmo ? `${o.ritmo} pet/s` : 'sin límite de ritmo'}, ` +
      `${fallosProcesos.length} fallos de procesos`,
  );

  const t0 = performance.now();
  const seg = () => (performance.now() - t0) / 1000;
  const desde = new Date(Date.now() - 1000);
  const marcas: MarcaFallo[] = [];

  // ── Venenos: mensajes malformados directamente en el broker (deben acabar en mensajes muertos) ──
  const venenos: string[] = [];
  if (brokerEmbebido && databaseUrl && o.venenos > 0) {
    const broker = await crearBrokerEmbebido({ url: databaseUrl, topico: 'pagos', suscripciones: [SUSCRIPCION], tamanoPool: 1, alError: () => undefined });
    try {
      const publicador = await broker.crearPublicador(`experimento-veneno-${corrida}`);
      const mensajes = Array.from({ length: o.venenos }, (_, i) => {
        const clave = `veneno-${corrida}-${i + 1}`;
        venenos.push(clave);
        return { clave, secuencia: i + 1, cuerpo: i % 2 === 0 ? '{esto no es JSON' : '{}', propiedades: { tipo: 'PagoPendiente' } as never };
      });
      await publicador.publicar(mensajes);
      marcas.push({ segundo: seg(), tipo: 'venenos', detalle: `${o.venenos} mensajes malformados publicados en el broker` });
    } finally {
      await broker.cerrar();
    }
  }

  // ── Carga y fallos ─────────────────────────────────────────────────────────
  const observaciones = new Map<string, ObservacionMutable>();
  const estado = nuevoEstadoCarga();
  const ejecutor = crearEjecutor({ url: urlApi, plan, ritmo: o.ritmo, rampa: o.rampa, concurrencia: o.concurrencia, observaciones, t0, estado });
  const muestreo = iniciarMuestreo({ pool, topologia, idSocio, prefijo, t0 });
  const costePrincipal = plan.peticiones - plan.tardias;
  const hechos = { consumidor: 0, relay: 0, postgres: 0 };
  let fase = 'carga';
  const barra = () => {
    const c = estado.contadores;
    const total = fase === 'carga' ? costePrincipal : plan.tardias;
    const frac = Math.min(1, estado.despachadas / Math.max(1, total));
    const ancho = 24;
    const llenos = Math.round(frac * ancho);
    const u = muestreo.ultimo();
    const ultimas = estado.muestras.slice(-400);
    const ventana = ultimas.length > 1 ? ((ultimas.at(-1)?.[0] ?? 0) - (ultimas[0]?.[0] ?? 0)) / 1000 : 0;
    const ritmo = ventana > 0 ? ultimas.length / ventana : 0;
    return (
      `[${'#'.repeat(llenos)}${'.'.repeat(ancho - llenos)}] ${fase} ${(frac * 100).toFixed(0).padStart(3)}% ` +
      `${fmt(c.peticiones)} pet · ${fmt(ritmo)}/s · en vuelo ${estado.enVuelo} · 200 ${fmt(c.respuestas200)} (replay ${fmt(c.replays)}) · 422 ${fmt(c.r422)} · 5xx/red ${fmt(c.transitorios)} · ` +
      `finales ${fmt((u?.EXITOSO ?? 0) + (u?.FALLIDO ?? 0))}/${fmt(plan.pagos.length)} · outbox ${fmt(u?.outboxPendiente ?? 0)} · ` +
      `kills C ${hechos.consumidor}/${o.matarConsumidor} R ${hechos.relay}/${o.matarRelay} PG ${hechos.postgres}/${o.reiniciarPostgres} · ${seg().toFixed(0)} s`
    );
  };
  const tty = process.stderr.isTTY;
  let ultimaLinea = 0;
  const progreso = setInterval(() => {
    if (tty) process.stderr.write(`\r\x1b[2K${barra().slice(0, (process.stderr.columns ?? 200) - 1)}`);
    else if (Date.now() - ultimaLinea > 10_000) {
      ultimaLinea = Date.now();
      process.stderr.write(`${barra()}\n`);
    }
  }, 250);
  const limpiarLinea = () => tty && process.stderr.write('\r\x1b[2K');

  let cargaTerminada = false;
  const ejecutarFallo = async (f: FalloPlaneado) => {
    const s = seg();
    try {
      if (!topologia) return;
      if (f.tipo === 'reiniciar-postgres') {
        const r = await topologia.reiniciarPostgres();
        hechos.postgres += 1;
        marcas.push({ segundo: s, tipo: f.tipo, detalle: 'SIGUSR2 al supervisor: parada rápida y arranque de PostgreSQL', recuperacionMs: r.recuperacionMs });
      } else {
        const servicio = f.tipo === 'matar-consumidor' ? 'consumer' : 'outbox';
        const r = await topologia.matar(servicio);
        if (servicio === 'consumer') hechos.consumidor += 1;
        else hechos.relay += 1;
        marcas.push({ segundo: s, tipo: f.tipo, detalle: `SIGKILL a ${servicio} (pid ${r.pid}); el supervisor lo relanzó`, recuperacionMs: r.recuperacionMs });
      }
    } catch (error) {
      marcas.push({ segundo: s, tipo: f.tipo, detalle: 'fallo inyectado', error: error instanceof Error ? error.message : String(error) });
    }
  };
  const inyector = (async () => {
    for (const f of fallosProcesos) {
      while (!cargaTerminada && estado.despachadas / costePrincipal < f.fraccion) await esperar(200);
      await ejecutarFallo(f);
    }
  })();

  const inicioCarga = performance.now();
  await ejecutor.cargaPrincipal();
  cargaTerminada = true;
  const finCarga = seg();
  const duracionCarga = (performance.now() - inicioCarga) / 1000;
  await inyector;
  limpiarLinea();
  decir(`carga principal enviada en ${duracionCarga.toFixed(1)} s; esperando a que el pipeline se vacíe (máx. ${o.drenajeS} s)…`);

  // ── Drenaje ────────────────────────────────────────────────────────────────
  fase = 'drenaje';
  const aceptadas = [...observaciones.values()].filter((x) => x.aceptada).length;
  let drenado = false;
  if (pool) {
    const limite = Date.now() + o.drenajeS * 1000;
    while (Date.now() < limite) {
      const u = muestreo.ultimo();
      if (u && u.EXITOSO + u.FALLIDO >= aceptadas && u.PENDIENTE + u.PROCESANDO === 0 && u.outboxPendiente === 0 && u.cola === 0 && u.segundo > seg() - 3) {
        drenado = true;
        break;
      }
      await esperar(500);
    }
  }
  const finDrenaje = seg();
  limpiarLinea();
  decir(drenado ? `pipeline vacío en ${(finDrenaje - finCarga).toFixed(1)} s` : 'el pipeline no se vació a tiempo (o no hay base que mirar): el veredicto lo dirá');

  // ── Réplicas tardías de pagos ya terminados ────────────────────────────────
  fase = 'tardías';
  estado.despachadas = 0;
  await ejecutor.replicasTardias();
  ejecutor.cerrar();
  await esperar(2000);
  clearInterval(progreso);
  limpiarLinea();
  await muestreo.parar();

  // ── Veredicto ──────────────────────────────────────────────────────────────
  decir('juzgando (desde fuera y desde dentro)…');
  const fuera = paraVeredicto(observaciones);
  const veredicto = pool
    ? await juzgar(pool, { idSocio, prefijo, suscripcion: SUSCRIPCION, desde, plazoMs: o.plazoS * 1000, venenos, fuera })
    : juzgarFuera(fuera);

  // ── Informe ────────────────────────────────────────────────────────────────
  const c = estado.contadores;
  const muestrasC = muestreo.contadores;
  const replaysHasta = (() => {
    const tiempos = estado.muestras.map(([t]) => t / 1000);
    return (s: number) => Math.round(c.replays * (tiempos.filter((t) => t <= s).length / Math.max(1, tiempos.length)));
  })();
  const duplicadosPorEtapa = {
    entrada: c.replays,
    relay: totalContador(muestrasC, 'outbox', 'broker_descartados_por_duplicado'),
    broker: totalContador(muestrasC, 'outbox', 'broker_duplicados_inyectados'),
    consumidor: totalContador(muestrasC, 'consumer', 'duplicados') + totalContador(muestrasC, 'consumer', 'obsoletos'),
    pasarela: totalContador(muestrasC, 'consumer', 'pasarela_repeticionesAbsorbidas') + totalContador(muestrasC, 'consumer', 'pasarela_carrerasPerdidas'),
  };
  const lat = resumenLatencias(estado.muestras);
  const repetidas = c.peticiones - plan.pagos.length;
  const matados = (t: string) => marcas.filter((m) => m.tipo === t && !m.error);
  const recuperacion = (t: string) => matados(t).map((m) => `${((m.recuperacionMs ?? 0) / 1000).toFixed(1)} s`).join(', ') || '—';
  const informe: Informe = {
    titulo: 'Experimento · escenario de calidad n.º 3: cada pago, exactamente una vez',
    corrida,
    fecha: ahora.toISOString(),
    resultado: veredicto.aprobado ? 'APROBADO' : 'SUSPENDIDO',
    hipotesis:
      'Si los socios envían sus pagos por una red que los duplica (copias simultáneas, reintentos tras un timeout cuyo original sí llegó, ' +
      'réplicas tardías), los desordena y los entrelaza, y entretanto mueren el consumidor y el relay y se reinicia PostgreSQL, ' +
      `entonces cada (socio, referencia) produce exactamente un pago, cobrado como mucho una vez (exactamente una si es EXITOSO), ` +
      `con su historial completo y sin eventos perdidos, y todos llegan a un estado final en menos de ${o.plazoS} s, sin intervención manual.`,
    montaje: {
      Topología: local ? `local (pnpm start${topologia?.propia ? ', arrancada por el experimento' : ', ya en marcha'}): api + outbox + consumer, broker embebido` : `remota: ${urlApi}`,
      Máquina: `${os.cpus().length} núcleos, Node ${process.version}`,
      Socios: `${o.socios} (simulados con prefijos de referencia distintos: la API tiene un solo socio, ${idSocio})`,
      'Pagos distintos': plan.pagos.length,
      'Peticiones planeadas': plan.peticiones,
      Ritmo: o.rampa ? `rampa desde ${o.rampa.inicio} pet/s, +${o.rampa.paso} cada ${o.rampa.escalonS} s hasta saturar` : o.ritmo ? `${o.ritmo} pet/s objetivo` : 'sin límite',
      Concurrencia: o.concurrencia,
      'Fallos de red': `dobles ${o.dobles * 100} %, triples ${o.triples * 100} %, timeouts ${o.timeouts * 100} %, tardías ${o.tardias * 100} %, conflictos ${o.conflictos * 100} %, ventana de desorden ${o.desorden}`,
      'Fallos de procesos': local ? `${o.matarConsumidor} SIGKILL al consumidor, ${o.matarRelay} al relay, ${o.reiniciarPostgres} reinicio(s) de PostgreSQL` : 'ninguno (despliegue remoto)',
      'Duplicación en el broker': topologia?.propia ? o.duplicarEntregas : 'la de la topología en marcha',
      'Pasarela simulada': topologia?.propia ? `perfil ${o.perfilPasarela}` : 'la de la topología en marcha',
      'Mensajes venenosos': venenos.length,
      'Plazo declarado': `${o.plazoS} s de creación a estado final`,
      Semilla: o.semilla,
    },
    medidas: {
      'Peticiones HTTP enviadas': c.peticiones,
      'Peticiones que repiten una referencia': `${fmt(repetidas)} (${((100 * repetidas) / Math.max(1, c.peticiones)).toFixed(1)} %)`,
      'Copias dobles / triples simultáneas': `${fmt(c.dobles)} / ${fmt(c.triples)}`,
      'Timeouts del cliente con original aceptado / reintento reconocido': `${fmt(c.timeoutsOriginalExitoso)} / ${fmt(c.timeoutsReintentoReconocido)}`,
      'Réplicas tardías de pagos terminados': c.tardias,
      'Misma referencia con otro cuerpo (→ 422)': `${fmt(c.conflictos)} enviadas, ${fmt(c.r422)} respuestas 422`,
      'Envíos fuera de orden / cambios de socio': `${fmt(c.fueraDeOrden)} / ${fmt(c.entrelazados)}`,
      'Respuestas 200 (de ellas Idempotent-Replayed)': `${fmt(c.respuestas200)} (${fmt(c.replays)})`,
      'Errores transitorios (5xx o red) reintentados': `${fmt(c.transitorios)} (${fmt(c.reintentosTransitorios)} reintentos)`,
      'Otros 4xx': JSON.stringify(c.otros4xx),
      'Duración de la carga principal': `${duracionCarga.toFixed(1)} s`,
      'Ritmo logrado (carga principal)': `${fmt((c.peticiones - c.tardias) / duracionCarga)} pet/s`,
      ...(estado.saturacion ? { Saturación: `a ${estado.saturacion.ritmo} pet/s pedidas se lograron ${estado.saturacion.logrado} (t=${estado.saturacion.segundo} s)` } : {}),
      'Latencia POST /pagos p50 / p95 / p99 / máx': `${lat.p50} / ${lat.p95} / ${lat.p99} / ${lat.max}`,
      'Pagos en la base (EXITOSO / FALLIDO / otros)': `${fmt(veredicto.pagos)} (${fmt(veredicto.porEstado['EXITOSO'] ?? 0)} / ${fmt(veredicto.porEstado['FALLIDO'] ?? 0)} / ${fmt(veredicto.pagos - (veredicto.porEstado['EXITOSO'] ?? 0) - (veredicto.porEstado['FALLIDO'] ?? 0))})`,
      'Creación → estado final p50 / p99 / máx': ['p50', 'p99', 'max'].map((k) => { const v = veredicto.latenciaFinalMs[k as 'p50']; return v === null ? '—' : `${(v / 1000).toFixed(1)} s`; }).join(' / '),
      'Drenaje tras la carga': `${(finDrenaje - finCarga).toFixed(1)} s${drenado ? '' : ' (sin vaciarse)'}`,
      'Consumidor matado (recuperado en)': `${matados('matar-consumidor').length} (${recuperacion('matar-consumidor')})`,
      'Relay matado (recuperado en)': `${matados('matar-relay').length} (${recuperacion('matar-relay')})`,
      'PostgreSQL reiniciado (todo listo en)': `${matados('reiniciar-postgres').length} (${recuperacion('reiniciar-postgres')})`,
      'Fallos que no se pudieron inyectar': marcas.filter((m) => m.error).length,
      'Consultas de muestreo fallidas (base caída)': muestreo.fallosBase,
      'Duración total': `${seg().toFixed(1)} s`,
    },
    duplicadosPorEtapa,
    veredicto,
    conclusion: veredicto.aprobado
      ? `Se sostiene la hipótesis en esta corrida: ${fmt(c.peticiones)} peticiones (${((100 * repetidas) / Math.max(1, c.peticiones)).toFixed(1)} % repiten una referencia) ` +
        `dieron ${fmt(veredicto.pagos)} pagos, uno por referencia, todos finales, sin cobros dobles ni eventos perdidos, ` +
        `a pesar de ${matados('matar-consumidor').length + matados('matar-relay').length} procesos matados y ${matados('reiniciar-postgres').length} reinicio(s) de PostgreSQL; ` +
        `cada etapa absorbió sus duplicados (${Object.entries(duplicadosPorEtapa).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}).`
      : `Se refuta la hipótesis en esta corrida: ${veredicto.violaciones.length} regla(s) incumplida(s): ${veredicto.violaciones.map((v) => `${v.regla} (${v.total})`).join(', ')}. Ver los ids en el informe.`,
    series: {
      respuestas: cubetas(estado.muestras, 1),
      estados: muestreo.estados,
      duplicados: duplicadosEnElTiempo(muestrasC, replaysHasta),
      fallos: marcas.filter((m) => m.tipo !== 'venenos'),
      finCarga,
      finDrenaje,
    },
  };
  const json = path.join(carpeta, 'informe.json');
  const html = path.join(carpeta, 'informe.html');
  writeFileSync(json, `${JSON.stringify(informe, null, 2)}\n`);
  writeFileSync(html, paginaHtml(informe));
  process.stdout.write(`\n${tablaTexto(informe)}\n\n`);
  decir(`informe: ${path.relative(process.cwd(), json)} y ${path.relative(process.cwd(), html)}`);
  decir(veredicto.aprobado ? 'APROBADO: cero violaciones' : `SUSPENDIDO: ${veredicto.violaciones.length} regla(s) incumplida(s)`);
  return veredicto.aprobado ? 0 : 1;
}

