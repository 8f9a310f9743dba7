import type { Ambito, EstadoPago, Pago, TipoEventoPago } from '@aeropartners/dominio';

/** Filtros del listado de pagos. Paginación por conjunto de claves (keyset), del más nuevo al más viejo. */
export interface FiltrosListado {
  /** Solo los pagos de este socio y modo: los demás no existen para quien pregunta. */
  readonly ambito: Ambito;
  readonly estado?: EstadoPago | undefined;
  readonly idAfiliado?: string | undefined;
  readonly referenciaPago?: string | undefined;
  /** Devuelve los pagos posteriores a este cursor (opaco: lo da `siguienteCursor`). */
  readonly cursor?: string | undefined;
  readonly limite: number;
}

export interface Pagina<T> {
  readonly elementos: readonly T[];
  /** Cursor para pedir la página siguiente; `null` si no hay más. */
  readonly siguienteCursor: string | null;
}

/** Una fila del historial de un pago: un paso de su ciclo de vida, con su trazabilidad. */
export interface EntradaHistorial {
  readonly estado: EstadoPago;
  readonly version: number;
  readonly tipoEvento: TipoEventoPago;
  readonly idEvento: string;
  readonly ocurridoEn: Date;
  readonly idCorrelacion: string;
  /** `Request-Id` de la petición que causó el paso (`null` si no vino de una petición HTTP con id). */
  readonly idSolicitud: string | null;
}

export interface EstadisticasOutbox {
  readonly total: number;
  readonly publicados: number;
  readonly pendientes: number;
}

/**
 * Lado de lectura (CQS): consultas que no pasan por el agregado. Todas filtran por el ámbito (socio y
 * modo) en la propia consulta: un pago de otro ámbito es `null`, igual que uno que no existe.
 */
export interface ConsultasPagos {
  /** `null` si el pago no existe en ese ámbito. */
  obtenerPago(ambito: Ambito, idPago: string): Promise<Pago | null>;
  listar(filtros: FiltrosListado): Promise<Pagina<Pago>>;
  /** `null` si el pago no existe en ese ámbito. */
  historial(ambito: Ambito, idPago: string): Promise<readonly EntradaHistorial[] | null>;
  /** Los eventos del outbox de los pagos de ese ámbito. */
  estadisticasOutbox(ambito: Ambito): Promise<EstadisticasOutbox>;
}

/** Generador de identificadores (UUIDv7 en producción: ordenados por creación). */
export type GeneradorIds = () => string;
