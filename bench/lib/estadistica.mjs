// Percentiles y formato de resultados, compartidos por los generadores de carga del benchmark.
export function resumir(latenciasMs, segundos, errores) {
  const ordenadas = Float64Array.from(latenciasMs).sort();
  const p = (q) => (ordenadas.length ? ordenadas[Math.min(ordenadas.length - 1, Math.floor(q * ordenadas.length))] : NaN);
  return {
    peticiones: ordenadas.length,
    errores,
    segundos,
    porSegundo: ordenadas.length / segundos,
    p50: p(0.5),
    p99: p(0.99),
  };
}
