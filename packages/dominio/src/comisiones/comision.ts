import type { Moneda } from '../moneda.js';
import { Resultado } from '../resultado.js';
import type { ConflictoConversion, Conversion } from './conversion.js';
import { ReglaComision, type ErrorCalculoComision } from './regla-comision.js';
import { componerId } from './texto.js';

/**
 * Estado de una comisión, derivado del de su conversión y de su liquidación (si la hay):
 * - `PENDIENTE`: la conversión aún no está aprobada;
 * - `APROBADA`: aprobada y en ninguna liquidación (pagable cuando acabe su bloqueo);
 * - `EN_LIQUIDACION`: en una liquidación en curso (el dinero puede estar moviéndose);
 * - `PAGADA`: su liquidación se pagó; queda sellada (decisión 0103);
 * - `REVERTIDA`: la conversión se revirtió; si estaba pagada, su importe se recupera.
 */
export type EstadoComision = 'PENDIENTE' | 'APROBADA' | 'EN_LIQUIDACION' | 'PAGADA' | 'REVERTIDA';

export const EstadoComision = {
  todos: Object.freeze(['PENDIENTE', 'APROBADA', 'EN_LIQUIDACION', 'PAGADA', 'REVERTIDA'] as const) satisfies readonly EstadoComision[],
  esEstado(valor: unknown): valor is EstadoComision {
    return typeof valor === 'string' && (EstadoComision.todos as readonly string[]).includes(valor);
  },
} as const;

/** La liquidación no anulada que incluye una partida (comisión o ajuste), y con qué importe entró. */
export type ReferenciaLiquidacion = Readonly<{
  idLiquidacion: string;
  estado: 'EN_CURSO' | 'PAGADA';
  /** El importe con que entró en la liquidación (para una comisión, lo que se le pagó o se le pagará). */
  unidadesMenores: number;
}>;

/** La comisión que genera una conversión, una por conversión. */
export type Comision = Readonly<{
  /** Determinista: `comision:<idSocio>:<idConversion>`. */
  id: string;
  idSocio: string;
  idConversion: string;
  idAfiliado: string;
  moneda: Moneda;
  /** Instantánea de la regla que regía en la creación de la conversión. */
  regla: ReglaComision;
  estadoConversion: 'PENDIENTE' | 'APROBADA' | 'REVERTIDA';
  /** La comisión que genera la venta vigente según la regla (≥ 0), también si está revertida. */
  unidadesMenores: number;
  estado: EstadoComision;
  /** Fin del bloqueo: desde cuándo se puede liquidar si está aprobada. */
  pagableDesde: Date;
  liquidacion: ReferenciaLiquidacion | null;
}>;

export type ErrorComision =
  | ErrorCalculoComision
  | { readonly tipo: 'ConversionSinCrear'; readonly idConversion: string }
  | { readonly tipo: 'ConversionBloqueada'; readonly idConversion: string; readonly conflictos: readonly ConflictoConversion[] }
  | { readonly tipo: 'ReglaDeOtroSocio'; readonly idSocio: string; readonly idSocioRegla: string }
  | { readonly tipo: 'SinReglaVigente'; readonly idSocio: string; readonly instante: Date }
  | { readonly tipo: 'LiquidacionIncoherente'; readonly idComision: string; readonly motivo: string };

function idComision(idSocio: string, idConversion: string): string {
  return componerId('comision', idSocio, idConversion);
}

function estadoDe(estadoConversion: Comision['estadoConversion'], liquidacion: ReferenciaLiquidacion | null): EstadoComision {
  if (liquidacion?.estado === 'EN_CURSO') return 'EN_LIQUIDACION';
  if (estadoConversion === 'REVERTIDA') return 'REVERTIDA';
  if (liquidacion?.estado === 'PAGADA') return 'PAGADA';
  return estadoConversion;
}

/**
 * La comisión de una conversión con la regla de su instantánea y su liquidación no anulada (si la hay).
 * Función pura: la misma conversión (el mismo conjunto de hechos) da la misma comisión.
 */
export function comisionDe(
  conversion: Conversion,
  regla: ReglaComision,
  liquidacion: ReferenciaLiquidacion | null = null,
): Resultado<Comision, ErrorComision> {
  if (conversion.bloqueada) {
    return Resultado.fallo({ tipo: 'ConversionBloqueada', idConversion: conversion.idConversion, conflictos: conversion.conflictos });
  }
  if (conversion.estado === 'ESPERANDO_CONVERSION' || !conversion.idAfiliado || !conversion.venta || !conversion.creadaEn) {
    return Resultado.fallo({ tipo: 'ConversionSinCrear', idConversion: conversion.idConversion });
  }
  if (regla.idSocio !== conversion.idSocio) {
    return Resultado.fallo({ tipo: 'ReglaDeOtroSocio', idSocio: conversion.idSocio, idSocioRegla: regla.idSocio });
  }
  const id = idComision(conversion.idSocio, conversion.idConversion);
  if (liquidacion !== null) {
    // Solo se liquida lo aprobado, y el retículo nunca baja: una comisión pendiente en una liquidación es un dato roto.
    if (conversion.estado === 'PENDIENTE') {
      const motivo = 'una conversión pendiente no puede estar en una liquidación';
      return Resultado.fallo({ tipo: 'LiquidacionIncoherente', idComision: id, motivo });
    }
    if (!(Number.isSafeInteger(liquidacion.unidadesMenores) && liquidacion.unidadesMenores >= 0)) {
      return Resultado.fallo({ tipo: 'LiquidacionIncoherente', idComision: id, motivo: 'el importe liquidado debe ser un entero ≥ 0' });
    }
  }
  const importe = ReglaComision.calcular(conversion.venta, regla);
  if (!importe.ok) return importe;
  return Resultado.ok(
    Object.freeze({
      id,
      idSocio: conversion.idSocio,
      idConversion: conversion.idConversion,
      idAfiliado: conversion.idAfiliado,
      moneda: conversion.venta.moneda,
      regla,
      estadoConversion: conversion.estado,
      unidadesMenores: importe.valor,
      estado: estadoDe(conversion.estado, liquidacion),
      pagableDesde: ReglaComision.finDelBloqueo(regla, conversion.creadaEn),
      liquidacion,
    }),
  );
}

/**
 * La regla de la comisión de una conversión: la instantánea si ya se guardó una, si no la que regía en
 * la creación (`creadaEn`). `null` si la conversión aún no está creada o ninguna regla regía.
 */
export function reglaParaComision(
  conversion: Conversion,
  instantanea: ReglaComision | null,
  reglas: readonly ReglaComision[],
): ReglaComision | null {
  if (instantanea) return instantanea;
  return conversion.creadaEn ? ReglaComision.vigente(reglas, conversion.idSocio, conversion.creadaEn) : null;
}

export const Comision = {
  id: idComision,
  de: comisionDe,
  reglaPara: reglaParaComision,
  /** Cambia su liquidación (y con ella su estado); el resto no cambia. */
  conLiquidacion(comision: Comision, liquidacion: ReferenciaLiquidacion | null): Comision {
    return Object.freeze({ ...comision, liquidacion, estado: estadoDe(comision.estadoConversion, liquidacion) });
  },
  /** Aprobada, en ninguna liquidación y con el bloqueo cumplido en `ahora`. */
  esPagable(comision: Comision, ahora: Date): boolean {
    return comision.estadoConversion === 'APROBADA' && comision.liquidacion === null && ahora.getTime() >= comision.pagableDesde.getTime();
  },
  /** Lo que el afiliado debe acabar cobrando por esta conversión: 0 si se revirtió, si no su importe. */
  debida(comision: Comision): number {
    return comision.estadoConversion === 'REVERTIDA' ? 0 : comision.unidadesMenores;
  },
  /** ¿Está sellada? Lo está desde que su liquidación se paga: los cambios posteriores son ajustes. */
  sellada(comision: Comision): boolean {
    return comision.liquidacion?.estado === 'PAGADA';
  },
} as const;
