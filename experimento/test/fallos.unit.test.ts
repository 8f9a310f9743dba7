import { describe, expect, it } from 'vitest';
import { DESDE, HASTA, planearFallos } from '../src/fallos.js';

const PEDIDOS = { matarConsumidor: 3, matarRelay: 2, reiniciarPostgres: 1, matarPostgres: 1, consumidores: 3, semilla: 42 };

describe('plan de fallos de procesos', () => {
  const plan = planearFallos(PEDIDOS);

  it('tiene los fallos pedidos, en orden, separados y lejos del principio y del final', () => {
    expect(plan.filter((f) => f.tipo === 'matar-consumidor')).toHaveLength(3);
    expect(plan.filter((f) => f.tipo === 'matar-relay-lider')).toHaveLength(2);
    expect(plan.filter((f) => f.tipo === 'reiniciar-postgres')).toHaveLength(1);
    expect(plan.filter((f) => f.tipo === 'matar-postgres')).toHaveLength(1);
    const fracciones = plan.map((f) => f.fraccion);
    expect(fracciones).toEqual([...fracciones].sort((a, b) => a - b));
    for (const f of fracciones) expect(f).toBeGreaterThanOrEqual(DESDE);
    for (const f of fracciones) expect(f).toBeLessThanOrEqual(HASTA);
    for (let i = 1; i < fracciones.length; i += 1) expect((fracciones[i] as number) - (fracciones[i - 1] as number)).toBeGreaterThan(0.02);
  });

  it('lo de PostgreSQL (reinicio y caída) cae hacia la mitad de la carga', () => {
    for (const tipo of ['reiniciar-postgres', 'matar-postgres'] as const) {
      const f = plan.find((x) => x.tipo === tipo);
      expect(f?.fraccion, tipo).toBeGreaterThan(0.2);
      expect(f?.fraccion, tipo).toBeLessThan(0.8);
    }
  });

  it('cada muerte de consumidor es de una instancia distinta mientras las haya', () => {
    const instancias = plan.filter((f) => f.tipo === 'matar-consumidor').map((f) => f.instancia);
    expect([...instancias].sort()).toEqual([1, 2, 3]);
    const cinco = planearFallos({ ...PEDIDOS, matarConsumidor: 5, consumidores: 2 }).filter((f) => f.tipo === 'matar-consumidor');
    expect(cinco.every((f) => f.instancia === 1 || f.instancia === 2)).toBe(true);
    expect(new Set(cinco.slice(0, 2).map((f) => f.instancia)).size).toBe(2);
  });

  it('sin fallos pedidos, no hay plan; con otra semilla, otros momentos', () => {
    expect(planearFallos({ ...PEDIDOS, matarConsumidor: 0, matarRelay: 0, reiniciarPostgres: 0, matarPostgres: 0 })).toEqual([]);
    expect(planearFallos({ ...PEDIDOS, semilla: 43 })).not.toEqual(plan);
  });
});
