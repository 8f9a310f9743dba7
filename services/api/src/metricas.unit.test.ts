import { crearMetricasHttp, crearRegistroMetricas, exponerMetricas } from '@aeropartners/adaptadores';
import { describe, expect, it } from 'vitest';
import { crearAppDePrueba, postPago } from '../test/app-de-prueba.js';

function appConMetricas(deProceso = false) {
  const registro = crearRegistroMetricas({ servicio: 'prueba', deProceso });
  const metricas = { ...crearMetricasHttp(registro), exponer: () => exponerMetricas(registro) };
  return crearAppDePrueba({ metricas });
}

const linea = (texto: string, prefijo: string) => texto.split('\n').find((l) => l.startsWith(prefijo));

describe('GET /metrics de la API', () => {
  it('cuenta las peticiones por patrón de ruta y estado, y las réplicas como duplicados absorbidos en la entrada', async () => {
    const { app } = appConMetricas();
    const creado = (await (await postPago(app)).json()) as { id_pago: string };
    const replica = await postPago(app);
    expect(replica.headers.get('idempotent-replayed')).toBe('true');
    expect((await app.request(`/pagos/${creado.id_pago}`)).status).toBe(200);
    expect((await app.request('/no-existe')).status).toBe(404);
    // Solo la recorre el middleware de `/pagos/*`: tampoco es una ruta.
    expect((await app.request('/pagos/a/b/c')).status).toBe(404);

    const r = await app.request('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const texto = await r.text();
    expect(linea(texto, 'aeropartners_pagos_duplicados_absorbidos_total{etapa="entrada"')).toMatch(/ 1$/);
    expect(linea(texto, 'aeropartners_pagos_http_peticiones_total{metodo="POST",ruta="/pagos",estado="200"')).toMatch(/ 2$/);
    expect(linea(texto, 'aeropartners_pagos_http_peticiones_total{metodo="GET",ruta="/pagos/:id",estado="200"')).toMatch(/ 1$/);
    expect(linea(texto, 'aeropartners_pagos_http_peticiones_total{metodo="GET",ruta="sin_ruta",estado="404"')).toMatch(/ 2$/);
    expect(texto).toContain('aeropartners_pagos_http_duracion_seconds_count{servicio="prueba",metodo="POST",ruta="/pagos",estado="200"} 2');
    expect(texto).not.toContain(creado.id_pago);
  });

  it('nombres de Prometheus: unidades base con sufijo inglés; las de proceso de Node, sin prefijo', async () => {
    const { app } = appConMetricas(true);
    await postPago(app);
    const texto = await (await app.request('/metrics')).text();
    const tipos = new Map([...texto.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, nombre, tipo]) => [nombre!, tipo!]));
    const propias = [...tipos].filter(([nombre]) => nombre.startsWith('aeropartners_pagos_'));
    expect(propias.map(([nombre]) => nombre).sort()).toEqual([
      'aeropartners_pagos_duplicados_absorbidos_total',
      'aeropartners_pagos_http_duracion_seconds',
      'aeropartners_pagos_http_peticiones_total',
    ]);
    for (const [nombre, tipo] of propias) {
      if (tipo === 'counter') expect(nombre).toMatch(/_total$/);
      if (tipo === 'histogram') expect(nombre).toMatch(/_seconds$/);
    }
    expect(tipos.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(tipos.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect([...tipos.keys()].filter((n) => /segundos|^aeropartners_pagos_(process|nodejs)_/.test(n))).toEqual([]);
  });

  it('sin métricas en las dependencias, /metrics no existe (y no figura en el documento OpenAPI)', async () => {
    const { app } = crearAppDePrueba();
    expect((await app.request('/metrics')).status).toBe(404);
  });
});
