import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  PostgresAdministracionSocios,
  PostgresAutenticadorDeClaves,
  crearPersistenciaPostgres,
  uuidv7,
  type PersistenciaPostgres,
} from '@aeropartners/adaptadores';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import type { Modo } from '@aeropartners/dominio';
import { serve, type ServerType } from '@hono/node-server';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerEnMemoria } from '../test/app-de-prueba.js';
import { crearApp } from './app.js';
import { crearManejadores } from './manejadores.js';
import { nuevoIdSolicitud } from './solicitud.js';

/**
 * Socios de verdad contra PostgreSQL: el autenticador y la administración reales (claves con hash,
 * revocación, suspensión, secretos de firma), la API en un puerto real y recuentos de filas para comprobar
 * que ningún rechazo escribe nada.
 */

type Json = Record<string, unknown>;

let base: BaseDePrueba;
let persistencia: PersistenciaPostgres;
let autenticador: PostgresAutenticadorDeClaves;
let administracion: PostgresAdministracionSocios;
let servidor: ServerType;
let url: string;
const logger = loggerEnMemoria();

beforeAll(async () => {
  base = await crearBaseDePrueba();
  persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 10 });
  autenticador = new PostgresAutenticadorDeClaves({ pool: persistencia.pool, url: base.url });
  await autenticador.iniciar();
  administracion = new PostgresAdministracionSocios(persistencia.pool);
  const app = crearApp({
    manejadores: crearManejadores({ ...persistencia, reloj: { ahora: () => new Date() }, nuevoId: uuidv7 }),
    comprobarSalud: () => persistencia.comprobarSalud(),
    logger,
    autenticador,
    nuevoIdCorrelacion: randomUUID,
    nuevoIdSolicitud,
    limiteRps: 1_000_000,
  });
  url = await new Promise<string>((resolver) => {
    servidor = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolver(`http://127.0.0.1:${info.port}`),
    );
  });
});

afterAll(async () => {
  await new Promise<void>((fin) => (servidor ? servidor.close(() => fin()) : fin()));
  await autenticador?.cerrar();
  await persistencia?.cerrar();
  await base?.cerrar();
});

async function crearSocio(opciones: { firmaObligatoria?: boolean; modo?: Modo } = {}) {
  const r = await administracion.crear(
    {
      nombre: `socio ${randomUUID()}`,
      firmaObligatoria: opciones.firmaObligatoria ?? false,
      limiteRps: null,
      modo: opciones.modo ?? 'live',
    },
    new Date(),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return { id: r.valor.socio.id, clave: r.valor.clave.claveEnClaro, prefijo: r.valor.clave.clave.prefijo, secreto: r.valor.secretoFirma };
}

async function filas() {
  const { rows } = await persistencia.pool.query<{ pagos: string; outbox: string; historial: string }>(
    `SELECT (SELECT count(*) FROM pagos) AS pagos, (SELECT count(*) FROM outbox) AS outbox,
            (SELECT count(*) FROM historial_pagos) AS historial`,
  );
  return { pagos: Number(rows[0]?.pagos), outbox: Number(rows[0]?.outbox), historial: Number(rows[0]?.historial) };
}

const cuerpo = (referencia: string) =>
  JSON.stringify({ id_afiliado: 'afiliado-int', monto: 10.5, moneda: 'USD', referencia_pago: referencia });

function pedir(ruta: string, clave: string | undefined, init: RequestInit = {}) {
  const cabeceras: Record<string, string> = { 'content-type': 'application/json', ...(init.headers as Record<string, string>) };
  if (clave !== undefined) cabeceras['authorization'] = `Bearer ${clave}`;
  return fetch(`${url}${ruta}`, { ...init, headers: cabeceras });
}

describe('ruta × credencial contra PostgreSQL', () => {
  it('sin clave, desconocida, revocada, de otro socio y de un socio suspendido: lo esperado en cada ruta, y nada escrito', async () => {
    const a = await crearSocio();
    const b = await crearSocio();
    const s = await crearSocio();
    const revocable = await administracion.emitirClave(a.id, 'live', new Date());
    if (!revocable.ok) throw new Error('no se pudo emitir la clave');
    const revocada = revocable.valor.claveEnClaro;
    expect((await administracion.revocarClave(a.id, revocable.valor.clave.prefijo, new Date())).ok).toBe(true);
    expect((await administracion.suspender(s.id)).ok).toBe(true);

    const creado = (await (await pedir('/pagos', a.clave, { method: 'POST', body: cuerpo('REF-MATRIZ') })).json()) as Json;
    const idPago = String(creado['id_pago']);
    const rutas: [string, RequestInit][] = [
      ['/pagos', { method: 'POST', body: cuerpo('REF-MATRIZ-2') }],
      ['/pagos', {}],
      [`/pagos/${idPago}`, {}],
      [`/pagos/${idPago}/historial`, {}],
      ['/pagos/outbox/estadisticas', {}],
    ];
    const desconocida = `ap_live_${'A'.repeat(43)}`;
    const antes = await filas();
    for (const [ruta, init] of rutas) {
      const nombre = `${init.method ?? 'GET'} ${ruta}`;
      for (const [caso, clave, estado] of [
        ['sin clave', undefined, 401],
        ['desconocida', desconocida, 401],
        ['revocada', revocada, 401],
        ['suspendido', s.clave, 403],
      ] as const) {
        const r = await pedir(ruta, clave, init);
        expect(r.status, `${nombre} · ${caso}`).toBe(estado);
        expect(r.headers.get('request-id'), `${nombre} · ${caso}`).toMatch(/^req_/);
        if (estado === 401) expect(r.headers.get('www-authenticate')).toMatch(/^Bearer /);
      }
      expect(await filas(), nombre).toEqual(antes);
    }
    // La clave de otro socio: B no ve el pago de A (404), su lista y sus estadísticas no lo cuentan.
    expect((await pedir(`/pagos/${idPago}`, b.clave)).status).toBe(404);
    expect((await pedir(`/pagos/${idPago}/historial`, b.clave)).status).toBe(404);
    expect(((await (await pedir('/pagos', b.clave)).json()) as Json)['pagos']).toEqual([]);
    expect(await (await pedir('/pagos/outbox/estadisticas', b.clave)).json()).toEqual({
      total_eventos: 0,
      eventos_procesados: 0,
      eventos_pendientes: 0,
    });
    // Y la misma referencia de B es otro pago.
    const deB = (await (await pedir('/pagos', b.clave, { method: 'POST', body: cuerpo('REF-MATRIZ') })).json()) as Json;
    expect(deB['id_pago']).not.toBe(idPago);
    const historial = (await (await pedir(`/pagos/${idPago}/historial`, a.clave)).json()) as { historial: Json[] };
    expect(historial.historial[0]?.['id_solicitud']).toMatch(/^req_/);
  });

  it('dos socios compiten con las mismas referencias a la vez: dos pagos por referencia, y las réplicas de cada uno, las suyas', async () => {
    const a = await crearSocio();
    const b = await crearSocio();
    const referencias = Array.from({ length: 20 }, (_, i) => `REF-CARRERA-${i}`);
    const envios = referencias.flatMap((ref) => [a, b, a, b].map((socio) => ({ socio, ref })));
    const respuestas = await Promise.all(
      envios.map(async ({ socio, ref }) => {
        const r = await pedir('/pagos', socio.clave, { method: 'POST', body: cuerpo(ref) });
        return { socio: socio.id, ref, estado: r.status, id: ((await r.json()) as Json)['id_pago'] };
      }),
    );
    expect(respuestas.every((r) => r.estado === 200)).toBe(true);
    for (const ref of referencias) {
      const deA = new Set(respuestas.filter((r) => r.ref === ref && r.socio === a.id).map((r) => r.id));
      const deB = new Set(respuestas.filter((r) => r.ref === ref && r.socio === b.id).map((r) => r.id));
      expect(deA.size, ref).toBe(1);
      expect(deB.size, ref).toBe(1);
      expect([...deA][0]).not.toBe([...deB][0]);
    }
    const { rows } = await persistencia.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM pagos WHERE id_socio = ANY($1) AND referencia_pago LIKE $2',
      [[a.id, b.id], 'REF-CARRERA-%'],
    );
    expect(Number(rows[0]?.n)).toBe(referencias.length * 2);
  });

  it('firma obligatoria: sin firma o con el cuerpo alterado, 401 y nada escrito; firmada con su secreto, 200', async () => {
    const f = await crearSocio({ firmaObligatoria: true });
    expect(f.secreto).toMatch(/^whsec_/);
    const datos = cuerpo('REF-FIRMA');
    const antes = await filas();
    expect((await pedir('/pagos', f.clave, { method: 'POST', body: datos })).status).toBe(401);
    const segundos = Math.floor(Date.now() / 1000);
    const firma = new Webhook(f.secreto!).sign('msg_int', new Date(segundos * 1000), datos);
    const cabeceras = { 'webhook-id': 'msg_int', 'webhook-timestamp': String(segundos), 'webhook-signature': firma };
    const alterada = await pedir('/pagos', f.clave, { method: 'POST', body: cuerpo('REF-FIRMA-X'), headers: cabeceras });
    expect(alterada.status).toBe(401);
    expect(((await alterada.json()) as Json)['motivo']).toBe('firma_no_coincide');
    expect(await filas()).toEqual(antes);
    expect((await pedir('/pagos', f.clave, { method: 'POST', body: datos, headers: cabeceras })).status).toBe(200);
  });

  it('rotación con las dos claves en uso a la vez y revocación a mitad de carga: nada de la revocada vale tras el commit', async () => {
    const a = await crearSocio();
    const nueva = await administracion.emitirClave(a.id, 'live', new Date());
    if (!nueva.ok) throw new Error('no se pudo emitir la clave nueva');
    const claves = { vieja: a.clave, nueva: nueva.valor.claveEnClaro };
    let revocadaEn: number | undefined;
    let n = 0;
    const resultados: { clave: 'vieja' | 'nueva'; enviadaEn: number; estado: number }[] = [];
    const trabajador = async (clave: 'vieja' | 'nueva') => {
      for (let i = 0; i < 60; i++) {
        const enviadaEn = performance.now();
        const r = await pedir('/pagos', claves[clave], { method: 'POST', body: cuerpo(`REF-ROT-${n++}`) });
        await r.body?.cancel();
        resultados.push({ clave, enviadaEn, estado: r.status });
      }
    };
    const revocar = async () => {
      while (resultados.length < 40) await new Promise((listo) => setTimeout(listo, 2));
      const r = await administracion.revocarClave(a.id, a.prefijo, new Date());
      revocadaEn = performance.now();
      expect(r.ok).toBe(true);
    };
    await Promise.all([trabajador('vieja'), trabajador('vieja'), trabajador('nueva'), trabajador('nueva'), revocar()]);
    expect(revocadaEn).toBeDefined();
    const trasRevocar = resultados.filter((r) => r.clave === 'vieja' && r.enviadaEn > revocadaEn!);
    expect(trasRevocar.length).toBeGreaterThan(0);
    expect(trasRevocar.filter((r) => r.estado !== 401)).toEqual([]);
    expect(resultados.filter((r) => r.clave === 'nueva').every((r) => r.estado === 200)).toBe(true);
    // Cada 200 es un pago, y ningún rechazo escribió nada.
    const { rows } = await persistencia.pool.query<{ n: string }>('SELECT count(*) AS n FROM pagos WHERE id_socio = $1', [a.id]);
    expect(Number(rows[0]?.n)).toBe(resultados.filter((r) => r.estado === 200).length);
  });
});
