import { describe, expect, it, vi } from 'vitest';
import { CUERPO_VALIDO, crearAppDePrueba, postPago } from '../test/app-de-prueba.js';
import { CacheRespuestasIdempotentes } from './respuestas-idempotentes.js';

const SOLICITUD = { idAfiliado: 'afiliado-1', monto: 150.75, moneda: 'USD', referenciaPago: 'REF-1' };
const RESPUESTA = { idPago: 'pago-1', cuerpo: '{"id_pago":"pago-1"}' };
const live = (idSocio: string) => ({ idSocio, modo: 'live' as const });
const test = (idSocio: string) => ({ idSocio, modo: 'test' as const });

describe('CacheRespuestasIdempotentes', () => {
  it('devuelve la respuesta guardada solo si socio, clave y cada campo del cuerpo coinciden', () => {
    const cache = new CacheRespuestasIdempotentes(10);
    cache.guardar(live('socio'), 'k', SOLICITUD, RESPUESTA);
    expect(cache.buscar(live('socio'), 'k', { ...SOLICITUD })).toMatchObject(RESPUESTA);
    expect(cache.buscar(live('otro'), 'k', SOLICITUD)).toBeUndefined();
    expect(cache.buscar(live('socio'), 'k2', SOLICITUD)).toBeUndefined();
    for (const distinto of [{ idAfiliado: 'x' }, { monto: 150.76 }, { moneda: 'EUR' }, { referenciaPago: 'REF-2' }]) {
      expect(cache.buscar(live('socio'), 'k', { ...SOLICITUD, ...distinto })).toBeUndefined();
    }
    expect(cache.metricas()).toMatchObject({ entradas: 1, aciertos: 1, fallos: 6 });
  });

  it('las llaves no se confunden entre socio y clave ("a"+"bc" frente a "ab"+"c")', () => {
    const cache = new CacheRespuestasIdempotentes(10);
    cache.guardar(live('a'), 'bc', SOLICITUD, RESPUESTA);
    expect(cache.buscar(live('ab'), 'c', SOLICITUD)).toBeUndefined();
  });

  it('la misma clave en otro modo (ap_test_ frente a ap_live_) es otra entrada', () => {
    const cache = new CacheRespuestasIdempotentes(10);
    cache.guardar(live('s'), 'k', SOLICITUD, RESPUESTA);
    expect(cache.buscar(test('s'), 'k', SOLICITUD)).toBeUndefined();
    cache.guardar(test('s'), 'k', SOLICITUD, { idPago: 'pago-2', cuerpo: '{"id_pago":"pago-2"}' });
    expect(cache.buscar(live('s'), 'k', SOLICITUD)?.idPago).toBe('pago-1');
    expect(cache.buscar(test('s'), 'k', SOLICITUD)?.idPago).toBe('pago-2');
  });

  it('acotada: al llenarse descarta la menos usada recientemente', () => {
    const cache = new CacheRespuestasIdempotentes(2);
    cache.guardar(live('s'), 'a', SOLICITUD, RESPUESTA);
    cache.guardar(live('s'), 'b', SOLICITUD, RESPUESTA);
    cache.buscar(live('s'), 'a', SOLICITUD); // «a» pasa a ser la más reciente
    cache.guardar(live('s'), 'c', SOLICITUD, RESPUESTA);
    expect(cache.buscar(live('s'), 'b', SOLICITUD)).toBeUndefined();
    expect(cache.buscar(live('s'), 'a', SOLICITUD)).toMatchObject(RESPUESTA);
    expect(cache.buscar(live('s'), 'c', SOLICITUD)).toMatchObject(RESPUESTA);
    expect(cache.metricas().entradas).toBe(2);
  });

  it('con capacidad 0 no guarda nada', () => {
    const cache = new CacheRespuestasIdempotentes(0);
    cache.guardar(live('s'), 'a', SOLICITUD, RESPUESTA);
    expect(cache.buscar(live('s'), 'a', SOLICITUD)).toBeUndefined();
    expect(cache.metricas().entradas).toBe(0);
  });

  it('rechaza una capacidad inválida', () => {
    expect(() => new CacheRespuestasIdempotentes(-1)).toThrow(RangeError);
    expect(() => new CacheRespuestasIdempotentes(1.5)).toThrow(RangeError);
  });
});

describe('POST /pagos con la caché de réplicas', () => {
  it('una réplica se responde sin llamar al repositorio, con el mismo cuerpo y las mismas cabeceras que la réplica desde la base', async () => {
    const sinCache = crearAppDePrueba();
    await postPago(sinCache.app);
    const desdeBase = await postPago(sinCache.app, CUERPO_VALIDO, { 'X-Correlation-Id': 'c-1' });

    const conCache = crearAppDePrueba({ capacidadCacheReplicas: 10 });
    await postPago(conCache.app);
    const crear = vi.spyOn(conCache.repositorio, 'crear');
    const desdeCache = await postPago(conCache.app, CUERPO_VALIDO, { 'X-Correlation-Id': 'c-1' });
    expect(crear).not.toHaveBeenCalled();

    expect(desdeCache.status).toBe(200);
    expect([...desdeCache.headers]).toEqual([...desdeBase.headers]);
    expect(await desdeCache.text()).toBe(await desdeBase.text());
    const linea = conCache.logger.lineas.at(-1);
    expect(linea?.campos).toMatchObject({ estado_http: 200, id_pago: '00000000-0000-7000-8000-000000000001' });
  });

  it('la misma clave con otro cuerpo no sale de la caché: la base de datos responde 422', async () => {
    const { app, repositorio } = crearAppDePrueba({ capacidadCacheReplicas: 10 });
    await postPago(app);
    const crear = vi.spyOn(repositorio, 'crear');
    const r = await postPago(app, { ...CUERPO_VALIDO, monto: 1 });
    expect(r.status).toBe(422);
    expect(crear).toHaveBeenCalledTimes(1);
  });

  it('un fallo del repositorio no se guarda: la siguiente petición vuelve a la base de datos', async () => {
    const { app, repositorio } = crearAppDePrueba({ capacidadCacheReplicas: 10 });
    const crear = vi.spyOn(repositorio, 'crear').mockRejectedValueOnce(new Error('caída'));
    expect((await postPago(app)).status).toBe(500);
    const r = await postPago(app);
    expect(r.status).toBe(200);
    expect(r.headers.get('idempotent-replayed')).toBeNull();
    expect(crear).toHaveBeenCalledTimes(2);
  });

  it('una entrada descartada por capacidad se sigue respondiendo bien, desde la base de datos', async () => {
    const { app, repositorio } = crearAppDePrueba({ capacidadCacheReplicas: 1 });
    const primera = await (await postPago(app)).text();
    await postPago(app, { ...CUERPO_VALIDO, referencia_pago: 'REF-2' });
    const crear = vi.spyOn(repositorio, 'crear');
    const r = await postPago(app);
    expect(crear).toHaveBeenCalledTimes(1);
    expect(r.headers.get('idempotent-replayed')).toBe('true');
    expect(await r.text()).toBe(primera);
  });

  it('la réplica con Idempotency-Key usa la cabecera como clave, no la referencia', async () => {
    const { app, repositorio } = crearAppDePrueba({ capacidadCacheReplicas: 10 });
    await postPago(app, CUERPO_VALIDO, { 'Idempotency-Key': 'clave-a' });
    const crear = vi.spyOn(repositorio, 'crear');
    expect((await postPago(app, CUERPO_VALIDO, { 'Idempotency-Key': 'clave-a' })).headers.get('idempotent-replayed')).toBe('true');
    expect(crear).not.toHaveBeenCalled();
    // Sin cabecera la clave es REF-1, que la caché no ha visto: va a la base (que la trata como otra clave).
    const r = await postPago(app);
    expect(crear).toHaveBeenCalledTimes(1);
    expect(r.status).toBe(200);
    expect(r.headers.get('idempotent-replayed')).toBeNull();
    expect(repositorio.pagos.size).toBe(2);
  });
});
