import type { Ambito } from '@aeropartners/dominio';

/**
 * Respuestas ya confirmadas de `POST /pagos`, por ámbito (socio y modo) y clave de idempotencia: una réplica (misma clave,
 * mismo cuerpo) se responde sin ir a la base de datos.
 *
 * Por qué es correcto, también con varias instancias de la API:
 * - solo se guarda una respuesta cuando la base de datos ya la confirmó: el pago se creó y su commit
 *   es durable, o la base de datos devolvió el pago existente con esa clave;
 * - la respuesta solo usa campos inmutables desde la creación (`pagoRegistrado`), y la clave de un
 *   socio apunta siempre al mismo pago: las claves no caducan ni se reasignan (README, «Idempotencia»).
 *   Si algún día caducan, esta caché debe caducar antes;
 * - solo responde si el cuerpo coincide campo a campo con el que creó el pago; si no (o si la clave no
 *   está), la petición sigue el camino normal y la base de datos decide (réplica, 422 o pago nuevo).
 *
 * Acotada (LRU por número de entradas) y local al proceso: una instancia que no vio la clave pregunta a
 * la base de datos, como siempre.
 */
export interface SolicitudRegistrada {
  readonly idAfiliado: string;
  readonly monto: number;
  readonly moneda: string;
  readonly referenciaPago: string;
}

export interface RespuestaRegistrada {
  readonly idPago: string;
  /** Cuerpo JSON ya serializado de la respuesta 200. */
  readonly cuerpo: string;
}

interface Entrada extends SolicitudRegistrada, RespuestaRegistrada {}

export class CacheRespuestasIdempotentes {
  readonly #capacidad: number;
  readonly #entradas = new Map<string, Entrada>();
  #aciertos = 0;
  #fallos = 0;

  /** `capacidad` 0 desactiva la caché (nunca guarda nada). */
  constructor(capacidad: number) {
    if (!Number.isSafeInteger(capacidad) || capacidad < 0) {
      throw new RangeError(`la capacidad de la caché debe ser un entero ≥ 0 (recibido: ${capacidad})`);
    }
    this.#capacidad = capacidad;
  }

  /** La respuesta guardada para (socio, modo, clave) si el cuerpo es el mismo; si no, `undefined`. */
  buscar(ambito: Ambito, clave: string, solicitud: SolicitudRegistrada): RespuestaRegistrada | undefined {
    if (this.#capacidad === 0) return undefined;
    const llave = llaveDe(ambito, clave);
    const entrada = this.#entradas.get(llave);
    if (
      entrada === undefined ||
      entrada.monto !== solicitud.monto ||
      entrada.moneda !== solicitud.moneda ||
      entrada.idAfiliado !== solicitud.idAfiliado ||
      entrada.referenciaPago !== solicitud.referenciaPago
    ) {
      this.#fallos += 1;
      return undefined;
    }
    this.#aciertos += 1;
    // La más reciente al final: la que se descarta al llenarse es la menos usada.
    this.#entradas.delete(llave);
    this.#entradas.set(llave, entrada);
    return entrada;
  }

  /** Guarda una respuesta que la base de datos ya confirmó. */
  guardar(ambito: Ambito, clave: string, solicitud: SolicitudRegistrada, respuesta: RespuestaRegistrada): void {
    if (this.#capacidad === 0) return;
    const llave = llaveDe(ambito, clave);
    this.#entradas.delete(llave);
    this.#entradas.set(llave, {
      idAfiliado: solicitud.idAfiliado,
      monto: solicitud.monto,
      moneda: solicitud.moneda,
      referenciaPago: solicitud.referenciaPago,
      idPago: respuesta.idPago,
      cuerpo: respuesta.cuerpo,
    });
    if (this.#entradas.size > this.#capacidad) {
      const masAntigua = this.#entradas.keys().next();
      if (!masAntigua.done) this.#entradas.delete(masAntigua.value);
    }
  }

  metricas(): { readonly entradas: number; readonly capacidad: number; readonly aciertos: number; readonly fallos: number } {
    return { entradas: this.#entradas.size, capacidad: this.#capacidad, aciertos: this.#aciertos, fallos: this.#fallos };
  }
}

/**
 * Con la longitud del socio delante y el modo (de longitud fija) detrás de él, ningún trío (socio, modo,
 * clave) comparte llave con otro: la réplica de un socio nunca recibe la respuesta de otro.
 */
function llaveDe(ambito: Ambito, clave: string): string {
  return `${ambito.idSocio.length}:${ambito.idSocio}${ambito.modo}:${clave}`;
}
