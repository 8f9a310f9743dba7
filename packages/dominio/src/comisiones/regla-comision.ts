import { Dinero, type ErrorDinero } from '../dinero.js';
import type { Moneda } from '../moneda.js';
import { Resultado } from '../resultado.js';
import { type DatoInvalido, datoInvalido, fechaValida, validarIdentificador } from './texto.js';

/** Cómo se calcula: un porcentaje de la venta en puntos básicos (1 pb = 0,01 %) o un importe fijo. */
export type CalculoComision =
  | { readonly tipo: 'porcentaje'; readonly puntosBasicos: number }
  | { readonly tipo: 'fijo'; readonly monto: Dinero };

/**
 * Regla de comisión de un socio, versionada: rige desde `vigenteDesde` hasta que otra versión posterior
 * la sustituye. La que rige en el `ocurridoEn` de la creación de una conversión se guarda con su
 * comisión (instantánea): cambiar las reglas después no cambia las comisiones ya calculadas.
 */
export type ReglaComision = Readonly<{
  idSocio: string;
  /** 1, 2, 3… por socio. */
  version: number;
  vigenteDesde: Date;
  calculo: CalculoComision;
  /** Máximo por comisión; `null` sin tope. */
  tope: Dinero | null;
  /** Días (de 24 h) desde la creación de la conversión antes de poder pagar su comisión aprobada. */
  diasBloqueo: number;
  /** Neto mínimo para crear una liquidación; `null` es 0 (cualquier neto positivo). */
  minimoLiquidacion: Dinero | null;
}>;

export interface DatosReglaComision {
  readonly idSocio: string;
  readonly version: number;
  readonly vigenteDesde: Date;
  readonly calculo: CalculoComision;
  readonly tope?: Dinero | null | undefined;
  /** Por defecto {@link ReglaComision.DIAS_BLOQUEO_POR_DEFECTO} (30). */
  readonly diasBloqueo?: number | undefined;
  readonly minimoLiquidacion?: Dinero | null | undefined;
}

export type ErrorReglaComision =
  | ErrorDinero
  | DatoInvalido
  /** Importe fijo, tope y mínimo de una regla van en una sola moneda: la de la regla. */
  | { readonly tipo: 'MonedasDistintasEnRegla'; readonly monedas: readonly Moneda[] };

export type ErrorCalculoComision = {
  readonly tipo: 'MonedaDeReglaDistinta';
  readonly monedaRegla: Moneda;
  readonly monedaVenta: Moneda;
};

const DIAS_BLOQUEO_POR_DEFECTO = 30;
const DIAS_BLOQUEO_MAXIMOS = 365;
const PUNTOS_BASICOS_MAXIMOS = 10_000;
const DIA_MS = 24 * 60 * 60 * 1000;

function revalidar(dinero: Dinero): Resultado<Dinero, ErrorDinero> {
  return Dinero.deUnidadesMenores(dinero.unidadesMenores, dinero.moneda);
}

/** Valida una regla. Un porcentaje va de 1 a 10 000 pb (100 %); el bloqueo, de 0 a 365 días. */
export function crearReglaComision(datos: DatosReglaComision): Resultado<ReglaComision, ErrorReglaComision> {
  const id = validarIdentificador('id_socio', datos.idSocio);
  if (id) return Resultado.fallo(id);
  if (!(Number.isSafeInteger(datos.version) && datos.version >= 1)) {
    return Resultado.fallo(datoInvalido('version', 'debe ser un entero mayor o igual que 1'));
  }
  if (!fechaValida(datos.vigenteDesde)) return Resultado.fallo(datoInvalido('vigente_desde', 'debe ser una fecha válida'));

  let calculo: CalculoComision;
  const monedas: Moneda[] = [];
  if (datos.calculo.tipo === 'porcentaje') {
    const pb = datos.calculo.puntosBasicos;
    if (!(Number.isSafeInteger(pb) && pb >= 1 && pb <= PUNTOS_BASICOS_MAXIMOS)) {
      return Resultado.fallo(datoInvalido('porcentaje', 'debe estar entre 0,01 % y 100 % (1 a 10 000 puntos básicos)'));
    }
    calculo = Object.freeze({ tipo: 'porcentaje', puntosBasicos: pb });
  } else {
    const monto = revalidar(datos.calculo.monto);
    if (!monto.ok) return monto;
    calculo = Object.freeze({ tipo: 'fijo', monto: monto.valor });
    monedas.push(monto.valor.moneda);
  }
  let tope: Dinero | null = null;
  if (datos.tope != null) {
    const t = revalidar(datos.tope);
    if (!t.ok) return t;
    tope = t.valor;
    monedas.push(tope.moneda);
  }
  let minimoLiquidacion: Dinero | null = null;
  if (datos.minimoLiquidacion != null) {
    const m = revalidar(datos.minimoLiquidacion);
    if (!m.ok) return m;
    minimoLiquidacion = m.valor;
    monedas.push(minimoLiquidacion.moneda);
  }
  const distintas = [...new Set(monedas)];
  if (distintas.length > 1) return Resultado.fallo({ tipo: 'MonedasDistintasEnRegla', monedas: distintas });
  const diasBloqueo = datos.diasBloqueo ?? DIAS_BLOQUEO_POR_DEFECTO;
  if (!(Number.isSafeInteger(diasBloqueo) && diasBloqueo >= 0 && diasBloqueo <= DIAS_BLOQUEO_MAXIMOS)) {
    return Resultado.fallo(datoInvalido('dias_bloqueo', `debe ser un entero entre 0 y ${DIAS_BLOQUEO_MAXIMOS}`));
  }
  return Resultado.ok(
    Object.freeze({
      idSocio: datos.idSocio,
      version: datos.version,
      vigenteDesde: datos.vigenteDesde,
      calculo,
      tope,
      diasBloqueo,
      minimoLiquidacion,
    }),
  );
}

/** La moneda de la regla (la de su fijo, tope o mínimo), o `null` si no tiene importes: vale para cualquiera. */
function monedaDeRegla(regla: ReglaComision): Moneda | null {
  if (regla.calculo.tipo === 'fijo') return regla.calculo.monto.moneda;
  return regla.tope?.moneda ?? regla.minimoLiquidacion?.moneda ?? null;
}

/**
 * La regla que rige para `idSocio` en `instante`: la de `vigenteDesde` más reciente que no sea posterior;
 * a igual `vigenteDesde`, la de versión mayor. `null` si ninguna rige todavía.
 */
export function reglaVigente(reglas: readonly ReglaComision[], idSocio: string, instante: Date): ReglaComision | null {
  let vigente: ReglaComision | null = null;
  for (const r of reglas) {
    if (r.idSocio !== idSocio || r.vigenteDesde.getTime() > instante.getTime()) continue;
    if (
      vigente === null ||
      r.vigenteDesde.getTime() > vigente.vigenteDesde.getTime() ||
      (r.vigenteDesde.getTime() === vigente.vigenteDesde.getTime() && r.version > vigente.version)
    ) {
      vigente = r;
    }
  }
  return vigente;
}

/**
 * `unidadesMenores × puntosBasicos / 10 000` redondeado a la unidad menor **mitad hacia arriba**
 * (0,5 → 1; decisión 0102). Aritmética entera exacta (BigInt): nunca un float.
 */
export function aplicarPorcentaje(unidadesMenores: number, puntosBasicos: number): number {
  const producto = BigInt(unidadesMenores) * BigInt(puntosBasicos);
  return Number((producto * 2n + 10_000n) / 20_000n);
}

/**
 * La comisión de una venta según una regla, en unidades menores enteras (≥ 0; puede ser 0 si el
 * porcentaje de una venta diminuta redondea a 0): el porcentaje redondeado (ver {@link aplicarPorcentaje})
 * o el fijo, y como mucho el tope. Una regla con importes en otra moneda que la venta es un error.
 */
export function calcularComision(venta: Dinero, regla: ReglaComision): Resultado<number, ErrorCalculoComision> {
  const moneda = monedaDeRegla(regla);
  if (moneda !== null && moneda !== venta.moneda) {
    return Resultado.fallo({ tipo: 'MonedaDeReglaDistinta', monedaRegla: moneda, monedaVenta: venta.moneda });
  }
  const bruta =
    regla.calculo.tipo === 'porcentaje'
      ? aplicarPorcentaje(venta.unidadesMenores, regla.calculo.puntosBasicos)
      : regla.calculo.monto.unidadesMenores;
  return Resultado.ok(regla.tope === null ? bruta : Math.min(bruta, regla.tope.unidadesMenores));
}

export const ReglaComision = {
  DIAS_BLOQUEO_POR_DEFECTO,
  DIAS_BLOQUEO_MAXIMOS,
  PUNTOS_BASICOS_MAXIMOS,
  crear: crearReglaComision,
  vigente: reglaVigente,
  calcular: calcularComision,
  aplicarPorcentaje,
  moneda: monedaDeRegla,
  /** Hasta cuándo está bloqueada una comisión de una conversión creada en `creadaEn`. */
  finDelBloqueo(regla: ReglaComision, creadaEn: Date): Date {
    return new Date(creadaEn.getTime() + regla.diasBloqueo * DIA_MS);
  },
  /** El neto mínimo (unidades menores) de una liquidación en `moneda`: 0 si la regla no lo fija en esa moneda. */
  minimoEn(regla: ReglaComision | null, moneda: Moneda): number {
    const minimo = regla?.minimoLiquidacion;
    return minimo && minimo.moneda === moneda ? minimo.unidadesMenores : 0;
  },
} as const;
