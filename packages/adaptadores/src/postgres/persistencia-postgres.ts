import { Kysely, PostgresDialect } from 'kysely';
import type { BaseDeDatos } from './esquema.js';
import { KyselyConsultasPagos } from './kysely-consultas-pagos.js';
import { PostgresRepositorioPagos, type OpcionesRepositorioPagos } from './postgres-repositorio-pagos.js';
import { crearPoolPostgres, type PoolPostgres } from './pool-postgres.js';

export interface OpcionesPersistenciaPostgres extends OpcionesRepositorioPagos {
  readonly url: string;
  /** Conexiones del pool. Por defecto 10. */
  readonly tamanoPool?: number;
  /** `application_name` de las conexiones (se ve en `pg_stat_activity`). */
  readonly nombreAplicacion?: string;
  /** Espera máxima por una conexión libre o nueva, en ms. Por defecto 10 000. */
  readonly esperaConexionMs?: number;
  /**
   * `synchronous_commit = off` en las conexiones de este pool. Solo es seguro cuando todo lo que se
   * confirma después depende de la misma base (el broker embebido): el WAL es lineal, así que si una
   * caída de PostgreSQL pierde un commit asíncrono, pierde también todo lo posterior (la confirmación
   * del mensaje incluida) y el mensaje se reentrega. Nunca con un broker externo ni en la API.
   */
  readonly commitAsincrono?: boolean;
  /** Errores de conexiones ociosas (el pool ya las descarta); por defecto se ignoran. */
  readonly alErrorDeConexion?: (error: Error) => void;
}

export interface PersistenciaPostgres {
  readonly db: Kysely<BaseDeDatos>;
  readonly pool: PoolPostgres;
  readonly repositorio: PostgresRepositorioPagos;
  readonly consultas: KyselyConsultasPagos;
  /** `true` si PostgreSQL responde a `SELECT 1` en menos de `tiempoMs` (por defecto 2 s). */
  comprobarSalud(tiempoMs?: number): Promise<boolean>;
  /** Espera a que se respondan las creaciones en curso y cierra el pool. Idempotente. */
  cerrar(): Promise<void>;
}

/**
 * Pool de `pg`, Kysely, repositorio y consultas sobre una misma base de datos. `enVueloMaximo` (las
 * sentencias de creación a la vez) vale por defecto el tamaño del pool.
 */
export function crearPersistenciaPostgres(opciones: OpcionesPersistenciaPostgres): PersistenciaPostgres {
  const tamanoPool = opciones.tamanoPool ?? 10;
  const pool = crearPoolPostgres({
    url: opciones.url,
    tamano: tamanoPool,
    nombreAplicacion: opciones.nombreAplicacion ?? 'aeropartners-pagos',
    ...(opciones.esperaConexionMs === undefined ? {} : { esperaConexionMs: opciones.esperaConexionMs }),
    ...(opciones.commitAsincrono === undefined ? {} : { commitAsincrono: opciones.commitAsincrono }),
    ...(opciones.alErrorDeConexion === undefined ? {} : { alError: opciones.alErrorDeConexion }),
  });
  const db = new Kysely<BaseDeDatos>({ dialect: new PostgresDialect({ pool }) });
  const repositorio = new PostgresRepositorioPagos(pool, {
    ...opciones,
    enVueloMaximo: opciones.enVueloMaximo ?? tamanoPool,
  });
  const consultas = new KyselyConsultasPagos(db);
  let cierre: Promise<void> | undefined;

  return {
    db,
    pool,
    repositorio,
    consultas,
    async comprobarSalud(tiempoMs = 2000) {
      let temporizador: NodeJS.Timeout | undefined;
      try {
        const limite = new Promise<never>((_, reject) => {
          temporizador = setTimeout(() => reject(new Error('tiempo agotado')), tiempoMs);
        });
        await Promise.race([pool.query('SELECT 1'), limite]);
        return true;
      } catch {
        return false;
      } finally {
        clearTimeout(temporizador);
      }
    },
    cerrar() {
      cierre ??= (async () => {
        await repositorio.vaciar();
        // Kysely solo cierra el pool si llegó a usarlo; el repositorio lo usa directamente.
        await db.destroy();
        if (!pool.ended) await pool.end();
      })();
      return cierre;
    },
  };
}
