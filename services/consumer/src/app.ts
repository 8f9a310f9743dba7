import {
  crearConsumidor,
  type AlReintentarPasarela,
  type Consumidor,
  type HechoMensaje,
  type ManejarEvento,
  type ObservadorConsumidor,
  type OpcionesConsumidor,
  type Suscripcion,
} from '@aeropartners/aplicacion';
import type { EventoPago } from '@aeropartners/dominio';
import { camposDeMensaje, duplicadoEnElInbox, leerSobre, type DuplicadoAbsorbido } from '@aeropartners/adaptadores';

type FuncionLog = (campos: object, mensaje?: string) => void;

/** Lo que el consumidor necesita de un logger (`crearLogger` de adaptadores lo cumple). */
export interface LoggerConsumidor {
  readonly debug: FuncionLog;
  readonly info: FuncionLog;
  readonly warn: FuncionLog;
  readonly error: FuncionLog;
  /** Si el nivel se escribe (pino lo tiene): así no se arman los campos de una línea que se descartará. */
  readonly isLevelEnabled?: (nivel: string) => boolean;
}

export interface DependenciasConsumidor {
  readonly suscripcion: Suscripcion;
  /** Construye el manejador de eventos con el gancho que cuenta cada reintento de la pasarela. */
  readonly crearManejador: (ganchos: { readonly alReintentar: AlReintentarPasarela }) => ManejarEvento;
  /** Mensajes retenidos a la vez (pagos distintos en paralelo; los de un mismo pago, en orden). */
  readonly enVuelo: number;
  readonly logger: LoggerConsumidor;
  /** Pausa tras un fallo de `recibir()` antes de volver a pedir. Por defecto 1 000 ms. */
  readonly pausaTrasFalloMs?: number;
  /** Mensajes que no son eventos de pago (hechos de conversión): ver `OpcionesConsumidor.atenderOtros`. */
  readonly atenderOtros?: OpcionesConsumidor['atenderOtros'];
  /** Cada duplicado absorbido en el inbox, al registro de eventos del socio (por lotes asíncronos, decisiones 0163 y 0153). */
  readonly alDuplicado?: (duplicado: DuplicadoAbsorbido) => void;
  /** El span de proceso de cada mensaje (`atencionTrazada` de adaptadores), con la telemetría encendida. */
  readonly envolverAtencion?: OpcionesConsumidor['envolverAtencion'];
}

export type { Consumidor };

/**
 * El consumidor de eventos de pago de este servicio: el de `@aeropartners/aplicacion` (despacho por
 * pago, política de ack / nack / mensajes muertos) con el sobre que publica el relay y una línea de
 * registro JSON por mensaje manejado, con su trazabilidad.
 */
export function crearConsumidorPagos(deps: DependenciasConsumidor): Consumidor {
  return crearConsumidor({
    suscripcion: deps.suscripcion,
    enVuelo: deps.enVuelo,
    leerSobre,
    crearManejador: deps.crearManejador,
    observador: conDuplicados(registrarEn(deps.logger), deps.alDuplicado),
    ...(deps.pausaTrasFalloMs === undefined ? {} : { pausaTrasFalloMs: deps.pausaTrasFalloMs }),
    ...(deps.atenderOtros === undefined ? {} : { atenderOtros: deps.atenderOtros }),
    ...(deps.envolverAtencion === undefined ? {} : { envolverAtencion: deps.envolverAtencion }),
  });
}

/**
 * Cada mensaje que el inbox ya tenía (un evento de pago de cualquier tipo o un hecho de conversión ya
 * aplicado) es un duplicado absorbido en la etapa `inbox`, la misma de las métricas (decisión 0153).
 */
function conDuplicados(observador: ObservadorConsumidor, alDuplicado: DependenciasConsumidor['alDuplicado']): ObservadorConsumidor {
  if (!alDuplicado) return observador;
  return {
    ...observador,
    terminado(info) {
      observador.terminado?.(info);
      const duplicado = duplicadoEnElInbox(info.mensaje, info.hecho);
      if (duplicado) alDuplicado(duplicado);
    },
  };
}

type Campos = Record<string, string | number | null>;

/** Cada hecho del consumidor como una línea de registro con los campos de trazabilidad del mensaje. */
function registrarEn(logger: LoggerConsumidor): ObservadorConsumidor {
  return {
    terminado({ mensaje, hecho, decision, duracionMs }) {
      if (logger.isLevelEnabled && !logger.isLevelEnabled(nivelDe(hecho))) return;
      const campos: Campos = { ...camposDeMensaje(mensaje), ...camposDeHecho(hecho), duracion_ms: Math.round(duracionMs * 10) / 10 };
      switch (hecho.tipo) {
        case 'sobreInvalido':
          logger.warn(
            { ...campos, desenlace: 'invalido', motivo: decision.accion === 'aMuertos' ? decision.motivo : hecho.motivo },
            'mensaje a la cola de mensajes muertos',
          );
          return;
        case 'fallo':
          logger.error(
            { ...campos, desenlace: 'error', err: hecho.error },
            'fallo de infraestructura al manejar el evento: se rechaza para que el broker lo reentregue',
          );
          return;
        case 'detras':
          logger.warn(
            { ...campos, motivo: 'detrás de un mensaje de su pago que volvió al broker' },
            'mensaje devuelto al broker sin manejar',
          );
          return;
        case 'conversion': {
          const camposHecho = { ...campos, id_evento: hecho.idEvento, id_conversion: hecho.idConversion, desenlace: hecho.desenlace };
          // Llamadas como métodos del logger (pino necesita su `this`).
          if (decision.accion === 'aMuertos') {
            logger.warn({ ...camposHecho, motivo: decision.motivo }, 'hecho de conversión a la cola de mensajes muertos');
          } else {
            logger.info(camposHecho, `hecho de conversión ${hecho.desenlace}`);
          }
          return;
        }
        case 'manejado':
          break;
      }
      const d = hecho.desenlace;
      switch (d.tipo) {
        case 'procesado':
          logger.info(
            {
              ...campos,
              desenlace: d.tipo,
              estado: d.pago.estado,
              version_pago: d.pago.version,
              intentos_pasarela: d.intentosPasarela,
              mensaje_error: d.pago.mensajeError,
            },
            'evento procesado',
          );
          return;
        case 'registrado':
        case 'duplicado':
          logger.info({ ...campos, desenlace: d.tipo }, `evento ${d.tipo}`);
          return;
        case 'obsoleto':
          logger.info({ ...campos, desenlace: d.tipo, estado: d.estadoActual, version_pago: d.versionActual }, 'evento obsoleto');
          return;
        case 'pagoInexistente':
          logger.warn(
            { ...campos, desenlace: d.tipo, motivo: decision.accion === 'aMuertos' ? decision.motivo : null },
            'mensaje a la cola de mensajes muertos',
          );
          return;
        case 'incierto':
          logger.warn(
            { ...campos, desenlace: d.tipo, motivo: d.mensaje, intentos_pasarela: d.intentosPasarela },
            'desenlace incierto de la pasarela: el pago sigue en PROCESANDO y se volverá a preguntar',
          );
          return;
        case 'ocupado':
          logger.info(
            { ...campos, desenlace: d.tipo, reintentar_en_ms: d.reintentarEnMs },
            'otro consumidor tiene el turno de cobro del pago: se reintentará',
          );
          return;
        case 'abandonado':
          logger.warn({ ...campos, desenlace: d.tipo, motivo: d.motivo }, 'mensaje abandonado: ya no es de este consumidor');
          return;
      }
    },
    reintentoPasarela({ evento, traza, intento, motivo }) {
      logger.warn(
        { ...camposDeEvento(evento), id_correlacion: traza.idCorrelacion, traceparent: traza.traceparent ?? null, intento, motivo },
        'respuesta incierta de la pasarela: se pregunta y se reintenta con la misma clave de idempotencia',
      );
    },
    falloBroker({ operacion, error, mensaje, pausaMs }) {
      const campos = mensaje ? camposDeMensaje(mensaje) : {};
      const que: Record<typeof operacion, string> = {
        recibir: 'no se pudo recibir del broker: se reintenta',
        confirmar: 'no se pudo confirmar el mensaje al broker: se reentregará y el inbox lo absorberá',
        rechazar: 'no se pudo rechazar el mensaje: el broker lo reentregará al vencer su plazo',
        aMuertos: 'no se pudo mandar el mensaje a mensajes muertos: el broker lo reentregará',
      };
      logger.error({ ...campos, err: error, ...(pausaMs === undefined ? {} : { pausa_ms: pausaMs }) }, que[operacion]);
    },
    devueltoAlParar(mensaje) {
      logger.debug(camposDeMensaje(mensaje), 'mensaje recibido durante la parada: se devuelve al broker');
    },
    paradaIncompleta({ retenidos, tiempoMaximoMs }) {
      logger.warn(
        { retenidos, tiempo_maximo_ms: tiempoMaximoMs },
        'parada: tiempo agotado con mensajes sin terminar; se cierra la suscripción y se reentregarán',
      );
    },
  };
}

/** El nivel de la línea de un mensaje terminado (el mismo que usa `terminado`). */
function nivelDe(hecho: HechoMensaje): 'info' | 'warn' | 'error' {
  if (hecho.tipo === 'fallo') return 'error';
  if (hecho.tipo === 'conversion') return hecho.desenlace === 'rechazado' || hecho.desenlace === 'hechoInexistente' ? 'warn' : 'info';
  if (hecho.tipo !== 'manejado') return 'warn';
  switch (hecho.desenlace.tipo) {
    case 'pagoInexistente':
    case 'incierto':
    case 'abandonado':
      return 'warn';
    default:
      return 'info';
  }
}

function camposDeHecho(hecho: HechoMensaje): Campos {
  if (hecho.tipo !== 'manejado' && !(hecho.tipo === 'fallo' && hecho.evento)) return {};
  const { evento, traza } = hecho;
  if (!evento || !traza) return {};
  return { ...camposDeEvento(evento), id_correlacion: traza.idCorrelacion, traceparent: traza.traceparent ?? null };
}

function camposDeEvento(evento: EventoPago): Campos {
  return { id_pago: evento.idPago, id_evento: evento.idEvento, tipo: evento.tipo, version: evento.version };
}
