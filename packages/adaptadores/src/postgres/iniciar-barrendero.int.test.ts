import { afterAll, describe, expect, it } from 'vitest';
import { crearRegistroMetricas } from '../observabilidad/metricas.js';
import { crearBaseDePrueba } from '../testing/index.js';
import { plantarPagosAtascados, reimpulsosDe } from '../../test/plantar-pagos-atascados.js';
import { iniciarBarrendero } from './iniciar-barrendero.js';
import { crearPersistenciaPostgres } from './persistencia-postgres.js';

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

describe('iniciarBarrendero (PostgreSQL real)', () => {
  it('barre cada periodo, registra cada re-impulso con id, estado y edad, expone las métricas y se detiene', async () => {
    const base = await crearBaseDePrueba();
    const persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 3 });
    cierres.push(async () => {
      await persistencia.cerrar();
      await base.cerrar();
    });
    const [atascado] = await plantarPagosAtascados(persistencia.repositorio, persistencia.pool, [
      { estado: 'PROCESANDO', haceMs: 3_600_000, evento: { publicadoHaceMs: 3_600_000 } },
      { estado: 'PENDIENTE', haceMs: 1_000, evento: { publicadoHaceMs: 1_000 } },
    ]);
    const lineas: { nivel: string; campos: Record<string, unknown>; mensaje?: string }[] = [];
    const anotar = (nivel: string) => (campos: object, mensaje?: string) =>
      lineas.push({ nivel, campos: campos as Record<string, unknown>, ...(mensaje && { mensaje }) });
    const metricas = crearRegistroMetricas({ servicio: 'consumidor-prueba', deProceso: false });
    const enMarcha = iniciarBarrendero({
      pool: persistencia.pool,
      logger: { info: anotar('info'), warn: anotar('warn'), error: anotar('error') },
      umbrales: { PENDIENTE: 60_000, PROCESANDO: 60_000 },
      periodoMs: 20,
      metricas,
    });
    const hasta = Date.now() + 15_000;
    while (enMarcha.barrendero.contadores().pasadas < 3 && Date.now() < hasta) await new Promise((r) => setTimeout(r, 20));
    await enMarcha.detener();
    const pasadas = enMarcha.barrendero.contadores().pasadas;
    expect(pasadas).toBeGreaterThanOrEqual(3);
    expect(await reimpulsosDe(persistencia.pool, atascado!)).toBe(1);
    const reimpulsos = lineas.filter((l) => l.nivel === 'warn');
    expect(reimpulsos).toHaveLength(1);
    expect(reimpulsos[0]!.campos).toMatchObject({ id_pago: atascado, estado: 'PROCESANDO', reimpulsos: 1 });
    expect(reimpulsos[0]!.campos.edad_s).toBeGreaterThanOrEqual(3600);
    expect(lineas.filter((l) => l.nivel === 'error')).toEqual([]);
    const texto = await metricas.metrics();
    expect(texto).toMatch(/^aeropartners_pagos_reimpulsados_total\{estado="PROCESANDO",servicio="consumidor-prueba"\} 1$/m);
    // Re-encolado (sin publicar) sigue contando como atascado hasta que el relay lo publique y el consumidor lo acabe.
    expect(texto).toMatch(/^aeropartners_pagos_atascados\{estado="PROCESANDO",servicio="consumidor-prueba"\} 1$/m);
    expect(texto).toMatch(/^aeropartners_pagos_atascados\{estado="PENDIENTE",servicio="consumidor-prueba"\} 0$/m);
    await new Promise((r) => setTimeout(r, 100));
    expect(enMarcha.barrendero.contadores().pasadas).toBe(pasadas);
  });
});
