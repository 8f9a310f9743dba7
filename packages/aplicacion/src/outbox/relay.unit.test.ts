import { describe, expect, it } from 'vitest';
import type { MensajeSaliente, Publicador, ResultadoPublicacion } from '../mensajeria/puertos-broker.js';
import { AlmacenOutboxEnMemoria } from '../testing/almacen-outbox-en-memoria.js';
import type { AlmacenOutbox, FilaOutbox } from './puertos-outbox.js';
import { BrokerEnMemoria } from '../testing/broker-en-memoria.js';
import { crearRelay, describirAlarma, type OpcionesRelay } from './relay.js';

/** Broker con deduplicación por secuencia, como Pulsar: descarta secuencias ≤ la mayor vista. */
function publicadorConDedup(fallarLlamadas: number[] = []) {
  const aceptados: MensajeSaliente[] = [];
  let mayor = -1;
  let llamadas = 0;
  const publicador: Publicador = {
    nombreProductor: 'relay-test',
    ultimaSecuenciaAceptada: async () => (mayor < 0 ? null : mayor),
    async publicar(mensajes) {
      llamadas += 1;
      // Acepta la mitad del lote y luego falla, si así se pidió: caída a mitad de publicación.
      const hasta = fallarLlamadas.includes(llamadas) ? Math.floor(mensajes.length / 2) : mensajes.length;
      const resultados: ResultadoPublicacion[] = [];
      for (const m of mensajes.slice(0, hasta)) {
        if (m.secuencia > mayor) {
          aceptados.push(m);
          mayor = m.secuencia;
          resultados.push('aceptado');
        } else {
          resultados.push('duplicado');
        }
      }
      if (hasta < mensajes.length) throw new Error('broker caído');
      return resultados;
    },
    cerrar: async () => {},
  };
  return { aceptados, publicador };
}

/** Un sobre mínimo para las pruebas (el de verdad, `sobreDeFila`, es del adaptador). */
const aMensaje = (f: FilaOutbox): MensajeSaliente => ({
  clave: f.idAgregado,
  secuencia: f.secuencia,
  cuerpo: JSON.stringify(f.payload),
  propiedades: { id_evento: f.idEvento, tipo: f.tipo, version: String(f.versionAgregado), id_correlacion: f.metadatos.id_correlacion },
});

const base = { aMensaje, esperarAviso: async () => {}, intervaloSondeoMs: 1, backoffBaseMs: 1, backoffMaximoMs: 1 };

/** Un relay que acaba de ganar el liderazgo del cerrojo 1 (sube la época). */
function relayLider(almacen: AlmacenOutboxEnMemoria, publicador: Publicador, extra: Partial<OpcionesRelay> = {}) {
  return crearRelay({ almacen, publicador, cerca: almacen.ganarLiderazgo(1), tamanoLote: 10, ...base, ...extra });
}

async function vaciar(relay: ReturnType<typeof crearRelay>) {
  const resultados = [];
  for (;;) {
    const r = await relay.publicarUnLote();
    resultados.push(r);
    if (r.tipo !== 'publicado' && r.tipo !== 'fallido') return resultados;
  }
}

describe('relay del outbox', () => {
  it('dado un outbox con filas, cuando corre, entonces publica todas una vez y en orden de secuencia', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(25);
    const { aceptados, publicador } = publicadorConDedup();
    const relay = relayLider(almacen, publicador);
    expect((await vaciar(relay)).at(-1)).toEqual({ tipo: 'vacio' });
    expect(filas.every((f) => f.publicada)).toBe(true);
    expect(aceptados.map((m) => m.propiedades.id_evento)).toEqual(filas.map((f) => f.idEvento));
    expect(aceptados.map((m) => m.secuencia)).toEqual(filas.map((_, i) => i + 1));
    expect(aceptados[0]).toMatchObject({ clave: 'pago-0', propiedades: { tipo: 'PagoPendiente', version: '1', id_correlacion: 'corr-1' } });
  });

  it('dado un fallo a mitad de lote, entonces reintenta con las mismas secuencias: nada perdido, nada duplicado', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(20);
    const { aceptados, publicador } = publicadorConDedup([1, 2]);
    const esperas: number[] = [];
    const relay = relayLider(almacen, publicador, {
      tamanoLote: 8,
      backoffBaseMs: 100,
      backoffMaximoMs: 150,
      dormir: async (ms) => {
        esperas.push(ms);
      },
    });
    for (let i = 0; i < 10; i += 1) await relay.publicarUnLote();
    expect(filas.every((f) => f.publicada)).toBe(true);
    expect(aceptados.map((m) => m.propiedades.id_evento)).toEqual(filas.map((f) => f.idEvento));
    expect(esperas).toEqual([100, 150]);
    expect(filas[0]?.intentos).toBe(2);
    expect(filas[0]?.ultimoError).toBe('broker caído');
  });

  it('ejecutar termina el lote en curso y sale cuando se pide la parada', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(5);
    const { publicador } = publicadorConDedup();
    const parada = { pedido: false };
    let avisos = 0;
    const relay = relayLider(almacen, publicador, {
      tamanoLote: 100,
      esperarAviso: async () => {
        avisos += 1;
        parada.pedido = true;
      },
    });
    expect(await relay.ejecutar(parada)).toEqual({ tipo: 'parada' });
    expect(filas.every((f) => f.publicada)).toBe(true);
    expect(avisos).toBe(1);
  });

  it('con esperaAcumularMs, tras un lote incompleto espera antes de reclamar otro; tras uno lleno o vacío, no', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(25);
    const { aceptados, publicador } = publicadorConDedup();
    const parada = { pedido: false };
    const esperas: string[] = [];
    const relay = relayLider(almacen, publicador, {
      esperaAcumularMs: 20,
      esperarAviso: async () => {
        esperas.push('aviso');
        parada.pedido = true;
      },
      dormir: async (ms) => {
        esperas.push(`dormir ${ms}`);
      },
    });
    await relay.ejecutar(parada);
    // Lotes de 10, 10 (llenos: sin espera), 5 (incompleto: acumula 20 ms), 0 (vacío: espera un aviso).
    expect(esperas).toEqual(['dormir 20', 'aviso']);
    expect(filas.every((f) => f.publicada)).toBe(true);
    expect(aceptados).toHaveLength(25);
  });
});

describe('relay: una secuencia nueva descartada es una alarma, no un éxito', () => {
  it('si el broker da por duplicadas filas nunca publicadas, no marca nada del lote, guarda la alarma y se para', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(12);
    const broker = new BrokerEnMemoria();
    // Otra instancia con el mismo nombre de productor (dos relays, o un estado de secuencias viejo) ya
    // llevó la marca del broker a 8: las filas 1–8 que el relay numera ahora se descartarían en silencio.
    await (await broker.crearPublicador('relay-test')).publicar([
      { clave: 'x', secuencia: 8, cuerpo: '{}', propiedades: { id_evento: 'ajeno', tipo: 'T', version: '1', id_correlacion: 'c' } },
    ]);
    const publicador = await broker.crearPublicador('relay-test');
    // Sin preparar (que ya lo vería por la marca): la detección por envío es la que queda con Pulsar.
    const relay = relayLider(almacen, publicador, { tamanoLote: 10 });

    const lote = await relay.publicarUnLote();
    expect(lote.tipo).toBe('alarma');
    if (lote.tipo !== 'alarma') return;
    expect(lote.alarma).toEqual({
      tipo: 'secuenciasDescartadas',
      productor: 'relay-test',
      secuencias: [1, 2, 3, 4, 5, 6, 7, 8],
      idsEvento: filas.slice(0, 8).map((f) => f.idEvento),
    });
    // Las filas 9 y 10 sí entraron, pero nada del lote se marca: se republicarán y el broker las descartará.
    expect(filas.filter((f) => f.publicada)).toEqual([]);
    expect(broker.publicados.map((m) => m.secuencia)).toEqual([8, 9, 10]);
    const alarma = (await almacen.estadoProductor('relay-test')).alarma;
    expect(alarma).toBe(describirAlarma(lote.alarma));
    expect(alarma).toMatch(/descartó como duplicadas 8 secuencias \(de 1 a 8\) del productor «relay-test» que nunca se habían publicado/);

    // Otra vida del relay (tras un reinicio) se niega a publicar: la alarma sobrevive.
    const otraVida = relayLider(almacen, await broker.crearPublicador('relay-test'));
    const fin = await otraVida.ejecutar({ pedido: false });
    expect(fin).toEqual({ tipo: 'alarma', alarma: { tipo: 'alarmaGuardada', productor: 'relay-test', motivo: alarma } });
    expect(filas.filter((f) => f.publicada)).toEqual([]);
  });

  it('las ya numeradas que vuelven duplicadas (republicación tras una caída) sí se marcan, junto a las nuevas aceptadas', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(10);
    const broker = new BrokerEnMemoria();
    const primera = relayLider(almacen, await broker.crearPublicador('relay-test'), {
      tamanoLote: 4,
      antesDeMarcar: () => {
        throw new Error('caída simulada entre publicar y marcar');
      },
    });
    await expect(primera.publicarUnLote()).rejects.toThrow('caída simulada');
    const segunda = relayLider(almacen, await broker.crearPublicador('relay-test'), { tamanoLote: 6 });
    expect(await segunda.preparar()).toEqual({ tipo: 'listo', renumeradas: 0 });
    const resultados: ResultadoPublicacion[][] = [];
    const conResultados = relayLider(almacen, await broker.crearPublicador('relay-test'), {
      tamanoLote: 6,
      alPublicar: (_f, r) => void resultados.push([...r]),
    });
    expect((await vaciar(conResultados)).map((r) => r.tipo)).toEqual(['publicado', 'publicado', 'vacio']);
    expect(resultados[0]).toEqual(['duplicado', 'duplicado', 'duplicado', 'duplicado', 'aceptado', 'aceptado']);
    expect(filas.every((f) => f.publicada)).toBe(true);
    expect(broker.publicados.map((m) => m.secuencia)).toEqual(filas.map((_, i) => i + 1));
    expect((await almacen.estadoProductor('relay-test')).alarma).toBeNull();
  });

  it('al arrancar compara su secuencia con la marca del broker y se niega a funcionar por detrás de ella', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const broker = new BrokerEnMemoria();
    almacen.agregar(20);
    const antes = relayLider(almacen, await broker.crearPublicador('relay-test'));
    await vaciar(antes);
    expect(await (await broker.crearPublicador('relay-test')).ultimaSecuenciaAceptada()).toBe(20);

    // La base se restaura desde una copia anterior: la secuencia del relay vuelve a 12 y llegan filas nuevas.
    almacen.fijarSecuencia('relay-test', 12);
    const nuevas = almacen.agregar(5);
    const despues = relayLider(almacen, await broker.crearPublicador('relay-test'));
    const fin = await despues.ejecutar({ pedido: false });
    expect(fin).toEqual({
      tipo: 'alarma',
      alarma: { tipo: 'porDetrasDelBroker', productor: 'relay-test', secuenciaRelay: 12, marcaBroker: 20 },
    });
    if (fin.tipo === 'alarma') expect(describirAlarma(fin.alarma)).toMatch(/va por detrás de la marca del broker \(20\)/);
    // No numeró ni publicó nada.
    expect(nuevas.map((f) => [f.secuencia, f.publicada])).toEqual(nuevas.map(() => [null, false]));
    expect(broker.publicados).toHaveLength(20);
  });

  it('renombrar el productor no deja huérfanas las filas numeradas con el nombre anterior: se renumeran y se publican', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(9);
    const broker = new BrokerEnMemoria();
    const viejo = await broker.crearPublicador('relay-viejo');
    const conNombreViejo = relayLider(almacen, viejo, {
      tamanoLote: 6,
      antesDeMarcar: () => {
        throw new Error('caída entre publicar y marcar');
      },
    });
    await expect(conNombreViejo.publicarUnLote()).rejects.toThrow();
    const renombrado = await broker.crearPublicador('relay-nuevo');
    const renumeradas: number[] = [];
    const parada = { pedido: false };
    const fin = await crearRelay({
      almacen,
      publicador: renombrado,
      cerca: almacen.ganarLiderazgo(1),
      tamanoLote: 10,
      ...base,
      alRenumerar: (n) => void renumeradas.push(n),
      esperarAviso: async () => {
        parada.pedido = true;
      },
    }).ejecutar(parada);
    expect(fin).toEqual({ tipo: 'parada' });
    expect(renumeradas).toEqual([6]);
    expect(filas.every((f) => f.publicada && f.productor === 'relay-nuevo')).toBe(true);
    // Las 6 llegan dos veces (con cada nombre): el inbox del consumidor absorbe la segunda.
    expect(broker.publicados.filter((m) => m.productor === 'relay-nuevo').map((m) => m.propiedades.id_evento)).toEqual(
      filas.map((f) => f.idEvento),
    );
  });
});

describe('relay: sin liderazgo no publica nada', () => {
  it('si otro relay ganó la época, el reclamo no devuelve nada y el relay se detiene sin publicar', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(15);
    const { aceptados, publicador } = publicadorConDedup();
    const relay = relayLider(almacen, publicador);
    expect(await relay.publicarUnLote()).toEqual({ tipo: 'publicado', filas: 10 });
    almacen.ganarLiderazgo(1); // otro relay gana el cerrojo
    expect(await relay.publicarUnLote()).toEqual({ tipo: 'sinLiderazgo' });
    expect(await relay.ejecutar({ pedido: false })).toEqual({ tipo: 'sinLiderazgo' });
    expect(aceptados).toHaveLength(10);
    expect(filas.filter((f) => f.secuencia !== null)).toHaveLength(10);
  });

  it('si pierde la época entre publicar y marcar, no marca; el nuevo líder republica y marca sin alarma', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(6);
    const broker = new BrokerEnMemoria();
    const viejo = relayLider(almacen, await broker.crearPublicador('relay-test'), { antesDeMarcar: () => void almacen.ganarLiderazgo(1) });
    expect(await viejo.publicarUnLote()).toEqual({ tipo: 'sinLiderazgo' });
    expect(filas.some((f) => f.publicada)).toBe(false);
    const nuevo = relayLider(almacen, await broker.crearPublicador('relay-test'));
    expect((await vaciar(nuevo)).map((r) => r.tipo)).toEqual(['publicado', 'vacio']);
    expect(filas.every((f) => f.publicada)).toBe(true);
    expect(broker.publicados).toHaveLength(6);
  });

  it('un duplicado que llega después de perder la época no es una alarma: el nuevo líder pudo publicar esas filas', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    almacen.agregar(4);
    const broker = new BrokerEnMemoria();
    const publicadorViejo = await broker.crearPublicador('relay-test');
    const cercaVieja = almacen.ganarLiderazgo(1);
    const filasViejas = await almacen.reclamar('relay-test', 10, cercaVieja);
    // El viejo se queda parado con el lote reclamado; el nuevo gana, lo republica y lo marca.
    const nuevo = relayLider(almacen, await broker.crearPublicador('relay-test'));
    await vaciar(nuevo);
    const almacenDelViejo: AlmacenOutbox = {
      reclamar: async () => filasViejas, // su reclamo fue anterior a perder la época
      marcarPublicadas: (ids, c) => almacen.marcarPublicadas(ids, c),
      registrarFallo: (ids, e) => almacen.registrarFallo(ids, e),
      renumerarHuerfanas: (p, c) => almacen.renumerarHuerfanas(p, c),
      estadoProductor: (p) => almacen.estadoProductor(p),
      registrarAlarma: (p, m, c) => almacen.registrarAlarma(p, m, c),
    };
    const viejo = crearRelay({ almacen: almacenDelViejo, publicador: publicadorViejo, cerca: cercaVieja, tamanoLote: 10, ...base });
    expect(await viejo.publicarUnLote()).toEqual({ tipo: 'sinLiderazgo' });
    expect((await almacen.estadoProductor('relay-test')).alarma).toBeNull();
  });
});
