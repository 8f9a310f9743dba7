import type { AnotacionInbox, InboxPagos } from '@aeropartners/aplicacion';
import type { CambioPago, Trazabilidad } from '@aeropartners/dominio';
import { esUuid } from '../ids/uuidv7.js';
import type { PoolPostgres } from './pool-postgres.js';
import { SQL_GUARDAR_Y_ANOTAR, parametrosEventos } from './sentencias-escritura.js';

const SQL_YA_PROCESADO = `SELECT 1 FROM inbox WHERE suscripcion = $1 AND id_evento = $2::uuid`;
const SQL_ANOTAR = `
INSERT INTO inbox (suscripcion, id_evento, id_pago, tipo_evento, version)
VALUES ($1, $2::uuid, $3::uuid, $4, $5)
ON CONFLICT DO NOTHING
RETURNING 1`;

function comprobarIds(anotacion: AnotacionInbox): void {
  if (!esUuid(anotacion.idEvento) || !esUuid(anotacion.idPago)) {
    throw new Error(`Anotación de inbox con ids que no son UUID: ${anotacion.idEvento} / ${anotacion.idPago}`);
  }
}

/**
 * Inbox del consumidor en PostgreSQL: la fila `(suscripcion, id_evento)` se escribe en la misma
 * sentencia que la transición del pago, su outbox y su historial (ver `SQL_GUARDAR_Y_ANOTAR`).
 */
export class KyselyInboxPagos implements InboxPagos {
  readonly #pool: PoolPostgres;

  constructor(pool: PoolPostgres) {
    this.#pool = pool;
  }

  async yaProcesado(suscripcion: string, idEvento: string): Promise<boolean> {
    if (!esUuid(idEvento)) return false;
    const { rows } = await this.#pool.query({ name: 'inbox_ya_procesado_v1', text: SQL_YA_PROCESADO, values: [suscripcion, idEvento] });
    return rows.length > 0;
  }

  async anotar(anotacion: AnotacionInbox): Promise<'anotado' | 'duplicado'> {
    comprobarIds(anotacion);
    const { rows } = await this.#pool.query({
      name: 'inbox_anotar_v1',
      text: SQL_ANOTAR,
      values: [anotacion.suscripcion, anotacion.idEvento, anotacion.idPago, anotacion.tipoEvento, anotacion.version],
    });
    return rows.length > 0 ? 'anotado' : 'duplicado';
  }

  async guardarYAnotar(
    cambio: CambioPago,
    versionEsperada: number,
    traza: Trazabilidad,
    anotacion: AnotacionInbox,
  ): Promise<'aplicado' | 'duplicado' | 'conflicto'> {
    comprobarIds(anotacion);
    const p = cambio.pago;
    const { rows } = await this.#pool.query<{ actualizados: number; anotados: number }>({
      name: 'inbox_guardar_y_anotar_v1',
      text: SQL_GUARDAR_Y_ANOTAR,
      values: [
        ...parametrosEventos([{ cambio, traza }]),
        p.id,
        versionEsperada,
        p.estado,
        p.version,
        p.fechaActualizacion,
        p.fechaProcesamiento,
        p.referenciaTransaccion,
        p.mensajeError,
        anotacion.suscripcion,
        anotacion.idEvento,
        anotacion.idPago,
        anotacion.tipoEvento,
        anotacion.version,
      ],
    });
    if (rows[0]?.actualizados === 1) return 'aplicado';
    return (await this.yaProcesado(anotacion.suscripcion, anotacion.idEvento)) ? 'duplicado' : 'conflicto';
  }
}
