/**
 * Las sentencias del broker embebido. Cada operación caliente es UNA sentencia (un viaje de ida y
 * vuelta, autocommit): publicar un lote, reclamar un lote, confirmar un lote, renovar leases.
 * Se exportan para que los tests (y procesos hijo que se matan con SIGKILL) usen exactamente el mismo
 * SQL que el adaptador.
 */

import type { ConsultaPostgres } from '../postgres/pool-postgres.js';

/** Canal de LISTEN/NOTIFY; la carga útil es el tópico. Solo es una pista: el sondeo es la garantía. */
export const CANAL_AVISOS = 'broker_avisos';

/**
 * Condición que pone `synchronous_commit = off` en la transacción de la propia sentencia (como
 * `SET LOCAL`). Solo en las sentencias del lado consumidor (reclamar, confirmar, renovar, rechazar,
 * liberar, matar): si PostgreSQL cae y pierde una de ellas, el efecto es una reentrega, que el inbox
 * del consumidor absorbe; a cambio no esperan al fsync del WAL. Publicar sigue siendo síncrono: lo que
 * el broker confirma al relay es durable.
 */
const ASINCRONO = `set_config('synchronous_commit', 'off', true) = 'off'`;

/** Una sentencia con nombre: `pg` la prepara una vez por conexión y no la vuelve a planificar. */
export function preparada(nombre: string, texto: string, valores: unknown[]): ConsultaPostgres {
  return { name: nombre, text: texto, values: valores };
}

/**
 * Publica un lote con deduplicación de productor, en una sentencia:
 * - bloquea la fila del productor (`FOR UPDATE`: dos publicadores con el mismo nombre se serializan);
 * - acepta un mensaje solo si su secuencia supera la última aceptada y las anteriores del lote;
 * - lo copia a cada suscripción del tópico (× 2 con `duplicarEntregas`), en orden de publicación,
 *   para que el id (identidad) siga ese orden dentro de la clave;
 * - sube la marca de agua del productor en la misma sentencia (misma transacción implícita);
 * - avisa por NOTIFY si encoló algo.
 *
 * Parámetros: $1 tópico, $2 productor, $3 secuencias bigint[], $4 claves text[], $5 cuerpos text[],
 * $6 propiedades jsonb[], $7 copias por suscripción (1 o 2).
 * Devuelve una fila: productor_existe, aceptados, `ordenes_aceptados` (la posición, desde 1, de cada
 * mensaje aceptado: los demás se descartaron por duplicados), encolados.
 */
export const SQL_PUBLICAR = `
WITH productor AS (
  SELECT ultima_secuencia FROM broker.productores
  WHERE topico = $1 AND productor = $2
  FOR UPDATE
),
entrada AS (
  SELECT e.orden, e.secuencia, e.clave, e.cuerpo, e.propiedades,
         max(e.secuencia) OVER (ORDER BY e.orden ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS maximo_previo
  FROM unnest($3::bigint[], $4::text[], $5::text[], $6::jsonb[])
       WITH ORDINALITY AS e(secuencia, clave, cuerpo, propiedades, orden)
),
aceptados AS (
  SELECT e.orden, e.secuencia, e.clave, e.cuerpo, e.propiedades
  FROM entrada e CROSS JOIN productor p
  WHERE e.secuencia > COALESCE(GREATEST(p.ultima_secuencia, e.maximo_previo), -1)
),
encolados AS (
  INSERT INTO broker.mensajes (id_suscripcion, clave, productor, secuencia, cuerpo, propiedades)
  SELECT s.id, a.clave, $2, a.secuencia, a.cuerpo, a.propiedades
  FROM aceptados a
  CROSS JOIN broker.suscripciones s
  CROSS JOIN generate_series(1, $7::int) AS copia
  WHERE s.topico = $1
  ORDER BY a.orden, s.id, copia
  RETURNING 1
),
marca AS (
  UPDATE broker.productores
  SET ultima_secuencia = (SELECT max(secuencia) FROM aceptados), actualizado_en = now()
  WHERE topico = $1 AND productor = $2 AND EXISTS (SELECT 1 FROM aceptados)
  RETURNING 1
)
SELECT (SELECT count(*) FROM productor)::int AS productor_existe,
       (SELECT count(*) FROM aceptados)::int AS aceptados,
       (SELECT coalesce(array_agg(orden ORDER BY orden), '{}') FROM aceptados)::int[] AS ordenes_aceptados,
       n.encolados,
       (SELECT count(*) FROM marca)::int AS marcados,
       CASE WHEN n.encolados > 0 THEN pg_notify('${CANAL_AVISOS}', $1) END AS aviso
FROM (SELECT count(*)::int AS encolados FROM encolados) n`;

/** Registra el productor si no existe (la deduplicación bloquea su fila al publicar). $1 tópico, $2 productor. */
export const SQL_REGISTRAR_PRODUCTOR = `
INSERT INTO broker.productores (topico, productor) VALUES ($1, $2)
ON CONFLICT (topico, productor) DO NOTHING`;

/** $1 tópico, $2 productor. */
export const SQL_ULTIMA_SECUENCIA = `
SELECT ultima_secuencia FROM broker.productores WHERE topico = $1 AND productor = $2`;

/** Crea (si falta) la suscripción y devuelve su id. $1 tópico, $2 nombre. */
export const SQL_REGISTRAR_SUSCRIPCION = `
WITH nueva AS (
  INSERT INTO broker.suscripciones (topico, nombre) VALUES ($1, $2)
  ON CONFLICT (topico, nombre) DO NOTHING
  RETURNING id
)
SELECT id FROM nueva
UNION ALL
SELECT id FROM broker.suscripciones WHERE topico = $1 AND nombre = $2`;

/**
 * Reclama un lote, en una sentencia. Solo la CABEZA de cada clave es candidata (no existe un mensaje
 * anterior de su clave en la suscripción, esté en cola, con lease o esperando reentrega): así nunca
 * hay dos mensajes de una clave en manos de consumidores a la vez, y el orden por clave es estricto.
 * Visible = `visible_desde <= now()`: ni con lease vigente ni esperando el retraso de un rechazo.
 * `FOR UPDATE SKIP LOCKED` reparte el lote entre consumidores concurrentes sin esperas; tras el
 * bloqueo PostgreSQL revalida `visible_desde` con la versión vigente de la fila, así que dos
 * consumidores nunca reclaman el mismo mensaje.
 *
 * Un candidato que ya se entregó `maximoEntregas` veces sin confirmarse (su consumidor cayó cada vez)
 * no se entrega otra vez: pasa a mensajes muertos en la misma sentencia.
 *
 * Plan: esta sentencia NO se prepara con nombre; se planifica en cada reclamo con el tamaño actual de
 * la cola. Una tabla de cola está vacía al arrancar, y un plan genérico cacheado entonces (estimación:
 * 1 fila) se quedaba para siempre en la conexión: unía cada fila de la ventana con un recorrido de TODA
 * la suscripción (y el NOT EXISTS igual); planificado con el tamaño real usa las búsquedas por clave
 * primaria y por (suscripción, clave, id). Lo medido: bench/README.md, «Cómo se llegó a las cifras». Por eso tampoco se
 * repite `m.id_suscripcion = $1` en `candidatos`: la ventana ya filtra por suscripción y esa condición
 * solo abría la puerta a recorrer el índice de la suscripción en vez de buscar por id.
 *
 * Un consumidor no reclama lo que la tabla aún le atribuye (`consumidor = $3`): si su lease venció sin que
 * nadie más lo tomara, su latido lo renueva; si lo reclamara otra vez, la entrega anterior (que la
 * aplicación aún procesa) y la nueva se confundirían.
 *
 * Ventana: solo se miran los `$6` mensajes más antiguos de la suscripción, recorridos por el índice
 * `(id_suscripcion, id)` en orden (CTE materializada con su propio LIMIT). Sin ella, con las
 * estadísticas de una tabla de cola (vacía al crearse, con mucha rotación) el plan genérico de la
 * sentencia preparada leía TODA la cola pendiente y la ordenaba en cada reclamo: coste proporcional al
 * atraso, segundos por reclamo con decenas de miles de mensajes. Con la ventana el coste por reclamo
 * está acotado. Lo que queda fuera de la ventana espera a que avance la cabeza (orden FIFO); la ventana
 * es mucho mayor que lo que puede haber en vuelo (prefetch + lote), así que no se atasca.
 *
 * Parámetros: $1 id de suscripción, $2 tamaño del lote, $3 consumidor (uuid), $4 lease en ms,
 * $5 máximo de entregas, $6 tamaño de la ventana.
 * Devuelve las filas reclamadas (`muerto = false`) y las que pasaron a muertos (`muerto = true`).
 */
export const SQL_RECLAMAR = `
WITH ventana AS MATERIALIZED (
  SELECT v.id FROM broker.mensajes v
  WHERE v.id_suscripcion = $1
  ORDER BY v.id
  LIMIT $6
),
candidatos AS (
  SELECT m.id, m.entregas
  FROM ventana w JOIN broker.mensajes m ON m.id = w.id
  WHERE m.visible_desde <= now()
    AND m.consumidor IS DISTINCT FROM $3::uuid
    AND NOT EXISTS (
      SELECT 1 FROM broker.mensajes anterior
      WHERE anterior.id_suscripcion = m.id_suscripcion AND anterior.clave = m.clave AND anterior.id < m.id
    )
  ORDER BY m.id
  LIMIT $2
  FOR UPDATE OF m SKIP LOCKED
),
muertos AS (
  DELETE FROM broker.mensajes m
  USING candidatos c
  WHERE m.id = c.id AND c.entregas >= $5 AND ${ASINCRONO}
  RETURNING m.*
),
archivados AS (
  INSERT INTO broker.muertos (id, id_suscripcion, clave, productor, secuencia, cuerpo, propiedades, entregas, publicado_en, motivo)
  SELECT id, id_suscripcion, clave, productor, secuencia, cuerpo, propiedades, entregas, publicado_en,
         format('sin confirmar tras %s entregas (máximo %s): el consumidor cayó o no respondió', entregas, $5::int)
  FROM muertos
  RETURNING 1
),
reclamados AS (
  UPDATE broker.mensajes m
  SET entregas = m.entregas + 1,
      consumidor = $3::uuid,
      visible_desde = now() + make_interval(secs => $4::double precision / 1000)
  FROM candidatos c
  WHERE m.id = c.id AND c.entregas < $5 AND ${ASINCRONO}
  RETURNING m.id, m.clave, m.productor, m.secuencia, m.cuerpo, m.propiedades, m.entregas
)
SELECT r.id, r.clave, r.productor, r.secuencia, r.cuerpo, r.propiedades, r.entregas, false AS muerto
FROM reclamados r
UNION ALL
SELECT m.id, NULL, NULL, NULL, NULL, NULL, NULL, true FROM muertos m
ORDER BY 1`;

/** Parámetros de {@link SQL_RECLAMAR}, en orden. */
export function parametrosReclamar(p: {
  readonly idSuscripcion: number;
  readonly lote: number;
  readonly consumidor: string;
  readonly leaseMs: number;
  readonly maximoEntregas: number;
  readonly ventana?: number;
}): unknown[] {
  const ventana = p.ventana ?? Math.max(5000, p.lote * 20);
  return [p.idSuscripcion, p.lote, p.consumidor, p.leaseMs, p.maximoEntregas, ventana];
}

/** Confirma un lote: borra las filas que siguen siendo de este consumidor. $1 ids bigint[], $2 consumidor. */
export const SQL_CONFIRMAR = `
DELETE FROM broker.mensajes WHERE id = ANY($1::bigint[]) AND consumidor = $2::uuid AND ${ASINCRONO}`;

/**
 * Renueva los leases de lo que este consumidor tiene y devuelve los ids renovados: uno que falte ya no
 * es suyo (su lease venció y otro lo reclamó, o se confirmó). $1 ids, $2 consumidor, $3 lease en ms.
 */
export const SQL_RENOVAR = `
UPDATE broker.mensajes
SET visible_desde = now() + make_interval(secs => $3::double precision / 1000)
WHERE id = ANY($1::bigint[]) AND consumidor = $2::uuid AND ${ASINCRONO}
RETURNING id::text AS id`;

/**
 * Devuelve a la cola lo que un consumidor tenía (al cerrarse): visible ya para los demás. A lo que
 * estaba en el búfer de prefetch (nunca se entregó a la aplicación) se le descuenta la entrega.
 * $1 ids entregados, $2 ids del búfer, $3 consumidor, $4 tópico (aviso).
 */
export const SQL_LIBERAR = `
WITH liberados AS (
  UPDATE broker.mensajes
  SET consumidor = NULL,
      visible_desde = now(),
      entregas = CASE WHEN id = ANY($2::bigint[]) THEN entregas - 1 ELSE entregas END
  WHERE (id = ANY($1::bigint[]) OR id = ANY($2::bigint[])) AND consumidor = $3::uuid AND ${ASINCRONO}
  RETURNING 1
)
SELECT n.liberados, CASE WHEN n.liberados > 0 THEN pg_notify('${CANAL_AVISOS}', $4) END AS aviso
FROM (SELECT count(*)::int AS liberados FROM liberados) n`;

/**
 * Rechaza un mensaje: vuelve a la cola tras `$4` ms, o a muertos si ya agotó sus entregas.
 * $1 id, $2 consumidor, $3 máximo de entregas, $4 retraso en ms.
 */
export const SQL_RECHAZAR = `
WITH muertos AS (
  DELETE FROM broker.mensajes
  WHERE id = $1 AND consumidor = $2::uuid AND entregas >= $3 AND ${ASINCRONO}
  RETURNING *
),
archivados AS (
  INSERT INTO broker.muertos (id, id_suscripcion, clave, productor, secuencia, cuerpo, propiedades, entregas, publicado_en, motivo)
  SELECT id, id_suscripcion, clave, productor, secuencia, cuerpo, propiedades, entregas, publicado_en,
         format('rechazado en %s entregas (máximo %s)', entregas, $3::int)
  FROM muertos
  RETURNING 1
),
reintentos AS (
  UPDATE broker.mensajes
  SET consumidor = NULL, visible_desde = now() + make_interval(secs => $4::double precision / 1000)
  WHERE id = $1 AND consumidor = $2::uuid AND entregas < $3 AND ${ASINCRONO}
  RETURNING 1
)
SELECT (SELECT count(*) FROM archivados)::int AS muertos, (SELECT count(*) FROM reintentos)::int AS reintentos`;

/** Manda un mensaje a muertos con un motivo. $1 id, $2 consumidor, $3 motivo. */
export const SQL_A_MUERTOS = `
WITH muertos AS (
  DELETE FROM broker.mensajes WHERE id = $1 AND consumidor = $2::uuid AND ${ASINCRONO} RETURNING *
)
INSERT INTO broker.muertos (id, id_suscripcion, clave, productor, secuencia, cuerpo, propiedades, entregas, publicado_en, motivo)
SELECT id, id_suscripcion, clave, productor, secuencia, cuerpo, propiedades, entregas, publicado_en, $3
FROM muertos`;

/** Mensajes muertos de una suscripción, en orden de llegada. $1 tópico, $2 suscripción. */
export const SQL_MUERTOS = `
SELECT d.id, d.clave, d.productor, d.secuencia, d.cuerpo, d.propiedades, d.entregas, d.motivo
FROM broker.muertos d
JOIN broker.suscripciones s ON s.id = d.id_suscripcion
WHERE s.topico = $1 AND s.nombre = $2
ORDER BY d.muerto_en, d.id`;
