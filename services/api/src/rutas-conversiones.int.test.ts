import { PostgresAlmacenComisiones, PostgresConsultasComisiones, crearPoolPostgres, uuidv7 } from '@aeropartners/adaptadores';
import { crearBaseDePrueba } from '@aeropartners/adaptadores/testing';
import { crearAplicadorDeHechos, crearManejadorRegistrarHecho, ejecutarLiquidaciones } from '@aeropartners/aplicacion';
import { ReglaComision, type Ambito } from '@aeropartners/dominio';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextoDe, responderProblema, type EnvApp } from './contexto.js';
import { crearEntrada } from './entrada.js';
import { crearProblema, problemaSolicitudInvalida } from './problemas.js';
import { rutasConversiones } from './rutas-conversiones.js';
import type { SocioAutenticado } from './socio-autenticado.js';

// Las rutas de conversiones contra PostgreSQL real. El socio lo pone aquí un middleware mínimo (en la API
// lo pone la autenticación): las rutas solo leen `c.get('socio')`.

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

let app: Hono<EnvApp>;
let almacen: PostgresAlmacenComisiones;
const SOCIO: Ambito = { idSocio: 'socio-api', modo: 'live' };
const HACE_UN_DIA = new Date(Date.now() - 24 * 3600_000).toISOString();

beforeAll(async () => {
  const base = await crearBaseDePrueba();
  const pool = crearPoolPostgres({ url: base.url, tamano: 24, nombreAplicacion: 'test-rutas-conversiones' });
  cierres.push(async () => {
    await pool.end();
    await base.cerrar();
  });
  almacen = new PostgresAlmacenComisiones(pool);
  // La sentencia que escribe comprueba que el socio existe y está activo (el modo anónimo: sin clave).
  await pool.query("INSERT INTO socios (id, nombre) VALUES ($1, 'Socio API'), ('otro-socio', 'Otro')", [SOCIO.idSocio]);
  await almacen.guardarRegla(SOCIO.idSocio, (version) => {
    const r = ReglaComision.crear({
      idSocio: SOCIO.idSocio,
      version,
      vigenteDesde: new Date(Date.now() - 48 * 3600_000),
      calculo: { tipo: 'porcentaje', puntosBasicos: 1000 },
      diasBloqueo: 0,
    });
    return r.ok ? r.valor : new Error('regla');
  });
  app = new Hono<EnvApp>();
  app.use(async (c, next) => {
    c.set('idCorrelacion', 'corr-test');
    const [idSocio, modo] = (c.req.header('x-socio-prueba') ?? `${SOCIO.idSocio}|live`).split('|');
    c.set('idSolicitud', 'req_prueba');
    c.set('socio', {
      idSocio,
      modo,
      idClave: null,
      prefijoClave: null,
      firma: { obligatoria: false, secretos: [] },
      limiteRps: null,
    } as SocioAutenticado);
    await next();
  });
  const { validar } = crearEntrada<EnvApp>({
    limiteCuerpoBytes: 65_536,
    rechazar: (c, rechazo) =>
      rechazo.tipo === 'solicitud-invalida'
        ? responderProblema(c, problemaSolicitudInvalida(rechazo.errores, contextoDe(c)))
        : responderProblema(c, crearProblema('tipo-de-contenido-no-soportado', rechazo.tipo, contextoDe(c))),
  });
  rutasConversiones(app, {
    registrarHecho: crearManejadorRegistrarHecho({ almacen, nuevoId: uuidv7 }),
    consultas: new PostgresConsultasComisiones(pool),
    validar,
  });
});

const publicar = (cuerpo: object, socio?: string) =>
  app.request('/conversiones/eventos', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(socio ? { 'x-socio-prueba': socio } : {}) },
    body: JSON.stringify(cuerpo),
  });
type Pagina = { conversiones: { id_conversion: string }[]; siguiente_cursor: string | null };
const json = async <T>(r: Response | Promise<Response>): Promise<T> => (await (await r).json()) as T;
const leer = (ruta: string, socio?: string) => app.request(ruta, { headers: socio ? { 'x-socio-prueba': socio } : {} });
const creada = (idConversion: string, monto = 100, idAfiliado = 'af-1') => ({
  id_evento: `${idConversion}:creada`,
  tipo: 'conversion.creada',
  id_conversion: idConversion,
  id_afiliado: idAfiliado,
  monto,
  moneda: 'USD',
  ocurrido_en: HACE_UN_DIA,
});
const aplicar = (ambito: Ambito, idEvento: string) => crearAplicadorDeHechos({ almacen })(ambito, idEvento);

describe('POST /conversiones/eventos', () => {
  it('202 con el hecho aceptado; el mismo evento (20 a la vez) es una réplica con Idempotent-Replayed; otro cuerpo, 422', async () => {
    const respuestas = await Promise.all(Array.from({ length: 20 }, () => publicar(creada('v-1'))));
    expect(respuestas.map((r) => r.status)).toEqual(Array(20).fill(202));
    expect(respuestas.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(19);
    for (const r of respuestas)
      expect(await r.json()).toEqual({ id_evento: 'v-1:creada', id_conversion: 'v-1', estado_evento: 'ACEPTADO' });
    const otra = await publicar(creada('v-1', 101));
    expect(otra.status).toBe(422);
    expect(otra.headers.get('content-type')).toBe('application/problem+json');
    expect(await otra.json()).toMatchObject({ type: expect.stringContaining('clave-idempotencia-reutilizada'), status: 422 });
  });

  it('400 problem+json que nombra el campo, sin escribir nada', async () => {
    const sinAfiliado = await publicar({ ...creada('v-mala'), id_afiliado: undefined });
    expect(sinAfiliado.status).toBe(400);
    expect(await sinAfiliado.json()).toMatchObject({ errores: [{ campo: 'id_afiliado' }] });
    const montoEnAprobada = await publicar({ ...creada('v-mala'), id_evento: 'x', tipo: 'conversion.aprobada' });
    expect(montoEnAprobada.status).toBe(400);
    expect(await montoEnAprobada.json()).toMatchObject({ errores: [{ campo: 'monto' }] });
    expect((await publicar({ ...creada('v-mala'), tipo: 'conversion.pagada' })).status).toBe(400);
    expect((await publicar({ ...creada('v-mala'), ocurrido_en: 'ayer' })).status).toBe(400);
    expect((await publicar({ ...creada('v-mala'), moneda: undefined })).status).toBe(400);
    expect((await leer('/conversiones/v-mala')).status).toBe(404);
  });
});

describe('consultas de conversiones, saldos y liquidaciones', () => {
  it('la conversión: estado por el conjunto de hechos recibidos, su comisión al aplicarlos y sus hechos en orden de llegada; otro socio no la ve', async () => {
    expect(
      (await publicar({ id_evento: 'v-2:aprobada', tipo: 'conversion.aprobada', id_conversion: 'v-2', ocurrido_en: HACE_UN_DIA })).status,
    ).toBe(202);
    const esperando = await (await leer('/conversiones/v-2')).json();
    expect(esperando).toMatchObject({ estado: 'ESPERANDO_CONVERSION', comision: null, monto: null });
    expect((await publicar(creada('v-2', 250))).status).toBe(202);
    const sinAplicar = await json<{ hechos: { tipo: string; aplicado: boolean }[] }>(leer('/conversiones/v-2'));
    expect(sinAplicar).toMatchObject({ estado: 'APROBADA', monto: 250, moneda: 'USD', id_afiliado: 'af-1', comision: null });
    expect(sinAplicar.hechos.map((h) => [h.tipo, h.aplicado])).toEqual([
      ['conversion.aprobada', false],
      ['conversion.creada', false],
    ]);
    await aplicar(SOCIO, 'v-2:creada');
    await aplicar(SOCIO, 'v-2:aprobada');
    const aplicada = await (await leer('/conversiones/v-2')).json();
    expect(aplicada).toMatchObject({ estado: 'APROBADA', comision: { monto: 25, moneda: 'USD', estado: 'APROBADA' } });
    const historial = await json<{ historial: { tipo: string; id_evento: string | null; id_correlacion: string }[] }>(
      leer('/conversiones/v-2/historial'),
    );
    expect(historial.historial.map((h) => [h.tipo, h.id_evento])).toEqual([
      ['HechoRecibido', 'v-2:aprobada'],
      ['HechoRecibido', 'v-2:creada'],
      ['HechoAplicado', 'v-2:creada'],
      ['HechoAplicado', 'v-2:aprobada'],
    ]);
    expect(historial.historial.every((h) => h.id_correlacion === 'corr-test')).toBe(true);
    expect((await leer('/conversiones/v-2/historial', 'otro-socio|live')).status).toBe(404);
    expect((await leer('/conversiones/v-2', 'otro-socio|live')).status).toBe(404);
    expect((await leer('/conversiones/v-2', `${SOCIO.idSocio}|test`)).status).toBe(404);
  });

  it('listado con filtros y cursor, saldo del afiliado y la liquidación con su pago', async () => {
    for (const id of ['l-1', 'l-2', 'l-3']) {
      await publicar(creada(id, 100, 'af-2'));
      await aplicar(SOCIO, `${id}:creada`);
    }
    await publicar({ id_evento: 'l-1:aprobada', tipo: 'conversion.aprobada', id_conversion: 'l-1', ocurrido_en: HACE_UN_DIA });
    await aplicar(SOCIO, 'l-1:aprobada');
    const p1 = await json<Pagina>(leer('/conversiones?id_afiliado=af-2&limite=2'));
    expect(p1.conversiones.map((c) => c.id_conversion)).toEqual(['l-1', 'l-2']);
    expect(p1.siguiente_cursor).toBe('l-2');
    const p2 = await (await leer(`/conversiones?id_afiliado=af-2&limite=2&cursor=${p1.siguiente_cursor}`)).json();
    expect(p2).toMatchObject({
      conversiones: [{ id_conversion: 'l-3', comision: { monto: 10, estado: 'PENDIENTE' } }],
      siguiente_cursor: null,
    });
    const aprobadas = await json<Pagina>(leer('/conversiones?id_afiliado=af-2&estado=APROBADA'));
    expect(aprobadas.conversiones).toHaveLength(1);
    expect((await leer('/conversiones?estado=PAGADA')).status).toBe(400);

    expect(await (await leer('/afiliados/af-2/saldo')).json()).toEqual({
      saldos: [{ moneda: 'USD', pendiente: 20, aprobado: 10, en_liquidacion: 0, pagado: 0, por_recuperar: 0 }],
    });
    const resumen = await ejecutarLiquidaciones(
      { almacen, nuevoId: uuidv7, ahora: () => new Date() },
      { modo: 'live', idEjecucion: 'corte-api', traza: { idCorrelacion: 'x' } },
    );
    const deAf2 = resumen.creadas.find((c) => c.id.includes('af-2'));
    expect(deAf2).toBeDefined();
    const liq = await json<{ partidas: unknown[] }>(leer(`/liquidaciones/${encodeURIComponent(deAf2?.id ?? '')}`));
    expect(liq).toMatchObject({
      id_afiliado: 'af-2',
      moneda: 'USD',
      monto: 10,
      estado: 'EN_CURSO',
      id_pago: deAf2?.idPago,
      estado_pago: 'PENDIENTE',
    });
    expect(liq.partidas).toEqual([{ tipo: 'comision', id: expect.stringContaining('l-1'), id_conversion: 'l-1', monto: 10 }]);
    expect((await leer(`/liquidaciones/${encodeURIComponent(deAf2?.id ?? '')}`, 'otro-socio|live')).status).toBe(404);
    expect(await (await leer('/afiliados/af-2/saldo')).json()).toMatchObject({ saldos: [{ aprobado: 0, en_liquidacion: 10 }] });
    expect(await (await leer('/afiliados/nadie/saldo')).json()).toEqual({ saldos: [] });
  });
});
