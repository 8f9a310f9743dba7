import { randomFillSync } from 'node:crypto';
import { traceparentActivo } from '@aeropartners/adaptadores';

/**
 * Trazabilidad de entrada: identificador de correlación y contexto W3C Trace Context.
 * https://www.w3.org/TR/trace-context/#traceparent-header
 */

const ID_CORRELACION = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;
const LONGITUD_TRACEPARENT_V00 = 55;
const TRACE_ID_NULO = '0'.repeat(32);
const PARENT_ID_NULO = '0'.repeat(16);

// Aleatoriedad por lotes: una llamada al sistema cada ~170 peticiones en vez de una por petición.
const reserva = Buffer.alloc(4096);
let posicion = reserva.length;

function hexAleatorio(bytes: number): string {
  if (posicion + bytes > reserva.length) {
    randomFillSync(reserva);
    posicion = 0;
  }
  const texto = reserva.toString('hex', posicion, posicion + bytes);
  posicion += bytes;
  return texto;
}

/** El `X-Correlation-Id` recibido si es válido; si falta o no lo es, uno nuevo. */
export function idCorrelacionDe(cabecera: string | undefined, generar: () => string): string {
  return cabecera !== undefined && ID_CORRELACION.test(cabecera) ? cabecera : generar();
}

export interface ContextoTraza {
  readonly traceId: string;
  readonly parentId: string;
  readonly flags: string;
}

/** Interpreta un `traceparent`; `null` si no está bien formado (W3C §3.2 y §4.3, versiones futuras incluidas). */
export function leerTraceparent(valor: string): ContextoTraza | null {
  const partes = TRACEPARENT.exec(valor);
  if (!partes) return null;
  const [, version, traceId, parentId, flags] = partes as unknown as [string, string, string, string, string];
  if (version === 'ff') return null;
  if (
    version === '00'
      ? valor.length !== LONGITUD_TRACEPARENT_V00
      : valor.length > LONGITUD_TRACEPARENT_V00 && valor[LONGITUD_TRACEPARENT_V00] !== '-'
  ) {
    return null;
  }
  if (traceId === TRACE_ID_NULO || parentId === PARENT_ID_NULO) return null;
  return { traceId, parentId, flags };
}

/**
 * El `traceparent` que esta petición propaga aguas abajo (outbox → broker → consumidor): con la telemetría
 * encendida, el del span servidor de la petición (que ya continúa la traza recibida); apagada, continúa
 * la traza recibida con un tramo (span) propio, o empieza una traza nueva si no llegó una válida.
 */
export function traceparentDe(cabecera: string | undefined): string {
  const activo = traceparentActivo();
  if (activo !== undefined) return activo;
  const recibido = cabecera === undefined ? null : leerTraceparent(cabecera);
  const aleatorio = hexAleatorio(recibido ? 8 : 24);
  if (recibido) return `00-${recibido.traceId}-${aleatorio}-${recibido.flags}`;
  return `00-${aleatorio.slice(0, 32)}-${aleatorio.slice(32)}-01`;
}
