import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BARRIDO_POR_DEFECTO, evaluarAtasco, validarUmbrales, type VistaPagoAtascable } from './atascos.js';

const U = { PENDIENTE: 60_000, PROCESANDO: 120_000 };
const AHORA = new Date('2026-03-01T12:00:00.000Z');
const hace = (ms: number) => new Date(AHORA.getTime() - ms);

function vista(parcial: Partial<VistaPagoAtascable>): VistaPagoAtascable {
  return {
    idPago: 'p-1',
    estado: 'PROCESANDO',
    desde: hace(10 * 60_000),
    turnoHasta: null,
    evento: { publicadoEn: hace(10 * 60_000), reimpulsos: 0 },
    ...parcial,
  };
}

describe('evaluarAtasco', () => {
  it('en el umbral justo ya está atascado; un milisegundo antes, no (cada estado con el suyo)', () => {
    expect(evaluarAtasco(vista({ estado: 'PENDIENTE', desde: hace(60_000) }), AHORA, U)).toMatchObject({ atascado: true, edadMs: 60_000 });
    expect(evaluarAtasco(vista({ estado: 'PENDIENTE', desde: hace(59_999) }), AHORA, U)).toEqual({ atascado: false });
    expect(evaluarAtasco(vista({ estado: 'PROCESANDO', desde: hace(119_999) }), AHORA, U)).toEqual({ atascado: false });
    expect(evaluarAtasco(vista({ estado: 'PROCESANDO', desde: hace(120_000) }), AHORA, U)).toMatchObject({ atascado: true });
  });

  it('un turno de cobro vigente significa que alguien lo procesa: no está atascado; vencido (o justo ahora), sí', () => {
    expect(evaluarAtasco(vista({ turnoHasta: new Date(AHORA.getTime() + 1) }), AHORA, U)).toEqual({ atascado: false });
    expect(evaluarAtasco(vista({ turnoHasta: AHORA }), AHORA, U)).toMatchObject({ atascado: true, reimpulsable: true });
    expect(evaluarAtasco(vista({ turnoHasta: hace(1) }), AHORA, U)).toMatchObject({ atascado: true, reimpulsable: true });
  });

  it('los estados finales nunca están atascados', () => {
    for (const estado of ['EXITOSO', 'FALLIDO'] as const) {
      expect(evaluarAtasco(vista({ estado, desde: hace(1e9) }), AHORA, U)).toEqual({ atascado: false });
    }
  });

  it('se re-impulsa solo si su PagoPendiente se publicó hace al menos el umbral; si no, dice por qué', () => {
    expect(evaluarAtasco(vista({ evento: null }), AHORA, U)).toMatchObject({ reimpulsable: false, motivo: 'sinEvento' });
    expect(evaluarAtasco(vista({ evento: { publicadoEn: null, reimpulsos: 1 } }), AHORA, U)).toMatchObject({
      reimpulsable: false,
      motivo: 'eventoSinPublicar',
    });
    expect(evaluarAtasco(vista({ evento: { publicadoEn: hace(119_999), reimpulsos: 1 } }), AHORA, U)).toMatchObject({
      reimpulsable: false,
      motivo: 'publicadoHacePoco',
    });
    expect(evaluarAtasco(vista({ evento: { publicadoEn: hace(120_000), reimpulsos: 1 } }), AHORA, U)).toMatchObject({ reimpulsable: true });
  });

  it('propiedad: con el tiempo, lo atascado sigue atascado y lo re-impulsable sigue re-impulsable (nada cambia solo hacia atrás)', () => {
    const fecha = fc.integer({ min: -1_000_000, max: 1_000_000 }).map((ms) => new Date(AHORA.getTime() + ms));
    fc.assert(
      fc.property(
        fc.constantFrom('PENDIENTE' as const, 'PROCESANDO' as const, 'EXITOSO' as const),
        fecha,
        fc.option(fecha),
        fc.oneof(fc.constant('ninguno' as const), fc.constant('sinPublicar' as const), fecha),
        fc.integer({ min: 0, max: 2_000_000 }),
        (estado, desde, turnoHasta, publicado, avance) => {
          const v = vista({
            estado,
            desde,
            turnoHasta,
            evento: publicado === 'ninguno' ? null : { publicadoEn: publicado === 'sinPublicar' ? null : publicado, reimpulsos: 0 },
          });
          const antes = evaluarAtasco(v, AHORA, U);
          const despues = evaluarAtasco(v, new Date(AHORA.getTime() + avance), U);
          if (antes.atascado) expect(despues.atascado).toBe(true);
          if (antes.atascado && antes.reimpulsable) expect(despues).toMatchObject({ atascado: true, reimpulsable: true });
        },
      ),
    );
  });
});

describe('umbrales', () => {
  it('los valores por defecto son válidos, y PROCESANDO espera más con Stripe que con la simulada', () => {
    expect(validarUmbrales(BARRIDO_POR_DEFECTO.simulada.umbrales)).toBe(BARRIDO_POR_DEFECTO.simulada.umbrales);
    expect(validarUmbrales(BARRIDO_POR_DEFECTO.stripe.umbrales)).toBe(BARRIDO_POR_DEFECTO.stripe.umbrales);
    expect(BARRIDO_POR_DEFECTO.stripe.umbrales.PROCESANDO).toBeGreaterThan(BARRIDO_POR_DEFECTO.simulada.umbrales.PROCESANDO);
  });

  it('un umbral que no es un entero positivo de ms se rechaza nombrando el estado', () => {
    expect(() => validarUmbrales({ PENDIENTE: 0, PROCESANDO: 1 })).toThrow(/PENDIENTE: 0 ms/);
    expect(() => validarUmbrales({ PENDIENTE: 1, PROCESANDO: 1.5 })).toThrow(/PROCESANDO/);
    expect(() => validarUmbrales({ PENDIENTE: 1, PROCESANDO: Number.NaN })).toThrow(RangeError);
  });
});
