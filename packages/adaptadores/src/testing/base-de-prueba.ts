import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { migrarHastaLaUltima } from '../postgres/migrar.js';
import { ejecutarComoAdmin } from './postgres-para-tests.js';
import { urlConBase } from './url-con-base.js';

export interface BaseDePrueba {
  /** URL de la base nueva, ya migrada. */
  readonly url: string;
  readonly nombre: string;
  /** Borra la base (cerrando las conexiones que queden). Idempotente. */
  cerrar(): Promise<void>;
}

/**
 * Crea una base de datos nueva y migrada en el PostgreSQL de los tests (el de
 * `iniciarPostgresParaTests`), copiándola de la plantilla: cada fichero de test (o cada test) tiene
 * la suya y nada se comparte entre ellos.
 */
export async function crearBaseDePrueba(): Promise<BaseDePrueba> {
  const urlAdmin = inject('urlPostgresAdmin');
  if (!urlAdmin) {
    throw new Error('No hay PostgreSQL para los tests: configure iniciarPostgresParaTests como globalSetup del proyecto');
  }
  const plantilla = inject('plantillaPostgres') as string | undefined;
  const nombre = `prueba_${randomBytes(6).toString('hex')}`;
  const url = urlConBase(urlAdmin, nombre);
  if (plantilla) {
    await conReintentos(() => ejecutarComoAdmin(urlAdmin, `CREATE DATABASE "${nombre}" TEMPLATE "${plantilla}"`));
  } else {
    await ejecutarComoAdmin(urlAdmin, `CREATE DATABASE "${nombre}"`);
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
    try {
      await migrarHastaLaUltima(db);
    } finally {
      await db.destroy();
    }
  }
  let cierre: Promise<void> | undefined;
  return {
    url,
    nombre,
    cerrar() {
      cierre ??= borrarBase(urlAdmin, nombre);
      return cierre;
    },
  };
}

/** Borra una base de los tests (`DROP … WITH (FORCE)`) tras dejar que se despidan las conexiones que se cierran. */
export async function borrarBase(urlAdmin: string, nombre: string): Promise<void> {
  await esperarDesconexiones(urlAdmin, nombre);
  await ejecutarComoAdmin(urlAdmin, `DROP DATABASE IF EXISTS "${nombre}" WITH (FORCE)`);
}

/**
 * Antes del `DROP … WITH (FORCE)`, deja un momento a las conexiones que se están cerrando (un `pool.end()`
 * que acaba de volver puede tener clientes a medio despedirse): si FORCE las termina en ese instante, `pg`
 * emite el FATAL 57P01 en un cliente que ya no tiene quien lo escuche y vitest lo cuenta como error no
 * manejado. Las que sigan abiertas pasado el plazo se terminan igual.
 */
async function esperarDesconexiones(urlAdmin: string, nombre: string, plazoMs = 3000): Promise<void> {
  const cliente = new pg.Client({ connectionString: urlAdmin });
  await cliente.connect();
  try {
    const limite = Date.now() + plazoMs;
    for (;;) {
      const { rows } = await cliente.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [nombre],
      );
      if ((rows[0]?.n ?? 0) === 0 || Date.now() >= limite) return;
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    await cliente.end();
  }
}

/** CREATE DATABASE … TEMPLATE falla con 55006 si en ese instante alguien está conectado a la plantilla. */
async function conReintentos(accion: () => Promise<void>): Promise<void> {
  for (let intento = 1; ; intento += 1) {
    try {
      await accion();
      return;
    } catch (error) {
      const codigo = (error as { code?: unknown }).code;
      if (intento >= 10 || codigo !== '55006') throw error;
      await new Promise((r) => setTimeout(r, 50 * intento));
    }
  }
}
