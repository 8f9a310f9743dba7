import type { Atasco, EstadoAtascable, VistaPagoAtascable } from './atascos.js';

/** Un pago atascado tal como se lista (y se traza al re-impulsarlo). */
export interface PagoAtascado {
  readonly idPago: string;
  readonly estado: EstadoAtascable;
  /** Desde cuándo está en su estado. */
  readonly desde: Date;
  /** Tiempo en su estado cuando se miró (reloj del almacén). */
  readonly edadMs: number;
  readonly turnoHasta: Date | null;
  readonly evento: VistaPagoAtascable['evento'];
  /** El juicio de `evaluarAtasco` (siempre `atascado: true` aquí). */
  readonly atasco: Extract<Atasco, { atascado: true }>;
}

/** Por dónde va un recorrido de un estado: el último id examinado, o `null` si llegó al final. */
export type Cursor = string | null;

export interface ConsultaAtascados {
  readonly estado: EstadoAtascable;
  readonly umbralMs: number;
  /** Pagos del estado que se examinan como mucho (en orden de id, desde `despuesDe`): la sentencia es acotada. */
  readonly ventana: number;
  /** Continuar tras este id (`null`: desde el principio). */
  readonly despuesDe: Cursor;
}

export interface PaginaAtascados {
  readonly pagos: readonly PagoAtascado[];
  /** Desde dónde seguir; `null` si la ventana llegó al final del estado. */
  readonly siguiente: Cursor;
}

export interface MedidaAtascos {
  readonly estado: EstadoAtascable;
  /** Atascados entre los `ventana` pagos más antiguos del estado (una cota inferior si `completa` es falso). */
  readonly atascados: number;
  /** Edad del pago más antiguo del estado que nadie está procesando (sin turno vigente); 0 si no hay. */
  readonly masViejoMs: number;
  /** `true` si la ventana abarcó todos los pagos del estado. */
  readonly completa: boolean;
}

/**
 * Los pagos atascados vistos por el barrendero, el CLI de operación y las métricas. Todo acotado: cada
 * llamada examina como mucho `ventana` pagos de un estado por su índice `(estado, id)`, nunca la tabla.
 * El criterio es {@link evaluarAtasco} con el reloj del almacén (en PostgreSQL, el de la base: varios
 * procesos juzgan igual).
 */
export interface PagosAtascados {
  /** Los atascados de la ventana (re-impulsables o no, con el motivo), en orden de id. */
  listar(consulta: ConsultaAtascados): Promise<PaginaAtascados>;
  /**
   * Vuelve a encolar en el outbox el `PagoPendiente` de hasta `lote` pagos re-impulsables de la ventana,
   * para que el relay lo publique y el consumidor lo maneje como cualquier reentrega. Idempotente y
   * seguro con varios barrenderos a la vez: un pago re-impulsado no vuelve a serlo hasta que su evento se
   * publique de nuevo y pase el umbral. `siguiente` sigue tras el último re-impulsado si se llenó el
   * lote, y tras la ventana si no.
   */
  reimpulsar(consulta: ConsultaAtascados & { readonly lote: number }): Promise<PaginaAtascados>;
  /** Cuenta y edad del más viejo, por estado, en una llamada (para las métricas). */
  medir(umbrales: Readonly<Record<EstadoAtascable, number>>, ventana: number): Promise<readonly MedidaAtascos[]>;
}
