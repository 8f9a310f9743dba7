import { afterEach, describe, expect, it } from 'vitest';
import { inbox, mensajesEnCola, outboxPorPago } from '../src/consultas.js';
import { Topologia } from '../src/topologia.js';
import { EVENTOS_POR_PAGO, comprobarUnaVez } from './invariantes.js';

describe('entregas duplicadas por el broker (BROKER_DUPLICAR_ENTREGAS en el relay)', () => {
  let topologia: Topologia | undefined;
  afterEach(async () => {
    await topologia?.cerrar();
    topologia = undefined;
  });

  it('cada mensaje llega dos veces: un cargo por pago, un desenlace cada uno, y los duplicados contados', async () => {
    const t = (topologia = await Topologia.iniciar({ entorno: { outbox: { BROKER_DUPLICAR_ENTREGAS: 'true' } } }));
    const pagos = await t.crearPagos(40, { concurrencia: 20, prefijo: 'duplicado' });
    await t.esperarFinales(
      pagos.map((p) => p.id),
      60_000,
    );
    const resumen = await comprobarUnaVez(t, pagos);
    expect(resumen.comprobados).toBe(pagos.length);

    // Esperar a que todo lo publicado (incluidos los desenlaces y sus copias) se haya consumido:
    // primero el outbox vacío (todo está en el broker), después la cola del broker vacía.
    await t.esperarQue(
      async () => {
        const { rows } = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL');
        return rows[0]?.n === 0 && (await mensajesEnCola(t.pool)) === 0;
      },
      30_000,
      'outbox publicado y cola del broker vacía',
    );
    const totalEventos = [...(await outboxPorPago(t.pool)).values()].reduce((n, e) => n + e.length, 0);
    expect(totalEventos).toBe(EVENTOS_POR_PAGO * pagos.length);

    const relay = await t.contadores('outbox');
    const consumidor = await t.contadores('consumer');
    // El relay publicó cada evento una vez y el broker encoló una copia extra de cada uno.
    expect(relay['publicados']).toBe(totalEventos);
    if ('broker_duplicados_inyectados' in relay) expect(relay['broker_duplicados_inyectados']).toBe(totalEventos);
    // El consumidor recibió las dos copias de cada evento; el inbox absorbió (y contó) cada segunda copia.
    expect(consumidor['recibidos']).toBe(2 * totalEventos);
    expect(consumidor['duplicados']).toBe(totalEventos);
    expect(consumidor['procesados']).toBe(pagos.length);
    expect(consumidor['muertos']).toBe(0);
    // Una anotación en el inbox por evento, ni una más.
    const anotaciones = await inbox(t.pool);
    expect(anotaciones.length).toBe(totalEventos);
    expect(new Set(anotaciones.map((a) => a.id_evento)).size).toBe(totalEventos);
    // Y el consumidor lo dijo en sus registros: una línea «evento duplicado» por copia absorbida.
    expect((await t.esperarLineas((l) => l.servicio === 'consumer' && l.campos['desenlace'] === 'duplicado', totalEventos)).length).toBe(
      totalEventos,
    );
  }, 120_000);
});
