import { Dinero, type Moneda } from '@aeropartners/dominio';
import { describe, expect, it } from 'vitest';
import { aMontoStripe, MONEDAS_STRIPE_POR_DEFECTO, tablaMonedasStripe } from './montos-stripe.js';

function dinero(valor: string, moneda: Moneda): Dinero {
  const d = Dinero.de(valor, moneda);
  if (!d.ok) throw new Error(`monto de prueba inválido: ${valor} ${moneda}`);
  return d.valor;
}

describe('aMontoStripe', () => {
  it('USD y EUR: centavos tal cual, moneda en minúsculas', () => {
    expect(aMontoStripe(dinero('150.75', 'USD'), MONEDAS_STRIPE_POR_DEFECTO)).toEqual({
      ok: true,
      valor: { amount: 15075, currency: 'usd' },
    });
    expect(aMontoStripe(dinero('0.01', 'EUR'), MONEDAS_STRIPE_POR_DEFECTO)).toEqual({
      ok: true,
      valor: { amount: 1, currency: 'eur' },
    });
  });

  it('COP por defecto: pesos enteros codificados con dos decimales', () => {
    expect(aMontoStripe(dinero('25000', 'COP'), MONEDAS_STRIPE_POR_DEFECTO)).toEqual({
      ok: true,
      valor: { amount: 2_500_000, currency: 'cop' },
    });
    expect(aMontoStripe(dinero('10.50', 'COP'), MONEDAS_STRIPE_POR_DEFECTO)).toEqual({
      ok: false,
      error: { tipo: 'MontoNoRepresentable', monto: '10.50', moneda: 'COP', decimalesAdmitidos: 0 },
    });
    expect(aMontoStripe(dinero('0.01', 'COP'), MONEDAS_STRIPE_POR_DEFECTO).ok).toBe(false);
  });

  it('COP con exponente 0: amount en pesos; sigue sin redondear', () => {
    const tabla = tablaMonedasStripe({ COP: { exponente: 0, decimalesAdmitidos: 0 } });
    expect(aMontoStripe(dinero('25000', 'COP'), tabla)).toEqual({ ok: true, valor: { amount: 25_000, currency: 'cop' } });
    expect(aMontoStripe(dinero('10.50', 'COP'), tabla).ok).toBe(false);
  });

  it('un exponente mayor que el del dominio multiplica sin perder nada', () => {
    const tabla = tablaMonedasStripe({ USD: { exponente: 3, decimalesAdmitidos: 3 } });
    expect(aMontoStripe(dinero('1.23', 'USD'), tabla)).toEqual({ ok: true, valor: { amount: 1230, currency: 'usd' } });
  });

  it('el máximo de Dinero cabe en un entero seguro con el exponente más alto', () => {
    const tabla = tablaMonedasStripe({ USD: { exponente: 4, decimalesAdmitidos: 4 } });
    const maximo = Dinero.deUnidadesMenores(Dinero.MAXIMO_UNIDADES_MENORES, 'USD');
    if (!maximo.ok) throw new Error('máximo inválido');
    const monto = aMontoStripe(maximo.valor, tabla);
    expect(monto).toEqual({ ok: true, valor: { amount: Dinero.MAXIMO_UNIDADES_MENORES * 100, currency: 'usd' } });
  });
});

describe('tablaMonedasStripe', () => {
  it('sin cambios es la tabla por defecto', () => {
    expect(tablaMonedasStripe()).toEqual(MONEDAS_STRIPE_POR_DEFECTO);
  });

  it.each([
    { exponente: 2, decimalesAdmitidos: 3 },
    { exponente: -1, decimalesAdmitidos: 0 },
    { exponente: 1.5, decimalesAdmitidos: 0 },
    { exponente: 5, decimalesAdmitidos: 0 },
  ])('rechaza un formato imposible: %o', (formato) => {
    expect(() => tablaMonedasStripe({ COP: formato })).toThrow(/Formato de moneda de Stripe inválido para COP/);
  });
});
