import { crearBarrendero, type PagosAtascados } from '@aeropartners/aplicacion';
import { PagosAtascadosEnMemoria, idsSecuenciales, relojFijo } from '@aeropartners/aplicacion/testing';
import { describe, expect, it } from 'vitest';
import { crearRegistroMetricas } from './metricas.js';
import { registrarMetricasAtascos } from './metricas-atascos.js';

const registro = () => crearRegistroMetricas({ servicio: 'prueba', deProceso: false });
const muestra = (texto: string, nombre: string, etiquetas = '') =>
  texto
    .split('\n')
    .find((l) => l.startsWith(`${nombre}{`) && l.includes(etiquetas))
    ?.split(' ')
    .at(-1);
const MIN = 60_000;
const UMBRALES = { PENDIENTE: 2 * MIN, PROCESANDO: 5 * MIN };

function almacen() {
  const reloj = relojFijo(new Date('2026-03-01T12:00:00.000Z'));
  const doble = new PagosAtascadosEnMemoria(reloj);
  const id = idsSecuenciales(5);
  const plantar = (estado: 'PENDIENTE' | 'PROCESANDO', haceMs: number, turnoHasta: Date | null = null) =>
    doble.plantar({
      idPago: id(),
      estado,
      desde: new Date(reloj.ahora().getTime() - haceMs),
      turnoHasta,
      evento: { publicadoEn: new Date(reloj.ahora().getTime() - haceMs), reimpulsos: 0 },
    });
  return { doble, reloj, plantar };
}

describe('métricas de pagos atascados', () => {
  it('atascados por estado con su umbral y edad del más viejo sin turno vigente, en segundos', async () => {
    const { doble, reloj, plantar } = almacen();
    plantar('PENDIENTE', 3 * MIN);
    plantar('PENDIENTE', 30_000);
    plantar('PROCESANDO', 20 * MIN, new Date(reloj.ahora().getTime() + 3_600_000)); // alguien lo procesa
    plantar('PROCESANDO', 4 * MIN); // aún bajo su umbral
    const r = registro();
    registrarMetricasAtascos(r, { atascados: doble, umbrales: UMBRALES });
    const texto = await r.metrics();
    expect(texto).toContain('# TYPE aeropartners_pagos_atascados gauge');
    expect(muestra(texto, 'aeropartners_pagos_atascados', 'estado="PENDIENTE"')).toBe('1');
    expect(muestra(texto, 'aeropartners_pagos_atascados', 'estado="PROCESANDO"')).toBe('0');
    expect(muestra(texto, 'aeropartners_pagos_atascado_mas_viejo_seconds', 'estado="PENDIENTE"')).toBe('180');
    expect(muestra(texto, 'aeropartners_pagos_atascado_mas_viejo_seconds', 'estado="PROCESANDO"')).toBe('240');
    reloj.avanzar(MIN);
    const despues = await r.metrics();
    expect(muestra(despues, 'aeropartners_pagos_atascados', 'estado="PROCESANDO"')).toBe('1');
    expect(muestra(despues, 'aeropartners_pagos_atascado_mas_viejo_seconds', 'estado="PENDIENTE"')).toBe('240');
  });

  it('una sola consulta por raspado para los dos indicadores, acotada a la ventana', async () => {
    const { doble, plantar } = almacen();
    for (let i = 0; i < 5; i += 1) plantar('PENDIENTE', 10 * MIN);
    const llamadas: number[] = [];
    const contado: PagosAtascados = {
      listar: (c) => doble.listar(c),
      reimpulsar: (c) => doble.reimpulsar(c),
      medir: (u, ventana) => {
        llamadas.push(ventana);
        return doble.medir(u, ventana);
      },
    };
    const r = registro();
    registrarMetricasAtascos(r, { atascados: contado, umbrales: UMBRALES, ventana: 3 });
    const texto = await r.metrics();
    expect(llamadas).toEqual([3]);
    expect(muestra(texto, 'aeropartners_pagos_atascados', 'estado="PENDIENTE"')).toBe('3');
  });

  it('si la base no responde, el raspado sigue sin esas series (nunca un 0 engañoso)', async () => {
    const r = registro();
    const caido: PagosAtascados = {
      listar: () => Promise.reject(new Error('caída')),
      reimpulsar: () => Promise.reject(new Error('caída')),
      medir: () => Promise.reject(new Error('caída')),
    };
    registrarMetricasAtascos(r, { atascados: caido, umbrales: UMBRALES });
    const texto = await r.metrics();
    expect(texto).not.toMatch(/^aeropartners_pagos_atascados\{/m);
    expect(texto).not.toMatch(/^aeropartners_pagos_atascado_mas_viejo_seconds\{/m);
  });

  it('re-impulsos del barrendero del proceso, por estado, y sus fallos', async () => {
    const { doble, plantar } = almacen();
    plantar('PENDIENTE', 10 * MIN);
    plantar('PROCESANDO', 10 * MIN);
    plantar('PROCESANDO', 10 * MIN);
    const barrendero = crearBarrendero({ atascados: doble, umbrales: UMBRALES, periodoMs: 1000 });
    const r = registro();
    registrarMetricasAtascos(r, { atascados: doble, umbrales: UMBRALES, barrendero: () => barrendero.contadores() });
    expect(muestra(await r.metrics(), 'aeropartners_pagos_reimpulsados_total', 'estado="PROCESANDO"')).toBe('0');
    await barrendero.barrer();
    const texto = await r.metrics();
    expect(texto).toContain('# TYPE aeropartners_pagos_reimpulsados_total counter');
    expect(muestra(texto, 'aeropartners_pagos_reimpulsados_total', 'estado="PENDIENTE"')).toBe('1');
    expect(muestra(texto, 'aeropartners_pagos_reimpulsados_total', 'estado="PROCESANDO"')).toBe('2');
    expect(muestra(texto, 'aeropartners_pagos_barrendero_fallos_total')).toBe('0');
  });
});
