/**
 * Texto que la API acepta en los campos que guarda o con los que filtra (ver
 * `docs/decisiones/0040-texto-que-la-base-no-puede-guardar.md`): ningún carácter de control (C0 con
 * tabulador y saltos de línea incluidos, DEL, C1) ni sustituto UTF-16 suelto. PostgreSQL no guarda
 * U+0000 ni en `text` ni en `jsonb`, y un sustituto suelto no es Unicode: `pg` lo cambiaría en
 * silencio por U+FFFD al codificar en UTF-8 y `jsonb` lo rechaza. Mejor un 400 que nombra el campo.
 */

/**
 * Sin banderas, porque también es el `pattern` del documento OpenAPI (JSON Schema no admite
 * banderas): un sustituto solo vale seguido de su pareja. Leída con `u` (como hacen los validadores
 * de JSON Schema) dice lo mismo: el par ya es un solo carácter astral.
 */
const CARACTER_GUARDABLE = String.raw`(?:[^\x00-\x1F\x7F-\x9F\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])`;
export const TEXTO_GUARDABLE = new RegExp(`^${CARACTER_GUARDABLE}*$`);
/** Lo mismo y además no en blanco (JSON Schema admite un solo `pattern` por esquema). */
export const TEXTO_GUARDABLE_NO_VACIO = new RegExp(String.raw`^(?=[\s\S]*\S)${CARACTER_GUARDABLE}*$`);

/** Con la bandera `u`, un sustituto suelto es un punto de código de la categoría Cs; Cc es C0, DEL y C1. */
const NO_GUARDABLE = /[\p{Cc}\p{Cs}]/u;

/** El primer carácter que impide guardar `texto`, o `undefined` si no hay ninguno. */
export function caracterNoGuardable(texto: string): string | undefined {
  return NO_GUARDABLE.exec(texto)?.[0];
}

const codigo = (caracter: string) => `U+${(caracter.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** Mensaje de error para un campo con `texto` no guardable (dice qué carácter y en qué posición). */
export function mensajeTextoNoGuardable(texto: unknown): string {
  if (typeof texto !== 'string') return 'debe ser texto';
  const caracter = caracterNoGuardable(texto);
  if (caracter === undefined) return 'no es texto válido';
  const posicion = texto.indexOf(caracter) + 1;
  const unidad = caracter.charCodeAt(0);
  return unidad >= 0xd800 && unidad <= 0xdfff
    ? `contiene un sustituto UTF-16 suelto (${codigo(caracter)}, posición ${posicion}): no es texto Unicode válido`
    : `contiene un carácter de control (${codigo(caracter)}, posición ${posicion}), que no se admite`;
}
