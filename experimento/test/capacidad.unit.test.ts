import { describe, expect, it } from 'vitest';
import {
  escalonEntre,
  juzgarEscalon,
  medirCapacidad,
  rampaDeCapacidad,
  ritmoFijo,
  type Escalon,
  type FotoPipeline,
} from '../src/capacidad.js';

const escalon = (e: Partial<Escalon>): Escalon => ({
  ritmoPedido: 500,
  desde: 0,
  hasta: 5,
  peticionesPorSegundo: 500,
  aceptadosPorSegundo: 300,
  terminadosPorSegundo: 300,
  atrasoInicial: 10,
  atrasoFinal: 10,
  ...e,
});

describe('juicio de un escalón de la rampa', () => {
  it('sigue mientras los terminados siguen a los aceptados y la API absorbe el ritmo', () => {
    expect(juzgarEscalon(escalon({}), 3)).toEqual({ saturado: false });
    // Terminar un poco menos con el atraso dentro del ruido no es saturar.
    expect(juzgarEscalon(escalon({ terminadosPorSegundo: 250, atrasoFinal: 70 }), 3)).toEqual({ saturado: false });
  });

  it('satura cuando los terminados dejan de seguir a los aceptados y el atraso crece', () => {
    const j = juzgarEscalon(escalon({ terminadosPorSegundo: 200, atrasoFinal: 510 }), 3);
    expect(j).toEqual({ saturado: true, motivo: 'a 500 pet/s los terminados (200/s) dejan de seguir a los aceptados (300/s)' });
  });

  it('satura cuando la API no absorbe el ritmo pedido', () => {
    const j = juzgarEscalon(escalon({ peticionesPorSegundo: 400 }), 3);
    expect(j.saturado).toBe(true);
  });

  it('el primer escalón nunca satura: llena el pipeline', () => {
    expect(juzgarEscalon(escalon({ terminadosPorSegundo: 10, atrasoFinal: 2000, peticionesPorSegundo: 1 }), 0)).toEqual({
      saturado: false,
    });
  });

  it('un escalón se mide entre dos fotos del pipeline', () => {
    const a: FotoPipeline = { segundo: 10, creados: 1000, finales: 900, peticiones: 1600 };
    const b: FotoPipeline = { segundo: 15, creados: 2500, finales: 2200, peticiones: 4100 };
    expect(escalonEntre(500, a, b)).toEqual({
      ritmoPedido: 500,
      desde: 10,
      hasta: 15,
      peticionesPorSegundo: 500,
      aceptadosPorSegundo: 300,
      terminadosPorSegundo: 260,
      atrasoInicial: 100,
      atrasoFinal: 300,
    });
  });
});

describe('capacidad', () => {
  it('es el máximo de terminados/s, en peticiones/s del plan, y se mantiene la fracción pedida', () => {
    const m = medirCapacidad(
      [escalon({ terminadosPorSegundo: 100 }), escalon({ terminadosPorSegundo: 280 }), escalon({ terminadosPorSegundo: 250 })],
      { saturado: true, motivo: 'x' },
      1.6,
      0.8,
    );
    expect(m.pagosPorSegundo).toBe(280);
    expect(m.peticionesPorSegundo).toBeCloseTo(448);
    expect(m.ritmoMantenido).toBe(358);
    expect(m.saturada).toBe(true);
  });

  it('la rampa sube hasta que un pipeline simulado de 300 pagos/s se satura y después mantiene el 80 %', async () => {
    // Un pipeline con capacidad fija: acepta lo que se le pide (1,6 peticiones por pago) y termina como mucho 300/s.
    let t = 0;
    let creados = 0;
    let finales = 0;
    let peticiones = 0;
    const control = rampaDeCapacidad({
      rampa: { inicio: 100, paso: 100, escalonS: 5 },
      fraccion: 0.8,
      peticionesPorPago: 1.6,
      limitePeticiones: 1_000_000,
      fotografiar: async () => ({ segundo: t, creados, finales, peticiones }),
      esperar: async (ms) => {
        const s = ms / 1000;
        const ritmo = control.ritmo();
        peticiones += ritmo * s;
        creados += (ritmo / 1.6) * s;
        finales = Math.min(creados, finales + 300 * s);
        t += s;
      },
    });
    expect(control.fase()).toBe('rampa');
    const m = await control.medida;
    expect(m?.saturada).toBe(true);
    // A 500 pet/s (312 pagos/s) termina el 96 %: aún sigue; a 600 (375 pagos/s), el 80 % y el atraso crece.
    expect(m?.escalones.map((e) => e.ritmoPedido)).toEqual([100, 200, 300, 400, 500, 600]);
    expect(m?.pagosPorSegundo).toBe(300);
    expect(m?.ritmoMantenido).toBe(384);
    expect(control.fase()).toBe('mantenida');
    expect(control.ritmo()).toBe(384);
  });

  it('si se acaba su parte del plan sin saturar, la capacidad es una cota inferior', async () => {
    let t = 0;
    let peticiones = 0;
    const control = rampaDeCapacidad({
      rampa: { inicio: 100, paso: 100, escalonS: 1 },
      fraccion: 0.8,
      peticionesPorPago: 1,
      limitePeticiones: 250,
      fotografiar: async () => ({ segundo: t, creados: peticiones, finales: peticiones, peticiones }),
      esperar: async (ms) => {
        peticiones += control.ritmo() * (ms / 1000);
        t += ms / 1000;
      },
    });
    const m = await control.medida;
    expect(m?.saturada).toBe(false);
    expect(m?.motivo).toMatch(/cota inferior/);
    expect(m?.escalones).toHaveLength(2);
    expect(m?.pagosPorSegundo).toBe(200);
  });

  it('con un ritmo fijo no hay rampa', async () => {
    const control = ritmoFijo(250);
    expect(control.fase()).toBe('mantenida');
    expect(control.ritmo()).toBe(250);
    expect(await control.medida).toBeUndefined();
  });
});
