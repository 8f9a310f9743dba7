/**
 * La salida del supervisor: cada línea con el prefijo de quien la escribió (`[supervisor]`, `[api#2]`,
 * `[postgres]`…), en color si es una terminal.
 */
const COLORES: Readonly<Record<string, number>> = { supervisor: 35, postgres: 34, api: 32, outbox: 33, consumer: 36 };

export interface Registro {
  /** Una línea del supervisor. */
  decir(mensaje: string): void;
  /** Un error del supervisor (a stderr). */
  error(mensaje: string): void;
  /** Una línea de otro proceso, con su prefijo. */
  linea(quien: string, linea: string, flujo: 'stdout' | 'stderr'): void;
}

export function crearRegistro(
  colores: boolean,
  salida: NodeJS.WritableStream = process.stdout,
  errores: NodeJS.WritableStream = process.stderr,
): Registro {
  const ancho = 13;
  const prefijo = (quien: string) => {
    const texto = `[${quien}]`.padEnd(ancho);
    const color = COLORES[quien.split('#')[0] ?? ''] ?? 37;
    return colores ? `\x1b[${color}m${texto}\x1b[0m` : texto;
  };
  return {
    decir: (mensaje) => salida.write(`${prefijo('supervisor')} ${mensaje}\n`),
    error: (mensaje) => errores.write(`${prefijo('supervisor')} ${mensaje}\n`),
    linea: (quien, linea, flujo) => (flujo === 'stderr' ? errores : salida).write(`${prefijo(quien)} ${linea}\n`),
  };
}
