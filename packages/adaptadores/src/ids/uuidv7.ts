import { v7 } from 'uuid';

/**
 * UUID versión 7 (RFC 9562 §5.7) del paquete `uuid`, con su estado interno: en el mismo milisegundo
 * (o si el reloj retrocede) incrementa un contador de 32 bits sembrado al azar en vez de sortear de
 * nuevo, así que el orden de los ids (como texto o como `uuid` de PostgreSQL) es el orden de creación
 * en el proceso. El test de este fichero lo comprueba: ver `docs/decisiones/0091-uuidv7-del-paquete-uuid.md`.
 */
export function uuidv7(): string {
  return v7();
}

/** ¿Tiene `valor` la forma canónica de un UUID (cualquier versión, en minúsculas o mayúsculas)? */
export function esUuid(valor: unknown): valor is string {
  return typeof valor === 'string' && FORMA_UUID.test(valor);
}

/** Milisegundos Unix de un UUIDv7 (útil para depurar y para los tests). */
export function instanteDeUuidv7(id: string): Date {
  if (!esUuid(id) || id[14] !== '7') throw new TypeError(`No es un UUIDv7: ${id}`);
  return new Date(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16));
}

// La forma, sin exigir versión ni variante (`validate` de `uuid` sí las exige): como `v.uuid()` de valibot.
const FORMA_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
