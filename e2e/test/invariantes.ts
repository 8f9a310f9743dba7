import { expect } from 'vitest';
import { historialPorPago, libroPorPago, outboxPorPago } from '../src/consultas.js';
import type { PagoCreado, PagoEnBase, Topologia } from '../src/topologia.js';

/** Eventos de integración por pago en el outbox: PagoPendiente y el desenlace (PagoExitoso o PagoFallido). */
export const EVENTOS_POR_PAGO = 2;

export interface ResumenUnaVez {
  readonly exitosos: number;
  readonly fallidos: number;
  /** Pagos comprobados uno a uno: debe coincidir con los creados. */
  readonly comprobados: number;
}

/**
 * Lo que «cada pago surte efecto exactamente una vez» significa en la base, pago a pago:
 * - estado final y versión 3 (PENDIENTE 1 → PROCESANDO 2 → EXITOSO|FALLIDO 3);
 * - en el libro de la pasarela: un único desenlace (la clave es el id del pago), `exitoso` ⇔ EXITOSO, con
 *   la misma referencia de transacción que guardó el pago, o `rechazado` con el mismo mensaje (o ninguno,
 *   si la pasarela agotó los reintentos transitorios sin cobrar y el pago es FALLIDO por eso);
 * - en el outbox: un PagoPendiente y UN solo evento de desenlace, del tipo que corresponde al estado, y
 *   nada más ({@link EVENTOS_POR_PAGO}: PagoProcesando solo va al historial, no es evento de integración);
 * - en el historial: exactamente las tres transiciones, en orden;
 * - y el libro no tiene cargos de pagos que no se crearon.
 */
export async function comprobarUnaVez(
  topologia: Topologia,
  pagos: readonly PagoCreado[],
  finales: ReadonlyMap<string, PagoEnBase>,
): Promise<ResumenUnaVez> {
  const [libro, outbox, historial] = await Promise.all([
    libroPorPago(topologia.pool),
    outboxPorPago(topologia.pool),
    historialPorPago(topologia.pool),
  ]);
  const ids = new Set(pagos.map((p) => p.id));
  expect([...libro.keys()].filter((id) => !ids.has(id)), 'cargos de pagos que no se crearon').toEqual([]);

  let exitosos = 0;
  let fallidos = 0;
  let comprobados = 0;
  for (const pago of pagos) {
    const enBase = finales.get(pago.id);
    expect(enBase, `pago ${pago.id}`).toBeDefined();
    if (!enBase) continue;
    const contexto = `pago ${pago.id} (${enBase.estado})`;
    expect(['EXITOSO', 'FALLIDO'], contexto).toContain(enBase.estado);
    expect(enBase.version, contexto).toBe(3);

    const cargos = libro.get(pago.id) ?? [];
    // Sin fila solo si la pasarela falló de forma transitoria en todos los intentos (nada se cobró).
    const agotado = cargos.length === 0 && enBase.estado === 'FALLIDO' && /no respondió tras \d+ intentos/.test(enBase.mensaje_error ?? '');
    expect(cargos.length, `${contexto}: desenlaces en el libro de la pasarela`).toBe(agotado ? 0 : 1);
    const [cargo] = cargos;
    if (agotado) {
      fallidos += 1;
      expect(enBase.referencia_transaccion, contexto).toBeNull();
    } else if (enBase.estado === 'EXITOSO') {
      exitosos += 1;
      expect(cargo?.clave_idempotencia, contexto).toBe(pago.id);
      expect(cargo?.resultado, contexto).toBe('exitoso');
      expect(enBase.referencia_transaccion, contexto).toBe(cargo?.referencia_transaccion);
      expect(enBase.mensaje_error, contexto).toBeNull();
    } else {
      fallidos += 1;
      expect(cargo?.clave_idempotencia, contexto).toBe(pago.id);
      expect(cargo?.resultado, contexto).toBe('rechazado');
      expect(enBase.mensaje_error, contexto).toBe(cargo?.mensaje);
      expect(enBase.referencia_transaccion, contexto).toBeNull();
    }

    expect(
      (outbox.get(pago.id) ?? []).map((e) => [e.tipo, e.version_agregado]),
      `${contexto}: eventos en el outbox (un PagoPendiente y un solo desenlace)`,
    ).toEqual([
      ['PagoPendiente', 1],
      [enBase.estado === 'EXITOSO' ? 'PagoExitoso' : 'PagoFallido', 3],
    ]);

    expect(
      (historial.get(pago.id) ?? []).map((h) => [h.estado, h.version]),
      `${contexto}: historial`,
    ).toEqual([
      ['PENDIENTE', 1],
      ['PROCESANDO', 2],
      [enBase.estado, 3],
    ]);
    comprobados += 1;
  }
  expect(comprobados).toBe(pagos.length);
  return { exitosos, fallidos, comprobados };
}
