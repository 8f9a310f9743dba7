import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { traducirErrorStripe } from './errores-stripe.js';

const { errors } = Stripe;

describe('traducirErrorStripe', () => {
  it.each([
    ['402 card_error', new errors.StripeCardError({ statusCode: 402, type: 'card_error', message: 'Declined' })],
    ['400 invalid_request', new errors.StripeInvalidRequestError({ statusCode: 400, message: 'Bad' })],
    ['404 invalid_request', new errors.StripeInvalidRequestError({ statusCode: 404, message: 'No such' })],
    ['403 permission', new errors.StripePermissionError({ statusCode: 403, message: 'Forbidden' })],
    ['400 idempotency_error', new errors.StripeIdempotencyError({ statusCode: 400, type: 'idempotency_error', message: 'Keys…' })],
    ['409 idempotency_error', new errors.StripeAPIError({ statusCode: 409, type: 'idempotency_error', message: 'Keys…' })],
    ['otro 4xx', new errors.StripeError({ statusCode: 422, message: 'Otro' })],
  ])('%s → rechazado', (_, error) => {
    expect(traducirErrorStripe(error, 'clave-1').tipo).toBe('rechazado');
  });

  it.each([
    ['429', new errors.StripeRateLimitError({ statusCode: 429, message: 'Too many' })],
    ['500', new errors.StripeAPIError({ statusCode: 500, message: 'Oops' })],
    ['503', new errors.StripeAPIError({ statusCode: 503, message: 'Unavailable' })],
    ['409 idempotency_key_in_use', new errors.StripeAPIError({ statusCode: 409, code: 'idempotency_key_in_use', message: 'In use' })],
    ['conexión', new errors.StripeConnectionError({ message: 'An error occurred with our connection to Stripe.' })],
    ['timeout', new errors.StripeConnectionError({ message: 'Request aborted due to timeout being reached (100ms)' })],
    ['JSON inválido', new errors.StripeAPIError({ message: 'Invalid JSON received from the Stripe API' })],
    ['otro sin estado', new errors.StripeError({ message: '¿?' })],
  ])('%s → transitorio', (_, error) => {
    expect(traducirErrorStripe(error, 'clave-1').tipo).toBe('incierto');
  });

  it('el mensaje del rechazo por idempotencia nombra la clave', () => {
    const error = new errors.StripeIdempotencyError({ statusCode: 400, type: 'idempotency_error', message: 'Keys…' });
    expect(traducirErrorStripe(error, 'pago-7')).toMatchObject({
      tipo: 'rechazado',
      mensaje: expect.stringContaining('clave de idempotencia pago-7: ya se usó con otros parámetros'),
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
