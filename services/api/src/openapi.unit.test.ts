import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { CUERPO_VALIDO, crearAppDePrueba, postPago, todasLasRutas } from '../test/app-de-prueba.js';
import { EsquemaConsultaListado, EsquemaSolicitudPago } from './esquemas.js';

type Json = Record<string, unknown>;
type Parametro = { readonly name: string; readonly in: string; readonly schema: Json } | { readonly $ref: string };
type Operacion = {
  readonly requestBody: { readonly content: Record<string, { readonly schema: unknown }> };
  readonly parameters: readonly Parametro[];
};
/** Lo que estos tests leen del documento servido. */
interface Documento {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, Operacion>>;
  readonly components: { readonly schemas: Record<string, Json> };
}

/** El documento de la app con todos sus grupos de rutas, como la sirve `pnpm start`. */
async function documentoServido(): Promise<Documento> {
  const { app } = crearAppDePrueba(todasLasRutas());
  const r = await app.request('/openapi.json');
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  return (await r.json()) as Documento;
}

function ajvCon(documento: Documento) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ $id: 'openapi', components: documento.components }, 'openapi');
  return (nombre: string) =>
    ajv.getSchema(`openapi#/components/schemas/${nombre}`) ?? ajv.compile({ $ref: `openapi#/components/schemas/${nombre}` });
}

describe('GET /openapi.json', () => {
  it('es un documento OpenAPI 3.1 válido según el esquema oficial', async () => {
    const documento = await documentoServido();
    expect(documento.openapi).toBe('3.1.0');
    const validador = new Validator();
    const resultado = await validador.validate(documento as unknown as Parameters<Validator['validate']>[0]);
    expect(resultado.errors ?? []).toEqual([]);
    expect(resultado.valid).toBe(true);
    expect(validador.version).toBe('3.1');
  });

  it('documenta cada ruta de la API y cada ruta documentada existe', async () => {
    const { app } = crearAppDePrueba(todasLasRutas());
    const documento = await documentoServido();
    const internas = new Set(['/openapi.json', '/docs', '/docs/:recurso', '/panel', '/panel/:recurso']);
    // Una ruta aparece una vez por cada manejador (descripción, validadores, el suyo).
    const deLaApp = [
      ...new Set(
        app.routes
          .filter((r) => r.method !== 'ALL' && !internas.has(r.path))
          .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
      ),
    ].sort();
    const documentadas = Object.entries(documento.paths)
      .flatMap(([ruta, operaciones]) => Object.keys(operaciones).map((metodo) => `${metodo.toUpperCase()} ${ruta}`))
      .sort();
    expect(documentadas).toEqual(deLaApp);
    expect(documentadas).toEqual([
      'DELETE /webhooks/{id}',
      'GET /afiliados/{id}/saldo',
      'GET /conversiones',
      'GET /conversiones/{id}',
      'GET /conversiones/{id}/historial',
      'GET /conversiones/{id}/linea-de-tiempo',
      'GET /eventos',
      'GET /eventos/stream',
      'GET /health',
      'GET /health/ready',
      'GET /liquidaciones/{id}',
      'GET /pagos',
      'GET /pagos/outbox/estadisticas',
      'GET /pagos/{id}',
      'GET /pagos/{id}/historial',
      'GET /webhooks',
      'GET /webhooks/{id}',
      'GET /webhooks/{id}/intentos',
      'POST /conversiones/eventos',
      'POST /pagos',
      'POST /webhooks',
      'POST /webhooks/{id}/reenviar',
      'POST /webhooks/{id}/rotar-secreto',
    ]);
  });

  it('el esquema del cuerpo de POST /pagos es el que genera el validador (mismo esquema valibot)', async () => {
    const documento = await documentoServido();
    const operacion = documento.paths['/pagos']!['post']!;
    expect(operacion.requestBody.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/SolicitudPago' });
    expect(documento.components.schemas.SolicitudPago).toMatchObject({
      type: 'object',
      required: ['id_afiliado', 'monto', 'moneda', 'referencia_pago'],
      properties: {
        monto: { type: 'number', exclusiveMinimum: 0, maximum: 999_999_999.99 },
        moneda: { enum: ['USD', 'EUR', 'COP'] },
      },
    });
  });

  it.each<[string, unknown]>([
    ['válido', CUERPO_VALIDO],
    ['con campo extra', { ...CUERPO_VALIDO, extra: 1 }],
    ['vacío', {}],
    ['array', []],
    ['null', null],
    ['monto 0', { ...CUERPO_VALIDO, monto: 0 }],
    ['monto negativo', { ...CUERPO_VALIDO, monto: -1 }],
    ['monto 1e20', { ...CUERPO_VALIDO, monto: 1e20 }],
    ['monto en el máximo', { ...CUERPO_VALIDO, monto: 999_999_999.99 }],
    ['monto como texto', { ...CUERPO_VALIDO, monto: '150.75' }],
    ['moneda desconocida', { ...CUERPO_VALIDO, moneda: 'GBP' }],
    ['afiliado en blanco', { ...CUERPO_VALIDO, id_afiliado: '  ' }],
    ['afiliado de 255', { ...CUERPO_VALIDO, id_afiliado: 'a'.repeat(255) }],
    ['afiliado de 256', { ...CUERPO_VALIDO, id_afiliado: 'a'.repeat(256) }],
    ['referencia numérica', { ...CUERPO_VALIDO, referencia_pago: 5 }],
  ])('el documento y el validador dan el mismo veredicto para un cuerpo %s', async (_caso, cuerpo) => {
    const documento = await documentoServido();
    const segunDocumento = ajvCon(documento)('SolicitudPago')(cuerpo);
    const segunValidador = !Array.isArray(cuerpo) && v.safeParse(EsquemaSolicitudPago, cuerpo).success;
    expect(segunDocumento).toBe(segunValidador);
    const { app } = crearAppDePrueba();
    expect((await postPago(app, cuerpo)).status === 200).toBe(segunValidador);
  });

  it('los parámetros de GET /pagos son los del esquema que los valida', async () => {
    const documento = await documentoServido();
    const parametros = documento.paths['/pagos']!['get']!.parameters.flatMap((p) => ('name' in p ? [p] : []));
    expect(parametros.map((p) => p.name)).toEqual(Object.keys(EsquemaConsultaListado.entries));
    expect(parametros.find((p) => p.name === 'limite')?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 200 });
    expect(parametros.find((p) => p.name === 'estado')?.schema).toMatchObject({ enum: ['PENDIENTE', 'PROCESANDO', 'EXITOSO', 'FALLIDO'] });
  });

  it('las respuestas reales cumplen los esquemas documentados', async () => {
    const documento = await documentoServido();
    const esquema = ajvCon(documento);
    const { app } = crearAppDePrueba();
    const registrado = (await (await postPago(app)).json()) as Json;
    const casos: [string, unknown][] = [
      ['PagoRegistrado', registrado],
      ['Pago', await (await app.request(`/pagos/${String(registrado['id_pago'])}`)).json()],
      ['PaginaPagos', await (await app.request('/pagos')).json()],
      ['HistorialPago', await (await app.request(`/pagos/${String(registrado['id_pago'])}/historial`)).json()],
      ['EstadisticasOutbox', await (await app.request('/pagos/outbox/estadisticas')).json()],
      ['Salud', await (await app.request('/health')).json()],
      ['Problema', await (await postPago(app, {})).json()],
      ['Problema', await (await postPago(app, { ...CUERPO_VALIDO, monto: 1 })).json()],
      ['Problema', await (await app.request('/nada')).json()],
    ];
    for (const [nombre, cuerpo] of casos) {
      const validar = esquema(nombre);
      expect(validar(cuerpo), `${nombre}: ${JSON.stringify(validar.errors)}`).toBe(true);
    }
  });
});

describe('seguridad en el documento OpenAPI', () => {
  type ConSeguridad = Documento & {
    readonly security: unknown;
    readonly components: { readonly securitySchemes: Record<string, Json> };
    readonly paths: Record<string, Record<string, Operacion & { security?: unknown; responses: Record<string, unknown> }>>;
  };

  it('declara la clave de API como esquema bearer para todo el documento; la salud se sirve sin clave', async () => {
    const documento = (await documentoServido()) as ConSeguridad;
    expect(documento.components.securitySchemes['claveApi']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(documento.security).toEqual([{ claveApi: [] }]);
    expect(documento.paths['/health']?.['get']?.security).toEqual([]);
    expect(documento.paths['/health/ready']?.['get']?.security).toEqual([]);
  });

  it('cada operación de /pagos documenta 401, 403 y 429, y POST /pagos las cabeceras de firma', async () => {
    const documento = (await documentoServido()) as ConSeguridad;
    const deDatos = Object.entries(documento.paths).filter(([ruta]) => ruta.startsWith('/pagos'));
    expect(deDatos.length).toBeGreaterThan(0);
    for (const [ruta, metodos] of deDatos) {
      for (const [metodo, operacion] of Object.entries(metodos)) {
        for (const estado of ['401', '403', '429']) expect(operacion.responses[estado], `${metodo} ${ruta} ${estado}`).toBeDefined();
      }
    }
    const registrar = documento.paths['/pagos']?.['post'];
    const refs = (registrar?.parameters ?? []).map((p) => ('$ref' in p ? p.$ref : p.name));
    for (const nombre of ['WebhookId', 'WebhookTimestamp', 'WebhookSignature']) expect(refs).toContain(`#/components/parameters/${nombre}`);
  });

  it('/docs deja pegar una clave (Authorize de Swagger UI) y la recuerda', async () => {
    const { app } = crearAppDePrueba();
    const pagina = await (await app.request('/docs')).text();
    expect(pagina).toContain('persistAuthorization: true');
  });
});
