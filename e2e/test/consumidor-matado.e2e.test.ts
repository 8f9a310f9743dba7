import { afterEach, describe, expect, it } from 'vitest';
import { libroPorPago } from '../src/consultas.js';
import { Topologia } from '../src/topologia.js';
import { comprobarUnaVez } from './invariantes.js';

const PAGOS = 120;
const MUERTES = 2;
/** `application_name` de las conexiones de pagos del consumidor (services/consumer/src/main.ts). */
const APLICACION_CONSUMIDOR = 'aeropartners-pagos-consumer';

describe('consumidor matado con SIGKILL con llamadas a la pasarela en vuelo', () => {
  let topologia: Topologia | undefined;
  afterEach(async () => {
    await topologia?.cerrar();
    topologia = undefined;
  });

  it('tras reiniciarlo, todo pago es final y cada pago EXITOSO tiene exactamente un cargo', async () => {
    const t = (topologia = await Topologia.iniciar({
      arrancar: ['api', 'outbox'],
      entorno: {
        consumer: {
          // Pasarela lenta (300–800 ms) y 16 en vuelo: siempre hay cobros a medias cuando llega el SIGKILL.
          PASARELA_LATENCIA_MIN_MS: '300',
          PASARELA_LATENCIA_MAX_MS: '800',
          PASARELA_TASA_RECHAZO: '0.2',
          CONSUMIDOR_EN_VUELO: '16',
          // Una conexión por mensaje en vuelo: todos pueden quedar esperando el cerrojo a la vez.
          PG_POOL_SIZE: '24',
        },
      },
    }));
    const pagos = await t.crearPagos(PAGOS, { concurrencia: 20, prefijo: 'sigkill' });
    const ids = pagos.map((p) => p.id);
    await t.arrancar('consumer');

    const huerfanosPorMuerte: string[][] = [];
    let finalesAntes = 0;
    for (let muerte = 1; muerte <= MUERTES; muerte += 1) {
      // Matar cuando este proceso ya terminó algunos pagos, tiene cobros en vuelo (pagos en PROCESANDO) y
      // ya no queda ningún huérfano de la muerte anterior por terminar.
      const anteriores = huerfanosPorMuerte.flat();
      await t.esperarQue(
        async () => {
          const { rows } = await t.pool.query<{ finales: number; procesando: number; huerfanos: number }>(
            `SELECT count(*) FILTER (WHERE estado IN ('EXITOSO', 'FALLIDO'))::int AS finales,
                    count(*) FILTER (WHERE estado = 'PROCESANDO')::int AS procesando,
                    count(*) FILTER (WHERE estado = 'PROCESANDO' AND id = ANY($2::uuid[]))::int AS huerfanos
             FROM pagos WHERE id = ANY($1::uuid[])`,
            [ids, anteriores],
          );
          const f = rows[0]!;
          return f.finales >= finalesAntes + 10 && f.procesando >= 4 && f.huerfanos === 0;
        },
        60_000,
        `progreso y cobros en vuelo antes de la muerte ${muerte}`,
      );

      // La ventana peligrosa, a propósito: se bloquean las filas de los pagos en PROCESANDO. La pasarela
      // decide (y cobra) cada uno, y el consumidor se queda esperando el cerrojo al confirmar el desenlace.
      // Entonces SIGKILL, y se cortan sus conexiones para que ninguna sentencia huérfana confirme nada.
      const cerrojo = await t.pool.connect();
      let cobradosSinConfirmar: string[];
      try {
        await cerrojo.query('BEGIN');
        const { rows } = await cerrojo.query<{ id: string }>(
          `SELECT id::text AS id FROM pagos WHERE id = ANY($1::uuid[]) AND estado = 'PROCESANDO' FOR UPDATE`,
          [ids],
        );
        cobradosSinConfirmar = rows.map((r) => r.id);
        expect(cobradosSinConfirmar.length).toBeGreaterThan(0);
        await t.esperarQue(
          async () => {
            const libro = await libroPorPago(t.pool);
            const { rows: esperando } = await t.pool.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`,
              [APLICACION_CONSUMIDOR],
            );
            // Las confirmaciones se agrupan en lotes (una sentencia para varios pagos): basta con que la
            // pasarela haya decidido todos los retenidos y alguna sentencia del consumidor espere el cerrojo.
            return cobradosSinConfirmar.every((id) => libro.has(id)) && (esperando[0]?.n ?? 0) >= 1;
          },
          20_000,
          'la pasarela decide los pagos retenidos y el consumidor espera para confirmarlos',
        );
        const salida = await t.matar('consumer', 'SIGKILL');
        expect(salida.senal).toBe('SIGKILL');
        await t.pool.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
          [APLICACION_CONSUMIDOR],
        );
      } finally {
        await cerrojo.query('ROLLBACK').catch(() => undefined);
        cerrojo.release();
      }

      // Lo que el proceso muerto dejó a medias: pagos en PROCESANDO, entre ellos todos los ya decididos
      // por la pasarela (cobrados o rechazados) cuyo desenlace no llegó a confirmarse.
      const { rows } = await t.pool.query<{ id: string }>(
        `SELECT id::text AS id FROM pagos WHERE id = ANY($1::uuid[]) AND estado = 'PROCESANDO'`,
        [ids],
      );
      const huerfanos = rows.map((r) => r.id);
      expect(huerfanos).toEqual(expect.arrayContaining(cobradosSinConfirmar));
      huerfanosPorMuerte.push(huerfanos);
      const { rows: cuenta } = await t.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pagos WHERE id = ANY($1::uuid[]) AND estado IN ('EXITOSO', 'FALLIDO')`,
        [ids],
      );
      finalesAntes = cuenta[0]!.n;
      expect(finalesAntes, 'la muerte debe llegar antes de terminar').toBeLessThan(PAGOS);
      console.info(
        `muerte ${muerte}: ${huerfanos.length} pagos en PROCESANDO, ${cobradosSinConfirmar.length} ya decididos por la pasarela`,
      );

      await t.reiniciar('consumer');
    }

    const finales = await t.esperarFinales(ids, 120_000);
    const resumen = await comprobarUnaVez(t, pagos);
    expect(resumen.comprobados).toBe(PAGOS);
    expect(resumen.exitosos).toBeGreaterThan(0);

    // Ningún pago se llevó a su desenlace dos veces (una sola línea «procesado» entre todas las vidas), y los
    // huérfanos de cada muerte los terminó una vida posterior, en una reentrega. Las líneas de una vida
    // matada pueden perderse (el registro es asíncrono): se exigen las de los huérfanos de la última muerte,
    // que terminó la vida que sigue viva.
    const procesadoDe = (id: string) =>
      t.lineas('consumer').filter((l) => l.campos['id_pago'] === id && l.campos['desenlace'] === 'procesado');
    for (const pago of pagos) expect(procesadoDe(pago.id).length, `pago ${pago.id}: líneas «procesado»`).toBeLessThanOrEqual(1);
    const ultimos = huerfanosPorMuerte.at(-1)!;
    await t.esperarQue(() => ultimos.every((id) => procesadoDe(id).length === 1), 10_000, 'registros de los huérfanos de la última muerte');
    for (const [i, huerfanos] of huerfanosPorMuerte.entries()) {
      for (const id of huerfanos) {
        for (const linea of procesadoDe(id)) {
          expect(linea.vida, `pago ${id}`).toBeGreaterThan(i + 1);
          expect(linea.campos['entregas'], `pago ${id}: entrega`).toBeGreaterThanOrEqual(2);
        }
      }
    }

    // La comprobación no es vacua: un segundo cobro (otra clave, mismo pago) forjado en el libro la hace fallar.
    const cobrado = pagos.find((p) => finales.get(p.id)?.estado === 'EXITOSO')!;
    await t.pool.query(
      `INSERT INTO pasarela_simulada.cargos (clave_idempotencia, id_pago, resultado, referencia_transaccion, unidades_menores, moneda, intentos, id_correlacion)
       VALUES ($1, $2, 'exitoso', 'ch_forjado', 100, 'USD', 1, 'forjado')`,
      [`forjada-${cobrado.id}`, cobrado.id],
    );
    await expect(comprobarUnaVez(t, pagos)).rejects.toThrow(new RegExp(`cargo-unico \\(1\\): .*${cobrado.id}`));
  }, 150_000);
});
