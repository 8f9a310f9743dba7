import type { EntornoOperacion } from './entorno-operacion.js';

/**
 * Para los tests de las órdenes de operación: un entorno contra `url` que guarda lo que la orden escribe
 * (salida y errores) en vez de imprimirlo.
 */
export function entornoDePrueba(
  url: string,
  argumentos: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): { readonly entorno: EntornoOperacion; readonly salida: string[]; readonly errores: string[] } {
  const salida: string[] = [];
  const errores: string[] = [];
  const entorno: EntornoOperacion = {
    argumentos,
    env: { DATABASE_URL: url, ...env },
    directorio: '/nada',
    escribir: (l) => salida.push(l),
    escribirError: (l) => errores.push(l),
  };
  return { entorno, salida, errores };
}
