import { primeraClaveRepetida } from './claves-repetidas.js';
import { MENSAJE_NO_ES_OBJETO } from './esquemas.js';

/** Qué cuenta aquí como un cuerpo JSON: el tipo de contenido y los bytes que se aceptan antes del esquema. */

export const LIMITE_CUERPO_BYTES = 64 * 1024;

export type LecturaCuerpo =
  | { readonly ok: true; readonly valor: unknown }
  /** `campo`: `cuerpo` si es el cuerpo entero; la ruta de la clave si está repetida. */
  | { readonly ok: false; readonly campo: string; readonly mensaje: string };

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

/** Por qué no se acepta el cuerpo por sus cabeceras (→ 415), o `undefined` si es JSON sin comprimir. */
export function motivoTipoNoSoportado(tipoContenido: string | undefined, codificacion: string | undefined): string | undefined {
  if (!esTipoJson(tipoContenido)) {
    return tipoContenido === undefined
      ? 'Falta la cabecera Content-Type; envíe application/json.'
      : `Content-Type "${tipoContenido.slice(0, 100)}" no está soportado; envíe application/json (UTF-8).`;
  }
  if (codificacion !== undefined && codificacion.trim().toLowerCase() !== 'identity') {
    return 'No se admite Content-Encoding; envíe el JSON sin comprimir.';
  }
  return undefined;
}

/**
 * Los bytes del cuerpo como un objeto JSON sin ambigüedad: UTF-8 válido, JSON válido, ninguna clave
 * repetida en un mismo objeto (`claves-repetidas.ts`) y un objeto, no un array (valibot aceptaría un
 * array como objeto sin claves; JSON Schema no).
 */
export function interpretarJson(bytes: Uint8Array): LecturaCuerpo {
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
  if (repetida !== undefined) return { ok: false, campo: repetida, mensaje: 'la clave aparece más de una vez en el mismo objeto' };
  if (Array.isArray(valor)) return invalido(MENSAJE_NO_ES_OBJETO);
  return { ok: true, valor };
}

const invalido = (mensaje: string): LecturaCuerpo => ({ ok: false, campo: 'cuerpo', mensaje });
