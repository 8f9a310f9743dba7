import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrarHastaLaUltima } from './migrar.js';
import { validarUrlPostgres } from './url-postgres.js';

/** Abre una conexión a `url`, lleva el esquema a la última versión y la cierra. Devuelve cuántas aplicó. */
export async function migrarUrl(url: string): Promise<number> {
  const valida = validarUrlPostgres(url);
  if (!valida.ok) throw new Error(`URL de PostgreSQL inválida: ${valida.error}`);
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: valida.valor, max: 1 }) }) });
  try {
    const { aplicadas } = await migrarHastaLaUltima(db);
    return aplicadas.length;
  } finally {
    await db.destroy();
  }
}
