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
  readonly metadatos: { readonly id_correlacion: string; readonly traceparent?: string | undefined };
  /** Secuencia de publicación asignada por el relay al reclamar: estrictamente creciente por productor. */
  readonly secuencia: number;
  readonly intentos: number;
  /**
   * `true` si la fila ya estaba numerada al reclamarla: una vida anterior del relay la publicó (o lo
   * intentó) sin llegar a marcarla, y ahora se republica con su misma secuencia.
   */
  readonly yaNumerada: boolean;
}

/** El outbox visto por el relay. */
export interface AlmacenOutbox {
  /**
   * Reclama hasta `limite` filas sin publicar. Primero devuelve las que este productor ya numeró y no
   * llegó a marcar (una caída entre publicar y marcar): con la MISMA secuencia, para que el broker las
   * descarte si ya las tenía. Después reclama filas nuevas (`FOR UPDATE SKIP LOCKED`) y les asigna
   * secuencias crecientes; la asignación queda confirmada antes de devolverlas. Orden: por secuencia.
   */
  reclamar(productor: string, limite: number): Promise<readonly FilaOutbox[]>;
  /** Marca como publicadas (el broker las confirmó). */
  marcarPublicadas(ids: readonly string[]): Promise<void>;
  /** Anota un intento fallido y su error en las filas. */
  registrarFallo(ids: readonly string[], error: string): Promise<void>;
}
