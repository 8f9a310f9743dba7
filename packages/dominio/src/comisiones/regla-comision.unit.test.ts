import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIA, T0, dinero, error, ok, regla } from '../../test/comisiones.js';
import { Dinero } from '../dinero.js';
import { Moneda } from '../moneda.js';
import { ReglaComision, aplicarPorcentaje, calcularComision, crearReglaComision, reglaVigente } from './regla-comision.js';

const MAXIMO = Dinero.MAXIMO_UNIDADES_MENORES;

describe('crearReglaComision', () => {
  it('dado un porcentaje sin más, entonces bloqueo de 30 días, sin tope y sin mínimo', () => {
    const r = regla();
    expect(r).toEqual({
      idSocio: 'socio-1',
      version: 1,
      vigenteDesde: new Date(T0 - 365 * DIA),
      calculo: { tipo: 'porcentaje', puntosBasicos: 1_000 },
      tope: null,
      diasBloqueo: 30,
      minimoLiquidacion: null,
    });
    expect(ReglaComision.DIAS_BLOQUEO_POR_DEFECTO).toBe(30);
    expect(Object.isFrozen(r)).toBe(true);
    expect(ReglaComision.moneda(r)).toBeNull();
  });

  it('dado un fijo con tope y mínimo en su moneda, entonces la regla es de esa moneda', () => {
    const r = regla({
      calculo: { tipo: 'fijo', monto: dinero(500, 'EUR') },
      tope: dinero(400, 'EUR'),
      minimoLiquidacion: dinero(5_000, 'EUR'),
      diasBloqueo: 0,
    });
    expect(ReglaComision.moneda(r)).toBe('EUR');
    expect(r.diasBloqueo).toBe(0);
  });

  it.each([
    [{ calculo: { tipo: 'porcentaje', puntosBasicos: 0 } }, 'porcentaje'],
    [{ calculo: { tipo: 'porcentaje', puntosBasicos: 10_001 } }, 'porcentaje'],
    [{ calculo: { tipo: 'porcentaje', puntosBasicos: 12.5 } }, 'porcentaje'],
    [{ diasBloqueo: -1 }, 'dias_bloqueo'],
    [{ diasBloqueo: 366 }, 'dias_bloqueo'],
    [{ diasBloqueo: 1.5 }, 'dias_bloqueo'],
    [{ version: 0 }, 'version'],
    [{ vigenteDesde: new Date(Number.NaN) }, 'vigente_desde'],
    [{ idSocio: '' }, 'id_socio'],
  ] as const)('dado %j, entonces DatoInvalido en %s', (extra, campo) => {
    const e = error(
      crearReglaComision({
        idSocio: 'socio-1',
        version: 1,
        vigenteDesde: new Date(T0),
        calculo: { tipo: 'porcentaje', puntosBasicos: 100 },
        ...extra,
      }),
    );
    expect(e).toMatchObject({ tipo: 'DatoInvalido', campo });
  });

  it('importes de la regla en monedas distintas: MonedasDistintasEnRegla; un importe no positivo: error de Dinero', () => {
    const base = { idSocio: 's', version: 1, vigenteDesde: new Date(T0) } as const;
    expect(error(crearReglaComision({ ...base, calculo: { tipo: 'fijo', monto: dinero(1, 'USD') }, tope: dinero(1, 'EUR') }))).toEqual({
      tipo: 'MonedasDistintasEnRegla',
      monedas: ['USD', 'EUR'],
    });
    expect(
      error(
        crearReglaComision({ ...base, calculo: { tipo: 'porcentaje', puntosBasicos: 1 }, tope: { unidadesMenores: 0, moneda: 'USD' } }),
      ),
    ).toMatchObject({
      tipo: 'MontoNoPositivo',
    });
  });
});

describe('reglaVigente', () => {
  const v1 = regla({ version: 1, vigenteDesde: new Date(T0) });
  const v2 = regla({ version: 2, vigenteDesde: new Date(T0 + 10 * DIA), calculo: { tipo: 'porcentaje', puntosBasicos: 2_000 } });
  const v3 = regla({ version: 3, vigenteDesde: new Date(T0 + 10 * DIA), calculo: { tipo: 'porcentaje', puntosBasicos: 3_000 } });
  const otro = regla({ idSocio: 'socio-2', version: 9, vigenteDesde: new Date(T0 + DIA) });

  it('rige la de vigenteDesde más reciente no posterior al instante; a igualdad, la versión mayor; la de otro socio no cuenta', () => {
    const reglas = [v3, otro, v1, v2];
    expect(reglaVigente(reglas, 'socio-1', new Date(T0 - 1))).toBeNull();
    expect(reglaVigente(reglas, 'socio-1', new Date(T0))).toBe(v1);
    expect(reglaVigente(reglas, 'socio-1', new Date(T0 + 10 * DIA - 1))).toBe(v1);
    expect(reglaVigente(reglas, 'socio-1', new Date(T0 + 10 * DIA))).toBe(v3);
    expect(reglaVigente(reglas, 'socio-2', new Date(T0 + 10 * DIA))).toBe(otro);
  });
});

describe('calcularComision', () => {
  it.each([
    // [venta, pb, comisión]: 10 % de 150,75 = 15,075 → 15,08 (la mitad sube)
    [15_075, 1_000, 1_508],
    [15_074, 1_000, 1_507],
    [15_070, 1_000, 1_507],
    [5, 1_000, 1], // 0,5 → 1
    [4, 1_000, 0], // 0,4 → 0
    [1, 1, 0],
    [10_000, 1_250, 1_250],
    [MAXIMO, 10_000, MAXIMO],
    [MAXIMO, 1, 10_000_000], // 9 999 999,9999 → 10 000 000
  ])('dada una venta de %i y %i pb, entonces %i unidades menores', (venta, pb, esperado) => {
    expect(ok(calcularComision(dinero(venta), regla({ calculo: { tipo: 'porcentaje', puntosBasicos: pb } })))).toBe(esperado);
  });

  it('un fijo no depende de la venta, y el tope limita tanto al porcentaje como al fijo', () => {
    const fijo = regla({ calculo: { tipo: 'fijo', monto: dinero(700) } });
    expect(ok(calcularComision(dinero(1), fijo))).toBe(700);
    expect(ok(calcularComision(dinero(MAXIMO), fijo))).toBe(700);
    expect(ok(calcularComision(dinero(1), regla({ calculo: { tipo: 'fijo', monto: dinero(700) }, tope: dinero(500) })))).toBe(500);
    expect(ok(calcularComision(dinero(100_000), regla({ tope: dinero(2_500) })))).toBe(2_500);
  });

  it('una regla con importes en otra moneda que la venta: MonedaDeReglaDistinta; sin importes vale para cualquiera', () => {
    expect(error(calcularComision(dinero(100, 'EUR'), regla({ calculo: { tipo: 'fijo', monto: dinero(1, 'USD') } })))).toEqual({
      tipo: 'MonedaDeReglaDistinta',
      monedaRegla: 'USD',
      monedaVenta: 'EUR',
    });
    expect(error(calcularComision(dinero(100, 'COP'), regla({ tope: dinero(1, 'USD') }))).tipo).toBe('MonedaDeReglaDistinta');
    expect(error(calcularComision(dinero(100, 'COP'), regla({ minimoLiquidacion: dinero(1, 'USD') }))).tipo).toBe('MonedaDeReglaDistinta');
    for (const m of Moneda.todas) expect(ok(calcularComision(dinero(100, m), regla()))).toBe(10);
  });
});

describe('calcularComision: propiedades', () => {
  const venta = fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: MAXIMO }));
  const pb = fc.integer({ min: 1, max: 10_000 });
  const tope = fc.option(fc.integer({ min: 1, max: MAXIMO }), { nil: null });
  const reglaPorcentaje = fc
    .tuple(pb, tope)
    .map(([p, t]) => regla({ calculo: { tipo: 'porcentaje', puntosBasicos: p }, tope: t === null ? null : dinero(t) }));

  it('mitad hacia arriba: es el entero más cercano a venta × pb / 10 000 y, en el empate exacto, el mayor', () => {
    fc.assert(
      fc.property(venta, pb, (u, p) => {
        const producto = BigInt(u) * BigInt(p);
        const r = BigInt(aplicarPorcentaje(u, p));
        const diferencia = r * 10_000n - producto; // error × 10 000
        // Mitad hacia arriba: x − ½ < r ≤ x + ½ (el empate exacto, +½, sube).
        expect(diferencia > -5_000n && diferencia <= 5_000n).toBe(true);
      }),
    );
  });

  it('el empate exacto que encontró fast-check (venta × pb termina en 5 000) sube: 90 838 946 625 × 4 840 pb → 43 966 050 167', () => {
    expect((90_838_946_625n * 4_840n) % 10_000n).toBe(5_000n);
    expect(aplicarPorcentaje(90_838_946_625, 4_840)).toBe(43_966_050_167);
  });

  it('exacto cuando es divisible: venta × pb múltiplo de 10 000 da exactamente el cociente', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9_999_999 }), pb, (k, p) => {
        // venta = k × 10 000 / mcd(p, 10 000) hace el producto divisible.
        const mcd = (a: number, b: number): number => (b === 0 ? a : mcd(b, a % b));
        const u = (k * 10_000) / mcd(p, 10_000);
        fc.pre(u <= MAXIMO);
        expect(BigInt(aplicarPorcentaje(u, p))).toBe((BigInt(u) * BigInt(p)) / 10_000n);
        expect((BigInt(u) * BigInt(p)) % 10_000n).toBe(0n);
      }),
    );
  });

  it('nunca negativa, nunca por encima del tope ni de la venta, y monótona en el importe', () => {
    fc.assert(
      fc.property(reglaPorcentaje, venta, venta, (r, a, b) => {
        const ca = ok(calcularComision(dinero(a), r));
        const cb = ok(calcularComision(dinero(b), r));
        for (const [c, u] of [
          [ca, a],
          [cb, b],
        ] as const) {
          expect(Number.isSafeInteger(c)).toBe(true);
          expect(c).toBeGreaterThanOrEqual(0);
          expect(c).toBeLessThanOrEqual(u);
          if (r.tope) expect(c).toBeLessThanOrEqual(r.tope.unidadesMenores);
        }
        if (a <= b) expect(ca).toBeLessThanOrEqual(cb);
      }),
    );
  });

  it('monótona en el porcentaje: más puntos básicos nunca dan menos comisión', () => {
    fc.assert(
      fc.property(venta, pb, pb, (u, p, q) => {
        const [menor, mayor] = p <= q ? [p, q] : [q, p];
        expect(aplicarPorcentaje(u, menor)).toBeLessThanOrEqual(aplicarPorcentaje(u, mayor));
      }),
    );
  });
});
