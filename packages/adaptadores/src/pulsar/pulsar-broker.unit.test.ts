import { sobreDeFila } from '../mensajeria/sobre-evento.js';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MensajeEntrante, MensajeSaliente } from '@aeropartners/aplicacion';
import { crearRelay } from '@aeropartners/aplicacion';
import { AlmacenOutboxEnMemoria } from '@aeropartners/aplicacion/testing';
import { probarContratoBroker } from '@aeropartners/contratos';
import type { Client, Consumer, Message, Producer } from 'pulsar-client';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  MENSAJE_SIN_BINARIO_PULSAR,
  clientesPulsarRetenidos,
  crearFabricaClientePulsar,
  type ClientePulsar,
  type ConsumidorPulsar,
  type MensajePulsar,
  type ProductorPulsar,
} from './cliente-pulsar.js';
import { crearBrokerPulsar, type OpcionesBrokerPulsar } from './pulsar-broker.js';
import { esIdDeDuplicado } from './pulsar-publicador.js';
import { PulsarFalso, type OpcionesPulsarFalso } from '@aeropartners/contratos/pulsar';

const TOPICO = 'persistent://public/default/eventos-pagos';
const URL_FALSA = 'pulsar://pulsar-falso:6650';

async function brokerFalso(opcionesFalso: OpcionesPulsarFalso = {}, opciones: Partial<OpcionesBrokerPulsar> = {}) {
  const falso = new PulsarFalso({ semilla: 7, ...opcionesFalso });
  const broker = await crearBrokerPulsar({
    url: URL_FALSA,
    topico: TOPICO,
    crearCliente: falso.crearCliente,
    esperaLecturaMuertosMs: 30,
    pausaReintentoMs: 1,
    ...opciones,
  });
  return { falso, broker };
}

function mensaje(clave: string, secuencia: number, extra: Partial<MensajeSaliente> = {}): MensajeSaliente {
  return {
    clave,
    secuencia,
    cuerpo: JSON.stringify({ clave, secuencia }),
    propiedades: {
      id_evento: `ev-${secuencia}`,
      tipo: 'PagoPendiente',
      version: '1',
      id_correlacion: `corr-${secuencia}`,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
    ...extra,
  };
}

async function recibir(s: { recibir(): Promise<MensajeEntrante | null> }): Promise<MensajeEntrante> {
  const m = await s.recibir();
  if (m === null) throw new Error('suscripción cerrada');
  return m;
}

// La suite de contrato del puerto, contra el adaptador con el cliente falso: limpio…
probarContratoBroker('Pulsar (cliente falso)', async () => {
  const { broker } = await brokerFalso();
  return { broker };
});

// …y con fallos inyectados que el contrato tolera: reordenación entre claves y envíos que vencen
// (reintentados con la misma secuencia). Al final se comprueba que los fallos ocurrieron de verdad.
const conFallos: PulsarFalso[] = [];
probarContratoBroker(
  'Pulsar (cliente falso: reordena entre claves y falla envíos)',
  async () => {
    const { falso, broker } = await brokerFalso(
      { semilla: 11 + conFallos.length, reordenar: 0.3, fallarEnvios: { probabilidad: 0.05, modo: 'mixto' } },
      { tiempoEsperaEnvioMs: 20, reintentosEnvio: 20 },
    );
    conFallos.push(falso);
    return { broker };
  },
  { reenviosInciertos: true },
);
afterAll(() => {
  const total = (clave: 'enviosFallidos' | 'reordenados' | 'descartadosPorDuplicado') =>
    conFallos.reduce((suma, f) => suma + f.estadisticas[clave], 0);
  expect(conFallos.length).toBeGreaterThan(0);
  expect(total('enviosFallidos')).toBeGreaterThan(0);
  expect(total('reordenados')).toBeGreaterThan(0);
});

describe('PulsarBroker: configuración del cliente', () => {
  it('la interfaz mínima ClientePulsar la cumple el Client real de pulsar-client', () => {
    expectTypeOf<Client>().toExtend<ClientePulsar>();
    expectTypeOf<Producer>().toExtend<ProductorPulsar>();
    expectTypeOf<Consumer>().toExtend<ConsumidorPulsar>();
    expectTypeOf<Message>().toExtend<MensajePulsar>();
  });

  it('productor: nombre fijo, sin lotes, Murmur3_32Hash y sendTimeoutMs > 0', async () => {
    const { falso, broker } = await brokerFalso();
    await broker.crearPublicador('relay-0');
    expect(falso.configuracionesProductor()).toEqual([
      expect.objectContaining({
        topic: TOPICO,
        producerName: 'relay-0',
        batchingEnabled: false,
        hashingScheme: 'Murmur3_32Hash',
        sendTimeoutMs: 10_000,
        blockIfQueueFull: true,
      }),
    ]);
    expect(falso.configuracionesCliente()).toEqual([expect.objectContaining({ serviceUrl: URL_FALSA })]);
    await broker.cerrar();
  });

  it('productor con lotes por clave: KeyBasedBatching, nunca los lotes por defecto', async () => {
    const { falso, broker } = await brokerFalso({}, { lotes: 'por-clave', tiempoEsperaEnvioMs: 2_500 });
    const p = await broker.crearPublicador('relay-0');
    await p.publicar([mensaje('pago-1', 1), mensaje('pago-2', 2)]);
    const [config] = falso.configuracionesProductor();
    expect(config).toMatchObject({
      batchingEnabled: true,
      batchingType: 'KeyBasedBatching',
      hashingScheme: 'Murmur3_32Hash',
      sendTimeoutMs: 2_500,
    });
    expect(falso.mensajes(TOPICO)).toHaveLength(2);
    await broker.cerrar();
  });

  it('rechaza sendTimeoutMs 0 (el cliente lo ignoraría), un ackTimeout < 10 s y una URL que no es pulsar://', async () => {
    const falso = new PulsarFalso();
    const base = { url: URL_FALSA, topico: TOPICO, crearCliente: falso.crearCliente };
    await expect(crearBrokerPulsar({ ...base, tiempoEsperaEnvioMs: 0 })).rejects.toThrow(/tiempoEsperaEnvioMs/);
    await expect(crearBrokerPulsar({ ...base, tiempoEsperaEnvioMs: -5 })).rejects.toThrow(/tiempoEsperaEnvioMs/);
    await expect(crearBrokerPulsar({ ...base, tiempoEsperaConfirmacionMs: 5_000 })).rejects.toThrow(/10000/);
    await expect(crearBrokerPulsar({ ...base, url: 'http://localhost:8080' })).rejects.toThrow(/URL de Pulsar inválida/);
    expect(falso.configuracionesCliente()).toHaveLength(0);
  });

  it('consumidor: Key_Shared desde Earliest, nack con el retraso de la suscripción y política de mensajes muertos', async () => {
    const { falso, broker } = await brokerFalso({}, { tiempoEsperaConfirmacionMs: 30_000, tamanoColaReceptor: 100 });
    const s = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 4, retrasoReentregaMs: 250 });
    const configs = falso.configuracionesConsumidor();
    // La primera: la suscripción que retiene la cola de mensajes muertos (se crea y se cierra).
    expect(configs[0]).toMatchObject({
      topic: `${TOPICO}-consumidor-DLQ`,
      subscription: 'consumidor-muertos',
      subscriptionInitialPosition: 'Earliest',
    });
    expect(configs[1]).toEqual({
      topic: TOPICO,
      subscription: 'consumidor',
      subscriptionType: 'KeyShared',
      subscriptionInitialPosition: 'Earliest',
      keySharedPolicy: { keyShareMode: 'AutoSplit' },
      nAckRedeliverTimeoutMs: 250,
      ackTimeoutMs: 30_000,
      receiverQueueSize: 100,
      deadLetterPolicy: {
        deadLetterTopic: `${TOPICO}-consumidor-DLQ`,
        maxRedeliverCount: 3,
        initialSubscriptionName: 'consumidor-muertos',
      },
    });
    await s.cerrar();
    await broker.cerrar();
  });

  it('en el cable: clave = id del pago, sequenceId = secuencia, propiedades de trazabilidad', async () => {
    const { falso, broker } = await brokerFalso();
    const p = await broker.crearPublicador('relay-0');
    await p.publicar([mensaje('pago-7', 41), mensaje('pago-8', 42)]);
    expect(
      falso.mensajes(TOPICO).map((m) => ({ clave: m.clave, secuencia: m.secuencia, productor: m.productor, props: m.propiedades })),
    ).toEqual([
      {
        clave: 'pago-7',
        secuencia: 41,
        productor: 'relay-0',
        props: expect.objectContaining({
          id_evento: 'ev-41',
          tipo: 'PagoPendiente',
          version: '1',
          id_correlacion: 'corr-41',
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        }),
      },
      { clave: 'pago-8', secuencia: 42, productor: 'relay-0', props: expect.objectContaining({ id_evento: 'ev-42' }) },
    ]);
    expect(await p.ultimaSecuenciaAceptada()).toBeNull();
    await broker.cerrar();
  });
});

describe('PulsarBroker: secuencias', () => {
  it('una secuencia BIGINT como cadena fuera de Number.MAX_SAFE_INTEGER se rechaza antes de enviar nada', async () => {
    const { falso, broker } = await brokerFalso();
    const p = await broker.crearPublicador('relay-0');
    const desdePg = '9007199254740993' as unknown as number; // pg devuelve BIGINT como string
    await expect(p.publicar([mensaje('pago-1', 1), mensaje('pago-1', desdePg)])).rejects.toThrow(
      /Secuencia de publicación inválida.*"9007199254740993"/,
    );
    for (const mala of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2, '12abc', '007', ''] as unknown as number[]) {
      await expect(p.publicar([mensaje('pago-1', mala)])).rejects.toThrow(/Secuencia de publicación inválida/);
    }
    expect(falso.envios()).toEqual([]);
    await broker.cerrar();
  });

  it('una cadena decimal que cabe exacta se acepta como número (sequenceId nunca viaja como string)', async () => {
    const { falso, broker } = await brokerFalso();
    const p = await broker.crearPublicador('relay-0');
    await p.publicar([mensaje('pago-1', '42' as unknown as number), mensaje('pago-1', Number.MAX_SAFE_INTEGER)]);
    expect(falso.mensajes(TOPICO).map((m) => m.secuencia)).toEqual([42, Number.MAX_SAFE_INTEGER]);
    await broker.cerrar();
  });

  it('secuencias no crecientes en un lote se rechazan sin enviar (el broker descartaría la menor)', async () => {
    const { falso, broker } = await brokerFalso();
    const p = await broker.crearPublicador('relay-0');
    await expect(p.publicar([mensaje('pago-1', 5), mensaje('pago-2', 5)])).rejects.toThrow(/no crecientes/);
    await expect(p.publicar([mensaje('pago-1', 5), mensaje('pago-2', 4)])).rejects.toThrow(/no crecientes/);
    expect(falso.envios()).toEqual([]);
    await broker.cerrar();
  });

  it('publicaciones concurrentes se serializan: una secuencia menor nunca llega detrás de una mayor', async () => {
    const { falso, broker } = await brokerFalso();
    const p = await broker.crearPublicador('relay-0');
    await Promise.all([p.publicar([mensaje('a', 1), mensaje('a', 2)]), p.publicar([mensaje('b', 3), mensaje('b', 4)])]);
    expect(falso.mensajes(TOPICO).map((m) => m.secuencia)).toEqual([1, 2, 3, 4]);
    expect(falso.estadisticas.descartadosPorDuplicado).toBe(0);
    await broker.cerrar();
  });
});

describe('PulsarBroker: envíos fallidos', () => {
  it('un envío que vence sin persistirse se reintenta con la MISMA secuencia y se persiste una vez', async () => {
    const { falso, broker } = await brokerFalso({}, { tiempoEsperaEnvioMs: 20 });
    const s = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 3, retrasoReentregaMs: 10 });
    const p = await broker.crearPublicador('relay-0');
    falso.fallarSiguientesEnvios(1, 'sin-persistir');
    await p.publicar([mensaje('pago-1', 1), mensaje('pago-1', 2), mensaje('pago-2', 3)]);

    // El atasco tumba el envío 1 y los que se encolaron detrás; el reintento reusa 1, 2, 3.
    expect(falso.envios().map((e) => `${e.secuencia}:${e.resultado}`)).toEqual([
      '1:fallido',
      '2:fallido',
      '3:fallido',
      '1:persistido',
      '2:persistido',
      '3:persistido',
    ]);
    expect(falso.mensajes(TOPICO).map((m) => m.secuencia)).toEqual([1, 2, 3]);
    const recibidos = [await recibir(s), await recibir(s), await recibir(s)].map((m) => m.secuencia).sort();
    expect(recibidos).toEqual([1, 2, 3]);
    await broker.cerrar();
  });

  it('si el broker persistió pero la confirmación se perdió, el reintento con la misma secuencia lo deduplica', async () => {
    const { falso, broker } = await brokerFalso({}, { tiempoEsperaEnvioMs: 20 });
    const s = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 3, retrasoReentregaMs: 10 });
    const p = await broker.crearPublicador('relay-0');
    falso.fallarSiguientesEnvios(1, 'sin-confirmacion');
    // El reenvío vuelve duplicado (-1:-1), pero es el eco del primer envío, que sí entró: aceptados.
    expect(await p.publicar([mensaje('pago-1', 1), mensaje('pago-1', 2)])).toEqual(['aceptado', 'aceptado']);

    expect(falso.envios().map((e) => `${e.secuencia}:${e.resultado}`)).toEqual([
      '1:fallido',
      '2:fallido',
      '1:descartado-por-duplicado',
      '2:descartado-por-duplicado',
    ]);
    expect(falso.mensajes(TOPICO).map((m) => m.secuencia)).toEqual([1, 2]);
    const primero = await recibir(s);
    const segundo = await recibir(s);
    expect([primero.secuencia, segundo.secuencia]).toEqual([1, 2]);
    await s.confirmar(primero);
    await s.confirmar(segundo);
    expect(falso.atrasados(TOPICO, 'consumidor')).toBe(0);
    await broker.cerrar();
  });

  it('agotados los reintentos rechaza diciendo qué secuencias faltan; el reintento del llamante es seguro', async () => {
    const { falso, broker } = await brokerFalso({}, { tiempoEsperaEnvioMs: 10, reintentosEnvio: 1 });
    const p = await broker.crearPublicador('relay-0');
    falso.fallarSiguientesEnvios(2, 'sin-confirmacion');
    const error = await p.publicar([mensaje('pago-1', 1), mensaje('pago-1', 2)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/no confirmó 2 de 2 mensajes .*secuencias 1, 2.* tras 2 intentos/);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(((error as Error).cause as Error).message).toBe('Failed to send message: TimeOut');

    await p.publicar([mensaje('pago-1', 1), mensaje('pago-1', 2)]);
    expect(falso.mensajes(TOPICO).map((m) => m.secuencia)).toEqual([1, 2]);
    await broker.cerrar();
  });

  it('si un envío falla y uno posterior se confirma, no lo da por publicado (la dedup lo descartaría)', async () => {
    // Un cliente que falla solo el segundo envío (como un error local de tamaño): el falso fiel no lo hace.
    const enviados: number[] = [];
    const productor: ProductorPulsar = {
      send: (m) => {
        enviados.push(m.sequenceId!);
        return m.sequenceId === 2
          ? Promise.reject(new Error('Failed to send message: MessageTooBig'))
          : Promise.resolve({ toString: () => '(1,1,-1,-1)' });
      },
      flush: () => Promise.resolve(null),
      close: () => Promise.resolve(null),
      getProducerName: () => 'relay-0',
      getTopic: () => TOPICO,
    };
    const cliente: ClientePulsar = {
      createProducer: () => Promise.resolve(productor),
      subscribe: () => Promise.reject(new Error('sin consumidores')),
      close: () => Promise.resolve(null),
    };
    const broker = await crearBrokerPulsar({ url: URL_FALSA, topico: TOPICO, crearCliente: () => cliente, pausaReintentoMs: 1 });
    const p = await broker.crearPublicador('relay-0');
    await expect(p.publicar([mensaje('a', 1), mensaje('b', 2), mensaje('c', 3)])).rejects.toThrow(
      /confirmó la secuencia 3 pero no la 2 .*descartaría la deduplicación.*secuencia nueva/,
    );
    expect(enviados).toEqual([1, 2, 3]);
    await broker.cerrar();
  });
});

describe('PulsarBroker: duplicados descartados por el broker', () => {
  it('un envío deduplicado se confirma con el id -1:-1 y publicar lo informa mensaje a mensaje', async () => {
    const { falso, broker } = await brokerFalso();
    const p = await broker.crearPublicador('relay-0');
    expect(await p.publicar([mensaje('a', 1), mensaje('b', 2), mensaje('c', 3)])).toEqual(['aceptado', 'aceptado', 'aceptado']);
    expect(await p.publicar([mensaje('b', 2), mensaje('c', 3), mensaje('d', 4)])).toEqual(['duplicado', 'duplicado', 'aceptado']);
    expect(
      falso
        .envios()
        .map((e) => `${e.secuencia}:${e.resultado}`)
        .slice(3),
    ).toEqual(['2:descartado-por-duplicado', '3:descartado-por-duplicado', '4:persistido']);
    await broker.cerrar();
  });

  it('el id de un duplicado es (-1,-1,…) también dentro de un lote; cualquier otro es un mensaje persistido', () => {
    expect(esIdDeDuplicado({ toString: () => '(-1,-1,-1,-1)' })).toBe(true);
    expect(esIdDeDuplicado({ toString: () => '(-1,-1,-1,3)' })).toBe(true);
    expect(esIdDeDuplicado({ toString: () => '(10,-1,-1,-1)' })).toBe(false);
    expect(esIdDeDuplicado({ toString: () => '(10,4,-1,-1)' })).toBe(false);
  });

  it('el relay sobre Pulsar: una secuencia nueva que el broker descarta es una alarma (Pulsar no da su marca)', async () => {
    const { falso, broker } = await brokerFalso();
    // Otra vida del sistema ya publicó con este nombre hasta la secuencia 6 (la base se restauró desde una copia).
    await (await broker.crearPublicador('relay-0')).publicar(Array.from({ length: 6 }, (_, i) => mensaje(`x-${i}`, i + 1)));
    await broker.cerrar();
    const otro = await crearBrokerPulsar({ url: URL_FALSA, topico: TOPICO, crearCliente: falso.crearCliente });
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(4);
    const relay = crearRelay({
      almacen,
      publicador: await otro.crearPublicador('relay-0'),
      aMensaje: sobreDeFila,
      cerca: almacen.ganarLiderazgo(),
      tamanoLote: 10,
      esperarAviso: async () => {},
      intervaloSondeoMs: 1,
      backoffBaseMs: 1,
      backoffMaximoMs: 1,
    });
    const fin = await relay.ejecutar({ pedido: false });
    expect(fin).toEqual({
      tipo: 'alarma',
      alarma: { tipo: 'secuenciasDescartadas', productor: 'relay-0', secuencias: [1, 2, 3, 4], idsEvento: filas.map((f) => f.idEvento) },
    });
    expect(filas.some((f) => f.publicada)).toBe(false);
    expect((await almacen.estadoProductor('relay-0')).alarma).toMatch(/descartó como duplicadas 4 secuencias/);
    await otro.cerrar();
  });
});

describe('PulsarBroker: productor de nombre fijo', () => {
  it('ProducerBusy (el líder anterior sigue conectado) se reintenta con backoff hasta que el nombre queda libre', async () => {
    const falso = new PulsarFalso();
    const opciones = { url: URL_FALSA, topico: TOPICO, crearCliente: falso.crearCliente };
    const anterior = await crearBrokerPulsar(opciones);
    const suyo = await anterior.crearPublicador('relay-0');
    const nuevo = await crearBrokerPulsar(opciones);
    const creando = nuevo.crearPublicador('relay-0');
    await new Promise((r) => setTimeout(r, 400));
    expect(nuevo.productoresOcupados).toBeGreaterThan(1);
    await suyo.cerrar();
    const publicador = await creando;
    expect(await publicador.publicar([mensaje('a', 1)])).toEqual(['aceptado']);
    expect(falso.registro.filter((e) => e.tipo === 'productor-creado').map((e) => e.tipo === 'productor-creado' && e.cliente)).toEqual([
      1, 2,
    ]);
    await Promise.all([anterior.cerrar(), nuevo.cerrar()]);
  });

  it('si el nombre sigue ocupado pasado el plazo, rechaza diciéndolo; otro fallo no se reintenta', async () => {
    const falso = new PulsarFalso();
    const anterior = await crearBrokerPulsar({ url: URL_FALSA, topico: TOPICO, crearCliente: falso.crearCliente });
    await anterior.crearPublicador('relay-0');
    const nuevo = await crearBrokerPulsar({
      url: URL_FALSA,
      topico: TOPICO,
      crearCliente: falso.crearCliente,
      esperaProductorOcupadoMs: 300,
    });
    const error = await nuevo.crearPublicador('relay-0').catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/No se pudo crear el productor "relay-0".*sigue conectado tras 300 ms/);
    expect(((error as Error).cause as Error).message).toBe('Failed to create producer: ProducerBusy');
    await nuevo.cerrar();
    await expect(nuevo.crearPublicador('relay-1')).rejects.toThrow(/cerrado/);
    await anterior.cerrar();
  });

  it('maxPendingMessages sale de la opción y publicar nunca tiene más envíos pendientes: ningún send bloquearía', async () => {
    const { falso, broker } = await brokerFalso({}, { mensajesPendientesMaximos: 700 });
    const p = await broker.crearPublicador('relay-0');
    expect(falso.configuracionesProductor()[0]).toMatchObject({ maxPendingMessages: 700, blockIfQueueFull: true });
    const resultados = await p.publicar(Array.from({ length: 2_500 }, (_, i) => mensaje(`pago-${i % 50}`, i + 1)));
    expect(resultados).toHaveLength(2_500);
    expect(resultados.every((r) => r === 'aceptado')).toBe(true);
    expect(falso.mensajes(TOPICO)).toHaveLength(2_500);
    expect(falso.estadisticas.enviosBloqueantes).toBe(0);
    await broker.cerrar();
  });

  it('el falso imita la cola de pendientes: llena, el cliente real bloquearía (se cuenta) o fallaría con ProducerQueueIsFull', async () => {
    const falso = new PulsarFalso();
    const cliente = falso.crearCliente({ serviceUrl: URL_FALSA });
    const bloquea = await cliente.createProducer({
      topic: TOPICO,
      producerName: 'a',
      maxPendingMessages: 2,
      blockIfQueueFull: true,
      batchingEnabled: false,
    });
    await Promise.all([1, 2, 3].map((i) => bloquea.send({ data: Buffer.from('x'), sequenceId: i })));
    expect(falso.estadisticas.enviosBloqueantes).toBe(1);
    const falla = await cliente.createProducer({ topic: TOPICO, producerName: 'b', maxPendingMessages: 2, batchingEnabled: false });
    const envios = await Promise.allSettled([1, 2, 3].map((i) => falla.send({ data: Buffer.from('x'), sequenceId: i })));
    expect(envios.map((e) => e.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((envios[2] as PromiseRejectedResult).reason.message).toBe('Failed to send message: ProducerQueueIsFull');
    await cliente.close();
  });
});

describe('PulsarBroker: consumo', () => {
  it('entregas = redeliveryCount + 1; un rechazo con retraso mayor que el de la suscripción se respeta', async () => {
    const { broker } = await brokerFalso();
    const s = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 10 });
    const p = await broker.crearPublicador('relay-0');
    await p.publicar([mensaje('pago-1', 1)]);
    const primera = await recibir(s);
    expect(primera.entregas).toBe(1);
    const desde = Date.now();
    await s.rechazar(primera, 200);
    const segunda = await recibir(s);
    expect(Date.now() - desde).toBeGreaterThanOrEqual(150);
    expect(segunda.entregas).toBe(2);
    expect(segunda.idMensaje).toBe(primera.idMensaje);
    await s.confirmar(segunda);
    await broker.cerrar();
  });

  it('con duplicados inyectados: misma idMensaje, entregas crecientes, y confirmar ambas copias es inocuo', async () => {
    const { falso, broker } = await brokerFalso({ duplicar: 1 });
    const s = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 10 });
    const p = await broker.crearPublicador('relay-0');
    await p.publicar([mensaje('pago-1', 1), mensaje('pago-1', 2)]);
    const vistos: string[] = [];
    for (let i = 0; i < 4; i++) {
      const m = await recibir(s);
      vistos.push(`${m.secuencia}#${m.entregas}`);
      await s.confirmar(m);
    }
    expect(vistos).toEqual(['1#1', '1#2', '2#1', '2#2']);
    expect(falso.estadisticas.duplicadosInyectados).toBe(2);
    expect(falso.atrasados(TOPICO, 'consumidor')).toBe(0);
    await broker.cerrar();
  });

  it('reordenación inyectada: cambia el orden entre claves, nunca dentro de una', async () => {
    const { falso, broker } = await brokerFalso({ reordenar: 0.7, semilla: 3 });
    const s = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 10 });
    const p = await broker.crearPublicador('relay-0');
    const claves = ['pago-a', 'pago-b', 'pago-c'];
    await p.publicar(Array.from({ length: 60 }, (_, i) => mensaje(claves[i % 3]!, i + 1)));
    const llegada: number[] = [];
    const porClave = new Map<string, number[]>();
    for (let i = 0; i < 60; i++) {
      const m = await recibir(s);
      llegada.push(m.secuencia);
      porClave.set(m.clave, [...(porClave.get(m.clave) ?? []), m.secuencia]);
      await s.confirmar(m);
    }
    expect(llegada).not.toEqual([...llegada].sort((a, b) => a - b));
    expect(falso.estadisticas.reordenados).toBeGreaterThan(0);
    for (const [, secuencias] of porClave) expect(secuencias).toEqual([...secuencias].sort((a, b) => a - b));
    await broker.cerrar();
  });

  it('aMensajesMuertos publica en la DLQ con la propiedad motivo y confirma el original', async () => {
    const { falso, broker } = await brokerFalso();
    const s = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 10 });
    const p = await broker.crearPublicador('relay-0');
    await p.publicar([mensaje('pago-1', 1)]);
    const m = await recibir(s);
    await s.aMensajesMuertos(m, 'sobre inválido');
    const [muerto] = falso.mensajes(`${TOPICO}-consumidor-DLQ`);
    expect(muerto).toMatchObject({
      clave: 'pago-1',
      propiedades: expect.objectContaining({ motivo: 'sobre inválido', id_evento: 'ev-1' }),
    });
    expect(falso.atrasados(TOPICO, 'consumidor')).toBe(0);
    const muertos = await broker.mensajesMuertos('consumidor');
    expect(muertos).toEqual([
      {
        mensaje: expect.objectContaining({ idMensaje: m.idMensaje, secuencia: 1, productor: 'relay-0', entregas: 1 }),
        motivo: 'sobre inválido',
      },
    ]);
    await broker.cerrar();
  });
});

describe('PulsarBroker: ciclo de vida', () => {
  it('cerrar() cierra consumidores, después productores, después el cliente (y suelta el cliente)', async () => {
    const retenidosAntes = clientesPulsarRetenidos();
    const { falso, broker } = await brokerFalso();
    expect(clientesPulsarRetenidos()).toBe(retenidosAntes + 1);
    const s1 = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 3, retrasoReentregaMs: 10 });
    await broker.suscribir({ suscripcion: 'auditoria', maximoEntregas: 3, retrasoReentregaMs: 10 });
    const p = await broker.crearPublicador('relay-0');
    await broker.crearPublicador('relay-1');
    await p.publicar([mensaje('pago-1', 1)]);
    await s1.aMensajesMuertos(await recibir(s1), 'para crear el productor de la DLQ');

    const desde = falso.registro.length;
    await broker.cerrar();
    const cierres = falso.registro.slice(desde).map((e) => ('porCliente' in e && e.porCliente ? `${e.tipo}(por cliente)` : e.tipo));
    expect(cierres).toEqual([
      'consumidor-cerrado',
      'consumidor-cerrado',
      'productor-cerrado',
      'productor-cerrado',
      'productor-cerrado',
      'cliente-cerrado',
    ]);
    expect(clientesPulsarRetenidos()).toBe(retenidosAntes);
    await broker.cerrar(); // idempotente
    await expect(broker.crearPublicador('relay-2')).rejects.toThrow(/cerrado/);
  });

  it('los publicadores y suscripciones guardan referencia a su cliente', async () => {
    const { broker } = await brokerFalso();
    const p = await broker.crearPublicador('relay-0');
    expect((p as unknown as { cliente: unknown }).cliente).toBe(broker.cliente);
    await broker.cerrar();
  });
});

describe('cliente nativo pulsar-client', () => {
  it('si falta el binario nativo, la fábrica rechaza con un mensaje claro en castellano y la causa', async () => {
    const causa = Object.assign(new Error("Cannot find module '/x/pulsar-client/lib/binding/pulsar.node'"), { code: 'MODULE_NOT_FOUND' });
    const fabrica = crearFabricaClientePulsar(() => Promise.reject(causa));
    const error = await Promise.resolve(fabrica({ serviceUrl: 'pulsar://localhost:6650' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(MENSAJE_SIN_BINARIO_PULSAR);
    expect((error as Error).message).toMatch(/binario nativo.*PULSAR_URL.*broker embebido/s);
    expect((error as Error).cause).toBe(causa);
  });

  it('la fábrica toma el Client del default de CommonJS y no deja en caché un fallo de carga', async () => {
    let intentos = 0;
    class ClienteDePrueba {
      constructor(readonly config: unknown) {}
      createProducer = () => Promise.reject(new Error('no'));
      subscribe = () => Promise.reject(new Error('no'));
      close = () => Promise.resolve(null);
    }
    const fabrica = crearFabricaClientePulsar(async () => {
      intentos += 1;
      if (intentos === 1) throw new Error('fallo transitorio');
      return { default: { Client: ClienteDePrueba } };
    });
    await expect(Promise.resolve(fabrica({ serviceUrl: 'pulsar://h:6650' }))).rejects.toThrow(MENSAJE_SIN_BINARIO_PULSAR);
    const cliente = await fabrica({ serviceUrl: 'pulsar://h:6650' });
    expect(cliente).toBeInstanceOf(ClienteDePrueba);
    expect((cliente as unknown as ClienteDePrueba).config).toEqual({ serviceUrl: 'pulsar://h:6650' });
  });

  it('crearBrokerPulsar sin crearCliente carga pulsar-client de verdad: o funciona o da el mensaje claro', async () => {
    const resultado = await crearBrokerPulsar({ url: 'pulsar://127.0.0.1:1', topico: TOPICO }).then(
      async (broker) => {
        await broker.cerrar();
        return 'cargado';
      },
      (error: unknown) => error,
    );
    if (resultado !== 'cargado') {
      expect(resultado).toBeInstanceOf(Error);
      expect((resultado as Error).message).toBe(MENSAJE_SIN_BINARIO_PULSAR);
    }
  });

  it('ningún módulo del adaptador importa pulsar-client en su nivel superior', () => {
    const carpeta = dirname(fileURLToPath(import.meta.url));
    const fuentes = readdirSync(carpeta)
      .map((f) => join(carpeta, f))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    // Sin comentarios: un ejemplo de uso en la documentación de un módulo no es una carga.
    const codigo = (f: string) =>
      readFileSync(f, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
    const conImport = fuentes.filter((f) => /^\s*import\s+(?!type\b)[^;]*from\s+['"]pulsar-client['"]/m.test(codigo(f)));
    expect(conImport).toEqual([]);
    const dinamicos = fuentes.filter((f) => codigo(f).includes("import('pulsar-client')"));
    expect(dinamicos.map((f) => f.slice(carpeta.length + 1))).toEqual(['cliente-pulsar.ts']);
  });
});
