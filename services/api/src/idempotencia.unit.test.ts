import { describe, expect, it } from 'vitest';
import { CUERPO_VALIDO, crearAppDePrueba, postPago } from '../test/app-de-prueba.js';

/** La tabla de idempotencia del issue, fila por fila, contra los dobles en memoria. */

type Json = Record<string, unknown>;

function contar(repositorio: ReturnType<typeof crearAppDePrueba>['repositorio']) {
  return {
    pagos: repositorio.pagos.size,
    outbox: repositorio.outbox.length,
    historial: [...repositorio.historialPorPago.values()].reduce((n, h) => n + h.length, 0),
  };
}

// Cada caso, sin y con la caché de réplicas: la caché no puede cambiar ninguna respuesta.
describe.each([0, 1000])('idempotencia de POST /pagos (caché de réplicas: %i entradas)', (capacidadCacheReplicas) => {
  it('primera petición: 200, un pago, un evento en el outbox, una fila de historial', async () => {
    const { app, repositorio } = crearAppDePrueba({ capacidadCacheReplicas });
    const r = await postPago(app);
    expect(r.status).toBe(200);
    expect(r.headers.get('idempotent-replayed')).toBeNull();
    expect(contar(repositorio)).toEqual({ pagos: 1, outbox: 1, historial: 1 });
  });

  it('misma clave y mismo cuerpo, más tarde: estado y cuerpo originales, Idempotent-Replayed: true, nada nuevo escrito', async () => {
    const { app, repositorio, reloj } = crearAppDePrueba({ capacidadCacheReplicas });
    const primera = await postPago(app);
    const original = await primera.text();
    reloj.avanzar(60_000);
    const segunda = await postPago(app);
    expect(segunda.status).toBe(primera.status);
    expect(segunda.headers.get('idempotent-replayed')).toBe('true');
    expect(await segunda.text()).toBe(original);
    expect(contar(repositorio)).toEqual({ pagos: 1, outbox: 1, historial: 1 });
  });

  it('la repetición devuelve el cuerpo ORIGINAL aunque el pago ya haya avanzado de estado', async () => {
    const { app, repositorio, reloj } = crearAppDePrueba({ capacidadCacheReplicas });
    const original = await (await postPago(app)).text();
    const { id_pago } = JSON.parse(original) as Json;
    const pago = repositorio.pagos.get(String(id_pago));
    if (!pago) throw new Error('falta el pago');
    reloj.avanzar(5_000);
    repositorio.pagos.set(pago.id, {
      ...pago,
      estado: 'EXITOSO',
      version: 3,
      referenciaTransaccion: 'tr_1',
      fechaActualizacion: reloj.ahora(),
    });
    const repeticion = await postPago(app);
    expect(repeticion.headers.get('idempotent-replayed')).toBe('true');
    expect(await repeticion.text()).toBe(original);
  });

  it('un monto escrito de otra forma (150.750 frente a 150.75) es el mismo cuerpo: repetición, no conflicto', async () => {
    const { app } = crearAppDePrueba({ capacidadCacheReplicas });
    await postPago(app);
    const r = await postPago(app, JSON.stringify(CUERPO_VALIDO).replace('150.75', '150.750'));
    expect(r.status).toBe(200);
    expect(r.headers.get('idempotent-replayed')).toBe('true');
  });

  it('misma clave con otro cuerpo: 422 problem+json que nombra el pago existente y los campos distintos; nada escrito', async () => {
    const { app, repositorio } = crearAppDePrueba({ capacidadCacheReplicas });
    const { id_pago } = (await (await postPago(app)).json()) as Json;
    const r = await postPago(app, { ...CUERPO_VALIDO, monto: 99.99, moneda: 'EUR' }, { 'X-Correlation-Id': 'c-422' });
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(await r.json()).toEqual({
      type: 'urn:aeropartners:pagos:problema:clave-idempotencia-reutilizada',
      title: 'La clave de idempotencia ya se usó con otra solicitud',
      status: 422,
      detail: expect.stringContaining(String(id_pago)),
      instance: '/pagos',
      id_correlacion: 'c-422',
      id_pago_existente: id_pago,
      campos_distintos: ['monto', 'moneda'],
      errores: [
        { campo: 'monto', mensaje: 'no coincide con el pago existente' },
        { campo: 'moneda', mensaje: 'no coincide con el pago existente' },
      ],
    });
    expect(contar(repositorio)).toEqual({ pagos: 1, outbox: 1, historial: 1 });
  });

  describe('con la cabecera Idempotency-Key', () => {
    it('la clave es la cabecera: misma referencia con claves distintas son dos pagos', async () => {
      const { app, repositorio } = crearAppDePrueba({ capacidadCacheReplicas });
      expect((await postPago(app, CUERPO_VALIDO, { 'Idempotency-Key': 'clave-a' })).status).toBe(200);
      const r = await postPago(app, CUERPO_VALIDO, { 'Idempotency-Key': 'clave-b' });
      expect(r.status).toBe(200);
      expect(r.headers.get('idempotent-replayed')).toBeNull();
      expect(repositorio.pagos.size).toBe(2);
    });

    it('misma clave y mismo cuerpo: repetición', async () => {
      const { app, repositorio } = crearAppDePrueba({ capacidadCacheReplicas });
      const primera = await (await postPago(app, CUERPO_VALIDO, { 'Idempotency-Key': 'clave-a' })).text();
      const r = await postPago(app, CUERPO_VALIDO, { 'Idempotency-Key': 'clave-a' });
      expect(r.headers.get('idempotent-replayed')).toBe('true');
      expect(await r.text()).toBe(primera);
      expect(repositorio.pagos.size).toBe(1);
    });

    it('misma clave con otra referencia: 422 que nombra referencia_pago', async () => {
      const { app } = crearAppDePrueba({ capacidadCacheReplicas });
      await postPago(app, CUERPO_VALIDO, { 'Idempotency-Key': 'clave-a' });
      const r = await postPago(app, { ...CUERPO_VALIDO, referencia_pago: 'REF-2' }, { 'Idempotency-Key': 'clave-a' });
      expect(r.status).toBe(422);
      expect(((await r.json()) as Json)['campos_distintos']).toEqual(['referencia_pago']);
    });

    it('la cabecera y la referencia son espacios de claves distintos salvo que coincidan: clave = referencia de otro pago', async () => {
      const { app, repositorio } = crearAppDePrueba({ capacidadCacheReplicas });
      await postPago(app); // clave = REF-1 (referencia)
      const r = await postPago(app, CUERPO_VALIDO, { 'Idempotency-Key': 'REF-1' });
      expect(r.headers.get('idempotent-replayed')).toBe('true');
      expect(repositorio.pagos.size).toBe(1);
    });

    it('las claves son por socio: otro socio con la misma clave crea su propio pago', async () => {
      const { app, repositorio, autenticador } = crearAppDePrueba({ capacidadCacheReplicas });
      const a = { Authorization: `Bearer ${autenticador.emitirClave('socio-a')}`, 'Idempotency-Key': 'k' };
      const b = { Authorization: `Bearer ${autenticador.emitirClave('socio-b')}`, 'Idempotency-Key': 'k' };
      const deA = await postPago(app, CUERPO_VALIDO, a);
      expect(deA.status).toBe(200);
      const r = await postPago(app, CUERPO_VALIDO, b);
      expect(r.status).toBe(200);
      expect(r.headers.get('idempotent-replayed')).toBeNull();
      expect([...repositorio.pagos.values()].map((p) => p.idSocio).sort()).toEqual(['socio-a', 'socio-b']);
      // Y la réplica de cada uno recibe su propio pago, también desde la caché de réplicas.
      const [idA, idB] = [((await deA.json()) as Json)['id_pago'], ((await r.json()) as Json)['id_pago']];
      expect(idA).not.toBe(idB);
      expect(((await (await postPago(app, CUERPO_VALIDO, b)).json()) as Json)['id_pago']).toBe(idB);
      expect(((await (await postPago(app, CUERPO_VALIDO, a)).json()) as Json)['id_pago']).toBe(idA);
    });
  });

  it('50 peticiones concurrentes idénticas: un pago, 50 respuestas 200 con el mismo id_pago, un evento', async () => {
    const { app, repositorio } = crearAppDePrueba({ capacidadCacheReplicas });
    const respuestas = await Promise.all(
      Array.from({ length: 50 }, () => postPago(app, CUERPO_VALIDO, { 'Idempotency-Key': 'concurrente' })),
    );
    expect(respuestas.map((r) => r.status)).toEqual(Array(50).fill(200));
    const cuerpos = await Promise.all(respuestas.map((r) => r.json() as Promise<Json>));
    expect(new Set(cuerpos.map((c) => c['id_pago'])).size).toBe(1);
    expect(new Set(cuerpos.map((c) => JSON.stringify(c))).size).toBe(1);
    expect(respuestas.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(49);
    expect(contar(repositorio)).toEqual({ pagos: 1, outbox: 1, historial: 1 });
  });

  it('50 peticiones concurrentes, una clave, cuerpos distintos: un pago; las demás 422 nombrando ese pago', async () => {
    const { app, repositorio } = crearAppDePrueba({ capacidadCacheReplicas });
    const respuestas = await Promise.all(
      Array.from({ length: 50 }, (_, i) => postPago(app, { ...CUERPO_VALIDO, monto: i + 1 }, { 'Idempotency-Key': 'disputada' })),
    );
    const cuerpos = await Promise.all(respuestas.map((r) => r.json() as Promise<Json>));
    const ganadoras = respuestas.flatMap((r, i) => (r.status === 200 ? [cuerpos[i]] : []));
    expect(ganadoras).toHaveLength(1);
    const idGanador = ganadoras[0]?.['id_pago'];
    const perdedoras = respuestas.flatMap((r, i) => (r.status === 200 ? [] : [[r.status, cuerpos[i]?.['id_pago_existente']]]));
    expect(perdedoras).toEqual(Array(49).fill([422, idGanador]));
    expect(contar(repositorio)).toEqual({ pagos: 1, outbox: 1, historial: 1 });
  });
});
