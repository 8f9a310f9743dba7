import { Resultado } from '@aeropartners/dominio';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { CUERPO_VALIDO, SOCIO_ANONIMO, crearAppDePrueba, postPago } from '../test/app-de-prueba.js';
import {
  EsquemaEstadisticasOutbox,
  EsquemaHistorialPago,
  EsquemaPaginaPagos,
  EsquemaPago,
  EsquemaPagoRegistrado,
  EsquemaProblema,
  EsquemaSalud,
} from './esquemas.js';
import { crearManejadores } from './manejadores.js';
import { MENSAJE_PAGO_REGISTRADO } from './presentacion.js';

type Json = Record<string, unknown>;
const json = async (r: Response) => (await r.json()) as Json;

/** Comprueba que el cuerpo cumple el esquema que lo documenta en OpenAPI. */
function cumple(esquema: v.GenericSchema, cuerpo: unknown) {
  const r = v.safeParse(esquema, cuerpo);
  expect(r.issues?.map((i) => `${v.getDotPath(i)}: ${i.message}`) ?? []).toEqual([]);
}

describe('POST /pagos', () => {
  it('dado un cuerpo válido, entonces 200 con el pago PENDIENTE, monto como número JSON, y un pago con un evento y un historial', async () => {
    const { app, repositorio } = crearAppDePrueba();
    const r = await postPago(app);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('idempotent-replayed')).toBeNull();
    const cuerpo = await json(r);
    expect(cuerpo).toEqual({
      id_pago: '00000000-0000-7000-8000-000000000001',
      id_afiliado: 'afiliado-1',
      monto: 150.75,
      moneda: 'USD',
      estado: 'PENDIENTE',
      referencia_pago: 'REF-1',
      fecha_creacion: '2026-01-01T00:00:00.000Z',
      mensaje: MENSAJE_PAGO_REGISTRADO,
    });
    cumple(EsquemaPagoRegistrado, cuerpo);
    expect(repositorio.pagos.size).toBe(1);
    expect(repositorio.outbox).toHaveLength(1);
    expect(repositorio.outbox[0]?.evento.tipo).toBe('PagoPendiente');
    expect(repositorio.historialPorPago.get(String(cuerpo['id_pago']))).toHaveLength(1);
    const pago = repositorio.pagos.get(String(cuerpo['id_pago']));
    expect(pago).toMatchObject({ idSocio: 'socio-de-prueba', monto: { unidadesMenores: 15_075, moneda: 'USD' } });
  });

  it('dada la ruta con barra final (/pagos/), entonces también registra el pago', async () => {
    const { app } = crearAppDePrueba();
    const r = await app.request('/pagos/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(CUERPO_VALIDO),
    });
    expect(r.status).toBe(200);
  });

  it.each([
    [100, 100],
    [0.01, 0.01],
    [150.7, 150.7],
    [999_999_999.99, 999_999_999.99],
  ])('dado monto %d, entonces se responde el mismo número %d', async (monto, esperado) => {
    const { app } = crearAppDePrueba();
    const r = await postPago(app, { ...CUERPO_VALIDO, monto });
    expect((await json(r))['monto']).toBe(esperado);
  });

  it('dado Content-Type con charset=utf-8, entonces se acepta', async () => {
    const { app } = crearAppDePrueba();
    const r = await postPago(app, CUERPO_VALIDO, { 'Content-Type': 'application/json; charset=UTF-8' });
    expect(r.status).toBe(200);
  });

  it('dados campos desconocidos en el cuerpo, entonces se ignoran', async () => {
    const { app } = crearAppDePrueba();
    const texto = JSON.stringify({ ...CUERPO_VALIDO, extra: 'x' }).replace('{', '{"__proto__":{"malicioso":true},');
    const r = await postPago(app, texto);
    expect(r.status).toBe(200);
    const cuerpo = await json(r);
    expect(cuerpo).not.toHaveProperty('extra');
    expect(cuerpo).not.toHaveProperty('malicioso');
    expect(({} as Json)['malicioso']).toBeUndefined();
  });
});

describe('GET /pagos/{id}', () => {
  it('dado un pago registrado, entonces 200 con todos sus campos', async () => {
    const { app } = crearAppDePrueba();
    const { id_pago } = await json(await postPago(app));
    const r = await app.request(`/pagos/${String(id_pago)}`);
    expect(r.status).toBe(200);
    const cuerpo = await json(r);
    expect(cuerpo).toEqual({
      id: id_pago,
      id_afiliado: 'afiliado-1',
      monto: 150.75,
      moneda: 'USD',
      estado: 'PENDIENTE',
      referencia_pago: 'REF-1',
      fecha_creacion: '2026-01-01T00:00:00.000Z',
      fecha_procesamiento: null,
      mensaje_error: null,
      referencia_transaccion: null,
      version: 1,
      fecha_actualizacion: '2026-01-01T00:00:00.000Z',
    });
    cumple(EsquemaPago, cuerpo);
  });

  it('dado el id en mayúsculas, entonces encuentra el mismo pago', async () => {
    const { app } = crearAppDePrueba();
    const { id_pago } = await json(await postPago(app));
    const r = await app.request(`/pagos/${String(id_pago).toUpperCase()}`);
    expect(r.status).toBe(200);
    expect((await json(r))['id']).toBe(id_pago);
  });

  it('dado un pago que ya terminó, entonces muestra su estado final, fecha de procesamiento y referencia', async () => {
    const { app, repositorio, reloj } = crearAppDePrueba();
    const { id_pago } = await json(await postPago(app));
    const pago = repositorio.pagos.get(String(id_pago));
    if (!pago) throw new Error('falta el pago');
    reloj.avanzar(1000);
    repositorio.pagos.set(pago.id, {
      ...pago,
      estado: 'EXITOSO',
      version: 3,
      fechaProcesamiento: reloj.ahora(),
      fechaActualizacion: reloj.ahora(),
      referenciaTransaccion: 'tr_123',
    });
    const cuerpo = await json(await app.request(`/pagos/${String(id_pago)}`));
    expect(cuerpo).toMatchObject({
      estado: 'EXITOSO',
      version: 3,
      fecha_procesamiento: '2026-01-01T00:00:01.000Z',
      referencia_transaccion: 'tr_123',
    });
    cumple(EsquemaPago, cuerpo);
  });

  it('dado un UUID que no existe, entonces 404 problem+json que nombra el id', async () => {
    const { app } = crearAppDePrueba();
    const id = '0190a0b0-0000-7000-8000-000000000000';
    const r = await app.request(`/pagos/${id}`);
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    const problema = await json(r);
    expect(problema).toMatchObject({
      type: 'urn:aeropartners:pagos:problema:pago-no-encontrado',
      title: 'El pago no existe',
      status: 404,
      instance: `/pagos/${id}`,
      id_pago: id,
    });
    cumple(EsquemaProblema, problema);
  });
});

describe('GET /pagos (listado)', () => {
  async function conPagos(n: number) {
    const contexto = crearAppDePrueba();
    for (let i = 1; i <= n; i++) {
      const r = await postPago(contexto.app, {
        ...CUERPO_VALIDO,
        id_afiliado: i % 2 === 0 ? 'afiliado-par' : 'afiliado-impar',
        referencia_pago: `REF-${i}`,
      });
      expect(r.status).toBe(200);
    }
    return contexto;
  }

  it('dados varios pagos, entonces los devuelve del más nuevo al más viejo con siguiente_cursor', async () => {
    const { app } = await conPagos(5);
    const r = await app.request('/pagos?limite=2');
    expect(r.status).toBe(200);
    const pagina = await json(r);
    cumple(EsquemaPaginaPagos, pagina);
    const pagos = pagina['pagos'] as Json[];
    expect(pagos.map((p) => p['referencia_pago'])).toEqual(['REF-5', 'REF-4']);
    expect(pagina['siguiente_cursor']).toEqual(expect.any(String));

    const vistos = pagos.map((p) => p['referencia_pago']);
    let cursor = pagina['siguiente_cursor'] as string | null;
    while (cursor) {
      const siguiente = await json(await app.request(`/pagos?limite=2&cursor=${encodeURIComponent(cursor)}`));
      vistos.push(...(siguiente['pagos'] as Json[]).map((p) => p['referencia_pago']));
      cursor = siguiente['siguiente_cursor'] as string | null;
    }
    expect(vistos).toEqual(['REF-5', 'REF-4', 'REF-3', 'REF-2', 'REF-1']);
  });

  it('dados filtros, entonces solo devuelve los pagos que cumplen todos', async () => {
    const { app } = await conPagos(4);
    const porAfiliado = await json(await app.request('/pagos?id_afiliado=afiliado-par'));
    expect((porAfiliado['pagos'] as Json[]).map((p) => p['referencia_pago'])).toEqual(['REF-4', 'REF-2']);
    expect(porAfiliado['siguiente_cursor']).toBeNull();
    const porReferencia = await json(await app.request('/pagos?referencia_pago=REF-3&estado=PENDIENTE'));
    expect((porReferencia['pagos'] as Json[]).map((p) => p['referencia_pago'])).toEqual(['REF-3']);
    const porEstado = await json(await app.request('/pagos?estado=EXITOSO'));
    expect(porEstado['pagos']).toEqual([]);
  });

  it('sin pagos, entonces una página vacía', async () => {
    const { app } = crearAppDePrueba();
    expect(await json(await app.request('/pagos/'))).toEqual({ pagos: [], siguiente_cursor: null });
  });
});

describe('GET /pagos/{id}/historial', () => {
  it('dado un pago registrado, entonces su historial con el evento PagoPendiente, el id de correlación y el Request-Id', async () => {
    const { app } = crearAppDePrueba();
    const { id_pago } = await json(await postPago(app, CUERPO_VALIDO, { 'X-Correlation-Id': 'pedido-42' }));
    const r = await app.request(`/pagos/${String(id_pago)}/historial`);
    expect(r.status).toBe(200);
    const cuerpo = await json(r);
    cumple(EsquemaHistorialPago, cuerpo);
    expect(cuerpo).toEqual({
      id_pago,
      historial: [
        {
          estado: 'PENDIENTE',
          version: 1,
          tipo_evento: 'PagoPendiente',
          id_evento: expect.any(String),
          ocurrido_en: '2026-01-01T00:00:00.000Z',
          id_correlacion: 'pedido-42',
          id_solicitud: 'req_solicitud-1',
        },
      ],
    });
  });

  it('dado un pago que no existe, entonces 404', async () => {
    const { app } = crearAppDePrueba();
    const r = await app.request('/pagos/0190a0b0-0000-7000-8000-000000000000/historial');
    expect(r.status).toBe(404);
    expect((await json(r))['type']).toBe('urn:aeropartners:pagos:problema:pago-no-encontrado');
  });
});

describe('GET /pagos/outbox/estadisticas', () => {
  it('dados dos pagos y un evento publicado, entonces total 2, procesados 1, pendientes 1 (no lo captura /pagos/{id})', async () => {
    const { app, repositorio } = crearAppDePrueba();
    expect(await json(await app.request('/pagos/outbox/estadisticas'))).toEqual({
      total_eventos: 0,
      eventos_procesados: 0,
      eventos_pendientes: 0,
    });
    await postPago(app, { ...CUERPO_VALIDO, referencia_pago: 'A' });
    await postPago(app, { ...CUERPO_VALIDO, referencia_pago: 'B' });
    const fila = repositorio.outbox[0];
    if (fila) fila.publicado = true;
    const r = await app.request('/pagos/outbox/estadisticas');
    expect(r.status).toBe(200);
    const cuerpo = await json(r);
    cumple(EsquemaEstadisticasOutbox, cuerpo);
    expect(cuerpo).toEqual({ total_eventos: 2, eventos_procesados: 1, eventos_pendientes: 1 });
  });
});

describe('salud', () => {
  it('GET /health: 200 healthy sin tocar la base de datos', async () => {
    let llamadas = 0;
    const { app } = crearAppDePrueba({
      comprobarSalud: async () => {
        llamadas += 1;
        return false;
      },
    });
    const r = await app.request('/health');
    expect(r.status).toBe(200);
    const cuerpo = await json(r);
    expect(cuerpo).toEqual({ status: 'healthy', service: 'aeropartners-pagos-api' });
    cumple(EsquemaSalud, cuerpo);
    expect(llamadas).toBe(0);
  });

  it('GET /health/ready: 200 cuando la base de datos responde', async () => {
    const { app } = crearAppDePrueba({ comprobarSalud: async () => true });
    const r = await app.request('/health/ready');
    expect(r.status).toBe(200);
    expect(await json(r)).toEqual({ status: 'ready', service: 'aeropartners-pagos-api' });
  });

  it.each([
    ['responde false', async () => false],
    ['lanza un error', async () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:5432'))],
    ['no responde a tiempo', () => new Promise<boolean>(() => {})],
  ])('GET /health/ready: 503 problem+json cuando la base de datos %s, sin detalles internos', async (_caso, comprobarSalud) => {
    const { app, logger } = crearAppDePrueba({ comprobarSalud, tiempoMaximoSaludMs: 20 });
    const r = await app.request('/health/ready');
    expect(r.status).toBe(503);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.headers.get('retry-after')).toBe('5');
    const texto = await r.text();
    expect(texto).not.toContain('ECONNREFUSED');
    expect(JSON.parse(texto)).toMatchObject({ type: 'urn:aeropartners:pagos:problema:servicio-no-disponible', status: 503 });
    expect(logger.lineas.some((l) => l.nivel === 'warn' && l.mensaje === 'la base de datos no responde')).toBe(true);
  });
});

describe('documentación', () => {
  it('GET /docs: página de Swagger UI con recursos locales (sin CDN)', async () => {
    const { app } = crearAppDePrueba();
    const r = await app.request('/docs');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await r.text();
    expect(html).toContain('/openapi.json');
    expect(html).not.toMatch(/https?:\/\//);
    for (const recurso of ['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/favicon-32x32.png']) {
      expect(html).toContain(recurso);
      const asset = await app.request(recurso);
      expect(asset.status, recurso).toBe(200);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    expect((await app.request('/docs/swagger-ui-bundle.js')).headers.get('content-type')).toMatch(/javascript/);
  });

  it('GET /docs/{otro}: 404 (solo se sirven los recursos de la lista)', async () => {
    const { app } = crearAppDePrueba();
    expect((await app.request('/docs/package.json')).status).toBe(404);
    expect((await app.request('/docs/..%2Fpackage.json')).status).toBe(404);
  });
});

describe('rutas desconocidas y errores inesperados', () => {
  it.each([
    ['GET', '/no-existe'],
    ['DELETE', '/pagos'],
    ['PUT', '/pagos/0190a0b0-0000-7000-8000-000000000000'],
  ])('%s %s: 404 problem+json', async (metodo, ruta) => {
    const { app } = crearAppDePrueba();
    const r = await app.request(ruta, { method: metodo });
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    const problema = await json(r);
    cumple(EsquemaProblema, problema);
    expect(problema).toMatchObject({ type: 'urn:aeropartners:pagos:problema:recurso-no-encontrado', status: 404, instance: ruta });
  });

  it('dado un fallo de infraestructura, entonces 500 problem+json sin detalles internos, registrado con el id de correlación', async () => {
    const base = crearAppDePrueba();
    const manejadores = crearManejadores({
      repositorio: {
        crear: () => Promise.reject(new Error('conexión perdida con postgres://usuario:secreto@db')),
        obtener: () => Promise.reject(new Error('interno')),
        guardar: () => Promise.resolve(Resultado.ok(null as never)),
      },
      consultas: base.repositorio,
      reloj: base.reloj,
      nuevoId: () => '0190a0b0-0000-7000-8000-000000000001',
    });
    const { app, logger } = crearAppDePrueba({ manejadores });
    const r = await postPago(app, CUERPO_VALIDO, { 'X-Correlation-Id': 'fallo-1' });
    expect(r.status).toBe(500);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.headers.get('x-correlation-id')).toBe('fallo-1');
    const texto = await r.text();
    expect(texto).not.toMatch(/secreto|postgres|conexión perdida|stack|\sat\s/);
    const problema = JSON.parse(texto) as Json;
    cumple(EsquemaProblema, problema);
    expect(problema).toMatchObject({
      type: 'urn:aeropartners:pagos:problema:error-interno',
      status: 500,
      instance: '/pagos',
      id_correlacion: 'fallo-1',
    });
    const linea = logger.lineas.find((l) => l.nivel === 'error');
    expect(linea?.campos).toMatchObject({ id_correlacion: 'fallo-1', estado_http: 500, ruta: '/pagos' });
    expect(String((linea?.campos['err'] as Error | undefined)?.message)).toContain('conexión perdida');
  });
});

describe('correlación y traza', () => {
  it('dado un X-Correlation-Id válido, entonces se devuelve el mismo y viaja al outbox y al historial', async () => {
    const { app, repositorio } = crearAppDePrueba();
    const r = await postPago(app, CUERPO_VALIDO, { 'X-Correlation-Id': 'socio:pedido-42.v1_a' });
    expect(r.headers.get('x-correlation-id')).toBe('socio:pedido-42.v1_a');
    expect(repositorio.outbox[0]?.traza.idCorrelacion).toBe('socio:pedido-42.v1_a');
  });

  it.each([
    ['ausente', undefined],
    ['con espacios', 'hola mundo'],
    ['demasiado largo', 'a'.repeat(129)],
    ['con caracteres no permitidos', 'abc<script>'],
  ])('dado un X-Correlation-Id %s, entonces se genera uno nuevo y se devuelve', async (_caso, valor) => {
    const { app } = crearAppDePrueba();
    const r = await app.request('/health', { headers: valor === undefined ? {} : { 'X-Correlation-Id': valor } });
    expect(r.headers.get('x-correlation-id')).toBe('correlacion-1');
  });

  it('las respuestas de error también llevan el id de correlación, en la cabecera y en el problema', async () => {
    const { app } = crearAppDePrueba();
    const r = await app.request('/pagos/no-es-uuid', { headers: { 'X-Correlation-Id': 'c-404' } });
    expect(r.headers.get('x-correlation-id')).toBe('c-404');
    expect((await json(r))['id_correlacion']).toBe('c-404');
  });

  it('dado un traceparent válido, entonces el comando continúa esa traza con un tramo propio', async () => {
    const { app, repositorio } = crearAppDePrueba();
    const entrante = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await postPago(app, CUERPO_VALIDO, { traceparent: entrante });
    const propagado = repositorio.outbox[0]?.traza.traceparent ?? '';
    expect(propagado).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(propagado).not.toBe(entrante);
  });

  it('dado un traceparent mal formado, entonces se inicia una traza nueva', async () => {
    const { app, repositorio } = crearAppDePrueba();
    await postPago(app, CUERPO_VALIDO, { traceparent: 'basura' });
    expect(repositorio.outbox[0]?.traza.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});

describe('registro', () => {
  it('cada petición deja UNA línea con método, ruta, estado, duración, Request-Id, correlación, socio e id de pago', async () => {
    const { app, logger } = crearAppDePrueba();
    const { id_pago } = await json(await postPago(app, CUERPO_VALIDO, { 'X-Correlation-Id': 'c-1' }));
    await app.request(`/pagos/${String(id_pago)}`, { headers: { 'X-Correlation-Id': 'c-2' } });
    await app.request('/no-existe', { headers: { 'X-Correlation-Id': 'c-3' } });
    expect(logger.lineas).toHaveLength(3);
    // En el modo anónimo no hay clave: el socio es el anónimo y no hay prefijo de clave.
    const comun = { duracion_ms: expect.any(Number), id_socio: SOCIO_ANONIMO, prefijo_clave: undefined };
    expect(logger.lineas.map((l) => l.campos)).toEqual([
      { ...comun, metodo: 'POST', ruta: '/pagos', estado_http: 200, id_solicitud: 'req_solicitud-1', id_correlacion: 'c-1', id_pago },
      { ...comun, metodo: 'GET', ruta: '/pagos/:id', estado_http: 200, id_solicitud: 'req_solicitud-2', id_correlacion: 'c-2', id_pago },
      { ...comun, metodo: 'GET', ruta: null, estado_http: 404, id_solicitud: 'req_solicitud-3', id_correlacion: 'c-3', id_pago: undefined },
    ]);
    expect(logger.lineas.every((l) => l.nivel === 'info' && l.mensaje === 'solicitud atendida')).toBe(true);
  });
});

describe('base de datos no disponible → 503 con Retry-After (issue 9, punto 9)', () => {
  /** Un error como los que lanza `pg`: con su SQLSTATE o su código de red, envuelto por el repositorio. */
  const dePg = (mensaje: string, propiedades: Json = {}) =>
    new Error('No se pudo registrar el pago: falló la sentencia del lote (1 solicitud(es)) en PostgreSQL', {
      cause: Object.assign(new Error(mensaje), propiedades),
    });

  function appQueFalla(error: Error) {
    const base = crearAppDePrueba();
    const manejadores = crearManejadores({
      repositorio: { crear: () => Promise.reject(error), obtener: () => Promise.reject(error), guardar: () => Promise.reject(error) },
      consultas: {
        obtenerPago: () => Promise.reject(error),
        listar: () => Promise.reject(error),
        historial: () => Promise.reject(error),
        estadisticasOutbox: () => Promise.reject(error),
      } as unknown as typeof base.repositorio,
      reloj: base.reloj,
      nuevoId: () => '0190a0b0-0000-7000-8000-000000000001',
    });
    return crearAppDePrueba({ manejadores });
  }

  it.each([
    ['conexión rechazada', dePg('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED', syscall: 'connect' })],
    ['socket Unix borrado', dePg('connect ENOENT /tmp/.s.PGSQL.5432', { code: 'ENOENT', syscall: 'connect' })],
    ['parada rápida (57P01)', dePg('terminating connection due to administrator command', { code: '57P01', severity: 'FATAL' })],
    ['caída de otro proceso (57P02)', dePg('terminating connection because of crash of another server process', { code: '57P02' })],
    ['en recuperación (57P03)', dePg('the database system is in recovery mode', { code: '57P03' })],
    ['demasiadas conexiones (53300)', dePg('sorry, too many clients already', { code: '53300' })],
    ['conexión cortada a medias', dePg('Connection terminated unexpectedly')],
    ['espera del pool agotada', new Error('timeout exceeded when trying to connect')],
    ['IPv4 e IPv6 rechazadas', new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], '')],
  ])('%s: 503 problem+json con Retry-After en cada ruta que usa la base; registrado como aviso con la causa', async (_caso, error) => {
    const { app, logger } = appQueFalla(error);
    const rutas: [string, RequestInit?][] = [
      ['/pagos', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CUERPO_VALIDO) }],
      ['/pagos/0190a0b0-0000-7000-8000-000000000001'],
      ['/pagos/0190a0b0-0000-7000-8000-000000000001/historial'],
      ['/pagos?limite=5'],
      ['/pagos/outbox/estadisticas'],
    ];
    for (const [ruta, init] of rutas) {
      const r = await app.request(ruta, init);
      expect(r.status, ruta).toBe(503);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.headers.get('retry-after')).toBe('5');
      const texto = await r.text();
      expect(texto).not.toMatch(/ECONNREFUSED|ENOENT|57P0|53300|terminat|timeout|stack|\sat\s/i);
      const problema = JSON.parse(texto) as Json;
      cumple(EsquemaProblema, problema);
      expect(problema).toMatchObject({
        type: 'urn:aeropartners:pagos:problema:servicio-no-disponible',
        status: 503,
        instance: ruta.split('?')[0],
      });
    }
    expect(logger.lineas.filter((l) => l.nivel === 'error')).toEqual([]);
    const avisos = logger.lineas.filter((l) => l.nivel === 'warn' && l.mensaje === 'solicitud no atendida');
    expect(avisos).toHaveLength(rutas.length);
    for (const aviso of avisos) expect(aviso.campos).toMatchObject({ estado_http: 503, causa: expect.any(String) });
  });

  it.each([
    ['un dato que PostgreSQL rechaza (22P02)', dePg('invalid input syntax for type uuid', { code: '22P02' })],
    ['una violación de unicidad (23505)', dePg('duplicate key value', { code: '23505' })],
    [
      'un fichero que no existe (ENOENT al abrir, no al conectar)',
      Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', syscall: 'open' }),
    ],
    ['un fallo cualquiera', new Error('fallo inesperado')],
  ])('%s sigue siendo 500 sin detalles internos', async (_caso, error) => {
    const { app, logger } = appQueFalla(error);
    const r = await postPago(app);
    expect(r.status).toBe(500);
    expect(r.headers.get('retry-after')).toBeNull();
    expect((await json(r))['type']).toBe('urn:aeropartners:pagos:problema:error-interno');
    expect(logger.lineas.filter((l) => l.nivel === 'error')).toHaveLength(1);
  });
});

describe('GET /health/ready mientras la instancia se apaga', () => {
  it('503 problem+json mientras drena, aunque la base responda; el resto de rutas sigue atendiendo', async () => {
    let drenando = false;
    const { app } = crearAppDePrueba({ comprobarSalud: async () => true, drenando: () => drenando });
    expect((await app.request('/health/ready')).status).toBe(200);
    drenando = true;
    const r = await app.request('/health/ready');
    expect(r.status).toBe(503);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    const problema = await json(r);
    cumple(EsquemaProblema, problema);
    expect(problema).toMatchObject({
      type: 'urn:aeropartners:pagos:problema:servicio-no-disponible',
      detail: expect.stringMatching(/apagando/),
    });
    expect((await app.request('/health')).status).toBe(200);
    expect((await postPago(app)).status).toBe(200);
  });
});
