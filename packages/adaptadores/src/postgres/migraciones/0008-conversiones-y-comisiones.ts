import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Conversiones y comisiones (issue 12; lo que la persistencia garantiza: decisión 0107). Todo lleva su
 * ámbito `(id_socio, modo)`; `modo` vale `live` por defecto.
 *
 * - `hechos_conversion`: un hecho por `(id_socio, modo, id_evento)` para siempre, con su `huella` (el
 *   contenido canónico) para distinguir «el mismo evento otra vez» de «mismo id, otro cuerpo». `orden` es
 *   el orden de llegada; `aplicado_en` lo pone el consumidor al aplicarlo (con la conversión bloqueada).
 * - `conversiones`: el estado materializado (función del conjunto de hechos aplicados); su fila es el
 *   cerrojo de la conversión. `id_agregado` (UUID derivado) es la clave de orden en el outbox y el broker.
 * - `reglas_comision`: versionadas por socio (las dos modalidades las comparten).
 * - `comisiones` (con la instantánea de la regla), `ajustes_comision` (recuperaciones y complementos).
 * - `liquidaciones` (id determinista) y `partidas_liquidacion`: el índice único parcial
 *   `partidas_una_liquidacion_viva` hace cumplir en la base que una partida (comisión o ajuste) está en
 *   como mucho una liquidación no anulada.
 * - `apuntes_libro`: el libro mayor, solo de inserción (ids deterministas: una réplica no escribe nada).
 * - `historial_conversiones`: solo de inserción, como `historial_pagos`.
 */

const MODO = `modo text NOT NULL DEFAULT 'live' CHECK (modo IN ('live', 'test'))`;
const MONEDA = `CHECK (moneda IN ('USD', 'EUR', 'COP'))`;

async function soloInsercion(db: Kysely<unknown>, tabla: string): Promise<void> {
  await sql
    .raw(`
      CREATE FUNCTION ${tabla}_solo_insercion() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '${tabla} es de solo inserción: % no está permitido', TG_OP USING ERRCODE = 'restrict_violation';
      END
      $$`)
    .execute(db);
  await sql
    .raw(`CREATE TRIGGER ${tabla}_sin_cambios BEFORE UPDATE OR DELETE ON ${tabla} FOR EACH ROW EXECUTE FUNCTION ${tabla}_solo_insercion()`)
    .execute(db);
  await sql
    .raw(`CREATE TRIGGER ${tabla}_sin_truncate BEFORE TRUNCATE ON ${tabla} FOR EACH STATEMENT EXECUTE FUNCTION ${tabla}_solo_insercion()`)
    .execute(db);
}

export const conversionesYComisiones: Migration = {
  async up(db: Kysely<unknown>) {
    await sql
      .raw(`
      CREATE TABLE hechos_conversion (
        id_socio text NOT NULL,
        ${MODO},
        id_evento text NOT NULL,
        id_conversion text NOT NULL,
        tipo text NOT NULL CHECK (tipo IN ('creada', 'aprobada', 'ajustada', 'revertida')),
        id_afiliado text,
        monto_unidades bigint,
        moneda text ${MONEDA},
        ocurrido_en timestamptz NOT NULL,
        version bigint,
        motivo text,
        huella text NOT NULL,
        id_mensaje uuid NOT NULL UNIQUE,
        id_correlacion text NOT NULL,
        orden bigint GENERATED ALWAYS AS IDENTITY,
        recibido_en timestamptz NOT NULL DEFAULT now(),
        aplicado_en timestamptz,
        PRIMARY KEY (id_socio, modo, id_evento)
      )`)
      .execute(db);
    await sql`CREATE INDEX hechos_de_conversion ON hechos_conversion (id_socio, modo, id_conversion, orden)`.execute(db);

    await sql
      .raw(`
      CREATE TABLE conversiones (
        id_socio text NOT NULL,
        ${MODO},
        id_conversion text NOT NULL,
        id_agregado uuid NOT NULL,
        estado text NOT NULL CHECK (estado IN ('ESPERANDO_CONVERSION', 'PENDIENTE', 'APROBADA', 'REVERTIDA')),
        bloqueada boolean NOT NULL DEFAULT false,
        conflictos jsonb NOT NULL DEFAULT '[]'::jsonb,
        id_afiliado text,
        venta_unidades bigint,
        moneda text ${MONEDA},
        creada_en timestamptz,
        esperando_desde timestamptz NOT NULL DEFAULT now(),
        huerfana_en timestamptz,
        actualizada_en timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (id_socio, modo, id_conversion)
      )`)
      .execute(db);
    await sql`CREATE INDEX conversiones_afiliado ON conversiones (id_socio, modo, id_afiliado, id_conversion)`.execute(db);
    await sql`CREATE INDEX conversiones_esperando ON conversiones (esperando_desde) WHERE estado = 'ESPERANDO_CONVERSION' AND huerfana_en IS NULL`.execute(
      db,
    );

    await sql
      .raw(`
      CREATE TABLE reglas_comision (
        id_socio text NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        vigente_desde timestamptz NOT NULL,
        regla jsonb NOT NULL,
        creada_en timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (id_socio, version)
      )`)
      .execute(db);

    await sql
      .raw(`
      CREATE TABLE comisiones (
        ${MODO},
        id text NOT NULL,
        id_socio text NOT NULL,
        id_conversion text NOT NULL,
        id_afiliado text NOT NULL,
        moneda text NOT NULL ${MONEDA},
        regla jsonb NOT NULL,
        estado_conversion text NOT NULL CHECK (estado_conversion IN ('PENDIENTE', 'APROBADA', 'REVERTIDA')),
        unidades bigint NOT NULL CHECK (unidades >= 0),
        estado text NOT NULL CHECK (estado IN ('PENDIENTE', 'APROBADA', 'EN_LIQUIDACION', 'PAGADA', 'REVERTIDA')),
        pagable_desde timestamptz NOT NULL,
        id_liquidacion text,
        liquidacion_estado text CHECK (liquidacion_estado IN ('EN_CURSO', 'PAGADA')),
        liquidacion_unidades bigint,
        actualizada_en timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (modo, id),
        CHECK ((id_liquidacion IS NULL) = (liquidacion_estado IS NULL) AND (id_liquidacion IS NULL) = (liquidacion_unidades IS NULL))
      )`)
      .execute(db);
    await sql`CREATE INDEX comisiones_pagables ON comisiones (modo, pagable_desde) WHERE estado = 'APROBADA' AND id_liquidacion IS NULL`.execute(
      db,
    );
    await sql`CREATE INDEX comisiones_afiliado ON comisiones (id_socio, modo, id_afiliado, moneda)`.execute(db);

    await sql
      .raw(`
      CREATE TABLE ajustes_comision (
        ${MODO},
        id text NOT NULL,
        tipo text NOT NULL CHECK (tipo IN ('recuperacion', 'complemento')),
        id_comision text NOT NULL,
        id_socio text NOT NULL,
        id_conversion text NOT NULL,
        id_afiliado text NOT NULL,
        moneda text NOT NULL ${MONEDA},
        unidades bigint NOT NULL CHECK (unidades > 0),
        causa jsonb NOT NULL,
        id_liquidacion text,
        liquidacion_estado text CHECK (liquidacion_estado IN ('EN_CURSO', 'PAGADA')),
        creado_en timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (modo, id),
        CHECK ((id_liquidacion IS NULL) = (liquidacion_estado IS NULL))
      )`)
      .execute(db);
    await sql`CREATE INDEX ajustes_de_comision ON ajustes_comision (modo, id_comision)`.execute(db);
    await sql`CREATE INDEX ajustes_pendientes ON ajustes_comision (modo) WHERE id_liquidacion IS NULL`.execute(db);

    await sql
      .raw(`
      CREATE TABLE liquidaciones (
        ${MODO},
        id text NOT NULL,
        id_socio text NOT NULL,
        id_afiliado text NOT NULL,
        moneda text NOT NULL ${MONEDA},
        id_ejecucion text NOT NULL,
        creada_en timestamptz NOT NULL,
        estado text NOT NULL CHECK (estado IN ('EN_CURSO', 'PAGADA', 'ANULADA')),
        neto_unidades bigint NOT NULL CHECK (neto_unidades > 0),
        id_pago uuid NOT NULL UNIQUE,
        cerrada_en timestamptz,
        PRIMARY KEY (modo, id)
      )`)
      .execute(db);
    await sql`CREATE INDEX liquidaciones_en_curso ON liquidaciones (modo, id) WHERE estado = 'EN_CURSO'`.execute(db);
    await sql`CREATE INDEX liquidaciones_afiliado ON liquidaciones (id_socio, modo, id_afiliado, moneda)`.execute(db);

    await sql
      .raw(`
      CREATE TABLE partidas_liquidacion (
        ${MODO},
        id_liquidacion text NOT NULL,
        id_partida text NOT NULL,
        tipo text NOT NULL CHECK (tipo IN ('comision', 'complemento', 'recuperacion')),
        id_comision text NOT NULL,
        id_conversion text NOT NULL,
        unidades bigint NOT NULL CHECK (unidades >= 0),
        anulada boolean NOT NULL DEFAULT false,
        PRIMARY KEY (modo, id_liquidacion, id_partida)
      )`)
      .execute(db);
    // La regla «una partida en como mucho una liquidación no anulada», en la base y no solo en el código.
    await sql`CREATE UNIQUE INDEX partidas_una_liquidacion_viva ON partidas_liquidacion (modo, id_partida) WHERE NOT anulada`.execute(db);

    await sql
      .raw(`
      CREATE TABLE apuntes_libro (
        ${MODO},
        id text NOT NULL,
        id_asiento text NOT NULL,
        id_socio text NOT NULL,
        id_afiliado text NOT NULL,
        moneda text NOT NULL ${MONEDA},
        cuenta text NOT NULL
          CHECK (cuenta IN ('gasto', 'pendiente', 'aprobado', 'en_liquidacion', 'pagado', 'por_recuperar', 'recuperado')),
        lado text NOT NULL CHECK (lado IN ('debe', 'haber')),
        unidades bigint NOT NULL CHECK (unidades > 0),
        creado_en timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (modo, id)
      )`)
      .execute(db);
    await sql`CREATE INDEX apuntes_libro_afiliado ON apuntes_libro (id_socio, modo, id_afiliado, moneda)`.execute(db);
    await soloInsercion(db, 'apuntes_libro');

    await sql
      .raw(`
      CREATE TABLE historial_conversiones (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id_socio text NOT NULL,
        ${MODO},
        id_conversion text NOT NULL,
        id_evento text,
        tipo text NOT NULL,
        estado text,
        detalle jsonb NOT NULL DEFAULT '{}'::jsonb,
        ocurrido_en timestamptz NOT NULL DEFAULT now(),
        id_correlacion text NOT NULL
      )`)
      .execute(db);
    await sql`CREATE INDEX historial_de_conversion ON historial_conversiones (id_socio, modo, id_conversion, id)`.execute(db);
    await soloInsercion(db, 'historial_conversiones');
  },

  async down(db: Kysely<unknown>) {
    for (const tabla of [
      'historial_conversiones',
      'apuntes_libro',
      'partidas_liquidacion',
      'liquidaciones',
      'ajustes_comision',
      'comisiones',
      'reglas_comision',
      'conversiones',
      'hechos_conversion',
    ]) {
      await sql.raw(`DROP TABLE IF EXISTS ${tabla}`).execute(db);
    }
    await sql`DROP FUNCTION IF EXISTS apuntes_libro_solo_insercion()`.execute(db);
    await sql`DROP FUNCTION IF EXISTS historial_conversiones_solo_insercion()`.execute(db);
  },
};
