/**
 * El `sequenceId` de un mensaje de Pulsar es un `number` de JS que el cliente convierte a int64 con
 * `ToNumber()`: una cadena se coacciona en silencio y más allá de 2^53 pierde precisión. `pg` devuelve
 * BIGINT como cadena. Una secuencia que se redondea puede quedar por debajo de la mayor que el broker
 * ya vio, y el broker descarta ese mensaje y lo confirma como éxito: se perdería sin error. Así que
 * cada secuencia se valida antes de enviar nada.
 */
export function normalizarSecuencia(valor: unknown): number {
  if (typeof valor === 'number') {
    if (Number.isSafeInteger(valor) && valor >= 0) return valor;
  } else if (typeof valor === 'string' && /^(0|[1-9][0-9]*)$/.test(valor)) {
    // La cadena decimal de un BIGINT de pg: se acepta solo si cabe exacta en un number.
    const numero = Number(valor);
    if (Number.isSafeInteger(numero)) return numero;
  } else if (typeof valor === 'bigint') {
    if (valor >= 0n && valor <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(valor);
  }
  throw new Error(
    `Secuencia de publicación inválida para Pulsar: ${describir(valor)}. Debe ser un entero entre 0 y ` +
      `${Number.MAX_SAFE_INTEGER} (Number.MAX_SAFE_INTEGER): sequenceId es un number de JS y una ` +
      'secuencia redondeada haría que el broker descartara el mensaje como duplicado.',
  );
}

/** Valida las secuencias de un lote: enteros seguros y estrictamente crecientes en el orden dado. */
export function normalizarSecuenciasDeLote(secuencias: readonly unknown[]): number[] {
  const resultado = secuencias.map(normalizarSecuencia);
  for (let i = 1; i < resultado.length; i++) {
    const anterior = resultado[i - 1]!;
    const actual = resultado[i]!;
    if (actual <= anterior) {
      throw new Error(
        `Secuencias de publicación no crecientes en el lote: ${actual} tras ${anterior}. El broker ` +
          'descartaría en silencio el mensaje cuya secuencia no supera la mayor que ya aceptó.',
      );
    }
  }
  return resultado;
}

function describir(valor: unknown): string {
  if (typeof valor === 'string') return JSON.stringify(valor);
  if (typeof valor === 'bigint') return `${valor}n`;
  return String(valor);
}
