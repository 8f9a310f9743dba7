import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/** Bytes aleatorios para 256 ids, rellenados de una vez: pedir 16 bytes al sistema por id costaba más que el resto del id. */
const reserva = new Uint8Array(16 * 256);
let posicion = reserva.length;
/** Milisegundo y secuencia del último id, como el estado interno de `v7()` del paquete. */
const estado = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };

/**
 * UUID versión 7 (RFC 9562 §5.7), maquetado por el paquete `uuid` (`v7` con `msecs`, `seq` y `random`).
 * En el mismo milisegundo (o si el reloj retrocede) la secuencia de 32 bits se incrementa en vez de
 * sortearse de nuevo —la misma regla que el estado interno del paquete—, así que el orden de los ids
 * (como texto o como `uuid` de PostgreSQL) es el orden de creación en el proceso. Los bytes aleatorios
 * salen de una reserva que se rellena cada 256 ids. Ver `docs/decisiones/0091-uuidv7-del-paquete-uuid.md`.
 */
export function uuidv7(): string {
  if (posicion === reserva.length) {
    randomFillSync(reserva);
    posicion = 0;
  }
  const random = reserva.subarray(posicion, posicion + 16);
  posicion += 16;
  const ahora = Date.now();
  if (ahora > estado.msecs) {
    estado.msecs = ahora;
    estado.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    estado.seq = (estado.seq + 1) | 0;
    if (estado.seq === 0) estado.msecs += 1;
  }
  return v7({ msecs: estado.msecs, seq: estado.seq, random });
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
