import { sql, type Kysely, type Migration } from 'kysely';

/**
 * El aviso `outbox_nuevo` solo cuando la sentencia insertó filas en el outbox.
 *
 * Un trigger `FOR EACH STATEMENT` se dispara aunque la sentencia no inserte nada, y las escrituras del
 * repositorio llevan siempre su `INSERT INTO outbox … SELECT` (con cero filas, p. ej., al pasar a
 * PROCESANDO, que no se publica). Cada NOTIFY inútil despertaba al relay y, sobre todo, hacía pasar el
 * commit por el cerrojo global de la cola de avisos, que serializa los commits de todas las
 * transacciones que notifican. Con la tabla de transición `nuevas` se comprueba si hubo filas.
 */
export const avisoOutboxSoloConFilas: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`DROP TRIGGER outbox_aviso ON outbox`.execute(db);
    await sql`
      CREATE OR REPLACE FUNCTION outbox_avisar() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM nuevas) THEN
          PERFORM pg_notify('outbox_nuevo', '');
        END IF;
        RETURN NULL;
      END
      $$
    `.execute(db);
    await sql`
      CREATE TRIGGER outbox_aviso AFTER INSERT ON outbox
      REFERENCING NEW TABLE AS nuevas
      FOR EACH STATEMENT EXECUTE FUNCTION outbox_avisar()
    `.execute(db);
  },

  async down(db: Kysely<unknown>) {
    await sql`DROP TRIGGER outbox_aviso ON outbox`.execute(db);
    await sql`
      CREATE OR REPLACE FUNCTION outbox_avisar() RETURNS trigger
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
};
