/** Una fila del outbox reclamada por el relay, ya con su secuencia de publicación asignada. */
export interface FilaOutbox {
  /** Identidad de la fila (BIGINT como texto: no está ordenado por commit). */
  readonly id: string;
  readonly idEvento: string;
  readonly idAgregado: string;
  readonly versionAgregado: number;
  readonly tipo: string;
  /** El sobre del evento tal como se publicará (JSON). */
  readonly payload: unknown;
  readonly metadatos: {
    readonly id_correlacion: string;
    readonly traceparent?: string | undefined;
    /** `Request-Id` de la petición que causó el evento (como el campo `request` de un evento de Stripe). */
    readonly id_solicitud?: string | undefined;
  };
  /** Secuencia de publicación asignada por el relay al reclamar: estrictamente creciente por productor. */
  readonly secuencia: number;
  readonly intentos: number;
  /**
   * `true` si la fila ya estaba numerada al reclamarla: una vida anterior del relay la publicó (o lo
   * intentó) sin llegar a marcarla, y ahora se republica con su misma secuencia.
   */
  readonly yaNumerada: boolean;
}

/**
 * La prueba de liderazgo del relay: la época que obtuvo al ganar el cerrojo de su partición. Cada
 * sentencia que reclama o marca filas comprueba, en la misma sentencia, que la época guardada sigue
 * siendo esta; un relay que ganó el cerrojo después la incrementó.
 */
export interface CercaLiderazgo {
  /** Clave del cerrojo consultivo (la partición del outbox). */
  readonly cerrojo: number;
  readonly epoca: number;
}

/** El almacén rechazó una operación cercada: otro relay tiene ahora la época. Este no debe publicar nada más. */
export class LiderazgoPerdido extends Error {
  override readonly name = 'LiderazgoPerdido';
  constructor(
    readonly cerca: CercaLiderazgo,
    opciones?: ErrorOptions,
  ) {
    super(`El relay perdió el liderazgo: la época ${cerca.epoca} del cerrojo ${cerca.cerrojo} ya no es la vigente`, opciones);
  }
}

/** Lo que el almacén sabe de un productor del relay. */
export interface EstadoProductor {
  /** La última secuencia asignada a este productor (`null` si nunca numeró nada). */
  readonly ultimaSecuencia: number | null;
  /** Alarma guardada (p. ej. el broker descartó secuencias nuevas): mientras esté, el relay no publica. */
  readonly alarma: string | null;
}

/** El outbox visto por el relay. */
export interface AlmacenOutbox {
  /**
   * Reclama hasta `limite` filas sin publicar. Primero devuelve las que este productor ya numeró y no
   * llegó a marcar (una caída entre publicar y marcar): con la MISMA secuencia, para que el broker las
   * descarte si ya las tenía. Después reclama filas nuevas (`FOR UPDATE SKIP LOCKED`) y les asigna
   * secuencias crecientes; la asignación queda confirmada antes de devolverlas. Orden: por secuencia.
   * Cercado: si la época de `cerca` ya no es la vigente, lanza {@link LiderazgoPerdido} o no devuelve filas.
   */
  reclamar(productor: string, limite: number, cerca: CercaLiderazgo): Promise<readonly FilaOutbox[]>;
  /** Marca como publicadas (el broker las confirmó). Cercado: lanza {@link LiderazgoPerdido} sin marcar nada. */
  marcarPublicadas(ids: readonly string[], cerca: CercaLiderazgo): Promise<void>;
  /** Anota un intento fallido y su error en las filas. */
  registrarFallo(ids: readonly string[], error: string): Promise<void>;
  /**
   * Vuelve a numerar, con `productor`, las filas que otro nombre de productor numeró y nunca marcó (se
   * renombró el productor): sin esto nadie las publicaría. Devuelve cuántas. Cercado.
   */
  renumerarHuerfanas(productor: string, cerca: CercaLiderazgo): Promise<number>;
  estadoProductor(productor: string): Promise<EstadoProductor>;
  /** Guarda una alarma del productor (sobrevive a reinicios). Cercado: un relay sin liderazgo no la guarda. */
  registrarAlarma(productor: string, motivo: string, cerca: CercaLiderazgo): Promise<void>;
}
