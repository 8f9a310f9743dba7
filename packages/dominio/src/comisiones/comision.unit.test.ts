import { describe, expect, it } from 'vitest';
import { DIA, T0, dinero, en, error, hecho, ok, regla } from '../../test/comisiones.js';
import { AjusteComision, regularizarComision, type CausaAjuste } from './ajuste-comision.js';
import { Comision, comisionDe, reglaParaComision, type ReferenciaLiquidacion } from './comision.js';
import { estadoConversion } from './conversion.js';
import type { HechoConversion } from './hecho-conversion.js';

const CLAVE = { idSocio: 'socio-1', idConversion: 'conv-1' };
const R = regla({ diasBloqueo: 10 }); // 10 %
const creada = hecho('creada', 'c', { monto: dinero(10_000), ocurridoEn: new Date(T0) });
const aprobada = hecho('aprobada', 'a', { ocurridoEn: en(5) });
const revertida = hecho('revertida', 'r', { ocurridoEn: en(10) });

function comision(hechos: HechoConversion[], liquidacion: ReferenciaLiquidacion | null = null): Comision {
  return ok(comisionDe(estadoConversion(CLAVE, hechos), R, liquidacion));
}

const enCurso: ReferenciaLiquidacion = { idLiquidacion: 'liq-1', estado: 'EN_CURSO', unidadesMenores: 1_000 };
const pagada: ReferenciaLiquidacion = { ...enCurso, estado: 'PAGADA' };

describe('comisionDe', () => {
  it('dada una conversión creada, entonces su comisión PENDIENTE con id determinista, la regla y el fin del bloqueo', () => {
    expect(comision([creada])).toEqual({
      id: 'comision:socio-1:conv-1',
      idSocio: 'socio-1',
      idConversion: 'conv-1',
      idAfiliado: 'afiliado-1',
      moneda: 'USD',
      regla: R,
      estadoConversion: 'PENDIENTE',
      unidadesMenores: 1_000,
      estado: 'PENDIENTE',
      pagableDesde: new Date(T0 + 10 * DIA),
      liquidacion: null,
    });
  });

  it('el estado sale de la conversión y de la liquidación', () => {
    expect(comision([creada, aprobada]).estado).toBe('APROBADA');
    expect(comision([creada, aprobada], enCurso).estado).toBe('EN_LIQUIDACION');
    expect(comision([creada, aprobada], pagada).estado).toBe('PAGADA');
    expect(comision([creada, revertida]).estado).toBe('REVERTIDA');
    // En curso manda (el dinero puede estar moviéndose); pagada y revertida después es REVERTIDA (se recupera).
    expect(comision([creada, aprobada, revertida], enCurso).estado).toBe('EN_LIQUIDACION');
    expect(comision([creada, aprobada, revertida], pagada).estado).toBe('REVERTIDA');
  });

  it('el importe sigue a la venta vigente, también revertida; lo debido de una revertida es 0', () => {
    const ajustada = hecho('ajustada', 'x', { monto: dinero(5_000), version: 2 });
    expect(comision([creada, ajustada]).unidadesMenores).toBe(500);
    const rev = comision([creada, revertida]);
    expect([rev.unidadesMenores, Comision.debida(rev)]).toEqual([1_000, 0]);
    expect(Comision.debida(comision([creada, aprobada]))).toBe(1_000);
  });

  it('errores como valores: sin creada, bloqueada, regla de otro socio, moneda de la regla, liquidación incoherente', () => {
    expect(error(comisionDe(estadoConversion(CLAVE, [aprobada]), R))).toEqual({ tipo: 'ConversionSinCrear', idConversion: 'conv-1' });
    const bloqueada = estadoConversion(CLAVE, [creada, hecho('creada', 'c2', { idAfiliado: 'otro' })]);
    expect(error(comisionDe(bloqueada, R))).toMatchObject({ tipo: 'ConversionBloqueada', conflictos: bloqueada.conflictos });
    expect(error(comisionDe(estadoConversion(CLAVE, [creada]), regla({ idSocio: 'socio-2' })))).toEqual({
      tipo: 'ReglaDeOtroSocio',
      idSocio: 'socio-1',
      idSocioRegla: 'socio-2',
    });
    expect(error(comisionDe(estadoConversion(CLAVE, [creada]), regla({ tope: dinero(1, 'EUR') }))).tipo).toBe('MonedaDeReglaDistinta');
    expect(error(comisionDe(estadoConversion(CLAVE, [creada]), R, enCurso)).tipo).toBe('LiquidacionIncoherente');
    expect(error(comisionDe(estadoConversion(CLAVE, [creada, aprobada]), R, { ...enCurso, unidadesMenores: -1 })).tipo).toBe(
      'LiquidacionIncoherente',
    );
  });

  it('pagable: aprobada, sin liquidación y con el bloqueo cumplido (el límite incluido)', () => {
    const c = comision([creada, aprobada]);
    expect(Comision.esPagable(c, new Date(T0 + 10 * DIA - 1))).toBe(false);
    expect(Comision.esPagable(c, new Date(T0 + 10 * DIA))).toBe(true);
    expect(Comision.esPagable(comision([creada]), new Date(T0 + 99 * DIA))).toBe(false);
    expect(Comision.esPagable(comision([creada, aprobada, revertida]), new Date(T0 + 99 * DIA))).toBe(false);
    expect(Comision.esPagable(comision([creada, aprobada], enCurso), new Date(T0 + 99 * DIA))).toBe(false);
  });

  it('la regla: la instantánea si existe; si no, la vigente en la creación', () => {
    const v1 = regla({ version: 1, vigenteDesde: new Date(T0 - DIA) });
    const v2 = regla({ version: 2, vigenteDesde: new Date(T0 + 1) });
    const conversion = estadoConversion(CLAVE, [creada]);
    expect(reglaParaComision(conversion, null, [v1, v2])).toBe(v1);
    expect(reglaParaComision(conversion, v2, [v1])).toBe(v2);
    expect(reglaParaComision(estadoConversion(CLAVE, [aprobada]), null, [v1])).toBeNull();
  });
});

describe('regularizarComision (comisión sellada)', () => {
  const porHecho = (idEvento: string): CausaAjuste => ({ tipo: 'hecho', idEvento });
  const pagadaA1000 = [creada, aprobada];

  it('no sellada (no pagada): no hay ajuste, el importe simplemente cambia', () => {
    expect(ok(regularizarComision(comision([creada, aprobada, revertida], enCurso), [], porHecho('r')))).toBeNull();
    expect(ok(regularizarComision(comision([creada, aprobada, revertida]), [], porHecho('r')))).toBeNull();
  });

  it('reversión tras el pago: recuperación de todo lo pagado, con id derivado de la causa', () => {
    const ajuste = ok(regularizarComision(comision([...pagadaA1000, revertida], pagada), [], porHecho('r')));
    expect(ajuste).toEqual({
      id: 'ajuste:comision%3Asocio-1%3Aconv-1:hecho:r',
      tipo: 'recuperacion',
      idComision: 'comision:socio-1:conv-1',
      idSocio: 'socio-1',
      idConversion: 'conv-1',
      idAfiliado: 'afiliado-1',
      moneda: 'USD',
      unidadesMenores: 1_000,
      causa: porHecho('r'),
      liquidacion: null,
    });
  });

  it('ajuste a la baja tras el pago: recuperación por la diferencia; al alza: complemento', () => {
    const baja = hecho('ajustada', 'b', { monto: dinero(4_000), version: 5 });
    expect(ok(regularizarComision(comision([...pagadaA1000, baja], pagada), [], porHecho('b')))).toMatchObject({
      tipo: 'recuperacion',
      unidadesMenores: 600,
    });
    const alza = hecho('ajustada', 'z', { monto: dinero(25_000), version: 5 });
    expect(ok(regularizarComision(comision([...pagadaA1000, alza], pagada), [], porHecho('z')))).toMatchObject({
      tipo: 'complemento',
      unidadesMenores: 1_500,
    });
  });

  it('los ajustes ya hechos cuentan: baja y luego reversión suman exactamente lo pagado', () => {
    const baja = hecho('ajustada', 'b', { monto: dinero(4_000), version: 5 });
    const primero = ok(regularizarComision(comision([...pagadaA1000, baja], pagada), [], porHecho('b')));
    if (!primero) throw new Error('se esperaba un ajuste');
    const segundo = ok(regularizarComision(comision([...pagadaA1000, baja, revertida], pagada), [primero], porHecho('r')));
    expect(segundo).toMatchObject({ tipo: 'recuperacion', unidadesMenores: 400 });
    expect(AjusteComision.conSigno(primero) + AjusteComision.conSigno(segundo as AjusteComision)).toBe(-1_000);
  });

  it('la misma causa otra vez no crea un segundo ajuste; sin diferencia, tampoco', () => {
    const c = comision([...pagadaA1000, revertida], pagada);
    const ajuste = ok(regularizarComision(c, [], porHecho('r')));
    expect(ok(regularizarComision(c, ajuste ? [ajuste] : [], porHecho('r')))).toBeNull();
    expect(ok(regularizarComision(comision(pagadaA1000, pagada), [], porHecho('a')))).toBeNull();
  });

  it('un ajuste de otra comisión es un error', () => {
    const c = comision([...pagadaA1000, revertida], pagada);
    const ajeno = { ...(ok(regularizarComision(c, [], porHecho('r'))) as AjusteComision), idComision: 'comision:socio-1:conv-9' };
    expect(error(regularizarComision(c, [ajeno], porHecho('x'))).tipo).toBe('AjusteDeOtraComision');
  });
});
