import type { MensajeEntrante, OpcionesSuscripcion, Suscripcion } from '@aeropartners/aplicacion';
import type { ClientePulsar, ConsumidorPulsar, MensajePulsar, ProductorPulsar } from './cliente-pulsar.js';
import { aMensajeEntrante, aMensajeMuertoPulsar } from './mensajes-pulsar.js';

export interface DependenciasPulsarSuscripcion {
  readonly consumidor: ConsumidorPulsar;
  readonly opciones: OpcionesSuscripcion;
  /** El productor de la cola de mensajes muertos de esta suscripción (lo crea y cierra el broker). */
  readonly productorMuertos: () => Promise<ProductorPulsar>;
  /** Referencia al cliente: mientras viva la suscripción, su cliente no puede ser recolectado. */
  readonly cliente: ClientePulsar;
  readonly alCerrar?: (suscripcion: PulsarSuscripcion) => void;
}

/**
 * Un consumidor de una suscripción Key_Shared: cada clave (id de pago) la atiende un solo consumidor a
 * la vez, en orden de publicación, mientras los consumidores escalan.
 *
 * - `rechazar` usa `negativeAcknowledge`: el cliente pide la reentrega tras `nAckRedeliverTimeoutMs`
 *   (= `retrasoReentregaMs` de la suscripción). Un `retrasoMs` mayor se consigue demorando el nack; el
 *   cliente no permite uno menor por mensaje.
 * - Al rechazar la entrega número `maximoEntregas`, el mensaje va a la cola de mensajes muertos con un
 *   motivo (y la `deadLetterPolicy` del cliente cubre las reentregas que no pasan por aquí, como las del
 *   `ackTimeoutMs`).
 * - `recibir` espera sin límite con `receive()` (la versión con límite ocupa un hilo del pool de libuv
 *   mientras espera) y devuelve `null` en cuanto la suscripción se cierra.
 * - Señal de cada entrega (`senal`): se aborta al cerrar la suscripción para lo que seguía sin
 *   confirmar. Límite: el cliente de Node no avisa cuando el broker reentrega un mensaje a otro
 *   consumidor (`ackTimeoutMs` vencido, o una clave que Key_Shared reasigna al entrar consumidores),
 *   así que esa pérdida no se puede señalar; ahí solo protegen el inbox del consumidor y el turno de
 *   cobro por pago.
 */
export class PulsarSuscripcion implements Suscripcion {
  private cerrada = false;
  private cierre: Promise<void> | undefined;
  private avisarCierre!: () => void;
  private readonly cerrandose = new Promise<null>((resolver) => {
    this.avisarCierre = () => resolver(null);
  });
  private readonly nativos = new WeakMap<MensajeEntrante, MensajePulsar>();
  private readonly nativosPorId = new Map<string, MensajePulsar>();
  private readonly senales = new Map<string, AbortController>();
  private readonly nacksDemorados = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly dependencias: DependenciasPulsarSuscripcion) {}

  get nombre(): string {
    return this.dependencias.opciones.suscripcion;
  }

  /** ¿Abierta y con el consumidor conectado al broker? (para `/health/ready`). */
  conectada(): boolean {
    return !this.cerrada && this.dependencias.consumidor.isConnected();
  }

  async recibir(): Promise<MensajeEntrante | null> {
    if (this.cerrada) return null;
    let nativo: MensajePulsar | null;
    try {
      nativo = await Promise.race([this.dependencias.consumidor.receive(), this.cerrandose]);
    } catch (error) {
      if (this.cerrada || /AlreadyClosed/.test(mensajeDe(error))) return null;
      throw new Error(`Fallo al recibir de la suscripción de Pulsar "${this.nombre}"`, { cause: error });
    }
    if (nativo === null || this.cerrada) return null;
    const senal = new AbortController();
    const mensaje: MensajeEntrante = { ...aMensajeEntrante(nativo), senal: senal.signal };
    this.senales.set(mensaje.idMensaje, senal);
    this.nativos.set(mensaje, nativo);
    this.nativosPorId.set(mensaje.idMensaje, nativo);
    return mensaje;
  }

  async confirmar(mensaje: MensajeEntrante): Promise<void> {
    const nativo = this.nativo(mensaje);
    try {
      await this.dependencias.consumidor.acknowledge(nativo);
    } catch (error) {
      throw new Error(`Pulsar no aceptó la confirmación del mensaje ${mensaje.idMensaje} ("${this.nombre}")`, { cause: error });
    }
    this.olvidar(mensaje);
  }

  async rechazar(mensaje: MensajeEntrante, retrasoMs?: number): Promise<void> {
    const { maximoEntregas, retrasoReentregaMs } = this.dependencias.opciones;
    if (mensaje.entregas >= maximoEntregas) {
      await this.aMensajesMuertos(mensaje, `rechazado en la entrega ${mensaje.entregas} de un máximo de ${maximoEntregas}`);
      return;
    }
    const nativo = this.nativo(mensaje);
    this.asegurarAbierta();
    this.olvidar(mensaje);
    const demora = Math.max(0, (retrasoMs ?? retrasoReentregaMs) - retrasoReentregaMs);
    if (demora === 0) {
      this.dependencias.consumidor.negativeAcknowledge(nativo);
      return;
    }
    // Cerrar la suscripción antes de la demora reentrega el mensaje igual (sin confirmar): se cancela.
    const temporizador = setTimeout(() => {
      this.nacksDemorados.delete(temporizador);
      if (!this.cerrada) this.dependencias.consumidor.negativeAcknowledge(nativo);
    }, demora);
    this.nacksDemorados.add(temporizador);
  }

  async aMensajesMuertos(mensaje: MensajeEntrante, motivo: string): Promise<void> {
    const nativo = this.nativo(mensaje);
    this.asegurarAbierta();
    try {
      const productor = await this.dependencias.productorMuertos();
      // Primero se publica en la cola de mensajes muertos y después se confirma: nada se pierde (una
      // caída entre ambos deja el mensaje en las dos, y el original se reentrega).
      await productor.send(aMensajeMuertoPulsar(nativo, mensaje, motivo, this.nombre));
      await this.dependencias.consumidor.acknowledge(nativo);
    } catch (error) {
      throw new Error(`No se pudo mover el mensaje ${mensaje.idMensaje} a la cola de mensajes muertos de "${this.nombre}"`, {
        cause: error,
      });
    }
    this.olvidar(mensaje);
  }

  cerrar(): Promise<void> {
    this.cierre ??= (async () => {
      this.cerrada = true;
      this.avisarCierre();
      for (const temporizador of this.nacksDemorados) clearTimeout(temporizador);
      this.nacksDemorados.clear();
      this.nativosPorId.clear();
      // Lo que seguía sin confirmar se reentregará a otro: quien lo maneja debe dejarlo.
      for (const senal of this.senales.values()) senal.abort();
      this.senales.clear();
      try {
        await this.dependencias.consumidor.close();
      } finally {
        this.dependencias.alCerrar?.(this);
      }
    })();
    return this.cierre;
  }

  private nativo(mensaje: MensajeEntrante): MensajePulsar {
    const nativo = this.nativos.get(mensaje) ?? this.nativosPorId.get(mensaje.idMensaje);
    if (nativo === undefined) {
      this.asegurarAbierta();
      throw new Error(`El mensaje ${mensaje.idMensaje} no lo recibió la suscripción de Pulsar "${this.nombre}" (o ya se resolvió).`);
    }
    return nativo;
  }

  private olvidar(mensaje: MensajeEntrante): void {
    this.nativos.delete(mensaje);
    this.nativosPorId.delete(mensaje.idMensaje);
    this.senales.delete(mensaje.idMensaje);
  }

  private asegurarAbierta(): void {
    if (this.cerrada) throw new Error(`La suscripción de Pulsar "${this.nombre}" está cerrada: el mensaje se reentregará.`);
  }
}

function mensajeDe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
