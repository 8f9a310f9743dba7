/**
 * Puerto de operación de los mensajes muertos (los que el consumidor o el broker apartaron: sobre
 * inválido, pago inexistente, entregas agotadas). Aparte del puerto `Broker`, que usan los servicios:
 * este lo usan las personas (CLI de operación) y no forma parte del camino caliente. Dos adaptadores,
 * con la misma suite de contrato (`probarContratoMensajesMuertos`): el broker embebido y Pulsar.
 */

/** Un mensaje muerto pendiente (aún no reenviado). */
export interface MensajeMuerto {
  /** Con qué id se reenvía (opaco; el que da `listar`). */
  readonly id: string;
  readonly suscripcion: string;
  /** Clave del mensaje: el id del pago. */
  readonly clave: string;
  readonly cuerpo: string;
  /** Las propiedades de negocio con que se publicó (id_evento, tipo, version, id_correlacion…). */
  readonly propiedades: Readonly<Record<string, string>>;
  /** Por qué acabó aquí. */
  readonly motivo: string;
  /** Entregas que llevaba al morir, si el broker lo sabe. */
  readonly entregas: number | null;
  /** Cuándo llegó a mensajes muertos, si el broker lo sabe. */
  readonly muertoEn: Date | null;
}

export type ResultadoReenvio =
  /** Vuelve a la suscripción como un mensaje nuevo (sus entregas empiezan de cero) y deja de estar entre los muertos. */
  | { readonly tipo: 'reenviado'; readonly id: string }
  /** No está entre los mensajes muertos pendientes: no existe o ya se reenvió (reenviar dos veces no duplica). */
  | { readonly tipo: 'noPendiente'; readonly id: string };

/** Propiedad que lleva un mensaje reenviado: el id del mensaje muerto del que viene (trazabilidad). */
export const PROPIEDAD_REENVIADO_DE = 'reenviado_de_muerto';

export interface AdministracionMensajesMuertos {
  /** Los pendientes de una suscripción, del más antiguo al más reciente; como mucho `limite` (por defecto 1000). */
  listar(suscripcion: string, opciones?: { readonly limite?: number }): Promise<readonly MensajeMuerto[]>;
  /**
   * Reenvía uno a su suscripción (o a su tópico original, si el broker no sabe entregar a una sola
   * suscripción) y lo descarta de los muertos. Idempotente.
   */
  reenviar(suscripcion: string, id: string): Promise<ResultadoReenvio>;
  /** Reenvía todos los pendientes de la suscripción (por lotes); devuelve los reenviados. */
  reenviarTodos(suscripcion: string): Promise<readonly ResultadoReenvio[]>;
  cerrar(): Promise<void>;
}
