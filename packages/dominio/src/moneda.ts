/** Monedas aceptadas, con su unidad menor ISO 4217 (número de decimales). */
export type Moneda = 'USD' | 'EUR' | 'COP';

const DECIMALES: Readonly<Record<Moneda, number>> = { USD: 2, EUR: 2, COP: 2 };

export const Moneda = {
  /** Todas las monedas aceptadas, en orden estable. */
  todas: Object.freeze(['USD', 'EUR', 'COP'] as const) satisfies readonly Moneda[],
  esMoneda(valor: unknown): valor is Moneda {
    return typeof valor === 'string' && Object.hasOwn(DECIMALES, valor);
  },
  /** Decimales de la unidad menor según ISO 4217 (USD 2, EUR 2, COP 2). */
  decimales(moneda: Moneda): number {
    return DECIMALES[moneda];
  },
} as const;
