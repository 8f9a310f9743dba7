import type { Modo } from './ambito.js';
import type { Dinero } from './dinero.js';
import type { CambioPago, Pago } from './pago.js';
import type { Resultado } from './resultado.js';
import type { MotivoRechazo } from './socio.js';

/** Datos de trazabilidad que viajan con cada cambio: API → outbox → broker → consumidor → pasarela. */
export interface Trazabilidad {
  /** Identificador de correlación (cabecera `X-Correlation-Id` o generado en la entrada). */
  readonly idCorrelacion: string;
  /** Cabecera W3C `traceparent`, si la hay. */
  readonly traceparent?: string | undefined;
  /**
   * Id de la petición HTTP que causó el cambio (cabecera `Request-Id` de la respuesta, generado por el
   * servidor), como el campo `request` de un evento de Stripe. Viaja con los eventos que causó.
   */
  readonly idSolicitud?: string | undefined;
}

/** Clave de idempotencia de la entrada: única por socio. */
export interface ClaveIdempotencia {
  readonly idSocio: string;
  readonly clave: string;
}

export type ResultadoCreacion =
  | { readonly tipo: 'creado'; readonly pago: Pago }
  /** Ya existía un pago con esa clave (lo creó esta misma petición antes, o una concurrente). */
  | { readonly tipo: 'existente'; readonly pago: Pago }
  /** La credencial ya no vale (ver {@link CredencialEscritura}): no se escribió nada ni se devuelve nada. */
  | { readonly tipo: 'denegado'; readonly motivo: MotivoRechazo };

/**
 * La credencial con la que se pide una creación: la sentencia que escribe comprueba, en la misma
 * transacción, que el socio del pago sigue activo y que la clave (si la hay: `null` en el modo anónimo)
 * sigue vigente y es de ese socio y modo. Así ninguna escritura con una clave revocada (o de un socio
 * suspendido) se confirma después de que se confirme la revocación.
 */
export interface CredencialEscritura {
  readonly idClave: string | null;
}

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
   * la misma clave, exactamente una obtiene `creado` y las demás `existente` con ese mismo pago. La clave
   * es única por socio y modo (`pago.idSocio`, `pago.modo`): la misma en otro modo es otro pago. Con
   * `credencial`, `denegado` si ya no vale (sin escribir nada).
   */
  crear(cambio: CambioPago, clave: ClaveIdempotencia, traza: Trazabilidad, credencial?: CredencialEscritura): Promise<ResultadoCreacion>;
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
  /** Un pago de prueba (`test`) se cobra siempre en la pasarela simulada, nunca en la real. */
  readonly modo: Modo;
  readonly idAfiliado: string;
  readonly monto: Dinero;
  readonly referenciaPago: string;
  /** La pasarela no cobra dos veces con la misma clave: aquí, el id del pago. */
  readonly claveIdempotencia: string;
  readonly traza: Trazabilidad;
}

/**
 * Desenlace de un intento de cobro, en las tres clases que distingue un proveedor de pagos:
 * - `exitoso`: el dinero se movió; trae la referencia de la transacción;
 * - `rechazado`: el dinero NO se movió ni se moverá con esta solicitud (rechazo definitivo). Es lo único
 *   que puede acabar en FALLIDO;
 * - `incierto`: la respuesta no dice si el dinero se movió (tiempo agotado, conexión cortada, 5xx,
 *   «petición en curso», conflicto de idempotencia). El pago sigue en PROCESANDO y el desenlace se
 *   averigua preguntando a la pasarela por el pago ({@link PasarelaDePagos.consultar}), nunca rindiéndose.
 */
export type ResultadoPago =
  | { readonly tipo: 'exitoso'; readonly referenciaTransaccion: string }
  | { readonly tipo: 'rechazado'; readonly mensaje: string }
  | { readonly tipo: 'incierto'; readonly mensaje: string };

/** Pregunta a la pasarela qué pasó con los cobros de un pago. */
export interface ConsultaCobro {
  readonly idPago: string;
  /** El modo del pago: se pregunta a la misma pasarela con la que se cobró. */
  readonly modo: Modo;
  /** La clave de idempotencia con la que se intentó cobrar (el id del pago). */
  readonly claveIdempotencia: string;
  readonly traza: Trazabilidad;
}

/**
 * Lo que la pasarela sabe de un pago cuando se le pregunta:
 * - `exitoso` / `rechazado`: el desenlace que registró (el mismo que devolvería repetir el cobro);
 * - `sinCobro`: no tiene rastro de ningún cobro de ese pago: el dinero no se movió y se puede intentar;
 * - `incierto`: no se pudo saber (la pasarela no respondió, o el cobro sigue en curso).
 */
export type EstadoCobro =
  | { readonly tipo: 'exitoso'; readonly referenciaTransaccion: string }
  | { readonly tipo: 'rechazado'; readonly mensaje: string }
  | { readonly tipo: 'sinCobro' }
  | { readonly tipo: 'incierto'; readonly mensaje: string };

/**
 * Puerto de la pasarela de pagos (Stripe, simulada…). Cobrar con la misma clave de idempotencia nunca
 * mueve el dinero dos veces mientras el proveedor recuerde la clave; como los proveedores olvidan las
 * claves (Stripe, a las 24 h), quien reintenta el cobro de un pago que ya se intentó pregunta antes con
 * `consultar`: la clave es la segunda línea de defensa, no la primera.
 */
export interface PasarelaDePagos {
  cobrar(solicitud: SolicitudCobro): Promise<ResultadoPago>;
  consultar(consulta: ConsultaCobro): Promise<EstadoCobro>;
}

/** Fuente de la hora, para que las reglas sean deterministas en los tests. */
export interface Reloj {
  ahora(): Date;
}
