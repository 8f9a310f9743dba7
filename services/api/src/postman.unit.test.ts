import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { crearAppDePrueba, todasLasRutas } from '../test/app-de-prueba.js';
import { EsquemaConsultaListado, EsquemaSolicitudPago } from './esquemas.js';
import { EsquemaHechoConversion } from './rutas-conversiones.js';
import { EsquemaConsultaEventos } from './rutas-eventos.js';
import { EsquemaReenvio, EsquemaWebhookNuevo } from './rutas-webhooks.js';

/**
 * La colección de Postman (docs/postman) frente al documento OpenAPI que sirve la API: cada petición es
 * una operación documentada (método y ruta, con sus parámetros de consulta) y cada operación documentada
 * tiene al menos una petición. Si cambia la API, este test obliga a poner la colección al día.
 */

interface Peticion {
  readonly name: string;
  readonly request: {
    readonly method: string;
    readonly url: {
      readonly raw: string;
      readonly path: readonly string[];
      readonly query?: readonly { readonly key: string; readonly value: string }[];
    };
    readonly header: readonly { readonly key: string; readonly value: string }[];
    readonly body?: { readonly mode: string; readonly raw: string };
  };
}
interface Carpeta {
  readonly name: string;
  readonly item: readonly (Carpeta | Peticion)[];
}

const coleccion = JSON.parse(
  readFileSync(new URL('../../../docs/postman/aeropartners-pagos.postman_collection.json', import.meta.url), 'utf8'),
) as {
  info: { schema: string };
  auth?: { type: string; bearer?: { key: string; value: string }[] };
  variable: { key: string; value: string }[];
  item: (Carpeta | Peticion)[];
};

function peticiones(items: readonly (Carpeta | Peticion)[]): Peticion[] {
  return items.flatMap((i) => ('item' in i ? peticiones(i.item) : [i]));
}

type Operacion = { parameters?: ({ name: string; in: string } | { $ref: string })[] };
const documento = (await (await crearAppDePrueba(todasLasRutas()).app.request('/openapi.json')).json()) as {
  paths: Record<string, Record<string, Operacion>>;
  components: { parameters: Record<string, { name: string; in: string }> };
};

/** Las operaciones del documento como `MÉTODO /ruta/{param}`, con una expresión que reconoce sus rutas. */
const operaciones = Object.entries(documento.paths).flatMap(([ruta, metodos]) =>
  Object.entries(metodos).map(([metodo, operacion]) => ({
    clave: `${metodo.toUpperCase()} ${ruta}`,
    metodo: metodo.toUpperCase(),
    patron: new RegExp(`^${ruta.replace(/\{\w+\}/g, '[^/]+')}$`),
    parametros: (operacion.parameters ?? []).map((p) => ('$ref' in p ? documento.components.parameters[p.$ref.split('/').at(-1)!]! : p)),
  })),
);

/** La operación de una petición: la ruta literal gana a la que tiene parámetros (`/pagos/outbox/estadisticas` frente a `/pagos/{id}`). */
function operacionDe(p: Peticion) {
  const ruta = `/${p.request.url.path.join('/')}`;
  const candidatas = operaciones.filter((o) => o.metodo === p.request.method && o.patron.test(ruta));
  return candidatas.sort((a, b) => (a.clave.match(/\{/g)?.length ?? 0) - (b.clave.match(/\{/g)?.length ?? 0))[0];
}

describe('colección de Postman frente al documento OpenAPI', () => {
  const todas = peticiones(coleccion.item);

  it('es una colección v2.1 con la variable baseUrl', () => {
    expect(coleccion.info.schema).toBe('https://schema.getpostman.com/json/collection/v2.1.0/collection.json');
    expect(coleccion.variable.map((x) => x.key)).toContain('baseUrl');
    for (const p of todas) expect(p.request.url.raw.startsWith('{{baseUrl}}/'), p.name).toBe(true);
  });

  it('se autentica con la variable {{clave}} como Bearer; solo la salud va sin clave (como en el documento)', async () => {
    expect(coleccion.variable.map((x) => x.key)).toContain('clave');
    expect(coleccion.auth).toEqual({ type: 'bearer', bearer: [{ key: 'token', value: '{{clave}}', type: 'string' }] });
    const sinClave = todas.filter((p) => (p.request as { auth?: { type: string } }).auth?.type === 'noauth');
    expect(sinClave.map((p) => `/${p.request.url.path.join('/')}`).sort()).toEqual(['/health', '/health/ready']);
  });

  it('cada petición (método y ruta) es una operación del documento', () => {
    const sinOperacion = todas.filter((p) => !operacionDe(p)).map((p) => `${p.name}: ${p.request.method} /${p.request.url.path.join('/')}`);
    expect(sinOperacion).toEqual([]);
  });

  it('cada operación del documento tiene su petición', () => {
    const cubiertas = new Set(todas.map((p) => operacionDe(p)?.clave));
    expect(operaciones.map((o) => o.clave).filter((c) => !cubiertas.has(c))).toEqual([]);
  });

  it('las cabeceras y los parámetros de consulta de cada petición están documentados en su operación', () => {
    for (const p of todas) {
      const operacion = operacionDe(p)!;
      const documentados = (dónde: string) => operacion.parametros.filter((x) => x.in === dónde).map((x) => x.name.toLowerCase());
      for (const q of p.request.url.query ?? []) expect(documentados('query'), `${p.name}: ?${q.key}`).toContain(q.key.toLowerCase());
      for (const h of p.request.header) {
        if (h.key.toLowerCase() === 'content-type') continue;
        expect(documentados('header'), `${p.name}: cabecera ${h.key}`).toContain(h.key.toLowerCase());
      }
    }
  });

  it('los ejemplos son válidos: el cuerpo de POST /pagos y los filtros de GET /pagos pasan los esquemas de la API', () => {
    const registrar = todas.find((p) => operacionDe(p)?.clave === 'POST /pagos')!;
    const cuerpo = JSON.parse(registrar.request.body!.raw.replace('{{$timestamp}}', '1700000000')) as unknown;
    expect(v.safeParse(EsquemaSolicitudPago, cuerpo).success).toBe(true);
    const listar = todas.find((p) => operacionDe(p)?.clave === 'GET /pagos')!;
    const consulta = Object.fromEntries((listar.request.url.query ?? []).filter((q) => q.value !== '').map((q) => [q.key, q.value]));
    expect(v.safeParse(EsquemaConsultaListado, consulta).success).toBe(true);
  });

  it('los ejemplos de conversiones, eventos y webhooks pasan los esquemas de la API', () => {
    const cuerpoDe = (clave: string) => {
      const p = todas.find((x) => operacionDe(x)?.clave === clave)!;
      return JSON.parse(p.request.body!.raw.replace('{{$timestamp}}', '1700000000')) as unknown;
    };
    expect(v.safeParse(EsquemaHechoConversion, cuerpoDe('POST /conversiones/eventos')).success).toBe(true);
    expect(v.safeParse(EsquemaWebhookNuevo, cuerpoDe('POST /webhooks')).success).toBe(true);
    expect(v.safeParse(EsquemaReenvio, cuerpoDe('POST /webhooks/{id}/reenviar')).success).toBe(true);
    const eventos = todas.find((p) => operacionDe(p)?.clave === 'GET /eventos')!;
    const consulta = Object.fromEntries(
      (eventos.request.url.query ?? []).filter((q) => !(q as { disabled?: boolean }).disabled).map((q) => [q.key, q.value]),
    );
    expect(v.safeParse(EsquemaConsultaEventos, consulta).success).toBe(true);
  });
});
