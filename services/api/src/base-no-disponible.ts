/**
 * ¿El fallo dice que PostgreSQL no está disponible (caído, reiniciándose, en recuperación, sin
 * conexiones libres) y no que algo salió mal con esta petición? Entonces la API responde 503 con
 * `Retry-After` en lugar de 500: reintentar más tarde, con la misma clave de idempotencia, es
 * exactamente lo que el cliente debe hacer. Ver `docs/decisiones/0041-caida-de-la-base-es-503.md`.
 *
 * El fallo llega envuelto por el repositorio (`Error` con `cause`), o tal cual desde `pg` y Kysely; a
 * veces como `AggregateError` (una conexión intentada por IPv4 e IPv6). Se mira toda la cadena.
 */

/** Errores de red de Node al conectar o mientras la conexión estaba abierta. */
const CODIGOS_RED = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATE: 57P01 (terminación por el administrador: parada rápida o `pg_terminate_backend`), 57P02
 * (parada inmediata o caída de otro proceso del servidor), 57P03 (arrancando, en recuperación o
 * apagándose), 57P05 (sesión ociosa cortada). Más las clases enteras 08 (excepción de conexión) y 53
 * (recursos insuficientes: 53300 demasiadas conexiones, 53100 disco lleno, 53200 sin memoria).
 */
const SQLSTATE_NO_DISPONIBLE = new Set(['57P01', '57P02', '57P03', '57P05']);
const CLASES_NO_DISPONIBLE = new Set(['08', '53']);

/** Mensajes de `pg` y `pg-pool` sin código: conexión cortada, tiempo de espera del pool, pool cerrado. */
const MENSAJES_NO_DISPONIBLE =
  /^(?:Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Cannot use a pool after calling end on the pool|terminating connection)/;

const esSqlstate = (codigo: string) => /^[0-9A-Z]{5}$/.test(codigo);

function motivoPropio(error: object): string | undefined {
  const { code, syscall, message } = error as { code?: unknown; syscall?: unknown; message?: unknown };
  const mensaje = typeof message === 'string' ? message : '';
  if (typeof code === 'string') {
    if (CODIGOS_RED.has(code)) return `${code} ${mensaje}`.trim();
    // Un socket Unix que ya no existe (el servidor se paró y borró su socket) o sin permiso.
    if ((code === 'ENOENT' || code === 'EACCES') && syscall === 'connect') return `${code} ${mensaje}`.trim();
    if (esSqlstate(code) && (SQLSTATE_NO_DISPONIBLE.has(code) || CLASES_NO_DISPONIBLE.has(code.slice(0, 2)))) {
      return `${code} ${mensaje}`.trim();
    }
  }
  return MENSAJES_NO_DISPONIBLE.test(mensaje) ? mensaje : undefined;
}

/**
 * Si `error` (o una de sus causas) dice que la base de datos no está disponible, una línea corta que
 * lo explica para el registro (código y mensaje del controlador); si no, `undefined`.
 */
export function motivoBaseNoDisponible(error: unknown): string | undefined {
  const pendientes: unknown[] = [error];
  const vistos = new Set<unknown>();
  while (pendientes.length > 0 && vistos.size < 20) {
    const actual = pendientes.shift();
    if (actual === null || typeof actual !== 'object' || vistos.has(actual)) continue;
    vistos.add(actual);
    const motivo = motivoPropio(actual);
    if (motivo !== undefined) return motivo;
    const { cause, errors } = actual as { cause?: unknown; errors?: unknown };
    pendientes.push(cause);
    if (Array.isArray(errors)) pendientes.push(...(errors as unknown[]));
  }
  return undefined;
}
