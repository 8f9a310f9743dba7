import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { CUERPO_VALIDO, crearAppDePrueba, postPago } from '../test/app-de-prueba.js';
import { EsquemaProblema } from './esquemas.js';

/** Issue 2, punto 7: cada entrada mala es un problem+json que nombra los campos, y nada se escribe. */

type Json = Record<string, unknown>;
const TIPO = 'urn:aeropartners:pagos:problema:';

async function problemaDe(r: Response, estado: number) {
  expect(r.status).toBe(estado);
  expect(r.headers.get('content-type')).toBe('application/problem+json');
  const problema = (await r.json()) as Json;
  expect(v.safeParse(EsquemaProblema, problema).success).toBe(true);
  expect(problema).toMatchObject({ status: estado, instance: expect.any(String), detail: expect.any(String) });
  expect(JSON.stringify(problema)).not.toMatch(/\bat\s|stack|node_modules/);
  return problema;
}

const campos = (problema: Json) => (problema['errores'] as { campo: string }[]).map((e) => e.campo);

function sinEscrituras(repositorio: ReturnType<typeof crearAppDePrueba>['repositorio']) {
  expect(repositorio.pagos.size).toBe(0);
  expect(repositorio.outbox).toHaveLength(0);
  expect(repositorio.claves.size).toBe(0);
}

describe('POST /pagos: cuerpo con campos que faltan o no tienen el tipo esperado → 400', () => {
  it.each(['id_afiliado', 'monto', 'moneda', 'referencia_pago'] as const)('falta %s → 400 "es obligatorio"', async (campo) => {
    const { app, repositorio } = crearAppDePrueba();
    const { [campo]: _quitado, ...cuerpo } = CUERPO_VALIDO;
    const problema = await problemaDe(await postPago(app, cuerpo), 400);
    expect(problema).toMatchObject({
      type: `${TIPO}solicitud-invalida`,
      title: 'La solicitud no es válida',
      instance: '/pagos',
      errores: [{ campo, mensaje: 'es obligatorio' }],
    });
    sinEscrituras(repositorio);
  });

  it('dado un objeto vacío, entonces nombra los cuatro campos', async () => {
    const { app, repositorio } = crearAppDePrueba();
    const problema = await problemaDe(await postPago(app, {}), 400);
    expect(campos(problema)).toEqual(['id_afiliado', 'monto', 'moneda', 'referencia_pago']);
    expect(problema['detail']).toBe('Los campos id_afiliado, monto, moneda, referencia_pago no son válidos.');
    sinEscrituras(repositorio);
  });

  it.each([
    ['id_afiliado', 123],
    ['id_afiliado', null],
    ['id_afiliado', '   '],
    ['id_afiliado', ''],
    ['id_afiliado', 'x'.repeat(256)],
    ['monto', '150.75'],
    ['monto', 'NaN'],
    ['monto', true],
    ['monto', null],
    ['monto', [1]],
    ['moneda', 'GBP'],
    ['moneda', 'usd'],
    ['moneda', 840],
    ['referencia_pago', { id: 1 }],
    ['referencia_pago', ''],
  ])('%s = %j → 400 que nombra el campo', async (campo, valor) => {
    const { app, repositorio } = crearAppDePrueba();
    const problema = await problemaDe(await postPago(app, { ...CUERPO_VALIDO, [campo]: valor }), 400);
    expect(problema['errores']).toEqual([{ campo, mensaje: expect.any(String) }]);
    sinEscrituras(repositorio);
  });

  it.each([
    [0, 'debe ser mayor que 0'],
    [-0, 'debe ser mayor que 0'],
    [-1, 'debe ser mayor que 0'],
    [-0.01, 'debe ser mayor que 0'],
    [1e20, 'no puede superar 999999999.99'],
    [1_000_000_000, 'no puede superar 999999999.99'],
    [0.001, 'admite como máximo 2 decimales en esta moneda'],
    [150.755, 'admite como máximo 2 decimales en esta moneda'],
    [0.1 + 0.2, 'admite como máximo 2 decimales en esta moneda'],
  ])('monto %d → 400 "%s"', async (monto, mensaje) => {
    const { app, repositorio } = crearAppDePrueba();
    const problema = await problemaDe(await postPago(app, { ...CUERPO_VALIDO, monto }), 400);
    expect(problema['errores']).toEqual([{ campo: 'monto', mensaje }]);
    sinEscrituras(repositorio);
  });

  it.each(['1e400', '-1e400'])('monto %s (fuera del rango de un double) → 400 monto', async (literal) => {
    const { app, repositorio } = crearAppDePrueba();
    const texto = JSON.stringify(CUERPO_VALIDO).replace('150.75', literal);
    const problema = await problemaDe(await postPago(app, texto), 400);
    expect(campos(problema)).toEqual(['monto']);
    sinEscrituras(repositorio);
  });

  it('varios campos mal a la vez → todos nombrados', async () => {
    const { app, repositorio } = crearAppDePrueba();
    const problema = await problemaDe(await postPago(app, { id_afiliado: '', monto: -5, moneda: 'XXX', referencia_pago: 7 }), 400);
    expect(campos(problema)).toEqual(['id_afiliado', 'monto', 'moneda', 'referencia_pago']);
    sinEscrituras(repositorio);
  });
});

describe('POST /pagos: cuerpo que no es JSON o no es un objeto → 400', () => {
  it.each([
    ['JSON inválido', '{"id_afiliado": "a",', 'el cuerpo no es JSON válido'],
    ['NaN literal', JSON.stringify(CUERPO_VALIDO).replace('150.75', 'NaN'), 'el cuerpo no es JSON válido'],
    ['cuerpo vacío', '', 'el cuerpo está vacío; se esperaba un objeto JSON'],
    ['null', 'null', 'el cuerpo debe ser un objeto JSON'],
    ['array', '[]', 'el cuerpo debe ser un objeto JSON'],
    ['texto', '"hola"', 'el cuerpo debe ser un objeto JSON'],
    ['número', '42', 'el cuerpo debe ser un objeto JSON'],
  ])('%s → 400 campo "cuerpo"', async (_caso, texto, mensaje) => {
    const { app, repositorio } = crearAppDePrueba();
    const problema = await problemaDe(await postPago(app, texto), 400);
    expect(problema['errores']).toEqual([{ campo: 'cuerpo', mensaje }]);
    sinEscrituras(repositorio);
  });

  it('UTF-8 inválido → 400', async () => {
    const { app, repositorio } = crearAppDePrueba();
    const bytes = new TextEncoder().encode(JSON.stringify(CUERPO_VALIDO));
    const malos = new Uint8Array([...bytes.slice(0, 20), 0xff, 0xfe, ...bytes.slice(20)]);
    const r = await app.request('/pagos', { method: 'POST', headers: { 'content-type': 'application/json' }, body: malos });
    expect((await problemaDe(r, 400))['errores']).toEqual([{ campo: 'cuerpo', mensaje: 'el cuerpo no es UTF-8 válido' }]);
    sinEscrituras(repositorio);
  });
});

describe('POST /pagos: tipo de contenido → 415', () => {
  it.each([
    ['text/plain', { 'Content-Type': 'text/plain' }],
    ['formulario', { 'Content-Type': 'application/x-www-form-urlencoded' }],
    ['charset latin1', { 'Content-Type': 'application/json; charset=latin1' }],
    ['json comprimido', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }],
  ])('%s → 415 con Accept-Post', async (_caso, cabeceras) => {
    const { app, repositorio } = crearAppDePrueba();
    const r = await app.request('/pagos', { method: 'POST', headers: cabeceras, body: JSON.stringify(CUERPO_VALIDO) });
    expect(r.headers.get('accept-post')).toBe('application/json');
    expect(await problemaDe(r, 415)).toMatchObject({ type: `${TIPO}tipo-de-contenido-no-soportado` });
    sinEscrituras(repositorio);
  });

  it('sin Content-Type → 415', async () => {
    const { app, repositorio } = crearAppDePrueba();
    const r = await app.request('/pagos', { method: 'POST', body: new TextEncoder().encode(JSON.stringify(CUERPO_VALIDO)) });
    expect((await problemaDe(r, 415))['detail']).toMatch(/Falta la cabecera Content-Type/);
    sinEscrituras(repositorio);
  });
});

describe('POST /pagos: tamaño → 413', () => {
  const grande = JSON.stringify({ ...CUERPO_VALIDO, relleno: 'x'.repeat(64 * 1024) });

  it('cuerpo de más de 64 KiB (sin Content-Length, leído por trozos) → 413', async () => {
    const { app, repositorio } = crearAppDePrueba();
    const problema = await problemaDe(await postPago(app, grande), 413);
    expect(problema).toMatchObject({ type: `${TIPO}cuerpo-demasiado-grande`, detail: 'El cuerpo no puede superar 65536 bytes.' });
    sinEscrituras(repositorio);
  });

  it('Content-Length de más de 64 KiB → 413 sin leer el cuerpo', async () => {
    const { app, repositorio } = crearAppDePrueba();
    const r = await postPago(app, grande, { 'Content-Length': String(new TextEncoder().encode(grande).byteLength) });
    await problemaDe(r, 413);
    sinEscrituras(repositorio);
  });

  it('exactamente 64 KiB se acepta', async () => {
    const { app } = crearAppDePrueba();
    const base = JSON.stringify({ ...CUERPO_VALIDO, relleno: '' });
    const justo = JSON.stringify({ ...CUERPO_VALIDO, relleno: 'x'.repeat(64 * 1024 - base.length) });
    expect(justo.length).toBe(64 * 1024);
    expect((await postPago(app, justo)).status).toBe(200);
  });
});

describe('POST /pagos: cabecera Idempotency-Key → 400', () => {
  it.each([
    ['vacía', ''],
    ['de 256 caracteres', 'k'.repeat(256)],
    ['con un carácter no ASCII', 'clave-ñ'],
    ['con un carácter de control', 'clave\x7f'],
  ])('%s → 400 que nombra Idempotency-Key', async (_caso, clave) => {
    const { app, repositorio } = crearAppDePrueba();
    const problema = await problemaDe(await postPago(app, CUERPO_VALIDO, { 'Idempotency-Key': clave }), 400);
    expect(problema['errores']).toEqual([{ campo: 'Idempotency-Key', mensaje: 'debe tener entre 1 y 255 caracteres ASCII imprimibles' }]);
    sinEscrituras(repositorio);
  });

  it('de 255 caracteres imprimibles (con espacios y símbolos) se acepta', async () => {
    const { app } = crearAppDePrueba();
    const clave = `a b~!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}`.padEnd(255, 'z');
    expect((await postPago(app, CUERPO_VALIDO, { 'Idempotency-Key': clave })).status).toBe(200);
  });

  it('cabecera y cuerpo mal a la vez → ambos nombrados', async () => {
    const { app } = crearAppDePrueba();
    const problema = await problemaDe(await postPago(app, { ...CUERPO_VALIDO, monto: 0 }, { 'Idempotency-Key': '' }), 400);
    expect(campos(problema)).toEqual(['Idempotency-Key', 'monto']);
  });
});

describe('identificadores mal formados → 400', () => {
  it.each(['abc', '123', '0190a0b0-0000-7000-8000-00000000000', '0190a0b0-0000-7000-8000-00000000000g', "1' OR '1'='1"])(
    'GET /pagos/%s → 400 que nombra id',
    async (id) => {
      const { app } = crearAppDePrueba();
      for (const ruta of [`/pagos/${encodeURIComponent(id)}`, `/pagos/${encodeURIComponent(id)}/historial`]) {
        const problema = await problemaDe(await app.request(ruta), 400);
        expect(problema).toMatchObject({ type: `${TIPO}solicitud-invalida`, errores: [{ campo: 'id', mensaje: 'debe ser un UUID' }] });
      }
    },
  );
});

describe('GET /pagos: parámetros de consulta → 400', () => {
  it.each([
    ['limite=0', 'limite'],
    ['limite=201', 'limite'],
    ['limite=abc', 'limite'],
    ['limite=1.5', 'limite'],
    ['limite=-1', 'limite'],
    ['limite=', 'limite'],
    ['estado=COMPLETADO', 'estado'],
    ['estado=pendiente', 'estado'],
    ['id_afiliado=', 'id_afiliado'],
    ['referencia_pago=', 'referencia_pago'],
    [`referencia_pago=${'r'.repeat(256)}`, 'referencia_pago'],
    ['cursor=con%20espacios', 'cursor'],
    ['cursor=abc', 'cursor'],
  ])('?%s → 400 que nombra %s', async (consulta, campo) => {
    const { app } = crearAppDePrueba();
    const problema = await problemaDe(await app.request(`/pagos?${consulta}`), 400);
    expect(campos(problema)).toEqual([campo]);
  });

  it.each(['limite=1', 'limite=200', 'limite=050', 'estado=FALLIDO', 'otro=ignorado'])('?%s se acepta', async (consulta) => {
    const { app } = crearAppDePrueba();
    expect((await app.request(`/pagos?${consulta}`)).status).toBe(200);
  });
});
