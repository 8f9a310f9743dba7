import { Webhook } from 'standardwebhooks';
import { describe, expect, it, vi } from 'vitest';
import { CUERPO_VALIDO, crearAppDePrueba, postPago } from '../test/app-de-prueba.js';
import { nuevoIdSolicitud } from './solicitud.js';

/**
 * Socios de verdad en la API (issue 11): la clave decide el socio, todo lo que se lee o escribe queda en
 * su ámbito, firmas de petición, límite de ritmo y Request-Id. Con el doble en memoria del autenticador;
 * la pasada contra PostgreSQL está en `socios.int.test.ts`.
 */

type Json = Record<string, unknown>;
const json = async (r: Response) => (await r.json()) as Json;
const bearer = (clave: string) => ({ Authorization: `Bearer ${clave}` });

/** La app SIN modo anónimo, con dos socios activos (A y B), uno suspendido, y claves de cada caso. */
function escenario(opciones: Parameters<typeof crearAppDePrueba>[0] = {}) {
  const prueba = crearAppDePrueba({ idSocioAnonimo: undefined, ...opciones });
  const { autenticador } = prueba;
  const claveA = autenticador.emitirClave('socio-a');
  const claveB = autenticador.emitirClave('socio-b');
  const revocada = autenticador.emitirClave('socio-a');
  autenticador.revocar(revocada);
  const expirada = autenticador.emitirClave('socio-a', 'live', new Date('2025-01-01T00:00:00Z'));
  const deSuspendido = autenticador.emitirClave('socio-s');
  autenticador.suspender('socio-s');
  return { ...prueba, claveA, claveB, revocada, expirada, deSuspendido };
}

/** Cada ruta de datos, con un pago de A ya creado (su id en la ruta cuando la ruta lo lleva). */
const RUTAS = [
  ['POST /pagos', (id: string) => ['/pagos', { method: 'POST', body: JSON.stringify({ ...CUERPO_VALIDO, referencia_pago: `R-${id}` }) }]],
  ['GET /pagos', () => ['/pagos']],
  ['GET /pagos/:id', (id: string) => [`/pagos/${id}`]],
  ['GET /pagos/:id/historial', (id: string) => [`/pagos/${id}/historial`]],
  ['GET /pagos/outbox/estadisticas', () => ['/pagos/outbox/estadisticas']],
] as const satisfies readonly (readonly [string, (id: string) => readonly [string, RequestInit?]])[];

function pedir(
  app: ReturnType<typeof escenario>['app'],
  ruta: (typeof RUTAS)[number][1],
  idPago: string,
  cabeceras: Record<string, string>,
) {
  const [url, init = {}] = ruta(idPago) as readonly [string, RequestInit?];
  return app.request(url, { ...init, headers: { 'Content-Type': 'application/json', ...cabeceras } });
}

const contar = (r: ReturnType<typeof escenario>['repositorio']) => ({
  pagos: r.pagos.size,
  outbox: r.outbox.length,
  historial: [...r.historialPorPago.values()].reduce((n, h) => n + h.length, 0),
});

describe('ruta × credencial: nada se escribe en ningún rechazo', () => {
  const casos = [
    ['sin clave', () => ({}), 401, 'urn:aeropartners:pagos:problema:clave-ausente', 'Bearer realm="aeropartners-pagos"'],
    [
      'clave desconocida',
      () => bearer(`ap_live_${'x'.repeat(43)}`),
      401,
      'urn:aeropartners:pagos:problema:clave-invalida',
      'error="invalid_token"',
    ],
    [
      'clave revocada',
      (e: ReturnType<typeof escenario>) => bearer(e.revocada),
      401,
      'urn:aeropartners:pagos:problema:clave-invalida',
      'error="invalid_token"',
    ],
    [
      'clave expirada',
      (e: ReturnType<typeof escenario>) => bearer(e.expirada),
      401,
      'urn:aeropartners:pagos:problema:clave-invalida',
      'error="invalid_token"',
    ],
    [
      'cabecera que no es Bearer',
      () => ({ Authorization: 'Basic dXN1YXJpbzpjbGF2ZQ==' }),
      401,
      'urn:aeropartners:pagos:problema:clave-invalida',
      'error="invalid_request"',
    ],
    [
      'socio suspendido',
      (e: ReturnType<typeof escenario>) => bearer(e.deSuspendido),
      403,
      'urn:aeropartners:pagos:problema:socio-suspendido',
      null,
    ],
  ] as const;

  for (const [nombreRuta, ruta] of RUTAS) {
    it.each(casos)(`${nombreRuta} · %s`, async (_caso, cabeceras, estado, tipo, reto) => {
      const e = escenario();
      const creado = await json(await postPago(e.app, CUERPO_VALIDO, bearer(e.claveA)));
      const idPago = String(creado['id_pago']);
      const antes = contar(e.repositorio);
      const crear = vi.spyOn(e.repositorio, 'crear');

      const r = await pedir(e.app, ruta, idPago, cabeceras(e));
      expect(r.status).toBe(estado);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.headers.get('request-id')).toMatch(/^req_/);
      const problema = await json(r);
      expect(problema).toMatchObject({ type: tipo, status: estado });
      if (reto === null) expect(r.headers.get('www-authenticate')).toBeNull();
      else expect(r.headers.get('www-authenticate')).toContain(reto);
      expect(crear).not.toHaveBeenCalled();
      expect(contar(e.repositorio)).toEqual(antes);
      // Ni un dato del pago de A en el rechazo (fuera de `instance`, la ruta pedida).
      expect(JSON.stringify({ ...problema, instance: undefined })).not.toContain(idPago);
    });

    it(`${nombreRuta} · clave de otro socio: solo ve (y escribe en) lo suyo`, async () => {
      const e = escenario();
      const deA = await json(await postPago(e.app, CUERPO_VALIDO, bearer(e.claveA)));
      const idPago = String(deA['id_pago']);
      const r = await pedir(e.app, ruta, idPago, bearer(e.claveB));
      switch (nombreRuta) {
        case 'POST /pagos': {
          expect(r.status).toBe(200);
          expect((await json(r))['id_pago']).not.toBe(idPago);
          expect([...e.repositorio.pagos.values()].map((p) => p.idSocio).sort()).toEqual(['socio-a', 'socio-b']);
          break;
        }
        case 'GET /pagos':
          expect(r.status).toBe(200);
          expect(await json(r)).toEqual({ pagos: [], siguiente_cursor: null });
          break;
        case 'GET /pagos/:id':
        case 'GET /pagos/:id/historial':
          // 404 y no 403: que el pago existe en otro socio no se revela.
          expect(r.status).toBe(404);
          expect((await json(r))['type']).toBe('urn:aeropartners:pagos:problema:pago-no-encontrado');
          break;
        case 'GET /pagos/outbox/estadisticas':
          expect(r.status).toBe(200);
          expect(await json(r)).toEqual({ total_eventos: 0, eventos_procesados: 0, eventos_pendientes: 0 });
          break;
        default:
          nombreRuta satisfies never;
      }
      // Y A sigue viendo lo suyo con su clave.
      expect((await e.app.request(`/pagos/${idPago}`, { headers: bearer(e.claveA) })).status).toBe(200);
    });
  }
});

describe('autenticación por defecto', () => {
  it('toda ruta registrada que no es de operación ni de documentación exige la clave (también las que se añadan)', async () => {
    const { app } = escenario();
    const publicas = ['/health', '/health/ready', '/metrics', '/openapi.json', '/docs', '/docs/:recurso', '/panel', '/panel/:recurso'];
    const protegidas = app.routes.filter((r) => r.method !== 'ALL' && !publicas.includes(r.path));
    expect(protegidas.length).toBeGreaterThanOrEqual(RUTAS.length);
    for (const { method, path } of protegidas) {
      const r = await app.request(path.replace(':id', '0190a0b0-0000-7000-8000-000000000001'), { method });
      expect(r.status, `${method} ${path}`).toBe(401);
    }
  });

  it('una ruta que no existe tampoco responde sin clave (401, no 404: no se revela qué rutas hay)', async () => {
    const { app, claveA } = escenario();
    expect((await app.request('/no-existe')).status).toBe(401);
    expect((await app.request('/no-existe', { headers: bearer(claveA) })).status).toBe(404);
  });

  it('salud, documentación y OpenAPI se sirven sin clave', async () => {
    const { app } = escenario();
    for (const ruta of ['/health', '/health/', '/health/ready', '/openapi.json', '/docs']) {
      expect((await app.request(ruta)).status, ruta).toBe(200);
    }
  });

  it('el socio sale solo de la clave: ni una cabecera ni el cuerpo lo cambian', async () => {
    const { app, repositorio, claveB } = escenario();
    const r = await postPago(app, { ...CUERPO_VALIDO, id_socio: 'socio-a' }, { ...bearer(claveB), 'X-Socio': 'socio-a' });
    expect(r.status).toBe(200);
    expect([...repositorio.pagos.values()].map((p) => p.idSocio)).toEqual(['socio-b']);
  });

  it('una clave ap_test_ crea pagos de prueba, invisibles para la clave ap_live_ del mismo socio, y al revés', async () => {
    const { app, autenticador, claveA } = escenario();
    const pruebaA = autenticador.emitirClave('socio-a', 'test');
    const deTest = await json(await postPago(app, CUERPO_VALIDO, bearer(pruebaA)));
    const deLive = await json(await postPago(app, CUERPO_VALIDO, bearer(claveA)));
    expect(deTest['id_pago']).not.toBe(deLive['id_pago']);
    expect((await app.request(`/pagos/${String(deTest['id_pago'])}`, { headers: bearer(claveA) })).status).toBe(404);
    expect((await app.request(`/pagos/${String(deLive['id_pago'])}`, { headers: bearer(pruebaA) })).status).toBe(404);
    const listado = await json(await app.request('/pagos', { headers: bearer(pruebaA) }));
    expect((listado['pagos'] as Json[]).map((p) => p['id'])).toEqual([deTest['id_pago']]);
  });

  it('las réplicas de cada socio reciben su propio pago, también desde la caché de réplicas', async () => {
    const { app, claveA, claveB } = escenario({ capacidadCacheReplicas: 100 });
    const a = await json(await postPago(app, CUERPO_VALIDO, bearer(claveA)));
    const b = await json(await postPago(app, CUERPO_VALIDO, bearer(claveB)));
    expect(a['id_pago']).not.toBe(b['id_pago']);
    for (let i = 0; i < 3; i++) {
      const replicaB = await postPago(app, CUERPO_VALIDO, bearer(claveB));
      expect(replicaB.headers.get('idempotent-replayed')).toBe('true');
      expect((await json(replicaB))['id_pago']).toBe(b['id_pago']);
      expect((await json(await postPago(app, CUERPO_VALIDO, bearer(claveA))))['id_pago']).toBe(a['id_pago']);
    }
  });

  it('la clave se pasa a la escritura para que la confirme en la misma sentencia; en el modo anónimo, sin clave', async () => {
    const { app, repositorio, autenticador, claveA } = escenario();
    const crear = vi.spyOn(repositorio, 'crear');
    await postPago(app, CUERPO_VALIDO, bearer(claveA));
    expect(crear.mock.calls[0]?.[3]).toEqual({ idClave: autenticador.idClave(claveA) });
    const anonima = crearAppDePrueba();
    const crearAnonima = vi.spyOn(anonima.repositorio, 'crear');
    await postPago(anonima.app);
    expect(crearAnonima.mock.calls[0]?.[3]).toEqual({ idClave: null });
  });
});

describe('modo anónimo (API_ANONIMA_SOCIO)', () => {
  it('sin clave actúa como el socio anónimo (creado si falta); con clave, se autentica igual', async () => {
    const { app, repositorio, autenticador } = crearAppDePrueba({ idSocioAnonimo: 'semilla' });
    expect(autenticador.socios.has('semilla')).toBe(false);
    expect((await postPago(app)).status).toBe(200);
    expect(autenticador.socios.has('semilla')).toBe(true);
    const clave = autenticador.emitirClave('otro');
    await postPago(app, CUERPO_VALIDO, bearer(clave));
    expect([...repositorio.pagos.values()].map((p) => p.idSocio).sort()).toEqual(['otro', 'semilla']);
    expect((await postPago(app, CUERPO_VALIDO, bearer(`ap_live_${'y'.repeat(43)}`))).status).toBe(401);
    expect((await postPago(app, CUERPO_VALIDO, { Authorization: 'Bearer' })).status).toBe(401);
  });

  it('si el socio anónimo está suspendido, 403 y nada escrito', async () => {
    const { app, repositorio, autenticador } = crearAppDePrueba({ idSocioAnonimo: 'semilla' });
    autenticador.crearSocio('semilla');
    autenticador.suspender('semilla');
    const r = await postPago(app);
    expect(r.status).toBe(403);
    expect(repositorio.pagos.size).toBe(0);
  });
});

describe('firmas de petición (Standard Webhooks), con el paquete oficial como firmante', () => {
  const AHORA = new Date('2026-03-01T12:00:00Z');
  const SEGUNDOS = AHORA.getTime() / 1000;
  const SECRETO_VIEJO = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
  const SECRETO_NUEVO = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;
  const CUERPO = JSON.stringify(CUERPO_VALIDO);

  function conFirma(secretos: readonly string[] = [SECRETO_NUEVO]) {
    const prueba = crearAppDePrueba({ idSocioAnonimo: undefined, ahora: () => AHORA });
    prueba.autenticador.crearSocio('firmante', { firmaObligatoria: true, secretosFirma: secretos });
    return { ...prueba, clave: prueba.autenticador.emitirClave('firmante') };
  }

  const firmar = (secreto: string, segundos: number, cuerpo: string, id = 'msg_1') =>
    new Webhook(secreto).sign(id, new Date(segundos * 1000), cuerpo);

  function enviar(app: ReturnType<typeof conFirma>['app'], clave: string, cuerpo: string, firma: Record<string, string>) {
    return app.request('/pagos', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...bearer(clave), ...firma },
      body: cuerpo,
    });
  }

  const cabeceras = (segundos: number, firma: string, id = 'msg_1') => ({
    'webhook-id': id,
    'webhook-timestamp': String(segundos),
    'webhook-signature': firma,
  });

  it.each([
    ['300 s antes', -300],
    ['300 s después', 300],
    ['en el instante', 0],
  ])('acepta una firma correcta con la marca de tiempo %s', async (_caso, desfase) => {
    const { app, clave, repositorio } = conFirma();
    const r = await enviar(app, clave, CUERPO, cabeceras(SEGUNDOS + desfase, firmar(SECRETO_NUEVO, SEGUNDOS + desfase, CUERPO)));
    expect(r.status).toBe(200);
    expect(repositorio.pagos.size).toBe(1);
  });

  it.each([
    ['301 s antes', -301, 'marca_de_tiempo_antigua'],
    ['301 s después', 301, 'marca_de_tiempo_futura'],
  ])('rechaza con 401 una firma correcta con la marca de tiempo %s, y dice por qué', async (_caso, desfase, motivo) => {
    const { app, clave, repositorio } = conFirma();
    const r = await enviar(app, clave, CUERPO, cabeceras(SEGUNDOS + desfase, firmar(SECRETO_NUEVO, SEGUNDOS + desfase, CUERPO)));
    expect(r.status).toBe(401);
    const problema = await json(r);
    expect(problema).toMatchObject({ type: 'urn:aeropartners:pagos:problema:firma-invalida', motivo });
    expect(String(problema['detail'])).toContain('300');
    expect(repositorio.pagos.size).toBe(0);
  });

  it('un cuerpo alterado tras firmar no pasa (firma_no_coincide) y no se escribe nada', async () => {
    const { app, clave, repositorio } = conFirma();
    const firma = firmar(SECRETO_NUEVO, SEGUNDOS, CUERPO);
    const alterado = JSON.stringify({ ...CUERPO_VALIDO, monto: 999 });
    const r = await enviar(app, clave, alterado, cabeceras(SEGUNDOS, firma));
    expect(r.status).toBe(401);
    expect((await json(r))['motivo']).toBe('firma_no_coincide');
    // El mismo JSON con otro espaciado tampoco: se firma sobre los bytes crudos.
    const reespaciado = JSON.stringify(CUERPO_VALIDO, null, 1);
    expect((await enviar(app, clave, reespaciado, cabeceras(SEGUNDOS, firma))).status).toBe(401);
    expect(repositorio.pagos.size).toBe(0);
  });

  it('rotación del lado del socio: dos firmas en la cabecera, la vieja ya no vale y la nueva sí', async () => {
    const { app, clave } = conFirma([SECRETO_NUEVO]);
    const dos = `${firmar(SECRETO_VIEJO, SEGUNDOS, CUERPO)} ${firmar(SECRETO_NUEVO, SEGUNDOS, CUERPO)}`;
    expect((await enviar(app, clave, CUERPO, cabeceras(SEGUNDOS, dos))).status).toBe(200);
    const soloVieja = firmar(SECRETO_VIEJO, SEGUNDOS, CUERPO, 'msg_2');
    expect((await enviar(app, clave, CUERPO, cabeceras(SEGUNDOS, soloVieja, 'msg_2'))).status).toBe(401);
  });

  it('rotación del nuestro: con dos secretos vigentes vale la firma de cualquiera', async () => {
    const { app, clave, repositorio } = conFirma([SECRETO_VIEJO, SECRETO_NUEVO]);
    const otro = JSON.stringify({ ...CUERPO_VALIDO, referencia_pago: 'REF-2' });
    expect((await enviar(app, clave, CUERPO, cabeceras(SEGUNDOS, firmar(SECRETO_VIEJO, SEGUNDOS, CUERPO)))).status).toBe(200);
    expect((await enviar(app, clave, otro, cabeceras(SEGUNDOS, firmar(SECRETO_NUEVO, SEGUNDOS, otro)))).status).toBe(200);
    expect(repositorio.pagos.size).toBe(2);
  });

  it('sin cabeceras de firma: 401 que nombra la que falta; las lecturas no se firman', async () => {
    const { app, clave, repositorio } = conFirma();
    const r = await enviar(app, clave, CUERPO, {});
    expect(r.status).toBe(401);
    const problema = await json(r);
    expect(problema['motivo']).toBe('falta_cabecera');
    expect(String(problema['detail'])).toContain('webhook-id');
    expect(r.headers.get('www-authenticate')).toContain('Bearer');
    expect(repositorio.pagos.size).toBe(0);
    expect((await app.request('/pagos', { headers: bearer(clave) })).status).toBe(200);
  });

  it('un socio que no exige firma no necesita cabeceras de firma', async () => {
    const prueba = crearAppDePrueba({ idSocioAnonimo: undefined });
    const clave = prueba.autenticador.emitirClave('sin-firma');
    expect((await postPago(prueba.app, CUERPO_VALIDO, bearer(clave))).status).toBe(200);
  });

  it('un cuerpo por encima del límite se rechaza con 413 antes de verificar nada', async () => {
    const { app, clave } = conFirma();
    const grande = JSON.stringify({ ...CUERPO_VALIDO, relleno: 'x'.repeat(70_000) });
    const r = await enviar(app, clave, grande, cabeceras(SEGUNDOS, firmar(SECRETO_NUEVO, SEGUNDOS, grande)));
    expect(r.status).toBe(413);
  });
});

describe('límite de ritmo por socio', () => {
  function limitado(limiteRps: number | null, opciones: Parameters<typeof crearAppDePrueba>[0] = {}) {
    let ms = 0;
    const prueba = crearAppDePrueba({ idSocioAnonimo: undefined, relojMonotono: () => ms, limiteRps: 3, ...opciones });
    prueba.autenticador.crearSocio('rapido', { limiteRps });
    const clave = prueba.autenticador.emitirClave('rapido');
    return { ...prueba, clave, avanzar: (delta: number) => (ms += delta) };
  }

  it('pasado el límite propio del socio: 429 problem+json con Retry-After y RateLimit-*, y nada escrito', async () => {
    const { app, clave, repositorio } = limitado(2);
    const primera = await postPago(app, CUERPO_VALIDO, bearer(clave));
    expect(primera.status).toBe(200);
    expect(primera.headers.get('ratelimit-policy')).toBe('"socio";q=2;w=1');
    expect(primera.headers.get('ratelimit')).toBe('"socio";r=1;t=1');
    expect(primera.headers.get('retry-after')).toBeNull();
    // Las réplicas cuentan.
    const replica = await postPago(app, CUERPO_VALIDO, bearer(clave));
    expect(replica.headers.get('idempotent-replayed')).toBe('true');
    const crear = vi.spyOn(repositorio, 'crear');
    const r = await postPago(app, { ...CUERPO_VALIDO, referencia_pago: 'REF-2' }, bearer(clave));
    expect(r.status).toBe(429);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.headers.get('retry-after')).toBe('1');
    expect(r.headers.get('ratelimit')).toBe('"socio";r=0;t=1');
    expect(r.headers.get('ratelimit-policy')).toBe('"socio";q=2;w=1');
    expect(r.headers.get('request-id')).toMatch(/^req_/);
    expect(await json(r)).toMatchObject({ type: 'urn:aeropartners:pagos:problema:demasiadas-peticiones', status: 429 });
    expect(crear).not.toHaveBeenCalled();
    expect(repositorio.pagos.size).toBe(1);
  });

  it('sin límite propio rige el de la instancia; cada socio tiene su cubeta; con el tiempo vuelve a admitir', async () => {
    const { app, clave, autenticador, avanzar } = limitado(null);
    const otro = autenticador.emitirClave('otro');
    const estados = [];
    for (let i = 0; i < 4; i++) estados.push((await app.request('/pagos', { headers: bearer(clave) })).status);
    expect(estados).toEqual([200, 200, 200, 429]);
    expect((await app.request('/pagos', { headers: bearer(otro) })).status).toBe(200);
    avanzar(1000 / 3);
    expect((await app.request('/pagos', { headers: bearer(clave) })).status).toBe(200);
  });

  it('con varias instancias, cada una aplica su parte del límite', async () => {
    const { app, clave } = limitado(4, { instancias: 2 });
    const estados = [];
    for (let i = 0; i < 3; i++) estados.push((await app.request('/pagos', { headers: bearer(clave) })).status);
    expect(estados).toEqual([200, 200, 429]);
  });

  it('las peticiones sin autenticar y las rutas de operación no gastan el límite de nadie', async () => {
    const { app, clave } = limitado(1);
    for (let i = 0; i < 5; i++) {
      await app.request('/pagos');
      await app.request('/health');
    }
    expect((await app.request('/pagos', { headers: bearer(clave) })).status).toBe(200);
  });
});

describe('Request-Id', () => {
  it('en toda respuesta (200, 401, 404, 500), único, con la forma req_ + UUIDv7, y en la línea de registro', async () => {
    const prueba = crearAppDePrueba({ idSocioAnonimo: undefined, nuevoIdSolicitud });
    const clave = prueba.autenticador.emitirClave('socio-a');
    vi.spyOn(prueba.repositorio, 'listar').mockRejectedValueOnce(new Error('fallo inesperado'));
    const respuestas = [
      await postPago(prueba.app, CUERPO_VALIDO, bearer(clave)),
      await prueba.app.request('/pagos'),
      await prueba.app.request('/no-existe', { headers: bearer(clave) }),
      await prueba.app.request('/pagos', { headers: bearer(clave) }),
      await prueba.app.request('/health'),
    ];
    expect(respuestas.map((r) => r.status)).toEqual([200, 401, 404, 500, 200]);
    const ids = respuestas.map((r) => r.headers.get('request-id'));
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(prueba.logger.lineas.map((l) => l.campos['id_solicitud'])).toEqual(ids);
  });

  it('viaja con la traza al historial y al evento del pago que creó, y el historial lo muestra', async () => {
    const { app, repositorio } = crearAppDePrueba();
    const r = await postPago(app);
    const idSolicitud = r.headers.get('request-id');
    const { id_pago } = await json(r);
    expect(repositorio.outbox[0]?.traza.idSolicitud).toBe(idSolicitud);
    const historial = await json(await app.request(`/pagos/${String(id_pago)}/historial`));
    expect((historial['historial'] as Json[])[0]?.['id_solicitud']).toBe(idSolicitud);
  });

  it('X-Correlation-Id sigue siendo del cliente (validado y acotado) y distinto del Request-Id', async () => {
    const { app } = crearAppDePrueba();
    const r = await postPago(app, CUERPO_VALIDO, { 'X-Correlation-Id': 'pedido-1' });
    expect(r.headers.get('x-correlation-id')).toBe('pedido-1');
    expect(r.headers.get('request-id')).not.toBe('pedido-1');
    const larga = await postPago(app, CUERPO_VALIDO, { 'X-Correlation-Id': 'x'.repeat(129) });
    expect(larga.headers.get('x-correlation-id')).not.toBe('x'.repeat(129));
  });
});
