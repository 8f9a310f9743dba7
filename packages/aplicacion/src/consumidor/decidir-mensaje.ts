import type { EventoPago, Trazabilidad } from '@aeropartners/dominio';
import type { DesenlaceEvento } from './manejar-evento.js';

/** Lo que pasó al atender un mensaje del broker. */
export type HechoMensaje =
  /** El sobre no es válido: no hay evento que manejar. */
  | { readonly tipo: 'sobreInvalido'; readonly motivo: string }
  /**
   * Algo lanzó al atenderlo: un fallo de infraestructura del manejador (base caída…), con su evento, o
   * un error inesperado antes de tenerlo.
   */
  | { readonly tipo: 'fallo'; readonly error: unknown; readonly evento?: EventoPago; readonly traza?: Trazabilidad }
  | { readonly tipo: 'manejado'; readonly evento: EventoPago; readonly traza: Trazabilidad; readonly desenlace: DesenlaceEvento }
  /** Esperaba detrás de un mensaje de su misma clave que volvió al broker: vuelve con él para no adelantarlo. */
  | { readonly tipo: 'detras' }
  /** Un hecho de conversión (viaja por el mismo outbox y broker que los pagos): aplicado, repetido o que no se puede aplicar. */
  | {
      readonly tipo: 'conversion';
      readonly idEvento: string;
      readonly idConversion: string;
      readonly desenlace: 'aplicado' | 'duplicado' | 'bloqueada' | 'rechazado' | 'hechoInexistente';
      readonly motivo?: string;
    };

/** Qué se hace con el mensaje en el broker. */
export type DecisionMensaje =
  /** Ack: sus efectos están confirmados en la base (o no tenía ninguno); no se volverá a entregar. */
  | { readonly accion: 'confirmar' }
  /** Nack: se reentregará (tras `retrasoMs`, o el backoff del broker). */
  | { readonly accion: 'rechazar'; readonly retrasoMs?: number }
  /** A la cola de mensajes muertos con su motivo (y se confirma): no se pierde, no se reintenta solo. */
  | { readonly accion: 'aMuertos'; readonly motivo: string }
  /** Ni ack ni nack: el mensaje ya no es de este consumidor (su lease venció y otro lo tiene). */
  | { readonly accion: 'soltar' };

/**
 * La política de ack / nack / mensajes muertos del consumidor, como función pura de lo que pasó:
 *
 * - efectos confirmados, duplicados y eventos obsoletos → confirmar;
 * - sobre inválido o pago inexistente → mensajes muertos, con un motivo legible (nunca un fallo del
 *   proceso, nunca perdido);
 * - fallo de infraestructura, desenlace incierto de la pasarela o mensaje detrás de uno rechazado →
 *   rechazar para que el broker lo reentregue (el inbox y el turno de cobro hacen inocua la reentrega);
 * - turno de cobro en manos de otro consumidor → rechazar con el retraso que le queda al turno;
 * - mensaje abandonado (ya no es nuestro) → soltar: confirmarlo o rechazarlo tocaría el de otro.
 */
export function decidirMensaje(hecho: HechoMensaje): DecisionMensaje {
  switch (hecho.tipo) {
    case 'sobreInvalido':
      return { accion: 'aMuertos', motivo: `Mensaje inválido: ${hecho.motivo}` };
    case 'fallo':
    case 'detras':
      return { accion: 'rechazar' };
    case 'manejado':
      return decidirDesenlace(hecho.evento, hecho.desenlace);
    case 'conversion':
      // Un hecho que no se puede aplicar (sin regla vigente, hecho que no existe) espera a un operador en mensajes muertos.
      return hecho.desenlace === 'rechazado' || hecho.desenlace === 'hechoInexistente'
        ? { accion: 'aMuertos', motivo: hecho.motivo ?? `El hecho ${hecho.idEvento} no se puede aplicar (${hecho.desenlace}).` }
        : { accion: 'confirmar' };
    default: {
      const imposible: never = hecho;
      throw new Error(`Hecho desconocido: ${JSON.stringify(imposible)}`);
    }
  }
}

function decidirDesenlace(evento: EventoPago, desenlace: DesenlaceEvento): DecisionMensaje {
  switch (desenlace.tipo) {
    case 'procesado':
    case 'registrado':
    case 'duplicado':
    case 'obsoleto':
      return { accion: 'confirmar' };
    case 'pagoInexistente':
      return { accion: 'aMuertos', motivo: `El pago ${evento.idPago} no existe: el evento ${evento.idEvento} no se puede aplicar.` };
    case 'incierto':
      return { accion: 'rechazar' };
    case 'ocupado':
      return { accion: 'rechazar', retrasoMs: desenlace.reintentarEnMs };
    case 'abandonado':
      return { accion: 'soltar' };
    default: {
      const imposible: never = desenlace;
      throw new Error(`Desenlace desconocido: ${JSON.stringify(imposible)}`);
    }
  }
}
