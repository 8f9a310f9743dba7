import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Esquema inicial: pagos, outbox e historial.
 *
 * - `pagos`: el agregado. La unicidad `(id_socio, clave_idempotencia)` decide la carrera de la
 *   entrada (`INSERT … ON CONFLICT DO NOTHING`). Los índices sirven al listado por conjunto de claves
 *   (`ORDER BY id DESC`, ids UUIDv7 = orden de creación) con cada filtro.
 * - `outbox`: una fila por evento, escrita en la misma sentencia que el cambio del pago. Es una
 *   cola: se inserta, se marca publicada y se purga; por eso deja hueco en cada página (fillfactor)
 *   y se aspira y analiza mucho antes que una tabla normal. `secuencia`/`productor` los asigna el
 *   relay al reclamar filas (su secuencia de publicación para la deduplicación del broker).
 * - `historial_pagos`: solo inserción (un disparador rechaza UPDATE, DELETE y TRUNCATE).
 *
 * Sin claves foráneas hacia `pagos`: cada escritura inserta pago, outbox e historial en una sola
 * sentencia, y una FK costaría un bloqueo `FOR KEY SHARE` sobre la fila del pago en cada inserción.
 */
export const esquemaInicial: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE pagos (
        id uuid PRIMARY KEY,
        id_socio text NOT NULL,
        clave_idempotencia text NOT NULL,
        id_afiliado text NOT NULL,
        monto_unidades bigint NOT NULL CONSTRAINT pagos_monto_positivo CHECK (monto_unidades > 0),
        moneda text NOT NULL CONSTRAINT pagos_moneda_valida CHECK (moneda IN ('USD', 'EUR', 'COP')),
        referencia_pago text NOT NULL,
        estado text NOT NULL
          CONSTRAINT pagos_estado_valido CHECK (estado IN ('PENDIENTE', 'PROCESANDO', 'EXITOSO', 'FALLIDO')),
        version integer NOT NULL CONSTRAINT pagos_version_positiva CHECK (version >= 1),
        fecha_creacion timestamptz NOT NULL,
        fecha_actualizacion timestamptz NOT NULL,
        fecha_procesamiento timestamptz,
        referencia_transaccion text,
        mensaje_error text,
        CONSTRAINT pagos_clave_idempotencia_unica UNIQUE (id_socio, clave_idempotencia)
      )
    `.execute(db);
    await sql`CREATE INDEX pagos_estado_id ON pagos (estado, id)`.execute(db);
    await sql`CREATE INDEX pagos_afiliado_id ON pagos (id_afiliado, id)`.execute(db);
    await sql`CREATE INDEX pagos_referencia_id ON pagos (referencia_pago, id)`.execute(db);

    await sql`
      CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id_evento uuid NOT NULL CONSTRAINT outbox_id_evento_unico UNIQUE,
        id_agregado uuid NOT NULL,
        version_agregado integer NOT NULL,
        tipo text NOT NULL,
        payload jsonb NOT NULL,
        metadatos jsonb NOT NULL DEFAULT '{}'::jsonb,
        fecha_creacion timestamptz NOT NULL DEFAULT now(),
        fecha_publicacion timestamptz,
        intentos integer NOT NULL DEFAULT 0,
        ultimo_error text,
        secuencia bigint,
        productor text
      ) WITH (
        fillfactor = 80,
        autovacuum_vacuum_scale_factor = 0.02,
        autovacuum_vacuum_threshold = 1000,
        autovacuum_vacuum_insert_scale_factor = 0.05,
        autovacuum_analyze_scale_factor = 0.02,
        autovacuum_vacuum_cost_delay = 0
      )
    `.execute(db);
    // El relay reclama las no publicadas por orden de id: índice parcial, pequeño aunque la tabla crezca.
    await sql`CREATE INDEX outbox_pendientes ON outbox (id) WHERE fecha_publicacion IS NULL`.execute(db);

    await sql`
      CREATE TABLE historial_pagos (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id_pago uuid NOT NULL,
        version integer NOT NULL,
        estado text NOT NULL
          CONSTRAINT historial_estado_valido CHECK (estado IN ('PENDIENTE', 'PROCESANDO', 'EXITOSO', 'FALLIDO')),
        tipo_evento text NOT NULL,
        id_evento uuid NOT NULL,
        ocurrido_en timestamptz NOT NULL,
        id_correlacion text NOT NULL,
        CONSTRAINT historial_pago_version_unica UNIQUE (id_pago, version)
      )
    `.execute(db);
    await sql`
      CREATE FUNCTION historial_pagos_solo_insercion() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'historial_pagos es de solo inserción: % no está permitido', TG_OP
          USING ERRCODE = 'restrict_violation';
      END
      $$
    `.execute(db);
    await sql`
      CREATE TRIGGER historial_pagos_sin_cambios
      BEFORE UPDATE OR DELETE ON historial_pagos
      FOR EACH ROW EXECUTE FUNCTION historial_pagos_solo_insercion()
    `.execute(db);
    await sql`
      CREATE TRIGGER historial_pagos_sin_truncate
      BEFORE TRUNCATE ON historial_pagos
      FOR EACH STATEMENT EXECUTE FUNCTION historial_pagos_solo_insercion()
    `.execute(db);
  },

  async down(db: Kysely<unknown>) {
    await sql`DROP TABLE IF EXISTS historial_pagos`.execute(db);
    await sql`DROP FUNCTION IF EXISTS historial_pagos_solo_insercion()`.execute(db);
    await sql`DROP TABLE IF EXISTS outbox`.execute(db);
    await sql`DROP TABLE IF EXISTS pagos`.execute(db);
  },
};
