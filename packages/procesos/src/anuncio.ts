/**
 * El canal por el que un servicio dice en qué puerto escucha: un mensaje IPC de Node
 * (`process.send`) al proceso que lo lanzó, si lo lanzó con canal IPC (el supervisor de `pnpm start`,
 * las pruebas e2e, los benchmarks). Sin canal no se envía nada. Las herramientas no leen el puerto de
 * los registros: el formato de un log es para personas y puede cambiar.
 *
 * Quien escucha en un puerto lo anuncia en cuanto el socket está abierto:
 * `iniciarServidorSalud` (relay y consumidor, su puerto de salud) y la API (su puerto HTTP).
 */
export interface AnuncioEscuchando {
  readonly tipo: 'escuchando';
  /** Nombre del servicio (`aeropartners-pagos-api`, …): informativo. */
  readonly servicio: string;
  readonly puerto: number;
}

export function esAnuncioEscuchando(mensaje: unknown): mensaje is AnuncioEscuchando {
  if (typeof mensaje !== 'object' || mensaje === null) return false;
  const m = mensaje as Record<string, unknown>;
  return (
    m['tipo'] === 'escuchando' &&
    typeof m['servicio'] === 'string' &&
    typeof m['puerto'] === 'number' &&
    Number.isInteger(m['puerto']) &&
    m['puerto'] > 0 &&
    m['puerto'] <= 65_535
  );
}

/**
 * Anuncia el puerto al proceso padre, si hay canal IPC. Un canal ya cerrado (el padre murió) no es
 * un error del servicio: el fallo va al callback y se descarta.
 */
export function anunciarEscuchando(servicio: string, puerto: number): void {
  const anuncio: AnuncioEscuchando = { tipo: 'escuchando', servicio, puerto };
  process.send?.(anuncio, undefined, {}, () => undefined);
}
