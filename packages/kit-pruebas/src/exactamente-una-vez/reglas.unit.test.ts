import { describe, expect, it } from 'vitest';
import { describirViolaciones } from './comprobar.js';
import { DESCRIPCION_REGLAS_DENTRO, REGLAS_CON_PAGOS_FINALES, REGLAS_DENTRO, TODAS_LAS_REGLAS } from './reglas.js';

describe('catálogo de reglas', () => {
  it('cada regla tiene un código único y una descripción', () => {
    expect(new Set(TODAS_LAS_REGLAS).size).toBe(REGLAS_DENTRO.length);
    for (const codigo of TODAS_LAS_REGLAS) expect(DESCRIPCION_REGLAS_DENTRO[codigo].length).toBeGreaterThan(20);
  });

  it('las de pagos finales no incluyen las que exigen el pipeline vacío ni un plazo o unos venenos', () => {
    for (const codigo of REGLAS_CON_PAGOS_FINALES) expect(TODAS_LAS_REGLAS).toContain(codigo);
    for (const codigo of ['outbox-vacio', 'evento-consumido', 'cola-vacia', 'mensajes-muertos', 'dentro-del-plazo'] as const) {
      expect(REGLAS_CON_PAGOS_FINALES).not.toContain(codigo);
    }
  });
});

describe('describirViolaciones', () => {
  it('una línea por regla, con sus ids y cuántos quedan sin mostrar', () => {
    const texto = describirViolaciones([
      { regla: 'cargo-unico', descripcion: 'Como mucho un cargo', total: 3, ids: ['a', 'b'] },
      { regla: 'ninguno-incierto', descripcion: 'Nada incierto', total: 1, ids: ['c'] },
    ]);
    expect(texto.split('\n')).toEqual(['cargo-unico (3): Como mucho un cargo: a, b … y 1 más', 'ninguno-incierto (1): Nada incierto: c']);
  });
});
