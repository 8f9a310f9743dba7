import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Turno de cobro de un pago (`turno_titular`, `turno_hasta`): un lease guardado con el pago para que solo
 * un consumidor a la vez ejecute el paso de la pasarela de un pago en PROCESANDO. Vence solo si su titular
 * muere; cualquier transición del pago lo borra (el desenlace final lo suelta en la misma sentencia).
 * Columnas sin índice ni valor por defecto: añadirlas no reescribe la tabla y su actualización es HOT.
 */
export const turnoCobro: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`ALTER TABLE pagos ADD COLUMN turno_titular text, ADD COLUMN turno_hasta timestamptz`.execute(db);
  },

  async down(db: Kysely<unknown>) {
    await sql`ALTER TABLE pagos DROP COLUMN turno_titular, DROP COLUMN turno_hasta`.execute(db);
  },
};
