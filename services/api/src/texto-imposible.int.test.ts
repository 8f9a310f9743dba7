import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { PostgresAutenticadorDeClaves, crearPersistenciaPostgres, uuidv7, type PersistenciaPostgres } from '@aeropartners/adaptadores';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerEnMemoria } from '../test/app-de-prueba.js';
import { crearApp } from './app.js';
import { crearManejadores } from './manejadores.js';
import { atenderErroresDeCliente } from './servidor.js';
import { nuevoIdSolicitud } from './solicitud.js';

/**
 * Issue 9, punto 8: texto que PostgreSQL no puede guardar (NUL, otros caracteres de control,
 * sustitutos UTF-16 sueltos) y JSON ambiguo (claves repetidas) son errores del cliente: 400
 * problem+json que nombra el campo, nada escrito (ni pago, ni outbox, ni historial), nunca un 500.
 * Contra PostgreSQL real y por un socket real: el repositorio en memoria guarda cualquier cadena.
 */

type Json = Record<string, unknown>;
type ErrorCampo = { campo: string; mensaje: string };

let base: BaseDePrueba;
let persistencia: PersistenciaPostgres;
let servidor: ServerType;
let url: string;
const logger = loggerEnMemoria();

beforeAll(async () => {
  base = await crearBaseDePrueba();
  persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 4 });
  const app = crearApp({
    manejadores: crearManejadores({ ...persistencia, reloj: { ahora: () => new Date() }, nuevoId: uuidv7 }),
    comprobarSalud: () => persistencia.comprobarSalud(),
    logger,
    autenticador: new PostgresAutenticadorDeClaves({ pool: persistencia.pool, url: base.url }),
    idSocioAnonimo: 'socio-texto',
    nuevoIdSolicitud,
    nuevoIdCorrelacion: randomUUID,
  });
  url = await new Promise<string>((resolver) => {
    servidor = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolver(`http://127.0.0.1:${info.port}`),
    );
  });
  atenderErroresDeCliente(servidor, { nuevoIdCorrelacion: randomUUID, logger });
});

afterAll(async () => {
  await new Promise<void>((fin) => {
    if (!servidor) return fin();
    servidor.close(() => fin());
    if ('closeAllConnections' in servidor) servidor.closeAllConnections();
  });
  await persistencia?.cerrar();
  await base?.cerrar();
});

async function filas() {
  const { rows } = await persistencia.pool.query<{ pagos: number; outbox: number; historial: number }>(
    `SELECT (SELECT count(*)::int FROM pagos) AS pagos,
            (SELECT count(*)::int FROM outbox) AS outbox,
            (SELECT count(*)::int FROM historial_pagos) AS historial`,
  );
  return rows[0];
}

const VALIDO = { id_afiliado: 'afiliado-texto', monto: 10.5, moneda: 'EUR', referencia_pago: 'REF-TEXTO' };

function post(texto: string, cabeceras: Record<string, string> = {}) {
  return fetch(`${url}/pagos`, { method: 'POST', headers: { 'content-type': 'application/json', ...cabeceras }, body: texto });
}

async function problema400(r: Response): Promise<Json & { errores: ErrorCampo[] }> {
  const cuerpo = (await r.json()) as Json & { errores: ErrorCampo[] };
  expect({ estado: r.status, cuerpo }).toMatchObject({ estado: 400, cuerpo: { status: 400 } });
  expect(r.headers.get('content-type')).toBe('application/problem+json');
  expect(cuerpo['type']).toBe('urn:aeropartners:pagos:problema:solicitud-invalida');
  return cuerpo;
}

/** Los errores de un 400 deben nombrar exactamente estos campos. */
const campos = (problema: { errores: ErrorCampo[] }) => problema.errores.map((e) => e.campo);

describe('POST /pagos con texto que PostgreSQL no puede guardar → 400 que nombra el campo, nada escrito', () => {
  // JSON.stringify escribe "\u0000" y "\ud800" como escapes: el cuerpo es UTF-8 y JSON válidos.
  it.each([
    ['NUL en id_afiliado', 'id_afiliado', 'afiliado\u0000-1'],
    ['NUL en referencia_pago', 'referencia_pago', 'REF\u0000'],
    ['solo NUL', 'referencia_pago', '\u0000'],
    ['tabulador en referencia_pago', 'referencia_pago', 'REF\t1'],
    ['salto de línea en id_afiliado', 'id_afiliado', 'afiliado\n1'],
    ['retorno de carro', 'referencia_pago', 'REF\r1'],
    ['escape (U+001B)', 'id_afiliado', 'afiliado\u001b[31m'],
    ['DEL (U+007F)', 'referencia_pago', 'REF\u007f'],
    ['C1 (U+0085)', 'referencia_pago', 'REF\u0085'],
    ['C1 (U+009F)', 'id_afiliado', 'a\u009f'],
    ['sustituto alto suelto', 'referencia_pago', 'REF-\ud800'],
    ['sustituto bajo suelto', 'id_afiliado', '\udc00afiliado'],
    ['sustitutos en orden inverso', 'referencia_pago', 'REF-\udc00\ud800'],
  ])('%s → 400 que nombra %s', async (_caso, campo, valor) => {
    const antes = await filas();
    const r = await post(JSON.stringify({ ...VALIDO, referencia_pago: `REF-${randomUUID()}`, [campo]: valor }));
    const problema = await problema400(r);
    expect(campos(problema)).toEqual([campo]);
    expect(problema.errores[0]?.mensaje).toMatch(/carácter|sustituto/);
    expect(await filas()).toEqual(antes);
  });

  it('varios campos con texto imposible a la vez → los nombra todos', async () => {
    const antes = await filas();
    const problema = await problema400(await post(JSON.stringify({ ...VALIDO, id_afiliado: 'a\u0000', referencia_pago: '\ud800' })));
    expect(campos(problema)).toEqual(['id_afiliado', 'referencia_pago']);
    expect(await filas()).toEqual(antes);
  });

  it('texto legítimo fuera de ASCII se guarda tal cual: tildes, emojis (pares de sustitutos bien formados), U+FFFD', async () => {
    const referencia = `REF-ñandú-€-😀-\ufffd-${randomUUID()}`;
    const r = await post(JSON.stringify({ ...VALIDO, id_afiliado: 'afiliado-Zoë 𝄞', referencia_pago: referencia }));
    expect(r.status).toBe(200);
    const { id_pago } = (await r.json()) as { id_pago: string };
    const { rows } = await persistencia.pool.query<{ referencia_pago: string; id_afiliado: string; payload: Json }>(
      `SELECT p.referencia_pago, p.id_afiliado, o.payload FROM pagos p JOIN outbox o ON o.id_agregado = p.id WHERE p.id = $1`,
      [id_pago],
    );
    expect(rows[0]).toMatchObject({ referencia_pago: referencia, id_afiliado: 'afiliado-Zoë 𝄞' });
    expect(JSON.stringify(rows[0]?.payload)).toContain(referencia);
  });

  it('un carácter de control en un campo que la API no usa (y no guarda) no molesta', async () => {
    const r = await post(JSON.stringify({ ...VALIDO, referencia_pago: `REF-${randomUUID()}`, nota: 'ignorada\u0000\ud800' }));
    expect(r.status).toBe(200);
  });
});

describe('POST /pagos con JSON ambiguo (la misma clave dos veces en un objeto) → 400 que nombra la clave', () => {
  const referencia = () => `REF-${randomUUID()}`;
  it.each([
    ['monto repetido', () => `{"id_afiliado":"a","monto":1,"moneda":"EUR","referencia_pago":"${referencia()}","monto":1000}`, 'monto'],
    [
      'el mismo valor dos veces',
      () => `{"id_afiliado":"a","monto":1,"moneda":"EUR","monto":1,"referencia_pago":"${referencia()}"}`,
      'monto',
    ],
    [
      'escrita con un escape',
      () => `{"id_afiliado":"a","monto":1,"moneda":"EUR","referencia_pago":"${referencia()}","\\u006donto":2}`,
      'monto',
    ],
    [
      'clave desconocida repetida',
      () => `{"id_afiliado":"a","monto":1,"moneda":"EUR","referencia_pago":"${referencia()}","x":1,"x":2}`,
      'x',
    ],
    [
      'en un objeto anidado',
      () => `{"id_afiliado":"a","monto":1,"moneda":"EUR","referencia_pago":"${referencia()}","meta":{"k":[{"a":1,"a":2}]}}`,
      'meta.k.0.a',
    ],
    ['clave vacía repetida', () => `{"id_afiliado":"a","monto":1,"moneda":"EUR","referencia_pago":"${referencia()}","":1,"":2}`, '""'],
  ])('%s → 400 que nombra %s', async (_caso, texto, campo) => {
    const antes = await filas();
    const problema = await problema400(await post(texto()));
    expect(problema.errores).toEqual([{ campo, mensaje: 'la clave aparece más de una vez en el mismo objeto' }]);
    expect(await filas()).toEqual(antes);
  });

  it('la misma clave en objetos distintos no es ambigua', async () => {
    const texto = `{"id_afiliado":"a","monto":1,"moneda":"EUR","referencia_pago":"${referencia()}","x":{"monto":2},"y":[{"monto":3},{"monto":4}]}`;
    expect((await post(texto)).status).toBe(200);
  });

  it('claves que solo se parecen (mayúsculas, un escape que no es la misma letra) no son la misma', async () => {
    const texto = `{"id_afiliado":"a","monto":1,"moneda":"EUR","referencia_pago":"${referencia()}","Monto":2,"m\\u00f3nto":3}`;
    expect((await post(texto)).status).toBe(200);
  });
});

describe('cabeceras que se guardan o se devuelven', () => {
  it('Idempotency-Key con un carácter C1 (byte 0x85, que Node lee como latin1) → 400 que nombra la cabecera, nada escrito', async () => {
    const antes = await filas();
    const respuesta = await peticionCruda(
      `POST /pagos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: clave\x85\r\n` +
        `Content-Length: ${Buffer.byteLength(JSON.stringify(VALIDO))}\r\nConnection: close\r\n\r\n${JSON.stringify(VALIDO)}`,
    );
    expect(respuesta.estado).toBe(400);
    expect(respuesta.cabeceras['content-type']).toBe('application/problem+json');
    expect((JSON.parse(respuesta.cuerpo) as { errores: ErrorCampo[] }).errores.map((e) => e.campo)).toEqual(['Idempotency-Key']);
    expect(await filas()).toEqual(antes);
  });

  it.each([
    ['NUL en Idempotency-Key', 'Idempotency-Key: clave\x00mala', 'Idempotency-Key'],
    ['escape en X-Correlation-Id', 'X-Correlation-Id: c\x1bd', 'X-Correlation-Id'],
    ['un salto de línea suelto en una cabecera', 'X-Correlation-Id: c\nd', 'X-Correlation-Id'],
  ])(
    '%s: Node corta la petición antes de la app → 400 problem+json que nombra la cabecera, nada escrito',
    async (_caso, cabecera, nombre) => {
      const antes = await filas();
      const cuerpo = JSON.stringify({ ...VALIDO, referencia_pago: `REF-${randomUUID()}` });
      const respuesta = await peticionCruda(
        `POST /pagos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${cabecera}\r\n` +
          `Content-Length: ${Buffer.byteLength(cuerpo)}\r\n\r\n${cuerpo}`,
      );
      expect(respuesta.estado).toBe(400);
      expect(respuesta.cabeceras['content-type']).toBe('application/problem+json');
      expect(respuesta.cabeceras['connection']).toBe('close');
      // También lo que Node rechaza antes de la app lleva su Request-Id.
      expect(respuesta.cabeceras['request-id']).toMatch(/^req_[0-9a-f-]{36}$/);
      const problema = JSON.parse(respuesta.cuerpo) as Json & { errores: ErrorCampo[] };
      expect(problema).toMatchObject({ status: 400, type: 'urn:aeropartners:pagos:problema:solicitud-invalida' });
      expect(problema.errores.map((e) => e.campo)).toEqual([nombre]);
      expect(await filas()).toEqual(antes);
    },
  );

  it('X-Correlation-Id con un carácter C1 no se devuelve ni se guarda: se genera otro', async () => {
    const cuerpo = JSON.stringify({ ...VALIDO, referencia_pago: `REF-${randomUUID()}` });
    const respuesta = await peticionCruda(
      `POST /pagos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Correlation-Id: corr\x85\r\n` +
        `Content-Length: ${Buffer.byteLength(cuerpo)}\r\nConnection: close\r\n\r\n${cuerpo}`,
    );
    expect(respuesta.estado).toBe(200);
    expect(respuesta.cabeceras['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('parámetros de ruta y de consulta', () => {
  it.each([
    ['/pagos?referencia_pago=%00', 'referencia_pago'],
    ['/pagos?referencia_pago=REF%00X', 'referencia_pago'],
    ['/pagos?id_afiliado=%00', 'id_afiliado'],
    ['/pagos?id_afiliado=a%0Ab', 'id_afiliado'],
    ['/pagos?referencia_pago=%C2%85', 'referencia_pago'],
    ['/pagos?referencia_pago=%7F', 'referencia_pago'],
    ['/pagos?referencia_pago=%ED%A0%80', 'referencia_pago'],
    ['/pagos?referencia_pago=%FF', 'referencia_pago'],
    ['/pagos?referencia_pago=%E0%A4%A', 'referencia_pago'],
    ['/pagos?estado=%00', 'estado'],
    ['/pagos?cursor=%00', 'cursor'],
    ['/pagos?limite=%00', 'limite'],
    ['/pagos?referencia_pago=a&referencia_pago=b', 'referencia_pago'],
    ['/pagos?estado=PENDIENTE&estado=FALLIDO', 'estado'],
    ['/pagos/%00', 'id'],
    ['/pagos/%00/historial', 'id'],
    ['/pagos/%ED%A0%80', 'id'],
    ['/pagos/%FF', 'id'],
  ])('GET %s → 400 que nombra %s', async (ruta, campo) => {
    const r = await fetch(`${url}${ruta}`);
    expect(campos(await problema400(r))).toEqual([campo]);
  });

  it('texto legítimo en la consulta sigue funcionando (tildes, espacios, +)', async () => {
    const referencia = `REF ñ+€ ${randomUUID()}`;
    expect((await post(JSON.stringify({ ...VALIDO, referencia_pago: referencia }))).status).toBe(200);
    const r = await fetch(`${url}/pagos?referencia_pago=${encodeURIComponent(referencia)}`);
    expect(r.status).toBe(200);
    const { pagos } = (await r.json()) as { pagos: { referencia_pago: string }[] };
    expect(pagos.map((p) => p.referencia_pago)).toEqual([referencia]);
  });
});

it('ninguna de estas peticiones produjo un 500 ni un error en el registro', () => {
  expect(logger.lineas.filter((l) => l.nivel === 'error' || l.campos['estado_http'] === 500)).toEqual([]);
});

interface RespuestaCruda {
  readonly estado: number;
  readonly cabeceras: Record<string, string>;
  readonly cuerpo: string;
}

/** Una petición HTTP/1.1 escrita byte a byte (latin1), para enviar lo que `fetch` no deja enviar. */
async function peticionCruda(texto: string): Promise<RespuestaCruda> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  const trozos: Buffer[] = [];
  socket.on('data', (t: Buffer) => trozos.push(t));
  socket.write(Buffer.from(texto, 'latin1'));
  await once(socket, 'close');
  const respuesta = Buffer.concat(trozos).toString('utf8');
  const [cabecera = '', ...resto] = respuesta.split('\r\n\r\n');
  const [linea = '', ...lineas] = cabecera.split('\r\n');
  const cabeceras: Record<string, string> = {};
  for (const l of lineas) {
    const i = l.indexOf(':');
    cabeceras[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { estado: Number(linea.split(' ')[1]), cabeceras, cuerpo: resto.join('\r\n\r\n') };
}
