import { Dinero, EstadoPago, esModo, type Pago } from '@aeropartners/dominio';
import { enteroSeguro } from './esquema.js';

/** Una fila de `pagos` tal como la entrega `pg` (BIGINT como texto, timestamptz como `Date`). */
export interface FilaPago {
  readonly id: string;
  readonly id_socio: string;
  readonly modo: string;
  readonly clave_idempotencia: string;
  readonly id_afiliado: string;
  readonly monto_unidades: string | number;
  readonly moneda: string;
  readonly referencia_pago: string;
  readonly estado: string;
  readonly version: number;
  readonly fecha_creacion: Date;
  readonly fecha_actualizacion: Date;
  readonly fecha_procesamiento: Date | null;
  readonly referencia_transaccion: string | null;
  readonly mensaje_error: string | null;
}

/** Columnas de `pagos` en el orden de la tabla (para las sentencias escritas a mano). */
export const COLUMNAS_PAGO =
  'id, id_socio, modo, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version, ' +
  'fecha_creacion, fecha_actualizacion, fecha_procesamiento, referencia_transaccion, mensaje_error';

/**
 * Reconstruye el agregado desde su fila, validando lo que el tipo de la columna no garantiza: una fila
 * que el dominio no aceptaría es un fallo de infraestructura (datos corruptos), no un pago.
 */
export function filaAPago(fila: FilaPago): Pago {
  const monto = Dinero.deUnidadesMenores(enteroSeguro(fila.monto_unidades, 'pagos.monto_unidades'), fila.moneda);
  if (!monto.ok) throw new Error(`Pago ${fila.id} con importe inválido en la base de datos: ${monto.error.tipo}`);
  if (!EstadoPago.esEstado(fila.estado)) throw new Error(`Pago ${fila.id} con estado desconocido: ${fila.estado}`);
  if (!esModo(fila.modo)) throw new Error(`Pago ${fila.id} con modo desconocido: ${fila.modo}`);
  return Object.freeze({
    id: fila.id,
    idSocio: fila.id_socio,
    modo: fila.modo,
    idAfiliado: fila.id_afiliado,
    monto: monto.valor,
    referenciaPago: fila.referencia_pago,
    estado: fila.estado,
    version: fila.version,
    fechaCreacion: fila.fecha_creacion,
    fechaActualizacion: fila.fecha_actualizacion,
    fechaProcesamiento: fila.fecha_procesamiento,
    referenciaTransaccion: fila.referencia_transaccion,
    mensajeError: fila.mensaje_error,
  });
}
