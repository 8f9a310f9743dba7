import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { comandoMigrar } from '../cli/comando-migrar.js';
import { crearBaseDePrueba } from '../testing/index.js';
import { borrarBase } from '../testing/base-de-prueba.js';
import { ejecutarComoAdmin } from '../testing/postgres-para-tests.js';
import { urlConBase } from '../testing/url-con-base.js';
import { MIGRACIONES, migrarHastaLaUltima } from './migrar.js';

const alCerrar: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of alCerrar.reverse()) await cerrar().catch(() => undefined);
});

/** Una base vacía (sin migrar), para probar las migraciones desde cero. */
async function baseVacia(): Promise<string> {
  const admin = inject('urlPostgresAdmin');
  const nombre = `vacia_${randomBytes(6).toString('hex')}`;
  await ejecutarComoAdmin(admin, `CREATE DATABASE "${nombre}"`);
  alCerrar.push(() => borrarBase(admin, nombre));
  return urlConBase(admin, nombre);
}

// biome-ignore lint/suspicious/noExplicitAny: un Kysely de cualquier esquema (el Migrator y el libro no dependen de sus tablas)
function conectar(url: string, max = 2): Kysely<any> {
  // biome-ignore lint/suspicious/noExplicitAny: un Kysely de cualquier esquema (el Migrator y el libro no dependen de sus tablas)
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max }) }) });
  alCerrar.push(() => db.destroy());
  return db;
}

describe('migraciones', () => {
  it('desde cero aplica todas, y una segunda vez no aplica nada (idempotente)', async () => {
    const db = conectar(await baseVacia());
    expect(await migrarHastaLaUltima(db)).toEqual({ aplicadas: Object.keys(MIGRACIONES) });
    expect(await migrarHastaLaUltima(db)).toEqual({ aplicadas: [] });
    const { rows } = await sql<{ tabla: string }>`
      SELECT table_name AS tabla FROM information_schema.tables
      WHERE table_schema = 'public' AND table_name IN ('pagos', 'outbox', 'historial_pagos') ORDER BY 1`.execute(db);
    expect(rows.map((r) => r.tabla)).toEqual(['historial_pagos', 'outbox', 'pagos']);
  });

  it('varios procesos migrando a la vez: uno aplica, los demás no fallan', async () => {
    const url = await baseVacia();
    const resultados = await Promise.all([1, 2, 3, 4].map(() => migrarHastaLaUltima(conectar(url))));
    expect(resultados.flatMap((r) => r.aplicadas)).toEqual(Object.keys(MIGRACIONES));
  });

  it('el comando de migración: 0 y una línea en cada ejecución; la segunda dice que ya estaba al día', async () => {
    const url = await baseVacia();
    const lineas: string[] = [];
    const ejecutar = () =>
      comandoMigrar({ env: { DATABASE_URL: url }, escribir: (l) => lineas.push(l), escribirError: (l) => lineas.push(`ERROR ${l}`) });
    expect(await ejecutar()).toBe(0);
    expect(await ejecutar()).toBe(0);
    expect(lineas).toHaveLength(2);
    expect(lineas[0]).toContain('Migraciones aplicadas');
    expect(lineas[0]).toContain('0001-esquema-inicial');
    expect(lineas[1]).toContain('ya estaba al día');
  });
});

describe('esquema', () => {
  async function base() {
    const prueba = await crearBaseDePrueba();
    alCerrar.push(() => prueba.cerrar());
    return conectar(prueba.url);
  }

  const pagoValido = (cambios: Record<string, unknown> = {}) => ({
    id: '0190f3a2-0000-7000-8000-000000000001',
    id_socio: 's',
    clave_idempotencia: 'k',
    id_afiliado: 'a',
    monto_unidades: 100,
    moneda: 'USD',
    referencia_pago: 'r',
    estado: 'PENDIENTE',
    version: 1,
    fecha_creacion: new Date(),
    fecha_actualizacion: new Date(),
    ...cambios,
  });

  it('historial_pagos es de solo inserción: UPDATE, DELETE y TRUNCATE se rechazan', async () => {
    const db = await base();
    await db
      .insertInto('historial_pagos')
      .values({
        id_pago: '0190f3a2-0000-7000-8000-000000000001',
        version: 1,
        estado: 'PENDIENTE',
        tipo_evento: 'PagoPendiente',
        id_evento: '0190f3a2-0000-7000-8000-000000000002',
        ocurrido_en: new Date(),
        id_correlacion: 'c',
      })
      .execute();
    const rechazo = { code: '23001', message: expect.stringContaining('solo inserción') };
    await expect(db.updateTable('historial_pagos').set({ estado: 'EXITOSO' }).execute()).rejects.toMatchObject(rechazo);
    await expect(db.deleteFrom('historial_pagos').execute()).rejects.toMatchObject(rechazo);
    await expect(sql`TRUNCATE historial_pagos`.execute(db)).rejects.toMatchObject(rechazo);
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM historial_pagos`.execute(db);
    expect(rows[0]?.n).toBe('1');
  });

  it.each([
    ['monto cero', { monto_unidades: 0 }, 'pagos_monto_positivo'],
    ['monto negativo', { monto_unidades: -5 }, 'pagos_monto_positivo'],
    ['moneda desconocida', { moneda: 'GBP' }, 'pagos_moneda_valida'],
    ['estado desconocido', { estado: 'REEMBOLSADO' }, 'pagos_estado_valido'],
    ['versión cero', { version: 0 }, 'pagos_version_positiva'],
  ])('pagos rechaza %s', async (_caso, cambios, restriccion) => {
    const db = await base();
    await expect(db.insertInto('pagos').values(pagoValido(cambios)).execute()).rejects.toMatchObject({
      code: '23514',
      constraint: restriccion,
    });
  });

  it('la clave de idempotencia es única por socio', async () => {
    const db = await base();
    await db.insertInto('pagos').values(pagoValido()).execute();
    await expect(
      db
        .insertInto('pagos')
        .values(pagoValido({ id: '0190f3a2-0000-7000-8000-000000000009' }))
        .execute(),
    ).rejects.toMatchObject({ code: '23505', constraint: 'pagos_clave_idempotencia_unica' });
    await db
      .insertInto('pagos')
      .values(pagoValido({ id: '0190f3a2-0000-7000-8000-00000000000a', id_socio: 'otro' }))
      .execute();
  });

  it('historial_pagos: un solo índice B-tree, la clave primaria (id_pago, version), que rechaza una versión repetida; y el BRIN de id (0009)', async () => {
    const db = await base();
    const { rows } = await sql<{ nombre: string; definicion: string; primaria: boolean }>`
      SELECT c.relname AS nombre, pg_get_indexdef(i.indexrelid) AS definicion, i.indisprimary AS primaria
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = 'historial_pagos'::regclass ORDER BY c.relname`.execute(db);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ nombre: 'historial_pagos_id_brin', primaria: false });
    expect(rows[0]!.definicion).toContain('USING brin (id)');
    expect(rows[1]).toMatchObject({ nombre: 'historial_pagos_pkey', primaria: true });
    expect(rows[1]!.definicion).toContain('(id_pago, version)');
    const fila = {
      id_pago: '0190f3a2-0000-7000-8000-000000000001',
      version: 1,
      estado: 'PENDIENTE',
      tipo_evento: 'PagoPendiente',
      id_evento: '0190f3a2-0000-7000-8000-000000000002',
      ocurrido_en: new Date(),
      id_correlacion: 'c',
    };
    await db.insertInto('historial_pagos').values(fila).execute();
    await expect(db.insertInto('historial_pagos').values(fila).execute()).rejects.toMatchObject({
      code: '23505',
      constraint: 'historial_pagos_pkey',
    });
  });

  it('outbox: identidad, valores por defecto e índice parcial de pendientes', async () => {
    const db = await base();
    const { rows } = await sql<{ indice: string }>`
      SELECT indexdef AS indice FROM pg_indexes WHERE tablename = 'outbox' AND indexname = 'outbox_pendientes'`.execute(db);
    expect(rows[0]?.indice).toContain('WHERE (fecha_publicacion IS NULL)');
    const fila = await db
      .insertInto('outbox')
      .values({
        id_evento: '0190f3a2-0000-7000-8000-000000000003',
        id_agregado: '0190f3a2-0000-7000-8000-000000000001',
        version_agregado: 1,
        tipo: 'PagoPendiente',
        payload: '{}',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(fila).toMatchObject({ intentos: 0, metadatos: {}, fecha_publicacion: null, secuencia: null, productor: null });
    expect(fila.fecha_creacion).toBeInstanceOf(Date);
    expect(typeof fila.id).toBe('string'); // BIGINT: pg lo entrega como texto
  });
});
