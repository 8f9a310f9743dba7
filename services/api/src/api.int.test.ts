import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { PostgresAutenticadorDeClaves, crearPersistenciaPostgres, uuidv7, type PersistenciaPostgres } from '@aeropartners/adaptadores';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerEnMemoria } from '../test/app-de-prueba.js';
import { crearApp } from './app.js';
import { crearManejadores } from './manejadores.js';
import { nuevoIdSolicitud } from './solicitud.js';

/**
 * La API completa sobre PostgreSQL real y sockets reales: servidor HTTP en un puerto libre, peticiones
 * concurrentes de verdad con `fetch`, y recuentos de filas para comprobar lo que se escribió.
 */

type Json = Record<string, unknown>;

interface Servidor {
  readonly url: string;
  cerrar(): Promise<void>;
}

function levantar(persistencia: PersistenciaPostgres): Promise<Servidor> {
  const app = crearApp({
    manejadores: crearManejadores({ ...persistencia, reloj: { ahora: () => new Date() }, nuevoId: uuidv7 }),
    comprobarSalud: () => persistencia.comprobarSalud(),
    logger: loggerEnMemoria(),
    autenticador: new PostgresAutenticadorDeClaves({ pool: persistencia.pool, url: base.url }),
    idSocioAnonimo: 'socio-int',
    nuevoIdSolicitud,
    nuevoIdCorrelacion: randomUUID,
    tiempoMaximoSaludMs: 3000,
  });
  return new Promise((resolver) => {
    const servidor: ServerType = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolver({
        url: `http://127.0.0.1:${info.port}`,
        cerrar: () =>
          new Promise<void>((fin) => {
            servidor.close(() => fin());
            if ('closeAllConnections' in servidor) servidor.closeAllConnections();
          }),
      }),
    );
  });
}

let base: BaseDePrueba;
let persistencia: PersistenciaPostgres;
let api: Servidor;

beforeAll(async () => {
  base = await crearBaseDePrueba();
  persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 10 });
  api = await levantar(persistencia);
});

afterAll(async () => {
  await api?.cerrar();
  await persistencia?.cerrar();
  await base?.cerrar();
});

async function filas() {
  const { rows } = await persistencia.pool.query<{ pagos: string; outbox: string; historial: string }>(
    `SELECT (SELECT count(*) FROM pagos) AS pagos,
            (SELECT count(*) FROM outbox) AS outbox,
            (SELECT count(*) FROM historial_pagos) AS historial`,
  );
  const fila = rows[0];
  return { pagos: Number(fila?.pagos), outbox: Number(fila?.outbox), historial: Number(fila?.historial) };
}

function cuerpo(referencia: string, cambios: Json = {}) {
  return { id_afiliado: 'afiliado-int', monto: 150.75, moneda: 'USD', referencia_pago: referencia, ...cambios };
}

function post(datos: unknown, cabeceras: Record<string, string> = {}) {
  return fetch(`${api.url}/pagos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...cabeceras },
    body: typeof datos === 'string' ? datos : JSON.stringify(datos),
  });
}

describe('API sobre PostgreSQL y sockets reales', () => {
  it('primera petición: 200, y en la base un pago, un evento de outbox y una fila de historial', async () => {
    const antes = await filas();
    const r = await post(cuerpo('INT-1'), {
      'X-Correlation-Id': 'int-c-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-correlation-id')).toBe('int-c-1');
    const registrado = (await r.json()) as Json;
    expect(registrado).toMatchObject({
      id_afiliado: 'afiliado-int',
      monto: 150.75,
      moneda: 'USD',
      estado: 'PENDIENTE',
      referencia_pago: 'INT-1',
    });
    expect(await filas()).toEqual({ pagos: antes.pagos + 1, outbox: antes.outbox + 1, historial: antes.historial + 1 });

    const { rows } = await persistencia.pool.query<{ metadatos: Json; tipo: string }>(
      'SELECT metadatos, tipo FROM outbox WHERE id_agregado = $1',
      [registrado['id_pago']],
    );
    expect(rows[0]?.tipo).toBe('PagoPendiente');
    expect(JSON.stringify(rows[0]?.metadatos)).toContain('int-c-1');
    expect(JSON.stringify(rows[0]?.metadatos)).toContain('4bf92f3577b34da6a3ce929d0e0e4736');

    const detalle = (await (await fetch(`${api.url}/pagos/${String(registrado['id_pago'])}`)).json()) as Json;
    expect(detalle).toMatchObject({
      id: registrado['id_pago'],
      estado: 'PENDIENTE',
      monto: 150.75,
      version: 1,
      fecha_creacion: registrado['fecha_creacion'],
    });
    const historial = (await (await fetch(`${api.url}/pagos/${String(registrado['id_pago'])}/historial`)).json()) as Json;
    expect(historial['historial']).toEqual([
      expect.objectContaining({ estado: 'PENDIENTE', tipo_evento: 'PagoPendiente', version: 1, id_correlacion: 'int-c-1' }),
    ]);
  });

  it('50 peticiones concurrentes idénticas: un pago, 50 respuestas con el mismo id_pago, una fila de outbox', async () => {
    const antes = await filas();
    const respuestas = await Promise.all(Array.from({ length: 50 }, () => post(cuerpo('INT-CONC-IGUALES'))));
    expect(respuestas.map((r) => r.status)).toEqual(Array(50).fill(200));
    const cuerpos = await Promise.all(respuestas.map((r) => r.json() as Promise<Json>));
    expect(new Set(cuerpos.map((c) => c['id_pago'])).size).toBe(1);
    expect(new Set(cuerpos.map((c) => JSON.stringify(c))).size).toBe(1);
    expect(respuestas.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(49);
    expect(await filas()).toEqual({ pagos: antes.pagos + 1, outbox: antes.outbox + 1, historial: antes.historial + 1 });
    const { rows } = await persistencia.pool.query('SELECT count(*)::int AS n FROM outbox WHERE id_agregado = $1', [
      cuerpos[0]?.['id_pago'],
    ]);
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('50 peticiones concurrentes, una clave, cuerpos distintos: un pago; las demás 422 (o 409) nombrando ese pago', async () => {
    const antes = await filas();
    const respuestas = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        post(cuerpo(`INT-CONC-DISTINTOS-${i}`, { monto: i + 1 }), { 'Idempotency-Key': 'int-disputada' }),
      ),
    );
    const cuerpos = await Promise.all(respuestas.map((r) => r.json() as Promise<Json>));
    const ganadoras = cuerpos.filter((_, i) => respuestas[i]?.status === 200);
    expect(ganadoras).toHaveLength(1);
    const idGanador = ganadoras[0]?.['id_pago'];
    for (const [i, r] of respuestas.entries()) {
      if (r.status === 200) continue;
      expect([409, 422]).toContain(r.status);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      if (r.status === 422) expect(cuerpos[i]?.['id_pago_existente']).toBe(idGanador);
    }
    expect(await filas()).toEqual({ pagos: antes.pagos + 1, outbox: antes.outbox + 1, historial: antes.historial + 1 });
  });

  it('repetición más tarde: Idempotent-Replayed: true, el cuerpo original y nada nuevo en la base', async () => {
    const primera = await post(cuerpo('INT-REPETIDA'), { 'Idempotency-Key': 'int-repetida' });
    const original = await primera.text();
    await new Promise((r) => setTimeout(r, 50));
    const antes = await filas();
    const segunda = await post(cuerpo('INT-REPETIDA'), { 'Idempotency-Key': 'int-repetida' });
    expect(segunda.status).toBe(200);
    expect(segunda.headers.get('idempotent-replayed')).toBe('true');
    expect(await segunda.text()).toBe(original);
    const otra = await post(cuerpo('INT-REPETIDA', { monto: 1 }), { 'Idempotency-Key': 'int-repetida' });
    expect(otra.status).toBe(422);
    expect(((await otra.json()) as Json)['id_pago_existente']).toBe((JSON.parse(original) as Json)['id_pago']);
    expect(await filas()).toEqual(antes);
  });

  it('entrada inválida no escribe nada', async () => {
    const antes = await filas();
    const casos: [Promise<Response>, number][] = [
      [post(cuerpo('INT-MALA-1', { monto: 0.001 })), 400],
      [post(cuerpo('INT-MALA-2', { monto: 0 })), 400],
      [post(cuerpo('INT-MALA-3', { monto: 1e20 })), 400],
      [post(cuerpo('INT-MALA-4', { moneda: 'GBP' })), 400],
      [post('{"id_afiliado": '), 400],
      [post(cuerpo('INT-MALA-5'), { 'Idempotency-Key': 'k'.repeat(256) }), 400],
      [
        fetch(`${api.url}/pagos`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: JSON.stringify(cuerpo('INT-MALA-6')),
        }),
        415,
      ],
      [post({ ...cuerpo('INT-MALA-7'), relleno: 'x'.repeat(70_000) }), 413],
      [fetch(`${api.url}/pagos/no-es-un-uuid`), 400],
      [fetch(`${api.url}/pagos?limite=500`), 400],
      [fetch(`${api.url}/pagos?cursor=abc`), 400],
    ];
    for (const [peticion, estado] of casos) {
      const r = await peticion;
      expect(r.status).toBe(estado);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      await r.body?.cancel();
    }
    expect(await filas()).toEqual(antes);
  });

  it('413 también con un cuerpo por trozos (sin Content-Length)', async () => {
    const antes = await filas();
    const trozo = new TextEncoder().encode('x'.repeat(16 * 1024));
    let enviados = 0;
    const flujo = new ReadableStream<Uint8Array>({
      pull(control) {
        if (enviados++ < 8) control.enqueue(trozo);
        else control.close();
      },
    });
    const r = await fetch(`${api.url}/pagos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: flujo,
      duplex: 'half',
    } as RequestInit);
    expect(r.status).toBe(413);
    expect(await filas()).toEqual(antes);
  });

  it('GET /pagos lista lo escrito y pagina por cursor; /pagos/outbox/estadisticas cuadra con la base', async () => {
    for (let i = 0; i < 3; i++) expect((await post(cuerpo(`INT-LISTA-${i}`, { id_afiliado: 'afiliado-lista' }))).status).toBe(200);
    const primera = (await (await fetch(`${api.url}/pagos?id_afiliado=afiliado-lista&limite=2`)).json()) as Json;
    expect((primera['pagos'] as Json[]).map((p) => p['referencia_pago'])).toEqual(['INT-LISTA-2', 'INT-LISTA-1']);
    const segunda = (await (
      await fetch(`${api.url}/pagos?id_afiliado=afiliado-lista&limite=2&cursor=${String(primera['siguiente_cursor'])}`)
    ).json()) as Json;
    expect((segunda['pagos'] as Json[]).map((p) => p['referencia_pago'])).toEqual(['INT-LISTA-0']);
    expect(segunda['siguiente_cursor']).toBeNull();

    const estadisticas = (await (await fetch(`${api.url}/pagos/outbox/estadisticas`)).json()) as Json;
    const { outbox } = await filas();
    expect(estadisticas).toEqual({ total_eventos: outbox, eventos_procesados: 0, eventos_pendientes: outbox });
  });

  it('GET /pagos/{id} de un UUID que no existe: 404', async () => {
    const r = await fetch(`${api.url}/pagos/${uuidv7()}`);
    expect(r.status).toBe(404);
  });

  it('GET /health/ready: 200 con la base arriba', async () => {
    const r = await fetch(`${api.url}/health/ready`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ready', service: 'aeropartners-pagos-api' });
  });

  it('GET /health/ready: 503 problem+json cuando la base de datos no es alcanzable', async () => {
    // Un puerto sin PostgreSQL: la conexión se rechaza.
    const caida = crearPersistenciaPostgres({ url: 'postgres://nadie:nada@127.0.0.1:1/ninguna', tamanoPool: 1, esperaConexionMs: 1000 });
    const otra = await levantar(caida);
    try {
      expect((await fetch(`${otra.url}/health`)).status).toBe(200);
      const r = await fetch(`${otra.url}/health/ready`);
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(await r.json()).toMatchObject({ status: 503, type: 'urn:aeropartners:pagos:problema:servicio-no-disponible' });
    } finally {
      await otra.cerrar();
      await caida.cerrar();
    }
  });
});
