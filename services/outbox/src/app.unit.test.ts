import type { AlmacenOutbox, Publicador } from '@aeropartners/aplicacion';
import { AlmacenOutboxEnMemoria, BrokerEnMemoria } from '@aeropartners/aplicacion/testing';
import { crearLogger, sobreDeFila, type DuplicadoAbsorbido } from '@aeropartners/adaptadores';
import { describe, expect, it } from 'vitest';
import { crearServicioRelay, type Liderazgo } from './app.js';

function loggerEnMemoria() {
  const lineas: Record<string, unknown>[] = [];
  const logger = crearLogger({ servicio: 'test-relay', nivel: 'info', destino: { write: (l: string) => void lineas.push(JSON.parse(l)) } });
  return { logger, lineas };
}

/** Gana el liderazgo enseguida (sube la época del almacén, como el cerrojo consultivo). */
const liderInmediato = (almacen: AlmacenOutboxEnMemoria): Liderazgo => ({
  cerca: almacen.ganarLiderazgo(1),
  esperarAviso: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
  cerrar: async () => {},
});

const base = { aMensaje: sobreDeFila, tamanoLote: 5, intervaloSondeoMs: 5, backoffBaseMs: 1, backoffMaximoMs: 1 };

async function hastaQue(condicion: () => boolean): Promise<void> {
  while (!condicion()) await new Promise((r) => setTimeout(r, 5));
}

describe('servicio del relay', () => {
  it('publica todo el outbox, una línea de registro por evento con su id de correlación, y para limpio', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(23, 4);
    const broker = new BrokerEnMemoria();
    const { logger, lineas } = loggerEnMemoria();
    const servicio = crearServicioRelay({
      ...base,
      almacen,
      crearPublicador: () => broker.crearPublicador('relay-test'),
      esperarLiderazgo: async () => liderInmediato(almacen),
      logger,
    });
    const ejecucion = servicio.ejecutar();
    await hastaQue(() => filas.every((f) => f.publicada));
    await servicio.detener(ejecucion);
    expect(await ejecucion).toEqual({ tipo: 'parada' });
    expect(servicio.contadores()).toMatchObject({ publicados: 23, lotes: 5, fallos: 0, republicados: 0, alarma: 0 });
    expect(servicio.enAlarma()).toBe(false);
    const publicados = lineas.filter((l) => l['msg'] === 'evento publicado');
    expect(publicados.map((l) => l['id_correlacion'])).toEqual(filas.map((f) => f.metadatos.id_correlacion));
    expect(publicados.every((l) => typeof l['id_evento'] === 'string' && typeof l['id_pago'] === 'string')).toBe(true);
  });

  it('con RELAY_ACUMULAR_MS duerme tras cada lote incompleto sin acumular oyentes de la señal de parada', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(30);
    const deUnaEnUna: AlmacenOutbox = {
      reclamar: (p, _limite, cerca) => almacen.reclamar(p, 1, cerca),
      marcarPublicadas: (ids, cerca) => almacen.marcarPublicadas(ids, cerca),
      registrarFallo: (ids, e) => almacen.registrarFallo(ids, e),
      renumerarHuerfanas: (p, cerca) => almacen.renumerarHuerfanas(p, cerca),
      estadoProductor: (p) => almacen.estadoProductor(p),
      registrarAlarma: (p, m, cerca) => almacen.registrarAlarma(p, m, cerca),
    };
    const avisos: Error[] = [];
    const alAviso = (aviso: Error) => void avisos.push(aviso);
    process.on('warning', alAviso);
    try {
      const servicio = crearServicioRelay({
        ...base,
        almacen: deUnaEnUna,
        crearPublicador: () => new BrokerEnMemoria().crearPublicador('relay-test'),
        esperarLiderazgo: async () => liderInmediato(almacen),
        logger: loggerEnMemoria().logger,
        tamanoLote: 100,
        esperaAcumularMs: 1,
      });
      const ejecucion = servicio.ejecutar();
      await hastaQue(() => filas.every((f) => f.publicada));
      await servicio.detener(ejecucion);
      await new Promise((r) => setTimeout(r, 10)); // los avisos de proceso se emiten en un tick posterior
      expect(servicio.contadores()).toMatchObject({ publicados: 30, lotes: 30 });
      expect(avisos.filter((a) => a.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', alAviso);
    }
  });

  it('una caída entre publicar y marcar: la siguiente vida republica el lote con las mismas secuencias y lo cuenta', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(10);
    const broker = new BrokerEnMemoria();
    const { logger } = loggerEnMemoria();
    const comun = { ...base, tamanoLote: 4, almacen, logger, crearPublicador: () => broker.crearPublicador('relay-test') };
    const primera = crearServicioRelay({
      ...comun,
      esperarLiderazgo: async () => liderInmediato(almacen),
      antesDeMarcar: () => {
        throw new Error('caída simulada entre publicar y marcar');
      },
    });
    await primera.ejecutar().catch(() => undefined);
    expect(filas.filter((f) => f.publicada)).toHaveLength(0);
    const duplicados: DuplicadoAbsorbido[] = [];
    const segunda = crearServicioRelay({
      ...comun,
      esperarLiderazgo: async () => liderInmediato(almacen),
      alDuplicado: (d) => duplicados.push(d),
    });
    const ejecucion = segunda.ejecutar();
    await hastaQue(() => filas.every((f) => f.publicada));
    await segunda.detener(ejecucion);
    expect(segunda.contadores().republicados).toBe(4);
    expect(broker.descartadosPorDuplicado).toBe(4);
    // Cada republicación descartada por el broker, al registro de eventos (etapa broker, clave = id del evento).
    expect(segunda.contadores().absorbidosPorElBroker).toBe(4);
    expect(duplicados.map((d) => [d.etapa, d.clave, d.sujeto])).toEqual(filas.slice(0, 4).map((f) => ['broker', f.idEvento, f.idAgregado]));
    expect(broker.publicados).toHaveLength(10);
    expect(segunda.enAlarma()).toBe(false);
  });

  it('el publicador (nombre fijo del productor) se crea solo tras ganar el liderazgo: un relay en reserva no lo crea', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(3);
    let publicadoresCreados = 0;
    const servicio = crearServicioRelay({
      ...base,
      almacen,
      crearPublicador: async () => {
        publicadoresCreados += 1;
        return new BrokerEnMemoria().crearPublicador('relay-test');
      },
      logger: loggerEnMemoria().logger,
      esperarLiderazgo: (senal) => new Promise((r) => senal.addEventListener('abort', () => r(null), { once: true })),
    });
    const ejecucion = servicio.ejecutar();
    await new Promise((r) => setTimeout(r, 30));
    await servicio.detener(ejecucion);
    expect(await ejecucion).toBeNull();
    expect(publicadoresCreados).toBe(0);
    expect(filas.some((f) => f.publicada)).toBe(false);
    expect(servicio.contadores().publicados).toBe(0);
  });

  it('si parar llega mientras se crea el publicador (ProducerBusy reintentándose), sale sin publicar y lo cierra al llegar', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    almacen.agregar(3);
    let entregar: (p: Publicador) => void = () => {};
    let cerrados = 0;
    const servicio = crearServicioRelay({
      ...base,
      almacen,
      crearPublicador: () => new Promise((r) => (entregar = r)),
      logger: loggerEnMemoria().logger,
      esperarLiderazgo: async () => liderInmediato(almacen),
    });
    const ejecucion = servicio.ejecutar();
    await new Promise((r) => setTimeout(r, 10));
    await servicio.detener(ejecucion);
    expect(await ejecucion).toBeNull();
    const publicador = await new BrokerEnMemoria().crearPublicador('relay-test');
    entregar({ ...publicador, cerrar: async () => void (cerrados += 1) });
    await hastaQue(() => cerrados === 1);
    expect(almacen.filas.some((f) => f.publicada)).toBe(false);
  });

  it('una secuencia nueva descartada por el broker: alarma en el registro, en los contadores y en la disponibilidad; nada marcado', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(6);
    const broker = new BrokerEnMemoria();
    await (await broker.crearPublicador('relay-test')).publicar([
      { clave: 'x', secuencia: 4, cuerpo: '{}', propiedades: { id_evento: 'otro', tipo: 'T', version: '1', id_correlacion: 'c' } },
    ]);
    // Sin marca del broker (como Pulsar): la comprobación al arrancar no lo ve, la del envío sí.
    const sinMarca = async () => ({ ...(await broker.crearPublicador('relay-test')), ultimaSecuenciaAceptada: async () => null });
    const { logger, lineas } = loggerEnMemoria();
    const servicio = crearServicioRelay({
      ...base,
      tamanoLote: 10,
      almacen,
      crearPublicador: sinMarca,
      logger,
      esperarLiderazgo: async () => liderInmediato(almacen),
    });
    const fin = await servicio.ejecutar();
    expect(fin?.tipo).toBe('alarma');
    expect(servicio.enAlarma()).toBe(true);
    expect(servicio.contadores()).toMatchObject({ alarma: 1, secuenciasDescartadas: 4, publicados: 0 });
    expect(filas.some((f) => f.publicada)).toBe(false);
    const alarma = lineas.find((l) => l['alarma'] === 'secuenciasDescartadas');
    expect(alarma).toMatchObject({ level: 'error', productor: 'relay-test', secuencias: [1, 2, 3, 4] });
    expect(String(alarma?.['msg'])).toMatch(/^ALARMA del relay: el broker descartó como duplicadas 4 secuencias \(de 1 a 4\)/);
  });

  it('por detrás de la marca del broker al hacerse líder: alarma sin reclamar nada', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(3);
    const broker = new BrokerEnMemoria();
    await (await broker.crearPublicador('relay-test')).publicar([
      { clave: 'x', secuencia: 9, cuerpo: '{}', propiedades: { id_evento: 'otro', tipo: 'T', version: '1', id_correlacion: 'c' } },
    ]);
    const { logger, lineas } = loggerEnMemoria();
    const servicio = crearServicioRelay({
      ...base,
      almacen,
      crearPublicador: () => broker.crearPublicador('relay-test'),
      logger,
      esperarLiderazgo: async () => liderInmediato(almacen),
    });
    expect(await servicio.ejecutar()).toEqual({
      tipo: 'alarma',
      alarma: { tipo: 'porDetrasDelBroker', productor: 'relay-test', secuenciaRelay: null, marcaBroker: 9 },
    });
    expect(servicio.enAlarma()).toBe(true);
    expect(filas.every((f) => f.secuencia === null)).toBe(true);
    expect(lineas.find((l) => l['alarma'] === 'porDetrasDelBroker')).toMatchObject({ secuencia_relay: null, marca_broker: 9 });
  });

  it('si otro relay gana la época, termina con sinLiderazgo sin publicar más', async () => {
    const almacen = new AlmacenOutboxEnMemoria();
    const filas = almacen.agregar(4);
    const broker = new BrokerEnMemoria();
    const servicio = crearServicioRelay({
      ...base,
      almacen,
      crearPublicador: () => broker.crearPublicador('relay-test'),
      logger: loggerEnMemoria().logger,
      esperarLiderazgo: async () => liderInmediato(almacen),
    });
    const ejecucion = servicio.ejecutar();
    await hastaQue(() => filas.every((f) => f.publicada));
    almacen.ganarLiderazgo(1);
    almacen.agregar(4);
    expect(await ejecucion).toEqual({ tipo: 'sinLiderazgo' });
    expect(broker.publicados).toHaveLength(4);
    expect(servicio.enAlarma()).toBe(false);
  });
});
