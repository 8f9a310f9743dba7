/**
 * Disponibilidad de un proceso (`/health/ready`): todas sus dependencias responden. Cada comprobación
 * lleva su propio tope (`comprobarSalud` de la persistencia y de los brokers: 2 s).
 */

/** `true` si todas las comprobaciones dan `true` (se hacen a la vez; un fallo o un rechazo da `false`). */
export function disponibleSi(...comprobaciones: readonly (() => Promise<boolean>)[]): () => Promise<boolean> {
  return async () => (await Promise.all(comprobaciones.map((c) => c().catch(() => false)))).every(Boolean);
}

/**
 * La comprobación de un broker: `comprobarSalud()` del broker embebido (una consulta a su esquema) o de
 * Pulsar (consumidores conectados). Un broker sin ella se da por disponible.
 */
export function saludDelBroker(broker: object): () => Promise<boolean> {
  const conSalud = broker as { comprobarSalud?: () => Promise<boolean> };
  return typeof conSalud.comprobarSalud === 'function' ? () => conSalud.comprobarSalud!() : async () => true;
}
