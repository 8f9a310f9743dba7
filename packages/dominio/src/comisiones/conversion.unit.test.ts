import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DIA,
  T0,
  copia,
  dinero,
  en,
  entregaDesordenada,
  estadoEsperado,
  hecho,
  importeEsperado,
  hechosDe,
  ok,
  planConversion,
  regla,
} from '../../test/comisiones.js';
import { comisionDe } from './comision.js';
import { Conversion, estadoConversion, esHuerfana } from './conversion.js';
import type { HechoConversion } from './hecho-conversion.js';
import { calcularComision } from './regla-comision.js';

const CLAVE = { idSocio: 'socio-1', idConversion: 'conv-1' };

function estado(...hechos: HechoConversion[]): Conversion {
  return estadoConversion(CLAVE, hechos);
}

const creada = hecho('creada', 'c', { monto: dinero(10_000), ocurridoEn: en(0) });
const aprobada = hecho('aprobada', 'a', { ocurridoEn: en(5) });
const revertida = hecho('revertida', 'r', { ocurridoEn: en(10) });

describe('estadoConversion: casos', () => {
  it('dada solo la creada, entonces está PENDIENTE con su afiliado, su venta y su fecha', () => {
    expect(estado(creada)).toEqual({
      idSocio: 'socio-1',
      idConversion: 'conv-1',
      estado: 'PENDIENTE',
      idAfiliado: 'afiliado-1',
      venta: dinero(10_000),
      creadaEn: en(0),
      idEventoImporte: 'c',
      hechos: [creada],
      ignorados: [],
      conflictos: [],
      bloqueada: false,
    });
  });

  it('el estado es el de mayor precedencia: PENDIENTE < APROBADA < REVERTIDA, llegue en el orden que llegue', () => {
    expect(estado(creada, aprobada).estado).toBe('APROBADA');
    expect(estado(aprobada, creada).estado).toBe('APROBADA');
    expect(estado(creada, revertida).estado).toBe('REVERTIDA');
    expect(estado(revertida, aprobada, creada).estado).toBe('REVERTIDA');
    expect(estado(creada, revertida, aprobada).estado).toBe('REVERTIDA');
  });

  it('dados hechos sin su creada, entonces ESPERANDO_CONVERSION sin afiliado ni venta, y se guardan', () => {
    const c = estado(revertida, aprobada);
    expect(c).toMatchObject({ estado: 'ESPERANDO_CONVERSION', idAfiliado: null, venta: null, creadaEn: null, idEventoImporte: null });
    expect(c.hechos).toEqual([aprobada, revertida]);
    expect(estado().estado).toBe('ESPERANDO_CONVERSION');
  });

  it('cuando por fin llega la creada, los hechos que esperaban cuentan', () => {
    expect(estado(revertida, aprobada, creada)).toMatchObject({ estado: 'REVERTIDA', idAfiliado: 'afiliado-1', venta: dinero(10_000) });
  });

  it('las copias de un hecho (mismo idEvento y contenido) cuentan una vez', () => {
    const c = estado(creada, copia(creada), aprobada, copia(aprobada), copia(aprobada));
    expect(c.hechos).toEqual([creada, aprobada]);
    expect(c.conflictos).toEqual([]);
  });

  it('el importe es el del hecho con la versión más alta, aunque llegue antes', () => {
    const c1 = hecho('creada', 'c', { version: 1, monto: dinero(100) });
    const a3 = hecho('ajustada', 'x', { version: 3, monto: dinero(300), ocurridoEn: en(1) });
    const a2 = hecho('ajustada', 'y', { version: 2, monto: dinero(200), ocurridoEn: en(9) });
    expect(estado(a3, a2, c1)).toMatchObject({ venta: dinero(300), idEventoImporte: 'x' });
  });

  describe('desempate del importe (decisión 0101)', () => {
    it('un hecho sin versión va detrás de cualquiera con versión', () => {
      const c = hecho('creada', 'c', { version: 0, monto: dinero(100) });
      const sinVersion = hecho('ajustada', 'z', { monto: dinero(999), ocurridoEn: en(60) });
      expect(estado(c, sinVersion).venta).toEqual(dinero(100));
    });

    it('a igual versión (o sin ninguna), un ajuste va delante de la creación', () => {
      const c = hecho('creada', 'c', { monto: dinero(100), ocurridoEn: en(10) });
      const a = hecho('ajustada', 'a', { monto: dinero(50), ocurridoEn: en(0) });
      expect(estado(c, a).venta).toEqual(dinero(50));
      const cv = hecho('creada', 'c', { version: 4, monto: dinero(100), ocurridoEn: en(10) });
      const av = hecho('ajustada', 'a', { version: 4, monto: dinero(50), ocurridoEn: en(0) });
      expect(estado(cv, av).venta).toEqual(dinero(50));
    });

    it('entre ajustes con la misma versión (o sin ella), gana el ocurrido más tarde y después el idEvento mayor', () => {
      const a1 = hecho('ajustada', 'b', { monto: dinero(1), ocurridoEn: en(1) });
      const a2 = hecho('ajustada', 'a', { monto: dinero(2), ocurridoEn: en(2) });
      expect(estado(creada, a2, a1).venta).toEqual(dinero(2));
      const b1 = hecho('ajustada', 'b', { monto: dinero(1), ocurridoEn: en(2) });
      expect(estado(creada, b1, a2).venta).toEqual(dinero(1));
    });

    it('la misma versión con importes distintos se desempata y se avisa como VersionRepetida (no bloquea)', () => {
      const a = hecho('ajustada', 'a', { version: 2, monto: dinero(1) });
      const b = hecho('ajustada', 'b', { version: 2, monto: dinero(2) });
      const c = estado(creada, b, a);
      expect(c.venta).toEqual(dinero(2));
      expect(c.conflictos).toEqual([{ tipo: 'VersionRepetida', version: 2, idsEvento: ['a', 'b'] }]);
      expect(c.bloqueada).toBe(false);
    });
  });

  describe('conflictos como valores', () => {
    it('dos creadas con otro afiliado o importe bloquean la conversión: sin afiliado ni venta', () => {
      const otra = hecho('creada', 'c2', { idAfiliado: 'afiliado-2' });
      const c = estado(creada, otra, aprobada);
      expect(c).toMatchObject({ estado: 'APROBADA', bloqueada: true, idAfiliado: null, venta: null, creadaEn: null });
      expect(c.conflictos).toEqual([{ tipo: 'CreacionesDistintas', idsEvento: ['c', 'c2'] }]);
      expect(estado(creada, hecho('creada', 'c2', { monto: dinero(10_000, 'EUR') })).bloqueada).toBe(true);
    });

    it('dos creadas iguales con distinto idEvento (un reenvío) no son conflicto; la creación es la más temprana', () => {
      const reenvio = hecho('creada', 'c2', { ocurridoEn: en(30) });
      expect(estado(reenvio, creada)).toMatchObject({ bloqueada: false, conflictos: [], creadaEn: en(0) });
    });

    it('el mismo idEvento con otro contenido bloquea (EventoReutilizado), en cualquier orden', () => {
      const falso = hecho('aprobada', 'a', { ocurridoEn: en(99) });
      for (const c of [estado(creada, aprobada, falso), estado(falso, creada, aprobada)]) {
        expect(c.conflictos).toEqual([{ tipo: 'EventoReutilizado', idEvento: 'a' }]);
        expect(c.bloqueada).toBe(true);
      }
      expect(estado(creada, aprobada, falso).hechos).toEqual(estado(falso, aprobada, creada).hechos);
    });

    it('un ajuste en otra moneda que la creación no cuenta (MonedaDistinta) y la conversión sigue', () => {
      const ajuste = hecho('ajustada', 'x', { monto: dinero(1, 'EUR'), version: 9 });
      const c = estado(ajuste, creada);
      expect(c).toMatchObject({ venta: dinero(10_000), bloqueada: false, ignorados: ['x'] });
      expect(c.conflictos).toEqual([{ tipo: 'MonedaDistinta', idEvento: 'x', esperada: 'USD', recibida: 'EUR' }]);
    });

    it('un hecho que nombra a otro afiliado no cuenta (AfiliadoDistinto): una reversión así no revierte', () => {
      const ajena = hecho('revertida', 'r', { idAfiliado: 'afiliado-9' });
      const c = estado(creada, aprobada, ajena);
      expect(c).toMatchObject({ estado: 'APROBADA', ignorados: ['r'] });
      expect(c.conflictos).toEqual([{ tipo: 'AfiliadoDistinto', idEvento: 'r', esperado: 'afiliado-1', recibido: 'afiliado-9' }]);
      expect(estado(creada, hecho('revertida', 'r2', { idAfiliado: 'afiliado-1' })).estado).toBe('REVERTIDA');
    });

    it('un hecho de otra conversión no cuenta (HechoDeOtraConversion)', () => {
      const ajeno = hecho('revertida', 'r', { idConversion: 'conv-2' });
      const c = estado(creada, ajeno);
      expect(c.estado).toBe('PENDIENTE');
      expect(c.conflictos).toEqual([{ tipo: 'HechoDeOtraConversion', idEvento: 'r', idSocio: 'socio-1', idConversion: 'conv-2' }]);
    });
  });
});

describe('esHuerfana', () => {
  const espera = estado(hecho('revertida', 'r', { ocurridoEn: new Date(T0) }));

  it('sin creada más tiempo que la espera máxima (24 h por defecto) es huérfana; justo en el límite aún no', () => {
    expect(Conversion.ESPERA_MAXIMA_POR_DEFECTO_MS).toBe(DIA);
    expect(esHuerfana(espera, new Date(T0 + DIA))).toBe(false);
    expect(esHuerfana(espera, new Date(T0 + DIA + 1))).toBe(true);
  });

  it('la espera es configurable y se cuenta desde la primera llegada si se da (nuestro reloj)', () => {
    expect(esHuerfana(espera, new Date(T0 + 61_000), { esperaMaximaMs: 60_000 })).toBe(true);
    expect(esHuerfana(espera, new Date(T0 + 61_000), { esperaMaximaMs: 60_000, esperaDesde: new Date(T0 + 30_000) })).toBe(false);
  });

  it('una conversión creada (o sin hechos) nunca es huérfana', () => {
    expect(esHuerfana(estado(creada, revertida), new Date(T0 + 365 * DIA))).toBe(false);
    expect(esHuerfana(estado(), new Date(T0 + 365 * DIA))).toBe(false);
  });
});

describe('estadoConversion: propiedades', () => {
  const ciclo = planConversion().chain((plan) => fc.tuple(fc.constant(plan), entregaDesordenada(hechosDe(plan))));

  it('toda permutación de un ciclo de vida, con cualquier número de copias, da el mismo estado y la misma comisión', () => {
    const r = regla({ calculo: { tipo: 'porcentaje', puntosBasicos: 1_250 }, tope: dinero(400_000) });
    fc.assert(
      fc.property(ciclo, ([plan, entrega]) => {
        const referencia = estadoConversion(CLAVE, hechosDe(plan));
        const recibida = estadoConversion(CLAVE, entrega);
        expect(recibida).toEqual(referencia);
        // Lo que implica el plan: su desenlace y su último importe.
        const ultimo = importeEsperado(plan);
        expect(recibida).toMatchObject({ estado: estadoEsperado(plan), venta: dinero(ultimo), bloqueada: false });
        // Solo versiones empatadas con importes distintos se avisan (sin bloquear).
        expect(recibida.conflictos.every((c) => c.tipo === 'VersionRepetida')).toBe(true);
        if (plan.versiones !== 'iguales') expect(recibida.conflictos).toEqual([]);
        const comision = ok(comisionDe(recibida, r));
        expect(comision).toEqual(ok(comisionDe(referencia, r)));
        expect(comision.unidadesMenores).toBe(ok(calcularComision(dinero(ultimo), r)));
      }),
    );
  });

  it('añadir hechos nunca baja el estado (el retículo solo sube) ni desbloquea', () => {
    const nivel = { ESPERANDO_CONVERSION: -1, PENDIENTE: 0, APROBADA: 1, REVERTIDA: 2 } as const;
    fc.assert(
      fc.property(ciclo, ([, entrega]) => {
        let previo = estadoConversion(CLAVE, []);
        for (let i = 1; i <= entrega.length; i++) {
          const actual = estadoConversion(CLAVE, entrega.slice(0, i));
          if (previo.estado !== 'ESPERANDO_CONVERSION') expect(nivel[actual.estado]).toBeGreaterThanOrEqual(nivel[previo.estado]);
          if (previo.bloqueada) expect(actual.bloqueada).toBe(true);
          previo = actual;
        }
      }),
    );
  });

  it('los conflictos tampoco dependen del orden: con hechos contradictorios, cualquier entrega da el mismo resultado', () => {
    const contradictorios = [
      hecho('creada', 'c2', { idAfiliado: 'afiliado-2', ocurridoEn: en(3) }),
      hecho('ajustada', 'm', { monto: dinero(5, 'EUR'), version: 7 }),
      hecho('aprobada', 'a', { ocurridoEn: en(77) }),
      hecho('revertida', 'o', { idConversion: 'conv-2' }),
      hecho('revertida', 'x', { idAfiliado: 'afiliado-3' }),
    ];
    fc.assert(
      fc.property(
        planConversion().chain((plan) => {
          const hechos = [...hechosDe(plan), ...contradictorios];
          return fc.tuple(fc.constant(hechos), fc.subarray(contradictorios)).chain(([todos, elegidos]) => {
            const conjunto = todos.filter((h) => !contradictorios.includes(h) || elegidos.includes(h));
            return fc.tuple(fc.constant(conjunto), entregaDesordenada(conjunto));
          });
        }),
        ([conjunto, entrega]) => {
          expect(estadoConversion(CLAVE, entrega)).toEqual(estadoConversion(CLAVE, conjunto));
        },
      ),
    );
  });
});
