import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIA, T0, dinero, error, hecho, ok, regla } from '../../test/comisiones.js';
import { crearPago } from '../pago.js';
import type { AjusteComision } from './ajuste-comision.js';
import { Comision, comisionDe, type ReferenciaLiquidacion } from './comision.js';
import { estadoConversion } from './conversion.js';
import {
  Liquidacion,
  comprobarExclusividad,
  planificarLiquidaciones,
  referenciaEnLiquidaciones,
  registrarDesenlaceLiquidacion,
  type EntradaPlanificacion,
} from './liquidacion.js';
import type { ReglaComision } from './regla-comision.js';

const R = regla({ diasBloqueo: 0 }); // 10 %, sin bloqueo
const AHORA = new Date(T0 + DIA);

/** Una comisión aprobada de `venta` (su comisión es el 10 %). */
function aprobada(
  idConversion: string,
  venta: number,
  opciones: {
    afiliado?: string;
    moneda?: 'USD' | 'EUR';
    socio?: string;
    regla?: ReglaComision;
    liquidacion?: ReferenciaLiquidacion;
    estado?: 'aprobada' | 'creada' | 'revertida';
  } = {},
): Comision {
  const comun = { idConversion, idSocio: opciones.socio ?? 'socio-1' };
  const hechos = [
    hecho('creada', `${idConversion}:c`, {
      ...comun,
      idAfiliado: opciones.afiliado ?? 'afiliado-1',
      monto: dinero(venta, opciones.moneda ?? 'USD'),
      ocurridoEn: new Date(T0),
    }),
  ];
  if ((opciones.estado ?? 'aprobada') !== 'creada') hechos.push(hecho('aprobada', `${idConversion}:a`, comun));
  if (opciones.estado === 'revertida') hechos.push(hecho('revertida', `${idConversion}:r`, comun));
  const r = opciones.regla ?? (comun.idSocio === 'socio-1' ? R : regla({ idSocio: comun.idSocio, diasBloqueo: 0 }));
  return ok(comisionDe(estadoConversion(comun, hechos), r, opciones.liquidacion ?? null));
}

function recuperacion(idConversion: string, unidades: number, afiliado = 'afiliado-1'): AjusteComision {
  return {
    id: `ajuste:${idConversion}`,
    tipo: 'recuperacion',
    idComision: Comision.id('socio-1', idConversion),
    idSocio: 'socio-1',
    idConversion,
    idAfiliado: afiliado,
    moneda: 'USD',
    unidadesMenores: unidades,
    causa: { tipo: 'hecho', idEvento: `${idConversion}:r` },
    liquidacion: null,
  };
}

function plan(extra: Partial<EntradaPlanificacion>) {
  return ok(planificarLiquidaciones({ idEjecucion: 'corte-1', ahora: AHORA, comisiones: [], ajustes: [], reglas: [R], ...extra }));
}

describe('planificarLiquidaciones', () => {
  it('dadas comisiones pagables de un afiliado, entonces una liquidación EN_CURSO con id determinista, sus partidas y el neto', () => {
    const p = plan({ comisiones: [aprobada('b', 20_000), aprobada('a', 10_000)] });
    expect(p.sinLiquidar).toEqual([]);
    expect(p.liquidaciones).toEqual([
      {
        id: 'liquidacion:socio-1:afiliado-1:USD:corte-1',
        idSocio: 'socio-1',
        idAfiliado: 'afiliado-1',
        moneda: 'USD',
        idEjecucion: 'corte-1',
        creadaEn: AHORA,
        estado: 'EN_CURSO',
        partidas: [
          { tipo: 'comision', id: 'comision:socio-1:a', idComision: 'comision:socio-1:a', idConversion: 'a', unidadesMenores: 1_000 },
          { tipo: 'comision', id: 'comision:socio-1:b', idComision: 'comision:socio-1:b', idConversion: 'b', unidadesMenores: 2_000 },
        ],
        netoUnidadesMenores: 3_000,
      },
    ]);
  });

  it('agrupa por (socio, afiliado, moneda): una liquidación por grupo, en orden estable', () => {
    const p = plan({
      comisiones: [
        aprobada('a', 100),
        aprobada('b', 100, { moneda: 'EUR' }),
        aprobada('c', 100, { afiliado: 'afiliado-2' }),
        aprobada('d', 100, { socio: 'socio-2' }),
      ],
    });
    expect(p.liquidaciones.map((l) => l.id)).toEqual([
      'liquidacion:socio-1:afiliado-1:EUR:corte-1',
      'liquidacion:socio-1:afiliado-1:USD:corte-1',
      'liquidacion:socio-1:afiliado-2:USD:corte-1',
      'liquidacion:socio-2:afiliado-1:USD:corte-1',
    ]);
  });

  it('solo entran las pagables: ni pendientes, ni revertidas, ni en otra liquidación, ni bloqueadas', () => {
    const bloqueo = regla({ diasBloqueo: 2 });
    const p = plan({
      comisiones: [
        aprobada('pendiente', 100, { estado: 'creada' }),
        aprobada('revertida', 100, { estado: 'revertida' }),
        aprobada('tomada', 100, { liquidacion: { idLiquidacion: 'otra', estado: 'EN_CURSO', unidadesMenores: 10 } }),
        aprobada('bloqueada', 100, { regla: bloqueo }),
        aprobada('libre', 100),
      ],
    });
    expect(p.liquidaciones.flatMap((l) => l.partidas.map((x) => x.idConversion))).toEqual(['libre']);
  });

  it('las recuperaciones pendientes se netan; si el neto no es positivo no hay liquidación y todo se arrastra', () => {
    const conNeto = plan({
      comisiones: [aprobada('a', 50_000)],
      ajustes: [recuperacion('x', 1_500), { ...recuperacion('y', 700), liquidacion: { idLiquidacion: 'l', estado: 'PAGADA' } }],
    });
    expect(conNeto.liquidaciones[0]?.netoUnidadesMenores).toBe(3_500);
    expect(conNeto.liquidaciones[0]?.partidas.map((x) => [x.tipo, x.unidadesMenores])).toEqual([
      ['comision', 5_000],
      ['recuperacion', 1_500],
    ]);
    const negativo = plan({ comisiones: [aprobada('a', 10_000)], ajustes: [recuperacion('x', 1_500)] });
    expect(negativo.liquidaciones).toEqual([]);
    expect(negativo.sinLiquidar).toEqual([
      {
        idSocio: 'socio-1',
        idAfiliado: 'afiliado-1',
        moneda: 'USD',
        netoUnidadesMenores: -500,
        minimoUnidadesMenores: 0,
        motivo: 'NetoNoPositivo',
      },
    ]);
    expect(plan({ ajustes: [recuperacion('x', 1)] }).sinLiquidar[0]?.motivo).toBe('NetoNoPositivo');
  });

  it('bajo el mínimo de la regla vigente (en su moneda) no hay liquidación; en otra moneda el mínimo no aplica', () => {
    const conMinimo = regla({ version: 2, vigenteDesde: new Date(T0), diasBloqueo: 0, minimoLiquidacion: dinero(2_000) });
    const bajo = plan({ reglas: [R, conMinimo], comisiones: [aprobada('a', 19_990)] });
    expect(bajo.sinLiquidar).toMatchObject([{ motivo: 'BajoMinimo', netoUnidadesMenores: 1_999, minimoUnidadesMenores: 2_000 }]);
    expect(plan({ reglas: [R, conMinimo], comisiones: [aprobada('a', 20_000)] }).liquidaciones).toHaveLength(1);
    expect(plan({ reglas: [R, conMinimo], comisiones: [aprobada('a', 10, { moneda: 'EUR' })] }).liquidaciones).toHaveLength(1);
  });

  it('el mismo idEjecucion con la misma entrada da el mismo plan (ids incluidos); otro corte, otros ids', () => {
    const entrada = { comisiones: [aprobada('a', 100), aprobada('b', 100, { afiliado: 'afiliado-2' })] };
    expect(plan(entrada)).toEqual(plan({ ...entrada, comisiones: [...entrada.comisiones].reverse() }));
    expect(plan({ ...entrada, idEjecucion: 'corte-2' }).liquidaciones[0]?.id).toBe('liquidacion:socio-1:afiliado-1:USD:corte-2');
  });

  it('ids con separadores no chocan: «a:b» + «c» ≠ «a» + «b:c»', () => {
    const x = plan({ comisiones: [aprobada('1', 100, { afiliado: 'a:b', socio: 'socio-1' })], idEjecucion: 'c' }).liquidaciones[0]?.id;
    const y = plan({ comisiones: [aprobada('1', 100, { afiliado: 'a' })], idEjecucion: 'b:c' }).liquidaciones[0]?.id;
    expect(x).toBe('liquidacion:socio-1:a%3Ab:USD:c');
    expect(y).toBe('liquidacion:socio-1:a:USD:b%3Ac');
  });

  it('entrada mala: partida repetida o idEjecucion vacío', () => {
    const a = aprobada('a', 100);
    expect(error(planificarLiquidaciones({ idEjecucion: 'x', ahora: AHORA, comisiones: [a, a], ajustes: [], reglas: [] }))).toEqual({
      tipo: 'PartidaRepetida',
      id: a.id,
    });
    expect(error(planificarLiquidaciones({ idEjecucion: ' ', ahora: AHORA, comisiones: [], ajustes: [], reglas: [] }))).toMatchObject({
      campo: 'id_ejecucion',
    });
  });

  it('propiedad: cada partida elegible está en exactamente una liquidación o su grupo se arrastra; neto = suma; neto > 0 y ≥ mínimo', () => {
    const comisiones = fc.array(
      fc.record({
        afiliado: fc.constantFrom('a1', 'a2', 'a3'),
        venta: fc.integer({ min: 1, max: 100_000 }),
        estado: fc.constantFrom('aprobada' as const, 'creada' as const, 'revertida' as const),
      }),
      { maxLength: 12 },
    );
    const recuperaciones = fc.array(fc.record({ afiliado: fc.constantFrom('a1', 'a2', 'a3'), u: fc.integer({ min: 1, max: 10_000 }) }), {
      maxLength: 5,
    });
    fc.assert(
      fc.property(comisiones, recuperaciones, fc.integer({ min: 0, max: 10_000 }), (cs, rs, minimo) => {
        const reglas = [regla({ diasBloqueo: 0, minimoLiquidacion: minimo > 0 ? dinero(minimo) : null })];
        const vistas = cs.map((c, i) => aprobada(`c${i}`, c.venta, { afiliado: c.afiliado, estado: c.estado, regla: reglas[0] }));
        const ajustes = rs.map((r, i) => recuperacion(`r${i}`, r.u, r.afiliado));
        const p = ok(planificarLiquidaciones({ idEjecucion: 'e', ahora: AHORA, comisiones: vistas, ajustes, reglas }));
        const elegibles = [...vistas.filter((c) => Comision.esPagable(c, AHORA)), ...ajustes];
        const incluidas = p.liquidaciones.flatMap((l) => l.partidas.map((x) => x.id));
        expect(new Set(incluidas).size).toBe(incluidas.length);
        for (const e of elegibles) {
          const arrastrada = p.sinLiquidar.some((g) => g.idAfiliado === e.idAfiliado);
          expect(incluidas.includes(e.id) !== arrastrada).toBe(true);
        }
        for (const l of p.liquidaciones) {
          expect(l.netoUnidadesMenores).toBe(l.partidas.reduce((s, x) => s + Liquidacion.conSigno(x), 0));
          expect(l.netoUnidadesMenores).toBeGreaterThan(0);
          expect(l.netoUnidadesMenores).toBeGreaterThanOrEqual(minimo);
        }
        expect(comprobarExclusividad(p.liquidaciones).ok).toBe(true);
      }),
    );
  });
});

describe('desenlace de una liquidación (dos fases)', () => {
  const liquidacion = plan({ comisiones: [aprobada('a', 10_000)] }).liquidaciones[0] as Liquidacion;

  it('EXITOSO → PAGADA, FALLIDO → ANULADA; reaplicar el mismo no cambia nada; el contrario es DesenlaceEnConflicto', () => {
    const pagada = ok(registrarDesenlaceLiquidacion(liquidacion, 'EXITOSO'));
    expect(pagada.estado).toBe('PAGADA');
    expect(ok(registrarDesenlaceLiquidacion(pagada, 'EXITOSO'))).toBe(pagada);
    expect(error(registrarDesenlaceLiquidacion(pagada, 'FALLIDO'))).toEqual({
      tipo: 'DesenlaceEnConflicto',
      idLiquidacion: liquidacion.id,
      estadoActual: 'PAGADA',
      desenlace: 'FALLIDO',
    });
    const anulada = ok(registrarDesenlaceLiquidacion(liquidacion, 'FALLIDO'));
    expect(anulada.estado).toBe('ANULADA');
    expect(ok(registrarDesenlaceLiquidacion(anulada, 'FALLIDO'))).toBe(anulada);
    expect(error(registrarDesenlaceLiquidacion(anulada, 'EXITOSO')).tipo).toBe('DesenlaceEnConflicto');
  });

  it('su Pago: clave de idempotencia y referencia = id de la liquidación, por el neto; crearPago lo acepta', () => {
    expect(Liquidacion.claveIdempotencia(liquidacion)).toEqual({ idSocio: 'socio-1', clave: liquidacion.id });
    const datos = ok(Liquidacion.datosPago(liquidacion, 'pago-1'));
    expect(datos).toEqual({
      id: 'pago-1',
      idSocio: 'socio-1',
      idAfiliado: 'afiliado-1',
      monto: dinero(1_000),
      referenciaPago: liquidacion.id,
    });
    expect(ok(crearPago(datos, { ahora: AHORA, nuevoId: () => 'evt' })).pago.estado).toBe('PENDIENTE');
  });

  it('una partida en como mucho una liquidación no anulada: la anulada no cuenta', () => {
    const otra = { ...liquidacion, id: 'otra' };
    const idPartida = liquidacion.partidas[0]?.id ?? '';
    expect(error(comprobarExclusividad([liquidacion, otra]))).toEqual({
      tipo: 'PartidaEnVariasLiquidaciones',
      idPartida,
      idsLiquidacion: [liquidacion.id, 'otra'].sort(),
    });
    expect(error(referenciaEnLiquidaciones(idPartida, [liquidacion, otra])).tipo).toBe('PartidaEnVariasLiquidaciones');
    const anulada = ok(registrarDesenlaceLiquidacion(otra, 'FALLIDO'));
    expect(ok(comprobarExclusividad([liquidacion, anulada]))).toBe(true);
    expect(ok(referenciaEnLiquidaciones(idPartida, [anulada, liquidacion]))).toEqual({
      idLiquidacion: liquidacion.id,
      estado: 'EN_CURSO',
      unidadesMenores: 1_000,
    });
    expect(ok(referenciaEnLiquidaciones(idPartida, [anulada]))).toBeNull();
  });
});
