import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as esperar } from 'node:timers/promises';
import {
  PostgresAdministracionSocios,
  PostgresAlmacenComisiones,
  PostgresAutenticadorDeClaves,
  PostgresConsultasComisiones,
  PostgresLineaDeTiempo,
  PostgresRegistroEventos,
  PostgresWebhooks,
  comprobarDestino,
  crearPersistenciaPostgres,
  iniciarAsignadorEventos,
  iniciarRepartidorWebhooks,
  uuidv7,
  type AsignadorEnMarcha,
  type PersistenciaPostgres,
  type RepartidorEnMarcha,
} from '@aeropartners/adaptadores';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import { crearManejadorRegistrarHecho } from '@aeropartners/aplicacion';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerEnMemoria } from '../test/app-de-prueba.js';
import { crearApp } from './app.js';
import { crearManejadores } from './manejadores.js';
import { nuevoIdSolicitud } from './solicitud.js';
import { servirEnPuertoLibre, type ServidorDePrueba } from '../test/servidor-de-prueba.js';

/**
 * Las rutas de webhooks sobre PostgreSQL real, la API servida en un puerto real, el asignador de eventos y
 * el repartidor de webhooks en marcha, y receptores HTTP reales: un pago creado por la API llega al
 * receptor firmado (verificado con el paquete standardwebhooks) con el mismo objeto que el feed.
 */

type Json = Record<string, unknown>;

let base: BaseDePrueba;
let persistencia: PersistenciaPostgres;
let autenticador: PostgresAutenticadorDeClaves;
let asignador: AsignadorEnMarcha;
let repartidor: RepartidorEnMarcha;
let servidor: ServidorDePrueba | undefined;
let url: string;
const cierres: (() => Promise<void>)[] = [];

/** La app con una comprobación de destinos dada (la red local solo se admite donde el test lo dice). */
function app(permitirRedLocal: boolean) {
  const registro = new PostgresRegistroEventos({ pool: persistencia.pool });
  return crearApp({
    manejadores: crearManejadores({ ...persistencia, reloj: { ahora: () => new Date() }, nuevoId: uuidv7 }),
    comprobarSalud: () => persistencia.comprobarSalud(),
    logger: loggerEnMemoria(),
    autenticador,
    nuevoIdCorrelacion: randomUUID,
    nuevoIdSolicitud,
    limiteRps: 1_000_000,
    conversiones: {
      registrarHecho: crearManejadorRegistrarHecho({ almacen: new PostgresAlmacenComisiones(persistencia.pool), nuevoId: uuidv7 }),
      consultas: new PostgresConsultasComisiones(persistencia.pool),
    },
    lineaDeTiempo: (ambito, sujeto) => new PostgresLineaDeTiempo({ pool: persistencia.pool }).de(ambito, sujeto),
    webhooks: {
      almacen: new PostgresWebhooks({ pool: persistencia.pool }),
      comprobarDestino: (u) => comprobarDestino(u, { permitirRedLocal }),
      graciaSecretoMs: 3_600_000,
    },
    eventos: {
      fuente: {
        leer: (ambito, consulta) => registro.leer(ambito, consulta),
        ultima: (ambito) => registro.ultima(ambito),
        suscribir: () => () => undefined,
      },
    },
  });
}
let estricta: ReturnType<typeof app>;

beforeAll(async () => {
  base = await crearBaseDePrueba();
  persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 8 });
  autenticador = new PostgresAutenticadorDeClaves({ pool: persistencia.pool, url: base.url });
  await autenticador.iniciar();
  asignador = iniciarAsignadorEventos({ pool: persistencia.pool, intervaloMs: 20 });
  repartidor = iniciarRepartidorWebhooks({
    pool: persistencia.pool,
    logger: loggerEnMemoria(),
    permitirRedLocal: true,
    calendarioMs: [50, 50, 50, 50, 50],
    sondeoMs: 20,
  });
  estricta = app(false);
  const permisiva = app(true);
  servidor = await servirEnPuertoLibre(permisiva.fetch);
  url = servidor.url;
});

afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
  await servidor?.cerrar();
  await repartidor?.detener();
  await asignador?.detener();
  await autenticador?.cerrar();
  await persistencia?.cerrar();
  await base?.cerrar();
});

async function crearSocio() {
  const r = await new PostgresAdministracionSocios(persistencia.pool).crear(
    { nombre: `socio ${randomUUID()}`, firmaObligatoria: false, limiteRps: null, modo: 'live' },
    new Date(),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return { id: r.valor.socio.id, clave: r.valor.clave.claveEnClaro };
}

async function pedir(
  clave: string,
  metodo: string,
  ruta: string,
  cuerpo?: unknown,
): Promise<{ status: number; cuerpo: Json; tipo: string | null }> {
  const r = await fetch(`${url}${ruta}`, {
    method: metodo,
    headers: { Authorization: `Bearer ${clave}`, ...(cuerpo === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(cuerpo === undefined ? {} : { body: JSON.stringify(cuerpo) }),
  });
  const texto = await r.text();
  return { status: r.status, cuerpo: texto ? (JSON.parse(texto) as Json) : {}, tipo: r.headers.get('content-type') };
}

interface Recibida {
  readonly cabeceras: Record<string, string>;
  readonly cuerpo: string;
}

async function receptor(responder: (n: number) => number) {
  const recibidas: Recibida[] = [];
  const srv = http.createServer((peticion, respuesta) => {
    const trozos: Buffer[] = [];
    peticion.on('data', (t: Buffer) => trozos.push(t));
    peticion.on('end', () => {
      const cabeceras: Record<string, string> = {};
      for (const [k, v] of Object.entries(peticion.headers)) if (typeof v === 'string') cabeceras[k] = v;
      recibidas.push({ cabeceras, cuerpo: Buffer.concat(trozos).toString('utf8') });
      respuesta.writeHead(responder(recibidas.length)).end();
    });
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  cierres.push(async () => {
    srv.closeAllConnections();
    srv.close();
  });
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/ganchos`, recibidas };
}

async function hasta(condicion: () => boolean | Promise<boolean>, queEspera: string, maxMs = 30_000): Promise<void> {
  const limite = Date.now() + maxMs;
  while (!(await condicion())) {
    if (Date.now() > limite) throw new Error(`No llegó a tiempo: ${queEspera}`);
    await esperar(20);
  }
}

const verificar = (secreto: string, r: Recibida) =>
  new Webhook(secreto).verify(r.cuerpo, {
    'webhook-id': r.cabeceras['webhook-id'] ?? '',
    'webhook-timestamp': r.cabeceras['webhook-timestamp'] ?? '',
    'webhook-signature': r.cabeceras['webhook-signature'] ?? '',
  });

describe('webhooks por la API', () => {
  it('SSRF: sin WEBHOOKS_PERMITIR_RED_LOCAL se rechazan loopback, redes privadas, link-local, un nombre que resuelve a loopback y lo que no es http(s); nada se guarda', async () => {
    const socio = await crearSocio();
    const rechazadas = [
      'http://127.0.0.1:8080/x',
      'http://10.1.2.3/x',
      'http://[::1]:8080/x',
      'http://169.254.169.254/latest/meta-data',
      'http://192.168.0.10/x',
      'http://localhost:8080/x',
      'ftp://ejemplo.com/x',
      'https://usuario:clave@ejemplo.com/x',
    ];
    for (const destino of rechazadas) {
      const r = await estricta.request('/webhooks', {
        method: 'POST',
        headers: { Authorization: `Bearer ${socio.clave}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ url: destino, tipos: ['pago.*'] }),
      });
      expect(r.status, destino).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      const problema = (await r.json()) as Json;
      expect(problema.errores, destino).toEqual([{ campo: 'url', mensaje: expect.any(String) }]);
    }
    const r = await estricta.request('/webhooks', { headers: { Authorization: `Bearer ${socio.clave}` } });
    expect(await r.json()).toEqual({ webhooks: [] });
  });

  it('entrada mala: tipos vacíos o mal formados, sin url, sin clave', async () => {
    const socio = await crearSocio();
    for (const cuerpo of [
      { url: 'https://ejemplo.com/x', tipos: [] },
      { url: 'https://ejemplo.com/x', tipos: ['PAGO'] },
      { tipos: ['*'] },
    ]) {
      const r = await pedir(socio.clave, 'POST', '/webhooks', cuerpo);
      expect(r.status, JSON.stringify(cuerpo)).toBe(400);
      expect(r.tipo).toContain('application/problem+json');
    }
    expect((await fetch(`${url}/webhooks`)).status).toBe(401);
  });

  it('un pago llega firmado al receptor que falla y luego acepta, con el mismo webhook-id y el mismo objeto que el feed; intentos listados; reenviar; ámbito', async () => {
    const a = await crearSocio();
    const b = await crearSocio();
    const rx = await receptor((n) => (n <= 2 ? 500 : 200));
    const creado = await pedir(a.clave, 'POST', '/webhooks', { url: rx.url, tipos: ['pago.*'] });
    expect(creado.status).toBe(201);
    const { id, secreto } = creado.cuerpo as { id: string; secreto: string };
    expect(id).toMatch(/^wh_/);
    expect(secreto).toMatch(/^whsec_/);
    expect(creado.cuerpo).toMatchObject({ url: rx.url, tipos: ['pago.*'], activo: true, entregas_pendientes: 0 });

    const pago = await fetch(`${url}/pagos`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${a.clave}` },
      body: JSON.stringify({ id_afiliado: 'afiliado-1', monto: 10.5, moneda: 'USD', referencia_pago: 'WH-1' }),
    });
    expect(pago.status).toBe(200);
    const idPago = ((await pago.json()) as Json).id_pago;

    await hasta(() => rx.recibidas.length >= 3, 'tres intentos');
    const ids = new Set(rx.recibidas.map((r) => r.cabeceras['webhook-id']));
    expect(ids.size).toBe(1);
    const feed = await pedir(a.clave, 'GET', '/eventos');
    const eventos = feed.cuerpo.eventos as Json[];
    expect(eventos).toHaveLength(1);
    for (const r of rx.recibidas) expect(verificar(secreto, r)).toEqual(eventos[0]);
    expect(eventos[0]).toMatchObject({ tipo: 'pago.pendiente', sujeto: idPago, secuencia: 1 });

    // Intentos, del más reciente al más antiguo.
    await hasta(async () => ((await pedir(a.clave, 'GET', `/webhooks/${id}/intentos`)).cuerpo.intentos as Json[]).length === 3, 'anotados');
    const intentos = (await pedir(a.clave, 'GET', `/webhooks/${id}/intentos`)).cuerpo;
    expect((intentos.intentos as Json[]).map((i) => [i.intento, i.resultado, i.codigo_estado, i.proximo_intento === null])).toEqual([
      [3, 'exitoso', 200, true],
      [2, 'error_http', 500, false],
      [1, 'error_http', 500, false],
    ]);
    const idEvento = [...ids][0] as string;
    expect((intentos.intentos as Json[])[0]).toMatchObject({ id_evento: idEvento, secuencia: 1, duracion_ms: expect.any(Number) });
    expect(intentos.hay_mas).toBe(false);
    const pagina = await pedir(a.clave, 'GET', `/webhooks/${id}/intentos?limite=1`);
    expect(pagina.cuerpo.hay_mas).toBe(true);

    // El listado no muestra el secreto.
    const lista = await pedir(a.clave, 'GET', '/webhooks');
    expect(lista.cuerpo.webhooks).toEqual([expect.objectContaining({ id, activo: true })]);
    expect(JSON.stringify(lista.cuerpo)).not.toContain('whsec_');

    // B no ve ni gestiona los webhooks de A.
    expect((await pedir(b.clave, 'GET', '/webhooks')).cuerpo).toEqual({ webhooks: [] });
    for (const [metodo, ruta, cuerpo] of [
      ['GET', `/webhooks/${id}`, undefined],
      ['GET', `/webhooks/${id}/intentos`, undefined],
      ['POST', `/webhooks/${id}/rotar-secreto`, undefined],
      ['POST', `/webhooks/${id}/reenviar`, { desde: 1, hasta: 1 }],
      ['DELETE', `/webhooks/${id}`, undefined],
    ] as const) {
      const r = await pedir(b.clave, metodo, ruta, cuerpo);
      expect(r.status, `${metodo} ${ruta}`).toBe(404);
      expect(r.tipo).toContain('application/problem+json');
    }
    // B tampoco puede reenviar a un webhook suyo un evento de A.
    const deB = await pedir(b.clave, 'POST', '/webhooks', { url: rx.url, tipos: ['*'] });
    expect((await pedir(b.clave, 'POST', `/webhooks/${deB.cuerpo.id}/reenviar`, { id_evento: idEvento })).status).toBe(404);
    expect(rx.recibidas).toHaveLength(3);

    // Reenviar el evento: vuelve a llegar, con el mismo webhook-id.
    const reenvio = await pedir(a.clave, 'POST', `/webhooks/${id}/reenviar`, { id_evento: idEvento });
    expect(reenvio).toMatchObject({ status: 202, cuerpo: { entregas_programadas: 1 } });
    await hasta(() => rx.recibidas.length === 4, 'el reenvío');
    expect(rx.recibidas[3]?.cabeceras['webhook-id']).toBe(idEvento);
    expect(verificar(secreto, rx.recibidas[3]!)).toEqual(eventos[0]);
    // Por rango; y entradas malas.
    expect((await pedir(a.clave, 'POST', `/webhooks/${id}/reenviar`, { desde: 1, hasta: 5 })).cuerpo).toEqual({ entregas_programadas: 1 });
    await hasta(() => rx.recibidas.length === 5, 'el reenvío por rango');
    for (const cuerpo of [{}, { desde: 3 }, { desde: 5, hasta: 1 }, { id_evento: idEvento, desde: 1, hasta: 1 }, { desde: 0, hasta: 1 }]) {
      expect((await pedir(a.clave, 'POST', `/webhooks/${id}/reenviar`, cuerpo)).status, JSON.stringify(cuerpo)).toBe(400);
    }
    expect((await pedir(a.clave, 'POST', `/webhooks/${id}/reenviar`, { id_evento: 'evt_otro_live_1' })).status).toBe(404);

    // Rotar: el nuevo secreto y el anterior verifican la siguiente entrega.
    const rotado = await pedir(a.clave, 'POST', `/webhooks/${id}/rotar-secreto`);
    expect(rotado.status).toBe(200);
    const nuevo = rotado.cuerpo.secreto as string;
    expect(nuevo).not.toBe(secreto);
    await pedir(a.clave, 'POST', `/webhooks/${id}/reenviar`, { id_evento: idEvento });
    await hasta(() => rx.recibidas.length === 6, 'la entrega tras rotar');
    expect(verificar(nuevo, rx.recibidas[5]!)).toEqual(eventos[0]);
    expect(verificar(secreto, rx.recibidas[5]!)).toEqual(eventos[0]);
    expect((await pedir(a.clave, 'GET', `/webhooks/${id}`)).cuerpo.secreto_anterior_vigente_hasta).toEqual(expect.any(String));

    // Borrar.
    expect((await pedir(a.clave, 'DELETE', `/webhooks/${id}`)).status).toBe(204);
    expect((await pedir(a.clave, 'GET', `/webhooks/${id}`)).status).toBe(404);
    expect((await pedir(a.clave, 'GET', '/webhooks')).cuerpo).toEqual({ webhooks: [] });
  });

  it('líneas de tiempo: el historial de un pago y la de una conversión muestran cada paso con sus ids y los intentos de webhook', async () => {
    const a = await crearSocio();
    const b = await crearSocio();
    const rx = await receptor((n) => (n === 1 ? 503 : 200));
    const { cuerpo: webhook } = await pedir(a.clave, 'POST', '/webhooks', { url: rx.url, tipos: ['*'] });
    const idTraza = '4bf92f3577b34da6a3ce929d0e0e4736';
    const r = await fetch(`${url}/pagos`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${a.clave}`,
        traceparent: `00-${idTraza}-00f067aa0ba902b7-01`,
        'X-Correlation-Id': 'corr-linea-1',
      },
      body: JSON.stringify({ id_afiliado: 'afiliado-1', monto: 3, moneda: 'USD', referencia_pago: 'LINEA-1' }),
    });
    const idPago = ((await r.json()) as Json).id_pago as string;
    const idSolicitud = r.headers.get('request-id');
    await hasta(() => rx.recibidas.length >= 2, 'fallo y éxito');
    let historial: Json = {};
    await hasta(async () => {
      historial = (await pedir(a.clave, 'GET', `/pagos/${idPago}/historial`)).cuerpo;
      const pasos = historial.linea_de_tiempo as Json[] | undefined;
      return (pasos?.[0]?.intentos_webhook as Json[] | undefined)?.length === 2;
    }, 'la línea de tiempo con los dos intentos');
    expect(historial.historial).toHaveLength(1);
    const [paso] = historial.linea_de_tiempo as Json[];
    expect(paso).toMatchObject({
      secuencia: 1,
      tipo: 'pago.pendiente',
      id_solicitud: idSolicitud,
      id_correlacion: 'corr-linea-1',
      id_traza: idTraza,
      id_evento: (historial.historial as Json[])[0]?.id_evento,
      id_evento_webhook: rx.recibidas[0]?.cabeceras['webhook-id'],
    });
    expect(((paso?.intentos_webhook ?? []) as Json[]).map((i) => [i.id_webhook, i.intento, i.resultado, i.codigo_estado])).toEqual([
      [webhook.id, 1, 'error_http', 503],
      [webhook.id, 2, 'exitoso', 200],
    ]);
    // Otro socio: el pago no existe.
    expect((await pedir(b.clave, 'GET', `/pagos/${idPago}/historial`)).status).toBe(404);

    const hecho = await pedir(a.clave, 'POST', '/conversiones/eventos', {
      id_evento: 'evt-linea-1',
      tipo: 'conversion.creada',
      id_conversion: 'venta-linea-1',
      id_afiliado: 'afiliado-1',
      monto: 100,
      moneda: 'USD',
      ocurrido_en: new Date().toISOString(),
    });
    expect(hecho.status).toBe(202);
    let linea: { status: number; cuerpo: Json } = { status: 0, cuerpo: {} };
    await hasta(async () => {
      linea = await pedir(a.clave, 'GET', '/conversiones/venta-linea-1/linea-de-tiempo');
      return linea.status === 200 && (((linea.cuerpo.linea_de_tiempo as Json[])[0]?.intentos_webhook ?? []) as Json[]).length > 0;
    }, 'la línea de tiempo de la conversión con su entrega');
    expect(linea.cuerpo.id_conversion).toBe('venta-linea-1');
    const [primero] = linea.cuerpo.linea_de_tiempo as Json[];
    expect(primero).toMatchObject({ tipo: expect.stringMatching(/^conversion\./), id_evento: 'evt-linea-1' });
    expect((await pedir(b.clave, 'GET', '/conversiones/venta-linea-1/linea-de-tiempo')).status).toBe(404);
    expect((await pedir(a.clave, 'GET', '/conversiones/no-existe/linea-de-tiempo')).status).toBe(404);
  });

  it('el documento OpenAPI publica las rutas de webhooks', async () => {
    const doc = (await (await estricta.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(
      Object.keys(doc.paths)
        .filter((p) => p.startsWith('/webhooks'))
        .sort(),
    ).toEqual(['/webhooks', '/webhooks/{id}', '/webhooks/{id}/intentos', '/webhooks/{id}/reenviar', '/webhooks/{id}/rotar-secreto']);
    expect(Object.keys(doc.paths['/webhooks'] ?? {}).sort()).toEqual(['get', 'post']);
  });
});
