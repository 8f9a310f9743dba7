import pg from 'pg';
import { urlSinContrasena } from '../postgres/url-postgres.js';
import { describir } from './comando-migrar.js';
import { ErrorOperacion, urlDeLaBase, type EntornoOperacion } from './entorno-operacion.js';

/**
 * Lo común de las órdenes de operación (`pnpm operacion`, `socios`, `liquidaciones`): un pool corto contra
 * la base del entorno, cerrado siempre al acabar, y los fallos como {@link ErrorOperacion} de una línea
 * que nombra la base (sin contraseña).
 */
export async function conPoolDeOperacion<T>(
  entorno: EntornoOperacion,
  aplicacion: string,
  trabajo: (pool: pg.Pool) => Promise<T>,
  maximo = 2,
): Promise<T> {
  const url = urlDeLaBase(entorno);
  const pool = new pg.Pool({ connectionString: url, max: maximo, application_name: aplicacion, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined);
  try {
    return await trabajo(pool);
  } catch (error) {
    if (error instanceof ErrorOperacion) throw error;
    throw new ErrorOperacion(`${describir(error)} (${urlSinContrasena(url)})`);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** Ejecuta una orden y la convierte en código de salida: un {@link ErrorOperacion} con su código, lo demás 1. */
export async function codigoDeSalida(entorno: EntornoOperacion, orden: () => Promise<number>): Promise<number> {
  try {
    return await orden();
  } catch (error) {
    if (error instanceof ErrorOperacion) {
      entorno.escribirError(error.message);
      return error.codigo;
    }
    entorno.escribirError(describir(error));
    return 1;
  }
}
