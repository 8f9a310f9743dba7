import type { AlmacenOutbox, FilaOutbox } from '@aeropartners/aplicacion';
import { enteroSeguro } from './esquema.js';
import type { PoolPostgres } from './pool-postgres.js';

const COLUMNAS = `o.id::text AS id, o.id_evento::text AS id_evento, o.id_agregado::text AS id_agregado,
  o.version_agregado, o.tipo, o.payload, o.metadatos, o.secuencia::text AS secuencia, o.intentos`;

/** Filas que este productor ya numeró y no llegó a marcar: se republican con la MISMA secuencia. */
const SQL_YA_NUMERADAS = `
SELECT ${COLUMNAS} FROM outbox o
WHERE o.fecha_publicacion IS NULL AND o.secuencia IS NOT NULL AND o.productor = $1
ORDER BY o.secuencia
LIMIT $2`;

/**
 * Reclama filas sin numerar (`FOR UPDATE SKIP LOCKED`, por id) y les asigna las siguientes
 * secuencias del productor, en una sola sentencia (una transacción corta): la asignación queda
 * confirmada antes de publicar. Si no hay filas, no escribe nada.
 */
const SQL_NUMERAR = `
WITH candidatas AS (
  SELECT id FROM outbox
  WHERE fecha_publicacion IS NULL AND secuencia IS NULL
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

const SQL_MARCAR = `UPDATE outbox SET fecha_publicacion = now(), ultimo_error = NULL WHERE id = ANY($1::bigint[])`;
const SQL_FALLO = `UPDATE outbox SET intentos = intentos + 1, ultimo_error = $2 WHERE id = ANY($1::bigint[])`;

interface FilaLeida {
  id: string;
  id_evento: string;
  id_agregado: string;
  version_agregado: number;
  tipo: string;
  payload: unknown;
  metadatos: { id_correlacion?: unknown; traceparent?: unknown } | null;
  secuencia: string;
  intentos: number;
}

function aFila(f: FilaLeida, yaNumerada: boolean): FilaOutbox {
  const metadatos = f.metadatos ?? {};
  const idCorrelacion = typeof metadatos.id_correlacion === 'string' ? metadatos.id_correlacion : `outbox-${f.id}`;
  const traceparent = typeof metadatos.traceparent === 'string' ? metadatos.traceparent : undefined;
  return {
    id: f.id,
    idEvento: f.id_evento,
    idAgregado: f.id_agregado,
    versionAgregado: f.version_agregado,
    tipo: f.tipo,
    payload: f.payload,
    metadatos: traceparent ? { id_correlacion: idCorrelacion, traceparent } : { id_correlacion: idCorrelacion },
    secuencia: enteroSeguro(f.secuencia, 'outbox.secuencia'),
    intentos: f.intentos,
    yaNumerada,
  };
}

/** El outbox en PostgreSQL, visto por el relay (ver `AlmacenOutbox`). */
export class KyselyAlmacenOutbox implements AlmacenOutbox {
  readonly #pool: PoolPostgres;

  constructor(pool: PoolPostgres) {
    this.#pool = pool;
  }

  async reclamar(productor: string, limite: number): Promise<readonly FilaOutbox[]> {
    const previas = await this.#pool.query<FilaLeida>({ name: 'outbox_ya_numeradas_v1', text: SQL_YA_NUMERADAS, values: [productor, limite] });
    const restantes = limite - previas.rows.length;
    const nuevas =
      restantes > 0
        ? (await this.#pool.query<FilaLeida>({ name: 'outbox_numerar_v1', text: SQL_NUMERAR, values: [productor, restantes] })).rows
        : [];
    return [...previas.rows.map((f) => aFila(f, true)), ...nuevas.map((f) => aFila(f, false))].sort((a, b) => a.secuencia - b.secuencia);
  }

  async marcarPublicadas(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#pool.query({ name: 'outbox_marcar_v1', text: SQL_MARCAR, values: [ids] });
  }

  async registrarFallo(ids: readonly string[], error: string): Promise<void> {
    if (ids.length === 0) return;
    await this.#pool.query({ name: 'outbox_fallo_v1', text: SQL_FALLO, values: [ids, error] });
  }
}
