import type { Moneda } from '../moneda.js';
import { Resultado } from '../resultado.js';
import { Comision } from './comision.js';
import { componerId, sumaSegura } from './texto.js';

/**
 * Qué causó un ajuste: un hecho de la conversión que llegó con la comisión ya pagada, o el pago de la
 * liquidación de una comisión cuya conversión cambió mientras la liquidación estaba en curso.
 */
export type CausaAjuste =
  | { readonly tipo: 'hecho'; readonly idEvento: string }
  | { readonly tipo: 'liquidacion'; readonly idLiquidacion: string };

/**
 * Un ajuste de una comisión ya pagada (sellada), por la diferencia con lo que ahora se le debe:
 * - `recuperacion` (clawback): se pagó de más (ajuste a la baja, reversión); se descuenta de la siguiente
 *   liquidación del afiliado en esa moneda, y si no alcanza, el saldo negativo se arrastra;
 * - `complemento`: se pagó de menos (ajuste al alza); se paga en la siguiente liquidación.
 * Cada ajuste está en como mucho una liquidación no anulada, como una comisión.
 */
export type AjusteComision = Readonly<{
  /** Determinista: `ajuste:<idComision>:<tipo de causa>:<id de la causa>`. */
  id: string;
  tipo: 'recuperacion' | 'complemento';
  idComision: string;
  idSocio: string;
  idConversion: string;
  idAfiliado: string;
  moneda: Moneda;
  /** Siempre > 0; el signo lo da `tipo` (ver {@link AjusteComision.conSigno}). */
  unidadesMenores: number;
  causa: CausaAjuste;
  liquidacion: Readonly<{ idLiquidacion: string; estado: 'EN_CURSO' | 'PAGADA' }> | null;
}>;

export type ErrorAjuste =
  | { readonly tipo: 'AjusteDeOtraComision'; readonly idAjuste: string; readonly idComision: string }
  | { readonly tipo: 'ImporteFueraDeRango'; readonly idComision: string };

function idAjuste(idComision: string, causa: CausaAjuste): string {
  return causa.tipo === 'hecho'
    ? componerId('ajuste', idComision, 'hecho', causa.idEvento)
    : componerId('ajuste', idComision, 'liquidacion', causa.idLiquidacion);
}

function conSigno(ajuste: AjusteComision): number {
  return ajuste.tipo === 'complemento' ? ajuste.unidadesMenores : -ajuste.unidadesMenores;
}

/**
 * Regulariza una comisión sellada (decisión 0103): compara lo que se le debe ({@link Comision.debida})
 * con lo ya pagado más los ajustes que ya tiene, y devuelve el ajuste por la diferencia (recuperación si
 * sobra, complemento si falta), o `null` si no hay diferencia o la comisión no está sellada. Con la misma
 * causa da el mismo id: repetirla no crea un segundo ajuste.
 */
export function regularizarComision(
  comision: Comision,
  ajustes: readonly AjusteComision[],
  causa: CausaAjuste,
): Resultado<AjusteComision | null, ErrorAjuste> {
  const ajena = ajustes.find((a) => a.idComision !== comision.id);
  if (ajena) return Resultado.fallo({ tipo: 'AjusteDeOtraComision', idAjuste: ajena.id, idComision: comision.id });
  if (!Comision.sellada(comision) || comision.liquidacion === null) return Resultado.ok(null);
  const id = idAjuste(comision.id, causa);
  // La misma causa otra vez: el ajuste ya existe y la diferencia ya está cubierta.
  if (ajustes.some((a) => a.id === id)) return Resultado.ok(null);
  const cubierto = sumaSegura([comision.liquidacion.unidadesMenores, ...ajustes.map(conSigno)]);
  if (cubierto === null) return Resultado.fallo({ tipo: 'ImporteFueraDeRango', idComision: comision.id });
  const diferencia = Comision.debida(comision) - cubierto;
  if (diferencia === 0) return Resultado.ok(null);
  return Resultado.ok(
    Object.freeze({
      id,
      tipo: diferencia < 0 ? 'recuperacion' : 'complemento',
      idComision: comision.id,
      idSocio: comision.idSocio,
      idConversion: comision.idConversion,
      idAfiliado: comision.idAfiliado,
      moneda: comision.moneda,
      unidadesMenores: Math.abs(diferencia),
      causa,
      liquidacion: null,
    }),
  );
}

export const AjusteComision = {
  id: idAjuste,
  regularizar: regularizarComision,
  conSigno,
  /** Cambia su liquidación; el resto no cambia. */
  conLiquidacion(ajuste: AjusteComision, liquidacion: AjusteComision['liquidacion']): AjusteComision {
    return Object.freeze({ ...ajuste, liquidacion });
  },
} as const;
