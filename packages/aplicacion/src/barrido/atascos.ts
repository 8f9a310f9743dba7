import type { EstadoPago } from '@aeropartners/dominio';

/**
 * Qué es un pago atascado y cuándo se re-impulsa: la política, como funciones puras. Los adaptadores la
 * aplican tal cual (en memoria) o la traducen a SQL (PostgreSQL); una suite de contrato comprueba que
 * dicen lo mismo (`probarContratoPagosAtascados`).
 */

/** Los estados no finales, en los que un pago puede quedarse parado. */
export const ESTADOS_ATASCABLES = Object.freeze(['PENDIENTE', 'PROCESANDO'] as const) satisfies readonly EstadoPago[];
export type EstadoAtascable = (typeof ESTADOS_ATASCABLES)[number];

export function esEstadoAtascable(valor: unknown): valor is EstadoAtascable {
  return typeof valor === 'string' && (ESTADOS_ATASCABLES as readonly string[]).includes(valor);
}

/** Cuánto tiempo (ms) en su estado hace falta para considerar atascado un pago, por estado. */
export type UmbralesAtasco = Readonly<Record<EstadoAtascable, number>>;

/**
 * Umbrales y periodo por defecto, según la pasarela (razones en docs/decisiones/0030-barrendero-de-pagos-atascados.md).
 * La simulada contesta en milisegundos o pocos segundos; con Stripe se deja más margen para no sumar
 * consultas a su API mientras el broker aún reentrega el mensaje original.
 */
export const BARRIDO_POR_DEFECTO = Object.freeze({
  simulada: Object.freeze({ umbrales: Object.freeze({ PENDIENTE: 120_000, PROCESANDO: 300_000 }), periodoMs: 30_000 }),
  stripe: Object.freeze({ umbrales: Object.freeze({ PENDIENTE: 300_000, PROCESANDO: 1_800_000 }), periodoMs: 60_000 }),
}) satisfies Readonly<Record<string, { readonly umbrales: UmbralesAtasco; readonly periodoMs: number }>>;

/** Lo que hace falta saber de un pago para juzgar si está atascado. */
export interface VistaPagoAtascable {
  readonly idPago: string;
  readonly estado: EstadoPago;
  /** Desde cuándo está en su estado (la última transición). */
  readonly desde: Date;
  /** Vencimiento del turno de cobro (PROCESANDO): mientras esté vigente, alguien trabaja en el pago. */
  readonly turnoHasta: Date | null;
  /**
   * Su `PagoPendiente` en el outbox: `null` si no está; `publicadoEn` `null` si el relay aún no lo
   * publicó. `reimpulsos`: cuántas veces lo volvió a encolar el barrendero.
   */
  readonly evento: { readonly publicadoEn: Date | null; readonly reimpulsos: number } | null;
}

/** Por qué un pago atascado no se puede re-impulsar ahora. */
export type MotivoSinReimpulso =
  /** Su evento aún no salió del outbox: el relay lo tiene pendiente (mirar el relay, no el pago). */
  | 'eventoSinPublicar'
  /** Su evento se publicó (o se re-impulsó) hace menos que el umbral: el broker aún puede estar entregándolo. */
  | 'publicadoHacePoco'
  /** No hay `PagoPendiente` del pago en el outbox: no hay qué volver a encolar. */
  | 'sinEvento';

export type Atasco =
  | { readonly atascado: false }
  | { readonly atascado: true; readonly edadMs: number; readonly reimpulsable: true }
  | { readonly atascado: true; readonly edadMs: number; readonly reimpulsable: false; readonly motivo: MotivoSinReimpulso };

/**
 * Un pago está atascado si lleva en PENDIENTE o PROCESANDO al menos el umbral de su estado y nadie
 * trabaja en él (en PROCESANDO, sin turno de cobro vigente). Se re-impulsa volviendo a encolar su
 * `PagoPendiente` en el outbox, y solo si ese evento se publicó hace al menos el mismo umbral: así un
 * pago re-impulsado no se vuelve a re-impulsar hasta que el relay lo publique otra vez y pase el umbral
 * (idempotente, y dos barrenderos a la vez no lo duplican).
 */
export function evaluarAtasco(pago: VistaPagoAtascable, ahora: Date, umbrales: UmbralesAtasco): Atasco {
  if (!esEstadoAtascable(pago.estado)) return { atascado: false };
  const umbral = umbrales[pago.estado];
  const edadMs = ahora.getTime() - pago.desde.getTime();
  if (edadMs < umbral) return { atascado: false };
  if (pago.turnoHasta !== null && pago.turnoHasta.getTime() > ahora.getTime()) return { atascado: false };
  if (pago.evento === null) return { atascado: true, edadMs, reimpulsable: false, motivo: 'sinEvento' };
  if (pago.evento.publicadoEn === null) return { atascado: true, edadMs, reimpulsable: false, motivo: 'eventoSinPublicar' };
  if (ahora.getTime() - pago.evento.publicadoEn.getTime() < umbral) {
    return { atascado: true, edadMs, reimpulsable: false, motivo: 'publicadoHacePoco' };
  }
  return { atascado: true, edadMs, reimpulsable: true };
}

/** ¿Trabaja alguien en el pago ahora (turno de cobro vigente)? Los que no, cuentan para la edad del más viejo. */
export function enCurso(pago: Pick<VistaPagoAtascable, 'turnoHasta'>, ahora: Date): boolean {
  return pago.turnoHasta !== null && pago.turnoHasta.getTime() > ahora.getTime();
}

/** Comprueba unos umbrales (enteros positivos de ms); lanza `RangeError` con el estado que falla. */
export function validarUmbrales(umbrales: UmbralesAtasco): UmbralesAtasco {
  for (const estado of ESTADOS_ATASCABLES) {
    const ms = umbrales[estado];
    if (!Number.isSafeInteger(ms) || ms < 1) throw new RangeError(`Umbral de atasco inválido para ${estado}: ${String(ms)} ms`);
  }
  return umbrales;
}
