import {
  ESTADOS_ATASCABLES,
  esEstadoAtascable,
  evaluarAtasco,
  type ConsultaAtascados,
  type EstadoAtascable,
  type MedidaAtascos,
  type PagoAtascado,
  type PaginaAtascados,
  type PagosAtascados,
} from '@aeropartners/aplicacion';
import type { PoolPostgres } from './pool-postgres.js';

/**
 * Los pagos atascados en PostgreSQL (criterio: `evaluarAtasco` de aplicacion, aquí en SQL con el reloj
 * de la base). Cada sentencia examina como mucho `ventana` pagos de un estado por el índice
 * `pagos_estado_id (estado, id)`, en orden de id (UUIDv7: de creación), y llega al `PagoPendiente` de
 * cada uno por claves: `historial_pagos (id_pago, version = 1)` → `outbox (id_evento)`. Nada recorre la
 * tabla entera. Diseño: docs/decisiones/0030-barrendero-de-pagos-atascados.md.
 */

/** El cursor «desde el principio»: ningún UUID es menor. */
const UUID_CERO = '00000000-0000-0000-0000-000000000000';

/**
 * Los primeros `$3` pagos del estado `$1` tras el id `$2`, con lo que el criterio necesita: un recorrido
 * del índice en orden, sin volver a unir con `pagos` (el planificador podría recorrerla entera).
 */
const VENTANA = `
ventana AS MATERIALIZED (
  SELECT id, estado, fecha_actualizacion, turno_hasta FROM pagos WHERE estado = $1 AND id > $2::uuid ORDER BY id LIMIT $3
)`;

/** Cuántos pagos miró la ventana y el último (el cursor). */
const RESUMEN_VENTANA = `count(*)::int AS examinados, (SELECT u.id::text FROM ventana u ORDER BY u.id DESC LIMIT 1) AS ultimo`;

/** El criterio de atasco de `p` con umbral `$4` ms (edad en su estado y sin turno vigente). */
const ATASCADO = `
  p.fecha_actualizacion <= now() - make_interval(secs => $4::float8 / 1000)
  AND (p.turno_hasta IS NULL OR p.turno_hasta <= now())`;

const REIMPULSOS = (o: string) =>
  `CASE WHEN jsonb_typeof(${o}.metadatos -> 'reimpulsos') = 'number' THEN (${o}.metadatos ->> 'reimpulsos')::numeric::int ELSE 0 END`;

/** $1 estado, $2 tras el id, $3 ventana, $4 umbral en ms. */
const SQL_LISTAR = `
WITH ${VENTANA},
resumen AS (SELECT ${RESUMEN_VENTANA} FROM ventana),
atascados AS (
  SELECT p.id, p.estado, p.fecha_actualizacion, p.turno_hasta, o.id AS id_outbox, o.fecha_publicacion, ${REIMPULSOS('o')} AS reimpulsos
  FROM ventana p
  -- LATERAL con LIMIT: una búsqueda por clave por pago, sea cual sea el tamaño de las tablas.
  LEFT JOIN LATERAL (
    SELECT o.id, o.fecha_publicacion, o.metadatos
    FROM historial_pagos h JOIN outbox o ON o.id_evento = h.id_evento AND o.tipo = 'PagoPendiente'
    WHERE h.id_pago = p.id AND h.version = 1 AND h.tipo_evento = 'PagoPendiente'
    LIMIT 1
  ) o ON true
  WHERE ${ATASCADO}
)
SELECT r.examinados, r.ultimo, now() AS ahora, a.id::text AS id, a.estado, a.fecha_actualizacion AS desde, a.turno_hasta,
       a.id_outbox IS NOT NULL AS con_evento, a.fecha_publicacion, a.reimpulsos
FROM resumen r LEFT JOIN atascados a ON true
ORDER BY a.id`;

/**
 * Re-encola el `PagoPendiente` de hasta `$5` pagos atascados de la ventana cuyo evento se publicó hace
 * al menos el umbral: lo deja como una fila nueva del outbox (sin publicar, sin secuencia ni productor)
 * para que el relay lo numere y publique con una secuencia nueva. Traza en `metadatos` cuántas veces y
 * cuándo (el relay no publica esas claves). Una sola sentencia corta.
 *
 * Dos barrenderos a la vez: `FOR UPDATE OF o SKIP LOCKED` reparte las filas; y si una fila cambió tras
 * la instantánea de la sentencia (otro barrendero la re-encoló y confirmó), PostgreSQL vuelve a evaluar
 * la condición con su versión vigente (`fecha_publicacion` ya es NULL) y la descarta. Así un pago se
 * re-impulsa una vez hasta que el relay lo publique otra vez y pase el umbral.
 * $1 estado, $2 tras el id, $3 ventana, $4 umbral en ms, $5 lote.
 */
const SQL_REIMPULSAR = `
WITH ${VENTANA},
elegidos AS (
  SELECT p.id, p.estado, p.fecha_actualizacion, p.turno_hasta, o.id AS id_outbox
  FROM ventana p
  JOIN historial_pagos h ON h.id_pago = p.id AND h.version = 1
  JOIN outbox o ON o.id_evento = h.id_evento
  WHERE ${ATASCADO}
    AND h.tipo_evento = 'PagoPendiente' AND o.tipo = 'PagoPendiente'
    AND o.fecha_publicacion <= now() - make_interval(secs => $4::float8 / 1000)
  ORDER BY p.id
  LIMIT $5
  FOR UPDATE OF o SKIP LOCKED
),
reencolados AS (
  UPDATE outbox o
  SET fecha_publicacion = NULL, secuencia = NULL, productor = NULL, ultimo_error = NULL,
      metadatos = o.metadatos || jsonb_build_object('reimpulsos', ${REIMPULSOS('o')} + 1, 'reimpulsado_en', now())
  FROM elegidos e
  WHERE o.id = e.id_outbox
  RETURNING e.id, e.estado, e.fecha_actualizacion, e.turno_hasta, ${REIMPULSOS('o')} AS reimpulsos
),
resumen AS (
  SELECT ${RESUMEN_VENTANA},
         CASE WHEN EXISTS (SELECT 1 FROM reencolados) THEN pg_notify('outbox_nuevo', '') END AS aviso
  FROM ventana
)
SELECT r.examinados, r.ultimo, now() AS ahora, x.id::text AS id, x.estado, x.fecha_actualizacion AS desde, x.turno_hasta,
       x.id IS NOT NULL AS con_evento, NULL::timestamptz AS fecha_publicacion, x.reimpulsos
FROM resumen r LEFT JOIN reencolados x ON true
ORDER BY x.id`;

/**
 * Por estado, entre sus `$3` pagos más antiguos (por id): cuántos están atascados con su umbral y la
 * fecha del más antiguo sin turno vigente. $1 estados, $2 umbrales en ms, $3 ventana.
 */
const SQL_MEDIR = `
SELECT e.estado, now() AS ahora, m.examinados, m.atascados, m.mas_viejo
FROM unnest($1::text[], $2::float8[]) WITH ORDINALITY AS e(estado, umbral_ms, orden)
CROSS JOIN LATERAL (
  SELECT count(*)::int AS examinados,
         count(*) FILTER (
           WHERE w.fecha_actualizacion <= now() - make_interval(secs => e.umbral_ms / 1000)
             AND (w.turno_hasta IS NULL OR w.turno_hasta <= now())
         )::int AS atascados,
         min(w.fecha_actualizacion) FILTER (WHERE w.turno_hasta IS NULL OR w.turno_hasta <= now()) AS mas_viejo
  FROM (SELECT fecha_actualizacion, turno_hasta FROM pagos WHERE estado = e.estado ORDER BY id LIMIT $3) w
) m
ORDER BY e.orden`;

interface FilaVentana {
  examinados: number;
  ultimo: string | null;
  ahora: Date;
  id: string | null;
  estado: string | null;
  desde: Date | null;
  turno_hasta: Date | null;
  con_evento: boolean | null;
  fecha_publicacion: Date | null;
  reimpulsos: number | null;
}

export class PostgresPagosAtascados implements PagosAtascados {
  readonly #pool: PoolPostgres;

  constructor(pool: PoolPostgres) {
    this.#pool = pool;
  }

  async listar(consulta: ConsultaAtascados): Promise<PaginaAtascados> {
    validar(consulta);
    const { rows } = await this.#consultar<FilaVentana>('listar', SQL_LISTAR, [...parametros(consulta)]);
    return aPagina(rows, consulta, (f, ahora) => aPagoAtascado(f, ahora, consulta.umbralMs, false));
  }

  async reimpulsar(consulta: ConsultaAtascados & { readonly lote: number }): Promise<PaginaAtascados> {
    validar(consulta);
    entero('lote', consulta.lote);
    const { rows } = await this.#consultar<FilaVentana>('re-impulsar', SQL_REIMPULSAR, [...parametros(consulta), consulta.lote]);
    const pagina = aPagina(rows, consulta, (f, ahora) => aPagoAtascado(f, ahora, consulta.umbralMs, true));
    const ultimo = pagina.pagos.at(-1);
    return pagina.pagos.length >= consulta.lote && ultimo ? { pagos: pagina.pagos, siguiente: ultimo.idPago } : pagina;
  }

  async medir(umbrales: Readonly<Record<EstadoAtascable, number>>, ventana: number): Promise<readonly MedidaAtascos[]> {
    entero('ventana', ventana);
    for (const estado of ESTADOS_ATASCABLES) entero(`umbral de ${estado}`, umbrales[estado]);
    const { rows } = await this.#consultar<{
      estado: EstadoAtascable;
      ahora: Date;
      examinados: number;
      atascados: number;
      mas_viejo: Date | null;
    }>('medir', SQL_MEDIR, [ESTADOS_ATASCABLES, ESTADOS_ATASCABLES.map((e) => umbrales[e]), ventana]);
    return rows.map((f) => ({
      estado: f.estado,
      atascados: f.atascados,
      masViejoMs: f.mas_viejo ? Math.max(0, f.ahora.getTime() - f.mas_viejo.getTime()) : 0,
      completa: f.examinados < ventana,
    }));
  }

  async #consultar<F>(que: string, texto: string, valores: readonly unknown[]) {
    try {
      // Sin nombre: se planifica en cada llamada (pocas, periódicas) con el tamaño real de las tablas.
      return await this.#pool.query<F>({ text: texto, values: valores });
    } catch (causa) {
      throw new Error(`No se pudieron ${que} los pagos atascados en PostgreSQL`, { cause: causa });
    }
  }
}

function parametros(c: ConsultaAtascados): readonly unknown[] {
  return [c.estado, c.despuesDe ?? UUID_CERO, c.ventana, c.umbralMs];
}

function validar(c: ConsultaAtascados): void {
  if (!esEstadoAtascable(c.estado)) throw new RangeError(`Estado no atascable: ${String(c.estado)}`);
  entero('ventana', c.ventana);
  entero('umbralMs', c.umbralMs);
  if (c.despuesDe !== null && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(c.despuesDe)) {
    throw new RangeError(`Cursor inválido (se espera el id de un pago): ${c.despuesDe}`);
  }
}

function entero(nombre: string, valor: number): void {
  if (!Number.isSafeInteger(valor) || valor < 1) throw new RangeError(`${nombre} debe ser un entero ≥ 1 (recibido: ${String(valor)})`);
}

function aPagina(
  filas: readonly FilaVentana[],
  consulta: ConsultaAtascados,
  convertir: (f: FilaVentana, ahora: Date) => PagoAtascado | undefined,
): PaginaAtascados {
  const resumen = filas[0];
  if (!resumen) return { pagos: [], siguiente: null };
  const pagos = filas.flatMap((f) => (f.id === null ? [] : (convertir(f, resumen.ahora) ?? [])));
  return { pagos, siguiente: resumen.examinados >= consulta.ventana ? resumen.ultimo : null };
}

function aPagoAtascado(f: FilaVentana, ahora: Date, umbralMs: number, reencolado: boolean): PagoAtascado | undefined {
  const estado = f.estado;
  if (f.id === null || f.desde === null || !esEstadoAtascable(estado)) return undefined;
  const evento = f.con_evento ? { publicadoEn: f.fecha_publicacion, reimpulsos: f.reimpulsos ?? 0 } : null;
  const vista = { idPago: f.id, estado, desde: f.desde, turnoHasta: f.turno_hasta, evento };
  // Lo re-encolado se juzgó con la fila de antes (publicada hace más que el umbral): re-impulsable.
  const atasco = reencolado
    ? ({ atascado: true, edadMs: ahora.getTime() - f.desde.getTime(), reimpulsable: true } as const)
    : evaluarAtasco(vista, ahora, { PENDIENTE: umbralMs, PROCESANDO: umbralMs });
  if (!atasco.atascado) return undefined;
  return { idPago: f.id, estado, desde: f.desde, edadMs: atasco.edadMs, turnoHasta: f.turno_hasta, evento, atasco };
}
