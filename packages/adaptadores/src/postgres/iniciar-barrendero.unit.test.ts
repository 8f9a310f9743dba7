import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { leerConfiguracion } from '../config/configuracion.js';
import { VARIABLES_BARRENDERO, configuracionBarrendero } from './iniciar-barrendero.js';

const esquema = v.object({ PASARELA: v.optional(v.picklist(['simulada', 'stripe']), 'simulada'), ...VARIABLES_BARRENDERO });
const leer = (env: Record<string, string>) => leerConfiguracion(esquema, env);

describe('configuración del barrendero', () => {
  it('sin variables: activo, con los umbrales y el periodo de la pasarela', () => {
    const simulada = leer({});
    const stripe = leer({ PASARELA: 'stripe' });
    if (!simulada.ok || !stripe.ok) throw new Error('configuración inválida');
    expect(configuracionBarrendero(simulada.config)).toEqual({
      activo: true,
      umbrales: { PENDIENTE: 120_000, PROCESANDO: 300_000 },
      periodoMs: 30_000,
      lote: 100,
    });
    expect(configuracionBarrendero(stripe.config)).toEqual({
      activo: true,
      umbrales: { PENDIENTE: 300_000, PROCESANDO: 1_800_000 },
      periodoMs: 60_000,
      lote: 100,
    });
  });

  it('las variables mandan sobre los valores por defecto', () => {
    const l = leer({ BARRENDERO: 'false', BARRENDERO_PERIODO_MS: '5000', BARRENDERO_UMBRAL_PROCESANDO_MS: '90000', BARRENDERO_LOTE: '7' });
    if (!l.ok) throw new Error(l.mensaje);
    expect(configuracionBarrendero(l.config)).toEqual({
      activo: false,
      umbrales: { PENDIENTE: 120_000, PROCESANDO: 90_000 },
      periodoMs: 5000,
      lote: 7,
    });
  });

  it.each([
    [{ BARRENDERO: 'quizá' }, 'BARRENDERO debe ser true, false, 1 o 0'],
    [{ BARRENDERO_PERIODO_MS: '10' }, 'BARRENDERO_PERIODO_MS debe ser un entero entre 1000 y 86400000'],
    [{ BARRENDERO_UMBRAL_PENDIENTE_MS: '5m' }, 'BARRENDERO_UMBRAL_PENDIENTE_MS debe ser un entero'],
    [{ BARRENDERO_LOTE: '0' }, 'BARRENDERO_LOTE debe ser un entero entre 1 y 10000'],
  ])('%j → una línea que nombra la variable', (env, mensaje) => {
    const l = leer(env);
    expect(l.ok).toBe(false);
    if (!l.ok) expect(l.mensaje).toContain(mensaje);
  });
});
