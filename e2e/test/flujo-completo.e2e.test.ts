import { afterEach, describe, expect, it } from 'vitest';
import { outboxPorPago } from '../src/consultas.js';
import { Topologia } from '../src/topologia.js';
import { EVENTOS_POR_PAGO, comprobarUnaVez } from './invariantes.js';

interface PagoHttp {
  readonly id: string;
  readonly estado: string;
  readonly version: number;
  readonly mensaje_error: string | null;
  readonly referencia_transaccion: string | null;
}
interface HistorialHttp {
  readonly id_pago: string;
  readonly historial: readonly {
    estado: string;
    version: number;
    tipo_evento: string;
    id_evento: string;
    ocurrido_en: string;
    id_correlacion: string;
  }[];
}
interface EstadisticasHttp {
  readonly total_eventos: number;
  readonly eventos_procesados: number;
  readonly eventos_pendientes: number;
}

describe('flujo completo: api → outbox → broker → consumidor → pasarela, tres procesos reales', () => {
  let topologia: Topologia | undefined;
  afterEach(async () => {
    await topologia?.cerrar();
    topologia = undefined;
  });

  it('cada pago llega a un estado final con su historial y su id de correlación en los tres procesos', async () => {
    const t = (topologia = await Topologia.iniciar({
      // 30 % de rechazos y algún fallo transitorio (reintentado con la misma clave) para ejercitar ambos desenlaces.
      entorno: { consumer: { PASARELA_TASA_RECHAZO: '0.3', PASARELA_TASA_TRANSITORIO: '0.05', PASARELA_BACKOFF_MS: '20' } },
    }));
    const pagos = await t.crearPagos(40, { concurrencia: 20, prefijo: 'flujo' });
    await t.esperarFinales(
      pagos.map((p) => p.id),
      60_000,
    );

    // Lo que ve un cliente por HTTP.
    let vistosPorHttp = 0;
    for (const pago of pagos) {
      const { status, cuerpo } = await t.get<PagoHttp>(`/pagos/${pago.id}`);
      expect(status).toBe(200);
      expect(['EXITOSO', 'FALLIDO']).toContain(cuerpo.estado);
      if (cuerpo.estado === 'EXITOSO') {
        expect(cuerpo.mensaje_error, `pago ${pago.id}`).toBeNull();
        expect(cuerpo.referencia_transaccion, `pago ${pago.id}`).toMatch(/\S/);
      } else {
        expect(cuerpo.mensaje_error, `pago ${pago.id}`).toMatch(/\S/);
        expect(cuerpo.referencia_transaccion, `pago ${pago.id}`).toBeNull();
      }

      const historial = await t.get<HistorialHttp>(`/pagos/${pago.id}/historial`);
      expect(historial.status).toBe(200);
      const entradas = historial.cuerpo.historial;
      expect(entradas.map((h) => [h.estado, h.version, h.tipo_evento])).toEqual([
        ['PENDIENTE', 1, 'PagoPendiente'],
        ['PROCESANDO', 2, 'PagoProcesando'],
        [cuerpo.estado, 3, cuerpo.estado === 'EXITOSO' ? 'PagoExitoso' : 'PagoFallido'],
      ]);
      expect(entradas.map((h) => h.id_correlacion)).toEqual([pago.idCorrelacion, pago.idCorrelacion, pago.idCorrelacion]);
      expect(new Set(entradas.map((h) => h.id_evento)).size).toBe(3);
      const tiempos = entradas.map((h) => Date.parse(h.ocurrido_en));
      expect(tiempos).toEqual([...tiempos].sort((a, b) => a - b));
      vistosPorHttp += 1;
    }
    expect(vistosPorHttp).toBe(pagos.length);

    const resumen = await comprobarUnaVez(t, pagos);
    expect(resumen.comprobados).toBe(pagos.length);
    // Con 40 pagos y 30 % de rechazos, que falte uno de los dos desenlaces tiene probabilidad < 1e-6.
    expect(resumen.exitosos).toBeGreaterThan(0);
    expect(resumen.fallidos).toBeGreaterThan(0);

    // El relay publica los desenlaces después de que el pago es final: las estadísticas acaban en 0 pendientes.
    await t.esperarQue(
      async () => (await t.get<EstadisticasHttp>('/pagos/outbox/estadisticas')).cuerpo.eventos_pendientes === 0,
      20_000,
      'outbox sin pendientes',
    );
    const estadisticas = (await t.get<EstadisticasHttp>('/pagos/outbox/estadisticas')).cuerpo;
    const eventosPorPago = await outboxPorPago(t.pool);
    const totalEventos = [...eventosPorPago.values()].reduce((n, e) => n + e.length, 0);
    expect(estadisticas).toEqual({ total_eventos: totalEventos, eventos_procesados: totalEventos, eventos_pendientes: 0 });
    expect(totalEventos).toBe(EVENTOS_POR_PAGO * pagos.length);

    // El id de correlación de cada petición aparece en los registros de los tres procesos, y toda línea
    // del relay y del consumidor sobre ese pago lleva ese mismo id.
    const ids = new Set(pagos.map((p) => p.id));
    // Por cada evento, una línea «evento publicado» del relay y una del consumidor con su desenlace.
    const publicados = await t.esperarLineas(
      (l) => l.servicio === 'outbox' && l.campos['msg'] === 'evento publicado' && ids.has(String(l.campos['id_pago'])),
      totalEventos,
    );
    const consumidos = await t.esperarLineas(
      (l) => l.servicio === 'consumer' && typeof l.campos['desenlace'] === 'string' && ids.has(String(l.campos['id_pago'])),
      totalEventos,
    );
    expect(publicados.length).toBe(totalEventos);
    expect(consumidos.length).toBe(totalEventos);
    for (const pago of pagos) {
      const sobreElPago = t.lineas().filter((l) => l.campos['id_pago'] === pago.id);
      const deApi = sobreElPago.filter((l) => l.servicio === 'api' && l.campos['metodo'] === 'POST');
      expect(
        deApi.map((l) => l.campos['id_correlacion']),
        `api, pago ${pago.id}`,
      ).toEqual([pago.idCorrelacion]);
      const delPipeline = sobreElPago.filter((l) => l.servicio !== 'api');
      for (const servicio of ['outbox', 'consumer'] as const) {
        expect(delPipeline.filter((l) => l.servicio === servicio).length, `${servicio}, pago ${pago.id}`).toBeGreaterThanOrEqual(
          EVENTOS_POR_PAGO,
        );
      }
      expect(
        delPipeline.filter((l) => l.campos['id_correlacion'] !== pago.idCorrelacion).map((l) => l.campos),
        `líneas del pago ${pago.id} con otro id de correlación`,
      ).toEqual([]);
    }

    // SIGTERM: los tres terminan lo que tienen y salen con 0.
    const salidas = await t.detenerTodo();
    expect(salidas).toEqual({
      api: { codigo: 0, senal: null },
      outbox: { codigo: 0, senal: null },
      consumer: { codigo: 0, senal: null },
    });
  }, 120_000);
});
