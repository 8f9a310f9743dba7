import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Cerca del relay y alarma de secuencias.
 *
 * - `outbox_liderazgo`: la época de liderazgo de cada cerrojo consultivo (partición del outbox). El relay
 *   que gana el cerrojo la incrementa; cada sentencia que reclama o marca filas comprueba, en la misma
 *   sentencia y con `FOR SHARE` sobre esta fila, que la época sigue siendo la suya. Un relay que perdió
 *   el cerrojo sin enterarse no reclama ni marca nada más; y el incremento espera a que termine el
 *   reclamo en curso, así que ninguno de los dos reclama después de que el otro ganó.
 * - `outbox_productores.alarma`: el motivo por el que el relay se detuvo (el broker descartó secuencias
 *   nuevas). Sobrevive a los reinicios: mientras esté, ningún relay de ese productor publica.
 */
export const epocaRelayYAlarma: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE outbox_liderazgo (
        cerrojo bigint PRIMARY KEY,
        epoca bigint NOT NULL CONSTRAINT outbox_liderazgo_epoca_positiva CHECK (epoca > 0),
        titular text NOT NULL,
        desde timestamptz NOT NULL DEFAULT now()
      )
    `.execute(db);
    await sql`ALTER TABLE outbox_productores ADD COLUMN alarma text, ADD COLUMN alarma_en timestamptz`.execute(db);
  },

  async down(db: Kysely<unknown>) {
    await sql`ALTER TABLE outbox_productores DROP COLUMN alarma, DROP COLUMN alarma_en`.execute(db);
    await sql`DROP TABLE IF EXISTS outbox_liderazgo`.execute(db);
  },
};
