import type { CambioPago, ConflictoDeVersion, Pago, Resultado, Trazabilidad } from '@aeropartners/dominio';

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

/** Resultado de pedir el turno de cobro de un pago. */
export type TurnoCobro =
  | { readonly tomado: true }
  /** Otro consumidor lo tiene vigente durante `restanteMs` más. */
  | { readonly tomado: false; readonly motivo: 'ocupado'; readonly restanteMs: number }
  /** El pago no existe o ya no está en PROCESANDO: no hay paso de la pasarela que dar. */
  | { readonly tomado: false; readonly motivo: 'noProcesando' };

/**
 * Turno de cobro: un pago en PROCESANDO solo tiene un consumidor a la vez ejecutando el paso de la
 * pasarela (cobrar o consultar). Es un lease con caducidad guardado con el pago: si su titular muere,
 * vence solo y otro lo toma. El desenlace final del pago (EXITOSO/FALLIDO) lo suelta en la misma sentencia.
 */
export interface TurnosCobro {
  /**
   * Guarda el paso a PROCESANDO (`cambio`, con control optimista de versión, outbox e historial como
   * `RepositorioPagos.guardar`) y toma el turno de cobro para `titular` en la misma escritura: quien pasa
   * el pago a PROCESANDO es quien ejecuta su paso de pasarela, sin otra ida y vuelta.
   */
  iniciar(
    cambio: CambioPago,
    versionEsperada: number,
    traza: Trazabilidad,
    titular: string,
    duracionMs: number,
  ): Promise<Resultado<Pago, ConflictoDeVersion>>;
  /**
   * Toma el turno del pago para `titular` durante `duracionMs`, o lo renueva si ya es suyo. Solo si el
   * pago está en PROCESANDO y nadie más tiene un turno vigente.
   */
  tomar(idPago: string, titular: string, duracionMs: number): Promise<TurnoCobro>;
  /** Suelta el turno si sigue siendo de `titular` (el paso terminó sin desenlace final). */
  soltar(idPago: string, titular: string): Promise<void>;
}
