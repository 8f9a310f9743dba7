import { describe, expect, it } from 'vitest';
import { esMensajeEnEspanol } from './contrato-pasarela.js';

describe('esMensajeEnEspanol', () => {
  it.each([
    'Fondos insuficientes',
    'Tarjeta rechazada por el banco emisor',
    'Límite de transacciones excedido',
    'Stripe rechazó la transferencia: Your card was declined.',
  ])('%s → sí', (m) => expect(esMensajeEnEspanol(m)).toBe(true));
  it.each(['', '   ', 'Your card was declined.', 'An unknown error occurred'])('%j → no', (m) => expect(esMensajeEnEspanol(m)).toBe(false));
});
