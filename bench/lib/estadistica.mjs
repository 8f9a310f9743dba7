// Resumen de una fase de los generadores de carga. Los percentiles y la mediana son los del kit de
// pruebas (una sola definición: rango más cercano), los mismos que usa el experimento.
import { mediana, percentiles } from '@aeropartners/kit-pruebas';

export { mediana };

/**
 * Resumen de una fase. `latenciasMs`: las peticiones correctas de la ventana medida; `segundos`: su
 * duración. `totales` abarca toda la vida del proceso (calentamiento incluido), para cuadrar con los
 * contadores de PostgreSQL: `{ peticiones, segundos }`.
 */
export function resumir(latenciasMs, segundos, errores, totales) {
  const [p50 = NaN, p99 = NaN] = percentiles(latenciasMs, [50, 99]);
  const cpu = process.cpuUsage();
  return {
    peticiones: latenciasMs.length,
    errores,
    segundos,
    porSegundo: latenciasMs.length / segundos,
    p50,
    p99,
    peticionesTotales: totales.peticiones,
    duracionTotal: totales.segundos,
    cpuSegundos: (cpu.user + cpu.system) / 1e6,
  };
}
