import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { primeraClaveRepetida } from './claves-repetidas.js';

type Valor = null | boolean | number | string | Valor[] | { [clave: string]: Valor };

const segmento = (s: string | number) => (s === '' ? '""' : String(s));

/** Rutas de todos los objetos con al menos una clave dentro de `valor`. */
function objetosConClaves(valor: unknown, ruta: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(valor)) return valor.flatMap((v, i) => objetosConClaves(v, [...ruta, i]));
  if (valor !== null && typeof valor === 'object') {
    const propias = Object.entries(valor);
    return [...(propias.length > 0 ? [ruta] : []), ...propias.flatMap(([k, v]) => objetosConClaves(v, [...ruta, k]))];
  }
  return [];
}

/** `JSON.stringify`, salvo que en el objeto de la ruta `objetivo` repite su primera clave al final. */
function escribirConRepetida(valor: unknown, objetivo: string, ruta: (string | number)[] = [], escapar = false): string {
  if (Array.isArray(valor)) return `[${valor.map((v, i) => escribirConRepetida(v, objetivo, [...ruta, i], escapar)).join(',')}]`;
  if (valor !== null && typeof valor === 'object') {
    const propias = Object.entries(valor);
    const partes = propias.map(([k, v]) => `${JSON.stringify(k)}:${escribirConRepetida(v, objetivo, [...ruta, k], escapar)}`);
    if (JSON.stringify(ruta) === objetivo && propias[0]) {
      const [primera] = propias[0];
      // La misma clave escrita con escapes \uXXXX: sigue siendo la misma clave.
      const escrita = escapar
        ? `"${[...primera].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`
        : JSON.stringify(primera);
      partes.push(`${escrita}:null`);
    }
    return `{${partes.join(',')}}`;
  }
  return JSON.stringify(valor);
}

describe('primeraClaveRepetida', () => {
  it('cualquier JSON escrito por JSON.stringify (sin repetidas por construcción), con o sin sangría: ninguna', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2, '\t'), (valor, sangria) => {
        expect(primeraClaveRepetida(JSON.stringify(valor, null, sangria))).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('una clave repetida en cualquier objeto, a cualquier profundidad: la encuentra y da su ruta', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), fc.boolean(), (valor, eleccion, escapar) => {
        const objetos = objetosConClaves(valor);
        fc.pre(objetos.length > 0);
        const ruta = objetos[eleccion % objetos.length] as (string | number)[];
        const texto = escribirConRepetida(valor, JSON.stringify(ruta), [], escapar);
        expect(() => JSON.parse(texto) as unknown).not.toThrow();
        const dentro = ruta.reduce<unknown>((v, s) => (v as Record<string, unknown>)[s], valor) as Record<string, Valor>;
        const primera = Object.keys(dentro)[0] as string;
        expect(primeraClaveRepetida(texto)).toBe([...ruta, primera].map(segmento).join('.'));
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['{"a":1,"a":2}', 'a'],
    ['{"a":{"b":1},"c":[{"d":1},{"d":2,"d":3}]}', 'c.1.d'],
    ['{"":1,"":2}', '""'],
    ['{"a\\"b":1,"a\\u0022b":2}', 'a"b'],
    ['{"x":"\\"a\\":1,\\"a\\":2"}', undefined],
    ['{"a":[1,2,{"a":1}],"b":{"a":{"a":1}}}', undefined],
    ['[{"k":1},{"k":2}]', undefined],
    ['"{\\"a\\":1,\\"a\\":1}"', undefined],
    ['{"A":1,"a":2}', undefined],
  ])('%s → %s', (texto, esperado) => {
    expect(primeraClaveRepetida(texto)).toBe(esperado);
  });
});
