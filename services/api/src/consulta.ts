import type { ErrorCampo } from './problemas.js';

export type LecturaConsulta =
  | { readonly ok: true; readonly valores: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly errores: readonly ErrorCampo[] };

function decodificar(texto: string): string | undefined {
  try {
    return decodeURIComponent(texto.includes('+') ? texto.replaceAll('+', ' ') : texto);
  } catch {
    return undefined;
  }
}

/**
 * Los parámetros de consulta de `url` que la ruta lee (`nombres`), decodificados. A diferencia de
 * `c.req.query()` de Hono, que se queda con el primero de los repetidos y deja tal cual una
 * codificación por ciento que no es UTF-8 (`%FF`), aquí ambas cosas son un error que nombra el
 * parámetro: la misma ambigüedad que una clave repetida en el JSON. Los demás parámetros se ignoran.
 */
export function leerConsulta(url: string, nombres: ReadonlySet<string>): LecturaConsulta {
  const inicio = url.indexOf('?');
  if (inicio === -1) return { ok: true, valores: {} };
  const fin = url.indexOf('#', inicio);
  const valores: Record<string, string> = {};
  const errores: ErrorCampo[] = [];
  for (const par of url.slice(inicio + 1, fin === -1 ? undefined : fin).split('&')) {
    if (par === '') continue;
    const igual = par.indexOf('=');
    const nombre = decodificar(igual === -1 ? par : par.slice(0, igual));
    if (nombre === undefined || !nombres.has(nombre)) continue;
    if (Object.hasOwn(valores, nombre) || errores.some((e) => e.campo === nombre)) {
      if (!errores.some((e) => e.campo === nombre)) errores.push({ campo: nombre, mensaje: 'se repite; envíe el parámetro una sola vez' });
      continue;
    }
    const valor = igual === -1 ? '' : decodificar(par.slice(igual + 1));
    if (valor === undefined) {
      errores.push({ campo: nombre, mensaje: 'no es texto UTF-8 válido (codificación por ciento incorrecta)' });
      continue;
    }
    valores[nombre] = valor;
  }
  return errores.length > 0 ? { ok: false, errores } : { ok: true, valores };
}
