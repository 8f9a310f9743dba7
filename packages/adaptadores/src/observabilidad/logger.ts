import { hostname } from 'node:os';
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

/** Texto que sustituye a un secreto en el registro. */
export const CENSURA = '[oculto]';

/**
 * Campos que nunca se escriben tal cual (`redact` de pino, con comodín de un nivel): cabeceras de
 * autorización y cookies, claves de Stripe, contraseñas y tokens. Las URL de conexión (`DATABASE_URL`,
 * `url`) se escriben sin su contraseña.
 */
export const RUTAS_SECRETAS: readonly string[] = [
  ...['authorization', 'cookie', 'set-cookie', 'x-api-key'].flatMap((c) => {
    const acceso = /^[A-Za-z_$][\w$]*$/.test(c) ? `.${c}` : `["${c}"]`;
    return [acceso.startsWith('.') ? c : acceso, `*${acceso}`, `headers${acceso}`, `*.headers${acceso}`];
  }),
  ...['STRIPE_API_KEY', 'apiKey', 'api_key', 'password', 'contrasena', 'secret', 'token', 'numero_tarjeta', 'cvc', 'cvv'].flatMap((c) => [
    c,
    `*.${c}`,
  ]),
];
const RUTAS_URL: readonly string[] = ['DATABASE_URL', '*.DATABASE_URL', 'url', '*.url', 'connectionString', '*.connectionString'];

/**
 * Secuencias de 13 a 19 dígitos (con espacios o guiones opcionales) que pasan el control de Luhn: un
 * número de tarjeta. Se enmascaran todos los dígitos menos los 4 últimos, en cualquier texto del registro.
 */
const PARECE_TARJETA = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;

function luhn(digitos: string): boolean {
  let suma = 0;
  for (let i = 0; i < digitos.length; i += 1) {
    let d = digitos.charCodeAt(digitos.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    suma += d;
  }
  return suma % 10 === 0;
}

/** El texto con cada número con forma de tarjeta reducido a sus 4 últimos dígitos. */
export function enmascararTarjetas(texto: string): string {
  if (texto.length < 13) return texto;
  return texto.replace(PARECE_TARJETA, (encontrado) => {
    const digitos = encontrado.replace(/[ -]/g, '');
    return luhn(digitos) ? `${'*'.repeat(digitos.length - 4)}${digitos.slice(-4)}` : encontrado;
  });
}

/** `postgres://usuario:secreto@host/db` → `postgres://usuario:***@host/db` (o el texto censurado si no es una URL). */
function urlSinSecreto(valor: unknown): unknown {
  if (typeof valor !== 'string') return valor;
  try {
    const url = new URL(valor);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return CENSURA;
  }
}

const esIdentificador = (clave: string) => clave.startsWith('id_') || clave === 'traceparent' || clave === 'ids_correlacion';

/** Enmascara tarjetas en los textos de un objeto de registro (hasta dos niveles; los errores, aparte). */
function limpiar(valor: unknown, profundidad: number): unknown {
  if (typeof valor === 'string') return enmascararTarjetas(valor);
  if (profundidad === 0 || valor === null || typeof valor !== 'object') return valor;
  if (Array.isArray(valor)) return valor.map((v) => limpiar(v, profundidad - 1));
  // Solo objetos planos: fechas, errores (su serializador los limpia) y demás instancias quedan igual.
  const prototipo: unknown = Object.getPrototypeOf(valor);
  if (prototipo !== Object.prototype && prototipo !== null) return valor;
  const copia: Record<string, unknown> = {};
  // Los identificadores (UUID, traceparent) no son tarjetas aunque alguno tenga solo dígitos en sus primeros grupos.
  for (const [clave, v] of Object.entries(valor)) copia[clave] = esIdentificador(clave) ? v : limpiar(v, profundidad - 1);
  return copia;
}

function errorSinTarjetas(error: unknown): unknown {
  const serializado = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (serializado === null || typeof serializado !== 'object') return serializado;
  for (const campo of ['message', 'stack'] as const) {
    const texto = serializado[campo];
    if (typeof texto === 'string') serializado[campo] = enmascararTarjetas(texto);
  }
  return serializado;
}

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;

/** Con un `traceparent` W3C, añade `trace_id` y `span_id` como campos (lo que buscan los visores de trazas). */
function conTraza(objeto: Record<string, unknown>): Record<string, unknown> {
  const traceparent = objeto['traceparent'];
  if (typeof traceparent !== 'string' || 'trace_id' in objeto) return objeto;
  const partes = TRACEPARENT.exec(traceparent);
  return partes ? { ...objeto, trace_id: partes[1], span_id: partes[2] } : objeto;
}

export function crearLogger(opciones: OpcionesLogger): Logger {
  const configuracion: LoggerOptions = {
    level: opciones.nivel ?? 'info',
    base: { pid: process.pid, hostname: hostname(), servicio: opciones.servicio },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (etiqueta) => ({ level: etiqueta }),
      log: (objeto) => conTraza(limpiar(objeto, 3) as Record<string, unknown>),
    },
    serializers: { err: errorSinTarjetas },
    redact: {
      paths: [...RUTAS_SECRETAS, ...RUTAS_URL],
      censor: (valor, ruta) =>
        RUTAS_URL.includes(ruta.length > 1 ? `*.${ruta.at(-1)}` : String(ruta[0])) ? urlSinSecreto(valor) : CENSURA,
    },
  };
  const destino = opciones.destino ?? pino.destination({ dest: 1, sync: false });
  return pino(configuracion, destino);
}
