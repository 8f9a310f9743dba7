import { Dinero, Moneda, Resultado } from '@aeropartners/dominio';

/**
 * Cómo recibe Stripe los importes de una moneda en el entero `amount` de una transferencia.
 *
 * Son dos cosas distintas y Stripe las separa en sus «casos especiales» (HUF, TWD, ISK…): la
 * *representación* de `amount` no cambia nunca de un endpoint a otro, pero algunas operaciones solo
 * aceptan unidades enteras. COP es uno de esos casos: la API lo trata como moneda de dos decimales
 * (`amount: 100` = 1 peso) y las transferencias y pagos en COP deben ser de pesos enteros, es decir,
 * `amount` múltiplo de 100. Mandar `amount: 10` para 10 pesos transferiría 0,10 COP.
 */
export interface FormatoMonedaStripe {
  /** Decimales que codifica `amount` en la API de Stripe: con 2, `1050` son 10,50. */
  readonly exponente: number;
  /**
   * Decimales que Stripe admite de verdad en una transferencia (≤ `exponente`). Un monto con más
   * decimales se rechaza; el adaptador nunca redondea.
   */
  readonly decimalesAdmitidos: number;
}

export type TablaMonedasStripe = Readonly<Record<Moneda, FormatoMonedaStripe>>;

/** USD y EUR con sus dos decimales; COP codificado con dos decimales y transferido en pesos enteros. */
export const MONEDAS_STRIPE_POR_DEFECTO: TablaMonedasStripe = Object.freeze({
  USD: Object.freeze({ exponente: 2, decimalesAdmitidos: 2 }),
  EUR: Object.freeze({ exponente: 2, decimalesAdmitidos: 2 }),
  COP: Object.freeze({ exponente: 2, decimalesAdmitidos: 0 }),
});

// Stripe no tiene monedas de más de tres decimales; el tope deja `amount` muy lejos de 2^53.
const MAXIMO_DECIMALES = 4;

function esDecimalesValido(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAXIMO_DECIMALES;
}

/**
 * Completa la tabla por defecto con los formatos dados y la valida. Un formato imposible es un error de
 * configuración: se lanza al construir el adaptador, no al primer pago.
 */
export function tablaMonedasStripe(formatos: Partial<Record<Moneda, FormatoMonedaStripe>> = {}): TablaMonedasStripe {
  const tabla = { ...MONEDAS_STRIPE_POR_DEFECTO };
  for (const moneda of Moneda.todas) {
    const formato = formatos[moneda];
    if (formato === undefined) continue;
    const { exponente, decimalesAdmitidos } = formato;
    if (!esDecimalesValido(exponente) || !esDecimalesValido(decimalesAdmitidos) || decimalesAdmitidos > exponente) {
      throw new Error(
        `Formato de moneda de Stripe inválido para ${moneda}: exponente ${exponente}, decimales admitidos ` +
          `${decimalesAdmitidos} (deben ser enteros entre 0 y ${MAXIMO_DECIMALES}, y los admitidos no pueden ` +
          'superar al exponente).',
      );
    }
    tabla[moneda] = Object.freeze({ exponente, decimalesAdmitidos });
  }
  return Object.freeze(tabla);
}

/** Importe listo para la API de Stripe. */
export interface MontoStripe {
  /** Entero en la unidad que Stripe espera para la moneda. */
  readonly amount: number;
  /** Código ISO 4217 en minúsculas, como lo pide Stripe. */
  readonly currency: string;
}

export type MontoNoRepresentable = {
  readonly tipo: 'MontoNoRepresentable';
  /** El monto tal como lo expresa el dominio: `"10.50"`. */
  readonly monto: string;
  readonly moneda: Moneda;
  readonly decimalesAdmitidos: number;
};

/**
 * Convierte un {@link Dinero} (unidades menores ISO 4217) al `amount` de Stripe, solo con aritmética
 * entera. Devuelve `MontoNoRepresentable` si el monto tiene más decimales de los que Stripe admite para
 * la moneda (10,50 COP con pesos enteros), en vez de redondear.
 */
export function aMontoStripe(dinero: Dinero, tabla: TablaMonedasStripe): Resultado<MontoStripe, MontoNoRepresentable> {
  const formato = tabla[dinero.moneda];
  const decimalesDominio = Moneda.decimales(dinero.moneda);
  const unidades = BigInt(dinero.unidadesMenores);

  const sobrantes = decimalesDominio - formato.decimalesAdmitidos;
  if (sobrantes > 0 && unidades % 10n ** BigInt(sobrantes) !== 0n) {
    return Resultado.fallo({
      tipo: 'MontoNoRepresentable',
      monto: Dinero.formatear(dinero),
      moneda: dinero.moneda,
      decimalesAdmitidos: formato.decimalesAdmitidos,
    });
  }

  // Exacta: si el exponente es menor que los decimales del dominio, la comprobación anterior ya
  // garantizó que los dígitos que se quitan son ceros (decimalesAdmitidos ≤ exponente).
  const ajuste = formato.exponente - decimalesDominio;
  const amount = ajuste >= 0 ? unidades * 10n ** BigInt(ajuste) : unidades / 10n ** BigInt(-ajuste);
  if (amount > BigInt(Number.MAX_SAFE_INTEGER)) {
    // Inalcanzable con el máximo de Dinero y exponentes ≤ 4; se comprueba para no perder precisión nunca.
    throw new Error(`El monto ${Dinero.formatear(dinero)} ${dinero.moneda} no cabe en un entero seguro para Stripe.`);
  }
  return Resultado.ok({ amount: Number(amount), currency: dinero.moneda.toLowerCase() });
}

export function describirMontoNoRepresentable(error: MontoNoRepresentable): string {
  const precision = error.decimalesAdmitidos === 0 ? 'unidades enteras, sin decimales' : `como mucho ${error.decimalesAdmitidos} decimales`;
  return (
    `Stripe no admite transferir ${error.monto} ${error.moneda}: las transferencias en ${error.moneda} ` +
    `deben ser de ${precision}. No se redondea el monto; no se transfirió nada.`
  );
}
