import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EstadoPago } from './estado-pago.js';

const FINALES: readonly EstadoPago[] = ['EXITOSO', 'FALLIDO'];
const PERMITIDAS: ReadonlySet<string> = new Set(['PENDIENTE→PROCESANDO', 'PROCESANDO→EXITOSO', 'PROCESANDO→FALLIDO']);

const estado = fc.constantFrom(...EstadoPago.todos);

describe('EstadoPago', () => {
  it('dados los cuatro estados, entonces todos está congelado y en el orden del ciclo de vida', () => {
    expect(EstadoPago.todos).toEqual(['PENDIENTE', 'PROCESANDO', 'EXITOSO', 'FALLIDO']);
    expect(Object.isFrozen(EstadoPago.todos)).toBe(true);
  });

  it.each(EstadoPago.todos.flatMap((desde) => EstadoPago.todos.map((hacia) => [desde, hacia] as const)))(
    'dado %s, cuando se pregunta si puede pasar a %s, entonces responde según PENDIENTE → PROCESANDO → EXITOSO | FALLIDO',
    (desde, hacia) => {
      expect(EstadoPago.puedePasar(desde, hacia)).toBe(PERMITIDAS.has(`${desde}→${hacia}`));
    },
  );

  it.each(EstadoPago.todos)('dado %s, entonces esFinal solo es cierto para EXITOSO y FALLIDO', (e) => {
    expect(EstadoPago.esFinal(e)).toBe(FINALES.includes(e));
  });

  it.each(['PENDIENTE', 'PROCESANDO', 'EXITOSO', 'FALLIDO'])('dado %j, entonces esEstado lo reconoce', (valor) => {
    expect(EstadoPago.esEstado(valor)).toBe(true);
  });

  it.each(['pendiente', 'EXITO', '', 'toString', '__proto__', 'constructor', 'hasOwnProperty', null, undefined, 0, {}])(
    'dado %j, entonces esEstado lo rechaza',
    (valor) => {
      expect(EstadoPago.esEstado(valor)).toBe(false);
    },
  );
});

describe('EstadoPago: propiedades', () => {
  it('un estado final no puede pasar a ningún estado, y ningún estado pasa a sí mismo', () => {
    fc.assert(
      fc.property(estado, estado, (desde, hacia) => {
        if (EstadoPago.esFinal(desde)) expect(EstadoPago.puedePasar(desde, hacia)).toBe(false);
        if (desde === hacia) expect(EstadoPago.puedePasar(desde, hacia)).toBe(false);
      }),
    );
  });

  it('nada vuelve a PENDIENTE y todo camino permitido acaba en un estado final en a lo sumo dos pasos', () => {
    fc.assert(
      fc.property(fc.array(estado, { maxLength: 10 }), (destinos) => {
        // Sigue solo los pasos permitidos de una secuencia arbitraria de destinos.
        let actual: EstadoPago = 'PENDIENTE';
        let pasos = 0;
        for (const hacia of destinos) {
          if (!EstadoPago.puedePasar(actual, hacia)) continue;
          expect(hacia).not.toBe('PENDIENTE');
          actual = hacia;
          pasos += 1;
        }
        expect(pasos).toBeLessThanOrEqual(2);
        if (pasos === 2) expect(EstadoPago.esFinal(actual)).toBe(true);
      }),
    );
  });

  it('esEstado acepta exactamente los cuatro estados', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), estado), (valor) => {
        expect(EstadoPago.esEstado(valor)).toBe((EstadoPago.todos as readonly string[]).includes(valor));
      }),
    );
  });
});
