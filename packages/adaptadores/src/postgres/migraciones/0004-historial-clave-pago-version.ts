import { sql, type Kysely, type Migration } from 'kysely';

/**
 * `historial_pagos`: la clave primaria pasa a ser `(id_pago, version)` (la restricción única que ya
 * existía) y desaparece el índice de la columna de identidad `id`, que ninguna consulta usa para
 * buscar. Cada transición inserta una fila de historial: un índice menos que mantener por fila (tres
 * por pago). La columna `id` se queda (orden de inserción, para desempatar en consultas de auditoría).
 */
export const historialClavePagoVersion: Migration = {
  async up(db: Kysely<unknown>) {
    // Una sola ALTER: reconstruye el índice bajo un cerrojo exclusivo de la tabla (breve con el volumen
    // actual; en una tabla muy grande convendría crear antes el índice con CONCURRENTLY).
    await sql`
      ALTER TABLE historial_pagos
        DROP CONSTRAINT historial_pagos_pkey,
        DROP CONSTRAINT historial_pago_version_unica,
        ADD CONSTRAINT historial_pagos_pkey PRIMARY KEY (id_pago, version)
    `.execute(db);
  },

  async down(db: Kysely<unknown>) {
    await sql`
      ALTER TABLE historial_pagos
        DROP CONSTRAINT historial_pagos_pkey,
        ADD CONSTRAINT historial_pagos_pkey PRIMARY KEY (id),
        ADD CONSTRAINT historial_pago_version_unica UNIQUE (id_pago, version)
    `.execute(db);
  },
};
