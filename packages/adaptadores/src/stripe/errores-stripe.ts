import type { ResultadoPago } from '@aeropartners/dominio';
import Stripe from 'stripe';

const { errors } = Stripe;

function rechazado(mensaje: string): ResultadoPago {
  return { tipo: 'rechazado', mensaje };
}

function transitorio(mensaje: string): ResultadoPago {
  return { tipo: 'incierto', mensaje };
}

function detalle(error: InstanceType<typeof errors.StripeError>): string {
  const partes = [
    error.statusCode === undefined ? undefined : `HTTP ${error.statusCode}`,
    error.code,
    error.decline_code,
    error.requestId,
  ].filter((p): p is string => p !== undefined && p !== '');
  const texto = error.message === '' ? 'sin mensaje' : error.message;
  return partes.length === 0 ? texto : `${texto} [${partes.join(', ')}]`;
}

/**
 * Traduce un error de una llamada a Stripe al desenlace del cobro:
 *
 * - `rechazado` (definitivo, reintentar no cambiaría nada): tarjeta/fondos (402), petición inválida
 *   (400, 404: cuenta destino inexistente, saldo insuficiente…), permiso (403), y la clave de
 *   idempotencia reutilizada con otros parámetros (`idempotency_error`).
 * - `transitorio` (reintentar con la MISMA clave es seguro): 429, 5xx, errores de conexión y
 *   timeouts, 409 por una petición concurrente con la misma clave, y cualquier error de Stripe de
 *   desenlace incierto. Ante la duda, transitorio: marcar fallido un pago cuya transferencia sí se
 *   hizo es peor que reintentarlo, y el reintento con la misma clave devuelve la transferencia hecha.
 *
 * Lanza (fallo de infraestructura, no un resultado de negocio) ante un 401 —la clave de API no vale:
 * es configuración y ningún pago debe marcarse fallido por ello— y ante errores que no vienen de Stripe.
 */
export function traducirErrorStripe(error: unknown, claveIdempotencia: string): ResultadoPago {
  if (!(error instanceof errors.StripeError)) {
    throw new Error('Fallo inesperado al llamar a Stripe: el desenlace de la transferencia es desconocido.', {
      cause: error,
    });
  }

  if (error instanceof errors.StripeAuthenticationError || error.statusCode === 401) {
    throw new Error(
      'Stripe rechazó la autenticación (401): la clave de API no es válida o fue revocada. ' +
        'Es un fallo de configuración; no se transfirió nada.',
      { cause: error },
    );
  }

  // La misma clave con otros parámetros: Stripe no ejecuta nada y nunca lo hará con esta clave.
  // Stripe lo responde como 400 `idempotency_error`; se acepta también con 409 por si acaso.
  if (error instanceof errors.StripeIdempotencyError || error.rawType === 'idempotency_error') {
    return rechazado(
      `Stripe rechazó la clave de idempotencia ${claveIdempotencia}: ya se usó con otros parámetros ` +
        `(otro monto, moneda, cuenta destino o metadatos), así que no se transfirió nada con esta solicitud. ` +
        `Detalle de Stripe: ${detalle(error)}`,
    );
  }

  if (
    error instanceof errors.StripeRateLimitError ||
    error instanceof errors.StripeConnectionError ||
    error instanceof errors.StripeAPIError
  ) {
    return transitorio(`Fallo transitorio de Stripe; se puede reintentar con la misma clave: ${detalle(error)}`);
  }

  if (
    error instanceof errors.StripeCardError ||
    error instanceof errors.StripeInvalidRequestError ||
    error instanceof errors.StripePermissionError
  ) {
    return rechazado(`Stripe rechazó la transferencia: ${detalle(error)}`);
  }

  // Cualquier otra subclase (errores de la API v2, OAuth…): se decide por el estado HTTP.
  const estado = error.statusCode;
  if (estado !== undefined && estado >= 400 && estado < 500 && estado !== 409 && estado !== 429) {
    return rechazado(`Stripe rechazó la transferencia: ${detalle(error)}`);
  }
  return transitorio(`Fallo transitorio de Stripe; se puede reintentar con la misma clave: ${detalle(error)}`);
}
