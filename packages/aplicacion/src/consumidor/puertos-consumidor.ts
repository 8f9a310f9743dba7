import type { CambioPago, Trazabilidad } from '@aeropartners/dominio';

/** Lo que se anota en el inbox de una suscripción al procesar un evento. */
export interface AnotacionInbox {
  readonly suscripcion: string;
  readonly idEvento: string;
  readonly idPago: string;
  readonly tipoEvento: string;
  readonly version: number;
}

/**
 * Inbox del consumidor: la fila `(suscripcion, id_evento)` se escribe en la MISMA transacción que los
 * efectos del manejador, de modo que una reentrega del mismo evento no surte efecto dos veces.
 */
export interface InboxPagos {
  yaProcesado(suscripcion: string, idEvento: string): Promise<boolean>;
  /** Anota un evento que no cambia el pago (registro para trazabilidad, evento obsoleto…). */
  anotar(anotacion: AnotacionInbox): Promise<'anotado' | 'duplicado'>;
  /**
   * Guarda la transición (control optimista de versión, outbox e historial) y anota el evento, todo o
   * nada. `duplicado`: el evento ya estaba anotado, no se escribió nada; `conflicto`: la versión cambió.
   */
  guardarYAnotar(
    cambio: CambioPago,
    versionEsperada: number,
    traza: Trazabilidad,
    anotacion: AnotacionInbox,
  ): Promise<'aplicado' | 'duplicado' | 'conflicto'>;
}
