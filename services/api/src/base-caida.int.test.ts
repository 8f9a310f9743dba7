import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PostgresAutenticadorDeClaves,
  crearPersistenciaPostgres,
  migrarUrl,
  uuidv7,
  type PersistenciaPostgres,
} from '@aeropartners/adaptadores';
import { iniciarPostgresEmbebido, type PostgresEmbebido } from '@aeropartners/adaptadores/postgres-embebido';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerEnMemoria } from '../test/app-de-prueba.js';
import { crearApp } from './app.js';
import { crearManejadores } from './manejadores.js';
import { nuevoIdSolicitud } from './solicitud.js';

/**
 * Issue 9, punto 9: una caída de PostgreSQL se dice como tal. Un PostgreSQL embebido propio de este
 * fichero (durable: fsync y synchronous_commit activos), la API real escuchando en un socket; se para
 * PostgreSQL (parada limpia) y se mata su postmaster con SIGKILL en plena carga. Mientras no está:
 * 503 problem+json con Retry-After, nunca 500, y readiness 503. Al volver: 200 sin reiniciar la API, y
 * nada a medias (cada pago con su evento de outbox y su historial; cada 200 sobrevivió a la caída).
 */

type Json = Record<string, unknown>;

let carpeta: string;
let datos: string;
let puertoPg: number;
let postgres: PostgresEmbebido;
let persistencia: PersistenciaPostgres;
let servidor: ServerType;
let url: string;
const logger = loggerEnMemoria();

async function puertoLibre(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const arrancarPostgres = () => iniciarPostgresEmbebido({ directorio: datos, puerto: puertoPg });

beforeAll(async () => {
  carpeta = await mkdtemp(join(tmpdir(), 'aeropartners-api-caida-'));
  await chmod(carpeta, 0o755); // como root, el servidor corre como `postgres`
  datos = join(carpeta, 'datos');
  puertoPg = await puertoLibre();
  postgres = await arrancarPostgres();
  await migrarUrl(postgres.url);
  persistencia = crearPersistenciaPostgres({ url: postgres.url, tamanoPool: 4, esperaConexionMs: 2000 });
  const app = crearApp({
    manejadores: crearManejadores({ ...persistencia, reloj: { ahora: () => new Date() }, nuevoId: uuidv7 }),
    comprobarSalud: () => persistencia.comprobarSalud(),
    logger,
    autenticador: new PostgresAutenticadorDeClaves({ pool: persistencia.pool, url: postgres.url }),
    idSocioAnonimo: 'socio-caida',
    nuevoIdSolicitud,
    nuevoIdCorrelacion: randomUUID,
    tiempoMaximoSaludMs: 2000,
  });
  url = await new Promise<string>((resolver) => {
    servidor = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolver(`http://127.0.0.1:${info.port}`),
    );
  });
});

afterAll(async () => {
  await new Promise<void>((fin) => {
    if (!servidor) return fin();
    servidor.close(() => fin());
    if ('closeAllConnections' in servidor) servidor.closeAllConnections();
  });
  await persistencia?.cerrar().catch(() => undefined);
  await postgres?.detener();
  await rm(carpeta, { recursive: true, force: true });
});

const cuerpo = (clave: string) => ({ id_afiliado: 'afiliado-caida', monto: 12.34, moneda: 'USD', referencia_pago: clave });

function post(clave: string) {
  return fetch(`${url}/pagos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': clave },
    body: JSON.stringify(cuerpo(clave)),
  });
}

async function esperarListo(): Promise<void> {
  const limite = Date.now() + 60_000;
  for (;;) {
    const r = await fetch(`${url}/health/ready`);
    await r.body?.cancel();
    if (r.status === 200) return;
    if (Date.now() > limite) throw new Error(`la API no volvió a estar lista (último estado ${r.status})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function esperar503(r: Response, ruta: string) {
  expect({ ruta, estado: r.status }).toEqual({ ruta, estado: 503 });
  expect(r.headers.get('content-type')).toBe('application/problem+json');
  expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
  const problema = (await r.json()) as Json;
  expect(problema).toMatchObject({ status: 503, type: 'urn:aeropartners:pagos:problema:servicio-no-disponible' });
  expect(JSON.stringify(problema)).not.toMatch(/ECONN|ENOENT|57P0|terminat|postgres:\/\//i);
}

async function consultar<F>(sql: string): Promise<F[]> {
  return (await persistencia.pool.query(sql)).rows as F[];
}

/** Cada pago con exactamente un evento de outbox y una fila de historial, y nada suelto. */
async function nadaAMedias(): Promise<Map<string, string>> {
  const incompletos = await consultar<Json>(`
    SELECT p.id, (SELECT count(*) FROM outbox o WHERE o.id_agregado = p.id)::int AS outbox,
                 (SELECT count(*) FROM historial_pagos h WHERE h.id_pago = p.id)::int AS historial
    FROM pagos p
    WHERE (SELECT count(*) FROM outbox o WHERE o.id_agregado = p.id) <> 1
       OR (SELECT count(*) FROM historial_pagos h WHERE h.id_pago = p.id) <> 1`);
  expect(incompletos).toEqual([]);
  const sueltos = await consultar<{ n: number }>(`
    SELECT (SELECT count(*) FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM pagos p WHERE p.id = o.id_agregado))::int
         + (SELECT count(*) FROM historial_pagos h WHERE NOT EXISTS (SELECT 1 FROM pagos p WHERE p.id = h.id_pago))::int AS n`);
  expect(sueltos[0]?.n).toBe(0);
  const filas = await consultar<{ clave_idempotencia: string; id: string }>('SELECT clave_idempotencia, id FROM pagos');
  return new Map(filas.map((f) => [f.clave_idempotencia, f.id]));
}

describe('PostgreSQL caído', () => {
  it('parada limpia: 503 con Retry-After en cada ruta que usa la base y readiness 503; al volver, 200 sin reiniciar la API', async () => {
    const r0 = await post('parada-antes');
    expect(r0.status).toBe(200);
    const { id_pago: idAntes } = (await r0.json()) as { id_pago: string };
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);

    await postgres.detener();

    await esperar503(await post('parada-durante'), 'POST /pagos');
    for (const ruta of [
      `/pagos/${idAntes}`,
      `/pagos/${idAntes}/historial`,
      '/pagos?limite=5',
      '/pagos/outbox/estadisticas',
      '/health/ready',
    ]) {
      await esperar503(await fetch(`${url}${ruta}`), `GET ${ruta}`);
    }
    expect((await fetch(`${url}/health`)).status).toBe(200);

    postgres = await arrancarPostgres();
    await esperarListo();

    const r1 = await post('parada-durante');
    expect(r1.status).toBe(200);
    expect((await fetch(`${url}/pagos/${idAntes}`)).status).toBe(200);
    const pagos = await nadaAMedias();
    expect([...pagos.keys()].sort()).toEqual(['parada-antes', 'parada-durante']);
    expect(pagos.get('parada-durante')).toBe(((await r1.json()) as { id_pago: string }).id_pago);
  });

  it('SIGKILL del postmaster en plena carga: solo 200 o 503 (nunca 500); tras la recuperación, los 503 reintentados con su clave dan un pago cada uno y ningún 200 se perdió', async () => {
    const pidPostmaster = Number.parseInt((await readFile(join(datos, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '', 10);
    expect(pidPostmaster).toBeGreaterThan(0);

    const respuestas: { clave: string; estado: number; idPago?: string }[] = [];
    let muerto = false;
    let tras = 0;
    // 8 clientes en bucle cerrado; el postmaster muere cuando ya hay respuestas 200, y siguen hasta
    // acumular 503 después de la muerte.
    const cliente = async (n: number) => {
      for (let i = 0; !muerto || tras < 40; i += 1) {
        const clave = `kill-${n}-${i}`;
        const r = await post(clave);
        const cuerpo = (await r.json()) as Json;
        respuestas.push({ clave, estado: r.status, idPago: r.status === 200 ? String(cuerpo['id_pago']) : undefined });
        if (r.status === 503) expect(r.headers.get('retry-after')).not.toBeNull();
        if (muerto) tras += 1;
      }
    };
    const clientes = Array.from({ length: 8 }, (_, n) => cliente(n));
    while (respuestas.filter((r) => r.estado === 200).length < 50) await new Promise((r) => setTimeout(r, 5));
    process.kill(pidPostmaster, 'SIGKILL');
    muerto = true;
    await Promise.all(clientes);

    const estados = new Set(respuestas.map((r) => r.estado));
    expect([...estados].sort()).toEqual([200, 503]);
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);

    postgres = await arrancarPostgres(); // recuperación tras la caída
    await esperarListo();

    // Los 503 se reintentan con la misma clave, como pide el problema: un pago por clave, ni uno más.
    const reintentos = await Promise.all(
      respuestas
        .filter((r) => r.estado === 503)
        .map(async ({ clave }) => {
          const r = await post(clave);
          return { clave, estado: r.status, idPago: String(((await r.json()) as Json)['id_pago']) };
        }),
    );
    expect(reintentos.filter((r) => r.estado !== 200)).toEqual([]);

    const pagos = await nadaAMedias();
    for (const r of respuestas.filter((x) => x.estado === 200)) expect(pagos.get(r.clave)).toBe(r.idPago);
    for (const r of reintentos) expect(pagos.get(r.clave)).toBe(r.idPago);
    expect(pagos.size).toBe(2 + new Set(respuestas.map((r) => r.clave)).size);
  });

  it('ninguna respuesta fue un 500: cada 503 quedó en el registro como aviso con su causa', () => {
    expect(logger.lineas.filter((l) => l.nivel === 'error' || l.campos['estado_http'] === 500)).toEqual([]);
    const avisos = logger.lineas.filter((l) => l.campos['estado_http'] === 503 && l.campos['ruta'] !== '/health/ready');
    expect(avisos.length).toBeGreaterThan(0);
    for (const aviso of avisos) expect(aviso.campos['causa']).toEqual(expect.any(String));
  });
});
