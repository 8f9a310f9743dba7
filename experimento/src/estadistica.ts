import { percentiles } from '@aeropartners/kit-pruebas';

export interface Cubeta {
  /** Segundo (desde el inicio del experimento) en que empieza la cubeta. */
  readonly segundo: number;
  readonly respuestas: number;
  readonly p50: number | undefined;
  readonly p95: number | undefined;
  readonly p99: number | undefined;
}

/**
 * Agrupa muestras `(instante en ms desde el inicio, latencia en ms)` en cubetas de `anchoS` segundos:
 * respuestas por segundo y percentiles de latencia de cada cubeta, sin huecos.
 */
export function cubetas(muestras: readonly (readonly [number, number])[], anchoS: number): Cubeta[] {
  const grupos = new Map<number, number[]>();
  let ultima = -1;
  for (const [instante, latencia] of muestras) {
    const k = Math.floor(instante / 1000 / anchoS);
    ultima = Math.max(ultima, k);
    const g = grupos.get(k);
    if (g) g.push(latencia);
    else grupos.set(k, [latencia]);
  }
  const salida: Cubeta[] = [];
  for (let k = 0; k <= ultima; k += 1) {
    const g = grupos.get(k) ?? [];
    const [p50, p95, p99] = percentiles(g, [50, 95, 99]);
    salida.push({ segundo: k * anchoS, respuestas: g.length / anchoS, p50, p95, p99 });
  }
  return salida;
}

/**
 * Suma de un contador que vuelve a 0 cuando el proceso muere y el supervisor lo relanza, con varias
 * instancias muestreadas a la vez. Cada muestra lleva la «vida» (el pid) del proceso que la dio: dentro
 * de una vida el contador solo crece, así que cuenta su mayor valor; las vidas se suman. Lo que una vida
 * contó tras su última muestra se pierde: el total es una cota inferior.
 */
export function acumularContador(muestras: readonly { readonly vida: number; readonly valor: number }[]): number {
  const porVida = new Map<number, number>();
  for (const m of muestras) porVida.set(m.vida, Math.max(porVida.get(m.vida) ?? 0, m.valor));
  let total = 0;
  for (const v of porVida.values()) total += v;
  return total;
}
