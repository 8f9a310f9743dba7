/** Generador pseudoaleatorio con semilla (mulberry32): la misma semilla da el mismo plan de carga y de fallos. */
export interface Azar {
  /** Real en [0, 1). */
  readonly real: () => number;
  /** Entero en [min, max]. */
  readonly entero: (min: number, max: number) => number;
  /** Baraja en el sitio (Fisher–Yates) y devuelve el mismo array. */
  readonly barajar: <T>(lista: T[]) => T[];
}

export function crearAzar(semilla: number): Azar {
  let estado = semilla >>> 0;
  const real = () => {
    estado = (estado + 0x6d2b79f5) >>> 0;
    let t = estado;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const entero = (min: number, max: number) => min + Math.floor(real() * (max - min + 1));
  const barajar = <T>(lista: T[]): T[] => {
    for (let i = lista.length - 1; i > 0; i -= 1) {
      const j = entero(0, i);
      [lista[i], lista[j]] = [lista[j] as T, lista[i] as T];
    }
    return lista;
  };
  return { real, entero, barajar };
}
