/**
 * Puerto del broker de mensajes. Dos adaptadores lo cumplen y pasan la misma suite de contrato
 * (`probarContratoBroker`, en el paquete privado `@aeropartners/contratos`) que el doble en memoria:
 * Apache Pulsar y el broker embebido sobre PostgreSQL.
 *
 * Semántica: al menos una vez, con orden por clave y deduplicación por (productor, secuencia).
 */

/** Propiedades que viajan con cada mensaje (cabeceras del broker). */
export interface PropiedadesMensaje {
  readonly id_evento: string;
  readonly tipo: string;
  readonly version: string;
  readonly id_correlacion: string;
  readonly traceparent?: string;
  readonly [otra: string]: string | undefined;
}

/** Un mensaje tal como lo publica el relay del outbox. */
export interface MensajeSaliente {
  /** Clave de partición y de orden: el id del pago. */
  readonly clave: string;
  /**
   * Secuencia de publicación del productor: estrictamente creciente por nombre de productor.
   * El broker descarta (y confirma como éxito) un mensaje cuya secuencia no supere la mayor que ya
   * aceptó de ese productor: así una republicación tras una caída no duplica.
   */
  readonly secuencia: number;
  /** El sobre del evento, en JSON. */
  readonly cuerpo: string;
  readonly propiedades: PropiedadesMensaje;
}

/**
 * Lo que el broker hizo con un mensaje publicado:
 * - `aceptado`: lo guardó y lo entregará;
 * - `duplicado`: lo descartó porque ya tenía de este productor esa secuencia o una mayor (y lo confirmó
 *   igual). Es lo esperado al republicar tras una caída; para un mensaje que nunca se publicó antes
 *   significa que el estado de las secuencias está mal (copia restaurada, productor renombrado, dos
 *   relays), y el mensaje no llegará a nadie.
 *
 * Un mensaje que el adaptador reenvía dentro de la misma llamada tras un envío de resultado incierto
 * (se perdió la confirmación) y que vuelve como duplicado cuenta como `aceptado`: el envío anterior es
 * el que entró, y este productor es el único con su nombre.
 */
export type ResultadoPublicacion = 'aceptado' | 'duplicado';

export interface Publicador {
  /** Nombre fijo del productor: la deduplicación del broker es por este nombre. */
  readonly nombreProductor: string;
  /**
   * La mayor secuencia que el broker ya aceptó de este productor, si el broker la sabe (el embebido
   * sí; el cliente de Pulsar para Node no la expone: `null`, y la marca de agua vive en PostgreSQL).
   */
  ultimaSecuenciaAceptada(): Promise<number | null>;
  /**
   * Publica en el orden dado y espera la confirmación del broker de TODOS los mensajes. Resuelve con lo
   * que el broker hizo con cada uno, en el mismo orden. Rechaza si alguno no se confirmó (el llamante
   * reintenta con las mismas secuencias).
   */
  publicar(mensajes: readonly MensajeSaliente[]): Promise<readonly ResultadoPublicacion[]>;
  cerrar(): Promise<void>;
}

/** Un mensaje recibido por un consumidor. */
export interface MensajeEntrante {
  /** Identificador del mensaje en el broker (opaco). */
  readonly idMensaje: string;
  readonly clave: string;
  readonly cuerpo: string;
  readonly propiedades: Readonly<Record<string, string>>;
  /** 1 en la primera entrega; crece con cada reentrega. */
  readonly entregas: number;
  /** Nombre del productor y secuencia con que se publicó. */
  readonly productor: string;
  readonly secuencia: number;
  /**
   * Se aborta cuando el broker deja de considerar el mensaje de este consumidor (su lease venció y otro
   * lo pudo reclamar, o la suscripción se cerró): quien lo maneja deja de trabajar en él y no lo confirma.
   * Opcional: un broker que no puede saberlo (el cliente de Pulsar para Node) no la da.
   */
  readonly senal?: AbortSignal;
}

export interface OpcionesSuscripcion {
  /** Nombre de la suscripción (compartida: varios consumidores se reparten las claves). */
  readonly suscripcion: string;
  /** Tras este número de entregas sin confirmar, el mensaje va a la cola de mensajes muertos. */
  readonly maximoEntregas: number;
  /** Espera antes de reentregar un mensaje rechazado (la suscripción puede aplicar backoff). */
  readonly retrasoReentregaMs: number;
}

export interface Suscripcion {
  /**
   * El siguiente mensaje. Los mensajes de una misma clave llegan en orden de publicación mientras no
   * se rechacen. Devuelve `null` cuando la suscripción se cerró.
   */
  recibir(): Promise<MensajeEntrante | null>;
  /** Confirma (ack): no se volverá a entregar. */
  confirmar(mensaje: MensajeEntrante): Promise<void>;
  /** Rechaza (nack): se reentregará tras `retrasoMs` (o el retraso por defecto). */
  rechazar(mensaje: MensajeEntrante, retrasoMs?: number): Promise<void>;
  /** Lo manda a la cola de mensajes muertos con un motivo y lo confirma. Nada se pierde. */
  aMensajesMuertos(mensaje: MensajeEntrante, motivo: string): Promise<void>;
  /** Deja de recibir; los mensajes sin confirmar se reentregarán a otro consumidor. */
  cerrar(): Promise<void>;
}

/** Un broker: crea publicadores y suscripciones sobre un tópico. */
export interface Broker {
  crearPublicador(nombreProductor: string): Promise<Publicador>;
  suscribir(opciones: OpcionesSuscripcion): Promise<Suscripcion>;
  /** Mensajes en la cola de mensajes muertos de una suscripción (para operación y tests). */
  mensajesMuertos(suscripcion: string): Promise<readonly { readonly mensaje: MensajeEntrante; readonly motivo: string }[]>;
  cerrar(): Promise<void>;
}
