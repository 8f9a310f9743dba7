import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copia, dinero, en, entregaDesordenada, error, hechosDe, ok, planConversion } from '../../test/comisiones.js';
import { HechoConversion, compararHechos, validarHechoConversion, type DatosHechoConversion } from './hecho-conversion.js';

const base = {
  idEvento: 'evt-1',
  idSocio: 'socio-1',
  idConversion: 'conv-1',
  ocurridoEn: en(0),
} as const;

describe('validarHechoConversion', () => {
  it('dada una creada completa, cuando se valida, entonces devuelve el hecho con versión y motivo nulos y congelado', () => {
    const h = ok(validarHechoConversion({ tipo: 'creada', ...base, idAfiliado: 'afiliado-1', monto: dinero(15_075) }));
    expect(h).toEqual({ tipo: 'creada', ...base, idAfiliado: 'afiliado-1', monto: dinero(15_075), version: null, motivo: null });
    expect(Object.isFrozen(h)).toBe(true);
  });

  it('dada una ajustada con versión y motivo, entonces conserva ambos y el afiliado puede faltar', () => {
    const h = ok(validarHechoConversion({ tipo: 'ajustada', ...base, monto: dinero(900), version: 3, motivo: 'descuento' }));
    expect(h).toMatchObject({ tipo: 'ajustada', version: 3, motivo: 'descuento', idAfiliado: null, monto: dinero(900) });
  });

  it.each(['aprobada', 'revertida'] as const)('dada una %s sin monto, entonces es válida', (tipo) => {
    expect(ok(validarHechoConversion({ tipo, ...base, version: 0 }))).toMatchObject({ tipo, version: 0, idAfiliado: null });
  });

  it.each([
    [
      { tipo: 'creada', ...base, monto: dinero(1) },
      { tipo: 'CampoObligatorio', campo: 'id_afiliado', tipoHecho: 'creada' },
    ],
    [
      { tipo: 'creada', ...base, idAfiliado: 'a' },
      { tipo: 'CampoObligatorio', campo: 'monto', tipoHecho: 'creada' },
    ],
    [
      { tipo: 'ajustada', ...base },
      { tipo: 'CampoObligatorio', campo: 'monto', tipoHecho: 'ajustada' },
    ],
    [
      { tipo: 'aprobada', ...base, monto: dinero(1) },
      { tipo: 'CampoNoAdmitido', campo: 'monto', tipoHecho: 'aprobada' },
    ],
    [
      { tipo: 'revertida', ...base, monto: dinero(1) },
      { tipo: 'CampoNoAdmitido', campo: 'monto', tipoHecho: 'revertida' },
    ],
    [
      { tipo: 'conversion.creada', ...base },
      { tipo: 'TipoDeHechoDesconocido', valor: 'conversion.creada' },
    ],
    [
      { tipo: 'aprobada', ...base, idEvento: ' ' },
      { tipo: 'DatoInvalido', campo: 'id_evento', motivo: 'no puede estar vacío' },
    ],
    [
      { tipo: 'aprobada', ...base, idSocio: '' },
      { tipo: 'DatoInvalido', campo: 'id_socio', motivo: 'no puede estar vacío' },
    ],
    [
      { tipo: 'aprobada', ...base, idConversion: 'x'.repeat(256) },
      { tipo: 'DatoInvalido', campo: 'id_conversion', motivo: 'admite como máximo 255 caracteres' },
    ],
    [
      { tipo: 'aprobada', ...base, idConversion: 'a\u0000b' },
      { tipo: 'DatoInvalido', campo: 'id_conversion', motivo: 'no admite caracteres de control' },
    ],
    [
      { tipo: 'aprobada', ...base, idAfiliado: 'a\tb' },
      { tipo: 'DatoInvalido', campo: 'id_afiliado', motivo: 'no admite caracteres de control' },
    ],
    [
      { tipo: 'aprobada', ...base, idEvento: 'a\uD800' },
      { tipo: 'DatoInvalido', campo: 'id_evento', motivo: 'contiene un sustituto UTF-16 suelto' },
    ],
    [
      { tipo: 'aprobada', ...base, ocurridoEn: new Date(Number.NaN) },
      { tipo: 'DatoInvalido', campo: 'ocurrido_en', motivo: 'debe ser una fecha válida' },
    ],
    [
      { tipo: 'aprobada', ...base, version: -1 },
      { tipo: 'DatoInvalido', campo: 'version', motivo: 'debe ser un entero mayor o igual que 0' },
    ],
    [
      { tipo: 'aprobada', ...base, version: 1.5 },
      { tipo: 'DatoInvalido', campo: 'version', motivo: 'debe ser un entero mayor o igual que 0' },
    ],
    [
      { tipo: 'aprobada', ...base, version: Number.NaN },
      { tipo: 'DatoInvalido', campo: 'version', motivo: 'debe ser un entero mayor o igual que 0' },
    ],
    [
      { tipo: 'aprobada', ...base, motivo: 'x'.repeat(1_001) },
      { tipo: 'DatoInvalido', campo: 'motivo', motivo: 'admite como máximo 1000 caracteres' },
    ],
    [
      { tipo: 'aprobada', ...base, motivo: 'a\u001bb' },
      { tipo: 'DatoInvalido', campo: 'motivo', motivo: 'no admite caracteres de control' },
    ],
    [
      { tipo: 'ajustada', ...base, monto: { unidadesMenores: 0, moneda: 'USD' } },
      { tipo: 'MontoNoPositivo', valor: '0' },
    ],
    [
      { tipo: 'ajustada', ...base, monto: { unidadesMenores: 1, moneda: 'GBP' as 'USD' } },
      { tipo: 'MonedaNoSoportada', moneda: 'GBP' },
    ],
  ] satisfies [DatosHechoConversion, unknown][])('dado %j, entonces el error es %j', (datos, esperado) => {
    expect(error(validarHechoConversion(datos))).toEqual(esperado);
  });

  it('un motivo admite tabulador y saltos de línea (es texto libre, no un identificador)', () => {
    expect(ok(validarHechoConversion({ tipo: 'revertida', ...base, motivo: 'línea 1\n\tlínea 2\r\n' })).motivo).toBe(
      'línea 1\n\tlínea 2\r\n',
    );
  });

  it('validar un hecho ya validado lo devuelve igual (la forma guardada es una entrada válida)', () => {
    fc.assert(
      fc.property(planConversion(), (plan) => {
        for (const h of hechosDe(plan)) expect(ok(validarHechoConversion(h))).toEqual(h);
      }),
    );
  });
});

describe('compararHechos', () => {
  it('es un orden total que no depende del orden de llegada: ordenar cualquier entrega da la misma lista', () => {
    fc.assert(
      fc.property(
        planConversion().chain((plan) => fc.tuple(fc.constant(hechosDe(plan)), entregaDesordenada(hechosDe(plan)))),
        ([hechos, entrega]) => {
          const ordenados = [...entrega].sort(compararHechos);
          expect([...entrega].reverse().sort(compararHechos)).toEqual(ordenados);
          // Sin las copias, el orden es el de los hechos distintos ordenados.
          const distintos = ordenados.filter((h, i) => i === 0 || compararHechos(ordenados[i - 1] as HechoConversion, h) !== 0);
          expect(distintos).toEqual([...hechos].sort(compararHechos));
          for (let i = 1; i < ordenados.length; i++) {
            const a = ordenados[i - 1] as HechoConversion;
            const b = ordenados[i] as HechoConversion;
            expect(compararHechos(a, b)).toBeLessThanOrEqual(0);
            expect(Math.sign(compararHechos(b, a)) + Math.sign(compararHechos(a, b))).toBe(0);
          }
        },
      ),
    );
  });

  it('dos hechos son iguales si y solo si coinciden campo a campo; una copia es igual', () => {
    const h = ok(validarHechoConversion({ tipo: 'ajustada', ...base, monto: dinero(10), version: 2, motivo: 'x' }));
    expect(HechoConversion.iguales(h, copia(h))).toBe(true);
    for (const distinto of [
      { ...h, monto: dinero(11) },
      { ...h, monto: dinero(10, 'EUR') },
      { ...h, version: 3 },
      { ...h, version: null },
      { ...h, motivo: null },
      { ...h, idAfiliado: 'otro' },
      { ...h, ocurridoEn: en(1) },
      { ...h, idConversion: 'conv-2' },
    ]) {
      expect(HechoConversion.iguales(h, distinto)).toBe(false);
    }
  });
});
