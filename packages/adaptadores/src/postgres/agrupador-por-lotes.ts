/**
 * Agrupación de escrituras concurrentes en lotes («group commit» del lado del cliente).
 *
 * Mantiene como mucho `enVueloMaximo` lotes ejecutándose a la vez. Una solicitud que llega con un
 * hueco libre sale enseguida, sola: sin temporizadores, no añade latencia con poca carga. Las que
 * llegan mientras todos los huecos están ocupados esperan en la cola y salen juntas (hasta
 * `loteMaximo`) en cuanto se libera uno. Con carga alta, cada sentencia (y su commit) sirve a muchas
 * solicitudes; con carga baja, el comportamiento es el de una escritura directa.
 *
 * El agrupador no sabe nada de SQL: `ejecutarLote` recibe las solicitudes pendientes y debe
 * resolver o rechazar cada una. Si lanza, las que dejó sin responder se rechazan con un `Error`
 * cuyo `cause` es el error original.
 */
export interface OpcionesAgrupador {
  /** Lotes que pueden estar ejecutándose a la vez (≈ conexiones del pool dedicadas a esto). */
  readonly enVueloMaximo: number;
  /** Solicitudes como máximo por lote. */
  readonly loteMaximo: number;
}

export interface Pendiente<E, S> {
  readonly entrada: E;
  /** Responde a quien hizo la solicitud; las llamadas después de la primera no hacen nada. */
  resolver(salida: S): void;
  rechazar(error: Error): void;
  /** ¿Ya se respondió? */
  readonly respondido: boolean;
}

export interface MetricasAgrupador {
  /** Solicitudes recibidas. */
  readonly solicitudes: number;
  /** Lotes ejecutados (una sentencia cada uno, salvo reintentos internos del ejecutor). */
  readonly lotes: number;
  /** Tamaño del lote más grande visto. */
  readonly mayorLote: number;
  readonly enVuelo: number;
  readonly enCola: number;
}

export class AgrupadorPorLotes<E, S> {
  readonly #opciones: OpcionesAgrupador;
  readonly #ejecutarLote: (lote: readonly Pendiente<E, S>[]) => Promise<void>;
  #cola: Pendiente<E, S>[] = [];
  #enVuelo = 0;
  #solicitudes = 0;
  #lotes = 0;
  #mayorLote = 0;
  #alVaciarse: (() => void)[] = [];

  constructor(opciones: OpcionesAgrupador, ejecutarLote: (lote: readonly Pendiente<E, S>[]) => Promise<void>) {
    if (!Number.isSafeInteger(opciones.enVueloMaximo) || opciones.enVueloMaximo < 1) {
      throw new RangeError(`enVueloMaximo debe ser un entero ≥ 1 (recibido: ${opciones.enVueloMaximo})`);
    }
    if (!Number.isSafeInteger(opciones.loteMaximo) || opciones.loteMaximo < 1) {
      throw new RangeError(`loteMaximo debe ser un entero ≥ 1 (recibido: ${opciones.loteMaximo})`);
    }
    this.#opciones = opciones;
    this.#ejecutarLote = ejecutarLote;
  }

  enviar(entrada: E): Promise<S> {
    return new Promise<S>((resolve, reject) => {
      let respondido = false;
      this.#cola.push({
        entrada,
        get respondido() {
          return respondido;
        },
        resolver(salida) {
          if (respondido) return;
          respondido = true;
          resolve(salida);
        },
        rechazar(error) {
          if (respondido) return;
          respondido = true;
          reject(error);
        },
      });
      this.#solicitudes += 1;
      this.#despachar();
    });
  }

  metricas(): MetricasAgrupador {
    return {
      solicitudes: this.#solicitudes,
      lotes: this.#lotes,
      mayorLote: this.#mayorLote,
      enVuelo: this.#enVuelo,
      enCola: this.#cola.length,
    };
  }

  /** Se resuelve cuando no queda nada en cola ni en vuelo (para un cierre ordenado). */
  vaciar(): Promise<void> {
    if (this.#enVuelo === 0 && this.#cola.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#alVaciarse.push(resolve));
  }

  #despachar(): void {
    while (this.#enVuelo < this.#opciones.enVueloMaximo && this.#cola.length > 0) {
      const lote = this.#cola.length <= this.#opciones.loteMaximo ? this.#cola : this.#cola.slice(0, this.#opciones.loteMaximo);
      this.#cola = lote === this.#cola ? [] : this.#cola.slice(lote.length);
      this.#enVuelo += 1;
      this.#lotes += 1;
      if (lote.length > this.#mayorLote) this.#mayorLote = lote.length;
      void this.#ejecutar(lote);
    }
    if (this.#enVuelo === 0 && this.#cola.length === 0 && this.#alVaciarse.length > 0) {
      const esperando = this.#alVaciarse;
      this.#alVaciarse = [];
      for (const resolver of esperando) resolver();
    }
  }

  async #ejecutar(lote: readonly Pendiente<E, S>[]): Promise<void> {
    try {
      await this.#ejecutarLote(lote);
    } catch (causa) {
      const error = new Error(`Falló un lote de ${lote.length} solicitud(es): ${mensajeDe(causa)}`, { cause: causa });
      for (const pendiente of lote) pendiente.rechazar(error);
    } finally {
      this.#enVuelo -= 1;
      this.#despachar();
    }
  }
}

function mensajeDe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
