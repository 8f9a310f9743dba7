import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Moneda } from './moneda.js';

describe('Moneda', () => {
  it('dadas las monedas aceptadas, entonces son USD, EUR y COP, en una lista congelada', () => {
    expect(Moneda.todas).toEqual(['USD', 'EUR', 'COP']);
    expect(Object.isFrozen(Moneda.todas)).toBe(true);
  });

  it.each([
    ['USD', 2],
    ['EUR', 2],
    ['COP', 2],
  ] as const)('dada %s, entonces su unidad menor ISO 4217 tiene %i decimales', (m, decimales) => {
    expect(Moneda.decimales(m)).toBe(decimales);
  });

  it.each(['usd', 'GBP', ' USD', '', 'toString', '__proto__', 'constructor', 'valueOf', null, undefined, 840, {}])(
    'dado %j, entonces esMoneda lo rechaza',
    (valor) => {
      expect(Moneda.esMoneda(valor)).toBe(false);
    },
  );

  it('esMoneda acepta exactamente las monedas de la lista', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom(...Moneda.todas)), (valor) => {
        expect(Moneda.esMoneda(valor)).toBe((Moneda.todas as readonly string[]).includes(valor));
      }),
    );
  });
});
