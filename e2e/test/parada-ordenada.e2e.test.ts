import { afterEach, describe, expect, it } from 'vitest';
import { mensajesMuertos } from '../src/consultas.js';
import { Topologia } from '../src/topologia.js';
import { comprobarUnaVez } from './invariantes.js';

const PAGOS = 120;
const REINICIOS = 2;

describe('reinicio ordenado (SIGTERM) con mensajes en vuelo', () => {
  let topologia: Topologia | undefined;
  afterEach(async () => {
    await topologia?.cerrar();
    topologia = undefined;
  });

  it('el consumidor que recibe SIGTERM termina lo que tiene en vuelo y sale con 0; su sucesor sigue: nada se pierde ni se cobra dos veces', async () => {
    const t = (topologia = await Topologia.iniciar({
      arrancar: ['api', 'outbox'],
      entorno: {
        consumer: {
          // Pasarela lenta (400–1200 ms) y 8 en vuelo (~10 pagos/s): al llegar cada SIGTERM hay cobros a
          // medias y quedan pagos de sobra para el reinicio siguiente, aunque la máquina esté cargada.
          PASARELA_LATENCIA_MIN_MS: '400',
          PASARELA_LATENCIA_MAX_MS: '1200',
          PASARELA_TASA_RECHAZO: '0.2',
          CONSUMIDOR_EN_VUELO: '8',
          PG_POOL_SIZE: '24',
        },
      },
    }));
    const pagos = await t.crearPagos(PAGOS, { concurrencia: 20, prefijo: 'sigterm' });
    const ids = pagos.map((p) => p.id);
    await t.arrancar('consumer');

    let finalesAntes = 0;
    for (let reinicio = 1; reinicio <= REINICIOS; reinicio += 1) {
      const vida = reinicio;
      await t.esperarQue(
        async () => {
          const { rows } = await t.pool.query<{ finales: number; procesando: number }>(
            `SELECT count(*) FILTER (WHERE estado IN ('EXITOSO', 'FALLIDO'))::int AS finales,
                    count(*) FILTER (WHERE estado = 'PROCESANDO')::int AS procesando
             FROM pagos WHERE id = ANY($1::uuid[])`,
            [ids],
          );
          return rows[0]!.finales >= finalesAntes + 5 && rows[0]!.procesando >= 4;
        },
        60_000,
        `progreso y cobros en vuelo antes del reinicio ${reinicio}`,
      );
      const { rows: enVuelo } = await t.pool.query<{ id: string }>(
        `SELECT id::text AS id FROM pagos WHERE id = ANY($1::uuid[]) AND estado = 'PROCESANDO'`,
        [ids],
      );
      expect(enVuelo.length).toBeGreaterThanOrEqual(4);

      const salida = await t.matar('consumer', 'SIGTERM');
      expect(salida, `salida de la vida ${vida}`).toEqual({ codigo: 0, senal: null });

      // Drenado: lo que estaba en manos del consumidor al llegar SIGTERM lo terminó ÉL antes de salir.
      const { rows: aMedias } = await t.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pagos WHERE id = ANY($1::uuid[]) AND estado = 'PROCESANDO'`,
        [ids],
      );
      expect(aMedias[0]?.n, 'pagos en PROCESANDO tras una parada ordenada').toBe(0);
      // «consumidor detenido» es su última línea: con ella, han llegado todas las anteriores.
      const [detenido] = await t.esperarLineas(
        (l) => l.servicio === 'consumer' && l.vida === vida && l.campos['msg'] === 'consumidor detenido',
        1,
      );
      expect(detenido?.campos['errores'], 'errores de la vida detenida').toBe(0);
      for (const { id } of enVuelo) {
        const lineas = t.lineas('consumer').filter((l) => l.campos['id_pago'] === id && l.campos['desenlace'] === 'procesado');
        expect(
          lineas.map((l) => l.vida),
          `pago ${id} en vuelo al llegar SIGTERM`,
        ).toEqual([vida]);
      }

      const { rows: cuenta } = await t.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pagos WHERE id = ANY($1::uuid[]) AND estado IN ('EXITOSO', 'FALLIDO')`,
        [ids],
      );
      finalesAntes = cuenta[0]!.n;
      expect(finalesAntes, 'el reinicio debe llegar antes de terminar').toBeLessThan(PAGOS);
      await t.arrancar('consumer');
      // El relay también se reinicia con SIGTERM a mitad del flujo (termina su lote y suelta el cerrojo).
      if (reinicio === 1) await t.reiniciar('outbox');
    }

    await t.esperarFinales(ids, 120_000);
    const resumen = await comprobarUnaVez(t, pagos);
    expect(resumen.comprobados).toBe(PAGOS);
    for (const id of ids) {
      const procesados = t.lineas('consumer').filter((l) => l.campos['id_pago'] === id && l.campos['desenlace'] === 'procesado');
      expect(procesados.length, `pago ${id}: líneas «procesado»`).toBeLessThanOrEqual(1);
    }
    expect(await mensajesMuertos(t.pool)).toEqual([]);

    // Los tres servicios salen limpios con SIGTERM.
    const salidas = await t.detenerTodo();
    expect(salidas).toEqual({
      consumer: { codigo: 0, senal: null },
      outbox: { codigo: 0, senal: null },
      api: { codigo: 0, senal: null },
    });
    await t.esperarLineas((l) => l.servicio === 'api' && l.campos['msg'] === 'API detenida', 1);
    await t.esperarLineas((l) => l.servicio === 'outbox' && l.campos['msg'] === 'relay detenido', 2);
  }, 180_000);
});
