import type { MensajeEntrante, Suscripcion } from '../mensajeria/puertos-broker.js';

/**
 * Suscripción guionada: entrega lo que el test le da, en ese orden y SIN bloquear por clave (como un
 * consumidor Key_Shared de Pulsar con su cola de recepción llena), y anota confirmaciones, rechazos
 * (con su retraso) y mensajes muertos. `fallosRecibir` hace que las próximas llamadas a `recibir()` fallen.
 */
export class SuscripcionGuionada implements Suscripcion {
  readonly confirmados: string[] = [];
  readonly rechazados: string[] = [];
  /** Retraso pedido en cada rechazo, en el mismo orden que `rechazados` (`undefined`: el del broker). */
  readonly retrasos: (number | undefined)[] = [];
  readonly muertos: { readonly idMensaje: string; readonly motivo: string }[] = [];
  fallosRecibir = 0;
  cerrada = false;
  readonly #cola: MensajeEntrante[] = [];
  readonly #esperas: ((m: MensajeEntrante | null) => void)[] = [];

  entregar(...mensajes: MensajeEntrante[]): void {
    for (const m of mensajes) {
      const espera = this.#esperas.shift();
      if (espera) espera(m);
      else this.#cola.push(m);
    }
  }

  recibir(): Promise<MensajeEntrante | null> {
    if (this.cerrada) return Promise.resolve(null);
    if (this.fallosRecibir > 0) {
      this.fallosRecibir -= 1;
      return Promise.reject(new Error('Failed to receive message: TimeOut'));
    }
    const m = this.#cola.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolver) => this.#esperas.push(resolver));
  }

  async confirmar(m: MensajeEntrante): Promise<void> {
    if (!this.cerrada) this.confirmados.push(m.idMensaje);
  }

  async rechazar(m: MensajeEntrante, retrasoMs?: number): Promise<void> {
    if (this.cerrada) return;
    this.rechazados.push(m.idMensaje);
    this.retrasos.push(retrasoMs);
  }

  async aMensajesMuertos(m: MensajeEntrante, motivo: string): Promise<void> {
    if (!this.cerrada) this.muertos.push({ idMensaje: m.idMensaje, motivo });
  }

  async cerrar(): Promise<void> {
    this.cerrada = true;
    for (const espera of this.#esperas.splice(0)) espera(null);
  }
}
