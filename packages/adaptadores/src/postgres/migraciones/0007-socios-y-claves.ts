import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Socios reales (decisiones 0120–0124).
 *
 * - `socios`: id, nombre, estado (activo / suspendido), si exige firmas y su límite de peticiones por
 *   segundo. Los socios que ya aparecían en `pagos` (el socio por defecto del servicio semilla) se crean
 *   activos con su id como nombre: sus pagos siguen siendo suyos.
 * - `claves_api`: solo el hash SHA-256 del secreto (nunca la clave) y su prefijo público, único, por el
 *   que se la busca. Como mucho 2 vigentes por socio y modo: lo garantiza un disparador que bloquea la
 *   fila del socio antes de contar (dos emisiones concurrentes se ordenan; la segunda ve la primera).
 * - `secretos_firma`: los `whsec_…` con los que el socio firma sus peticiones (HMAC: el verificador
 *   necesita el secreto mismo, no un hash). Como mucho 2 vigentes por socio, con el mismo disparador.
 * - Cambiar el estado de un socio o revocar (o poner plazo a) una clave avisa con `NOTIFY` en la misma
 *   transacción: las instancias de la API vacían su caché de credenciales de ese socio al confirmarse.
 * - `pagos.modo` (`live` para los que ya existían) y la clave de idempotencia única por
 *   (socio, modo, clave); los índices del listado empiezan por el ámbito (toda consulta filtra por él).
 * - `historial_pagos.id_solicitud`: el `Request-Id` de la petición que causó cada paso.
 *
 * Sin clave foránea de `pagos` a `socios`: la sentencia que crea pagos ya comprueba el socio (y lo
 * bloquea en modo compartido), y una FK añadiría otro bloqueo por fila insertada.
 */
export const sociosYClaves: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE socios (
        id text PRIMARY KEY CONSTRAINT socios_id_no_vacio CHECK (id <> ''),
        nombre text NOT NULL CONSTRAINT socios_nombre_no_vacio CHECK (nombre <> ''),
        estado text NOT NULL DEFAULT 'activo' CONSTRAINT socios_estado_valido CHECK (estado IN ('activo', 'suspendido')),
        firma_obligatoria boolean NOT NULL DEFAULT false,
        limite_rps integer CONSTRAINT socios_limite_rps_valido CHECK (limite_rps BETWEEN 1 AND 1000000),
        creado_en timestamptz NOT NULL DEFAULT now()
      )
    `.execute(db);
    await sql`INSERT INTO socios (id, nombre) SELECT DISTINCT id_socio, id_socio FROM pagos`.execute(db);

    await sql`
      CREATE TABLE claves_api (
        id uuid PRIMARY KEY,
        id_socio text NOT NULL REFERENCES socios (id),
        prefijo text NOT NULL CONSTRAINT claves_api_prefijo_unico UNIQUE,
        hash_secreto bytea NOT NULL CONSTRAINT claves_api_hash_sha256 CHECK (octet_length(hash_secreto) = 32),
        modo text NOT NULL CONSTRAINT claves_api_modo_valido CHECK (modo IN ('live', 'test')),
        creada_en timestamptz NOT NULL DEFAULT now(),
        expira_en timestamptz,
        revocada_en timestamptz,
        ultimo_uso_en timestamptz
      )
    `.execute(db);
    await sql`CREATE INDEX claves_api_socio ON claves_api (id_socio, modo)`.execute(db);

    await sql`
      CREATE TABLE secretos_firma (
        id uuid PRIMARY KEY,
        id_socio text NOT NULL REFERENCES socios (id),
        secreto text NOT NULL CONSTRAINT secretos_firma_formato CHECK (secreto LIKE 'whsec\\_%'),
        creado_en timestamptz NOT NULL DEFAULT now(),
        expira_en timestamptz,
        revocado_en timestamptz
      )
    `.execute(db);
    await sql`CREATE INDEX secretos_firma_socio ON secretos_firma (id_socio)`.execute(db);

    // El máximo de vigentes: la fila del socio se bloquea antes de contar, así que dos inserciones
    // concurrentes para el mismo socio se ordenan y la segunda cuenta la primera (READ COMMITTED toma
    // una instantánea nueva por sentencia de la función).
    await sql`
      CREATE FUNCTION claves_api_maximo_vigentes() RETURNS trigger
      LANGUAGE plpgsql AS $$
      DECLARE
        vigentes integer;
      BEGIN
        IF NEW.revocada_en IS NOT NULL OR (NEW.expira_en IS NOT NULL AND NEW.expira_en <= now()) THEN
          RETURN NEW;
        END IF;
        PERFORM 1 FROM socios WHERE id = NEW.id_socio FOR UPDATE;
        SELECT count(*) INTO vigentes FROM claves_api
        WHERE id_socio = NEW.id_socio AND modo = NEW.modo AND id <> NEW.id
          AND revocada_en IS NULL AND (expira_en IS NULL OR expira_en > now());
        IF vigentes >= 2 THEN
          RAISE EXCEPTION 'el socio % ya tiene 2 claves vigentes en modo %: revoque una antes', NEW.id_socio, NEW.modo
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claves_api_maximo_vigentes';
        END IF;
        RETURN NEW;
      END
      $$
    `.execute(db);
    await sql`
      CREATE TRIGGER claves_api_maximo_vigentes
      BEFORE INSERT OR UPDATE OF revocada_en, expira_en ON claves_api
      FOR EACH ROW EXECUTE FUNCTION claves_api_maximo_vigentes()
    `.execute(db);
    await sql`
      CREATE FUNCTION secretos_firma_maximo_vigentes() RETURNS trigger
      LANGUAGE plpgsql AS $$
      DECLARE
        vigentes integer;
      BEGIN
        IF NEW.revocado_en IS NOT NULL OR (NEW.expira_en IS NOT NULL AND NEW.expira_en <= now()) THEN
          RETURN NEW;
        END IF;
        PERFORM 1 FROM socios WHERE id = NEW.id_socio FOR UPDATE;
        SELECT count(*) INTO vigentes FROM secretos_firma
        WHERE id_socio = NEW.id_socio AND id <> NEW.id
          AND revocado_en IS NULL AND (expira_en IS NULL OR expira_en > now());
        IF vigentes >= 2 THEN
          RAISE EXCEPTION 'el socio % ya tiene 2 secretos de firma vigentes: revoque uno antes', NEW.id_socio
            USING ERRCODE = 'check_violation', CONSTRAINT = 'secretos_firma_maximo_vigentes';
        END IF;
        RETURN NEW;
      END
      $$
    `.execute(db);
    await sql`
      CREATE TRIGGER secretos_firma_maximo_vigentes
      BEFORE INSERT OR UPDATE OF revocado_en, expira_en ON secretos_firma
      FOR EACH ROW EXECUTE FUNCTION secretos_firma_maximo_vigentes()
    `.execute(db);

    // El aviso a las cachés de credenciales: en la misma transacción que el cambio (se entrega al confirmar);
    // el argumento nombra la columna con el id del socio.
    await sql`
      CREATE FUNCTION socios_avisar_cambio() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('aeropartners_socios', to_jsonb(NEW) ->> TG_ARGV[0]);
        RETURN NULL;
      END
      $$
    `.execute(db);
    await sql`
      CREATE TRIGGER socios_avisar_cambio
      AFTER UPDATE OF estado, firma_obligatoria, limite_rps ON socios
      FOR EACH ROW EXECUTE FUNCTION socios_avisar_cambio('id')
    `.execute(db);
    await sql`
      CREATE TRIGGER claves_api_avisar_cambio
      AFTER UPDATE OF revocada_en, expira_en ON claves_api
      FOR EACH ROW EXECUTE FUNCTION socios_avisar_cambio('id_socio')
    `.execute(db);
    await sql`
      CREATE TRIGGER secretos_firma_avisar_cambio
      AFTER INSERT OR UPDATE OF revocado_en, expira_en ON secretos_firma
      FOR EACH ROW EXECUTE FUNCTION socios_avisar_cambio('id_socio')
    `.execute(db);

    // Un DEFAULT constante no reescribe la tabla; la restricción sí la recorre una vez.
    await sql`
      ALTER TABLE pagos
        ADD COLUMN modo text NOT NULL DEFAULT 'live' CONSTRAINT pagos_modo_valido CHECK (modo IN ('live', 'test')),
        DROP CONSTRAINT pagos_clave_idempotencia_unica,
        ADD CONSTRAINT pagos_clave_idempotencia_unica UNIQUE (id_socio, modo, clave_idempotencia)
    `.execute(db);
    await sql`DROP INDEX pagos_afiliado_id`.execute(db);
    await sql`DROP INDEX pagos_referencia_id`.execute(db);
    await sql`CREATE INDEX pagos_ambito_id ON pagos (id_socio, modo, id)`.execute(db);
    await sql`CREATE INDEX pagos_ambito_estado_id ON pagos (id_socio, modo, estado, id)`.execute(db);
    await sql`CREATE INDEX pagos_ambito_afiliado_id ON pagos (id_socio, modo, id_afiliado, id)`.execute(db);
    await sql`CREATE INDEX pagos_ambito_referencia_id ON pagos (id_socio, modo, referencia_pago, id)`.execute(db);

    await sql`ALTER TABLE historial_pagos ADD COLUMN id_solicitud text`.execute(db);
  },

  async down(db: Kysely<unknown>) {
    await sql`ALTER TABLE historial_pagos DROP COLUMN id_solicitud`.execute(db);
    await sql`DROP INDEX pagos_ambito_referencia_id`.execute(db);
    await sql`DROP INDEX pagos_ambito_afiliado_id`.execute(db);
    await sql`DROP INDEX pagos_ambito_estado_id`.execute(db);
    await sql`DROP INDEX pagos_ambito_id`.execute(db);
    await sql`CREATE INDEX pagos_afiliado_id ON pagos (id_afiliado, id)`.execute(db);
    await sql`CREATE INDEX pagos_referencia_id ON pagos (referencia_pago, id)`.execute(db);
    await sql`
      ALTER TABLE pagos
        DROP CONSTRAINT pagos_clave_idempotencia_unica,
        ADD CONSTRAINT pagos_clave_idempotencia_unica UNIQUE (id_socio, clave_idempotencia),
        DROP COLUMN modo
    `.execute(db);
    await sql`DROP TABLE IF EXISTS secretos_firma`.execute(db);
    await sql`DROP TABLE IF EXISTS claves_api`.execute(db);
    await sql`DROP TABLE IF EXISTS socios`.execute(db);
    await sql`DROP FUNCTION IF EXISTS socios_avisar_cambio()`.execute(db);
    await sql`DROP FUNCTION IF EXISTS secretos_firma_maximo_vigentes()`.execute(db);
    await sql`DROP FUNCTION IF EXISTS claves_api_maximo_vigentes()`.execute(db);
  },
};
