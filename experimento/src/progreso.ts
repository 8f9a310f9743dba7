/**
 * Una línea de progreso con los contadores en vivo: en una terminal se reescribe cuatro veces por
 * segundo; si no (salida a un fichero o a otro proceso), una línea cada 10 s.
 */
export interface Progreso {
  /** Borra la línea en curso (antes de escribir otra cosa). */
  limpiar(): void;
  parar(): void;
}

export function iniciarProgreso(texto: () => string): Progreso {
  const tty = process.stderr.isTTY;
  let ultimaLinea = 0;
  const intervalo = setInterval(() => {
    if (tty) process.stderr.write(`\r\x1b[2K${texto().slice(0, (process.stderr.columns ?? 200) - 1)}`);
    else if (Date.now() - ultimaLinea > 10_000) {
      ultimaLinea = Date.now();
      process.stderr.write(`${texto()}\n`);
    }
  }, 250);
  const limpiar = () => {
    if (tty) process.stderr.write('\r\x1b[2K');
  };
  return {
    limpiar,
    parar: () => {
      clearInterval(intervalo);
      limpiar();
    },
  };
}
