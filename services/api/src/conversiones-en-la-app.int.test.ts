import {
  PostgresAdministracionSocios,
  PostgresAlmacenComisiones,
  PostgresAutenticadorDeClaves,
  PostgresConsultasComisiones,
  crearPoolPostgres,
  uuidv7,
} from '@aeropartners/adaptadores';
import { crearBaseDePrueba } from '@aeropartners/adaptadores/testing';
import { crearManejadorRegistrarHecho } from '@aeropartners/aplicacion';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RepositorioPagosEnMemoria, idsSecuenciales, relojFijo } from '@aeropartners/aplicacion/testing';
import { loggerEnMemoria } from '../test/app-de-prueba.js';
import { crearApp, type App } from './app.js';
import { crearManejadores } from './manejadores.js';
import { nuevoIdSolicitud } from './solicitud.js';

// Las rutas de conversiones montadas en la app de verdad (autenticación, límites, documento OpenAPI) sobre
// PostgreSQL real: nacen protegidas y cada clave ve solo su socio y su modo.

let app: App;
let claveLive: string;
let claveTest: string;
let claveOtro: string;
const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

let pool: ReturnType<typeof crearPoolPostgres>;
let administracion: PostgresAdministracionSocios;
let idSocioA: string;

beforeAll(async () => {
  const base = await crearBaseDePrueba();
  pool = crearPoolPostgres({ url: base.url, tamano: 4, nombreAplicacion: 'test-conversiones-app' });
  const autenticador = new PostgresAutenticadorDeClaves({ pool, url: base.url });
  await autenticador.iniciar();
  cierres.push(async () => {
    await autenticador.cerrar();
    await pool.end();
    await base.cerrar();
  });
  administracion = new PostgresAdministracionSocios(pool);
  const crear = async (nombre: string) => {
    const r = await administracion.crear({ nombre, firmaObligatoria: false, limiteRps: null, modo: 'live' }, new Date());
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return r.valor;
  };
  const a = await crear('Socio A');
  const b = await crear('Socio B');
  idSocioA = a.socio.id;
  claveLive = a.clave.claveEnClaro;
  const deprueba = await administracion.emitirClave(a.socio.id, 'test', new Date());
  if (!deprueba.ok) throw new Error('clave de prueba');
  claveTest = deprueba.valor.claveEnClaro;
  claveOtro = b.clave.claveEnClaro;
  const repositorio = new RepositorioPagosEnMemoria();
  app = crearApp({
    manejadores: crearManejadores({ repositorio, consultas: repositorio, reloj: relojFijo(), nuevoId: idsSecuenciales(0) }),
    comprobarSalud: async () => true,
    logger: loggerEnMemoria(),
    autenticador,
    nuevoIdCorrelacion: () => 'correlacion',
    nuevoIdSolicitud,
    conversiones: {
      registrarHecho: crearManejadorRegistrarHecho({ almacen: new PostgresAlmacenComisiones(pool), nuevoId: uuidv7 }),
      consultas: new PostgresConsultasComisiones(pool),
    },
  });
});

const hecho = {
  id_evento: 'e-1',
  tipo: 'conversion.creada',
  id_conversion: 'venta-1',
  id_afiliado: 'af',
  monto: 99.9,
  moneda: 'EUR',
  ocurrido_en: '2026-12-01T10:00:00Z',
};
const publicar = (clave: string | null, cuerpo: object = hecho) =>
  app.request('/conversiones/eventos', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(clave ? { authorization: `Bearer ${clave}` } : {}) },
    body: JSON.stringify(cuerpo),
  });
const leer = (ruta: string, clave: string | null) => app.request(ruta, { headers: clave ? { authorization: `Bearer ${clave}` } : {} });

describe('las rutas de conversiones en la app', () => {
  it('sin clave, 401 y nada escrito; con clave, 202; cada socio y cada modo ven solo lo suyo', async () => {
    expect((await publicar(null)).status).toBe(401);
    expect((await leer('/conversiones/venta-1', null)).status).toBe(401);
    expect((await publicar(claveLive)).status).toBe(202);
    // El mismo id_evento en otro modo u otro socio es otro hecho.
    expect((await publicar(claveTest, { ...hecho, monto: 1 })).status).toBe(202);
    expect((await publicar(claveOtro, { ...hecho, monto: 2 })).status).toBe(202);
    const enLive = (await (await leer('/conversiones/venta-1', claveLive)).json()) as { monto: number; moneda: string };
    expect(enLive).toMatchObject({ monto: 99.9, moneda: 'EUR', estado: 'PENDIENTE' });
    expect(await (await leer('/conversiones/venta-1', claveTest)).json()).toMatchObject({ monto: 1 });
    expect(await (await leer('/conversiones/venta-1', claveOtro)).json()).toMatchObject({ monto: 2 });
    expect((await leer('/liquidaciones/x', claveLive)).status).toBe(404);
  });

  it('un socio suspendido no escribe ningún hecho (403), ni siquiera si su credencial seguía en la caché de la API', async () => {
    const suspendido = await administracion.suspender(idSocioA);
    expect(suspendido.ok).toBe(true);
    const r = await publicar(claveLive, { ...hecho, id_evento: 'e-tras-suspender' });
    expect(r.status).toBe(403);
    const { rows } = await pool.query("SELECT 1 FROM hechos_conversion WHERE id_evento = 'e-tras-suspender'");
    expect(rows).toEqual([]);
    await administracion.reactivar(idSocioA);
  });

  it('el documento OpenAPI sigue siendo válido y documenta las rutas de conversiones', async () => {
    const documento = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const resultado = await new Validator().validate(documento as unknown as Parameters<Validator['validate']>[0]);
    expect(resultado.errors ?? []).toEqual([]);
    expect(
      Object.keys(documento.paths)
        .filter((r) => /conversiones|afiliados|liquidaciones/.test(r))
        .sort(),
    ).toEqual([
      '/afiliados/{id}/saldo',
      '/conversiones',
      '/conversiones/eventos',
      '/conversiones/{id}',
      '/conversiones/{id}/historial',
      '/liquidaciones/{id}',
    ]);
  });
});
