import { describe, expect, it } from 'vitest';
import { argumentosRegla, crearPlanConversiones, reglaDeSocio, type OpcionesPlanConversiones } from '../src/conversiones-plan.js';

const BASE: OpcionesPlanConversiones = {
  corrida: 'c1',
  socios: 4,
  conversionesPorSocio: 100,
  semilla: 7,
  inicio: new Date('2026-12-05T10:00:00Z'),
};

describe('plan de conversiones', () => {
  it('es determinista: la misma semilla da el mismo plan', () => {
    expect(crearPlanConversiones(BASE)).toEqual(crearPlanConversiones(BASE));
    expect(crearPlanConversiones({ ...BASE, semilla: 8 }).envios).not.toEqual(crearPlanConversiones(BASE).envios);
  });

  it('cuenta hechos, peticiones (copias y tardías) y duplicadas', () => {
    const p = crearPlanConversiones(BASE);
    const todos = p.conversiones.flatMap((c) => c.hechos);
    expect(p.hechos).toBe(todos.length);
    const siguen = p.trasPago.flatMap((h) => h.siguen ?? []);
    expect(p.envios.length + p.trasPago.length + siguen.length).toBe(todos.length);
    expect(p.peticiones).toBe(todos.reduce((t, h) => t + h.copias + (h.tardia ? 1 : 0), 0));
    expect(p.duplicadas).toBe(p.peticiones - p.hechos);
    expect(p.tardias).toBe(todos.filter((h) => h.tardia).length);
    expect(p.tardias).toBeGreaterThan(0);
  });

  it('todo hecho va duplicado; unos a la vez, otros seguidos, y alguno 20 veces a la vez', () => {
    const todos = crearPlanConversiones(BASE).conversiones.flatMap((c) => c.hechos);
    expect(todos.every((h) => h.copias >= 2)).toBe(true);
    expect(todos.some((h) => h.simultaneas)).toBe(true);
    expect(todos.some((h) => !h.simultaneas)).toBe(true);
    expect(todos.some((h) => h.copias === 20 && h.simultaneas)).toBe(true);
  });

  it('todos los desenlaces, ajustes con versión creciente y reversiones tras el pago fuera de la carga principal', () => {
    const p = crearPlanConversiones(BASE);
    const desenlaces = new Set(p.conversiones.map((c) => c.desenlace));
    expect(desenlaces).toEqual(new Set(['aprobada', 'revertida', 'pendiente', 'revertida-tras-pago', 'tras-la-reversion']));
    for (const c of p.conversiones) {
      const versiones = c.hechos.map((h) => h.cuerpo.version).filter((v): v is number => v !== undefined);
      expect(versiones).toEqual([...versiones].sort((a, b) => a - b));
      expect(new Set(versiones).size).toBe(versiones.length);
      expect(c.hechos.filter((h) => h.trasPago).length).toBe(c.desenlace === 'revertida-tras-pago' ? 1 : 0);
    }
    expect(p.conversiones.some((c) => c.hechos.some((h) => h.cuerpo.tipo === 'conversion.ajustada'))).toBe(true);
    expect(p.trasPago.length).toBeGreaterThan(0);
    expect(p.trasPago.every((h) => h.cuerpo.tipo === 'conversion.revertida' && !p.envios.includes(h))).toBe(true);
  });

  it('tras cada reversión pagada siguen dos ventas aprobadas del mismo afiliado y moneda, mayores que cualquier venta del plan', () => {
    const p = crearPlanConversiones(BASE);
    const porId = new Map(p.conversiones.map((c) => [c.idConversion + c.socio, c]));
    const maxima = Math.max(
      ...p.conversiones.filter((c) => c.desenlace !== 'tras-la-reversion').flatMap((c) => c.hechos.map((h) => h.cuerpo.monto ?? 0)),
    );
    for (const h of p.trasPago) {
      const revertida = porId.get(h.cuerpo.id_conversion + h.socio);
      const siguen = h.siguen ?? [];
      expect(siguen.map((x) => x.cuerpo.tipo)).toEqual([
        'conversion.creada',
        'conversion.aprobada',
        'conversion.creada',
        'conversion.aprobada',
      ]);
      for (const x of siguen.filter((y) => y.cuerpo.tipo === 'conversion.creada')) {
        expect(x.cuerpo.id_afiliado).toBe(revertida?.idAfiliado);
        expect(x.cuerpo.moneda).toBe(revertida?.moneda);
        expect(x.cuerpo.monto).toBeGreaterThanOrEqual(2 * maxima);
        expect(p.envios).not.toContain(x);
      }
    }
  });

  it('el ciclo llega barajado: hay reversiones y aprobaciones enviadas antes que su creación, y socios entrelazados', () => {
    const p = crearPlanConversiones(BASE);
    const posicion = new Map(p.envios.map((h, i) => [`${h.socio} ${h.cuerpo.id_evento}`, i]));
    let antes = 0;
    let revertidaAntes = 0;
    for (const c of p.conversiones) {
      const creada = c.hechos.find((h) => h.cuerpo.tipo === 'conversion.creada');
      const pc = posicion.get(`${c.socio} ${creada?.cuerpo.id_evento}`) ?? -1;
      for (const h of c.hechos.filter((x) => !x.trasPago && x !== creada)) {
        if ((posicion.get(`${c.socio} ${h.cuerpo.id_evento}`) ?? -1) < pc) {
          antes += 1;
          if (h.cuerpo.tipo === 'conversion.revertida') revertidaAntes += 1;
        }
      }
    }
    expect(antes).toBeGreaterThan(0);
    expect(revertidaAntes).toBeGreaterThan(0);
    const cambios = p.envios.filter((h, i) => i > 0 && p.envios[i - 1]?.socio !== h.socio).length;
    expect(cambios).toBeGreaterThan(p.envios.length / 4);
  });

  it('reglas: un porcentaje distinto por socio, sin bloqueo; el 2.º con tope en USD y todas sus ventas en USD', () => {
    const p = crearPlanConversiones(BASE);
    expect(new Set(p.reglas.map((r) => r.puntosBasicos)).size).toBe(4);
    expect(p.reglas.every((r) => r.diasBloqueo === 0)).toBe(true);
    expect(p.reglas[1]?.tope?.moneda).toBe('USD');
    expect(p.conversiones.filter((c) => c.socio === 2).every((c) => c.moneda === 'USD')).toBe(true);
    expect(new Set(p.conversiones.filter((c) => c.socio === 1).map((c) => c.moneda)).size).toBe(3);
    expect(argumentosRegla(reglaDeSocio(2))).toEqual(['--porcentaje', '7.50', '--dias-bloqueo', '0', '--tope', '25.00', '--moneda', 'USD']);
    expect(argumentosRegla(reglaDeSocio(1))).toEqual(['--porcentaje', '10.00', '--dias-bloqueo', '0']);
  });

  it('los ocurrido_en son posteriores al inicio (la regla de comisión ya rige en la creación)', () => {
    const p = crearPlanConversiones(BASE);
    expect(p.conversiones.flatMap((c) => c.hechos).every((h) => Date.parse(h.cuerpo.ocurrido_en) >= BASE.inicio.getTime())).toBe(true);
  });
});
