import type { AlmacenOutbox, FilaOutbox } from '@aeropartners/aplicacion';
import { BrokerEnMemoria } from '@aeropartners/aplicacion/testing';
import { crearLogger } from '@aeropartners/adaptadores';
import { describe, expect, it } from 'vitest';
import { crearServicioRelay, type Liderazgo } from './app.js';

function almacenEnMemoria(n: number) {
  const filas = Array.from({ length: n }, (_, i) => ({
    id: String(i + 1),
    idEvento: `00000000-0000-7000-8000-${String(i + 1).padStart(12, '0')}`,
    idAgregado: `pago-${i % 4}`,
    versionAgregado: 1,
    tipo: 'PagoPendiente',
    payload: { i },
    metadatos: { id_correlacion: `corr-${i}` },
    secuencia: 0,
    intentos: 0,
    publicada: false,
  }));
  let ultima = 0;
  const almacen: AlmacenOutbox = {
    async reclamar(_p, limite): Promise<FilaOutbox[]> {
      const previas = filas.filter((f) => !f.publicada && f.secuencia > 0);
      const nuevas = filas.filter((f) => !f.publicada && f.secuencia === 0).slice(0, Math.max(0, limite - previas.length));
      for (const f of nuevas) f.secuencia = ++ultima;
      return [...previas.map((f) => ({ ...f, yaNumerada: true })), ...nuevas.map((f) => ({ ...f, yaNumerada: false }))];
    },
    async marcarPublicadas(ids) {
      for (const f of filas) if (ids.includes(f.id)) f.publicada = true;
    },
    async registrarFallo() {},
  };
  return { filas, almacen };
}

function loggerEnMemoria() {
  const lineas: Record<string, unknown>[] = [];
  const logger = crearLogger({ servicio: 'test-relay', nivel: 'info', destino: { write: (l: string) => void lineas.push(JSON.parse(l)) } });
  return { logger, lineas };
}

const liderInmediato = (): Liderazgo => ({ esperarAviso: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))), cerrar: async () => {} });

describe('servicio del relay', () => {
  it('publica todo el outbox, una línea de registro por evento con su id de correlación, y para limpio', async () => {
    const { filas, almacen } = almacenEnMemoria(23);
    const broker = new BrokerEnMemoria();
    const { logger, lineas } = loggerEnMemoria();
    const servicio = crearServicioRelay({
      almacen,
      publicador: await broker.crearPublicador('relay-test'),
      esperarLiderazgo: async () => liderInmediato(),
      logger,
      tamanoLote: 5,
      intervaloSondeoMs: 5,
      backoffBaseMs: 1,
      backoffMaximoMs: 1,
    });
    const ejecucion = servicio.ejecutar();
    while (filas.some((f) => !f.publicada)) await new Promise((r) => setTimeout(r, 5));
    await servicio.detener(ejecucion);
    expect(servicio.contadores()).toMatchObject({ publicados: 23, lotes: 5, fallos: 0, republicados: 0 });
    const publicados = lineas.filter((l) => l['msg'] === 'evento publicado');
    expect(publicados.map((l) => l['id_correlacion'])).toEqual(filas.map((_, i) => `corr-${i}`));
    expect(publicados.every((l) => typeof l['id_evento'] === 'string' && typeof l['id_pago'] === 'string')).toBe(true);
  });

  it('con RELAY_ACUMULAR_MS duerme tras cada lote incompleto sin acumular oyentes de la señal de parada', async () => {
    const { filas, almacen } = almacenEnMemoria(30);
    const deUnaEnUna: AlmacenOutbox = { ...almacen, reclamar: (p) => almacen.reclamar(p, 1) };
    const avisos: Error[] = [];
    const alAviso = (aviso: Error) => void avisos.push(aviso);
    process.on('warning', alAviso);
    try {
      const servicio = crearServicioRelay({
        almacen: deUnaEnUna,
        publicador: await new BrokerEnMemoria().crearPublicador('relay-test'),
        esperarLiderazgo: async () => liderInmediato(),
        logger: loggerEnMemoria().logger,
        tamanoLote: 100,
        esperaAcumularMs: 1,
        intervaloSondeoMs: 5,
        backoffBaseMs: 1,
        backoffMaximoMs: 1,
      });
      const ejecucion = servicio.ejecutar();
      while (filas.some((f) => !f.publicada)) await new Promise((r) => setTimeout(r, 5));
      await servicio.detener(ejecucion);
      await new Promise((r) => setTimeout(r, 10)); // los avisos de proceso se emiten en un tick posterior
      expect(servicio.contadores()).toMatchObject({ publicados: 30, lotes: 30 });
      expect(avisos.filter((a) => a.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', alAviso);
    }
  });

  it('una caída entre publicar y marcar: la siguiente vida republica el lote con las mismas secuencias y lo cuenta', async () => {
    const { filas, almacen } = almacenEnMemoria(10);
    const broker = new BrokerEnMemoria();
    const { logger } = loggerEnMemoria();
    const base = { almacen, logger, esperarLiderazgo: async () => liderInmediato(), tamanoLote: 4, intervaloSondeoMs: 5, backoffBaseMs: 1, backoffMaximoMs: 1 };
    const primera = crearServicioRelay({
      ...base,
      publicador: await broker.crearPublicador('relay-test'),
      antesDeMarcar: () => {
        throw new Error('caída simulada entre publicar y marcar');
      },
    });
    await primera.ejecutar().catch(() => undefined);
    expect(filas.filter((f) => f.publicada)).toHaveLength(0);
    const segunda = crearServicioRelay({ ...base, publicador: await broker.crearPublicador('relay-test') });
    const ejecucion = segunda.ejecutar();
    while (filas.some((f) => !f.publicada)) await new Promise((r) => setTimeout(r, 5));
    await segunda.detener(ejecucion);
    expect(segunda.contadores().republicados).toBe(4);
    expect(broker.descartadosPorDuplicado).toBe(4);
    expect(broker.publicados).toHaveLength(10);
  });

  it('si se pide parar mientras espera el liderazgo, sale sin publicar nada', async () => {
    const { filas, almacen } = almacenEnMemoria(3);
    const broker = new BrokerEnMemoria();
    const { logger } = loggerEnMemoria();
    const servicio = crearServicioRelay({
      almacen,
      publicador: await broker.crearPublicador('relay-test'),
      logger,
      esperarLiderazgo: (senal) => new Promise((r) => senal.addEventListener('abort', () => r(null), { once: true })),
      tamanoLote: 5,
      intervaloSondeoMs: 5,
      backoffBaseMs: 1,
      backoffMaximoMs: 1,
    });
    const ejecucion = servicio.ejecutar();
    await servicio.detener(ejecucion);
    expect(filas.some((f) => f.publicada)).toBe(false);
    expect(servicio.contadores().publicados).toBe(0);
  });
});
