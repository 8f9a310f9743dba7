import { describe, expect, it, vi } from 'vitest';
import { crearAzarSembrado } from './azar-sembrado.js';
import { hashClavePulsar, murmur3_32 } from './murmur3.js';
import {
  PulsarFalso,
  nombreCompletoTopico,
  type ClienteFalso,
  type ConsumidorFalso,
  type MensajeFalso,
  type OpcionesPulsarFalso,
  type ProductorFalso,
} from './pulsar-falso.js';

const TOPICO = 'persistent://public/default/t';

function cliente(opciones: OpcionesPulsarFalso = {}): { falso: PulsarFalso; cliente: ClienteFalso } {
  const falso = new PulsarFalso({ semilla: 5, ...opciones });
  return { falso, cliente: falso.crearCliente({ serviceUrl: 'pulsar://falso:6650' }) };
}

const sinLotes = { batchingEnabled: false } as const;

function enviar(p: ProductorFalso, clave: string, secuencia?: number, cuerpo = `${clave}:${secuencia}`) {
  return p.send({ data: Buffer.from(cuerpo), partitionKey: clave, ...(secuencia === undefined ? {} : { sequenceId: secuencia }) });
}

const texto = (m: MensajeFalso) => m.getData().toString('utf8');

async function recibirN(c: ConsumidorFalso, n: number): Promise<MensajeFalso[]> {
  const r: MensajeFalso[] = [];
  for (let i = 0; i < n; i++) r.push(await c.receive(2_000));
  return r;
}

async function sinMensajes(c: ConsumidorFalso, ms = 30): Promise<boolean> {
  return c.receive(ms).then(
    () => false,
    (e: Error) => e.message === 'Failed to receive message: TimeOut',
  );
}

describe('PulsarFalso: murmur3 y azar', () => {
  it('Murmur3_32 x86 con semilla 0 coincide con los vectores conocidos', () => {
    expect(murmur3_32('')).toBe(0);
    expect(murmur3_32('hello')).toBe(0x248bfa47);
    expect(murmur3_32('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
    expect(hashClavePulsar('hello')).toBe(0x248bfa47 & 0x7fffffff);
    expect(murmur3_32('ñandú')).toBe(murmur3_32('ñandú')); // UTF-8, determinista
  });

  it('el azar sembrado se repite con la misma semilla', () => {
    const a = crearAzarSembrado(42);
    const b = crearAzarSembrado(42);
    const serieA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(serieA);
    expect(serieA.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Array.from({ length: 5 }, crearAzarSembrado(43))).not.toEqual(serieA);
  });

  it('nombres de tópico como el cliente', () => {
    expect(nombreCompletoTopico('t')).toBe(TOPICO);
    expect(nombreCompletoTopico('mi/ns/t')).toBe('persistent://mi/ns/t');
    expect(nombreCompletoTopico(TOPICO)).toBe(TOPICO);
  });
});

describe('PulsarFalso: deduplicación del broker', () => {
  it('descarta una secuencia ≤ la mayor del productor y confirma el envío igual, con id (-1,-1)', async () => {
    const { falso, cliente: c } = cliente();
    const p = await c.createProducer({ topic: 't', producerName: 'relay', ...sinLotes });
    expect((await enviar(p, 'k', 5)).toString()).toBe(`(10,0,-1,-1)`);
    expect((await enviar(p, 'k', 5)).toString()).toBe('(-1,-1,-1,-1)');
    expect((await enviar(p, 'k', 3)).toString()).toBe('(-1,-1,-1,-1)'); // la trampa: menor → perdido en silencio
    await enviar(p, 'k', 6);
    expect(falso.mensajes('t').map((m) => m.secuencia)).toEqual([5, 6]);
    expect(falso.estadisticas.descartadosPorDuplicado).toBe(2);
  });

  it('la marca sobrevive a cerrar y reabrir el productor; otro nombre lleva la suya; el mismo nombre conectado → ProducerBusy', async () => {
    const { falso, cliente: c } = cliente();
    const p = await c.createProducer({ topic: 't', producerName: 'relay', ...sinLotes });
    await enviar(p, 'k', 10);
    await expect(c.createProducer({ topic: 't', producerName: 'relay' })).rejects.toThrow('Failed to create producer: ProducerBusy');
    await p.close();
    const otra = await c.createProducer({ topic: 't', producerName: 'relay', ...sinLotes });
    await enviar(otra, 'k', 10);
    const b = await c.createProducer({ topic: 't', producerName: 'otro', ...sinLotes });
    await enviar(b, 'k', 10);
    // Sin sequenceId, el productor sigue desde la mayor secuencia de su nombre.
    await enviar(otra, 'k');
    expect(falso.mensajes('t').map((m) => `${m.productor}:${m.secuencia}`)).toEqual(['relay:10', 'otro:10', 'relay:11']);
  });

  it('sequenceId se coacciona como el cliente: una cadena pasa y pierde precisión más allá de 2^53', async () => {
    const { falso, cliente: c } = cliente();
    const p = await c.createProducer({ topic: 't', producerName: 'relay', ...sinLotes });
    await p.send({ data: Buffer.from('a'), sequenceId: '9007199254740993' as unknown as number });
    expect(falso.mensajes('t')[0]!.secuencia).toBe(9007199254740992);
  });

  it('sin deduplicación en el broker, nada se descarta', async () => {
    const { falso, cliente: c } = cliente({ deduplicacion: false });
    const p = await c.createProducer({ topic: 't', producerName: 'relay', ...sinLotes });
    await enviar(p, 'k', 1);
    await enviar(p, 'k', 1);
    expect(falso.mensajes('t')).toHaveLength(2);
  });
});

describe('PulsarFalso: envíos que fallan', () => {
  it('sendTimeoutMs 0 se ignora (30 s): un atasco no vence a los pocos ms', async () => {
    const { falso, cliente: c } = cliente();
    const p = await c.createProducer({ topic: 't', producerName: 'relay', sendTimeoutMs: 0, ...sinLotes });
    falso.fallarSiguientesEnvios(1);
    const resultado = await Promise.race([
      enviar(p, 'k', 1).then(
        () => 'ok',
        (e: Error) => e.message,
      ),
      new Promise((r) => setTimeout(() => r('pendiente'), 60)),
    ]);
    expect(resultado).toBe('pendiente');
    await p.close(); // lo pendiente falla con AlreadyClosed
  });

  it('un atasco tumba ese envío y los que se encolan detrás; nunca se confirma uno posterior antes', async () => {
    const { falso, cliente: c } = cliente();
    const p = await c.createProducer({ topic: 't', producerName: 'relay', sendTimeoutMs: 15, ...sinLotes });
    const antes = enviar(p, 'k', 1);
    falso.fallarSiguientesEnvios(1, 'sin-persistir');
    const resultados = await Promise.allSettled([antes, enviar(p, 'k', 2), enviar(p, 'k', 3)]);
    expect(resultados.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).message))).toEqual([
      'ok',
      'Failed to send message: TimeOut',
      'Failed to send message: TimeOut',
    ]);
    expect(falso.mensajes('t').map((m) => m.secuencia)).toEqual([1]);
    await enviar(p, 'k', 2);
    expect(falso.mensajes('t').map((m) => m.secuencia)).toEqual([1, 2]);
  });

  it('fallos aleatorios sembrados: la misma semilla falla los mismos envíos', async () => {
    const correr = async () => {
      const { falso, cliente: c } = cliente({ semilla: 9, fallarEnvios: { probabilidad: 0.3, modo: 'sin-persistir' } });
      const p = await c.createProducer({ topic: 't', producerName: 'relay', sendTimeoutMs: 5, ...sinLotes });
      const r: string[] = [];
      for (let i = 1; i <= 20; i++)
        r.push(
          await enviar(p, 'k', i).then(
            () => 'ok',
            () => 'x',
          ),
        );
      return { r, fallidos: falso.estadisticas.enviosFallidos };
    };
    const a = await correr();
    expect(a.fallidos).toBeGreaterThan(0);
    expect(await correr()).toEqual(a);
  });
});

describe('PulsarFalso: suscripciones', () => {
  it('posición inicial por defecto Latest; Earliest ve lo anterior', async () => {
    const { cliente: c } = cliente();
    const p = await c.createProducer({ topic: 't', ...sinLotes });
    await enviar(p, 'k', 1);
    const tarde = await c.subscribe({ topic: 't', subscription: 'tarde', subscriptionType: 'Shared' });
    const desdeElPrincipio = await c.subscribe({
      topic: 't',
      subscription: 'todo',
      subscriptionType: 'Shared',
      subscriptionInitialPosition: 'Earliest',
    });
    await enviar(p, 'k', 2);
    expect((await recibirN(tarde, 1)).map(texto)).toEqual(['k:2']);
    expect((await recibirN(desdeElPrincipio, 2)).map(texto)).toEqual(['k:1', 'k:2']);
  });

  it('valida como el cliente: ackTimeout < 10 s, sin suscripción, Exclusive ocupada, tipo distinto con consumidores', async () => {
    const { cliente: c } = cliente();
    await expect(c.subscribe({ topic: 't', subscription: 's', ackTimeoutMs: 5_000 })).rejects.toThrow(
      'Ack timeout should be 0 or greater than or equal to 10000',
    );
    await expect(c.subscribe({ topic: 't', subscription: '' })).rejects.toThrow(/Subscription is required/);
    await c.subscribe({ topic: 't', subscription: 'excl' }); // Exclusive por defecto
    await expect(c.subscribe({ topic: 't', subscription: 'excl' })).rejects.toThrow('Failed to create consumer: ConsumerBusy');
    await c.subscribe({ topic: 't', subscription: 'ks', subscriptionType: 'KeyShared' });
    await expect(c.subscribe({ topic: 't', subscription: 'ks', subscriptionType: 'Shared' })).rejects.toThrow('ConsumerBusy');
  });

  it('receive(timeout) vence con TimeOut; cerrar rechaza el receive pendiente con AlreadyClosed', async () => {
    const { cliente: c } = cliente();
    const s = await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'KeyShared' });
    await expect(s.receive(10)).rejects.toThrow('Failed to receive message: TimeOut');
    const pendiente = s.receive();
    await s.close();
    await expect(pendiente).rejects.toThrow('Failed to receive message: AlreadyClosed');
    await expect(s.receive()).rejects.toThrow('AlreadyClosed');
    expect(s.isConnected()).toBe(false);
  });

  it('Key_Shared: cada clave va siempre al mismo consumidor, en orden, y las claves se reparten', async () => {
    const { cliente: c } = cliente();
    const a = await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'KeyShared', consumerName: 'a' });
    const b = await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'KeyShared', consumerName: 'b' });
    const p = await c.createProducer({ topic: 't', producerName: 'relay', ...sinLotes });
    const claves = Array.from({ length: 20 }, (_, i) => `pago-${i}`);
    for (let r = 0; r < 3; r++) for (const [i, k] of claves.entries()) await enviar(p, k, r * 100 + i);
    const porConsumidor = new Map<string, Set<string>>();
    const orden = new Map<string, number[]>();
    for (const [nombre, consumidor] of [
      ['a', a],
      ['b', b],
    ] as const) {
      for (;;) {
        const m = await consumidor.receive(30).catch(() => null);
        if (m === null) break;
        porConsumidor.set(nombre, (porConsumidor.get(nombre) ?? new Set()).add(m.getPartitionKey()));
        orden.set(m.getPartitionKey(), [...(orden.get(m.getPartitionKey()) ?? []), Number(texto(m).split(':')[1])]);
        await consumidor.acknowledge(m);
      }
    }
    const deA = porConsumidor.get('a') ?? new Set();
    const deB = porConsumidor.get('b') ?? new Set();
    expect(deA.size).toBeGreaterThan(0);
    expect(deB.size).toBeGreaterThan(0);
    expect([...deA].filter((k) => deB.has(k))).toEqual([]);
    expect(deA.size + deB.size).toBe(20);
    for (const [i, k] of claves.entries()) expect(orden.get(k)).toEqual([i, 100 + i, 200 + i]);
  });

  it('Key_Shared: una clave con mensajes sin confirmar no pasa a un consumidor nuevo hasta soltarlos', async () => {
    const { cliente: c } = cliente();
    const a = await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'KeyShared', consumerName: 'a' });
    const p = await c.createProducer({ topic: 't', producerName: 'relay', ...sinLotes });
    const claves = Array.from({ length: 30 }, (_, i) => `k${i}`);
    for (const k of claves) await enviar(p, k, undefined, `${k}:1`);
    const primeros = await recibirN(a, 30); // todo en manos de `a`, sin confirmar
    const b = await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'KeyShared', consumerName: 'b' });
    for (const k of claves) await enviar(p, k, undefined, `${k}:2`);
    // `b` no recibe nada mientras `a` no confirme: todas las claves tienen pendientes en `a`.
    expect(await sinMensajes(b)).toBe(true);
    for (const m of primeros) await a.acknowledge(m);
    // Ahora las claves que el anillo da a `b` pasan a `b`; las demás siguen en `a`.
    const vistos = new Map<ConsumidorFalso, string[]>([
      [a, []],
      [b, []],
    ]);
    for (const consumidor of [a, b]) {
      for (;;) {
        const m = await consumidor.receive(30).catch(() => null);
        if (m === null) break;
        vistos.get(consumidor)!.push(texto(m));
        await consumidor.acknowledge(m);
      }
    }
    expect(vistos.get(b)!.length).toBeGreaterThan(0);
    expect(vistos.get(a)!.length).toBeGreaterThan(0);
    expect([...vistos.get(a)!, ...vistos.get(b)!].sort()).toEqual(claves.map((k) => `${k}:2`).sort());
  });

  it('cerrar un consumidor reentrega lo que tenía sin confirmar a los demás, con redeliveryCount + 1', async () => {
    const { falso, cliente: c } = cliente();
    const a = await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'KeyShared', consumerName: 'a' });
    const p = await c.createProducer({ topic: 't', producerName: 'relay', ...sinLotes });
    await enviar(p, 'pago-1', 1);
    await enviar(p, 'pago-1', 2);
    const [m1] = await recibirN(a, 1); // el 2 queda en la cola del receptor de `a`
    const b = await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'KeyShared', consumerName: 'b' });
    await a.close();
    const [r1, r2] = await recibirN(b, 2);
    expect([texto(r1!), texto(r2!)]).toEqual(['pago-1:1', 'pago-1:2']);
    expect(r1!.getMessageId().toString()).toBe(m1!.getMessageId().toString());
    expect(r1!.getRedeliveryCount()).toBe(1);
    await b.acknowledge(r1!);
    await b.acknowledge(r2!);
    expect(falso.atrasados('t', 's')).toBe(0);
  });

  it('negativeAcknowledge reentrega tras nAckRedeliverTimeoutMs; un mensaje ya precargado de la clave puede adelantarse', async () => {
    const { cliente: c } = cliente();
    const s = await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'KeyShared', nAckRedeliverTimeoutMs: 40 });
    const p = await c.createProducer({ topic: 't', producerName: 'relay', ...sinLotes });
    await enviar(p, 'k', 1);
    await enviar(p, 'k', 2);
    const [m1] = await recibirN(s, 1);
    const desde = Date.now();
    s.negativeAcknowledge(m1!);
    const [m2, m1bis] = await recibirN(s, 2);
    expect(texto(m2!)).toBe('k:2'); // estaba en la cola del receptor: Pulsar no garantiza orden tras un nack
    expect(texto(m1bis!)).toBe('k:1');
    expect(m1bis!.getRedeliveryCount()).toBe(1);
    expect(Date.now() - desde).toBeGreaterThanOrEqual(30);
  });

  it('deadLetterPolicy: tras maxRedeliverCount reentregas, el nack lo publica en la DLQ (REAL_TOPIC, ORIGIN_MESSAGE_ID) y lo confirma', async () => {
    const { falso, cliente: c } = cliente();
    const s = await c.subscribe({
      topic: 't',
      subscription: 's',
      subscriptionType: 'KeyShared',
      nAckRedeliverTimeoutMs: 5,
      deadLetterPolicy: { deadLetterTopic: 't-s-DLQ', maxRedeliverCount: 2, initialSubscriptionName: 's-muertos' },
    });
    const p = await c.createProducer({ topic: 't', producerName: 'relay', ...sinLotes });
    await p.send({ data: Buffer.from('veneno'), partitionKey: 'pago-1', properties: { tipo: 'PagoPendiente' } });
    const cuentas: number[] = [];
    let id = '';
    for (let i = 0; i < 3; i++) {
      const m = await s.receive(2_000);
      cuentas.push(m.getRedeliveryCount());
      id = m.getMessageId().toString();
      s.negativeAcknowledge(m);
    }
    expect(cuentas).toEqual([0, 1, 2]);
    expect(await sinMensajes(s, 60)).toBe(true);
    expect(falso.mensajes('t-s-DLQ')).toEqual([
      expect.objectContaining({
        clave: 'pago-1',
        cuerpo: 'veneno',
        propiedades: { tipo: 'PagoPendiente', REAL_TOPIC: TOPICO, ORIGIN_MESSAGE_ID: id },
      }),
    ]);
    expect(falso.atrasados('t', 's')).toBe(0);
    expect(falso.atrasados('t-s-DLQ', 's-muertos')).toBe(1); // la suscripción inicial lo retiene
  });

  it('ackTimeoutMs reentrega lo recibido y no confirmado (y un acuse a tiempo lo evita)', async () => {
    const { cliente: c } = cliente();
    const s = await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'Shared', ackTimeoutMs: 10_000 });
    const p = await c.createProducer({ topic: 't', ...sinLotes });
    await enviar(p, 'k', 1);
    await enviar(p, 'k', 2);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const [m1, m2] = await recibirN(s, 2);
      await s.acknowledge(m2!);
      let llego = false;
      const pendiente = s.receive().then((m) => {
        llego = true;
        return m;
      });
      vi.advanceTimersByTime(9_999);
      await Promise.resolve();
      expect(llego).toBe(false);
      vi.advanceTimersByTime(1);
      const otraVez = await pendiente;
      expect(otraVez.getMessageId().toString()).toBe(m1!.getMessageId().toString());
      expect(otraVez.getRedeliveryCount()).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('lotes por defecto + Key_Shared: el lote entero va al consumidor de la clave de su primer mensaje (la trampa)', async () => {
    const { cliente: c } = cliente();
    const a = await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'KeyShared', consumerName: 'a' });
    const b = await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'KeyShared', consumerName: 'b' });
    // Dos claves que el anillo reparte a consumidores distintos (enviadas sin lotes).
    const sueltas = await c.createProducer({ topic: 't', producerName: 'sin-lotes', ...sinLotes });
    const candidatas = Array.from({ length: 20 }, (_, i) => `pago-${i}`);
    for (const k of candidatas) await enviar(sueltas, k);
    const duenos = new Map<string, string>();
    for (const [nombre, consumidor] of [
      ['a', a],
      ['b', b],
    ] as const) {
      for (;;) {
        const m = await consumidor.receive(30).catch(() => null);
        if (m === null) break;
        duenos.set(m.getPartitionKey(), nombre);
        await consumidor.acknowledge(m);
      }
    }
    const deA = candidatas.find((k) => duenos.get(k) === 'a')!;
    const deB = candidatas.find((k) => duenos.get(k) === 'b')!;

    const conLotes = await c.createProducer({ topic: 't', producerName: 'con-lotes' }); // batchingEnabled por defecto
    await Promise.all([enviar(conLotes, deA), enviar(conLotes, deB)]);
    const deLote = await recibirN(a, 2);
    expect(deLote.map((m) => m.getPartitionKey())).toEqual([deA, deB]);
    expect(await sinMensajes(b)).toBe(true);
    for (const m of deLote) await a.acknowledge(m);

    const porClave = await c.createProducer({ topic: 't', producerName: 'por-clave', batchingType: 'KeyBasedBatching' });
    await Promise.all([enviar(porClave, deA), enviar(porClave, deB)]);
    expect((await recibirN(a, 1)).map((m) => m.getPartitionKey())).toEqual([deA]);
    expect((await recibirN(b, 1)).map((m) => m.getPartitionKey())).toEqual([deB]);
  });

  it('duplicar y reordenar con la misma semilla producen la misma secuencia de entregas', async () => {
    const correr = async () => {
      const { falso, cliente: c } = cliente({ semilla: 21, duplicar: 0.3, reordenar: 0.5 });
      const s = await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'KeyShared' });
      const p = await c.createProducer({ topic: 't', producerName: 'relay', ...sinLotes });
      for (let i = 0; i < 30; i++) await enviar(p, `k${i % 4}`, i);
      const vistos: string[] = [];
      for (;;) {
        const m = await s.receive(30).catch(() => null);
        if (m === null) break;
        vistos.push(`${texto(m)}#${m.getRedeliveryCount()}`);
        await s.acknowledge(m);
      }
      return { vistos, estadisticas: falso.estadisticas };
    };
    const a = await correr();
    expect(a.estadisticas.duplicadosInyectados).toBeGreaterThan(0);
    expect(a.estadisticas.reordenados).toBeGreaterThan(0);
    expect(await correr()).toEqual(a);
    // Dentro de cada clave, las primeras entregas siguen el orden de publicación.
    const primeras = new Map<string, number[]>();
    for (const v of new Set(a.vistos.map((x) => x.split('#')[0]!))) {
      const [k, n] = v.split(':');
      primeras.set(k!, [...(primeras.get(k!) ?? []), Number(n)]);
    }
    for (const [, ns] of primeras) expect(ns).toEqual([...ns].sort((x, y) => x - y));
  });

  it('cerrar el cliente cierra sus consumidores y productores (marcados "por cliente")', async () => {
    const { falso, cliente: c } = cliente();
    await c.subscribe({ topic: 't', subscription: 's', subscriptionType: 'KeyShared' });
    const p = await c.createProducer({ topic: 't', producerName: 'relay' });
    await c.close();
    expect(falso.registro.slice(-3).map((e) => e.tipo + ('porCliente' in e && e.porCliente ? '*' : ''))).toEqual([
      'cliente-cerrado',
      'consumidor-cerrado*',
      'productor-cerrado*',
    ]);
    await expect(enviar(p, 'k', 1)).rejects.toThrow('Failed to send message: AlreadyClosed');
    await expect(c.createProducer({ topic: 't' })).rejects.toThrow('Failed to create producer: AlreadyClosed');
  });
});
