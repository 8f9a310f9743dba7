import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CuentaLibro, LibroMayor, asientoEntre, type Apunte, type CausaAsiento, type ClaveLibro, type Saldos } from './libro-mayor.js';
import type { Liquidacion } from './liquidacion.js';

const LIBRO: ClaveLibro = { idSocio: 'socio-1', idAfiliado: 'afiliado-1', moneda: 'USD' };
const CERO = LibroMayor.SALDOS_CERO;
const HECHO: CausaAsiento = { tipo: 'hecho', idSocio: 'socio-1', idEvento: 'evt-1' };

/** Los apuntes como `cuenta lado importe`, fáciles de leer en una aserción. */
function piernas(antes: Partial<Saldos>, despues: Partial<Saldos>, causa: CausaAsiento = HECHO): string[] {
  const asiento = asientoEntre(causa, LIBRO, { ...CERO, ...antes }, { ...CERO, ...despues });
  return asiento ? asiento.apuntes.map((a) => `${a.cuenta} ${a.lado} ${a.unidadesMenores}`) : [];
}

describe('asientoEntre: un asiento por cada hecho que mueve dinero', () => {
  it('comisión registrada (pendiente): el socio compromete el gasto', () => {
    expect(piernas({}, { pendiente: 1_000 })).toEqual(['gasto debe 1000', 'pendiente haber 1000']);
  });

  it('comisión aprobada: de pendiente a aprobado, sin tocar el gasto', () => {
    expect(piernas({ pendiente: 1_000 }, { aprobado: 1_000 })).toEqual(['pendiente debe 1000', 'aprobado haber 1000']);
  });

  it('ajuste antes del pago: solo la diferencia, contra el gasto', () => {
    expect(piernas({ aprobado: 1_000 }, { aprobado: 600 })).toEqual(['gasto haber 400', 'aprobado debe 400']);
  });

  it('reversión antes del pago: lo aprobado vuelve al gasto', () => {
    expect(piernas({ aprobado: 1_000 }, {})).toEqual(['gasto haber 1000', 'aprobado debe 1000']);
  });

  it('liquidación creada: de aprobado a en_liquidacion', () => {
    expect(piernas({ aprobado: 3_000, por_recuperar: 500 }, { en_liquidacion: 3_000, por_recuperar: 500 })).toEqual([
      'aprobado debe 3000',
      'en_liquidacion haber 3000',
    ]);
  });

  it('liquidación pagada: de en_liquidacion a pagado, y lo netado de por_recuperar a recuperado', () => {
    expect(piernas({ en_liquidacion: 3_000, por_recuperar: 500 }, { pagado: 3_000, recuperado: 500 })).toEqual([
      'en_liquidacion debe 3000',
      'pagado haber 3000',
      'por_recuperar haber 500',
      'recuperado debe 500',
    ]);
  });

  it('liquidación anulada: de en_liquidacion a aprobado (o al gasto lo que se revirtió mientras)', () => {
    expect(piernas({ en_liquidacion: 3_000 }, { aprobado: 2_000 })).toEqual([
      'gasto haber 1000',
      'aprobado haber 2000',
      'en_liquidacion debe 3000',
    ]);
  });

  it('reversión después del pago: una recuperación por cobrar, contra el gasto; lo pagado no se toca', () => {
    expect(piernas({ pagado: 1_000 }, { pagado: 1_000, por_recuperar: 1_000 })).toEqual(['gasto haber 1000', 'por_recuperar debe 1000']);
  });

  it('ajuste al alza después del pago: un complemento aprobado, contra el gasto', () => {
    expect(piernas({ pagado: 1_000 }, { pagado: 1_000, aprobado: 500 })).toEqual(['gasto debe 500', 'aprobado haber 500']);
  });

  it('sin cambios no hay asiento', () => {
    expect(asientoEntre(HECHO, LIBRO, { ...CERO, pagado: 5 }, { ...CERO, pagado: 5 })).toBeNull();
  });

  it('los ids salen de la causa y de la pierna: la misma causa da los mismos ids; otra causa, otros', () => {
    const a = asientoEntre(HECHO, LIBRO, CERO, { ...CERO, pendiente: 1 });
    expect(a?.id).toBe('asiento:hecho:socio-1:evt-1');
    expect(a?.apuntes.map((x) => x.id)).toEqual(['apunte:hecho:socio-1:evt-1:gasto', 'apunte:hecho:socio-1:evt-1:pendiente']);
    expect(asientoEntre(HECHO, LIBRO, CERO, { ...CERO, pendiente: 1 })).toEqual(a);
    const pagada = asientoEntre(
      { tipo: 'liquidacion_pagada', idLiquidacion: 'liquidacion:s:a:USD:e' },
      LIBRO,
      { ...CERO, en_liquidacion: 1 },
      { ...CERO, pagado: 1 },
    );
    expect(pagada?.id).toBe('asiento:liquidacion_pagada:liquidacion%3As%3Aa%3AUSD%3Ae');
    expect(LibroMayor.idAsiento(HECHO)).toBe(a?.id);
  });
});

describe('asientoEntre: propiedades', () => {
  const saldos = fc.record({
    pendiente: fc.nat(1_000_000),
    aprobado: fc.nat(1_000_000),
    en_liquidacion: fc.nat(1_000_000),
    pagado: fc.nat(1_000_000),
    por_recuperar: fc.nat(1_000_000),
    recuperado: fc.nat(1_000_000),
  });

  it('siempre cuadra, y sumar sus apuntes a los saldos de antes da los de después (con el gasto = compromiso)', () => {
    fc.assert(
      fc.property(saldos, saldos, (antes, despues) => {
        const asiento = asientoEntre(HECHO, LIBRO, antes, despues);
        if (asiento === null) {
          expect(despues).toEqual(antes);
          return;
        }
        expect(LibroMayor.cuadra(asiento)).toBe(true);
        expect(new Set(asiento.apuntes.map((a) => a.cuenta)).size).toBe(asiento.apuntes.length);
        const [libro] = LibroMayor.saldosPorLibro(asiento.apuntes);
        for (const cuenta of CuentaLibro.todas) {
          const esperado =
            cuenta === 'gasto' ? LibroMayor.compromiso(despues) - LibroMayor.compromiso(antes) : despues[cuenta] - antes[cuenta];
          expect(libro?.saldos[cuenta] ?? 0).toBe(esperado);
        }
      }),
    );
  });
});

describe('LibroMayor.verificar', () => {
  const pagada: Liquidacion = {
    id: 'liq-1',
    idSocio: 'socio-1',
    idAfiliado: 'afiliado-1',
    moneda: 'USD',
    idEjecucion: 'e',
    creadaEn: new Date(0),
    estado: 'PAGADA',
    partidas: [],
    netoUnidadesMenores: 2_500,
  };
  const apuntes = [
    ...(asientoEntre(HECHO, LIBRO, CERO, { ...CERO, aprobado: 3_000, por_recuperar: 500 })?.apuntes ?? []),
    ...(asientoEntre(
      { tipo: 'liquidacion_pagada', idLiquidacion: 'liq-1' },
      LIBRO,
      { ...CERO, aprobado: 3_000, por_recuperar: 500 },
      { ...CERO, pagado: 3_000, recuperado: 500 },
    )?.apuntes ?? []),
  ];

  it('un libro sano: cada asiento cuadra y pagos de liquidaciones pagadas = pagado − recuperado', () => {
    expect(LibroMayor.verificar(apuntes, [pagada])).toEqual([]);
    expect(LibroMayor.saldosPorLibro(apuntes)).toEqual([
      {
        ...LIBRO,
        saldos: { gasto: 2_500, pendiente: 0, aprobado: 0, en_liquidacion: 0, pagado: 3_000, por_recuperar: 0, recuperado: 500 },
      },
    ]);
  });

  it('dado un apunte alterado, entonces AsientoDescuadrado con su id', () => {
    const [primero, ...resto] = apuntes as [Apunte, ...Apunte[]];
    const violaciones = LibroMayor.verificar([{ ...primero, unidadesMenores: primero.unidadesMenores + 1 }, ...resto], [pagada]);
    expect(violaciones).toContainEqual({ tipo: 'AsientoDescuadrado', idAsiento: primero.idAsiento, debe: 3_001, haber: 3_000 });
  });

  it('dada una liquidación pagada de más (o que no está en el libro), entonces PagosDistintosDeLoPagado', () => {
    expect(LibroMayor.verificar(apuntes, [{ ...pagada, netoUnidadesMenores: 3_000 }])).toEqual([
      { tipo: 'PagosDistintosDeLoPagado', libro: LIBRO, pagosLiquidaciones: 3_000, pagadoMenosRecuperado: 2_500 },
    ]);
    expect(LibroMayor.verificar([], [pagada])).toEqual([
      { tipo: 'PagosDistintosDeLoPagado', libro: LIBRO, pagosLiquidaciones: 2_500, pagadoMenosRecuperado: 0 },
    ]);
    expect(LibroMayor.verificar(apuntes, [{ ...pagada, estado: 'ANULADA' }])).toEqual([
      { tipo: 'PagosDistintosDeLoPagado', libro: LIBRO, pagosLiquidaciones: 0, pagadoMenosRecuperado: 2_500 },
    ]);
  });
});
