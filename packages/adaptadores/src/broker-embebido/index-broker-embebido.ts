import { crearPoolPostgres, type PoolPostgres } from '../postgres/pool-postgres.js';
import { PostgresBroker, errorAStderr, type OpcionesPostgresBroker } from './postgres-broker.js';

export type OpcionesBrokerEmbebido = Omit<OpcionesPostgresBroker, 'pool' | 'cerrarPool'> &
  (
    | {
        /** URL de PostgreSQL: el broker crea (y cierra) su propio pool. */
        readonly url: string;
        /** Conexiones del pool propio (una más queda fija para LISTEN). Por defecto 6. */
        readonly tamanoPool?: number;
        /** `application_name` de sus conexiones (se ve en `pg_stat_activity`). Por defecto `broker-embebido:<tópico>`. */
        readonly nombreAplicacion?: string;
        readonly pool?: never;
      }
    | {
        /** Pool compartido (p. ej. `pg.Pool` del servicio): el broker no lo cierra. */
        readonly pool: PoolPostgres;
        readonly url?: never;
      }
  );

/**
 * Crea el broker embebido sobre PostgreSQL: migra el esquema `broker`, registra las suscripciones
 * pedidas y escucha avisos. Ver el diseño en `postgres-broker.ts`.
 */
export async function crearBrokerEmbebido(opciones: OpcionesBrokerEmbebido): Promise<PostgresBroker> {
  if ('pool' in opciones && opciones.pool) {
    return PostgresBroker.crear({ ...opciones, pool: opciones.pool, cerrarPool: false });
  }
  if (!('url' in opciones) || typeof opciones.url !== 'string' || opciones.url.length === 0) {
    throw new Error('crearBrokerEmbebido necesita `url` o `pool`');
  }
  const alError = opciones.alError ?? errorAStderr;
  // Una conexión más que `tamanoPool` queda fija para LISTEN.
  const pool = crearPoolPostgres({
    url: opciones.url,
    tamano: (opciones.tamanoPool ?? 6) + 1,
    nombreAplicacion: opciones.nombreAplicacion ?? `broker-embebido:${opciones.topico}`,
    alError: (e) =>
      alError(
        new Error('Broker embebido: se cortó una conexión del pool (en uso o libre); la sentencia en curso falla y se reintenta', {
          cause: e,
        }),
      ),
  });
  try {
    return await PostgresBroker.crear({ ...opciones, pool, alError, cerrarPool: true });
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
}

export { PostgresBroker, type OpcionesPostgresBroker } from './postgres-broker.js';
export { PostgresPublicador, type ContadoresBroker } from './postgres-publicador.js';
export { PostgresSuscripcion } from './postgres-suscripcion.js';
export { migrarBroker } from './migraciones-broker.js';
