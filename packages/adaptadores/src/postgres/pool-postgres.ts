import pg from 'pg';
import { validarUrlPostgres } from './url-postgres.js';

/**
 * Lo mínimo que los adaptadores necesitan de un pool de `pg` (como hace Kysely con su `PostgresPool`):
 * así sus tipos no arrastran los de la biblioteca y un test puede pasar un doble. `pg.Pool` lo cumple.
 * Es el único pool del paquete: la persistencia, el broker embebido y la pasarela simulada lo comparten.
 */
export interface ConsultaPostgres {
  readonly text: string;
  readonly values?: readonly unknown[];
  /** Nombre de sentencia preparada: `pg` la prepara una vez por conexión y la reutiliza. */
  readonly name?: string;
}

export interface ResultadoPostgres<F> {
  readonly rows: F[];
  readonly rowCount: number | null;
}

/** Un aviso de `LISTEN`/`NOTIFY`. */
export interface AvisoPostgres {
  readonly channel: string;
  readonly payload?: string | undefined;
}

export interface ClientePostgres {
  query<F = Record<string, unknown>>(consulta: ConsultaPostgres): Promise<ResultadoPostgres<F>>;
  query<F = Record<string, unknown>>(texto: string, valores?: readonly unknown[]): Promise<ResultadoPostgres<F>>;
  release(destruir?: boolean | Error): void;
  /** Para las conexiones dedicadas a `LISTEN` (y para enterarse de que se cortó). */
  on(evento: 'notification', oyente: (aviso: AvisoPostgres) => void): unknown;
  on(evento: 'error', oyente: (error: Error) => void): unknown;
  removeListener(evento: 'notification', oyente: (aviso: AvisoPostgres) => void): unknown;
  removeListener(evento: 'error', oyente: (error: Error) => void): unknown;
}

export interface PoolPostgres {
  query<F = Record<string, unknown>>(consulta: ConsultaPostgres): Promise<ResultadoPostgres<F>>;
  query<F = Record<string, unknown>>(texto: string, valores?: readonly unknown[]): Promise<ResultadoPostgres<F>>;
  connect(): Promise<ClientePostgres>;
  end(): Promise<void>;
}

export interface OpcionesPoolPostgres {
  readonly url: string;
  /** Conexiones como mucho. */
  readonly tamano: number;
  /** `application_name` de las conexiones (se ve en `pg_stat_activity`). */
  readonly nombreAplicacion: string;
  /** Espera máxima por una conexión libre o nueva, en ms. Por defecto 10 000. */
  readonly esperaConexionMs?: number;
  /**
   * `synchronous_commit = off` en las conexiones. Solo es seguro cuando todo lo que se confirma después
   * depende de la misma base (ver `OpcionesPersistenciaPostgres.commitAsincrono`).
   */
  readonly commitAsincrono?: boolean;
  /** Errores de conexiones (ociosas o prestadas): el pool ya las descarta. Por defecto se ignoran. */
  readonly alError?: (error: Error) => void;
}

/**
 * El pool de `pg` de todos los adaptadores, creado en un solo sitio: keepalive de TCP, cierre de las
 * ociosas y un oyente `'error'` también en las conexiones prestadas. `pg-pool` solo escucha `'error'` en
 * las ociosas: si PostgreSQL corta una conexión prestada (un reinicio, `pg_terminate_backend`) entre dos
 * sentencias, el `'error'` sin oyente tumbaba el proceso. Con el oyente, la sentencia en curso falla (y se
 * reintenta o se reentrega) y el pool descarta la conexión rota al devolverla.
 */
export function crearPoolPostgres(opciones: OpcionesPoolPostgres): pg.Pool {
  const url = validarUrlPostgres(opciones.url);
  if (!url.ok) throw new Error(`URL de PostgreSQL inválida: ${url.error}`);
  if (!Number.isSafeInteger(opciones.tamano) || opciones.tamano < 1) {
    throw new RangeError(`El tamaño del pool debe ser un entero ≥ 1 (recibido: ${opciones.tamano})`);
  }
  const pool = new pg.Pool({
    connectionString: url.valor,
    max: opciones.tamano,
    application_name: opciones.nombreAplicacion,
    connectionTimeoutMillis: opciones.esperaConexionMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    ...(opciones.commitAsincrono ? { options: '-c synchronous_commit=off' } : {}),
  });
  const alError = opciones.alError ?? (() => undefined);
  pool.on('error', alError);
  pool.on('connect', (cliente) => cliente.on('error', alError));
  return pool;
}
