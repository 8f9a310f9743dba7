import type { HonoRequest } from 'hono';
import { primeraClaveRepetida } from './claves-repetidas.js';

/** Lectura acotada del cuerpo JSON de una petición, sin trabajo de más en el camino feliz. */

export const LIMITE_CUERPO_BYTES = 64 * 1024;

export type LecturaCuerpo =
  | { readonly tipo: 'ok'; readonly valor: unknown }
  | { readonly tipo: 'tipo-no-soportado'; readonly detalle: string }
  | { readonly tipo: 'demasiado-grande' }
  /** `campo`: `cuerpo` si es el cuerpo entero; la ruta de la clave si está repetida. */
  | { readonly tipo: 'invalido'; readonly campo: string; readonly mensaje: string };

const decodificador = new TextDecoder('utf-8', { fatal: true });

/** `application/json`, con `charset=utf-8` opcional (RFC 8259 §8.1: JSON se intercambia en UTF-8). */
export function esTipoJson(tipoContenido: string | undefined): boolean {
  if (tipoContenido === undefined) return false;
  const [medio = '', ...parametros] = tipoContenido.split(';');
  if (medio.trim().toLowerCase() !== 'application/json') return false;
  for (const parametro of parametros) {
    const [nombre = '', valor = ''] = parametro.split('=');
    if (nombre.trim().toLowerCase() === 'charset' && valor.trim().replace(/^"|"$/g, '').toLowerCase() !== 'utf-8') {
      return false;
    }
  }
  return true;
}

async function leerConTope(req: HonoRequest, limite: number): Promise<Uint8Array | null> {
  const largo = req.header('content-length');
  if (largo !== undefined && req.header('transfer-encoding') === undefined) {
    // El servidor HTTP de Node garantiza que el cuerpo mide exactamente Content-Length.
    if (Number(largo) > limite) return null;
    const bytes = new Uint8Array(await req.arrayBuffer());
    return bytes.byteLength > limite ? null : bytes;
  }
  // Sin Content-Length (chunked): se lee por trozos y se corta al pasar el límite.
  const cuerpo = req.raw.body;
  if (!cuerpo) return new Uint8Array(0);
  const lector = cuerpo.getReader();
  const trozos: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await lector.read();
    if (done) break;
    total += value.byteLength;
    if (total > limite) {
      await lector.cancel();
      return null;
    }
    trozos.push(value);
  }
  if (trozos.length === 1 && trozos[0]) return trozos[0];
  const todo = new Uint8Array(total);
  let posicion = 0;
  for (const trozo of trozos) {
    todo.set(trozo, posicion);
    posicion += trozo.byteLength;
  }
  return todo;
}

export async function leerCuerpoJson(req: HonoRequest, limite = LIMITE_CUERPO_BYTES): Promise<LecturaCuerpo> {
  const tipoContenido = req.header('content-type');
  if (!esTipoJson(tipoContenido)) {
    return {
      tipo: 'tipo-no-soportado',
      detalle:
        tipoContenido === undefined
          ? 'Falta la cabecera Content-Type; envíe application/json.'
          : `Content-Type "${tipoContenido.slice(0, 100)}" no está soportado; envíe application/json (UTF-8).`,
    };
  }
  const codificacion = req.header('content-encoding');
  if (codificacion !== undefined && codificacion.trim().toLowerCase() !== 'identity') {
    return { tipo: 'tipo-no-soportado', detalle: 'No se admite Content-Encoding; envíe el JSON sin comprimir.' };
  }
  const bytes = await leerConTope(req, limite);
  if (bytes === null) return { tipo: 'demasiado-grande' };
  if (bytes.byteLength === 0) return invalido('el cuerpo está vacío; se esperaba un objeto JSON');
  let textoJson: string;
  try {
    textoJson = decodificador.decode(bytes);
  } catch {
    return invalido('el cuerpo no es UTF-8 válido');
  }
  let valor: unknown;
  try {
    valor = JSON.parse(textoJson);
  } catch {
    return invalido('el cuerpo no es JSON válido');
  }
  const repetida = primeraClaveRepetida(textoJson);
  if (repetida !== undefined) return { tipo: 'invalido', campo: repetida, mensaje: 'la clave aparece más de una vez en el mismo objeto' };
  return { tipo: 'ok', valor };
}

const invalido = (mensaje: string): LecturaCuerpo => ({ tipo: 'invalido', campo: 'cuerpo', mensaje });
