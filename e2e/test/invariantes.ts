import { REGLAS_CON_PAGOS_FINALES, comprobarExactamenteUnaVez, describirViolaciones } from '@aeropartners/kit-pruebas';
import { expect } from 'vitest';
import type { PagoCreado, Topologia } from '../src/topologia.js';

/** Eventos de integración por pago en el outbox: PagoPendiente y el desenlace (PagoExitoso o PagoFallido). */
export const EVENTOS_POR_PAGO = 2;

export interface ResumenUnaVez {
  readonly exitosos: number;
  readonly fallidos: number;
  /** Pagos comprobados: debe coincidir con los creados. */
  readonly comprobados: number;
}

/**
 * «Cada pago surte efecto exactamente una vez» en la base, con el comprobador común
 * (`@aeropartners/kit-pruebas`) y las reglas que ya valen cuando los pagos son finales, aunque el
 * pipeline no se haya vaciado: un pago por referencia, ninguno incierto, una decisión por pago en el libro
 * de la pasarela acorde a su estado, ningún cobro de un pago no EXITOSO (ni de uno inexistente), su
 * `PagoPendiente` y un solo desenlace en el outbox, lo publicado entregado, y el historial completo.
 * Falla con las reglas incumplidas y sus ids.
 */
export async function comprobarUnaVez(topologia: Topologia, pagos: readonly PagoCreado[]): Promise<ResumenUnaVez> {
  const v = await comprobarExactamenteUnaVez(topologia.pool, {
    pagos: { tipo: 'ids', ids: pagos.map((p) => p.id) },
    reglas: REGLAS_CON_PAGOS_FINALES,
  });
  if (!v.aprobada) throw new Error(`«Exactamente una vez» incumplido:\n${describirViolaciones(v.violaciones)}`);
  expect(v.pagos, 'pagos creados encontrados en la base').toBe(pagos.length);
  return { exitosos: v.porEstado['EXITOSO'] ?? 0, fallidos: v.porEstado['FALLIDO'] ?? 0, comprobados: v.pagos };
}
