import { afterEach, describe, expect, it } from 'vitest';
import { inbox, mensajesEnCola, mensajesMuertos, outboxPorPago } from '../src/consultas.js';
import { Topologia, type PagoCreado } from '../src/topologia.js';
import { EVENTOS_POR_PAGO, comprobarUnaVez } from './invariantes.js';

const RELAYS = 2;
const CONSUMIDORES = 3;
const PAGOS_ANTES = 80;
const TROZOS = 12;
const PAGOS_POR_TROZO = 20;

describe('varias instancias: 2 API, 2 relays (uno en reserva) y 3 consumidores sobre la misma base', () => {
  let topologia: Topologia | undefined;
  afterEach(async () => {
    await topologia?.cerrar();
    topologia = undefined;
  });

  it('SIGKILL al relay líder con carga en curso: el de reserva toma el relevo y nada se pierde ni se duplica', async () => {
    const t = (topologia = await Topologia.iniciar({
      instancias: { api: 2, outbox: RELAYS, consumer: CONSUMIDORES },
      entorno: {
        // Lotes pequeños: el líder está a mitad de algo (reclamado, publicado sin marcar…) cuando muere.
        outbox: { RELAY_LOTE: '10', RELAY_SONDEO_MS: '100' },
        consumer: { PASARELA_LATENCIA_MIN_MS: '5', PASARELA_LATENCIA_MAX_MS: '40', CONSUMIDOR_EN_VUELO: '16' },
      },
    }));

    // Primera tanda: solo un relay publica; el otro espera el cerrojo sin publicar nada.
    const antes = await t.crearPagos(PAGOS_ANTES, { concurrencia: 8, prefijo: 'antes' });
    await t.esperarQue(
      async () => (await publicadosPorRelay(t)).reduce((a, b) => a + b, 0) >= PAGOS_ANTES,
      60_000,
      `los relays publican los ${PAGOS_ANTES} PagoPendiente de la primera tanda`,
    );
    const publicados = await publicadosPorRelay(t);
    expect(
      publicados.filter((n) => n > 0),
      `publicados por relay: ${JSON.stringify(publicados)}`,
    ).toHaveLength(1);
    const lider = publicados.findIndex((n) => n > 0) + 1;
    const reserva = lider === 1 ? 2 : 1;

    // Segunda tanda en trozos; tras el cuarto, SIGKILL al líder, y la carga sigue.
    const durante: PagoCreado[] = [];
    let publicadosAlMorir = 0;
    let pendientesAlMorir = 0;
    for (let trozo = 1; trozo <= TROZOS; trozo += 1) {
      durante.push(...(await t.crearPagos(PAGOS_POR_TROZO, { concurrencia: 5, prefijo: `durante-${trozo}` })));
      if (trozo !== 4) continue;
      publicadosAlMorir = (await t.contadores('outbox', lider))['publicados'] ?? 0;
      const { rows } = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL');
      pendientesAlMorir = rows[0]?.n ?? 0;
      expect((await t.matar('outbox', 'SIGKILL', lider)).senal).toBe('SIGKILL');
    }

    // El de reserva toma el cerrojo y publica lo que quedaba (incluido lo que el líder dejó a medias).
    await t.esperarQue(
      async () => ((await t.contadores('outbox', reserva))['publicados'] ?? 0) > 0,
      30_000,
      `relay ${reserva} toma el relevo`,
    );
    const pagos: PagoCreado[] = [...antes, ...durante];
    const ids = pagos.map((p) => p.id);

    await t.esperarFinales(ids, 120_000);
    const resumen = await comprobarUnaVez(t, pagos);
    expect(resumen.comprobados).toBe(PAGOS_ANTES + TROZOS * PAGOS_POR_TROZO);

    await t.esperarQue(
      async () => {
        const { rows } = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL');
        return rows[0]?.n === 0 && (await mensajesEnCola(t.pool)) === 0;
      },
      60_000,
      'outbox publicado entero y cola del broker vacía',
    );

    // Un pago por referencia: ninguna petición creó dos.
    const { rows: repetidas } = await t.pool.query<{ referencia_pago: string; n: number }>(
      'SELECT referencia_pago, count(*)::int AS n FROM pagos GROUP BY referencia_pago HAVING count(*) > 1',
    );
    expect(repetidas).toEqual([]);

    // Cada evento del outbox está en el inbox, una sola vez, y no hay nada más.
    const eventos = [...(await outboxPorPago(t.pool)).values()].flat();
    expect(eventos).toHaveLength(EVENTOS_POR_PAGO * pagos.length);
    const anotaciones = await inbox(t.pool);
    expect(anotaciones.map((a) => a.id_evento).sort()).toEqual(eventos.map((e) => e.id_evento).sort());
    expect(await mensajesMuertos(t.pool)).toEqual([]);

    const relayReserva = await t.contadores('outbox', reserva);
    const consumidores = await Promise.all([1, 2, 3].map((n) => t.contadores('consumer', n)));
    const aplicados = consumidores.reduce((suma, c) => suma + (c['recibidos'] ?? 0) - (c['duplicados'] ?? 0), 0);
    expect(aplicados).toBe(eventos.length);
    console.info(
      `relay líder ${lider}: ${publicadosAlMorir} publicados al morir, ${pendientesAlMorir} filas sin publicar en el outbox; relay ${reserva} (relevo): ${JSON.stringify(relayReserva)}; ` +
        `consumidores (recibidos/duplicados): ${consumidores.map((c) => `${c['recibidos']}/${c['duplicados']}`).join(', ')}; ` +
        `EXITOSO ${resumen.exitosos}, FALLIDO ${resumen.fallidos}`,
    );
  }, 240_000);
});

async function publicadosPorRelay(t: Topologia): Promise<number[]> {
  const vivos = Array.from({ length: RELAYS }, (_, i) => i + 1);
  return Promise.all(vivos.map(async (n) => (t.vivo('outbox', n) ? ((await t.contadores('outbox', n))['publicados'] ?? 0) : 0)));
}
