import { LibroMayor, type Apunte, type CausaAsiento, type Saldos } from '@aeropartners/dominio';
import { describe, expect, it } from 'vitest';
import {
  reglaDeSocio,
  type ConversionPlaneada,
  type CuerpoHecho,
  type HechoPlaneado,
  type PlanConversiones,
} from '../src/conversiones-plan.js';
import {
  juzgarConversiones,
  type CodigoReglaConversiones,
  type DatosConversiones,
  type EntradaConversiones,
  type FilaComision,
  type LecturaConversion,
  type ObservacionHecho,
  type ObservacionesHechos,
} from '../src/veredicto-conversiones.js';

/**
 * Un mundo pequeño y correcto hecho a mano (un socio con 10 %, cinco conversiones, tres liquidaciones —una
 * anulada por un pago FALLIDO— y una recuperación tras el pago), que el veredicto aprueba; cada test le
 * planta una violación y ve fallar su regla nombrando al culpable.
 */

const S = 'socio-a';
const L0 = 'liq-0';
const L1 = 'liq-1';
const L2 = 'liq-2';
const T = (k: number) => new Date(Date.UTC(2026, 11, 5, 10, 0, 0, k)).toISOString();

const hecho = (
  conv: string,
  k: number,
  cuerpo: Omit<CuerpoHecho, 'id_evento' | 'id_conversion' | 'ocurrido_en'>,
  trasPago = false,
): HechoPlaneado => ({
  socio: 1,
  cuerpo: { id_evento: `${conv}-${k}`, id_conversion: conv, ocurrido_en: T(k), ...cuerpo },
  copias: 2,
  simultaneas: k % 2 === 0,
  tardia: k === 0,
  trasPago,
});
const creada = (conv: string, monto: number): HechoPlaneado =>
  hecho(conv, 0, { tipo: 'conversion.creada', id_afiliado: 'af-1', monto, moneda: 'USD', version: 1 });
const aprobada = (conv: string) => hecho(conv, 4, { tipo: 'conversion.aprobada' });
const revertida = (conv: string, trasPago = false) => hecho(conv, 5, { tipo: 'conversion.revertida', motivo: 'devolución' }, trasPago);

function planDeEjemplo(): PlanConversiones {
  const conv = (id: string, desenlace: ConversionPlaneada['desenlace'], hechos: HechoPlaneado[]): ConversionPlaneada => ({
    socio: 1,
    idConversion: id,
    idAfiliado: 'af-1',
    moneda: 'USD',
    desenlace,
    hechos,
  });
  const conversiones = [
    conv('c1', 'aprobada', [aprobada('c1'), creada('c1', 100)]),
    conv('c2', 'revertida', [revertida('c2'), creada('c2', 50)]),
    conv('c3', 'revertida-tras-pago', [creada('c3', 80), aprobada('c3'), revertida('c3', true)]),
    // El ajuste (versión 2) llega antes que la creación: el importe es el de la versión mayor.
    conv('c4', 'aprobada', [
      hecho('c4', 1, { tipo: 'conversion.ajustada', monto: 300, moneda: 'USD', version: 2 }),
      creada('c4', 200),
      aprobada('c4'),
    ]),
    conv('c5', 'pendiente', [creada('c5', 30)]),
  ];
  const todos = conversiones.flatMap((c) => c.hechos);
  return {
    reglas: [reglaDeSocio(1)],
    conversiones,
    envios: todos.filter((h) => !h.trasPago),
    trasPago: todos.filter((h) => h.trasPago),
    hechos: todos.length,
    peticiones: todos.length * 2,
    duplicadas: todos.length,
    tardias: todos.filter((h) => h.tardia).length,
  };
}

function observacionesDe(plan: PlanConversiones): ObservacionesHechos {
  const m = new Map<string, ObservacionHecho>();
  for (const c of plan.conversiones)
    for (const h of c.hechos)
      m.set(h.cuerpo.id_evento, {
        estados: [202, 202],
        idsConversion: new Set([c.idConversion]),
        replays: 1,
        ...(h.tardia ? { tardia: { estado: 202, replay: true } } : {}),
      });
  return new Map([[S, m]]);
}

function libro(): Apunte[] {
  const cero = LibroMayor.SALDOS_CERO;
  const pasos: [CausaAsiento, Partial<Saldos>][] = [
    [
      { tipo: 'hecho', idSocio: S, idEvento: 'c1-4' },
      { pendiente: 300, aprobado: 4800 },
    ],
    [
      { tipo: 'liquidacion_creada', idLiquidacion: L0 },
      { pendiente: 300, aprobado: 3800, en_liquidacion: 1000 },
    ],
    [
      { tipo: 'liquidacion_anulada', idLiquidacion: L0 },
      { pendiente: 300, aprobado: 4800 },
    ],
    [
      { tipo: 'liquidacion_creada', idLiquidacion: L1 },
      { pendiente: 300, aprobado: 3000, en_liquidacion: 1800 },
    ],
    [
      { tipo: 'liquidacion_pagada', idLiquidacion: L1 },
      { pendiente: 300, aprobado: 3000, pagado: 1800 },
    ],
    [
      { tipo: 'hecho', idSocio: S, idEvento: 'c3-5' },
      { pendiente: 300, aprobado: 3000, pagado: 1800, por_recuperar: 800 },
    ],
    [
      { tipo: 'liquidacion_creada', idLiquidacion: L2 },
      { pendiente: 300, en_liquidacion: 3000, pagado: 1800, por_recuperar: 800 },
    ],
    [
      { tipo: 'liquidacion_pagada', idLiquidacion: L2 },
      { pendiente: 300, pagado: 4800, recuperado: 800 },
    ],
  ];
  const apuntes: Apunte[] = [];
  let antes: Saldos = cero;
  for (const [causa, parcial] of pasos) {
    const despues: Saldos = { ...cero, ...parcial };
    const asiento = LibroMayor.asientoEntre(causa, { idSocio: S, idAfiliado: 'af-1', moneda: 'USD' }, antes, despues);
    if (asiento) apuntes.push(...asiento.apuntes);
    antes = despues;
  }
  return apuntes;
}

function datosDe(plan: PlanConversiones): DatosConversiones {
  const comision = (id: string, unidades: number, estado: string, estadoConversion: string, liq?: [string, number]): FilaComision => ({
    id: `comision:${S}:${id}`,
    socio: S,
    idConversion: id,
    idAfiliado: 'af-1',
    moneda: 'USD',
    unidades,
    estado,
    estadoConversion,
    idLiquidacion: liq?.[0] ?? null,
    liquidacionEstado: liq ? 'PAGADA' : null,
    liquidacionUnidades: liq?.[1] ?? null,
  });
  const api = (estado: string, monto: number, comisionMonto: number, comisionEstado: string): LecturaConversion => ({
    estado: 200,
    cuerpo: { estado, monto, comision: { monto: comisionMonto, estado: comisionEstado } },
  });
  const rec = `ajuste:comision:${S}:c3:hecho:c3-5`;
  return {
    hechos: plan.conversiones.flatMap((c) =>
      c.hechos.map((h) => ({ socio: S, idEvento: h.cuerpo.id_evento, idConversion: c.idConversion, aplicado: true })),
    ),
    conversiones: [
      { socio: S, id: 'c1', estado: 'APROBADA', bloqueada: false, idAfiliado: 'af-1', venta: 10_000, moneda: 'USD' },
      { socio: S, id: 'c2', estado: 'REVERTIDA', bloqueada: false, idAfiliado: 'af-1', venta: 5_000, moneda: 'USD' },
      { socio: S, id: 'c3', estado: 'REVERTIDA', bloqueada: false, idAfiliado: 'af-1', venta: 8_000, moneda: 'USD' },
      { socio: S, id: 'c4', estado: 'APROBADA', bloqueada: false, idAfiliado: 'af-1', venta: 30_000, moneda: 'USD' },
      { socio: S, id: 'c5', estado: 'PENDIENTE', bloqueada: false, idAfiliado: 'af-1', venta: 3_000, moneda: 'USD' },
    ],
    comisiones: [
      comision('c1', 1000, 'PAGADA', 'APROBADA', [L1, 1000]),
      comision('c2', 500, 'REVERTIDA', 'REVERTIDA'),
      comision('c3', 800, 'REVERTIDA', 'REVERTIDA', [L1, 800]),
      comision('c4', 3000, 'PAGADA', 'APROBADA', [L2, 3000]),
      comision('c5', 300, 'PENDIENTE', 'PENDIENTE'),
    ],
    ajustes: [
      {
        id: rec,
        tipo: 'recuperacion',
        idComision: `comision:${S}:c3`,
        socio: S,
        idAfiliado: 'af-1',
        moneda: 'USD',
        unidades: 800,
        idLiquidacion: L2,
        liquidacionEstado: 'PAGADA',
      },
    ],
    liquidaciones: [
      {
        id: L0,
        socio: S,
        idAfiliado: 'af-1',
        moneda: 'USD',
        estado: 'ANULADA',
        neto: 1000,
        idPago: 'p0',
        pago: { estado: 'FALLIDO', unidades: 1000, moneda: 'USD' },
      },
      {
        id: L1,
        socio: S,
        idAfiliado: 'af-1',
        moneda: 'USD',
        estado: 'PAGADA',
        neto: 1800,
        idPago: 'p1',
        pago: { estado: 'EXITOSO', unidades: 1800, moneda: 'USD' },
      },
      {
        id: L2,
        socio: S,
        idAfiliado: 'af-1',
        moneda: 'USD',
        estado: 'PAGADA',
        neto: 2200,
        idPago: 'p2',
        pago: { estado: 'EXITOSO', unidades: 2200, moneda: 'USD' },
      },
    ],
    partidas: [
      { idLiquidacion: L0, idPartida: `comision:${S}:c1`, tipo: 'comision', idComision: `comision:${S}:c1`, unidades: 1000, anulada: true },
      {
        idLiquidacion: L1,
        idPartida: `comision:${S}:c1`,
        tipo: 'comision',
        idComision: `comision:${S}:c1`,
        unidades: 1000,
        anulada: false,
      },
      { idLiquidacion: L1, idPartida: `comision:${S}:c3`, tipo: 'comision', idComision: `comision:${S}:c3`, unidades: 800, anulada: false },
      {
        idLiquidacion: L2,
        idPartida: `comision:${S}:c4`,
        tipo: 'comision',
        idComision: `comision:${S}:c4`,
        unidades: 3000,
        anulada: false,
      },
      { idLiquidacion: L2, idPartida: rec, tipo: 'recuperacion', idComision: `comision:${S}:c3`, unidades: 800, anulada: false },
    ],
    apuntes: libro(),
    api: new Map([
      [`${S} c1`, api('APROBADA', 100, 10, 'PAGADA')],
      [`${S} c2`, api('REVERTIDA', 50, 5, 'REVERTIDA')],
      [`${S} c3`, api('REVERTIDA', 80, 8, 'REVERTIDA')],
      [`${S} c4`, api('APROBADA', 300, 30, 'PAGADA')],
      [`${S} c5`, api('PENDIENTE', 30, 3, 'PENDIENTE')],
    ]),
    saldos: [
      {
        socio: S,
        idAfiliado: 'af-1',
        estado: 200,
        saldos: [{ moneda: 'USD', pendiente: 3, aprobado: 0, en_liquidacion: 0, pagado: 48, por_recuperar: 0 }],
      },
    ],
    porLiquidar: [],
    sinLiquidar: [],
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function entrada(cambiar: (d: Mutable<DatosConversiones>, o: ObservacionesHechos) => void = () => undefined): EntradaConversiones {
  const plan = planDeEjemplo();
  const datos: Mutable<DatosConversiones> = datosDe(plan);
  const observaciones = observacionesDe(plan);
  cambiar(datos, observaciones);
  return { plan, socios: [S], observaciones, datos };
}

function violacionesPorRegla(e: EntradaConversiones): Record<CodigoReglaConversiones, string[]> {
  const v = juzgarConversiones(e);
  return Object.fromEntries(v.reglas.map((r) => [r.regla, v.violaciones.find((x) => x.regla === r.regla)?.ids ?? []])) as Record<
    CodigoReglaConversiones,
    string[]
  >;
}

describe('veredicto de conversiones', () => {
  it('el mundo de ejemplo cumple las seis reglas, y sus cifras salen de la base', () => {
    const v = juzgarConversiones(entrada());
    expect(v.violaciones).toEqual([]);
    expect(v.reglas.map((r) => r.regla)).toEqual([
      'hechos-aceptados',
      'conversion-segun-plan',
      'comision-una-vez',
      'recuperacion-una-vez',
      'libro-cuadra',
      'pagos-de-liquidaciones',
    ]);
    expect(v.cifras).toMatchObject({
      conversiones: 5,
      liquidaciones: 3,
      pagosExitosos: 2,
      pagosFallidos: 1,
      pagadoUnidades: 4000,
      recuperaciones: 1,
      recuperacionesRecuperadas: 1,
    });
  });

  it('hechos-aceptados: un hecho que acabó en 500, otro aceptado que no está en la base y una réplica tardía no reconocida', () => {
    const v = violacionesPorRegla(
      entrada((d, o) => {
        const delSocio = o.get(S);
        const c5 = delSocio?.get('c5-0');
        if (c5) c5.estados.push(500);
        d.hechos = d.hechos.filter((h) => h.idEvento !== 'c4-1');
        const c1 = delSocio?.get('c1-0');
        if (c1) c1.tardia = { estado: 202, replay: false };
      }),
    );
    expect(v['hechos-aceptados']).toEqual([
      `${S} · c1-0: réplica tardía 202`,
      `${S} · c4-1: aceptado y no está en la base`,
      `${S} · c5-0: respuestas 500`,
    ]);
  });

  it('hechos-aceptados: dos respuestas 202 «nuevas» para el mismo hecho y un hecho en la base que nadie envió', () => {
    const v = violacionesPorRegla(
      entrada((d, o) => {
        const c2 = o.get(S)?.get('c2-5');
        if (c2) c2.replays = 0;
        d.hechos = [...d.hechos, { socio: S, idEvento: 'intruso', idConversion: 'c1', aplicado: true }];
      }),
    );
    expect(v['hechos-aceptados']).toEqual([
      `${S} · c2-5: 2 respuestas 202 sin Idempotent-Replayed`,
      `${S} · intruso: en la base sin haberse enviado`,
    ]);
  });

  it('conversion-segun-plan: la venta y la comisión de la creación en vez de las del ajuste de versión mayor (como si contara el orden)', () => {
    const v = violacionesPorRegla(
      entrada((d) => {
        d.conversiones = d.conversiones.map((c) => (c.id === 'c4' ? { ...c, venta: 20_000 } : c));
        d.comisiones = d.comisiones.map((c) => (c.idConversion === 'c4' ? { ...c, unidades: 2000 } : c));
      }),
    );
    expect(v['conversion-segun-plan']).toEqual([`${S} · c4: venta 20000 ≠ 30000; comisión 2000 ≠ 3000`]);
  });

  it('conversion-segun-plan: una revertida que quedó aprobada, y la API que dice otra comisión', () => {
    const v = violacionesPorRegla(
      entrada((d) => {
        d.conversiones = d.conversiones.map((c) => (c.id === 'c2' ? { ...c, estado: 'APROBADA' } : c));
        const api = new Map(d.api);
        api.set(`${S} c1`, { estado: 200, cuerpo: { estado: 'APROBADA', monto: 100, comision: { monto: 10, estado: 'APROBADA' } } });
        d.api = api;
      }),
    );
    expect(v['conversion-segun-plan']).toEqual([`${S} · c1: API comisión 10 APROBADA`, `${S} · c2: estado APROBADA ≠ REVERTIDA`]);
  });

  it('conversion-segun-plan: una aprobada que no se pagó aunque nada impedía liquidarla', () => {
    const v = violacionesPorRegla(
      entrada((d) => {
        d.comisiones = d.comisiones.map((c) => (c.idConversion === 'c5' ? { ...c, estado: 'APROBADA', estadoConversion: 'APROBADA' } : c));
      }),
    );
    expect(v['conversion-segun-plan']).toEqual([`${S} · c5: comisión APROBADA ≠ PENDIENTE; comisión de una conversión APROBADA`]);
  });

  it('comision-una-vez: la comisión de c1 también en la segunda liquidación pagada', () => {
    const v = violacionesPorRegla(
      entrada((d) => {
        d.partidas = [
          ...d.partidas,
          {
            idLiquidacion: L2,
            idPartida: `comision:${S}:c1`,
            tipo: 'comision',
            idComision: `comision:${S}:c1`,
            unidades: 1000,
            anulada: false,
          },
        ];
      }),
    );
    expect(v['comision-una-vez']).toEqual([`comision:${S}:c1: en 2 liquidaciones no anuladas (${L1}, ${L2})`]);
  });

  it('comision-una-vez: una partida de una liquidación anulada que sigue viva', () => {
    const v = violacionesPorRegla(
      entrada((d) => (d.partidas = d.partidas.map((p) => (p.idLiquidacion === L0 ? { ...p, anulada: false } : p)))),
    );
    expect(v['comision-una-vez'][0]).toBe(`partida comision:${S}:c1 en ${L0} (ANULADA): anulada=false`);
  });

  it('recuperacion-una-vez: la reversión tras el pago recuperada dos veces', () => {
    const v = violacionesPorRegla(
      entrada((d) => {
        const [rec] = d.ajustes;
        if (rec) d.ajustes = [...d.ajustes, { ...rec, id: `${rec.id}-otra`, idLiquidacion: null, liquidacionEstado: null }];
      }),
    );
    expect(v['recuperacion-una-vez']).toEqual([`comision:${S}:c3: pagado 800 −800 −800 = -800, debida 0`]);
  });

  it('recuperacion-una-vez: una reversión pagada sin su recuperación, y un ajuste de una comisión nunca pagada', () => {
    const v = violacionesPorRegla(
      entrada((d) => {
        const [rec] = d.ajustes;
        if (rec) d.ajustes = [{ ...rec, id: 'ajuste-c2', idComision: `comision:${S}:c2`, idLiquidacion: null, liquidacionEstado: null }];
      }),
    );
    expect(v['recuperacion-una-vez']).toEqual([
      `comision:${S}:c2: nunca pagada y con ajustes ajuste-c2`,
      `comision:${S}:c3: pagado 800  = 800, debida 0`,
    ]);
  });

  it('libro-cuadra: un apunte perdido descuadra su asiento y lo pagado; y el saldo de la API que no es el del libro', () => {
    const v = violacionesPorRegla(
      entrada((d) => {
        d.apuntes = d.apuntes.filter((a) => !(a.idAsiento.includes(L2) && a.cuenta === 'recuperado'));
        d.saldos = d.saldos.map((s) => ({
          ...s,
          saldos: [{ moneda: 'USD', pendiente: 3, aprobado: 0, en_liquidacion: 0, pagado: 47, por_recuperar: 0 }],
        }));
      }),
    );
    expect(v['libro-cuadra']).toHaveLength(3);
    expect(v['libro-cuadra'][0]).toMatch(/liquidacion_pagada.*liq-2: debe \d+ ≠ haber \d+/);
    expect(v['libro-cuadra'][1]).toBe(`${S} · af-1 USD: liquidaciones pagadas 4000 ≠ pagado − recuperado 4800`);
    expect(v['libro-cuadra'][2]).toBe(`${S} · GET /afiliados/af-1/saldo USD: pagado 47 (libro 4800)`);
  });

  it('pagos-de-liquidaciones: un pago de otro importe, una anulada con su pago EXITOSO y algo por liquidar al final', () => {
    const v = violacionesPorRegla(
      entrada((d) => {
        d.liquidaciones = d.liquidaciones.map((l) =>
          l.id === L1 && l.pago
            ? { ...l, pago: { ...l.pago, unidades: 1900 } }
            : l.id === L0 && l.pago
              ? { ...l, pago: { ...l.pago, estado: 'EXITOSO' } }
              : l,
        );
        d.porLiquidar = ['liquidacion:socio-a:af-1:USD:veredicto'];
      }),
    );
    expect(v['pagos-de-liquidaciones']).toEqual([
      `${L0}: ANULADA con su pago EXITOSO`,
      `${L1}: pago de 1900 USD para un neto de 1800 USD`,
      `${S} af-1 USD: pagos EXITOSO 5100 ≠ comisiones pagadas netas 4000`,
      'liquidacion:socio-a:af-1:USD:veredicto: quedó por liquidar al final',
    ]);
  });

  it('pagos-de-liquidaciones: una liquidación que sigue en curso al final', () => {
    const v = violacionesPorRegla(
      entrada((d) => {
        d.liquidaciones = d.liquidaciones.map((l) => (l.id === L2 ? { ...l, estado: 'EN_CURSO' } : l));
      }),
    );
    expect(v['pagos-de-liquidaciones']).toContain(`${L2}: sigue EN_CURSO al final (pago EXITOSO)`);
  });

  it('el socio suspendido: lo que solo recibió 403 no cuenta (su conversión no debe existir) y un 403 no es violación', () => {
    const denegar = (d: Mutable<DatosConversiones>, o: ObservacionesHechos) => {
      const c5 = o.get(S)?.get('c5-0');
      if (c5) {
        c5.estados.splice(0, c5.estados.length, 403, 403);
        c5.replays = 0;
        c5.idsConversion.clear();
        c5.tardia = { estado: 403, replay: false };
      }
      // El suspendido ya no puede leer por la API: lo suyo se juzga en la base.
      d.api = new Map();
      d.saldos = [];
    };
    const sinC5 = entrada((d, o) => {
      denegar(d, o);
      d.hechos = d.hechos.filter((h) => h.idEvento !== 'c5-0');
      d.conversiones = d.conversiones.filter((c) => c.id !== 'c5');
      d.comisiones = d.comisiones.filter((c) => c.idConversion !== 'c5');
    });
    expect(juzgarConversiones({ ...sinC5, suspendido: S }).violaciones).toEqual([]);
    const conC5 = entrada(denegar);
    expect(violacionesPorRegla({ ...conC5, suspendido: S })['conversion-segun-plan']).toEqual([
      `${S} · c5: en la base sin ningún hecho aceptado`,
    ]);
    // El mismo 403 de un socio que no está suspendido sí es una violación.
    expect(violacionesPorRegla(conC5)['hechos-aceptados']).toEqual([`${S} · c5-0: respuestas 403, 403`, `${S} · c5-0: réplica tardía 403`]);
  });
});
