import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Registro de eventos por socio (issue 13; decisiones 0160–0164).
 *
 * Las escrituras del camino caliente no cambian: cada cambio ya deja su fila de historial
 * (`historial_pagos`, `historial_conversiones`) en la misma sentencia. El registro se DERIVA de esas
 * filas: un asignador (uno a la vez, por el cerrojo de su fila de `eventos_cursores`) las numera por
 * lotes en el orden en que se hacen visibles y copia lo que el feed necesita a `eventos_socio`.
 *
 * - `eventos_socio`: un evento numerado. `secuencia` es por ámbito (socio y modo), desde 1, sin huecos;
 *   `(fuente, id_fuente)` única: una fila de origen se numera como mucho una vez.
 * - `eventos_contadores`: la última secuencia de cada ámbito. No se deduce de `eventos_socio` porque la
 *   retención borra eventos viejos y la secuencia nunca debe volver atrás.
 * - `eventos_cursores`: hasta qué id de cada fuente está todo numerado. Su fila es el cerrojo del asignador.
 * - `duplicados_absorbidos`: cada duplicado absorbido (etapa, clave), escrito por lotes asíncronos desde
 *   las etapas que lo detectan; otra fuente del registro.
 * - Índice BRIN sobre `historial_pagos (id)`: el asignador recorre las filas nuevas por id; la migración
 *   0004 quitó el índice B-tree de esa columna para no mantenerlo en cada transición, y un BRIN apenas
 *   cuesta en una tabla de solo inserción cuyo id crece con el orden físico.
 * - `NOTIFY aeropartners_eventos` con el ámbito, en la transacción que numera: despierta a los streams.
 */
export const registroDeEventos: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE eventos_socio (
        id_socio text NOT NULL,
        modo text NOT NULL CONSTRAINT eventos_socio_modo_valido CHECK (modo IN ('live', 'test')),
        secuencia bigint NOT NULL CONSTRAINT eventos_socio_secuencia_positiva CHECK (secuencia > 0),
        tipo text NOT NULL,
        sujeto text NOT NULL,
        ocurrido_en timestamptz NOT NULL,
        registrado_en timestamptz NOT NULL DEFAULT now(),
        id_solicitud text,
        id_traza text,
        id_correlacion text,
        datos jsonb NOT NULL DEFAULT '{}'::jsonb,
        fuente text NOT NULL,
        id_fuente bigint NOT NULL,
        PRIMARY KEY (id_socio, modo, secuencia),
        CONSTRAINT eventos_socio_origen_unico UNIQUE (fuente, id_fuente)
      )
    `.execute(db);
    await sql`CREATE INDEX eventos_socio_sujeto ON eventos_socio (id_socio, modo, sujeto, secuencia)`.execute(db);
    await sql`CREATE INDEX eventos_socio_registrado ON eventos_socio (registrado_en)`.execute(db);

    await sql`
      CREATE TABLE eventos_contadores (
        id_socio text NOT NULL,
        modo text NOT NULL,
        ultima bigint NOT NULL CONSTRAINT eventos_contadores_no_negativa CHECK (ultima >= 0),
        PRIMARY KEY (id_socio, modo)
      )
    `.execute(db);

    await sql`
      CREATE TABLE eventos_cursores (
        fuente text PRIMARY KEY,
        ultimo_id bigint NOT NULL CONSTRAINT eventos_cursores_no_negativo CHECK (ultimo_id >= 0)
      )
    `.execute(db);
    await sql`INSERT INTO eventos_cursores (fuente, ultimo_id) VALUES ('pagos', 0), ('conversiones', 0), ('duplicados', 0)`.execute(db);

    await sql`
      CREATE TABLE duplicados_absorbidos (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id_socio text NOT NULL,
        modo text NOT NULL DEFAULT 'live' CONSTRAINT duplicados_modo_valido CHECK (modo IN ('live', 'test')),
        etapa text NOT NULL,
        clave text NOT NULL,
        sujeto text NOT NULL,
        ocurrido_en timestamptz NOT NULL DEFAULT now(),
        id_solicitud text,
        id_traza text,
        veces integer NOT NULL DEFAULT 1 CONSTRAINT duplicados_veces_positivas CHECK (veces > 0)
      )
    `.execute(db);

    await sql`CREATE INDEX historial_pagos_id_brin ON historial_pagos USING brin (id) WITH (pages_per_range = 16, autosummarize = on)`.execute(
      db,
    );
  },

  async down(db: Kysely<unknown>) {
    await sql`DROP INDEX IF EXISTS historial_pagos_id_brin`.execute(db);
    await sql`DROP TABLE IF EXISTS duplicados_absorbidos`.execute(db);
    await sql`DROP TABLE IF EXISTS eventos_cursores`.execute(db);
    await sql`DROP TABLE IF EXISTS eventos_contadores`.execute(db);
    await sql`DROP TABLE IF EXISTS eventos_socio`.execute(db);
  },
};
