import { randomBytes } from 'node:crypto';
import { Dinero, crearPago } from '@aeropartners/dominio';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { uuidv7 } from '../../ids/uuidv7.js';
import { borrarBase } from '../../testing/base-de-prueba.js';
import { ejecutarComoAdmin } from '../../testing/postgres-para-tests.js';
import { urlConBase } from '../../testing/url-con-base.js';
import { MIGRACIONES, migrarHastaLaUltima } from '../migrar.js';
import { crearPersistenciaPostgres } from '../persistencia-postgres.js';

const cierres: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cierres.reverse()) await c().catch(() => undefined);
});

describe('migración 0007 sobre una base con pagos', () => {
  it('los socios que ya tenían pagos siguen siendo válidos: activos, sus pagos en modo live y sus referencias repiten', async () => {
    const admin = inject('urlPostgresAdmin');
    const nombre = `m0007_${randomBytes(6).toString('hex')}`;
    await ejecutarComoAdmin(admin, `CREATE DATABASE "${nombre}"`);
    cierres.push(() => borrarBase(admin, nombre));
    const url = urlConBase(admin, nombre);
    // biome-ignore lint/suspicious/noExplicitAny: el esquema cambia a mitad del test
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
    cierres.push(() => db.destroy());
    const hasta0006 = await new Migrator({ db, provider: { getMigrations: async () => ({ ...MIGRACIONES }) } }).migrateTo(
      '0006-epoca-relay-y-alarma',
    );
    expect(hasta0006.error).toBeUndefined();

    // Un pago de antes (el socio por defecto de la semilla), escrito con las columnas de entonces.
    const idPrevio = uuidv7();
    await db
      .insertInto('pagos')
      .values({
        id: idPrevio,
        id_socio: 'aeropartners',
        clave_idempotencia: 'REF-ANTIGUA',
        id_afiliado: 'afiliado-1',
        monto_unidades: 1000,
        moneda: 'USD',
        referencia_pago: 'REF-ANTIGUA',
        estado: 'EXITOSO',
        version: 3,
        fecha_creacion: new Date(),
        fecha_actualizacion: new Date(),
      })
      .execute();
    await migrarHastaLaUltima(db);

    const socios = await db.selectFrom('socios').selectAll().execute();
    expect(socios).toMatchObject([
      { id: 'aeropartners', nombre: 'aeropartners', estado: 'activo', firma_obligatoria: false, limite_rps: null },
    ]);
    expect(await db.selectFrom('pagos').select(['id', 'modo']).execute()).toEqual([{ id: idPrevio, modo: 'live' }]);

    const persistencia = crearPersistenciaPostgres({ url, tamanoPool: 2 });
    cierres.push(() => persistencia.cerrar());
    const monto = Dinero.deUnidadesMenores(1000, 'USD');
    if (!monto.ok) throw new Error('monto');
    const nuevo = (referencia: string) => {
      const c = crearPago(
        { id: uuidv7(), idSocio: 'aeropartners', idAfiliado: 'afiliado-1', monto: monto.valor, referenciaPago: referencia },
        { ahora: new Date(), nuevoId: uuidv7 },
      );
      if (!c.ok) throw new Error('cambio');
      return c.valor;
    };
    // Sin clave (el modo anónimo de ese socio): la repetición devuelve el pago de antes y uno nuevo se crea.
    const credencial = { idClave: null };
    const repetido = await persistencia.repositorio.crear(
      nuevo('REF-ANTIGUA'),
      { idSocio: 'aeropartners', clave: 'REF-ANTIGUA' },
      { idCorrelacion: 'c' },
      credencial,
    );
    expect(repetido).toMatchObject({ tipo: 'existente', pago: { id: idPrevio, modo: 'live', estado: 'EXITOSO' } });
    const creado = await persistencia.repositorio.crear(
      nuevo('REF-NUEVA'),
      { idSocio: 'aeropartners', clave: 'REF-NUEVA' },
      { idCorrelacion: 'c' },
      credencial,
    );
    expect(creado.tipo).toBe('creado');
  });
});
