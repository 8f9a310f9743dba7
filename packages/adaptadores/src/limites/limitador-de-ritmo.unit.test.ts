import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crearLimitadorDeRitmo, type LimiteDeRitmo } from './limitador-de-ritmo.js';

/** Un reloj que solo avanza cuando el test lo dice (milisegundos). */
function relojFalso(inicio = 1000) {
  let ms = inicio;
  return { reloj: () => ms, avanzar: (delta: number) => (ms += delta) };
}

const DIEZ_POR_SEGUNDO: LimiteDeRitmo = { rafaga: 10, porSegundo: 10 };

describe('crearLimitadorDeRitmo', () => {
  it('admite la ráfaga entera con la cubeta llena y rechaza la siguiente sin gastar nada', () => {
    const { reloj } = relojFalso();
    const limitador = crearLimitadorDeRitmo({ reloj });
    const restantes = Array.from({ length: 10 }, () => limitador.consumir('a', DIEZ_POR_SEGUNDO));
    expect(restantes.every((d) => d.permitido)).toBe(true);
    expect(restantes.map((d) => d.restantes)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const rechazada = limitador.consumir('a', DIEZ_POR_SEGUNDO);
    expect(rechazada.permitido).toBe(false);
    expect(rechazada.restantes).toBe(0);
    expect(rechazada.segundosHastaSiguiente).toBeCloseTo(0.1, 9);
    expect(rechazada.segundosHastaLlenarse).toBeCloseTo(1, 9);
  });

  it('se recarga al ritmo sostenido con el tiempo transcurrido, sin pasar de la ráfaga', () => {
    const { reloj, avanzar } = relojFalso();
    const limitador = crearLimitadorDeRitmo({ reloj });
    for (let i = 0; i < 10; i++) limitador.consumir('a', DIEZ_POR_SEGUNDO);
    avanzar(99);
    expect(limitador.consumir('a', DIEZ_POR_SEGUNDO).permitido).toBe(false);
    avanzar(1);
    const tras100ms = limitador.consumir('a', DIEZ_POR_SEGUNDO);
    expect(tras100ms.permitido).toBe(true);
    expect(tras100ms.restantes).toBe(0);
    avanzar(60_000);
    expect(limitador.consumir('a', DIEZ_POR_SEGUNDO).restantes).toBe(9);
  });

  it('cada clave tiene su cubeta: agotar la de un socio no toca la de otro', () => {
    const { reloj } = relojFalso();
    const limitador = crearLimitadorDeRitmo({ reloj });
    for (let i = 0; i < 10; i++) limitador.consumir('socio-a', DIEZ_POR_SEGUNDO);
    expect(limitador.consumir('socio-a', DIEZ_POR_SEGUNDO).permitido).toBe(false);
    const otro = limitador.consumir('socio-b', DIEZ_POR_SEGUNDO);
    expect(otro.permitido).toBe(true);
    expect(otro.restantes).toBe(9);
  });

  it('un ritmo fraccionario acumula fichas fraccionarias sin perderlas por redondeo', () => {
    const { reloj, avanzar } = relojFalso();
    const limitador = crearLimitadorDeRitmo({ reloj });
    const lento: LimiteDeRitmo = { rafaga: 1, porSegundo: 0.3 };
    expect(limitador.consumir('a', lento).permitido).toBe(true);
    // 0,3 + 0,3 + 0,3 fichas, sumadas una a una en tres visitas rechazadas…
    for (let i = 0; i < 3; i++) {
      avanzar(1000);
      expect(limitador.consumir('a', lento).permitido).toBe(false);
    }
    // …y 0,1 más: una ficha justa, sin que la coma flotante la deje en 0,999…
    avanzar(1000 / 3);
    expect(limitador.consumir('a', lento).permitido).toBe(true);
  });

  it('el coste: una petición cara gasta varias fichas o se rechaza entera', () => {
    const { reloj } = relojFalso();
    const limitador = crearLimitadorDeRitmo({ reloj });
    expect(limitador.consumir('a', DIEZ_POR_SEGUNDO, 7).restantes).toBe(3);
    const cara = limitador.consumir('a', DIEZ_POR_SEGUNDO, 4);
    expect(cara.permitido).toBe(false);
    expect(cara.restantes).toBe(3);
    expect(cara.segundosHastaSiguiente).toBeCloseTo(0.1, 9);
    expect(limitador.consumir('a', DIEZ_POR_SEGUNDO, 3).permitido).toBe(true);
  });

  it('un límite nuevo rige desde la llamada en que llega; lo anterior se recargó al ritmo anterior', () => {
    const { reloj, avanzar } = relojFalso();
    const limitador = crearLimitadorDeRitmo({ reloj });
    for (let i = 0; i < 10; i++) limitador.consumir('a', DIEZ_POR_SEGUNDO);
    avanzar(500); // +5 fichas al ritmo de 10/s
    const bajado = limitador.consumir('a', { rafaga: 2, porSegundo: 1 });
    expect(bajado.permitido).toBe(true);
    expect(bajado.restantes).toBe(1); // recortado a la ráfaga nueva, menos la gastada
    expect(bajado.limite).toEqual({ rafaga: 2, porSegundo: 1 });
    avanzar(500); // +0,5 al ritmo nuevo
    expect(limitador.consumir('a', { rafaga: 2, porSegundo: 1 }).restantes).toBe(0);
  });

  it('un reloj que retrocede no regala ni quita fichas', () => {
    const { reloj, avanzar } = relojFalso(10_000);
    const limitador = crearLimitadorDeRitmo({ reloj });
    for (let i = 0; i < 10; i++) limitador.consumir('a', DIEZ_POR_SEGUNDO);
    avanzar(-5000);
    expect(limitador.consumir('a', DIEZ_POR_SEGUNDO).permitido).toBe(false);
    avanzar(5000 + 100);
    expect(limitador.consumir('a', DIEZ_POR_SEGUNDO).permitido).toBe(true);
  });

  it('las cubetas llenas no se guardan: la memoria vuelve a cero cuando nadie pide', () => {
    const { reloj, avanzar } = relojFalso();
    const limitador = crearLimitadorDeRitmo({ reloj });
    for (let i = 0; i < 50; i++) limitador.consumir(`socio-${i}`, DIEZ_POR_SEGUNDO);
    expect(limitador.claves).toBe(50);
    avanzar(1000);
    // Cada llamada revisa las más antiguas y expulsa las ya llenas; la propia, llena tras recargarse, tampoco se guarda.
    for (let i = 0; i < 30; i++) limitador.consumir('x', { rafaga: 1_000_000, porSegundo: 1_000_000 });
    expect(limitador.claves).toBeLessThanOrEqual(1);
  });

  it('con maximoClaves alcanzado se expulsa la que lleva más tiempo sin usarse, aunque no esté llena', () => {
    const { reloj } = relojFalso();
    const limitador = crearLimitadorDeRitmo({ reloj, maximoClaves: 3 });
    for (const clave of ['a', 'b', 'c']) for (let i = 0; i < 10; i++) limitador.consumir(clave, DIEZ_POR_SEGUNDO);
    limitador.consumir('a', DIEZ_POR_SEGUNDO); // 'a' pasa a ser la más reciente; 'b' la más antigua
    limitador.consumir('d', DIEZ_POR_SEGUNDO);
    expect(limitador.claves).toBe(3);
    expect(limitador.consumir('a', DIEZ_POR_SEGUNDO).permitido).toBe(false);
    expect(limitador.consumir('c', DIEZ_POR_SEGUNDO).permitido).toBe(false);
    // 'b' se olvidó: vuelve con la cubeta llena.
    expect(limitador.consumir('b', DIEZ_POR_SEGUNDO).restantes).toBe(9);
  });

  it('rechaza límites, costes y máximos que no sirven', () => {
    const limitador = crearLimitadorDeRitmo();
    expect(() => limitador.consumir('a', { rafaga: 0, porSegundo: 1 })).toThrow(RangeError);
    expect(() => limitador.consumir('a', { rafaga: 1.5, porSegundo: 1 })).toThrow(RangeError);
    expect(() => limitador.consumir('a', { rafaga: 1, porSegundo: 0 })).toThrow(RangeError);
    expect(() => limitador.consumir('a', { rafaga: 1, porSegundo: Number.NaN })).toThrow(RangeError);
    expect(() => limitador.consumir('a', DIEZ_POR_SEGUNDO, 0)).toThrow(RangeError);
    expect(() => crearLimitadorDeRitmo({ maximoClaves: 0 })).toThrow(RangeError);
  });

  it('en cualquier secuencia, lo admitido en un intervalo no pasa de la ráfaga más lo recargado (propiedad)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 200 }),
        (rafaga, porSegundo, pausas) => {
          const { reloj, avanzar } = relojFalso();
          const limitador = crearLimitadorDeRitmo({ reloj });
          const limite = { rafaga, porSegundo };
          let admitidas = 0;
          let transcurridoMs = 0;
          for (const pausa of pausas) {
            avanzar(pausa);
            transcurridoMs += pausa;
            const decision = limitador.consumir('a', limite);
            if (decision.permitido) admitidas += 1;
            expect(decision.restantes).toBeGreaterThanOrEqual(0);
            expect(decision.restantes).toBeLessThanOrEqual(rafaga);
            expect(decision.permitido || decision.segundosHastaSiguiente > 0).toBe(true);
          }
          expect(admitidas).toBeLessThanOrEqual(rafaga + Math.floor((transcurridoMs / 1000) * porSegundo + 1e-9));
        },
      ),
    );
  });
});
