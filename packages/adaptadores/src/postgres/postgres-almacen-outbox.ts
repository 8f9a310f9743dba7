import { LiderazgoPerdido, type AlmacenOutbox, type CercaLiderazgo, type EstadoProductor, type FilaOutbox } from '@aeropartners/aplicacion';
import { enteroSeguro } from './esquema.js';
import type { PoolPostgres } from './pool-postgres.js';

const COLUMNAS = `o.id::text AS id, o.id_evento::text AS id_evento, o.id_agregado::text AS id_agregado,
  o.version_agregado, o.tipo, o.payload, o.metadatos, o.secuencia::text AS secuencia, o.intentos`;

/**
 * La cerca (ver la migración 0006): `vigente` tiene una fila si la época `$e` del cerrojo `$c` sigue
 * siendo la guardada, o si no se pidió cerca (`$c` nulo: herramientas y tests que no compiten por el
 * liderazgo). `FOR SHARE` choca con el incremento de la época: el relay que gana el cerrojo espera a
 * que termine esta sentencia, y esta, si llega después, ya no ve su época.
 */
const cerca = (c: string, e: string) => `
cerca AS (SELECT 1 FROM outbox_liderazgo WHERE cerrojo = ${c}::bigint AND epoca = ${e}::bigint FOR SHARE),
vigente AS (SELECT 1 AS lider WHERE ${c}::bigint IS NULL OR EXISTS (SELECT 1 FROM cerca))`;

/**
 * Filas que este productor ya numeró y no llegó a marcar: se republican con la MISMA secuencia.
 * Siempre devuelve al menos una fila (con columnas nulas si no hay nada) mientras la cerca pase; ninguna
 * si no pasa. $1 productor, $2 límite, $3 cerrojo, $4 época.
 */
const SQL_YA_NUMERADAS = `
WITH ${cerca('$3', '$4')},
filas AS (
  SELECT ${COLUMNAS} FROM outbox o
  WHERE o.fecha_publicacion IS NULL AND o.secuencia IS NOT NULL AND o.productor = $1
    AND EXISTS (SELECT 1 FROM vigente)
  ORDER BY o.secuencia
  LIMIT $2
)
SELECT v.lider, f.* FROM vigente v LEFT JOIN filas f ON true`;

/**
 * Reclama filas sin numerar (`FOR UPDATE SKIP LOCKED`, por id) y les asigna las siguientes
 * secuencias del productor, en una sola sentencia (una transacción corta): la asignación queda
 * confirmada antes de publicar. Si no hay filas, o la cerca no pasa, no escribe nada.
 * $1 productor, $2 límite, $3 cerrojo, $4 época.
 */
const SQL_NUMERAR = `
WITH ${cerca('$3', '$4')},
candidatas AS (
  SELECT id FROM outbox
  WHERE fecha_publicacion IS NULL AND secuencia IS NULL AND EXISTS (SELECT 1 FROM vigente)
  ORDER BY id
  LIMIT $2
  FOR UPDATE SKIP LOCKED
),
cuantas AS (SELECT count(*)::bigint AS n FROM candidatas),
contador AS (
  INSERT INTO outbox_productores AS p (productor, ultima_secuencia)
  SELECT $1, n FROM cuantas WHERE n > 0
  ON CONFLICT (productor) DO UPDATE SET ultima_secuencia = p.ultima_secuencia + EXCLUDED.ultima_secuencia
  RETURNING p.ultima_secuencia - (SELECT n FROM cuantas) AS base
),
numeradas AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM candidatas)
UPDATE outbox o
SET secuencia = contador.base + numeradas.n, productor = $1
FROM numeradas, contador
WHERE o.id = numeradas.id
RETURNING ${COLUMNAS}`;

/**
 * Filas que OTRO nombre de productor numeró y nunca marcó (se renombró el productor, o el relay en
 * reserva usa otro nombre): se numeran de nuevo con este productor, por id. Pueden llegar dos veces al
 * consumidor (si el nombre anterior llegó a publicarlas); el inbox lo absorbe. Sin esto nadie las
 * publicaría. $1 productor, $2 cerrojo, $3 época.
 */
const SQL_RENUMERAR_HUERFANAS = `
WITH ${cerca('$2', '$3')},
huerfanas AS (
  SELECT id FROM outbox
  WHERE fecha_publicacion IS NULL AND secuencia IS NOT NULL AND productor <> $1 AND EXISTS (SELECT 1 FROM vigente)
  ORDER BY id
  FOR UPDATE
),
cuantas AS (SELECT count(*)::bigint AS n FROM huerfanas),
contador AS (
  INSERT INTO outbox_productores AS p (productor, ultima_secuencia)
  SELECT $1, n FROM cuantas WHERE n > 0
  ON CONFLICT (productor) DO UPDATE SET ultima_secuencia = p.ultima_secuencia + EXCLUDED.ultima_secuencia
  RETURNING p.ultima_secuencia - (SELECT n FROM cuantas) AS base
),
numeradas AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM huerfanas),
renumeradas AS (
  UPDATE outbox o
  SET secuencia = contador.base + numeradas.n, productor = $1
  FROM numeradas, contador
  WHERE o.id = numeradas.id
  RETURNING 1
)
SELECT (SELECT count(*) FROM vigente)::int AS lider, (SELECT count(*) FROM renumeradas)::int AS renumeradas`;

/** Marca publicadas, cercado. $1 ids, $2 cerrojo, $3 época. */
const SQL_MARCAR = `
WITH ${cerca('$2', '$3')},
marcadas AS (
  UPDATE outbox SET fecha_publicacion = now(), ultimo_error = NULL
  WHERE id = ANY($1::bigint[]) AND EXISTS (SELECT 1 FROM vigente)
  RETURNING 1
)
SELECT (SELECT count(*) FROM vigente)::int AS lider, (SELECT count(*) FROM marcadas)::int AS marcadas`;

const SQL_FALLO = `UPDATE outbox SET intentos = intentos + 1, ultimo_error = $2 WHERE id = ANY($1::bigint[])`;

const SQL_ESTADO_PRODUCTOR = `SELECT ultima_secuencia::text AS ultima_secuencia, alarma FROM outbox_productores WHERE productor = $1`;

/** Guarda la alarma del productor, cercado. $1 productor, $2 motivo, $3 cerrojo, $4 época. */
const SQL_ALARMA = `
WITH ${cerca('$3', '$4')},
guardada AS (
  INSERT INTO outbox_productores AS p (productor, ultima_secuencia, alarma, alarma_en)
  SELECT $1, 0, $2, now() FROM vigente
  ON CONFLICT (productor) DO UPDATE SET alarma = EXCLUDED.alarma, alarma_en = EXCLUDED.alarma_en
  RETURNING 1
)
SELECT (SELECT count(*) FROM vigente)::int AS lider`;

interface FilaLeida {
  id: string;
  id_evento: string;
  id_agregado: string;
  version_agregado: number;
  tipo: string;
  payload: unknown;
  metadatos: { id_correlacion?: unknown; traceparent?: unknown; id_solicitud?: unknown } | null;
  secuencia: string;
  intentos: number;
}

function aFila(f: FilaLeida, yaNumerada: boolean): FilaOutbox {
  const metadatos = f.metadatos ?? {};
  const idCorrelacion = typeof metadatos.id_correlacion === 'string' ? metadatos.id_correlacion : `outbox-${f.id}`;
  const traceparent = typeof metadatos.traceparent === 'string' ? metadatos.traceparent : undefined;
  const idSolicitud = typeof metadatos.id_solicitud === 'string' ? metadatos.id_solicitud : undefined;
  return {
    id: f.id,
    idEvento: f.id_evento,
    idAgregado: f.id_agregado,
    versionAgregado: f.version_agregado,
    tipo: f.tipo,
    payload: f.payload,
    metadatos: {
      id_correlacion: idCorrelacion,
      ...(traceparent ? { traceparent } : {}),
      ...(idSolicitud ? { id_solicitud: idSolicitud } : {}),
    },
    secuencia: enteroSeguro(f.secuencia, 'outbox.secuencia'),
    intentos: f.intentos,
    yaNumerada,
  };
}

const parametrosCerca = (cerca: CercaLiderazgo | undefined): [number | null, number | null] =>
  cerca ? [cerca.cerrojo, cerca.epoca] : [null, null];

/**
 * El outbox en PostgreSQL, visto por el relay (ver `AlmacenOutbox`). Reclamar, marcar, renumerar y
 * guardar una alarma van cercados por la época de liderazgo: si ya no es la vigente, lanzan
 * `LiderazgoPerdido` sin haber escrito nada. `reclamar` y `marcarPublicadas` aceptan no llevar cerca
 * para herramientas y tests que no compiten por el liderazgo; el relay siempre la pasa.
 */
export class PostgresAlmacenOutbox implements AlmacenOutbox {
  readonly #pool: PoolPostgres;

  constructor(pool: PoolPostgres) {
    this.#pool = pool;
  }

  async reclamar(productor: string, limite: number, cerca?: CercaLiderazgo): Promise<readonly FilaOutbox[]> {
    const previas = await this.#pool.query<FilaLeida & { lider: number }>({
      name: 'outbox_ya_numeradas_v2',
      text: SQL_YA_NUMERADAS,
      values: [productor, limite, ...parametrosCerca(cerca)],
    });
    if (previas.rows.length === 0) throw new LiderazgoPerdido(cerca!);
    const yaNumeradas = previas.rows.filter((f) => f.id !== null);
    const restantes = limite - yaNumeradas.length;
    // Si la época cambia entre las dos sentencias, la segunda no numera nada y el siguiente reclamo lo ve.
    const nuevas =
      restantes > 0
        ? (
            await this.#pool.query<FilaLeida>({
              name: 'outbox_numerar_v2',
              text: SQL_NUMERAR,
              values: [productor, restantes, ...parametrosCerca(cerca)],
            })
          ).rows
        : [];
    return [...yaNumeradas.map((f) => aFila(f, true)), ...nuevas.map((f) => aFila(f, false))].sort((a, b) => a.secuencia - b.secuencia);
  }

  async marcarPublicadas(ids: readonly string[], cerca?: CercaLiderazgo): Promise<void> {
    if (ids.length === 0) return;
    const { rows } = await this.#pool.query<{ lider: number }>({
      name: 'outbox_marcar_v2',
      text: SQL_MARCAR,
      values: [ids, ...parametrosCerca(cerca)],
    });
    if (rows[0]?.lider !== 1) throw new LiderazgoPerdido(cerca!);
  }

  async registrarFallo(ids: readonly string[], error: string): Promise<void> {
    if (ids.length === 0) return;
    await this.#pool.query({ name: 'outbox_fallo_v1', text: SQL_FALLO, values: [ids, error] });
  }

  async renumerarHuerfanas(productor: string, cerca: CercaLiderazgo): Promise<number> {
    const { rows } = await this.#pool.query<{ lider: number; renumeradas: number }>({
      text: SQL_RENUMERAR_HUERFANAS,
      values: [productor, cerca.cerrojo, cerca.epoca],
    });
    if (rows[0]?.lider !== 1) throw new LiderazgoPerdido(cerca);
    return rows[0].renumeradas;
  }

  async estadoProductor(productor: string): Promise<EstadoProductor> {
    const { rows } = await this.#pool.query<{ ultima_secuencia: string; alarma: string | null }>({
      text: SQL_ESTADO_PRODUCTOR,
      values: [productor],
    });
    const fila = rows[0];
    return fila
      ? { ultimaSecuencia: enteroSeguro(fila.ultima_secuencia, 'outbox_productores.ultima_secuencia'), alarma: fila.alarma }
      : { ultimaSecuencia: null, alarma: null };
  }

  async registrarAlarma(productor: string, motivo: string, cerca: CercaLiderazgo): Promise<void> {
    const { rows } = await this.#pool.query<{ lider: number }>({
      text: SQL_ALARMA,
      values: [productor, motivo, cerca.cerrojo, cerca.epoca],
    });
    if (rows[0]?.lider !== 1) throw new LiderazgoPerdido(cerca);
  }
}
