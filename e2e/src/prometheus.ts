/**
 * Lectura mínima del formato de exposición de Prometheus (texto 0.0.4) para los tests: muestras con sus
 * etiquetas, y la suma de las que cumplen un filtro de etiquetas.
 */

export interface Muestra {
  readonly nombre: string;
  readonly etiquetas: Readonly<Record<string, string>>;
  readonly valor: number;
}

const LINEA = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const ETIQUETA = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function leerMuestras(texto: string): Muestra[] {
  const muestras: Muestra[] = [];
  for (const linea of texto.split('\n')) {
    if (linea === '' || linea.startsWith('#')) continue;
    const m = LINEA.exec(linea);
    if (!m) throw new Error(`Línea de métricas no válida: ${linea}`);
    const etiquetas: Record<string, string> = {};
    for (const [, clave, valor] of (m[2] ?? '').matchAll(ETIQUETA))
      etiquetas[clave!] = valor!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    muestras.push({ nombre: m[1]!, etiquetas, valor: Number(m[3]) });
  }
  return muestras;
}

/** Tipos declarados (`# TYPE nombre tipo`). */
export function tiposDeclarados(texto: string): Map<string, string> {
  const tipos = new Map<string, string>();
  for (const m of texto.matchAll(/^# TYPE (\S+) (\S+)$/gm)) tipos.set(m[1]!, m[2]!);
  return tipos;
}

/** Suma de las muestras de `nombre` cuyas etiquetas incluyen `filtro`; `undefined` si no hay ninguna. */
export function valor(muestras: readonly Muestra[], nombre: string, filtro: Readonly<Record<string, string>> = {}): number | undefined {
  const elegidas = muestras.filter((m) => m.nombre === nombre && Object.entries(filtro).every(([k, v]) => m.etiquetas[k] === v));
  return elegidas.length === 0 ? undefined : elegidas.reduce((n, m) => n + m.valor, 0);
}
