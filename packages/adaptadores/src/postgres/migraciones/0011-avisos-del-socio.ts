import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Avisos al socio como fuente del registro de eventos (issue 13; decisión 0154).
 *
 * - `avisos_socio`: un aviso que no sale de un pago ni de una conversión (hoy, `webhook.desactivado`), escrito
 *   en la misma sentencia que el cambio que avisa (el repartidor de webhooks lo inserta en la sentencia que
 *   desactiva el webhook). De solo inserción, con id de identidad, como las demás fuentes: el asignador lo
 *   numera igual (`eventos_cursores` gana la fila `avisos`).
 */
export const avisosDelSocio: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE avisos_socio (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id_socio text NOT NULL,
        modo text NOT NULL CONSTRAINT avisos_socio_modo_valido CHECK (modo IN ('live', 'test')),
        tipo text NOT NULL,
        sujeto text NOT NULL,
        ocurrido_en timestamptz NOT NULL DEFAULT now(),
        datos jsonb NOT NULL DEFAULT '{}'::jsonb
      )
    `.execute(db);
    await sql`INSERT INTO eventos_cursores (fuente, ultimo_id) VALUES ('avisos', 0) ON CONFLICT (fuente) DO NOTHING`.execute(db);
  },

  async down(db: Kysely<unknown>) {
    await sql`DELETE FROM eventos_cursores WHERE fuente = 'avisos'`.execute(db);
    await sql`DROP TABLE IF EXISTS avisos_socio`.execute(db);
  },
};
