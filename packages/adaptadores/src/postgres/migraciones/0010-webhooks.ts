import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Webhooks de los socios (issue 13, punto 4; decisiones 0170–0176).
 *
 * - `webhooks`: un destino registrado por un socio en un modo, con sus tipos, su secreto (y el anterior
 *   mientras dura una rotación) y su `cursor`: hasta qué secuencia del registro de eventos de su ámbito
 *   se han generado ya sus entregas. El cursor vive en la base, nunca en memoria de un proceso.
 * - `webhook_entregas`: un evento por entregar a un webhook. Las reclama el repartidor con
 *   `FOR UPDATE SKIP LOCKED` y un plazo (`proximo_intento` empujado hacia delante): si el proceso muere a
 *   mitad de un envío, otro la reintenta al vencer el plazo (al menos una vez).
 * - `webhook_intentos`: cada intento (hora, estado HTTP, duración, error, próximo intento), para
 *   `GET /webhooks/{id}/intentos`.
 */
export const webhooks: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE webhooks (
        id text PRIMARY KEY,
        id_socio text NOT NULL,
        modo text NOT NULL CONSTRAINT webhooks_modo_valido CHECK (modo IN ('live', 'test')),
        url text NOT NULL,
        tipos text[] NOT NULL CONSTRAINT webhooks_con_tipos CHECK (cardinality(tipos) > 0),
        secreto text NOT NULL,
        secreto_anterior text,
        secreto_anterior_hasta timestamptz,
        activo boolean NOT NULL DEFAULT true,
        motivo_desactivacion text,
        desactivado_en timestamptz,
        creado_en timestamptz NOT NULL DEFAULT now(),
        cursor bigint NOT NULL CONSTRAINT webhooks_cursor_no_negativo CHECK (cursor >= 0)
      )
    `.execute(db);
    await sql`CREATE INDEX webhooks_socio ON webhooks (id_socio, modo, creado_en)`.execute(db);

    await sql`
      CREATE TABLE webhook_entregas (
        id_webhook text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        secuencia bigint NOT NULL,
        estado text NOT NULL DEFAULT 'pendiente'
          CONSTRAINT webhook_entregas_estado_valido CHECK (estado IN ('pendiente', 'entregada', 'agotada', 'cancelada')),
        intentos integer NOT NULL DEFAULT 0,
        proximo_intento timestamptz NOT NULL DEFAULT now(),
        creada_en timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (id_webhook, secuencia)
      )
    `.execute(db);
    await sql`CREATE INDEX webhook_entregas_pendientes ON webhook_entregas (proximo_intento) WHERE estado = 'pendiente'`.execute(db);

    await sql`
      CREATE TABLE webhook_intentos (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id_webhook text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        secuencia bigint NOT NULL,
        numero integer NOT NULL,
        ocurrido_en timestamptz NOT NULL,
        duracion_ms integer NOT NULL,
        codigo_estado integer,
        resultado text NOT NULL
          CONSTRAINT webhook_intentos_resultado_valido CHECK (resultado IN ('exitoso', 'error_http', 'tiempo_agotado', 'error_red')),
        error text,
        proximo_intento timestamptz
      )
    `.execute(db);
    await sql`CREATE INDEX webhook_intentos_webhook ON webhook_intentos (id_webhook, id)`.execute(db);
  },

  async down(db: Kysely<unknown>) {
    await sql`DROP TABLE IF EXISTS webhook_intentos`.execute(db);
    await sql`DROP TABLE IF EXISTS webhook_entregas`.execute(db);
    await sql`DROP TABLE IF EXISTS webhooks`.execute(db);
  },
};
