import pg from 'pg';
import type { PoolPostgresBroker } from './pool-broker.js';
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
        readonly pool: PoolPostgresBroker;
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
  const pool = new pg.Pool({
    connectionString: opciones.url,
    max: (opciones.tamanoPool ?? 6) + 1,
    application_name: opciones.nombreAplicacion ?? `broker-embebido:${opciones.topico}`,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
  pool.on('error', (e) => alError(new Error('Broker embebido: error en una conexión ociosa del pool', { cause: e })));
  // También en las conexiones prestadas (pg-pool solo escucha en las ociosas): un corte de PostgreSQL
  // entre dos sentencias no debe tumbar el proceso; la sentencia falla y el pool descarta la conexión.
  pool.on('connect', (cliente) =>
    cliente.on('error', (e) => alError(new Error('Broker embebido: se cortó una conexión en uso', { cause: e }))),
  );
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
export type { ClienteEscuchaBroker, ClientePostgresBroker, ConsultaPreparada, PoolPostgresBroker } from './pool-broker.js';
/** El SQL exacto del reclamo, para experimentos y tests que matan a un consumidor en otro proceso. */
export { SQL_RECLAMAR, parametrosReclamar } from './sql-broker.js';
