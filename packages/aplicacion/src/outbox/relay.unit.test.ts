import { describe, expect, it } from 'vitest';
import type { MensajeSaliente, Publicador } from '../mensajeria/puertos-broker.js';
import type { AlmacenOutbox, FilaOutbox } from './puertos-outbox.js';
import { crearRelay } from './relay.js';

/** Outbox en memoria con la semántica de reclamo del adaptador: secuencias asignadas al reclamar. */
function almacenEnMemoria(n: number) {
  const filas = Array.from({ length: n }, (_, i) => ({
    id: String(i + 1),
    idEvento: `ev-${i + 1}`,
    idAgregado: `pago-${i % 3}`,
    versionAgregado: Math.floor(i / 3) + 1,
    tipo: 'PagoPendiente',
    payload: { i },
    metadatos: { id_correlacion: `corr-${i}` },
    secuencia: 0,
    intentos: 0,
    publicada: false,
    ultimoError: null as string | null,
  }));
  let ultimaSecuencia = 0;
  const almacen: AlmacenOutbox = {
    async reclamar(_productor, limite): Promise<FilaOutbox[]> {
      const yaNumeradas = filas.filter((f) => !f.publicada && f.secuencia > 0);
      const nuevas = filas.filter((f) => !f.publicada && f.secuencia === 0).slice(0, Math.max(0, limite - yaNumeradas.length));
      for (const f of nuevas) f.secuencia = ++ultimaSecuencia;
      return [...yaNumeradas.map((f) => ({ ...f, yaNumerada: true })), ...nuevas.map((f) => ({ ...f, yaNumerada: false }))].slice(0, limite);
    },
    async marcarPublicadas(ids) {
      for (const f of filas) if (ids.includes(f.id)) f.publicada = true;
    },
    async registrarFallo(ids, error) {
      for (const f of filas) if (ids.includes(f.id)) {
        f.intentos += 1;
        f.ultimoError = error;
      }
    },
  };
  return { filas, almacen };
}

/** Broker con deduplicación por secuencia, como Pulsar: descarta secuencias ≤ la mayor vista. */
function publicadorConDedup(fallarLlamadas: number[] = []) {
  const aceptados: MensajeSaliente[] = [];
  let mayor = -1;
  let llamadas = 0;
  const publicador: Publicador = {
    nombreProductor: 'relay-test',
    ultimaSecuenciaAceptada: async () => mayor,
    async publicar(mensajes) {
      llamadas += 1;
      // Acepta la mitad del lote y luego falla, si así se pidió: caída a mitad de publicación.
      const hasta = fallarLlamadas.includes(llamadas) ? Math.floor(mensajes.length / 2) : mensajes.length;
      const resultados: ('aceptado' | 'duplicado')[] = [];
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

describe('relay del outbox', () => {
  it('dado un outbox con filas, cuando corre, entonces publica todas una vez y en orden de secuencia', async () => {
    const { filas, almacen } = almacenEnMemoria(25);
    const { aceptados, publicador } = publicadorConDedup();
    const relay = crearRelay({ almacen, publicador, tamanoLote: 10, esperarAviso: async () => {}, intervaloSondeoMs: 1, backoffBaseMs: 1, backoffMaximoMs: 1 });
    while ((await relay.publicarUnLote()) > 0);
    expect(filas.every((f) => f.publicada)).toBe(true);
    expect(aceptados.map((m) => m.propiedades.id_evento)).toEqual(filas.map((f) => f.idEvento));
    expect(aceptados.map((m) => m.secuencia)).toEqual(filas.map((_, i) => i + 1));
    expect(aceptados[0]).toMatchObject({ clave: 'pago-0', propiedades: { tipo: 'PagoPendiente', version: '1', id_correlacion: 'corr-0' } });
  });

  it('dado un fallo a mitad de lote, entonces reintenta con las mismas secuencias: nada perdido, nada duplicado', async () => {
    const { filas, almacen } = almacenEnMemoria(20);
    const { aceptados, publicador } = publicadorConDedup([1, 2]);
    const esperas: number[] = [];
    const relay = crearRelay({
      almacen,
      publicador,
      tamanoLote: 8,
      esperarAviso: async () => {},
      intervaloSondeoMs: 1,
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
    const { filas, almacen } = almacenEnMemoria(5);
    const { publicador } = publicadorConDedup();
    const parada = { pedido: false };
    let avisos = 0;
    const relay = crearRelay({
      almacen,
      publicador,
      tamanoLote: 100,
      esperarAviso: async () => {
        avisos += 1;
        parada.pedido = true;
      },
      intervaloSondeoMs: 1,
      backoffBaseMs: 1,
      backoffMaximoMs: 1,
    });
    await relay.ejecutar(parada);
    expect(filas.every((f) => f.publicada)).toBe(true);
    expect(avisos).toBe(1);
  });

  it('con esperaAcumularMs, tras un lote incompleto espera antes de reclamar otro; tras uno lleno o vacío, no', async () => {
    const { filas, almacen } = almacenEnMemoria(25);
    const { aceptados, publicador } = publicadorConDedup();
    const parada = { pedido: false };
    const esperas: string[] = [];
    const relay = crearRelay({
      almacen,
      publicador,
      tamanoLote: 10,
      esperaAcumularMs: 20,
      esperarAviso: async () => {
        esperas.push('aviso');
        parada.pedido = true;
      },
      intervaloSondeoMs: 1,
      backoffBaseMs: 1,
      backoffMaximoMs: 1,
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
