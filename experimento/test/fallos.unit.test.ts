import { describe, expect, it } from 'vitest';
import { DESDE, HASTA, planearFallos } from '../src/fallos.js';

describe('plan de fallos de procesos', () => {
  const plan = planearFallos({ matarConsumidor: 3, matarRelay: 2, reiniciarPostgres: 1, semilla: 42 });

  it('tiene los fallos pedidos, en orden, separados y lejos del principio y del final', () => {
    expect(plan.filter((f) => f.tipo === 'matar-consumidor')).toHaveLength(3);
    expect(plan.filter((f) => f.tipo === 'matar-relay')).toHaveLength(2);
    expect(plan.filter((f) => f.tipo === 'reiniciar-postgres')).toHaveLength(1);
    const fracciones = plan.map((f) => f.fraccion);
    expect(fracciones).toEqual([...fracciones].sort((a, b) => a - b));
    for (const f of fracciones) expect(f).toBeGreaterThanOrEqual(DESDE);
    for (const f of fracciones) expect(f).toBeLessThanOrEqual(HASTA);
    for (let i = 1; i < fracciones.length; i += 1) expect((fracciones[i] as number) - (fracciones[i - 1] as number)).toBeGreaterThan(0.02);
  });

  it('reinicia PostgreSQL hacia la mitad de la carga', () => {
    const pg = plan.find((f) => f.tipo === 'reiniciar-postgres');
    expect(pg?.fraccion).toBeGreaterThan(0.3);
    expect(pg?.fraccion).toBeLessThan(0.7);
  });

  it('sin fallos pedidos, no hay plan; con otra semilla, otros momentos', () => {
    expect(planearFallos({ matarConsumidor: 0, matarRelay: 0, reiniciarPostgres: 0, semilla: 1 })).toEqual([]);
    expect(planearFallos({ matarConsumidor: 3, matarRelay: 2, reiniciarPostgres: 1, semilla: 43 })).not.toEqual(plan);
  });
});
