import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { PREFIJO_CLAVE, modoDeClave, type Modo } from '@aeropartners/dominio';

/**
 * La forma de las claves de API (decisión 0120).
 *
 * Una clave es `ap_live_` (o `ap_test_`) seguido de 56 caracteres base64url: 42 bytes aleatorios. Los 12
 * primeros caracteres (9 bytes) son su parte pública: junto con el prefijo del modo forman el `prefijo`
 * con el que se la busca y se la nombra (`ap_live_3kT9aQ…`); los 33 bytes restantes son el secreto. Solo se
 * guarda el SHA-256 de la clave entera: con tanta entropía, un hash lento no añade nada (no hay
 * diccionario que probar) y uno rápido no encarece cada petición.
 */

const BYTES_CLAVE = 42;
const LARGO_PUBLICO = 12;
const FORMA_CLAVE = /^ap_(?:live|test)_[A-Za-z0-9_-]{56}$/;

export interface ClaveGenerada {
  readonly claveEnClaro: string;
  readonly prefijo: string;
  readonly hash: Buffer;
  readonly modo: Modo;
}

export function generarClave(modo: Modo): ClaveGenerada {
  const claveEnClaro = `${PREFIJO_CLAVE[modo]}${randomBytes(BYTES_CLAVE).toString('base64url')}`;
  return { claveEnClaro, prefijo: prefijoDe(claveEnClaro) as string, hash: hashDeClave(claveEnClaro), modo };
}

/** El prefijo público de algo con forma de clave de API; `null` si no la tiene (nada que buscar). */
export function prefijoDe(clave: string): string | null {
  const modo = modoDeClave(clave);
  if (modo === null || !FORMA_CLAVE.test(clave)) return null;
  return clave.slice(0, PREFIJO_CLAVE[modo].length + LARGO_PUBLICO);
}

export function hashDeClave(clave: string): Buffer {
  return createHash('sha256').update(clave, 'utf8').digest();
}

/** Compara dos hashes en tiempo constante (los dos son SHA-256: siempre 32 bytes). */
export function mismoHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
