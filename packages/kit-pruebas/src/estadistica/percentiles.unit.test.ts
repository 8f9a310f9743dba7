import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mediana, percentil, percentiles } from './percentiles.js';

describe('percentil (rango más cercano)', () => {
  it('de 1…100 desordenados, el percentil p es p; el 100 es el máximo', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentil(v, 50)).toBe(50);
    expect(percentil(v, 99)).toBe(99);
    expect(percentil(v, 100)).toBe(100);
    expect(percentil(v, 0.5)).toBe(1);
  });

  it('con pocos valores redondea el rango hacia arriba: p50 de cuatro es el segundo, p99 el último', () => {
    expect(percentiles([40, 10, 30, 20], [50, 75, 99])).toEqual([20, 30, 40]);
    expect(percentil([7], 1)).toBe(7);
  });

  it('sin valores no hay percentil; un p fuera de (0, 100] es un error', () => {
    expect(percentil([], 50)).toBeUndefined();
    expect(percentiles([], [50, 99])).toEqual([undefined, undefined]);
    expect(() => percentil([1], 0)).toThrow(RangeError);
    expect(() => percentil([1], 101)).toThrow(/fuera de/);
    expect(() => percentil([1], Number.NaN)).toThrow(RangeError);
  });

  it('propiedad: es un valor de la muestra, deja al menos el p % a su izquierda y menos del p % estrictamente por debajo', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 100 }),
        (v, p) => {
          const x = percentil(v, p)!;
          expect(v).toContain(x);
          expect(v.filter((y) => y <= x).length).toBeGreaterThanOrEqual((p / 100) * v.length);
          expect(v.filter((y) => y < x).length).toBeLessThan((p / 100) * v.length);
        },
      ),
    );
  });

  it('no reordena la lista que recibe', () => {
    const v = [3, 1, 2];
    percentiles(v, [50]);
    expect(v).toEqual([3, 1, 2]);
  });
});

describe('mediana', () => {
  it('impar: el central; par: la media de los dos centrales; vacía: NaN', () => {
    expect(mediana([3, 1, 2])).toBe(2);
    expect(mediana([4, 1, 3, 2])).toBe(2.5);
    expect(mediana([])).toBeNaN();
  });
});
