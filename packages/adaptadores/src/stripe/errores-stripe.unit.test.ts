import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { esMensajeEnEspanol } from '@aeropartners/contratos';
import { traducirErrorConsultaStripe, traducirErrorStripe } from './errores-stripe.js';

const { errors } = Stripe;

describe('traducirErrorStripe', () => {
  // Definitivo solo lo que seguro no movió dinero: Stripe no ejecutó la transferencia y no lo hará.
  it.each([
    ['402 card_error', new errors.StripeCardError({ statusCode: 402, type: 'card_error', message: 'Declined' })],
    ['400 invalid_request', new errors.StripeInvalidRequestError({ statusCode: 400, message: 'Bad' })],
    ['400 balance_insufficient', new errors.StripeInvalidRequestError({ statusCode: 400, code: 'balance_insufficient', message: 'Funds' })],
    ['404 invalid_request', new errors.StripeInvalidRequestError({ statusCode: 404, message: 'No such' })],
    ['403 permission', new errors.StripePermissionError({ statusCode: 403, message: 'Forbidden' })],
  ])('%s → rechazado', (_, error) => {
    const r = traducirErrorStripe(error, 'clave-1');
    expect(r.tipo).toBe('rechazado');
    expect(esMensajeEnEspanol(r.tipo === 'exitoso' ? '' : r.mensaje)).toBe(true);
  });

  // Todo lo demás no dice si el dinero se movió (o no es un rechazo definitivo): incierto.
  it.each([
    ['429', new errors.StripeRateLimitError({ statusCode: 429, message: 'Too many' })],
    ['400 rate_limit', new errors.StripeRateLimitError({ statusCode: 400, code: 'rate_limit', message: 'Too many' })],
    ['500', new errors.StripeAPIError({ statusCode: 500, message: 'Oops' })],
    ['503', new errors.StripeAPIError({ statusCode: 503, message: 'Unavailable' })],
    ['409 idempotency_key_in_use', new errors.StripeAPIError({ statusCode: 409, code: 'idempotency_key_in_use', message: 'In use' })],
    [
      '409 invalid_request_error',
      new errors.StripeInvalidRequestError({ statusCode: 409, code: 'idempotency_key_in_use', message: 'In use' }),
    ],
    ['400 idempotency_error', new errors.StripeIdempotencyError({ statusCode: 400, type: 'idempotency_error', message: 'Keys…' })],
    ['409 idempotency_error', new errors.StripeAPIError({ statusCode: 409, type: 'idempotency_error', message: 'Keys…' })],
    ['conexión', new errors.StripeConnectionError({ message: 'An error occurred with our connection to Stripe.' })],
    ['timeout', new errors.StripeConnectionError({ message: 'Request aborted due to timeout being reached (100ms)' })],
    ['JSON inválido', new errors.StripeAPIError({ message: 'Invalid JSON received from the Stripe API' })],
    ['otro 4xx (422)', new errors.StripeError({ statusCode: 422, message: 'Otro' })],
    ['otro sin estado', new errors.StripeError({ message: '¿?' })],
    ['card_error sin estado', new errors.StripeCardError({ type: 'card_error', message: 'Declined' })],
  ])('%s → incierto, con un mensaje en español', (_, error) => {
    const r = traducirErrorStripe(error, 'clave-1');
    expect(r.tipo).toBe('incierto');
    expect(esMensajeEnEspanol(r.tipo === 'exitoso' ? '' : r.mensaje)).toBe(true);
  });

  // Defecto: el conflicto de idempotencia se traducía a rechazado, y el pago acababa FALLIDO aunque la
  // primera petición con esa clave hubiera transferido.
  it('el conflicto de idempotencia es incierto y dice por qué: la primera petición con la clave pudo transferir', () => {
    const error = new errors.StripeIdempotencyError({ statusCode: 400, type: 'idempotency_error', message: 'Keys…' });
    expect(traducirErrorStripe(error, 'pago-7')).toEqual({
      tipo: 'incierto',
      mensaje: expect.stringMatching(/clave de idempotencia pago-7 ya se usó con otros parámetros.*pudo.*transferir.*preguntar/s),
    });
  });

  it.each([
    [
      'timeout',
      new errors.StripeConnectionError({ message: 'Request aborted due to timeout being reached (100ms)' }),
      /sin respuesta de Stripe.*pudo hacerse o no/s,
    ],
    ['500', new errors.StripeAPIError({ statusCode: 500, message: 'Oops' }), /error interno.*no dice si la transferencia se hizo/s],
    [
      '409 en curso',
      new errors.StripeAPIError({ statusCode: 409, code: 'idempotency_key_in_use', message: 'In use' }),
      /sigue procesando otra petición con la clave clave-1/,
    ],
    ['429', new errors.StripeRateLimitError({ statusCode: 429, message: 'Too many' }), /limitó la frecuencia.*no ejecutó/s],
  ])('el mensaje de un %s dice por qué es incierto', (_, error, patron) => {
    const r = traducirErrorStripe(error, 'clave-1');
    expect(r).toMatchObject({ tipo: 'incierto', mensaje: expect.stringMatching(patron) });
  });

  it('el mensaje conserva el detalle de Stripe (estado, código, request-id)', () => {
    const error = new errors.StripeCardError({
      statusCode: 402,
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
      requestId: 'req_123',
    });
    expect(traducirErrorStripe(error, 'clave-1')).toEqual({
      tipo: 'rechazado',
      mensaje: 'Stripe rechazó la transferencia: Your card has insufficient funds. [HTTP 402, card_declined, insufficient_funds, req_123]',
    });
  });

  it('401 lanza un Error con el error de Stripe como causa', () => {
    const error = new errors.StripeAuthenticationError({ statusCode: 401, message: 'Invalid API Key provided' });
    expect(() => traducirErrorStripe(error, 'clave-1')).toThrow(expect.objectContaining({ cause: error }));
  });

  it('un error que no viene de Stripe se lanza envuelto', () => {
    const error = new TypeError('x is undefined');
    expect(() => traducirErrorStripe(error, 'clave-1')).toThrow(expect.objectContaining({ cause: error }));
  });
});

describe('traducirErrorConsultaStripe', () => {
  it.each([
    ['500', new errors.StripeAPIError({ statusCode: 500, message: 'Oops' })],
    ['timeout', new errors.StripeConnectionError({ message: 'Request aborted due to timeout being reached (100ms)' })],
    ['429', new errors.StripeRateLimitError({ statusCode: 429, message: 'Too many' })],
    ['400', new errors.StripeInvalidRequestError({ statusCode: 400, message: 'Bad' })],
    ['403', new errors.StripePermissionError({ statusCode: 403, message: 'Forbidden' })],
    ['no es de Stripe', new TypeError('x is undefined')],
  ])('%s al preguntar → incierto: no saber no es «sin cobro»', (_, error) => {
    expect(traducirErrorConsultaStripe(error, 'pago-9')).toEqual({
      tipo: 'incierto',
      mensaje: expect.stringContaining('No se pudo preguntar a Stripe por la transferencia del pago pago-9'),
    });
  });

  it('401 al preguntar lanza, como al cobrar: es configuración', () => {
    const error = new errors.StripeAuthenticationError({ statusCode: 401, message: 'Invalid API Key provided' });
    expect(() => traducirErrorConsultaStripe(error, 'pago-9')).toThrow(expect.objectContaining({ cause: error }));
  });
});
