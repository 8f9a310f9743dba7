import { Resultado } from '../resultado.js';
import { AjusteComision, type ErrorAjuste } from './ajuste-comision.js';
import { Comision, comisionDe, reglaParaComision, type ErrorComision, type ReferenciaLiquidacion } from './comision.js';
import { estadoConversion, type Conversion } from './conversion.js';
import { HechoConversion } from './hecho-conversion.js';
import { LibroMayor, type Asiento, type ClaveLibro } from './libro-mayor.js';
import { Liquidacion, type DesenlacePago, type ErrorLiquidacion } from './liquidacion.js';
import type { ReglaComision } from './regla-comision.js';

/**
 * Los tres momentos que mueven dinero, como funciones puras que devuelven el estado nuevo y el asiento
 * que lo contabiliza. La persistencia los aplica en una transacción, con la conversión (o la
 * liquidación) bloqueada, y escribe los apuntes con `ON CONFLICT (id) DO NOTHING` (decisión 0105).
 */

export interface EntradaHecho {
  /** Los hechos ya guardados de la conversión. */
  readonly hechos: readonly HechoConversion[];
  /** El hecho que llega (puede ser una repetición). */
  readonly hecho: HechoConversion;
  /** La regla guardada con la comisión, si la comisión ya existe (instantánea). */
  readonly reglaInstantanea: ReglaComision | null;
  /** Las reglas del socio: si aún no hay instantánea, rige la vigente en la creación. */
  readonly reglas: readonly ReglaComision[];
  /** La liquidación no anulada que incluye la comisión, si la hay. */
  readonly liquidacion: ReferenciaLiquidacion | null;
  /** Los ajustes que ya tiene la comisión. */
  readonly ajustes: readonly AjusteComision[];
}

export type CambioConversion = Readonly<{
  conversion: Conversion;
  /** `null` mientras la conversión espera su `creada`. */
  comision: Comision | null;
  /** Recuperación o complemento si la comisión estaba pagada y lo debido cambió. */
  ajuste: AjusteComision | null;
  asiento: Asiento | null;
  /** El hecho ya estaba (mismo `idEvento` y contenido): nada que escribir. */
  repetido: boolean;
}>;

function libroDe(c: { idSocio: string; idAfiliado: string; moneda: ClaveLibro['moneda'] }): ClaveLibro {
  return { idSocio: c.idSocio, idAfiliado: c.idAfiliado, moneda: c.moneda };
}

/**
 * Aplica un hecho a una conversión: su estado con el hecho (función del conjunto), su comisión, el
 * ajuste si ya estaba pagada (causa: el hecho) y el asiento por la diferencia (causa: el hecho). Con la
 * comisión en una liquidación en curso no se contabiliza nada: lo hará el desenlace de la liquidación.
 * Una conversión bloqueada por un conflicto es un error (`ConversionBloqueada`): su comisión se queda
 * como estaba hasta que un operador resuelva.
 */
export function aplicarHechoConversion(entrada: EntradaHecho): Resultado<CambioConversion, ErrorComision | ErrorAjuste> {
  const { hecho } = entrada;
  const clave = { idSocio: hecho.idSocio, idConversion: hecho.idConversion };
  const antes = estadoConversion(clave, entrada.hechos);
  const despues = estadoConversion(clave, [...entrada.hechos, hecho]);
  const repetido = entrada.hechos.some((h) => HechoConversion.iguales(h, hecho));
  if (despues.bloqueada) {
    return Resultado.fallo({ tipo: 'ConversionBloqueada', idConversion: despues.idConversion, conflictos: despues.conflictos });
  }
  if (despues.estado === 'ESPERANDO_CONVERSION' || despues.creadaEn === null) {
    return Resultado.ok(Object.freeze({ conversion: despues, comision: null, ajuste: null, asiento: null, repetido }));
  }
  const regla = reglaParaComision(despues, entrada.reglaInstantanea, entrada.reglas);
  if (regla === null) return Resultado.fallo({ tipo: 'SinReglaVigente', idSocio: despues.idSocio, instante: despues.creadaEn });
  const comision = comisionDe(despues, regla, entrada.liquidacion);
  if (!comision.ok) return comision;
  if (repetido)
    return Resultado.ok(Object.freeze({ conversion: despues, comision: comision.valor, ajuste: null, asiento: null, repetido }));

  let previa: Comision | null = null;
  if (antes.estado !== 'ESPERANDO_CONVERSION') {
    const r = comisionDe(antes, regla, entrada.liquidacion);
    if (!r.ok) return r;
    previa = r.valor;
  }
  const ajuste = AjusteComision.regularizar(comision.valor, entrada.ajustes, { tipo: 'hecho', idEvento: hecho.idEvento });
  if (!ajuste.ok) return ajuste;
  const asiento = LibroMayor.asientoEntre(
    { tipo: 'hecho', idSocio: hecho.idSocio, idEvento: hecho.idEvento },
    libroDe(comision.valor),
    LibroMayor.saldosDe(previa ? [previa] : [], entrada.ajustes),
    LibroMayor.saldosDe([comision.valor], ajuste.valor ? [...entrada.ajustes, ajuste.valor] : entrada.ajustes),
  );
  return Resultado.ok(Object.freeze({ conversion: despues, comision: comision.valor, ajuste: ajuste.valor, asiento, repetido }));
}

/**
 * El asiento de una liquidación recién creada: sus comisiones y complementos pasan de `aprobado` a
 * `en_liquidacion` (las recuperaciones siguen en `por_recuperar` hasta que se pague).
 */
export function asientoLiquidacionCreada(liquidacion: Liquidacion): Asiento | null {
  const bruto = liquidacion.partidas.filter((p) => p.tipo !== 'recuperacion').reduce((s, p) => s + p.unidadesMenores, 0);
  return LibroMayor.asientoEntre(
    { tipo: 'liquidacion_creada', idLiquidacion: liquidacion.id },
    libroDe(liquidacion),
    { ...LibroMayor.SALDOS_CERO, aprobado: bruto },
    { ...LibroMayor.SALDOS_CERO, en_liquidacion: bruto },
  );
}

export interface EntradaCierre {
  readonly liquidacion: Liquidacion;
  readonly desenlace: DesenlacePago;
  /** Las comisiones de sus partidas `comision`, calculadas con los hechos de ahora. */
  readonly comisiones: readonly Comision[];
  /** Los ajustes de sus partidas y todos los ajustes de sus comisiones. */
  readonly ajustes: readonly AjusteComision[];
}

export type CierreLiquidacion = Readonly<{
  liquidacion: Liquidacion;
  /** Sus comisiones, ahora PAGADAS (selladas) o liberadas (sin liquidación). */
  comisiones: readonly Comision[];
  /** Los ajustes de sus partidas, ahora pagados o liberados. */
  ajustes: readonly AjusteComision[];
  /** Regularizaciones de las comisiones pagadas cuya conversión cambió mientras estaba en curso. */
  ajustesNuevos: readonly AjusteComision[];
  asiento: Asiento | null;
}>;

export type ErrorCierre =
  | ErrorLiquidacion
  | ErrorAjuste
  | { readonly tipo: 'PartidaSinDatos'; readonly idLiquidacion: string; readonly idPartida: string };

/**
 * El desenlace del pago de una liquidación (la segunda fase). EXITOSO: la liquidación pasa a PAGADA, sus
 * comisiones quedan selladas con el importe con que entraron, sus ajustes quedan pagados (recuperados) y
 * cada comisión cuya conversión cambió mientras tanto se regulariza (causa: la liquidación). FALLIDO: pasa
 * a ANULADA y todo se libera; cada comisión vuelve a contar con su importe actual (aprobada, o nada si se
 * revirtió). Reaplicar el mismo desenlace no cambia nada ni contabiliza nada.
 */
export function cerrarLiquidacion(entrada: EntradaCierre): Resultado<CierreLiquidacion, ErrorCierre> {
  const { liquidacion, desenlace } = entrada;
  const cerrada = Liquidacion.registrarDesenlace(liquidacion, desenlace);
  if (!cerrada.ok) return cerrada;
  if (cerrada.valor === liquidacion) {
    return Resultado.ok(Object.freeze({ liquidacion, comisiones: [], ajustes: [], ajustesNuevos: [], asiento: null }));
  }
  const pagada = cerrada.valor.estado === 'PAGADA';

  const antes: { comisiones: Comision[]; ajustes: AjusteComision[] } = { comisiones: [], ajustes: [] };
  const despues: { comisiones: Comision[]; ajustes: AjusteComision[] } = { comisiones: [], ajustes: [] };
  for (const partida of liquidacion.partidas) {
    const faltan = (): Resultado<never, ErrorCierre> =>
      Resultado.fallo({ tipo: 'PartidaSinDatos', idLiquidacion: liquidacion.id, idPartida: partida.id });
    if (partida.tipo === 'comision') {
      const comision = entrada.comisiones.find((c) => c.id === partida.id);
      if (!comision) return faltan();
      const enCurso: ReferenciaLiquidacion = {
        idLiquidacion: liquidacion.id,
        estado: 'EN_CURSO',
        unidadesMenores: partida.unidadesMenores,
      };
      antes.comisiones.push(Comision.conLiquidacion(comision, enCurso));
      despues.comisiones.push(Comision.conLiquidacion(comision, pagada ? { ...enCurso, estado: 'PAGADA' } : null));
    } else {
      const ajuste = entrada.ajustes.find((a) => a.id === partida.id);
      if (!ajuste) return faltan();
      antes.ajustes.push(AjusteComision.conLiquidacion(ajuste, { idLiquidacion: liquidacion.id, estado: 'EN_CURSO' }));
      const destino = pagada ? { idLiquidacion: liquidacion.id, estado: 'PAGADA' as const } : null;
      despues.ajustes.push(AjusteComision.conLiquidacion(ajuste, destino));
    }
  }

  const ajustesNuevos: AjusteComision[] = [];
  if (pagada) {
    for (const comision of despues.comisiones) {
      const suyos = entrada.ajustes.filter((a) => a.idComision === comision.id).map((a) => despues.ajustes.find((d) => d.id === a.id) ?? a);
      const r = AjusteComision.regularizar(comision, suyos, { tipo: 'liquidacion', idLiquidacion: liquidacion.id });
      if (!r.ok) return r;
      if (r.valor) ajustesNuevos.push(r.valor);
    }
  }
  const asiento = LibroMayor.asientoEntre(
    { tipo: pagada ? 'liquidacion_pagada' : 'liquidacion_anulada', idLiquidacion: liquidacion.id },
    libroDe(liquidacion),
    LibroMayor.saldosDe(antes.comisiones, antes.ajustes),
    LibroMayor.saldosDe(despues.comisiones, [...despues.ajustes, ...ajustesNuevos]),
  );
  return Resultado.ok(
    Object.freeze({
      liquidacion: cerrada.valor,
      comisiones: Object.freeze(despues.comisiones),
      ajustes: Object.freeze(despues.ajustes),
      ajustesNuevos: Object.freeze(ajustesNuevos),
      asiento,
    }),
  );
}
