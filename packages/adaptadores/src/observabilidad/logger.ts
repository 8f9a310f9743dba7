import { pino, type DestinationStream, type LoggerOptions } from 'pino';

/**
 * Registro JSON de los servicios (api, outbox, consumidor): una línea JSON por entrada, con el nombre
 * del servicio, la hora ISO 8601 y el nivel como texto. Los campos de trazabilidad (`id_correlacion`,
 * `traceparent`, `id_pago`, `id_evento`) los añade quien registra.
 */

/** Niveles admitidos, de más a menos grave; `silent` no escribe nada. */
export const NIVELES_LOG = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type NivelLog = (typeof NIVELES_LOG)[number];

type FuncionLog = (campos: object, mensaje?: string) => void;

/**
 * Lo que un servicio necesita de un logger. `pino` lo cumple; un test puede pasar cualquier objeto con
 * esta forma.
 */
export interface Logger {
  readonly fatal: FuncionLog;
  readonly error: FuncionLog;
  readonly warn: FuncionLog;
  readonly info: FuncionLog;
  readonly debug: FuncionLog;
  readonly trace: FuncionLog;
  /** Logger hijo que añade `campos` a cada línea. */
  child(campos: Record<string, unknown>): Logger;
  /** Vacía lo que quede en el búfer (al apagar). */
  flush(callback?: (error?: Error) => void): void;
}

export interface OpcionesLogger {
  /** Nombre del servicio: campo `servicio` de cada línea. */
  readonly servicio: string;
  /** Por defecto `info`. */
  readonly nivel?: NivelLog | undefined;
  /**
   * Destino de las líneas. Por defecto la salida estándar, escrita de forma asíncrona (las líneas que
   * llegan mientras una escritura está en curso se juntan en la siguiente) para no bloquear el bucle de
   * eventos en cada petición; lo pendiente se vacía al salir del proceso y con `flush`.
   */
  readonly destino?: DestinationStream | undefined;
}

export function esNivelLog(valor: unknown): valor is NivelLog {
  return typeof valor === 'string' && (NIVELES_LOG as readonly string[]).includes(valor);
}

export function crearLogger(opciones: OpcionesLogger): Logger {
  const configuracion: LoggerOptions = {
    level: opciones.nivel ?? 'info',
    base: { servicio: opciones.servicio },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (etiqueta) => ({ level: etiqueta }) },
  };
  const destino = opciones.destino ?? pino.destination({ dest: 1, sync: false });
  return pino(configuracion, destino);
}
