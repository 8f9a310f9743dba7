import type { EstadoCobro, ResultadoPago } from '@aeropartners/dominio';
import Stripe from 'stripe';

const { errors } = Stripe;

type ErrorStripe = InstanceType<typeof errors.StripeError>;

/**
 * Estados HTTP con los que Stripe dice que NO ejecutó la transferencia y no lo hará con esta solicitud:
 * 402 (tarjeta, fondos), 400 y 404 (petición inválida: cuenta destino inexistente, saldo insuficiente…),
 * 403 (permiso). Nada más es un rechazo definitivo.
 */
const ESTADOS_DEFINITIVOS: ReadonlySet<number> = new Set([400, 402, 403, 404]);

function detalle(error: ErrorStripe): string {
  const partes = [
    error.statusCode === undefined ? undefined : `HTTP ${error.statusCode}`,
    error.code,
    error.decline_code,
    error.requestId,
  ].filter((p): p is string => p !== undefined && p !== '');
  const texto = error.message === '' ? 'sin mensaje' : error.message;
  return partes.length === 0 ? texto : `${texto} [${partes.join(', ')}]`;
}

function incierto(porQue: string, error: ErrorStripe): ResultadoPago {
  return { tipo: 'incierto', mensaje: `${porQue} Detalle de Stripe: ${detalle(error)}` };
}

function lanzarSiAutenticacion(error: ErrorStripe): void {
  if (error instanceof errors.StripeAuthenticationError || error.statusCode === 401) {
    throw new Error(
      'Stripe rechazó la autenticación (401): la clave de API no es válida o fue revocada. ' +
        'Es un fallo de configuración; no se transfirió nada.',
      { cause: error },
    );
  }
}

/** Conflicto de idempotencia: la misma clave con otros parámetros (Stripe: `idempotency_error`). */
function esConflictoDeIdempotencia(error: ErrorStripe): boolean {
  return error instanceof errors.StripeIdempotencyError || error.rawType === 'idempotency_error';
}

/**
 * Traduce un error de `POST /v1/transfers` al desenlace del cobro. Solo es `rechazado` lo que seguro no
 * movió dinero (Stripe respondió 400, 402, 403 o 404 sin ser un conflicto de idempotencia ni un límite de
 * frecuencia); todo lo demás es `incierto`, con un mensaje que dice por qué, y el pago sigue en
 * PROCESANDO hasta que preguntar a Stripe por él (`consultar`) lo aclare:
 *
 * - sin respuesta (conexión cortada, tiempo agotado), 5xx o una respuesta ilegible: Stripe pudo ejecutar
 *   la transferencia antes de fallar;
 * - 409 `idempotency_key_in_use`: otra petición con la misma clave sigue en curso;
 * - `idempotency_error` (la clave ya se usó con otros parámetros): esta petición no se ejecutó, pero la
 *   primera con esa clave pudo transferir;
 * - 429: no se ejecutó, pero tampoco es un rechazo: se vuelve a intentar;
 * - cualquier otro estado, o ninguno: ante la duda, incierto. Un pago en PROCESANDO se ve y se aclara;
 *   uno FALLIDO con la transferencia hecha es dinero perdido de vista.
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
  lanzarSiAutenticacion(error);

  if (esConflictoDeIdempotencia(error)) {
    return incierto(
      `Stripe no ejecutó esta petición porque la clave de idempotencia ${claveIdempotencia} ya se usó con otros ` +
        'parámetros; la primera petición con esa clave pudo transferir, así que no es un rechazo: hay que ' +
        'preguntar a Stripe por la transferencia del pago.',
      error,
    );
  }
  const estado = error.statusCode;
  if (error instanceof errors.StripeRateLimitError || estado === 429) {
    return incierto(
      'Stripe limitó la frecuencia de peticiones y no ejecutó esta; no es un rechazo: se reintenta con la misma clave.',
      error,
    );
  }
  if (estado === 409) {
    return incierto(
      `Stripe sigue procesando otra petición con la clave ${claveIdempotencia} (conflicto 409): la transferencia ` +
        'pudo hacerse o no; se sabrá al preguntar por el pago cuando termine.',
      error,
    );
  }
  if (error instanceof errors.StripeConnectionError) {
    return incierto(
      'Conexión cortada o tiempo agotado: sin respuesta de Stripe, la transferencia pudo hacerse o no; hay que ' +
        'preguntar a Stripe por el pago antes de reintentar.',
      error,
    );
  }
  if (estado !== undefined && ESTADOS_DEFINITIVOS.has(estado)) {
    return { tipo: 'rechazado', mensaje: `Stripe rechazó la transferencia: ${detalle(error)}` };
  }
  if (estado !== undefined && estado >= 500) {
    return incierto(
      `Stripe respondió con un error interno (HTTP ${estado}), que no dice si la transferencia se hizo; hay que ` +
        'preguntar a Stripe por el pago antes de reintentar.',
      error,
    );
  }
  return incierto(
    'Stripe respondió con un error que no es un rechazo definitivo (sin un estado 400, 402, 403 o 404): la ' +
      'transferencia pudo hacerse o no; hay que preguntar a Stripe por el pago.',
    error,
  );
}

/**
 * Traduce un error de `GET /v1/transfers` (preguntar por la transferencia de un pago): no saber nunca es
 * `sinCobro`, así que todo es `incierto`, salvo el 401, que lanza como al cobrar (es configuración).
 */
export function traducirErrorConsultaStripe(error: unknown, idPago: string): EstadoCobro {
  if (error instanceof errors.StripeError) lanzarSiAutenticacion(error);
  const texto = error instanceof errors.StripeError ? detalle(error) : error instanceof Error ? error.message : String(error);
  return {
    tipo: 'incierto',
    mensaje: `No se pudo preguntar a Stripe por la transferencia del pago ${idPago}; no se sabe si se hizo: ${texto}`,
  };
}
