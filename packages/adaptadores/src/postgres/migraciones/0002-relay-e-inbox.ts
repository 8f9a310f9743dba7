import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Relay e inbox.
 *
 * - `outbox_productores`: la secuencia de publicación de cada productor (nombre fijo del relay). El
 *   relay la avanza en la misma sentencia que reclama filas, y la asignación queda confirmada antes
 *   de publicar: un reintento reutiliza la misma secuencia y el broker lo descarta. Nunca el id de la
 *   fila (no está ordenado por commit).
 * - Índices parciales para los dos caminos del reclamo: filas ya numeradas por un productor y sin
 *   marcar (reintento tras una caída) y filas sin numerar.
 * - `inbox`: `(suscripcion, id_evento)` escrito en la misma transacción que los efectos del manejador.
 * - Aviso `outbox_nuevo` (NOTIFY por sentencia) al insertar en el outbox: despierta al relay. Es solo
 *   una pista (se pierde tras PgBouncer); el relay también sondea.
 */
export const relayEInbox: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE outbox_productores (
        productor text PRIMARY KEY,
        ultima_secuencia bigint NOT NULL CONSTRAINT outbox_productores_secuencia_no_negativa CHECK (ultima_secuencia >= 0)
      )
    `.execute(db);
    await sql`CREATE UNIQUE INDEX outbox_productor_secuencia ON outbox (productor, secuencia) WHERE secuencia IS NOT NULL`.execute(db);
    await sql`CREATE INDEX outbox_sin_numerar ON outbox (id) WHERE fecha_publicacion IS NULL AND secuencia IS NULL`.execute(db);
    await sql`
      CREATE INDEX outbox_numeradas_sin_marcar ON outbox (productor, secuencia)
      WHERE fecha_publicacion IS NULL AND secuencia IS NOT NULL
    `.execute(db);

    await sql`
      CREATE TABLE inbox (
        suscripcion text NOT NULL,
        id_evento uuid NOT NULL,
        id_pago uuid NOT NULL,
        tipo_evento text NOT NULL,
        version integer NOT NULL,
        procesado_en timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (suscripcion, id_evento)
      )
    `.execute(db);

    await sql`
      CREATE FUNCTION outbox_avisar() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('outbox_nuevo', '');
        RETURN NULL;
      END
      $$
    `.execute(db);
    await sql`
      CREATE TRIGGER outbox_aviso AFTER INSERT ON outbox
      FOR EACH STATEMENT EXECUTE FUNCTION outbox_avisar()
    `.execute(db);
  },

  async down(db: Kysely<unknown>) {
    await sql`DROP TRIGGER IF EXISTS outbox_aviso ON outbox`.execute(db);
    await sql`DROP FUNCTION IF EXISTS outbox_avisar()`.execute(db);
    await sql`DROP TABLE IF EXISTS inbox`.execute(db);
    await sql`DROP INDEX IF EXISTS outbox_numeradas_sin_marcar`.execute(db);
    await sql`DROP INDEX IF EXISTS outbox_sin_numerar`.execute(db);
    await sql`DROP INDEX IF EXISTS outbox_productor_secuencia`.execute(db);
    await sql`DROP TABLE IF EXISTS outbox_productores`.execute(db);
  },
};
