import type { DesenlaceEvento, MensajeEntrante, OpcionesManejador, Suscripcion } from '@aeropartners/aplicacion';
import type { EventoPago, Trazabilidad } from '@aeropartners/dominio';
import { camposDeMensaje, leerSobre } from './sobre.js';

/** El manejador de eventos de aplicacion (`crearManejadorEventos`), o cualquier función con su forma. */
export type ManejarEvento = (evento: EventoPago, traza: Trazabilidad, senal?: AbortSignal) => Promise<DesenlaceEvento>;
export type AlReintentarPasarela = NonNullable<OpcionesManejador['alReintentar']>;

type FuncionLog = (campos: object, mensaje?: string) => void;

/** Lo que el consumidor necesita de un logger (`crearLogger` de adaptadores lo cumple). */
export interface LoggerConsumidor {
  readonly debug: FuncionLog;
  readonly info: FuncionLog;
  readonly warn: FuncionLog;
  readonly error: FuncionLog;
}

export interface DependenciasConsumidor {
  readonly suscripcion: Suscripcion;
  /**
   * Construye el manejador de eventos. Recibe el gancho con el que el consumidor cuenta y registra cada
   * reintento transitorio de la pasarela (pásalo como `alReintentar` a `crearManejadorEventos`).
   */
  readonly crearManejador: (ganchos: { readonly alReintentar: AlReintentarPasarela }) => ManejarEvento;
  /** Mensajes retenidos a la vez (en manos del manejador o esperando turno tras otro de su pago). */
  readonly enVuelo: number;
  readonly logger: LoggerConsumidor;
  /** Pausa tras un fallo de `recibir()` antes de volver a pedir. Por defecto 1 000 ms. */
  readonly pausaTrasFalloMs?: number;
  /** Reloj monotónico para las duraciones, en ms. Por defecto `performance.now`. */
  readonly ahora?: () => number;
}

/** Contadores del proceso desde que arrancó. */
export interface ContadoresConsumidor {
  /** Mensajes tomados del broker. */
  readonly recibidos: number;
  /** `PagoPendiente` llevados a EXITOSO o FALLIDO por este proceso. */
  readonly procesados: number;
  /** Eventos de desenlace anotados para trazabilidad. */
  readonly registrados: number;
  /** Duplicados absorbidos en la etapa del inbox (evento ya anotado en esta suscripción). */
  readonly duplicados: number;
  /** Eventos que llegaron tarde (el pago ya era final): anotados sin efecto, juzgados por versión. */
  readonly obsoletos: number;
  /** Mandados a la cola de mensajes muertos (sobre inválido o pago inexistente). */
  readonly muertos: number;
  /** Devueltos al broker (nack) para reentregarlos: fallo de infraestructura, o detrás de uno que lo fue. */
  readonly rechazados: number;
  /** Fallos transitorios de la pasarela reintentados dentro del manejador. */
  readonly reintentosPasarela: number;
  /** Fallos de infraestructura: del manejador, o al recibir, confirmar, rechazar o matar un mensaje. */
  readonly errores: number;
}

export interface OpcionesDetener {
  /**
   * Tiempo máximo para terminar lo retenido. Vencido, la suscripción se cierra igualmente: lo que no se
   * confirmó se reentrega a otro consumidor (el inbox y la idempotencia de la pasarela lo absorben).
   */
  readonly tiempoMaximoMs?: number;
}

export interface Consumidor {
  /** Empieza a tomar mensajes. Idempotente. */
  iniciar(): void;
  /**
   * Parada limpia: deja de tomar mensajes, termina (y confirma) lo que retiene, y entonces cierra la
   * suscripción. Se resuelve al terminar. Idempotente.
   */
  detener(opciones?: OpcionesDetener): Promise<void>;
  /** Se resuelve cuando el bucle terminó (tras `detener`, o porque la suscripción se cerró) y lo retenido también. */
  terminado(): Promise<void>;
  contadores(): ContadoresConsumidor;
  /** Mensajes retenidos ahora mismo. */
  retenidos(): number;
}

type Campos = Record<string, string | number | null>;
type Final = 'confirmado' | 'rechazado' | 'muerto';

/**
 * El bucle de despacho del consumidor sobre una `Suscripcion`:
 *
 * - toma mensajes mientras retenga menos de `enVuelo`;
 * - **orden por pago**: un mensaje cuya clave (id del pago) ya está en manos del manejador espera en la
 *   cola de esa clave; los de otras claves siguen. Así `enVuelo` reparte concurrencia entre pagos sin
 *   adelantar nunca un evento de un pago a otro anterior del mismo pago;
 * - valida el sobre: uno inválido va a mensajes muertos con el motivo (contado, nunca un fallo del
 *   proceso) y los que vienen detrás siguen fluyendo;
 * - confirma (ack) cuando el manejador devuelve `procesado`, `registrado`, `duplicado` u `obsoleto`;
 *   `pagoInexistente` va a mensajes muertos; si el manejador lanza (fallo de infraestructura), rechaza
 *   (nack) para que el broker lo reentregue con backoff, y con él los que esperaban detrás en su clave.
 */
export function crearConsumidor(deps: DependenciasConsumidor): Consumidor {
  const { suscripcion, logger } = deps;
  if (!Number.isSafeInteger(deps.enVuelo) || deps.enVuelo < 1) {
    throw new RangeError(`enVuelo debe ser un entero ≥ 1 (recibido: ${deps.enVuelo})`);
  }
  const ahora = deps.ahora ?? (() => performance.now());
  const pausaTrasFalloMs = deps.pausaTrasFalloMs ?? 1_000;

  const c = {
    recibidos: 0,
    procesados: 0,
    registrados: 0,
    duplicados: 0,
    obsoletos: 0,
    muertos: 0,
    rechazados: 0,
    reintentosPasarela: 0,
    errores: 0,
  } satisfies ContadoresConsumidor;

  /** Clave en manos del manejador → mensajes de esa clave que esperan turno, en orden de llegada. */
  const colas = new Map<string, MensajeEntrante[]>();
  const cadenas = new Set<Promise<void>>();
  /** Campos de registro de los eventos en manos del manejador (para las líneas de sus reintentos). */
  const enCurso = new Map<string, Campos>();
  let retenidos = 0;
  let parando = false;
  let avisar: (() => void) | undefined;
  let bucle: Promise<void> | undefined;
  let detencion: Promise<void> | undefined;

  const manejar = deps.crearManejador({
    alReintentar(evento, intento, mensaje) {
      c.reintentosPasarela += 1;
      logger.warn(
        { ...(enCurso.get(evento.idEvento) ?? camposDeEvento(evento)), intento, motivo: mensaje },
        'fallo transitorio de la pasarela: se reintenta con la misma clave de idempotencia',
      );
    },
  });

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
      if (retenidos >= deps.enVuelo) {
        await esperarAviso();
        continue;
      }
      let mensaje: MensajeEntrante | null;
      try {
        mensaje = await suscripcion.recibir();
      } catch (error) {
        c.errores += 1;
        logger.error({ err: error, pausa_ms: pausaTrasFalloMs }, 'no se pudo recibir del broker: se reintenta');
        await esperarAviso(pausaTrasFalloMs);
        continue;
      }
      if (mensaje === null) break;
      if (parando) {
        // Llegó mientras parábamos: no se toma. Al cerrar la suscripción vuelve al broker sin confirmar.
        logger.debug(camposDeMensaje(mensaje), 'mensaje recibido durante la parada: se devuelve al broker');
        break;
      }
      c.recibidos += 1;
      retenidos += 1;
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
    const clave = primero.clave;
    const cola = colas.get(clave) ?? [];
    let mensaje: MensajeEntrante | undefined = primero;
    while (mensaje) {
      const actual = mensaje;
      const final = await atender(mensaje).catch(async (error: unknown) => {
        // Red de seguridad: nada de lo que pase con un mensaje tumba el proceso ni descuadra la cuenta.
        c.errores += 1;
        c.rechazados += 1;
        const campos = camposDeMensaje(actual);
        logger.error({ ...campos, err: error }, 'error inesperado al atender el mensaje: se rechaza');
        await rechazar(actual, campos);
        return 'rechazado' as const;
      });
      liberar();
      if (final === 'rechazado') {
        // No adelantarlo: lo que esperaba detrás en su clave vuelve al broker con él.
        while (cola.length > 0) {
          const detras = cola.shift()!;
          c.rechazados += 1;
          await rechazar(detras, { ...camposDeMensaje(detras), motivo: 'detrás de un mensaje rechazado de su pago' });
          liberar();
        }
      }
      mensaje = cola.shift();
    }
    colas.delete(clave);
  }

  async function atender(mensaje: MensajeEntrante): Promise<Final> {
    const inicio = ahora();
    const sobre = leerSobre(mensaje);
    if (!sobre.ok) {
      await matar(mensaje, `Mensaje inválido: ${sobre.error}`, { ...camposDeMensaje(mensaje), desenlace: 'invalido' });
      return 'muerto';
    }
    const { evento, traza } = sobre.valor;
    const campos: Campos = {
      ...camposDeEvento(evento),
      id_correlacion: traza.idCorrelacion,
      traceparent: traza.traceparent ?? null,
      id_mensaje: mensaje.idMensaje,
      entregas: mensaje.entregas,
    };
    let desenlace: DesenlaceEvento;
    enCurso.set(evento.idEvento, campos);
    try {
      desenlace = await manejar(evento, traza, mensaje.senal);
    } catch (error) {
      c.errores += 1;
      c.rechazados += 1;
      logger.error(
        { ...campos, desenlace: 'error', duracion_ms: duracion(inicio), err: error },
        'fallo de infraestructura al manejar el evento: se rechaza para que el broker lo reentregue',
      );
      await rechazar(mensaje, campos);
      return 'rechazado';
    } finally {
      enCurso.delete(evento.idEvento);
    }

    let detalle: Campos;
    switch (desenlace.tipo) {
      case 'pagoInexistente':
        await matar(mensaje, `El pago ${evento.idPago} no existe: el evento ${evento.idEvento} no se puede aplicar.`, {
          ...campos,
          desenlace: 'pagoInexistente',
        });
        return 'muerto';
      case 'procesado':
        c.procesados += 1;
        detalle = {
          estado: desenlace.pago.estado,
          version_pago: desenlace.pago.version,
          intentos_pasarela: desenlace.intentosPasarela,
          mensaje_error: desenlace.pago.mensajeError,
        };
        break;
      case 'registrado':
        c.registrados += 1;
        detalle = {};
        break;
      case 'duplicado':
        c.duplicados += 1;
        detalle = {};
        break;
      case 'obsoleto':
        c.obsoletos += 1;
        detalle = { estado: desenlace.estadoActual, version_pago: desenlace.versionActual };
        break;
      case 'incierto':
        c.rechazados += 1;
        logger.warn({ ...campos, desenlace: 'incierto', motivo: desenlace.mensaje, intentos_pasarela: desenlace.intentosPasarela }, 'desenlace incierto de la pasarela: el pago sigue en PROCESANDO y se reintentará');
        await rechazar(mensaje, campos);
        return 'rechazado';
      case 'ocupado':
        c.rechazados += 1;
        logger.info({ ...campos, desenlace: 'ocupado', reintentar_en_ms: desenlace.reintentarEnMs }, 'otro consumidor tiene el turno de cobro del pago: se reintentará');
        await rechazar(mensaje, campos, desenlace.reintentarEnMs);
        return 'rechazado';
      case 'abandonado':
        logger.warn({ ...campos, desenlace: 'abandonado', motivo: desenlace.motivo }, 'mensaje abandonado: ya no es de este consumidor');
        return 'rechazado';
      default: {
        const imposible: never = desenlace;
        throw new Error(`Desenlace desconocido: ${JSON.stringify(imposible)}`);
      }
    }
    await confirmar(mensaje, campos);
    logger.info({ ...campos, ...detalle, desenlace: desenlace.tipo, duracion_ms: duracion(inicio) }, `evento ${desenlace.tipo}`);
    return 'confirmado';
  }

  async function confirmar(mensaje: MensajeEntrante, campos: Campos): Promise<void> {
    try {
      await suscripcion.confirmar(mensaje);
    } catch (error) {
      // Los efectos ya están confirmados en la base: la reentrega la absorberá el inbox.
      c.errores += 1;
      logger.error({ ...campos, err: error }, 'no se pudo confirmar el mensaje al broker: se reentregará y el inbox lo absorberá');
    }
  }

  async function rechazar(mensaje: MensajeEntrante, campos: Campos, retrasoMs?: number): Promise<void> {
    try {
      await suscripcion.rechazar(mensaje, retrasoMs);
    } catch (error) {
      c.errores += 1;
      logger.error({ ...campos, err: error }, 'no se pudo rechazar el mensaje: el broker lo reentregará al vencer su plazo');
    }
  }

  async function matar(mensaje: MensajeEntrante, motivo: string, campos: Campos): Promise<void> {
    try {
      await suscripcion.aMensajesMuertos(mensaje, motivo);
      c.muertos += 1;
      logger.warn({ ...campos, motivo }, 'mensaje a la cola de mensajes muertos');
    } catch (error) {
      c.errores += 1;
      logger.error({ ...campos, motivo, err: error }, 'no se pudo mandar el mensaje a mensajes muertos: el broker lo reentregará');
    }
  }

  function duracion(inicio: number): number {
    return Math.round((ahora() - inicio) * 10) / 10;
  }

  async function drenar(): Promise<void> {
    while (cadenas.size > 0) await Promise.all([...cadenas]);
  }

  return {
    iniciar() {
      if (bucle || detencion) return;
      bucle = ejecutar().then(drenar);
    },
    detener(opciones = {}) {
      detencion ??= (async () => {
        parando = true;
        avisar?.();
        const drenado = drenar().then(() => true);
        const completo =
          opciones.tiempoMaximoMs === undefined
            ? await drenado
            : await Promise.race([drenado, dormir(opciones.tiempoMaximoMs).then(() => false)]);
        if (!completo) {
          logger.warn(
            { retenidos, tiempo_maximo_ms: opciones.tiempoMaximoMs },
            'parada: tiempo agotado con mensajes sin terminar; se cierra la suscripción y se reentregarán',
          );
        }
        await suscripcion.cerrar();
        if (completo) await bucle;
      })();
      return detencion;
    },
    terminado() {
      return bucle ?? detencion ?? Promise.resolve();
    },
    contadores: () => ({ ...c }),
    retenidos: () => retenidos,
  };
}

function camposDeEvento(evento: EventoPago): Campos {
  return { id_pago: evento.idPago, id_evento: evento.idEvento, tipo: evento.tipo, version: evento.version };
}

function dormir(ms: number): Promise<void> {
  return new Promise((resolver) => setTimeout(resolver, ms).unref());
}
