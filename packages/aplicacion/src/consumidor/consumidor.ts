import type { EventoPago, Resultado, Trazabilidad } from '@aeropartners/dominio';
import type { MensajeEntrante, Suscripcion } from '../mensajeria/puertos-broker.js';
import type { HechoMensaje } from './decidir-mensaje.js';
import { crearDespachador, type Despachador, type ObservadorDespacho } from './despachador.js';
import type { DesenlaceEvento, OpcionesManejador } from './manejar-evento.js';

/** El manejador de eventos (`crearManejadorEventos`) o cualquier función con su forma. */
export type ManejarEvento = (evento: EventoPago, traza: Trazabilidad, senal?: AbortSignal) => Promise<DesenlaceEvento>;
export type AlReintentarPasarela = NonNullable<OpcionesManejador['alReintentar']>;

/** Un mensaje leído: el evento que lleva y su trazabilidad. */
export interface SobreLeido {
  readonly evento: EventoPago;
  readonly traza: Trazabilidad;
}

/** Lo que el consumidor cuenta a quien observa: lo del despacho más cada reintento de la pasarela. */
export interface ObservadorConsumidor extends ObservadorDespacho {
  reintentoPasarela?(info: {
    readonly evento: EventoPago;
    readonly traza: Trazabilidad;
    readonly intento: number;
    readonly motivo: string;
  }): void;
}

export interface OpcionesConsumidor {
  readonly suscripcion: Suscripcion;
  /** Mensajes retenidos a la vez (pagos distintos en paralelo; los de un mismo pago, en orden). */
  readonly enVuelo: number;
  /** Lee y valida el sobre de un mensaje; un sobre inválido es un valor de error con su motivo. */
  readonly leerSobre: (mensaje: MensajeEntrante) => Resultado<SobreLeido, string>;
  /**
   * Construye el manejador de eventos. Recibe el gancho con el que el consumidor cuenta (y deja
   * observar) cada reintento de la pasarela: pásalo como `alReintentar` a `crearManejadorEventos`.
   */
  readonly crearManejador: (ganchos: { readonly alReintentar: AlReintentarPasarela }) => ManejarEvento;
  readonly observador?: ObservadorConsumidor;
  /**
   * Mensajes que no son eventos de pago (los hechos de conversión viajan por el mismo broker): si devuelve
   * una promesa, ese es el hecho del mensaje; si devuelve `null`, el mensaje se lee como evento de pago.
   */
  readonly atenderOtros?: (mensaje: MensajeEntrante) => Promise<HechoMensaje> | null;
  /** Envuelve la atención de cada mensaje (el span de proceso de la traza); sin él, se atiende tal cual. */
  readonly envolverAtencion?: (mensaje: MensajeEntrante, atender: () => Promise<HechoMensaje>) => Promise<HechoMensaje>;
  readonly pausaTrasFalloMs?: number;
  readonly ahora?: () => number;
}

/** Contadores del proceso desde que arrancó. */
export interface ContadoresConsumidor {
  /** Mensajes tomados del broker. */
  readonly recibidos: number;
  /** `PagoPendiente` llevados a EXITOSO o FALLIDO por este proceso (`exitosos` + `fallidos`). */
  readonly procesados: number;
  readonly exitosos: number;
  readonly fallidos: number;
  /** Eventos de desenlace anotados para trazabilidad. */
  readonly registrados: number;
  /** Duplicados absorbidos en la etapa del inbox (evento ya anotado en esta suscripción). */
  readonly duplicados: number;
  /** Eventos que llegaron tarde (el pago ya era final): anotados sin efecto, juzgados por versión. */
  readonly obsoletos: number;
  /** Desenlaces inciertos de la pasarela: el pago sigue en PROCESANDO y el mensaje se reentrega. */
  readonly inciertos: number;
  /** Mensajes devueltos porque otro consumidor tenía el turno de cobro del pago. */
  readonly ocupados: number;
  /** Mensajes abandonados porque dejaron de ser de este consumidor (lease perdido). */
  readonly abandonados: number;
  /** Mandados a la cola de mensajes muertos (sobre inválido o pago inexistente). */
  readonly muertos: number;
  /** Devueltos al broker (nack) para reentregarlos. */
  readonly rechazados: number;
  /** Respuestas inciertas de la pasarela reintentadas dentro del manejador. */
  readonly reintentosPasarela: number;
  /** Fallos de infraestructura: del manejador, o al recibir, confirmar, rechazar o matar un mensaje. */
  readonly errores: number;
  /** Hechos de conversión aplicados (su efecto confirmado en la base). */
  readonly hechosAplicados: number;
  /** Hechos de conversión que ya estaban aplicados (reentregas). */
  readonly hechosDuplicados: number;
  /** Hechos de conversión que dejan su conversión bloqueada por un conflicto. */
  readonly hechosBloqueados: number;
  /** Hechos de conversión que no se pudieron aplicar (a mensajes muertos). */
  readonly hechosRechazados: number;
}

export interface Consumidor extends Despachador {
  contadores(): ContadoresConsumidor;
}

/**
 * Un consumidor de eventos de pago: el despachador (orden por pago, límite en vuelo) atendiendo cada
 * mensaje así: lee el sobre, maneja el evento (exactamente una vez por suscripción) y deja que
 * `decidirMensaje` diga qué hacer con él en el broker. Cuenta lo que pasa y lo deja observar.
 */
export function crearConsumidor(opciones: OpcionesConsumidor): Consumidor {
  const observador = opciones.observador ?? {};
  const c = {
    recibidos: 0,
    procesados: 0,
    exitosos: 0,
    fallidos: 0,
    registrados: 0,
    duplicados: 0,
    obsoletos: 0,
    inciertos: 0,
    ocupados: 0,
    abandonados: 0,
    muertos: 0,
    rechazados: 0,
    reintentosPasarela: 0,
    errores: 0,
    hechosAplicados: 0,
    hechosDuplicados: 0,
    hechosBloqueados: 0,
    hechosRechazados: 0,
  } satisfies ContadoresConsumidor;

  const manejar = opciones.crearManejador({
    alReintentar(evento, intento, motivo, traza) {
      c.reintentosPasarela += 1;
      observador.reintentoPasarela?.({ evento, traza, intento, motivo });
    },
  });

  async function atender(mensaje: MensajeEntrante): Promise<HechoMensaje> {
    const otro = opciones.atenderOtros?.(mensaje);
    if (otro) return otro;
    const sobre = opciones.leerSobre(mensaje);
    if (!sobre.ok) return { tipo: 'sobreInvalido', motivo: sobre.error };
    const { evento, traza } = sobre.valor;
    try {
      return { tipo: 'manejado', evento, traza, desenlace: await manejar(evento, traza, mensaje.senal) };
    } catch (error) {
      return { tipo: 'fallo', evento, traza, error };
    }
  }

  function contar(hecho: HechoMensaje): void {
    if (hecho.tipo === 'fallo') c.errores += 1;
    if (hecho.tipo === 'conversion') {
      if (hecho.desenlace === 'aplicado') c.hechosAplicados += 1;
      else if (hecho.desenlace === 'duplicado') c.hechosDuplicados += 1;
      else if (hecho.desenlace === 'bloqueada') c.hechosBloqueados += 1;
      else c.hechosRechazados += 1;
      return;
    }
    if (hecho.tipo !== 'manejado') return;
    switch (hecho.desenlace.tipo) {
      case 'procesado':
        c.procesados += 1;
        if (hecho.desenlace.pago.estado === 'EXITOSO') c.exitosos += 1;
        else c.fallidos += 1;
        return;
      case 'registrado':
        c.registrados += 1;
        return;
      case 'duplicado':
        c.duplicados += 1;
        return;
      case 'obsoleto':
        c.obsoletos += 1;
        return;
      case 'incierto':
        c.inciertos += 1;
        return;
      case 'ocupado':
        c.ocupados += 1;
        return;
      case 'abandonado':
        c.abandonados += 1;
        return;
      case 'pagoInexistente':
        return;
    }
  }

  const envolver = opciones.envolverAtencion;
  const despachador = crearDespachador({
    suscripcion: opciones.suscripcion,
    enVuelo: opciones.enVuelo,
    atender: envolver ? (mensaje) => envolver(mensaje, () => atender(mensaje)) : atender,
    ...(opciones.pausaTrasFalloMs === undefined ? {} : { pausaTrasFalloMs: opciones.pausaTrasFalloMs }),
    ...(opciones.ahora === undefined ? {} : { ahora: opciones.ahora }),
    observador: {
      ...observador,
      recibido(mensaje) {
        c.recibidos += 1;
        observador.recibido?.(mensaje);
      },
      terminado(info) {
        contar(info.hecho);
        if (info.decision.accion === 'rechazar') c.rechazados += 1;
        if (info.decision.accion === 'aMuertos' && info.aplicada) c.muertos += 1;
        observador.terminado?.(info);
      },
      falloBroker(info) {
        c.errores += 1;
        observador.falloBroker?.(info);
      },
    },
  });

  return { ...despachador, contadores: () => ({ ...c }) };
}
