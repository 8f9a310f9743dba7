import { randomUUID } from 'node:crypto';
import {
  LiderRelay,
  PostgresAdministracionSocios,
  PostgresAlmacenOutbox,
  PostgresAutenticadorDeClaves,
  PostgresInboxPagos,
  PostgresTurnosCobro,
  atencionTrazada,
  crearBrokerEmbebido,
  crearPasarelaSimulada,
  crearPersistenciaPostgres,
  iniciarTelemetria,
  leerSobre,
  prepararPasarelaSimulada,
  publicadorTrazado,
  sobreDeFila,
  uuidv7,
  type PersistenciaPostgres,
  type PostgresBroker,
  type Telemetria,
} from '@aeropartners/adaptadores';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import { crearConsumidor, crearManejadorEventos, crearRelay, type Consumidor } from '@aeropartners/aplicacion';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerEnMemoria } from '../test/app-de-prueba.js';
import { crearApp } from './app.js';
import { crearManejadores } from './manejadores.js';
import { nuevoIdSolicitud } from './solicitud.js';
import { servirEnPuertoLibre, type ServidorDePrueba } from '../test/servidor-de-prueba.js';

/**
 * Una traza a través de las tres etapas (issue 13, punto 7), con un exportador en memoria: la API real
 * servida en un puerto (su span servidor lo crea la instrumentación de `http`), el relay (`crearRelay`
 * con el publicador trazado, como el servicio outbox) sobre el broker embebido y el consumidor
 * (`crearConsumidor` con su span de proceso, como el servicio consumer) sobre PostgreSQL real. UN pago:
 * el span de la API, su contexto en la fila del outbox y en la propiedad `traceparent` del mensaje, el
 * span `send` del relay enlazado a él y el span `process` del consumidor hijo de él y enlazado.
 */

const TOPICO = 'pagos';
const SUSCRIPCION = 'consumidor-pagos';
const DESTINO = { sistema: 'aeropartners_embebido', topico: TOPICO };
const TRAZA_CLIENTE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_CLIENTE = '00f067aa0ba902b7';

const exportador = new InMemorySpanExporter();
let telemetria: Telemetria;
let base: BaseDePrueba;
let persistencia: PersistenciaPostgres;
let autenticador: PostgresAutenticadorDeClaves;
let broker: PostgresBroker;
let servidor: ServidorDePrueba | undefined;
let url: string;
const cierres: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  telemetria = await iniciarTelemetria({}, { servicio: 'prueba-traza', exportador });
  base = await crearBaseDePrueba();
  persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 8 });
  await prepararPasarelaSimulada(persistencia.pool);
  autenticador = new PostgresAutenticadorDeClaves({ pool: persistencia.pool, url: base.url });
  await autenticador.iniciar();
  broker = await crearBrokerEmbebido({ url: base.url, topico: TOPICO, suscripciones: [SUSCRIPCION], intervaloSondeoMs: 20 });
  const app = crearApp({
    manejadores: crearManejadores({ ...persistencia, reloj: { ahora: () => new Date() }, nuevoId: uuidv7 }),
    comprobarSalud: () => persistencia.comprobarSalud(),
    logger: loggerEnMemoria(),
    autenticador,
    nuevoIdCorrelacion: randomUUID,
    nuevoIdSolicitud,
    limiteRps: 1_000_000,
  });
  servidor = await servirEnPuertoLibre(app.fetch);
  url = servidor.url;
});

afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
  await servidor?.cerrar();
  await broker?.cerrar();
  await autenticador?.cerrar();
  await persistencia?.cerrar();
  await base?.cerrar();
  await telemetria?.cerrar();
});

/** El relay del servicio outbox: líder, publicador trazado y `sobreDeFila`; publica lo que haya. */
async function publicarLoPendiente(): Promise<void> {
  const lider = await LiderRelay.esperar(
    { url: base.url, claveCerrojo: 4242, canal: 'outbox_nuevo', intervaloEsperaMs: 50, alPerder: () => {} },
    new AbortController().signal,
  );
  if (!lider) throw new Error('sin liderazgo');
  cierres.push(() => lider.cerrar());
  const publicador = await broker.crearPublicador('relay-traza');
  cierres.push(() => publicador.cerrar());
  const relay = crearRelay({
    almacen: new PostgresAlmacenOutbox(persistencia.pool),
    publicador: publicadorTrazado(publicador, DESTINO),
    aMensaje: sobreDeFila,
    cerca: lider.cerca,
    tamanoLote: 50,
    esperarAviso: async () => {},
    intervaloSondeoMs: 1,
    backoffBaseMs: 1,
    backoffMaximoMs: 1,
  });
  expect((await relay.preparar()).tipo).toBe('listo');
  while ((await relay.publicarUnLote()).tipo === 'publicado');
}

/** El consumidor del servicio consumer: el de aplicacion con el sobre del relay y el span de proceso. */
async function consumir(): Promise<Consumidor> {
  const suscripcion = await broker.suscribir({ suscripcion: SUSCRIPCION, maximoEntregas: 5, retrasoReentregaMs: 50 });
  const pasarela = crearPasarelaSimulada({
    pool: persistencia.pool,
    latenciaMinMs: 0,
    latenciaMaxMs: 0,
    tasaRechazo: 0,
    tasaTransitorio: 0,
    semilla: 'traza',
  });
  const consumidor = crearConsumidor({
    suscripcion,
    enVuelo: 4,
    leerSobre,
    crearManejador: ({ alReintentar }) =>
      crearManejadorEventos({
        suscripcion: SUSCRIPCION,
        repositorio: persistencia.repositorio,
        inbox: new PostgresInboxPagos(persistencia.pool),
        pasarela,
        turnos: new PostgresTurnosCobro(persistencia.pool, persistencia.repositorio),
        titular: randomUUID(),
        duracionTurnoMs: 15_000,
        reloj: { ahora: () => new Date() },
        nuevoId: uuidv7,
        intentosPasarela: 2,
        backoffPasarelaMs: 1,
        alReintentar,
      }),
    envolverAtencion: atencionTrazada(DESTINO, SUSCRIPCION),
  });
  consumidor.iniciar();
  cierres.push(() => consumidor.detener({ tiempoMaximoMs: 2_000 }));
  return consumidor;
}

async function esperarHasta(condicion: () => boolean, que: string): Promise<void> {
  const limite = Date.now() + 20_000;
  while (!condicion()) {
    if (Date.now() > limite) throw new Error(`Tiempo agotado esperando ${que}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const esPg = (s: ReadableSpan) => s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system'] === 'postgresql';

describe('una traza a través de la API, el relay y el consumidor', () => {
  it('el span de la API, su contexto en el outbox y en el mensaje, el send del relay y el process del consumidor de UN pago', async () => {
    const socio = await new PostgresAdministracionSocios(persistencia.pool).crear(
      { nombre: `socio ${randomUUID()}`, firmaObligatoria: false, limiteRps: null, modo: 'live' },
      new Date(),
    );
    if (!socio.ok) throw new Error(JSON.stringify(socio.error));
    const respuesta = await fetch(`${url}/pagos`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${socio.valor.clave.claveEnClaro}`,
        'Content-Type': 'application/json',
        traceparent: `00-${TRAZA_CLIENTE}-${SPAN_CLIENTE}-01`,
      },
      body: JSON.stringify({ id_afiliado: 'afiliado-traza', monto: 12.34, moneda: 'USD', referencia_pago: `ref-${randomUUID()}` }),
    });
    expect(respuesta.status).toBe(200);
    const { id_pago: idPago } = (await respuesta.json()) as { id_pago: string };

    // La API: un span servidor con semántica HTTP que continúa la traza del cliente.
    await esperarHasta(() => exportador.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER), 'el span de la API');
    const servidores = exportador.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    expect(servidores).toHaveLength(1);
    const api = servidores[0]!;
    expect(api.spanContext().traceId).toBe(TRAZA_CLIENTE);
    expect(api.parentSpanContext?.spanId).toBe(SPAN_CLIENTE);
    expect(api.name).toBe('POST /pagos');
    expect(api.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/pagos',
      'http.route': '/pagos',
      'http.response.status_code': 200,
      'aeropartners.id_pago': idPago,
    });
    const traceparentApi = `00-${TRAZA_CLIENTE}-${api.spanContext().spanId}-01`;
    // Sus consultas a PostgreSQL, dentro de su traza (instrumentación de pg).
    expect(exportador.getFinishedSpans().some((s) => esPg(s) && s.spanContext().traceId === TRAZA_CLIENTE)).toBe(true);

    // Su contexto, guardado con la fila del outbox (en los metadatos de siempre).
    const { rows } = await persistencia.pool.query<{ traceparent: string }>({
      text: "SELECT metadatos->>'traceparent' AS traceparent FROM outbox WHERE id_agregado = $1 AND tipo = 'PagoPendiente'",
      values: [idPago],
    });
    expect(rows).toEqual([{ traceparent: traceparentApi }]);

    // El relay: un span productor por lote con un link al span de la API.
    await publicarLoPendiente();
    const envios = exportador.getFinishedSpans().filter((s) => s.kind === SpanKind.PRODUCER);
    expect(envios.length).toBeGreaterThanOrEqual(1);
    const envio = envios.find((s) => s.links.some((l) => l.context.spanId === api.spanContext().spanId));
    expect(envio?.name).toBe(`send ${TOPICO}`);
    expect(envio?.attributes).toMatchObject({
      'messaging.system': 'aeropartners_embebido',
      'messaging.destination.name': TOPICO,
      'messaging.operation.type': 'send',
    });
    // El INSERT del broker embebido cuelga del span del relay.
    expect(exportador.getFinishedSpans().some((s) => esPg(s) && s.parentSpanContext?.spanId === envio?.spanContext().spanId)).toBe(true);

    // El consumidor: el span de proceso del PagoPendiente, hijo del de la API y enlazado a él.
    const consumidor = await consumir();
    await esperarHasta(() => consumidor.contadores().procesados >= 1, 'el pago procesado');
    const procesos = exportador
      .getFinishedSpans()
      .filter((s) => s.kind === SpanKind.CONSUMER && s.attributes['aeropartners.id_pago'] === idPago);
    const proceso = procesos.find((s) => s.attributes['aeropartners.tipo_evento'] === 'PagoPendiente');
    expect(proceso?.name).toBe(`process ${TOPICO}`);
    expect(proceso?.spanContext().traceId).toBe(TRAZA_CLIENTE);
    expect(proceso?.parentSpanContext?.spanId).toBe(api.spanContext().spanId);
    expect(proceso?.links.map((l) => `${l.context.traceId}-${l.context.spanId}`)).toEqual([`${TRAZA_CLIENTE}-${api.spanContext().spanId}`]);
    expect(proceso?.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.destination.subscription.name': SUSCRIPCION,
      'aeropartners.desenlace': 'procesado',
    });
    // Lo que hizo el consumidor en PostgreSQL cuelga de su span de proceso.
    expect(exportador.getFinishedSpans().some((s) => esPg(s) && s.parentSpanContext?.spanId === proceso?.spanContext().spanId)).toBe(true);
  });
});
