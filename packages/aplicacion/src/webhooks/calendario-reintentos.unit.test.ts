import { describe, expect, it } from 'vitest';
import { CALENDARIO_REINTENTOS_POR_DEFECTO, leerCalendario, siguientePaso } from './calendario-reintentos.js';

describe('calendario de reintentos de webhooks', () => {
  it('un éxito termina la entrega en cualquier intento', () => {
    expect(siguientePaso(1, true, CALENDARIO_REINTENTOS_POR_DEFECTO, 0.1)).toEqual({ tipo: 'entregada' });
    expect(siguientePaso(8, true, CALENDARIO_REINTENTOS_POR_DEFECTO, 0.1)).toEqual({ tipo: 'entregada' });
  });

  it('tras el intento n espera el plazo n del calendario, dentro de ±aleatoriedad; agotado, se da por perdida', () => {
    const cal = CALENDARIO_REINTENTOS_POR_DEFECTO;
    expect(cal).toHaveLength(7);
    for (const [i, base] of cal.entries()) {
      expect(siguientePaso(i + 1, false, cal, 0.1, () => 0)).toEqual({ tipo: 'reintentar', esperaMs: Math.round(base * 0.9) });
      expect(siguientePaso(i + 1, false, cal, 0.1, () => 0.5)).toEqual({ tipo: 'reintentar', esperaMs: base });
      const alto = siguientePaso(i + 1, false, cal, 0.1, () => 0.999_999);
      expect(alto.tipo === 'reintentar' && alto.esperaMs <= Math.round(base * 1.1) && alto.esperaMs > base).toBe(true);
    }
    expect(siguientePaso(cal.length + 1, false, cal, 0.1)).toEqual({ tipo: 'agotada' });
  });

  it('lee calendarios escritos con unidades y rechaza los mal formados', () => {
    expect(leerCalendario('5s,5m,30m,2h,5h,10h,24h')).toEqual({ ok: true, valor: CALENDARIO_REINTENTOS_POR_DEFECTO });
    expect(leerCalendario('50ms, 100ms')).toEqual({ ok: true, valor: [50, 100] });
    expect(leerCalendario('5x')).toMatchObject({ ok: false, motivo: expect.stringContaining('«5x»') });
    expect(leerCalendario('')).toMatchObject({ ok: false });
  });
});
