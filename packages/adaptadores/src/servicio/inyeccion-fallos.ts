import type { Logger } from '../observabilidad/logger.js';

/**
 * Inyección de fallos para tests y experimentos, en un solo sitio (las demás viven en sus adaptadores:
 * `duplicarEntregas` del broker embebido, las tasas de la pasarela simulada). Cada gancho no hace nada
 * con su variable a 0.
 */

/**
 * `RELAY_MORIR_TRAS_PUBLICAR=n`: el relay se mata con SIGKILL entre publicar y marcar su lote n-ésimo
 * (la caída que deja filas publicadas sin marcar y obliga a republicarlas con la misma secuencia).
 */
export function morirTrasPublicar(
  loteFatal: number,
  logger: Pick<Logger, 'warn'>,
  matar: () => void = () => process.kill(process.pid, 'SIGKILL'),
): ((filas: readonly unknown[], lote: number) => void) | undefined {
  if (loteFatal <= 0) return undefined;
  return (filas, lote) => {
    if (lote < loteFatal) return;
    logger.warn({ lote, filas: filas.length }, 'inyección de fallos: SIGKILL entre publicar y marcar');
    matar();
  };
}
