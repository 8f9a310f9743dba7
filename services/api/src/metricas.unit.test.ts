import { crearMetricasHttp, crearRegistroMetricas, exponerMetricas } from '@aeropartners/adaptadores';
import { describe, expect, it } from 'vitest';
import { crearAppDePrueba, postPago } from '../test/app-de-prueba.js';

function appConMetricas() {
  const registro = crearRegistroMetricas({ servicio: 'prueba', deProceso: false });
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

    const r = await app.request('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const texto = await r.text();
    expect(linea(texto, 'aeropartners_pagos_duplicados_absorbidos_total{etapa="entrada"')).toMatch(/ 1$/);
    expect(linea(texto, 'aeropartners_pagos_http_peticiones_total{metodo="POST",ruta="/pagos",estado="200"')).toMatch(/ 2$/);
    expect(linea(texto, 'aeropartners_pagos_http_peticiones_total{metodo="GET",ruta="/pagos/:id",estado="200"')).toMatch(/ 1$/);
    expect(linea(texto, 'aeropartners_pagos_http_peticiones_total{metodo="GET",ruta="sin_ruta",estado="404"')).toMatch(/ 1$/);
    expect(texto).toContain('aeropartners_pagos_http_duracion_seconds_count{servicio="prueba",metodo="POST",ruta="/pagos",estado="200"} 2');
    expect(texto).not.toContain(creado.id_pago);
  });

  it('sin métricas en las dependencias, /metrics no existe (y no figura en el documento OpenAPI)', async () => {
    const { app } = crearAppDePrueba();
    expect((await app.request('/metrics')).status).toBe(404);
  });
});
