/**
 * MurmurHash3 x86 de 32 bits (semilla 0) sobre los bytes UTF-8 de la clave: el `Murmur3_32Hash` de
 * Pulsar. El broker lo usa para repartir las claves de una suscripción Key_Shared entre consumidores
 * y el productor (con `hashingScheme: 'Murmur3_32Hash'`) para elegir la partición de una clave.
 */
export function murmur3_32(texto: string, semilla = 0): number {
  const datos = new TextEncoder().encode(texto);
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const largo = datos.length;
  const bloques = largo & ~3;
  let h = semilla | 0;

  for (let i = 0; i < bloques; i += 4) {
    let k = datos[i]! | (datos[i + 1]! << 8) | (datos[i + 2]! << 16) | (datos[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }

  const resto = largo & 3;
  if (resto > 0) {
    let k = 0;
    if (resto >= 3) k ^= datos[bloques + 2]! << 16;
    if (resto >= 2) k ^= datos[bloques + 1]! << 8;
    k ^= datos[bloques]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }

  h ^= largo;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** El hash de una clave como lo calcula Pulsar (`Murmur3_32Hash.makeHash`): no negativo, 31 bits. */
export function hashClavePulsar(clave: string): number {
  return murmur3_32(clave) & 0x7fffffff;
}
