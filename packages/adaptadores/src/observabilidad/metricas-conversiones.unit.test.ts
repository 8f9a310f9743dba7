import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registrarMetricasConsumidor } from './metricas-servicios.js';

describe('métricas de hechos de conversión del consumidor', () => {
  const contadores = {
    recibidos: 0,
    exitosos: 0,
    fallidos: 0,
    duplicados: 0,
    muertos: 0,
    rechazados: 0,
    reintentosPasarela: 0,
    inciertos: 0,
    ocupados: 0,
    abandonados: 0,
    errores: 0,
  };

  it('por desenlace, leídas de los contadores en cada raspado; sin la fuente, no se exportan', async () => {
    const hechos = { aplicados: 4, duplicados: 2, bloqueados: 1, rechazados: 3 };
    const r = new Registry();
    registrarMetricasConsumidor(r, { consumidor: () => contadores, hechosConversion: () => hechos });
    hechos.aplicados = 5;
    const texto = await r.metrics();
    expect(texto).toContain('aeropartners_pagos_hechos_conversion_total{desenlace="aplicado"} 5');
    expect(texto).toContain('aeropartners_pagos_hechos_conversion_total{desenlace="duplicado"} 2');
    expect(texto).toContain('aeropartners_pagos_hechos_conversion_total{desenlace="bloqueada"} 1');
    expect(texto).toContain('aeropartners_pagos_hechos_conversion_total{desenlace="rechazado"} 3');
    const sin = new Registry();
    registrarMetricasConsumidor(sin, { consumidor: () => contadores });
    expect(await sin.metrics()).not.toContain('hechos_conversion');
  });
});
