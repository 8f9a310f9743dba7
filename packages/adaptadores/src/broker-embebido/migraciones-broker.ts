import {
  Kysely,
  Migrator,
  PostgresDialect,
  sql,
  type Migration,
  type MigrationResultSet,
  type PostgresPool,
  type PostgresPoolClient,
} from 'kysely';
import type { ClientePostgres, PoolPostgres } from '../postgres/pool-postgres.js';

/**
 * Migraciones del esquema `broker`, con su propio Migrator (tabla de migraciones en el mismo esquema)
 * para que el broker embebido sea independiente de las migraciones del servicio.
 */
const migraciones: Record<string, Migration> = {
  '2026_03_01_0001_broker': {
    async up(db) {
      await sql`CREATE SCHEMA IF NOT EXISTS broker`.execute(db);
      await sql`
        CREATE TABLE broker.productores (
          topico text NOT NULL,
          productor text NOT NULL,
          ultima_secuencia bigint,
          actualizado_en timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (topico, productor)
        )`.execute(db);
      await sql`
        CREATE TABLE broker.suscripciones (
          id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          topico text NOT NULL,
          nombre text NOT NULL,
          creada_en timestamptz NOT NULL DEFAULT now(),
          UNIQUE (topico, nombre)
        )`.execute(db);
      // La cola: una fila por (mensaje, suscripción). Se borra al confirmarse, así que se mantiene
      // pequeña; vacuum agresivo y fillfactor para que las actualizaciones de lease sean HOT.
      await sql`
        CREATE TABLE broker.mensajes (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          id_suscripcion integer NOT NULL REFERENCES broker.suscripciones (id),
          clave text NOT NULL,
          productor text NOT NULL,
          secuencia bigint NOT NULL,
          cuerpo text NOT NULL,
          propiedades jsonb NOT NULL,
          publicado_en timestamptz NOT NULL DEFAULT now(),
          entregas integer NOT NULL DEFAULT 0,
          visible_desde timestamptz NOT NULL DEFAULT '-infinity',
          consumidor uuid
        ) WITH (
          fillfactor = 70,
          autovacuum_vacuum_scale_factor = 0,
          autovacuum_vacuum_threshold = 5000,
          autovacuum_vacuum_insert_scale_factor = 0,
          autovacuum_vacuum_insert_threshold = 20000,
          autovacuum_analyze_scale_factor = 0,
          autovacuum_analyze_threshold = 20000,
          autovacuum_vacuum_cost_delay = 0
        )`.execute(db);
      await sql`CREATE INDEX mensajes_suscripcion_id ON broker.mensajes (id_suscripcion, id)`.execute(db);
      await sql`CREATE INDEX mensajes_suscripcion_clave_id ON broker.mensajes (id_suscripcion, clave, id)`.execute(db);
      await sql`
        CREATE TABLE broker.muertos (
          id bigint PRIMARY KEY,
          id_suscripcion integer NOT NULL REFERENCES broker.suscripciones (id),
          clave text NOT NULL,
          productor text NOT NULL,
          secuencia bigint NOT NULL,
          cuerpo text NOT NULL,
          propiedades jsonb NOT NULL,
          entregas integer NOT NULL,
          publicado_en timestamptz NOT NULL,
          motivo text NOT NULL,
          muerto_en timestamptz NOT NULL DEFAULT now()
        )`.execute(db);
      await sql`CREATE INDEX muertos_suscripcion ON broker.muertos (id_suscripcion, muerto_en)`.execute(db);
    },
  },
  /**
   * Sin claves foráneas de `mensajes` y `muertos` hacia `suscripciones`: la comprobación de una FK es
   * un `SELECT … FOR KEY SHARE` sobre la fila de la suscripción POR CADA mensaje encolado (40 000 en un
   * `bench:e2e` de 20 000 pagos), y todas las transacciones bloquean la misma fila (multixacts). Las
   * suscripciones no se borran nunca; el encolado las toma de la propia tabla (`CROSS JOIN
   * broker.suscripciones`), así que la referencia es válida por construcción.
   */
  '2026_11_30_0002_sin_fk_a_suscripciones': {
    async up(db) {
      await sql`ALTER TABLE broker.mensajes DROP CONSTRAINT IF EXISTS mensajes_id_suscripcion_fkey`.execute(db);
      await sql`ALTER TABLE broker.muertos DROP CONSTRAINT IF EXISTS muertos_id_suscripcion_fkey`.execute(db);
    },
    async down(db) {
      await sql`
        ALTER TABLE broker.mensajes ADD CONSTRAINT mensajes_id_suscripcion_fkey
        FOREIGN KEY (id_suscripcion) REFERENCES broker.suscripciones (id)`.execute(db);
      await sql`
        ALTER TABLE broker.muertos ADD CONSTRAINT muertos_id_suscripcion_fkey
        FOREIGN KEY (id_suscripcion) REFERENCES broker.suscripciones (id)`.execute(db);
    },
  },
};

/** Clave del cerrojo de sesión que serializa las migraciones del broker entre procesos. */
const CERROJO_MIGRACIONES = 7_413_100_301;

/**
 * Lleva el esquema `broker` a la última versión. Varios procesos pueden arrancar a la vez (api,
 * outbox, consumidor): un cerrojo de sesión (`pg_advisory_lock`) en una conexión dedicada los
 * serializa, y el Migrator de kysely corre sobre esa misma conexión.
 */
export async function migrarBroker(pool: PoolPostgres): Promise<MigrationResultSet> {
  const cliente = await pool.connect();
  let roto: Error | undefined;
  try {
    await cliente.query('SELECT pg_advisory_lock($1)', [CERROJO_MIGRACIONES]);
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: poolDeUnCliente(cliente) }) });
    const migrador = new Migrator({
      db,
      provider: { getMigrations: async () => migraciones },
      migrationTableSchema: 'broker',
    });
    const resultado = await migrador.migrateToLatest();
    if (resultado.error) {
      throw new Error('No se pudo migrar el esquema del broker embebido', { cause: resultado.error });
    }
    return resultado;
  } catch (e) {
    roto = e instanceof Error ? e : new Error(String(e));
    throw roto;
  } finally {
    await cliente.query('SELECT pg_advisory_unlock($1)', [CERROJO_MIGRACIONES]).catch(() => undefined);
    cliente.release(roto);
  }
}

/**
 * Un "pool" de kysely que siempre entrega la misma conexión (la que tiene el cerrojo). La conexión es
 * un cliente de `pg`, que cumple `PostgresPoolClient`; nuestra interfaz mínima no lo declara entero.
 */
function poolDeUnCliente(cliente: ClientePostgres): PostgresPool {
  const prestado = { query: cliente.query.bind(cliente), release: () => undefined } as unknown as PostgresPoolClient;
  return { connect: async () => prestado, end: async () => undefined };
}
