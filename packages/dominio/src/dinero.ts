import { Moneda } from './moneda.js';
import { Resultado } from './resultado.js';

/**
 * Importe en unidades menores enteras (centavos) más su moneda. Nunca un float:
 * `unidadesMenores` es un entero seguro, positivo y acotado por {@link Dinero.MAXIMO_UNIDADES_MENORES}.
 */
export type Dinero = Readonly<{ unidadesMenores: number; moneda: Moneda }>;

export type ErrorDinero =
  | { readonly tipo: 'MonedaNoSoportada'; readonly moneda: string }
  | { readonly tipo: 'MontoMalFormado'; readonly valor: string }
  | { readonly tipo: 'MontoNoPositivo'; readonly valor: string }
  | { readonly tipo: 'DemasiadosDecimales'; readonly valor: string; readonly decimalesPermitidos: number }
  | { readonly tipo: 'MontoExcedeMaximo'; readonly valor: string; readonly maximo: string };

/** 999 999 999,99 en cualquier moneda: muy por encima de cualquier pago a un afiliado. */
const MAXIMO_UNIDADES_MENORES = 99_999_999_999;

const DECIMAL_ESTRICTO = /^(\d+)(?:\.(\d+))?$/;
// Forma que produce String(n) para cualquier número finito de JavaScript.
const DECIMAL_JS = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

function desdeDigitos(
  entero: string,
  fraccion: string,
  exponente: number,
  moneda: Moneda,
  original: string,
): Resultado<Dinero, ErrorDinero> {
  // valor = (entero.fraccion) × 10^exponente, exacto con BigInt.
  let digitos = (entero + fraccion).replace(/^0+(?=\d)/, '');
  let escala = fraccion.length - exponente; // número de decimales de `digitos`
  if (escala < 0) {
    digitos += '0'.repeat(-escala);
    escala = 0;
  }
  const decimales = Moneda.decimales(moneda);
  // Quitar ceros finales de la parte decimal no cambia el valor.
  while (escala > decimales && digitos.endsWith('0') && digitos.length > 1) {
    digitos = digitos.slice(0, -1);
    escala -= 1;
  }
  const mantisa = BigInt(digitos);
  if (mantisa === 0n) return Resultado.fallo({ tipo: 'MontoNoPositivo', valor: original });
  if (escala > decimales) {
    return Resultado.fallo({ tipo: 'DemasiadosDecimales', valor: original, decimalesPermitidos: decimales });
  }
  const unidades = mantisa * 10n ** BigInt(decimales - escala);
  if (unidades > BigInt(MAXIMO_UNIDADES_MENORES)) {
    return Resultado.fallo({
      tipo: 'MontoExcedeMaximo',
      valor: original,
      maximo: formatear(MAXIMO_UNIDADES_MENORES, moneda),
    });
  }
  return Resultado.ok(Object.freeze({ unidadesMenores: Number(unidades), moneda }));
}

function formatear(unidadesMenores: number, moneda: Moneda): string {
  const decimales = Moneda.decimales(moneda);
  const texto = String(unidadesMenores).padStart(decimales + 1, '0');
  if (decimales === 0) return texto;
  return `${texto.slice(0, -decimales)}.${texto.slice(-decimales)}`;
}

function validarMoneda(moneda: unknown): Resultado<Moneda, ErrorDinero> {
  return Moneda.esMoneda(moneda) ? Resultado.ok(moneda) : Resultado.fallo({ tipo: 'MonedaNoSoportada', moneda: String(moneda) });
}

export const Dinero = {
  MAXIMO_UNIDADES_MENORES,

  /**
   * Construye un importe a partir de un número JSON (`150.75`) o de una cadena decimal (`"150.75"`).
   * El número se interpreta por su representación decimal más corta (la que escribió el cliente),
   * nunca por aritmética de coma flotante. Rechaza NaN, infinitos, cero, negativos, más decimales
   * de los que admite la moneda y montos por encima del máximo.
   */
  de(valor: number | string, moneda: unknown): Resultado<Dinero, ErrorDinero> {
    const m = validarMoneda(moneda);
    if (!m.ok) return m;
    if (typeof valor === 'number') {
      const original = String(valor);
      if (!Number.isFinite(valor)) return Resultado.fallo({ tipo: 'MontoMalFormado', valor: original });
      if (valor <= 0) return Resultado.fallo({ tipo: 'MontoNoPositivo', valor: original });
      const partes = DECIMAL_JS.exec(original);
      if (!partes) return Resultado.fallo({ tipo: 'MontoMalFormado', valor: original });
      return desdeDigitos(partes[1] ?? '0', partes[2] ?? '', Number(partes[3] ?? '0'), m.valor, original);
    }
    if (typeof valor !== 'string') return Resultado.fallo({ tipo: 'MontoMalFormado', valor: String(valor) });
    const texto = valor.trim();
    if (texto.startsWith('-')) return Resultado.fallo({ tipo: 'MontoNoPositivo', valor });
    const partes = DECIMAL_ESTRICTO.exec(texto);
    if (!partes || texto.length > 40) return Resultado.fallo({ tipo: 'MontoMalFormado', valor });
    return desdeDigitos(partes[1] ?? '0', partes[2] ?? '', 0, m.valor, valor);
  },

  /** Construye un importe desde unidades menores enteras (lo que guarda la base de datos). */
  deUnidadesMenores(unidadesMenores: number, moneda: unknown): Resultado<Dinero, ErrorDinero> {
    const m = validarMoneda(moneda);
    if (!m.ok) return m;
    if (!Number.isSafeInteger(unidadesMenores)) {
      return Resultado.fallo({ tipo: 'MontoMalFormado', valor: String(unidadesMenores) });
    }
    if (unidadesMenores <= 0) return Resultado.fallo({ tipo: 'MontoNoPositivo', valor: String(unidadesMenores) });
    if (unidadesMenores > MAXIMO_UNIDADES_MENORES) {
      return Resultado.fallo({
        tipo: 'MontoExcedeMaximo',
        valor: String(unidadesMenores),
        maximo: formatear(MAXIMO_UNIDADES_MENORES, m.valor),
      });
    }
    return Resultado.ok(Object.freeze({ unidadesMenores, moneda: m.valor }));
  },

  /** Cadena decimal exacta con todos los decimales de la moneda: `"150.75"`, `"3.00"`. */
  formatear(dinero: Dinero): string {
    return formatear(dinero.unidadesMenores, dinero.moneda);
  },

  /**
   * El importe como número JSON (`150.75`). Exacto al serializar: `JSON.stringify` escribe la
   * representación decimal más corta, que es la de {@link Dinero.formatear} sin ceros finales.
   */
  aNumero(dinero: Dinero): number {
    return Number(formatear(dinero.unidadesMenores, dinero.moneda));
  },

  igual(a: Dinero, b: Dinero): boolean {
    return a.unidadesMenores === b.unidadesMenores && a.moneda === b.moneda;
  },
} as const;
