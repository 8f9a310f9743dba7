import type { MensajeEntrante, Suscripcion } from '../mensajeria/puertos-broker.js';
import { decidirMensaje, type DecisionMensaje, type HechoMensaje } from './decidir-mensaje.js';

/** Operaciones con el broker que pueden fallar sin que el proceso caiga. */
export type OperacionBroker = 'recibir' | 'confirmar' | 'rechazar' | 'aMuertos';

/** Lo que el despachador cuenta a quien observa (registro, métricas). Todo opcional. */
export interface ObservadorDespacho {
  /** Se tomó un mensaje del broker (antes de atenderlo o de ponerlo en la cola de su clave). */
  recibido?(mensaje: MensajeEntrante): void;
  /**
   * Un mensaje terminó: lo que pasó, lo que se decidió, si el broker aceptó la decisión (`aplicada`; si
   * no, lo reentregará al vencer el lease) y cuánto tardó (ms, reloj monotónico).
   */
  terminado?(info: {
    readonly mensaje: MensajeEntrante;
    readonly hecho: HechoMensaje;
    readonly decision: DecisionMensaje;
    readonly aplicada: boolean;
    readonly duracionMs: number;
  }): void;
  /** Falló una operación con el broker; `pausaMs` si el bucle espera antes de seguir. */
  falloBroker?(info: {
    readonly operacion: OperacionBroker;
    readonly error: unknown;
    readonly mensaje?: MensajeEntrante;
    readonly pausaMs?: number;
  }): void;
  /** Un mensaje llegó mientras se paraba: no se toma (vuelve al broker sin confirmar al cerrar). */
  devueltoAlParar?(mensaje: MensajeEntrante): void;
  /** La parada agotó su tiempo con mensajes aún retenidos. */
  paradaIncompleta?(info: { readonly retenidos: number; readonly tiempoMaximoMs: number }): void;
}

export interface OpcionesDespachador {
  readonly suscripcion: Suscripcion;
  /** Mensajes retenidos a la vez (en manos de `atender` o esperando turno tras otro de su clave). */
  readonly enVuelo: number;
  /** Atiende un mensaje y dice qué pasó. Si lanza, el mensaje se rechaza (red de seguridad). */
  readonly atender: (mensaje: MensajeEntrante) => Promise<HechoMensaje>;
  readonly observador?: ObservadorDespacho;
  /** Pausa tras un fallo de `recibir()` antes de volver a pedir. Por defecto 1 000 ms. */
  readonly pausaTrasFalloMs?: number;
  /** Reloj monotónico para las duraciones, en ms. Por defecto `performance.now`. */
  readonly ahora?: () => number;
}

export interface OpcionesDetener {
  /**
   * Tiempo máximo para terminar lo retenido. Vencido, la suscripción se cierra igualmente: lo que no se
   * confirmó se reentrega a otro consumidor (el inbox y la idempotencia de la pasarela lo absorben).
   */
  readonly tiempoMaximoMs?: number;
}

export interface Despachador {
  /** Empieza a tomar mensajes. Idempotente. */
  iniciar(): void;
  /** Deja de tomar mensajes, termina (y confirma) lo que retiene y cierra la suscripción. Idempotente. */
  detener(opciones?: OpcionesDetener): Promise<void>;
  /** Se resuelve cuando el bucle terminó (tras `detener`, o porque la suscripción se cerró) y lo retenido también. */
  terminado(): Promise<void>;
  /** Mensajes retenidos ahora mismo. */
  retenidos(): number;
}

/**
 * El bucle de despacho de un consumidor sobre una `Suscripcion` (el mecanismo; la política de qué
 * hacer con cada mensaje es {@link decidirMensaje}):
 *
 * - toma mensajes mientras retenga menos de `enVuelo`;
 * - **orden por clave**: un mensaje cuya clave ya está en manos de `atender` espera en la cola de esa
 *   clave; los de otras claves siguen. Así `enVuelo` reparte concurrencia entre pagos sin adelantar
 *   nunca un evento de un pago a otro anterior del mismo pago;
 * - aplica la decisión en el broker; si el mensaje vuelve al broker (rechazado o soltado), los que
 *   esperaban detrás en su clave vuelven con él;
 * - nada de lo que pase con un mensaje o con el broker tumba el proceso: se observa y se sigue.
 */
export function crearDespachador(opciones: OpcionesDespachador): Despachador {
  const { suscripcion, observador = {} } = opciones;
  if (!Number.isSafeInteger(opciones.enVuelo) || opciones.enVuelo < 1) {
    throw new RangeError(`enVuelo debe ser un entero ≥ 1 (recibido: ${opciones.enVuelo})`);
  }
  const ahora = opciones.ahora ?? (() => performance.now());
  const pausaTrasFalloMs = opciones.pausaTrasFalloMs ?? 1_000;

  /** Clave en manos de `atender` → mensajes de esa clave que esperan turno, en orden de llegada. */
  const colas = new Map<string, MensajeEntrante[]>();
  const cadenas = new Set<Promise<void>>();
  let retenidos = 0;
  let parando = false;
  let avisar: (() => void) | undefined;
  let bucle: Promise<void> | undefined;
  let detencion: Promise<void> | undefined;

  /** Espera un aviso (capacidad liberada o parada) o, como mucho, `ms`. */
  function esperarAviso(ms?: number): Promise<void> {
    return new Promise((resolver) => {
      const temporizador = ms === undefined ? undefined : setTimeout(listo, ms);
      function listo() {
        clearTimeout(temporizador);
        if (avisar === listo) avisar = undefined;
        resolver();
      }
      avisar = listo;
    });
  }

  function liberar(): void {
    retenidos -= 1;
    avisar?.();
  }

  async function ejecutar(): Promise<void> {
    while (!parando) {
      if (retenidos >= opciones.enVuelo) {
        await esperarAviso();
        continue;
      }
      let mensaje: MensajeEntrante | null;
      try {
        mensaje = await suscripcion.recibir();
      } catch (error) {
        observador.falloBroker?.({ operacion: 'recibir', error, pausaMs: pausaTrasFalloMs });
        await esperarAviso(pausaTrasFalloMs);
        continue;
      }
      if (mensaje === null) break;
      if (parando) {
        // Llegó mientras parábamos: no se toma. Al cerrar la suscripción vuelve al broker sin confirmar.
        observador.devueltoAlParar?.(mensaje);
        break;
      }
      retenidos += 1;
      observador.recibido?.(mensaje);
      despachar(mensaje);
    }
  }

  function despachar(mensaje: MensajeEntrante): void {
    const cola = colas.get(mensaje.clave);
    if (cola) {
      cola.push(mensaje);
      return;
    }
    colas.set(mensaje.clave, []);
    const cadena: Promise<void> = atenderClave(mensaje).finally(() => cadenas.delete(cadena));
    cadenas.add(cadena);
  }

  /** Atiende los mensajes de una clave de uno en uno, en orden de llegada, hasta vaciar su cola. */
  async function atenderClave(primero: MensajeEntrante): Promise<void> {
    const cola = colas.get(primero.clave) ?? [];
    let mensaje: MensajeEntrante | undefined = primero;
    while (mensaje) {
      const inicio = ahora();
      const hecho = await opciones.atender(mensaje).catch((error: unknown): HechoMensaje => ({ tipo: 'fallo', error }));
      const decision = decidirMensaje(hecho);
      const aplicada = await aplicar(mensaje, decision);
      observador.terminado?.({ mensaje, hecho, decision, aplicada, duracionMs: ahora() - inicio });
      liberar();
      if (decision.accion === 'rechazar' || decision.accion === 'soltar') {
        // No adelantarlo: lo que esperaba detrás en su clave vuelve al broker con él.
        while (cola.length > 0) {
          const detras = cola.shift()!;
          const hechoDetras: HechoMensaje = { tipo: 'detras' };
          const decisionDetras = decidirMensaje(hechoDetras);
          const aplicadaDetras = await aplicar(detras, decisionDetras);
          observador.terminado?.({
            mensaje: detras,
            hecho: hechoDetras,
            decision: decisionDetras,
            aplicada: aplicadaDetras,
            duracionMs: 0,
          });
          liberar();
        }
      }
      mensaje = cola.shift();
    }
    colas.delete(primero.clave);
  }

  /** Aplica la decisión en el broker. Un fallo del broker se observa: el broker reentregará al vencer el lease. */
  async function aplicar(mensaje: MensajeEntrante, decision: DecisionMensaje): Promise<boolean> {
    if (decision.accion === 'soltar') return true;
    try {
      switch (decision.accion) {
        case 'confirmar':
          await suscripcion.confirmar(mensaje);
          break;
        case 'rechazar':
          await suscripcion.rechazar(mensaje, decision.retrasoMs);
          break;
        case 'aMuertos':
          await suscripcion.aMensajesMuertos(mensaje, decision.motivo);
          break;
      }
      return true;
    } catch (error) {
      observador.falloBroker?.({ operacion: decision.accion, error, mensaje });
      return false;
    }
  }

  async function drenar(): Promise<void> {
    while (cadenas.size > 0) await Promise.all([...cadenas]);
  }

  return {
    iniciar() {
      if (bucle || detencion) return;
      bucle = ejecutar().then(drenar);
    },
    detener(parada = {}) {
      detencion ??= (async () => {
        parando = true;
        avisar?.();
        const drenado = drenar().then(() => true);
        const completo =
          parada.tiempoMaximoMs === undefined
            ? await drenado
            : await Promise.race([drenado, dormir(parada.tiempoMaximoMs).then(() => false)]);
        if (!completo && parada.tiempoMaximoMs !== undefined) {
          observador.paradaIncompleta?.({ retenidos, tiempoMaximoMs: parada.tiempoMaximoMs });
        }
        await suscripcion.cerrar();
        if (completo) await bucle;
      })();
      return detencion;
    },
    terminado() {
      return bucle ?? detencion ?? Promise.resolve();
    },
    retenidos: () => retenidos,
  };
}

function dormir(ms: number): Promise<void> {
  return new Promise((resolver) => {
    const t = setTimeout(resolver, ms);
    (t as { unref?: () => void }).unref?.();
  });
}
