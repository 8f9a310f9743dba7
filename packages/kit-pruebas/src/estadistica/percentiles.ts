/**
 * Percentiles de latencias y medianas de pasadas: una sola definición para el experimento, los
 * benchmarks y el comprobador (que calcula los suyos en SQL con `percentile_disc`, la misma regla).
 *
 * Percentil `p` por rango más cercano: el menor valor que deja al menos el `p` % de la muestra a su
 * izquierda (inclusive), es decir, el de posición `⌈p/100 · n⌉` (contando desde 1) en la lista ordenada.
 * Siempre es un valor observado; `p = 100` es el máximo.
 */
export function percentiles(valores: readonly number[], ps: readonly number[]): (number | undefined)[] {
  for (const p of ps) {
    if (!(p > 0 && p <= 100)) throw new RangeError(`percentil fuera de (0, 100]: ${p}`);
  }
  if (valores.length === 0) return ps.map(() => undefined);
  // Float64Array ordena numéricamente y sin comparador: rápido con cientos de miles de latencias.
  const ordenados = Float64Array.from(valores).sort();
  return ps.map((p) => ordenados[Math.min(ordenados.length, Math.max(1, Math.ceil((p / 100) * ordenados.length))) - 1]);
}

/** {@link percentiles} de un solo `p`; `undefined` si no hay valores. */
export function percentil(valores: readonly number[], p: number): number | undefined {
  return percentiles(valores, [p])[0];
}

/**
 * Mediana de unas pocas cifras (p. ej. las pasadas de un benchmark): con un número par de valores, la
 * media de los dos centrales, para no favorecer a ninguna pasada. No es para latencias: para esas,
 * {@link percentil} con `p = 50` (siempre un valor observado). `NaN` si no hay valores.
 */
export function mediana(valores: readonly number[]): number {
  if (valores.length === 0) return Number.NaN;
  const v = Float64Array.from(valores).sort();
  const m = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}
