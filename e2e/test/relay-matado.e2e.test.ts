import { afterEach, describe, expect, it } from 'vitest';
import { inbox, mensajesEnCola, outboxPorPago } from '../src/consultas.js';
import { Topologia } from '../src/topologia.js';
import { EVENTOS_POR_PAGO, comprobarUnaVez } from './invariantes.js';

const LOTE = 5;
const PRODUCTOR = 'relay-outbox-0';

describe('relay matado entre publicar un lote y marcarlo (RELAY_MORIR_TRAS_PUBLICAR)', () => {
  let topologia: Topologia | undefined;
  afterEach(async () => {
    await topologia?.cerrar();
    topologia = undefined;
  });

  it('al reiniciarlo republica el lote con las mismas secuencias: nada se pierde y nada se aplica dos veces', async () => {
    const t = (topologia = await Topologia.iniciar({
      arrancar: ['api', 'consumer'],
      entorno: { outbox: { RELAY_LOTE: String(LOTE), RELAY_PRODUCTOR: PRODUCTOR } },
    }));
    // Los pagos existen antes de que arranque el relay: los lotes salen llenos y el 2.º es exactamente LOTE filas.
    const pagos = await t.crearPagos(30, { concurrencia: 15, prefijo: 'relay' });
    const ids = pagos.map((p) => p.id);

    await t.arrancar('outbox', { RELAY_MORIR_TRAS_PUBLICAR: '2' });
    const muerte = await t.esperarSalida('outbox', 30_000);
    expect(muerte.senal).toBe('SIGKILL');

    // El lote 2: numerado (secuencia asignada) y aceptado por el broker, pero sin marcar en el outbox.
    const { rows: sinMarcar } = await t.pool.query<{ id_evento: string; secuencia: string }>(
      `SELECT id_evento::text AS id_evento, secuencia::text AS secuencia FROM outbox
       WHERE secuencia IS NOT NULL AND fecha_publicacion IS NULL ORDER BY outbox.secuencia`,
    );
    expect(sinMarcar.length).toBe(LOTE);
    const { rows: marca } = await t.pool.query<{ ultima_secuencia: string }>(
      'SELECT ultima_secuencia::text AS ultima_secuencia FROM broker.productores WHERE topico = $1 AND productor = $2',
      ['pagos', PRODUCTOR],
    );
    expect(marca[0]?.ultima_secuencia).toBe(sinMarcar.at(-1)!.secuencia);
    const secuenciaDe = new Map(sinMarcar.map((f) => [f.id_evento, f.secuencia]));

    // El consumidor ya aplicó lo que el broker aceptó, incluido el lote sin marcar.
    await t.esperarQue(
      async () => {
        const anotados = new Set((await inbox(t.pool)).map((a) => a.id_evento));
        return sinMarcar.every((f) => anotados.has(f.id_evento));
      },
      30_000,
      'el consumidor aplica el lote publicado y no marcado',
    );
    const inboxAntes = new Map((await inbox(t.pool)).map((a) => [a.id_evento, a.procesado_en.getTime()]));

    await t.reiniciar('outbox', { RELAY_MORIR_TRAS_PUBLICAR: '0' });
    await t.esperarFinales(ids, 60_000);
    const resumen = await comprobarUnaVez(t, pagos);
    expect(resumen.comprobados).toBe(pagos.length);

    await t.esperarQue(
      async () => {
        const { rows } = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL');
        return rows[0]?.n === 0 && (await mensajesEnCola(t.pool)) === 0;
      },
      30_000,
      'outbox publicado y cola del broker vacía',
    );

    // Las filas del lote se republicaron en la vida 2 con la MISMA secuencia (y quedan marcadas).
    const eventos = [...(await outboxPorPago(t.pool)).values()].flat();
    const totalEventos = eventos.length;
    expect(totalEventos).toBe(EVENTOS_POR_PAGO * pagos.length);
    for (const f of sinMarcar) {
      const fila = eventos.find((e) => e.id_evento === f.id_evento);
      expect(fila?.publicado, `evento ${f.id_evento}`).toBe(true);
      expect(fila?.secuencia, `evento ${f.id_evento}`).toBe(f.secuencia);
      const republicado = t
        .lineas('outbox')
        .filter((l) => l.vida === 2 && l.campos['id_evento'] === f.id_evento && l.campos['msg'] === 'evento publicado');
      expect(
        republicado.map((l) => String(l.campos['secuencia'])),
        `evento ${f.id_evento} en la vida 2`,
      ).toEqual([secuenciaDe.get(f.id_evento)]);
    }

    // Nada se aplicó dos veces: las anotaciones del lote no cambiaron, y hay una por evento.
    const anotaciones = await inbox(t.pool);
    expect(anotaciones.length).toBe(totalEventos);
    for (const f of sinMarcar) {
      expect(anotaciones.find((a) => a.id_evento === f.id_evento)?.procesado_en.getTime()).toBe(inboxAntes.get(f.id_evento));
    }

    // La republicación la absorbió alguien y lo contó: la deduplicación del broker (por productor y
    // secuencia) o, si aun así llegó, el inbox del consumidor. Entre los dos, exactamente el lote.
    const relay = await t.contadores('outbox');
    const consumidor = await t.contadores('consumer');
    const descartadosPorBroker = relay['broker_descartados_por_duplicado'] ?? 0;
    expect(descartadosPorBroker + (consumidor['duplicados'] ?? 0)).toBe(LOTE);
    // La segunda vida sabe que republicó exactamente el lote que la primera dejó sin marcar.
    expect(relay['republicados']).toBe(LOTE);
    expect((consumidor['recibidos'] ?? 0) - (consumidor['duplicados'] ?? 0)).toBe(totalEventos);
    console.info(
      `relay vida 2: ${JSON.stringify(relay)}; consumidor: recibidos ${consumidor['recibidos']}, duplicados ${consumidor['duplicados']}`,
    );
  }, 120_000);
});
