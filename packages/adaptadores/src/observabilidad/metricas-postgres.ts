import type { Registry } from 'prom-client';
import type { PoolPostgres } from '../postgres/pool-postgres.js';
import { indicadorConsultado, PREFIJO_METRICAS } from './metricas.js';

/**
 * Indicadores que se leen de PostgreSQL al raspar `/metrics`, con una consulta barata (por índice) y un
 * tope corto: si la base tarda, el raspado sigue sin ellos.
 */

const EN_CURSO = ['PENDIENTE', 'PROCESANDO'] as const;

/**
 * `aeropartners_pagos_pagos_en_curso{estado}`: pagos en PENDIENTE y en PROCESANDO. Un rango del índice
 * `pagos_estado_id`, acotado por el trabajo en curso: ningún recuento de la tabla entera por raspado (los
 * pagos terminados se cuentan en el consumidor, `aeropartners_pagos_pagos_finalizados_total{estado}`).
 */
export function registrarPagosEnCurso(registro: Registry, pool: PoolPostgres, tiempoMaximoMs = 1000): void {
  indicadorConsultado(
    registro,
    `${PREFIJO_METRICAS}pagos_en_curso`,
    'Pagos aún sin estado final, por estado (PENDIENTE, PROCESANDO), leídos de la base al raspar.',
    ['estado'],
    async () => {
      const { rows } = await pool.query<{ estado: string; n: number }>(
        `SELECT estado, count(*)::float8 AS n FROM pagos WHERE estado IN ('PENDIENTE', 'PROCESANDO') GROUP BY estado`,
      );
      const porEstado = new Map(rows.map((f) => [f.estado, Number(f.n)]));
      return EN_CURSO.map((estado) => [{ estado }, porEstado.get(estado) ?? 0] as const);
    },
    tiempoMaximoMs,
  );
}

/**
 * `aeropartners_pagos_outbox_pendientes` y `aeropartners_pagos_outbox_retraso_seconds` (antigüedad de
 * la fila pendiente más vieja; 0 sin pendientes), con una sola consulta por el índice parcial
 * `outbox_pendientes`. Para el relay.
 */
export function registrarOutbox(registro: Registry, pool: PoolPostgres, tiempoMaximoMs = 1000): void {
  let ultima: Promise<{ n: number; retraso: number }> | undefined;
  // prom-client recoge los dos indicadores a la vez en cada raspado: comparten la consulta en curso.
  const leer = () =>
    (ultima ??= pool
      .query<{ n: number; retraso: number | null }>(
        `SELECT count(*)::float8 AS n, EXTRACT(EPOCH FROM clock_timestamp() - min(fecha_creacion))::float8 AS retraso
         FROM outbox WHERE fecha_publicacion IS NULL`,
      )
      .then(({ rows }) => ({ n: Number(rows[0]?.n ?? 0), retraso: Math.max(0, Number(rows[0]?.retraso ?? 0)) }))
      .finally(() => {
        ultima = undefined;
      }));
  indicadorConsultado(
    registro,
    `${PREFIJO_METRICAS}outbox_pendientes`,
    'Eventos del outbox aún sin publicar (consulta al raspar).',
    [],
    async () => [[{}, (await leer()).n]],
    tiempoMaximoMs,
  );
  indicadorConsultado(
    registro,
    `${PREFIJO_METRICAS}outbox_retraso_seconds`,
    'Antigüedad del evento pendiente más viejo del outbox, en segundos (0 si no hay ninguno).',
    [],
    async () => [[{}, (await leer()).retraso]],
    tiempoMaximoMs,
  );
}
