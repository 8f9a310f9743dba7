import type { Dinero } from './dinero.js';
import type { CambioPago, Pago } from './pago.js';
import type { Resultado } from './resultado.js';

/** Datos de trazabilidad que viajan con cada cambio: API → outbox → broker → consumidor → pasarela. */
export interface Trazabilidad {
  /** Identificador de correlación (cabecera `X-Correlation-Id` o generado en la entrada). */
  readonly idCorrelacion: string;
  /** Cabecera W3C `traceparent`, si la hay. */
  readonly traceparent?: string | undefined;
}

/** Clave de idempotencia de la entrada: única por socio. */
export interface ClaveIdempotencia {
  readonly idSocio: string;
  readonly clave: string;
}

export type ResultadoCreacion =
  | { readonly tipo: 'creado'; readonly pago: Pago }
  /** Ya existía un pago con esa clave (lo creó esta misma petición antes, o una concurrente). */
  | { readonly tipo: 'existente'; readonly pago: Pago };

export type ConflictoDeVersion = {
  readonly tipo: 'ConflictoDeVersion';
  readonly idPago: string;
  readonly versionEsperada: number;
};

/**
 * Persistencia del agregado. Cada escritura guarda, en una sola transacción, el estado del pago, sus
 * eventos en el outbox y una fila de historial por evento.
 */
export interface RepositorioPagos {
  /**
   * Crea el pago si no existe otro con la misma clave de idempotencia. Con N llamadas concurrentes con
   * la misma clave, exactamente una obtiene `creado` y las demás `existente` con ese mismo pago.
   */
  crear(cambio: CambioPago, clave: ClaveIdempotencia, traza: Trazabilidad): Promise<ResultadoCreacion>;
  obtener(idPago: string): Promise<Pago | null>;
  /**
   * Guarda una transición si la versión almacenada sigue siendo `versionEsperada` (la del pago antes
   * del cambio); si otro la cambió antes, no escribe nada y devuelve `ConflictoDeVersion`.
   */
  guardar(cambio: CambioPago, versionEsperada: number, traza: Trazabilidad): Promise<Resultado<Pago, ConflictoDeVersion>>;
}

/** Solicitud de cobro a la pasarela. */
export interface SolicitudCobro {
  readonly idPago: string;
  readonly idAfiliado: string;
  readonly monto: Dinero;
  readonly referenciaPago: string;
  /** La pasarela no cobra dos veces con la misma clave: aquí, el id del pago. */
  readonly claveIdempotencia: string;
  readonly traza: Trazabilidad;
}

/** Desenlace de un cobro: éxito, rechazo definitivo o fallo transitorio que merece reintento. */
export type ResultadoPago =
  | { readonly tipo: 'exitoso'; readonly referenciaTransaccion: string }
  | { readonly tipo: 'rechazado'; readonly mensaje: string }
  | { readonly tipo: 'transitorio'; readonly mensaje: string };

/** Puerto de la pasarela de pagos (Stripe, simulada…). */
export interface PasarelaDePagos {
  cobrar(solicitud: SolicitudCobro): Promise<ResultadoPago>;
}

/** Fuente de la hora, para que las reglas sean deterministas en los tests. */
export interface Reloj {
  ahora(): Date;
}
