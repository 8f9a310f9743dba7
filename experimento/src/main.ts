import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crearBrokerEmbebido } from '@aeropartners/adaptadores';
import { dormir } from '@aeropartners/procesos';
import type pg from 'pg';
import { RAMPA_MAXIMA_DEL_PLAN, rampaDeCapacidad, ritmoFijo, type ControlRitmo, type MedidaCapacidad } from './capacidad.js';
import { aceptadasPorSocio, crearEjecutor, nuevoEstadoCarga, paraVeredicto, type EstadoSuspension, type Observaciones } from './carga.js';
import { componerInforme, contarEnLaBase } from './componer-informe.js';
import { consultarAmbito } from './consultas-ambito.js';
import { crearCargaConversiones } from './carga-conversiones.js';
import { argumentosRegla, crearPlanConversiones, reglaDeSocio } from './conversiones-plan.js';
import { leerDatosConversiones } from './leer-conversiones.js';
import {
  configurarReglasPorCli,
  liquidacionesPorCli,
  liquidarDuranteLaCarga,
  liquidarHastaEstabilizar,
  type EjecucionObservada,
} from './liquidaciones-durante.js';
import { conConversiones, medidasConversiones } from './resumen-conversiones.js';
import { planearFallos, type FalloPlaneado } from './fallos.js';
import { paginaHtml } from './html.js';
import { tablaTexto, type Informe, type MarcaFallo } from './informe.js';
import { inyectarFallo } from './inyector.js';
import { crearPool, estadosDeLaCorrida, iniciarMuestreo } from './muestreo.js';
import { leerOpciones, textoAyuda } from './opciones.js';
import { crearPlan } from './plan.js';
import { iniciarProgreso } from './progreso.js';
import { administradorPorCli, crearSociosDeLaCorrida, type AdministradorSocios } from './socios.js';
import { TopologiaLocal } from './topologia-local.js';
import { CORTES_STREAM, conTrazabilidad, ENTORNO_WEBHOOKS, iniciarTrazabilidad, type Trazabilidad } from './trazabilidad.js';
import { juzgar, type SuspensionObservada } from './veredicto.js';
import { juzgarConversiones } from './veredicto-conversiones.js';

const RAIZ = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SUSCRIPCION = 'consumidor-pagos';
/** Umbrales del barrendero en la topología del experimento: un pago atascado se re-impulsa en segundos, no en minutos. */
const BARRENDERO = { umbralS: 30, periodoS: 5 };
/** Fracción de la carga principal enviada cuando se suspende al socio que se suspende. */
const FRACCION_SUSPENSION = 0.5;
/** Lecturas de muestreo por socio para la regla del ámbito (cada una, 2 a 4 peticiones). */
const MUESTRAS_AMBITO = 50;
/** Hechos de conversión en vuelo (cada uno con sus copias) y rondas máximas de las liquidaciones finales. */
const CONVERSIONES_EN_VUELO = 8;
const RONDAS_FINALES = 15;
const decir = (t: string) => process.stdout.write(`[experimento] ${t}\n`);
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
const carpeta = path.resolve(RAIZ, o.salida, corrida);
mkdirSync(carpeta, { recursive: true });

let topologia: TopologiaLocal | undefined;
let pool: pg.Pool | undefined;
let traza: Trazabilidad | undefined;
const parar = async () => {
  await traza?.parar().catch(() => undefined);
  await pool?.end().catch(() => undefined);
  if (topologia?.propia) {
    decir('parando la topología que arrancó el experimento…');
    await topologia.parar();
  }
};
process.once('SIGINT', () => {
  process.stderr.write('\n');
  decir('interrumpido (Ctrl-C)');
  void parar().then(() => process.exit(130));
});
let codigo = 2;
try {
  codigo = await ejecutar();
} catch (error) {
  process.stderr.write(`\nEl experimento no pudo completarse: ${error instanceof Error ? error.message : String(error)}\n`);
  codigo = 2;
} finally {
  await parar();
}
process.exit(codigo);

async function ejecutar(): Promise<number> {
  // ── Montaje ────────────────────────────────────────────────────────────────
  let urlApi: string;
  let databaseUrl: string | undefined;
  const local = o.url === undefined;
  if (local) {
    topologia = TopologiaLocal.adoptar(RAIZ);
    if (topologia)
      decir(
        `usando la topología local en marcha (supervisor ${topologia.procesos().supervisor}): sus instancias, su pasarela y su barrendero`,
      );
    else {
      topologia = await TopologiaLocal.arrancar(RAIZ, {
        registro: path.join(carpeta, 'servicios.log'),
        decir,
        entorno: {
          LOG_LEVEL: o.nivelLog,
          API_INSTANCIAS: String(o.apis),
          RELAY_INSTANCIAS: String(o.relays),
          CONSUMIDOR_INSTANCIAS: String(o.consumidores),
          PASARELA_PERFIL: o.perfilPasarela,
          PASARELA_TASA_SIN_RESPUESTA: String(o.pasarelaSinRespuesta),
          PASARELA_TASA_500_TRAS_COBRO: String(o.pasarela500),
          PASARELA_TASA_EN_CURSO: String(o.pasarelaEnCurso),
          CONSUMIDOR_EN_VUELO: String(o.consumidorEnVuelo),
          BROKER_DUPLICAR_ENTREGAS: String(o.duplicarEntregas),
          BARRENDERO_UMBRAL_PENDIENTE_MS: String(BARRENDERO.umbralS * 1000),
          BARRENDERO_UMBRAL_PROCESANDO_MS: String(BARRENDERO.umbralS * 1000),
          BARRENDERO_PERIODO_MS: String(BARRENDERO.periodoS * 1000),
          // Liquidaciones periódicas de los consumidores durante la corrida (issue 12), y su cierre cada segundo.
          LIQUIDACIONES_CADA: '20s',
          LIQUIDACIONES_CIERRE_MS: '1000',
          ...ENTORNO_WEBHOOKS,
        },
      });
    }
    urlApi = topologia.urlApi;
    databaseUrl = topologia.databaseUrl;
  } else {
    urlApi = o.url as string;
    databaseUrl = o.databaseUrl;
    decir(`despliegue remoto ${urlApi}: solo HTTP (sin fallos de procesos)`);
  }
  if (!databaseUrl)
    throw new Error('el experimento crea sus socios (con sus claves) en la base del despliegue y juzga desde ella: dé --database-url');
  pool = crearPool(databaseUrl);
  const bd = pool;

  // ── Socios: de verdad, con sus claves, creados con la administración de socios ──
  const admin: AdministradorSocios = administradorPorCli(RAIZ, databaseUrl);
  const socios = await crearSociosDeLaCorrida(admin, corrida, o.socios);
  const idsSocios = socios.map((s) => s.id);
  const suspendido = socios.find((s) => s.papel === 'suspendido');
  const firmante = socios.find((s) => s.papel === 'firma');
  decir(
    `socios: ${socios.map((s) => `${s.id}${s.papel === 'normal' ? '' : ` (${s.papel === 'firma' ? 'firma cada petición' : 'se suspende a mitad'})`}`).join(', ')}; ` +
      'todos envían las mismas referencias con los mismos cuerpos',
  );

  // Trazabilidad (issue 13): un webhook de todos los tipos y un stream SSE por socio, antes de la carga.
  traza = await iniciarTrazabilidad({
    socios,
    urlApi,
    urlsApi: () =>
      local && topologia
        ? topologia
            .instancias('api')
            .filter((i) => i.puerto !== null)
            .map((i) => `http://127.0.0.1:${i.puerto}`)
        : [urlApi],
    semilla: o.semilla,
    webhooksObligatorios: topologia?.propia === true,
  });
  const trazabilidad = traza;
  decir(`cada socio con su stream SSE (GET /eventos/stream) y un webhook de todos los tipos hacia el receptor del experimento`);

  // Conversiones (issue 12): la regla de comisión de cada socio (vigente desde ahora), y después el plan de
  // hechos, con `ocurrido_en` posterior a la regla (la que rige en la creación es la de la comisión).
  const hayConversiones = o.conversionesPorSocio > 0;
  if (hayConversiones)
    await configurarReglasPorCli(
      RAIZ,
      databaseUrl,
      socios.map((s, i) => ({ idSocio: s.id, argumentos: argumentosRegla(reglaDeSocio(i + 1)) })),
    );
  const planConversiones = crearPlanConversiones({
    corrida,
    socios: o.socios,
    conversionesPorSocio: o.conversionesPorSocio,
    semilla: o.semilla,
    inicio: new Date(),
  });
  if (hayConversiones)
    decir(
      `conversiones: ${fmt(planConversiones.conversiones.length)} (${fmt(planConversiones.hechos)} hechos, ${fmt(planConversiones.peticiones)} peticiones, ` +
        `${fmt(planConversiones.trasPago.length)} reversiones tras el pago); reglas ${planConversiones.reglas.map((r) => `${r.puntosBasicos / 100} %${r.tope ? ` tope ${r.tope.unidadesMenores / 100} ${r.tope.moneda}` : ''}`).join(', ')}, sin bloqueo`,
    );

  const plan = crearPlan({
    corrida,
    socios: o.socios,
    pagosPorSocio: o.pagosPorSocio,
    dobles: o.dobles,
    triples: o.triples,
    timeouts: o.timeouts,
    tardias: o.tardias,
    conflictos: o.conflictos,
    desorden: o.desorden,
    semilla: o.semilla,
  });
  const costePrincipal = plan.peticiones - plan.tardias;
  const consumidores = topologia?.instancias('consumer').length ?? 0;
  const fallosProcesos: FalloPlaneado[] = local
    ? planearFallos({
        matarConsumidor: o.matarConsumidor,
        matarRelay: o.matarRelay,
        reiniciarPostgres: o.reiniciarPostgres,
        matarPostgres: o.matarPostgres,
        consumidores,
        semilla: o.semilla,
      })
    : [];
  const brokerEmbebido = local && !process.env['PULSAR_URL'] && topologia?.procesos().postgresEmbebido === true;
  decir(
    `corrida ${corrida}: ${o.socios} socios × ${fmt(o.pagosPorSocio)} pagos = ${fmt(plan.pagos.length)} pagos, ${fmt(plan.peticiones)} peticiones planeadas ` +
      `(${fmt(plan.duplicadas)} repetidas, ${((100 * plan.duplicadas) / plan.peticiones).toFixed(1)} %), ` +
      `${o.ritmo === undefined ? `rampa ${o.rampa.inicio}+${o.rampa.paso}/${o.rampa.escalonS}s y ${Math.round(o.fraccionCapacidad * 100)} % de la capacidad` : o.ritmo ? `${o.ritmo} pet/s fijas` : 'sin límite de ritmo'}, ` +
      `${fallosProcesos.length} fallos de procesos`,
  );

  const t0 = performance.now();
  const seg = () => (performance.now() - t0) / 1000;
  const desde = new Date(Date.now() - 1000);
  const marcas: MarcaFallo[] = [];

  // ── Venenos: mensajes malformados directamente en el broker (deben acabar en mensajes muertos) ──
  const venenos: string[] = [];
  if (brokerEmbebido && databaseUrl && o.venenos > 0) {
    const broker = await crearBrokerEmbebido({
      url: databaseUrl,
      topico: 'pagos',
      suscripciones: [SUSCRIPCION],
      tamanoPool: 1,
      alError: () => undefined,
    });
    try {
      const publicador = await broker.crearPublicador(`experimento-veneno-${corrida}`);
      const mensajes = Array.from({ length: o.venenos }, (_, i) => {
        const clave = `veneno-${corrida}-${i + 1}`;
        venenos.push(clave);
        return {
          clave,
          secuencia: i + 1,
          cuerpo: i % 2 === 0 ? '{esto no es JSON' : '{}',
          propiedades: { tipo: 'PagoPendiente' } as never,
        };
      });
      await publicador.publicar(mensajes);
      marcas.push({ segundo: seg(), tipo: 'venenos', detalle: `${o.venenos} mensajes malformados publicados en el broker` });
    } finally {
      await broker.cerrar();
    }
  }

  // ── Carga: rampa que mide la capacidad y carga mantenida, con los fallos ─────
  const observaciones: Observaciones = new Map();
  const estado = nuevoEstadoCarga();
  const suspension: EstadoSuspension = { idSocio: suspendido?.id, confirmadaEn: undefined, tras: [] };
  let confirmadaEnBase: Date | undefined;
  const peticionesPorPago = costePrincipal / plan.pagos.length;
  const control: ControlRitmo =
    o.ritmo !== undefined || !bd
      ? ritmoFijo(o.ritmo ?? 0)
      : rampaDeCapacidad({
          rampa: o.rampa,
          fraccion: o.fraccionCapacidad,
          peticionesPorPago,
          limitePeticiones: RAMPA_MAXIMA_DEL_PLAN * costePrincipal,
          fotografiar: async () => {
            const e = await estadosDeLaCorrida(bd, idsSocios);
            return {
              segundo: seg(),
              creados: e.PENDIENTE + e.PROCESANDO + e.EXITOSO + e.FALLIDO,
              finales: e.EXITOSO + e.FALLIDO,
              peticiones: estado.contadores.peticiones,
            };
          },
          alEscalon: (e, j) => {
            progreso.limpiar();
            decir(
              `rampa ${fmt(e.ritmoPedido)} pet/s: ${fmt(e.peticionesPorSegundo)} pet/s enviadas, ${fmt(e.aceptadosPorSegundo)} aceptados/s, ` +
                `${fmt(e.terminadosPorSegundo)} terminados/s, atraso ${fmt(e.atrasoInicial)} → ${fmt(e.atrasoFinal)}${j.saturado ? ` — ${j.motivo}` : ''}`,
            );
          },
        });
  // Desde cuándo y con cuántas peticiones enviadas empieza la carga mantenida (para su ritmo logrado).
  let inicioMantenida = { segundo: 0, peticiones: 0 };
  void control.medida.then(
    () => (inicioMantenida = { segundo: seg(), peticiones: estado.contadores.peticiones }),
    () => undefined,
  );
  const ejecutor = crearEjecutor({
    url: urlApi,
    plan,
    control,
    concurrencia: o.concurrencia,
    socios,
    suspension,
    observaciones,
    t0,
    estado,
  });
  const muestreo = iniciarMuestreo({ pool, topologia, socios: idsSocios, t0 });
  const hechos = { 'matar-consumidor': 0, 'matar-relay-lider': 0, 'reiniciar-postgres': 0, 'matar-postgres': 0 };
  let fase = 'carga';
  const progreso = iniciarProgreso(() => {
    const c = estado.contadores;
    const total = fase === 'tardías' ? plan.tardias : costePrincipal;
    const frac = Math.min(1, estado.despachadas / Math.max(1, total));
    const u = muestreo.ultimo();
    const ultimas = estado.muestras.slice(-400);
    const ventana = ultimas.length > 1 ? ((ultimas.at(-1)?.[0] ?? 0) - (ultimas[0]?.[0] ?? 0)) / 1000 : 0;
    const etapa = fase === 'carga' ? (control.fase() === 'rampa' ? 'rampa' : 'carga') : fase;
    return (
      `[${'#'.repeat(Math.round(frac * 24)).padEnd(24, '.')}] ${etapa} ${(frac * 100).toFixed(0).padStart(3)}% ` +
      `${fmt(c.peticiones)} pet · ${fmt(ventana > 0 ? ultimas.length / ventana : 0)}/s (objetivo ${fmt(estado.ritmoObjetivo)}) · en vuelo ${estado.enVuelo} · ` +
      `200 ${fmt(c.respuestas200)} (replay ${fmt(c.replays)}) · 422 ${fmt(c.r422)} · 5xx/red ${fmt(c.transitorios)} · ` +
      `finales ${fmt((u?.EXITOSO ?? 0) + (u?.FALLIDO ?? 0))}/${fmt(plan.pagos.length)} · outbox ${fmt(u?.outboxPendiente ?? 0)} · cola ${fmt(u?.cola ?? 0)} · ` +
      `fallos C ${hechos['matar-consumidor']} R ${hechos['matar-relay-lider']} PG ${hechos['reiniciar-postgres']}+${hechos['matar-postgres']} · ${seg().toFixed(0)} s`
    );
  });

  let cargaTerminada = false;
  const inyector = (async () => {
    if (!topologia || !pool || fallosProcesos.length === 0) return;
    // Los fallos caen en la carga mantenida: la rampa mide la capacidad sin ellos.
    while (!cargaTerminada && control.fase() === 'rampa') await dormir(200);
    const base = estado.despachadas;
    for (const f of fallosProcesos) {
      while (!cargaTerminada && (estado.despachadas - base) / Math.max(1, costePrincipal - base) < f.fraccion) await dormir(200);
      const marca = await inyectarFallo(f, topologia, pool, seg());
      marcas.push(marca);
      if (!marca.error) hechos[f.tipo] += 1;
      progreso.limpiar();
      decir(
        `t=${marca.segundo.toFixed(0)} s ${f.tipo}: ${marca.error ? `NO SE PUDO: ${marca.error}` : `${marca.detalle}; todo listo de nuevo en ${((marca.recuperacionMs ?? 0) / 1000).toFixed(1)} s`}`,
      );
    }
  })();

  // La suspensión a mitad de la carga principal (reintentada si la base está caída en ese momento).
  const suspensor = (async () => {
    if (!suspendido) return;
    while (!cargaTerminada && estado.despachadas / Math.max(1, costePrincipal) < FRACCION_SUSPENSION) await dormir(100);
    for (let intento = 1; ; intento += 1) {
      try {
        await admin.suspender(suspendido.id);
        suspension.confirmadaEn = performance.now();
        const { rows } = await bd.query<{ ahora: Date }>('SELECT now() AS ahora');
        confirmadaEnBase = rows[0]?.ahora;
        break;
      } catch (error) {
        if (intento >= 10) throw error;
        await dormir(2000);
      }
    }
    marcas.push({ segundo: seg(), tipo: 'suspender-socio', detalle: `socio ${suspendido.id} suspendido con la carga a medias` });
    progreso.limpiar();
    decir(`t=${seg().toFixed(0)} s socio ${suspendido.id} suspendido: desde ahora sus peticiones deben recibir 403`);
  })();

  // Cortes a mitad de los streams de todos los socios: deben reconectar con Last-Event-ID sin perder ni repetir.
  const cortador = (async () => {
    for (const fraccion of CORTES_STREAM) {
      while (!cargaTerminada && estado.despachadas / Math.max(1, costePrincipal) < fraccion) await dormir(200);
      if (cargaTerminada) return;
      const n = trazabilidad.cortarStreams();
      marcas.push({ segundo: seg(), tipo: 'cortar-stream', detalle: `${n} streams SSE cortados a mitad (socket destruido)` });
    }
  })();

  // Conversiones durante la carga mantenida, repartidas a lo largo de ella, y liquidaciones cada poco.
  const cargaConversiones = crearCargaConversiones({
    url: urlApi,
    plan: planConversiones,
    socios,
    suspension,
    concurrencia: CONVERSIONES_EN_VUELO,
  });
  const ejecuciones: EjecucionObservada[] = [];
  const liquidar = liquidacionesPorCli(RAIZ, databaseUrl);
  let baseMantenida: number | undefined;
  const avanceMantenida = () => {
    if (control.fase() === 'rampa') return 0;
    baseMantenida ??= estado.despachadas;
    return (estado.despachadas - baseMantenida) / Math.max(1, costePrincipal - baseMantenida);
  };
  let conversionesEnviadas = !hayConversiones;
  const conversionesPrincipal = hayConversiones
    ? cargaConversiones.principal(avanceMantenida, () => cargaTerminada).finally(() => (conversionesEnviadas = true))
    : Promise.resolve();
  const liquidacionesDurante = hayConversiones
    ? liquidarDuranteLaCarga({
        ejecutar: liquidar,
        corrida,
        cadaS: o.liquidacionesCadaS,
        empezar: () => control.fase() !== 'rampa',
        terminada: () => cargaTerminada && conversionesEnviadas,
        anotar: (e) => ejecuciones.push(e),
      })
    : Promise.resolve();
  const revertidor = (async () => {
    while (hayConversiones && !(cargaTerminada && conversionesEnviadas)) {
      await cargaConversiones.revertirLasPagadas().catch(() => undefined);
      await dormir(3000);
    }
  })();

  const inicioCarga = performance.now();
  await ejecutor.cargaPrincipal();
  cargaTerminada = true;
  await conversionesPrincipal;
  await Promise.all([liquidacionesDurante, revertidor]);
  await suspensor;
  await cortador;
  control.detener();
  const capacidad: MedidaCapacidad | undefined = await control.medida;
  const finCarga = seg();
  const peticionesCarga = estado.contadores.peticiones;
  const duracionCarga = (performance.now() - inicioCarga) / 1000;
  await inyector;
  progreso.limpiar();
  decir(`carga principal enviada en ${duracionCarga.toFixed(1)} s; esperando a que el pipeline se vacíe (máx. ${o.drenajeS} s)…`);

  // ── Drenaje ────────────────────────────────────────────────────────────────
  fase = 'drenaje';
  const aceptadas = aceptadasPorSocio(observaciones);
  let drenado = false;
  if (pool) {
    const limite = Date.now() + o.drenajeS * 1000;
    while (Date.now() < limite) {
      const u = muestreo.ultimo();
      if (
        u &&
        u.EXITOSO + u.FALLIDO >= aceptadas &&
        u.PENDIENTE + u.PROCESANDO === 0 &&
        u.outboxPendiente === 0 &&
        u.cola === 0 &&
        u.segundo > seg() - 3
      ) {
        drenado = true;
        break;
      }
      await dormir(500);
    }
  }
  const finDrenaje = seg();
  progreso.limpiar();
  decir(
    drenado
      ? `pipeline vacío en ${(finDrenaje - finCarga).toFixed(1)} s`
      : 'el pipeline no se vació a tiempo (o no hay base que mirar): el veredicto lo dirá',
  );

  // ── Conversiones: liquidaciones finales hasta que no quede nada, réplicas tardías y drenaje ──
  let liquidacionFinal = { rondas: 0, estable: true };
  if (hayConversiones) {
    fase = 'liquidaciones';
    liquidacionFinal = await liquidarHastaEstabilizar({
      bd,
      socios: idsSocios,
      ejecutar: liquidar,
      corrida,
      maxRondas: RONDAS_FINALES,
      revertirLasPagadas: cargaConversiones.revertirLasPagadas,
      revertirLasDemas: cargaConversiones.revertirLasDemas,
      anotar: (e) => ejecuciones.push(e),
      decir: (t) => {
        progreso.limpiar();
        decir(t);
      },
    });
    await cargaConversiones.tardias();
    const limite = Date.now() + o.drenajeS * 1000;
    for (;;) {
      const u = muestreo.ultimo();
      if (u && u.PENDIENTE + u.PROCESANDO === 0 && u.outboxPendiente === 0 && u.cola === 0 && u.segundo > seg() - 3) break;
      if (Date.now() > limite) break;
      await dormir(500);
    }
  }

  // ── Réplicas tardías de pagos ya terminados ────────────────────────────────
  fase = 'tardías';
  estado.despachadas = 0;
  await ejecutor.replicasTardias();
  // ── Lecturas de muestreo: cada socio lee lo suyo y no ve lo de otro ──
  fase = 'lecturas';
  const consultas = await consultarAmbito(ejecutor.cliente, socios, observaciones, {
    muestrasPorSocio: MUESTRAS_AMBITO,
    suspendido: suspendido?.id,
  });
  ejecutor.cerrar();
  await dormir(2000);
  progreso.parar();
  await muestreo.parar();
  decir('esperando a que el stream y los webhooks de cada socio alcancen al registro de eventos…');
  const trazaAlDia = await trazabilidad.esperarAlDia(bd, o.drenajeS);
  if (!trazaAlDia) decir('el stream o los webhooks no alcanzaron al registro a tiempo: el veredicto lo dirá');

  // ── Veredicto ──────────────────────────────────────────────────────────────
  decir('juzgando (desde fuera y desde dentro)…');
  const fuera = paraVeredicto(observaciones);
  const suspensionObservada: SuspensionObservada | undefined =
    suspendido && confirmadaEnBase ? { idSocio: suspendido.id, confirmadaEnBase, tras: suspension.tras } : undefined;
  const veredictoPagos = await juzgar(bd, {
    socios: idsSocios,
    suscripcion: SUSCRIPCION,
    desde,
    plazoMs: o.plazoS * 1000,
    venenos,
    fuera,
    consultas,
    ...(suspensionObservada ? { suspension: suspensionObservada } : {}),
  });
  const veredictoConTraza = conTrazabilidad(veredictoPagos, await trazabilidad.juzgar(bd, suspendido?.id));
  const conversiones = hayConversiones
    ? juzgarConversiones({
        plan: planConversiones,
        socios: idsSocios,
        ...(suspendido ? { suspendido: suspendido.id } : {}),
        observaciones: cargaConversiones.observaciones,
        datos: await leerDatosConversiones({ bd, pool: bd, socios, plan: planConversiones, carga: cargaConversiones }),
      })
    : undefined;
  cargaConversiones.cerrar();
  const veredicto = conversiones ? conConversiones(veredictoConTraza, conversiones) : veredictoConTraza;

  // ── Informe ────────────────────────────────────────────────────────────────
  const informe = componerInforme({
    corrida,
    fecha: ahora,
    opciones: o,
    montaje: {
      Topología: local
        ? `local (supervisor de pnpm start${topologia?.propia ? ', arrancado por el experimento' : ', ya en marcha'}): ${(['api', 'outbox', 'consumer'] as const).map((s) => `${s}×${topologia?.instancias(s).length ?? 0}`).join(', ')}, ${brokerEmbebido ? 'broker embebido' : 'Pulsar'}`
        : `remota: ${urlApi}`,
      Socios:
        `${o.socios} socios de verdad (clave Bearer de cada uno, creados para la corrida), con las mismas referencias y cuerpos` +
        `${firmante ? `; ${firmante.id} firma cada petición (Standard Webhooks)` : ''}` +
        `${suspendido ? `; ${suspendido.id} se suspende con el ${Math.round(FRACCION_SUSPENSION * 100)} % de la carga enviado (${fmt(suspension.tras.length)} peticiones suyas después)` : ''}` +
        `; ${fmt(consultas.length)} lecturas de muestreo del ámbito`,
      Barrendero: topologia?.propia
        ? `re-impulsa los PENDIENTE y PROCESANDO atascados más de ${BARRENDERO.umbralS} s, una pasada cada ${BARRENDERO.periodoS} s`
        : 'el de la topología en marcha',
      propia: topologia?.propia ?? false,
      local,
    },
    plan,
    peticionesPorPago,
    estado,
    muestreo,
    marcas,
    venenos: venenos.length,
    veredicto,
    capacidad,
    enBase: await contarEnLaBase(bd, idsSocios),
    trazabilidad: trazabilidad.medidas(),
    ...(conversiones
      ? {
          conversiones: medidasConversiones({
            plan: planConversiones,
            contadores: cargaConversiones.contadores,
            ejecuciones,
            final: liquidacionFinal,
            cifras: conversiones.cifras,
          }),
        }
      : {}),
    ambito: {
      peticionesTrasSuspension: suspension.tras.length,
      respuestas403TrasSuspension: suspension.tras.filter((t) => t.estado === 403).length,
      lecturas: consultas.length,
      lecturasDeOtroSocio: consultas.filter((x) => x.esperado === 404).length,
    },
    tiempos: {
      duracionCarga,
      finCarga,
      finDrenaje,
      drenado,
      total: seg(),
      ritmoMantenido: (peticionesCarga - inicioMantenida.peticiones) / Math.max(0.001, finCarga - inicioMantenida.segundo),
    },
  });
  const json = path.join(carpeta, 'informe.json');
  const html = path.join(carpeta, 'informe.html');
  writeFileSync(json, `${JSON.stringify(informe, null, 2)}\n`);
  writeFileSync(html, paginaHtml(informe));
  process.stdout.write(`\n${tablaTexto(informe)}\n\n`);
  decir(`informe: ${path.relative(process.cwd(), json)} y ${path.relative(process.cwd(), html)}`);
  decir(veredicto.aprobado ? 'APROBADO: cero violaciones' : `SUSPENDIDO: ${veredicto.violaciones.length} regla(s) incumplida(s)`);
  return veredicto.aprobado ? 0 : 1;
}
