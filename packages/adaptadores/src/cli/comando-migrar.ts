import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrarHastaLaUltima } from '../postgres/migrar.js';
import { urlSinContrasena, validarUrlPostgres } from '../postgres/url-postgres.js';

export interface EntornoComando {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly escribir: (linea: string) => void;
  readonly escribirError: (linea: string) => void;
}

/**
 * Migra la base de `DATABASE_URL` hasta la última versión. Devuelve el código de salida: 0 si quedó
 * al día, 1 (con una sola línea en español) si la variable falta o no vale, o si la migración falla.
 */
export async function comandoMigrar({ env, escribir, escribirError }: EntornoComando): Promise<number> {
  const url = validarUrlPostgres(env.DATABASE_URL);
  if (!url.ok) {
    escribirError(`DATABASE_URL inválida: ${url.error}`);
    return 1;
  }
  const pool = new pg.Pool({ connectionString: url.valor, max: 1, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined);
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  try {
    const { aplicadas } = await migrarHastaLaUltima(db);
    escribir(
      aplicadas.length > 0
        ? `Migraciones aplicadas en ${urlSinContrasena(url.valor)}: ${aplicadas.join(', ')}`
        : `La base de datos ${urlSinContrasena(url.valor)} ya estaba al día`,
    );
    return 0;
  } catch (error) {
    // migrarHastaLaUltima ya da un mensaje en español con la causa; se añade a qué base se refería.
    escribirError(`${describir(error)} (${urlSinContrasena(url.valor)})`);
    return 1;
  } finally {
    await db.destroy().catch(() => undefined);
    if (!pool.ended) await pool.end().catch(() => undefined);
  }
}

/** Mensaje y causas encadenadas que aún no repite, en una línea (sin trazas). */
export function describir(error: unknown): string {
  const partes: string[] = [];
  for (let actual: unknown = error; actual !== undefined && partes.length < 4; ) {
    const mensaje = actual instanceof Error ? actual.message : String(actual);
    if (mensaje !== '' && !partes.some((p) => p.includes(mensaje))) partes.push(mensaje);
    actual = actual instanceof Error ? actual.cause : undefined;
  }
  if (partes.length === 0) {
    // AggregateError (p. ej. ECONNREFUSED en IPv4 e IPv6) no trae mensaje propio.
    const codigo = (error as { code?: unknown }).code;
    partes.push(typeof codigo === 'string' ? codigo : 'error desconocido');
  }
  return partes.join(': ').replace(/\s+/g, ' ');
}
