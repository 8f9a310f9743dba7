import type { ClientePostgres, PoolPostgres } from './pool-postgres.js';

/**
 * La purga por retención (docs/decisiones/0150-purga-por-retencion-en-el-relay.md): borra lo que ya no
 * hace falta para deduplicar ni para operar, en lotes pequeños de sentencias sueltas (sin transacción
 * larga ni LOCK TABLE), y solo en el proceso que gana un cerrojo consultivo de sesión.
 *
 * - `outbox`: filas publicadas antes del límite, salvo las de un pago aún en curso (el barrendero re-impulsa
 *   un pago atascado re-encolando su `PagoPendiente`, decisión 0030). Las no publicadas no se tocan nunca.
 * - `inbox`: filas procesadas antes del límite cuyo pago está en un estado final (decisión 0151): una
 *   reentrega posterior encuentra el pago terminado y no produce un segundo efecto.
 * - `broker.muertos` (broker embebido): mensajes muertos desde antes del límite. Los mensajes confirmados
 *   ya se borran al confirmarse; los no confirmados no se purgan (se perderían).
 * - `eventos_socio` (el registro de eventos por socio, decisión 0160): eventos registrados antes del límite.
 * - `duplicados_absorbidos` y `avisos_socio`: los de antes del límite que el asignador del registro ya numeró
 *   (su cursor).
 * - `webhook_entregas` ya terminadas (entregada, agotada, cancelada) y `webhook_intentos`, de antes del
 *   límite; una entrega pendiente no se toca.
 */

export const TABLAS_PURGADAS = [
  'outbox',
  'inbox',
  'broker_muertos',
  'eventos_socio',
  'duplicados_absorbidos',
  'avisos_socio',
  'webhook_entregas',
  'webhook_intentos',
] as const;
export type TablaPurgada = (typeof TABLAS_PURGADAS)[number];
export type FilasPurgadas = Record<TablaPurgada, number>;

/** Clave del cerrojo consultivo de la purga (distinta de la del relay y de la de las migraciones). */
export const CERROJO_PURGA = 7_310_150;

export type ResultadoPurga =
  | { readonly tipo: 'sinLiderazgo' }
  | {
      readonly tipo: 'hecha';
      readonly limite: Date;
      readonly filas: FilasPurgadas;
      readonly lotes: number;
      readonly duracionMs: number;
      /** Se pidió parar a mitad: lo que queda se purga en la siguiente pasada. */
      readonly interrumpida: boolean;
    };

export interface OpcionesPurga {
  readonly pool: PoolPostgres;
  readonly retencionMs: number;
  /** Filas como mucho por sentencia. */
  readonly lote: number;
  readonly cerrojo?: number;
  /** Se espera tras cada lote (tests; o para ceder el paso). */
  readonly trasLote?: (tabla: TablaPurgada, borradas: number) => Promise<void> | void;
  readonly senal?: AbortSignal;
}

// El estado del pago se lee con una subconsulta escalar (por la clave primaria, fila a fila): como NOT
// EXISTS, el planificador lo convierte en un anti-join que, con estadísticas viejas (los pagos en curso
// crecen entre dos ANALYZE), recorre todos los pagos en curso por cada fila del lote.
// Lote por id (la clave primaria) desde `$1`: se borran las publicadas antes del límite y se sigue hasta
// el primer lote que contiene una fila creada después (los ids siguen, casi, el orden de creación), así
// que una pasada no recorre la parte reciente de la tabla y no hace falta otro índice.
const SQL_LOTE_OUTBOX = `
WITH lote AS (
  SELECT id, fecha_creacion FROM outbox WHERE id > $1 ORDER BY id LIMIT $2
), borradas AS (
  DELETE FROM outbox o USING lote
  WHERE o.id = lote.id AND o.fecha_publicacion IS NOT NULL AND o.fecha_publicacion < $3
    AND coalesce((SELECT p.estado FROM pagos p WHERE p.id = o.id_agregado), '') NOT IN ('PENDIENTE', 'PROCESANDO')
  RETURNING 1
)
SELECT (SELECT count(*) FROM borradas)::int AS borradas,
       (SELECT count(*) FROM lote)::int AS leidas,
       (SELECT max(id) FROM lote)::text AS ultimo,
       coalesce((SELECT bool_or(fecha_creacion >= $3) FROM lote), false) AS recientes`;

// Suscripciones del inbox sin recorrer la tabla (salto por el índice de la clave primaria).
const SQL_SUSCRIPCIONES_INBOX = `
WITH RECURSIVE s AS (
  (SELECT suscripcion FROM inbox ORDER BY suscripcion LIMIT 1)
  UNION ALL
  SELECT (SELECT i.suscripcion FROM inbox i WHERE i.suscripcion > s.suscripcion ORDER BY i.suscripcion LIMIT 1)
  FROM s WHERE s.suscripcion IS NOT NULL
)
SELECT suscripcion FROM s WHERE suscripcion IS NOT NULL`;

// Los ids de evento son UUIDv7: los de antes del límite están por debajo de `$3` en la clave primaria.
// Un id que no lo sea solo cuesta recorrerlo o quedarse: lo que decide es `procesado_en` y el pago final
// (leído, como en el outbox, con una subconsulta escalar por la clave primaria).
const SQL_LOTE_INBOX = `
WITH lote AS (
  SELECT id_evento FROM inbox
  WHERE suscripcion = $1 AND id_evento > $2::uuid AND id_evento < $3::uuid
  ORDER BY id_evento LIMIT $4
), borradas AS (
  DELETE FROM inbox i USING lote
  WHERE i.suscripcion = $1 AND i.id_evento = lote.id_evento AND i.procesado_en < $5
    AND (SELECT p.estado FROM pagos p WHERE p.id = i.id_pago AND p.version >= i.version) IN ('EXITOSO', 'FALLIDO')
  RETURNING 1
)
SELECT (SELECT count(*) FROM borradas)::int AS borradas,
       (SELECT count(*) FROM lote)::int AS leidas,
       (SELECT id_evento::text FROM lote ORDER BY id_evento DESC LIMIT 1) AS ultimo`;

// Por el índice `eventos_socio_registrado`. Los contadores de secuencia no se tocan: nunca vuelven atrás.
const SQL_LOTE_EVENTOS = `
WITH lote AS (
  SELECT id_socio, modo, secuencia FROM eventos_socio WHERE registrado_en < $1 ORDER BY registrado_en LIMIT $2
)
DELETE FROM eventos_socio e USING lote
WHERE e.id_socio = lote.id_socio AND e.modo = lote.modo AND e.secuencia = lote.secuencia`;

// Fuentes del registro de solo inserción (duplicados, avisos): como el outbox, por id; solo hasta el cursor
// del asignador (lo que aún no numeró no se toca).
const sqlLoteFuenteNumerada = (tabla: string, fuente: string) => `
WITH lote AS (
  SELECT id, ocurrido_en FROM ${tabla}
  WHERE id > $1 AND id <= (SELECT ultimo_id FROM eventos_cursores WHERE fuente = '${fuente}')
  ORDER BY id LIMIT $2
), borradas AS (
  DELETE FROM ${tabla} d USING lote WHERE d.id = lote.id AND lote.ocurrido_en < $3
  RETURNING 1
)
SELECT (SELECT count(*) FROM borradas)::int AS borradas,
       (SELECT count(*) FROM lote)::int AS leidas,
       (SELECT max(id) FROM lote)::text AS ultimo,
       coalesce((SELECT bool_or(ocurrido_en >= $3) FROM lote), false) AS recientes`;
const FUENTES_NUMERADAS = [
  { tabla: 'duplicados_absorbidos', sql: sqlLoteFuenteNumerada('duplicados_absorbidos', 'duplicados') },
  { tabla: 'avisos_socio', sql: sqlLoteFuenteNumerada('avisos_socio', 'avisos') },
] as const;

// Las entregas de un webhook por su clave primaria `(id_webhook, secuencia)`: la secuencia sigue el orden
// de creación, así que la pasada se detiene en el primer lote con una entrega reciente.
const SQL_LOTE_ENTREGAS = `
WITH lote AS (
  SELECT secuencia, creada_en FROM webhook_entregas WHERE id_webhook = $1 AND secuencia > $2 ORDER BY secuencia LIMIT $3
), borradas AS (
  DELETE FROM webhook_entregas e USING lote
  WHERE e.id_webhook = $1 AND e.secuencia = lote.secuencia AND e.creada_en < $4 AND e.estado <> 'pendiente'
  RETURNING 1
)
SELECT (SELECT count(*) FROM borradas)::int AS borradas,
       (SELECT count(*) FROM lote)::int AS leidas,
       (SELECT max(secuencia) FROM lote)::text AS ultimo,
       coalesce((SELECT bool_or(creada_en >= $4) FROM lote), false) AS recientes`;

const SQL_LOTE_INTENTOS = `
WITH lote AS (
  SELECT id, ocurrido_en FROM webhook_intentos WHERE id > $1 ORDER BY id LIMIT $2
), borradas AS (
  DELETE FROM webhook_intentos w USING lote WHERE w.id = lote.id AND lote.ocurrido_en < $3
  RETURNING 1
)
SELECT (SELECT count(*) FROM borradas)::int AS borradas,
       (SELECT count(*) FROM lote)::int AS leidas,
       (SELECT max(id) FROM lote)::text AS ultimo,
       coalesce((SELECT bool_or(ocurrido_en >= $3) FROM lote), false) AS recientes`;

const SQL_HAY_BROKER = `SELECT to_regclass('broker.muertos') IS NOT NULL AS hay`;

const SQL_LOTE_MUERTOS = `
WITH lote AS (
  SELECT id FROM broker.muertos
  WHERE id_suscripcion = $1 AND muerto_en < $2
  ORDER BY muerto_en LIMIT $3
)
DELETE FROM broker.muertos m USING lote WHERE m.id = lote.id`;

interface FilaLote {
  readonly borradas: number;
  readonly leidas: number;
  readonly ultimo: string | null;
}

const UUID_MINIMO = '00000000-0000-0000-0000-000000000000';

/** El menor UUIDv7 con marca de tiempo `ms`: todo UUIDv7 de antes de `ms` es menor. */
export function uuidv7Minimo(ms: number): string {
  const h = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7000-8000-000000000000`;
}

/**
 * Una pasada de la purga. Si otro proceso tiene el cerrojo, no hace nada (`sinLiderazgo`). Cada lote es
 * una sentencia en modo autocommit: las escrituras concurrentes no esperan más que a un lote.
 */
export async function purgarRetencion(opciones: OpcionesPurga, ahora: Date = new Date()): Promise<ResultadoPurga> {
  const cerrojo = opciones.cerrojo ?? CERROJO_PURGA;
  const cliente = await opciones.pool.connect();
  let roto: Error | undefined;
  try {
    const { rows } = await cliente.query<{ tomado: boolean }>('SELECT pg_try_advisory_lock($1) AS tomado', [cerrojo]);
    if (!rows[0]?.tomado) return { tipo: 'sinLiderazgo' };
    try {
      return await pasada(cliente, opciones, ahora);
    } finally {
      await cliente.query('SELECT pg_advisory_unlock($1)', [cerrojo]);
    }
  } catch (error) {
    roto = error instanceof Error ? error : new Error(String(error));
    throw new Error('La purga por retención falló (se reintenta en la siguiente pasada)', { cause: error });
  } finally {
    // Con un fallo, la conexión se descarta: si el desbloqueo no llegó, cerrar la sesión suelta el cerrojo.
    cliente.release(roto);
  }
}

async function pasada(cliente: ClientePostgres, opciones: OpcionesPurga, ahora: Date): Promise<ResultadoPurga> {
  const inicio = performance.now();
  const limite = new Date(ahora.getTime() - opciones.retencionMs);
  const filas: FilasPurgadas = {
    outbox: 0,
    inbox: 0,
    broker_muertos: 0,
    eventos_socio: 0,
    duplicados_absorbidos: 0,
    avisos_socio: 0,
    webhook_entregas: 0,
    webhook_intentos: 0,
  };
  let lotes = 0;
  const parar = () => opciones.senal?.aborted === true;
  const contar = async (tabla: TablaPurgada, borradas: number) => {
    filas[tabla] += borradas;
    lotes += 1;
    await opciones.trasLote?.(tabla, borradas);
  };

  // outbox
  for (let desde = '0'; !parar(); ) {
    const { rows } = await cliente.query<FilaLote & { recientes: boolean }>(SQL_LOTE_OUTBOX, [desde, opciones.lote, limite]);
    const r = rows[0];
    if (!r || r.leidas === 0) break;
    await contar('outbox', r.borradas);
    if (r.recientes || r.leidas < opciones.lote || r.ultimo === null) break;
    desde = r.ultimo;
  }

  // inbox, suscripción a suscripción
  const cota = uuidv7Minimo(limite.getTime());
  const { rows: suscripciones } = await cliente.query<{ suscripcion: string }>(SQL_SUSCRIPCIONES_INBOX);
  for (const { suscripcion } of suscripciones) {
    for (let desde = UUID_MINIMO; !parar(); ) {
      const { rows } = await cliente.query<FilaLote>(SQL_LOTE_INBOX, [suscripcion, desde, cota, opciones.lote, limite]);
      const r = rows[0];
      if (!r || r.leidas === 0) break;
      await contar('inbox', r.borradas);
      if (r.leidas < opciones.lote || r.ultimo === null) break;
      desde = r.ultimo;
    }
  }

  // broker embebido: mensajes muertos (sin el esquema, con Pulsar, no hay nada que purgar)
  const { rows: broker } = await cliente.query<{ hay: boolean }>(SQL_HAY_BROKER);
  if (broker[0]?.hay) {
    const { rows: ids } = await cliente.query<{ id: number }>('SELECT id FROM broker.suscripciones ORDER BY id');
    for (const { id } of ids) {
      while (!parar()) {
        const r = await cliente.query(SQL_LOTE_MUERTOS, [id, limite, opciones.lote]);
        const borradas = r.rowCount ?? 0;
        if (borradas === 0) break;
        await contar('broker_muertos', borradas);
        if (borradas < opciones.lote) break;
      }
    }
  }

  // registro de eventos por socio
  while (!parar()) {
    const r = await cliente.query(SQL_LOTE_EVENTOS, [limite, opciones.lote]);
    const borradas = r.rowCount ?? 0;
    if (borradas === 0) break;
    await contar('eventos_socio', borradas);
    if (borradas < opciones.lote) break;
  }
  for (const { tabla, sql } of FUENTES_NUMERADAS) {
    for (let desde = '0'; !parar(); ) {
      const { rows } = await cliente.query<FilaLote & { recientes: boolean }>(sql, [desde, opciones.lote, limite]);
      const r = rows[0];
      if (!r || r.leidas === 0) break;
      await contar(tabla, r.borradas);
      if (r.recientes || r.leidas < opciones.lote || r.ultimo === null) break;
      desde = r.ultimo;
    }
  }

  // webhooks: entregas terminadas, webhook a webhook, e intentos
  const { rows: webhooks } = await cliente.query<{ id: string }>('SELECT id FROM webhooks ORDER BY id');
  for (const { id } of webhooks) {
    for (let desde = '0'; !parar(); ) {
      const { rows } = await cliente.query<FilaLote & { recientes: boolean }>(SQL_LOTE_ENTREGAS, [id, desde, opciones.lote, limite]);
      const r = rows[0];
      if (!r || r.leidas === 0) break;
      await contar('webhook_entregas', r.borradas);
      if (r.recientes || r.leidas < opciones.lote || r.ultimo === null) break;
      desde = r.ultimo;
    }
  }
  for (let desde = '0'; !parar(); ) {
    const { rows } = await cliente.query<FilaLote & { recientes: boolean }>(SQL_LOTE_INTENTOS, [desde, opciones.lote, limite]);
    const r = rows[0];
    if (!r || r.leidas === 0) break;
    await contar('webhook_intentos', r.borradas);
    if (r.recientes || r.leidas < opciones.lote || r.ultimo === null) break;
    desde = r.ultimo;
  }

  return { tipo: 'hecha', limite, filas, lotes, duracionMs: performance.now() - inicio, interrumpida: parar() };
}
