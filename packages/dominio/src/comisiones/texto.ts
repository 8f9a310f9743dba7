/** Utilidades internas del módulo de comisiones: validación de textos, ids compuestos y orden estable. */

/** Un dato que no cumple su formato: nombra el campo (con el nombre de la API) y dice por qué. */
export type DatoInvalido = { readonly tipo: 'DatoInvalido'; readonly campo: string; readonly motivo: string };

const LONGITUD_MAXIMA_ID = 255;

// Caracteres de control Unicode (categoría Cc) y sustitutos UTF-16 sueltos: PostgreSQL no guarda
// U+0000 ni un sustituto suelto, y un control en un identificador es un error del emisor.
const CONTROL = /\p{Cc}/u;
const SUSTITUTO_SUELTO = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL_SALVO_ESPACIOS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

export function datoInvalido(campo: string, motivo: string): DatoInvalido {
  return { tipo: 'DatoInvalido', campo, motivo };
}

/** Un identificador: texto no vacío, de 255 unidades como mucho, sin controles ni sustitutos sueltos. */
export function validarIdentificador(campo: string, valor: unknown): DatoInvalido | null {
  if (typeof valor !== 'string') return datoInvalido(campo, 'debe ser un texto');
  if (valor.trim().length === 0) return datoInvalido(campo, 'no puede estar vacío');
  if (valor.length > LONGITUD_MAXIMA_ID) return datoInvalido(campo, `admite como máximo ${LONGITUD_MAXIMA_ID} caracteres`);
  if (CONTROL.test(valor)) return datoInvalido(campo, 'no admite caracteres de control');
  if (SUSTITUTO_SUELTO.test(valor)) return datoInvalido(campo, 'contiene un sustituto UTF-16 suelto');
  return null;
}

/** Texto libre (un motivo): admite tabulador y saltos de línea, no el resto de controles. */
export function validarTextoLibre(campo: string, valor: unknown, maximo: number): DatoInvalido | null {
  if (typeof valor !== 'string') return datoInvalido(campo, 'debe ser un texto');
  if (valor.length > maximo) return datoInvalido(campo, `admite como máximo ${maximo} caracteres`);
  if (CONTROL_SALVO_ESPACIOS.test(valor)) return datoInvalido(campo, 'no admite caracteres de control');
  if (SUSTITUTO_SUELTO.test(valor)) return datoInvalido(campo, 'contiene un sustituto UTF-16 suelto');
  return null;
}

export function fechaValida(valor: unknown): valor is Date {
  return valor instanceof Date && !Number.isNaN(valor.getTime());
}

function escapar(parte: string): string {
  return parte.replaceAll('%', '%25').replaceAll(':', '%3A');
}

/**
 * Id compuesto y legible: las partes separadas por `:`, con `%` y `:` escapados dentro de cada parte.
 * Es inyectivo (partes distintas dan ids distintos) sin hashing, así que no necesita `node:crypto`.
 */
export function componerId(...partes: readonly string[]): string {
  return partes.map(escapar).join(':');
}

/** Orden por unidades de código UTF-16: el mismo en cualquier entorno (no depende del locale). */
export function compararTexto(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compararNumero(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Suma de enteros que falla (devuelve `null`) si el total deja de ser un entero seguro. */
export function sumaSegura(valores: Iterable<number>): number | null {
  let total = 0;
  for (const v of valores) {
    total += v;
    if (!Number.isSafeInteger(total)) return null;
  }
  return total;
}
