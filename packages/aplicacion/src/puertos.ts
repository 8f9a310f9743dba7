import type { EstadoPago, Pago, TipoEventoPago } from '@aeropartners/dominio';

/** Filtros del listado de pagos. Paginación por conjunto de claves (keyset), del más nuevo al más viejo. */
export interface FiltrosListado {
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
}

export interface EstadisticasOutbox {
  readonly total: number;
  readonly publicados: number;
  readonly pendientes: number;
}

/** Lado de lectura (CQS): consultas que no pasan por el agregado. */
export interface ConsultasPagos {
  listar(filtros: FiltrosListado): Promise<Pagina<Pago>>;
  /** `null` si el pago no existe. */
  historial(idPago: string): Promise<readonly EntradaHistorial[] | null>;
  estadisticasOutbox(): Promise<EstadisticasOutbox>;
}

/** Generador de identificadores (UUIDv7 en producción: ordenados por creación). */
export type GeneradorIds = () => string;
