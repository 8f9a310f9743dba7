// Percentiles y formato de resultados, compartidos por los generadores de carga del benchmark.

/**
 * Resumen de una fase. `latenciasMs`: las peticiones correctas de la ventana medida; `segundos`: su
 * duración. `totales` abarca toda la vida del proceso (calentamiento incluido), para cuadrar con los
 * contadores de PostgreSQL: `{ peticiones, segundos }`.
 */
export function resumir(latenciasMs, segundos, errores, totales) {
  const ordenadas = Float64Array.from(latenciasMs).sort();
  const p = (q) => (ordenadas.length ? ordenadas[Math.min(ordenadas.length - 1, Math.floor(q * ordenadas.length))] : NaN);
  const cpu = process.cpuUsage();
  return {
    peticiones: ordenadas.length,
    errores,
    segundos,
    porSegundo: ordenadas.length / segundos,
    p50: p(0.5),
    p99: p(0.99),
    peticionesTotales: totales.peticiones,
    duracionTotal: totales.segundos,
    cpuSegundos: (cpu.user + cpu.system) / 1e6,
  };
}

export function mediana(valores) {
  const v = [...valores].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
