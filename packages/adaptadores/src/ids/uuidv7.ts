import { randomFillSync } from 'node:crypto';

/**
 * UUID versión 7 (RFC 9562 §5.7): 48 bits de milisegundos Unix, versión, variante y bits aleatorios.
 *
 * Monótono dentro del proceso (RFC 9562 §6.2, método 1: contador de longitud fija): los 12 bits de
 * `rand_a` y los 30 bits altos de `rand_b` forman un contador de 42 bits que arranca en un valor
 * aleatorio (con el bit alto a cero, para dejar sitio) en cada milisegundo nuevo y se incrementa en
 * cada id del mismo milisegundo. Si el reloj retrocede, se sigue con la última marca de tiempo; si el
 * contador se desborda, se toma prestado el milisegundo siguiente. Así, el orden de los ids (como
 * texto o como `uuid` de PostgreSQL) es el orden de creación, y los 32 bits finales siguen siendo
 * aleatorios para que no se puedan adivinar.
 */
export function uuidv7(): string {
  const ahora = Date.now();
  if (ahora > ultimoMs) {
    ultimoMs = ahora;
    contador = semillaContador();
  } else {
    contador += 1;
    if (contador > MAXIMO_CONTADOR) {
      ultimoMs += 1;
      contador = semillaContador();
    }
  }
  const ms = ultimoMs;
  const c = contador;
  // 48 bits de milisegundos en big endian, sin operadores de bits (son de 32 bits en JS).
  const msAlto = Math.floor(ms / 2 ** 16); // 32 bits
  const msBajo = ms % 2 ** 16; // 16 bits
  const cAlto = Math.floor(c / 2 ** 30); // 12 bits → rand_a
  const cBajo = c % 2 ** 30; // 30 bits → inicio de rand_b
  const r = aleatorios(4);
  return (
    hex8(msAlto) +
    '-' +
    hex4(msBajo) +
    '-' +
    hex4(0x7000 | cAlto) +
    '-' +
    hex4(0x8000 | (cBajo >>> 16)) +
    '-' +
    hex4(cBajo & 0xffff) +
    HEX[r[0]!]! +
    HEX[r[1]!]! +
    HEX[r[2]!]! +
    HEX[r[3]!]!
  );
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

const FORMA_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAXIMO_CONTADOR = 2 ** 42 - 1;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

let ultimoMs = -1;
let contador = 0;

const reserva = Buffer.alloc(4096);
let posicion = reserva.length;

function aleatorios(n: number): Buffer {
  if (posicion + n > reserva.length) {
    randomFillSync(reserva);
    posicion = 0;
  }
  const trozo = reserva.subarray(posicion, posicion + n);
  posicion += n;
  return trozo;
}

/** 41 bits aleatorios: el bit 42 queda a cero para que quepan muchos incrementos en el mismo ms. */
function semillaContador(): number {
  const b = aleatorios(6);
  return b.readUIntBE(0, 6) % 2 ** 41;
}

function hex4(n: number): string {
  return HEX[(n >>> 8) & 0xff]! + HEX[n & 0xff]!;
}

function hex8(n: number): string {
  return hex4(Math.floor(n / 2 ** 16)) + hex4(n % 2 ** 16);
}
