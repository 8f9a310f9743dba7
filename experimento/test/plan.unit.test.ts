import { describe, expect, it } from 'vitest';
import { leerOpciones } from '../src/opciones.js';
import { COPIAS, crearPlan, cuerpoDe, cuerpoEnConflicto, type OpcionesPlan } from '../src/plan.js';

const BASE: OpcionesPlan = {
  corrida: 'c1',
  socios: 4,
  pagosPorSocio: 500,
  dobles: 0.2,
  triples: 0.1,
  timeouts: 0.1,
  tardias: 0.1,
  conflictos: 0.02,
  desorden: 64,
  semilla: 7,
};

describe('plan de carga', () => {
  it('es determinista: la misma semilla da el mismo plan', () => {
    expect(crearPlan(BASE)).toEqual(crearPlan(BASE));
    expect(crearPlan({ ...BASE, semilla: 8 }).pagos).not.toEqual(crearPlan(BASE).pagos);
  });

  it('con las opciones por defecto supera el listón: ≥ 50 000 peticiones y ≥ 20 % repetidas', () => {
    const r = leerOpciones([], {});
    if (!r.ok) throw new Error(r.mensaje);
    const o = r.opciones;
    const plan = crearPlan({ ...o, corrida: 'x', pagosPorSocio: o.pagosPorSocio });
    expect(plan.peticiones).toBeGreaterThanOrEqual(50_000);
    expect(plan.duplicadas / plan.peticiones).toBeGreaterThanOrEqual(0.2);
  });

  it('cuenta las peticiones de cada modo, conflicto y réplica tardía', () => {
    const plan = crearPlan(BASE);
    const esperadas = plan.pagos.reduce((t, p) => t + COPIAS[p.modo] + (p.conflicto ? 1 : 0) + (p.tardia ? 1 : 0), 0);
    expect(plan.peticiones).toBe(esperadas);
    expect(plan.duplicadas).toBe(esperadas - 2000);
    expect(Object.values(plan.porModo).reduce((a, b) => a + b)).toBe(2000);
    expect(plan.porModo.doble / 2000).toBeCloseTo(0.2, 1);
    expect(plan.porModo.triple).toBeGreaterThan(0);
    expect(plan.porModo.timeout).toBeGreaterThan(0);
  });

  it('los socios comparten referencias y cuerpos: el pago n es el mismo para todos, y dentro de un socio no se repite', () => {
    const plan = crearPlan(BASE);
    const porSocio = new Map<number, string[]>();
    for (const p of plan.pagos) {
      expect(p.cuerpo).toEqual(cuerpoDe('c1', p.n));
      porSocio.set(p.socio, [...(porSocio.get(p.socio) ?? []), p.cuerpo.referencia_pago]);
    }
    expect(porSocio.size).toBe(4);
    const conjuntos = [...porSocio.values()].map((refs) => new Set(refs));
    for (const refs of conjuntos) expect(refs.size).toBe(500);
    // Las mismas 500 referencias en los cuatro.
    expect(new Set(plan.pagos.map((p) => p.cuerpo.referencia_pago)).size).toBe(500);
    expect(new Set(plan.pagos.map((p) => JSON.stringify(p.cuerpo))).size).toBe(500);
  });

  it('envía fuera de orden dentro de cada socio y entrelaza los socios; con desorden 1, cada socio va en orden', () => {
    const fueraDeOrden = (o: OpcionesPlan) => {
      const max = new Map<number, number>();
      let n = 0;
      for (const p of crearPlan(o).pagos) {
        if ((max.get(p.socio) ?? 0) > p.n) n += 1;
        max.set(p.socio, Math.max(max.get(p.socio) ?? 0, p.n));
      }
      return n;
    };
    expect(fueraDeOrden(BASE)).toBeGreaterThan(500);
    expect(fueraDeOrden({ ...BASE, desorden: 1 })).toBe(0);
    const socios = crearPlan(BASE)
      .pagos.slice(0, 40)
      .map((p) => p.socio);
    expect(new Set(socios).size).toBe(4);
  });

  it('los importes son válidos para la API (como mucho 2 decimales en JSON) y el conflicto cambia el cuerpo', () => {
    for (const p of crearPlan(BASE).pagos) {
      expect(JSON.stringify(p.cuerpo.monto)).toMatch(/^\d+(\.\d{1,2})?$/);
      const otro = cuerpoEnConflicto(p.cuerpo);
      expect(JSON.stringify(otro.monto)).toMatch(/^\d+(\.\d{1,2})?$/);
      expect(otro.monto).not.toBe(p.cuerpo.monto);
      expect(otro.referencia_pago).toBe(p.cuerpo.referencia_pago);
    }
  });
});
