import { describe, expect, it } from 'vitest';
import { acumularContador, cubetas } from '../src/estadistica.js';

describe('estadística', () => {
  it('cubetas por segundo, sin huecos', () => {
    const c = cubetas(
      [
        [100, 5],
        [900, 7],
        [2500, 9],
      ],
      1,
    );
    expect(c.map((x) => [x.segundo, x.respuestas, x.p50])).toEqual([
      [0, 2, 5],
      [1, 0, undefined],
      [2, 1, 9],
    ]);
  });

  it('acumula un contador a través de las vidas de un proceso relanzado (cota inferior)', () => {
    const muestras = [
      { vida: 10, valor: 0 },
      { vida: 10, valor: 5 },
      { vida: 10, valor: 8 },
      // matado: la vida 11 empieza de cero (y ya contó 3 antes de la primera muestra)
      { vida: 11, valor: 3 },
      { vida: 11, valor: 10 },
      // una vida nueva que en su primera muestra ya supera a la anterior también se suma entera
      { vida: 12, valor: 12 },
    ];
    expect(acumularContador(muestras)).toBe(8 + 10 + 12);
  });

  it('con varias instancias muestreadas a la vez (vidas entrelazadas), cada vida cuenta una vez', () => {
    const muestras = [
      { vida: 1, valor: 2 },
      { vida: 2, valor: 7 },
      { vida: 1, valor: 4 },
      { vida: 2, valor: 9 },
      { vida: 3, valor: 1 },
      { vida: 1, valor: 6 },
    ];
    expect(acumularContador(muestras)).toBe(6 + 9 + 1);
  });
});
