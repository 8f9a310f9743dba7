import { setTimeout as esperar } from 'node:timers/promises';
import type { ClientePostgres, PoolPostgres } from '../pool-postgres.js';

/** Canal de `NOTIFY` con el ámbito (`id_socio modo`) de cada lote numerado (migración 0009). */
export const CANAL_EVENTOS = 'aeropartners_eventos';

/** Las fuentes del registro: tablas de solo inserción con id de identidad (migraciones 0009 y 0011). */
const FUENTES = ['pagos', 'conversiones', 'duplicados', 'avisos'] as const;
type Fuente = (typeof FUENTES)[number];
const TABLA: Readonly<Record<Fuente, string>> = {
  pagos: 'historial_pagos',
  conversiones: 'historial_conversiones',
  duplicados: 'duplicados_absorbidos',
  avisos: 'avisos_socio',
};

/**
 * Hasta qué id de cada fuente se ha repartido ya un valor. Se lee ANTES de mirar quién está escribiendo:
 * quien tiene un id menor que este lo obtuvo antes, así que ya tenía abierta su inserción.
 */
const SQL_IDS_REPARTIDOS = `
SELECT ${FUENTES.map((f) => `coalesce(pg_sequence_last_value(pg_get_serial_sequence('${TABLA[f]}', 'id')::regclass), 0)::text AS ${f}`).join(', ')}`;

/**
 * Las transacciones que ahora mismo pueden estar insertando en alguna fuente (tienen su cerrojo
 * RowExclusive). Solo se leen: a nadie se bloquea (la misma espera que `CREATE INDEX CONCURRENTLY`).
 */
const SQL_ESCRITORES = `
SELECT coalesce(array_agg(DISTINCT virtualtransaction), '{}') AS escritores FROM pg_locks
WHERE locktype = 'relation' AND mode = 'RowExclusiveLock' AND granted AND pid <> pg_backend_pid()
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND relation IN (${FUENTES.map((f) => `'${TABLA[f]}'::regclass`).join(', ')})`;

const SQL_SIGUEN_VIVOS = `
SELECT count(*)::int AS vivos FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY($1::text[])`;

/** Mapeo de `historial_conversiones.tipo` (issue 12) al tipo público del evento. */
const TIPO_CONVERSION = `CASE c.tipo
    WHEN 'HechoAplicado' THEN 'conversion.' || lower(coalesce(c.estado, 'aplicada'))
    WHEN 'HechoRecibido' THEN 'conversion.recibida'
    WHEN 'ConversionHuerfana' THEN 'conversion.huerfana'
    WHEN 'ComisionPagada' THEN 'comision.pagada'
    WHEN 'ComisionLiberada' THEN 'comision.liberada'
    ELSE 'conversion.' || lower(c.tipo) END`;

/**
 * Numera un lote de cada fuente: las filas con id en (cursor, hasta] (todas ya confirmadas o
 * abortadas), en orden de id dentro de cada fuente, con la secuencia siguiente de su ámbito. Una sola
 * sentencia; la ejecuta quien tiene bloqueadas las filas de `eventos_cursores`.
 */
const SQL_NUMERAR = `
WITH
  p AS (SELECT * FROM historial_pagos WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $7),
  c AS (SELECT * FROM historial_conversiones WHERE id > $3 AND id <= $4 ORDER BY id LIMIT $7),
  d AS (SELECT * FROM duplicados_absorbidos WHERE id > $5 AND id <= $6 ORDER BY id LIMIT $7),
  a AS (SELECT * FROM avisos_socio WHERE id > $8 AND id <= $9 ORDER BY id LIMIT $7),
  fuente AS (
    SELECT 1 AS orden_fuente, 'pagos' AS fuente, p.id AS id_fuente, g.id_socio, g.modo, 'pago.' || lower(p.estado) AS tipo,
           p.id_pago::text AS sujeto, p.ocurrido_en, coalesce(p.id_solicitud, o.metadatos ->> 'id_solicitud') AS id_solicitud,
           nullif(split_part(o.metadatos ->> 'traceparent', '-', 2), '') AS id_traza, p.id_correlacion,
           jsonb_build_object('id_pago', p.id_pago, 'estado', p.estado, 'version', p.version, 'id_evento', p.id_evento,
                              'id_afiliado', g.id_afiliado, 'monto_unidades', g.monto_unidades, 'moneda', g.moneda,
                              'referencia_pago', g.referencia_pago) AS datos
    FROM p JOIN pagos g ON g.id = p.id_pago LEFT JOIN outbox o ON o.id_evento = p.id_evento
    UNION ALL
    SELECT 2, 'conversiones', c.id, c.id_socio, c.modo, ${TIPO_CONVERSION}, c.id_conversion, c.ocurrido_en,
           o.metadatos ->> 'id_solicitud', nullif(split_part(o.metadatos ->> 'traceparent', '-', 2), ''), c.id_correlacion,
           jsonb_build_object('id_conversion', c.id_conversion, 'estado', c.estado, 'id_evento', c.id_evento, 'detalle', c.detalle)
    FROM c
    -- La petición y la traza del hecho que causó el paso (recibido o aplicado): las del evento de outbox del hecho.
    LEFT JOIN hechos_conversion h ON h.id_socio = c.id_socio AND h.modo = c.modo AND h.id_evento = c.id_evento
    LEFT JOIN outbox o ON o.id_evento = h.id_mensaje
    UNION ALL
    SELECT 3, 'duplicados', d.id, d.id_socio, d.modo, 'duplicado.absorbido', d.sujeto, d.ocurrido_en, d.id_solicitud, d.id_traza,
           NULL, jsonb_build_object('etapa', d.etapa, 'clave', d.clave, 'veces', d.veces)
    FROM d
    UNION ALL
    SELECT 4, 'avisos', a.id, a.id_socio, a.modo, a.tipo, a.sujeto, a.ocurrido_en, NULL, NULL, NULL, a.datos
    FROM a
  ),
  numeradas AS (
    SELECT f.*, row_number() OVER (PARTITION BY f.id_socio, f.modo ORDER BY f.orden_fuente, f.id_fuente) AS n FROM fuente f
  ),
  totales AS (SELECT id_socio, modo, count(*) AS total FROM numeradas GROUP BY id_socio, modo),
  contadores AS (
    INSERT INTO eventos_contadores (id_socio, modo, ultima)
    SELECT id_socio, modo, total FROM totales ORDER BY id_socio, modo
    ON CONFLICT (id_socio, modo) DO UPDATE SET ultima = eventos_contadores.ultima + EXCLUDED.ultima
    RETURNING id_socio, modo, ultima
  ),
  insertados AS (
    INSERT INTO eventos_socio (id_socio, modo, secuencia, tipo, sujeto, ocurrido_en, id_solicitud, id_traza, id_correlacion, datos,
                               fuente, id_fuente)
    SELECT n.id_socio, n.modo, k.ultima - t.total + n.n, n.tipo, n.sujeto, n.ocurrido_en, n.id_solicitud, n.id_traza,
           n.id_correlacion, n.datos, n.fuente, n.id_fuente
    FROM numeradas n JOIN totales t USING (id_socio, modo) JOIN contadores k USING (id_socio, modo)
    RETURNING 1
  )
SELECT (SELECT count(*) FROM p)::int AS n_pagos, (SELECT max(id) FROM p)::text AS max_pagos,
       (SELECT count(*) FROM c)::int AS n_conversiones, (SELECT max(id) FROM c)::text AS max_conversiones,
       (SELECT count(*) FROM d)::int AS n_duplicados, (SELECT max(id) FROM d)::text AS max_duplicados,
       (SELECT count(*) FROM a)::int AS n_avisos, (SELECT max(id) FROM a)::text AS max_avisos,
       (SELECT count(*) FROM insertados)::int AS numerados,
       (SELECT coalesce(array_agg(id_socio || ' ' || modo), '{}') FROM totales) AS ambitos`;

interface FilaNumeradas {
  readonly n_pagos: number;
  readonly max_pagos: string | null;
  readonly n_conversiones: number;
  readonly max_conversiones: string | null;
  readonly n_duplicados: number;
  readonly max_duplicados: string | null;
  readonly n_avisos: number;
  readonly max_avisos: string | null;
  readonly numerados: number;
  readonly ambitos: string[];
}

export interface OpcionesAsignadorEventos {
  readonly pool: PoolPostgres;
  /** Filas como mucho por fuente y lote. Por defecto 2 000. */
  readonly lote?: number;
  /** Espera máxima a que terminen los escritores en curso antes de dejar la ronda para la siguiente. Por defecto 5 000 ms. */
  readonly esperaEscritoresMs?: number;
}

export type ResultadoRonda =
  | { readonly tipo: 'numerados'; readonly numerados: number; readonly ambitos: readonly string[]; readonly quedan: boolean }
  | { readonly tipo: 'ocupado' }
  | { readonly tipo: 'escritores-lentos' };

/**
 * El asignador de secuencias del registro de eventos (decisión 0160). Cualquier instancia puede
 * ejecutar rondas: la fila de cada fuente en `eventos_cursores` se bloquea (`NOWAIT`) mientras se numera,
 * así que numera una a la vez y las demás se saltan la ronda.
 *
 * Por qué se espera a los escritores: los ids de identidad se reparten al insertar, no al confirmar; una
 * fila con id menor puede hacerse visible después de otra con id mayor. Antes de numerar hasta `hasta`, se
 * espera a que termine toda transacción que tenía abierta una inserción en una fuente cuando se leyó
 * `hasta`: desde entonces, cada fila con id ≤ `hasta` está confirmada (y se ve) o no existirá nunca. El
 * feed solo muestra filas numeradas, y un lote se confirma entero: nunca se ve la secuencia N+1 sin la N.
 */
export class PostgresAsignadorEventos {
  readonly #pool: PoolPostgres;
  readonly #lote: number;
  readonly #esperaEscritoresMs: number;

  constructor(opciones: OpcionesAsignadorEventos) {
    this.#pool = opciones.pool;
    this.#lote = opciones.lote ?? 2000;
    this.#esperaEscritoresMs = opciones.esperaEscritoresMs ?? 5000;
  }

  /** Una ronda: numera hasta un lote por fuente. `quedan`: se llenó algún lote (hay más esperando). */
  async ronda(): Promise<ResultadoRonda> {
    const cliente = await this.#pool.connect();
    let roto: Error | undefined;
    try {
      const { rows: repartidos } = await cliente.query<Record<Fuente, string>>(SQL_IDS_REPARTIDOS);
      const hasta = repartidos[0];
      if (!hasta) throw new Error('La lectura de los ids repartidos no devolvió ninguna fila');
      const { rows: escritores } = await cliente.query<{ escritores: string[] }>(SQL_ESCRITORES);
      if (!(await this.#esperarA(cliente, escritores[0]?.escritores ?? []))) return { tipo: 'escritores-lentos' };
      return await this.#numerar(cliente, hasta);
    } catch (error) {
      roto = error instanceof Error ? error : new Error(String(error));
      throw new Error('El asignador de eventos no pudo numerar la ronda', { cause: error });
    } finally {
      cliente.release(roto);
    }
  }

  async #esperarA(cliente: ClientePostgres, escritores: readonly string[]): Promise<boolean> {
    if (escritores.length === 0) return true;
    const limite = performance.now() + this.#esperaEscritoresMs;
    for (let pausa = 1; ; pausa = Math.min(pausa * 2, 20)) {
      const { rows } = await cliente.query<{ vivos: number }>(SQL_SIGUEN_VIVOS, [escritores]);
      if ((rows[0]?.vivos ?? 0) === 0) return true;
      if (performance.now() > limite) return false;
      await esperar(pausa);
    }
  }

  async #numerar(cliente: ClientePostgres, hasta: Record<Fuente, string>): Promise<ResultadoRonda> {
    await cliente.query('BEGIN');
    try {
      let cursores: { fuente: Fuente; ultimo_id: string }[];
      try {
        ({ rows: cursores } = await cliente.query<{ fuente: Fuente; ultimo_id: string }>(
          'SELECT fuente, ultimo_id::text FROM eventos_cursores ORDER BY fuente FOR UPDATE NOWAIT',
        ));
      } catch (error) {
        if (codigo(error) === '55P03') {
          await cliente.query('ROLLBACK');
          return { tipo: 'ocupado' };
        }
        throw error;
      }
      const desde = (f: Fuente) => cursores.find((c) => c.fuente === f)?.ultimo_id ?? '0';
      const { rows } = await cliente.query<FilaNumeradas>(SQL_NUMERAR, [
        desde('pagos'),
        hasta.pagos,
        desde('conversiones'),
        hasta.conversiones,
        desde('duplicados'),
        hasta.duplicados,
        this.#lote,
        desde('avisos'),
        hasta.avisos,
      ]);
      const r = rows[0];
      if (!r) throw new Error('La numeración no devolvió su resumen');
      // Lote lleno: el cursor llega hasta lo numerado; si no, hasta `hasta` (lo demás del rango no existe).
      const nuevo = (f: Fuente, n: number, max: string | null) => (n >= this.#lote && max !== null ? max : hasta[f]);
      const nuevos = [nuevo('pagos', r.n_pagos, r.max_pagos), nuevo('conversiones', r.n_conversiones, r.max_conversiones)];
      nuevos.push(nuevo('duplicados', r.n_duplicados, r.max_duplicados), nuevo('avisos', r.n_avisos, r.max_avisos));
      await cliente.query(
        `UPDATE eventos_cursores c SET ultimo_id = GREATEST(c.ultimo_id, v.hasta)
         FROM unnest($1::text[], $2::int8[]) AS v(fuente, hasta) WHERE c.fuente = v.fuente`,
        [[...FUENTES], nuevos],
      );
      if (r.ambitos.length > 0) {
        await cliente.query(`SELECT pg_notify('${CANAL_EVENTOS}', a) FROM unnest($1::text[]) AS a`, [r.ambitos]);
      }
      await cliente.query('COMMIT');
      const quedan = [r.n_pagos, r.n_conversiones, r.n_duplicados, r.n_avisos].some((n) => n >= this.#lote);
      return { tipo: 'numerados', numerados: r.numerados, ambitos: r.ambitos, quedan };
    } catch (error) {
      await cliente.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}

function codigo(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

export interface OpcionesIniciarAsignador extends OpcionesAsignadorEventos {
  /** Pausa entre rondas sin nada pendiente. Por defecto 50 ms. */
  readonly intervaloMs?: number;
  readonly alError?: (error: Error) => void;
}

export interface AsignadorEnMarcha {
  /** Termina la ronda en curso y para. */
  detener(): Promise<void>;
}

/** Rondas seguidas mientras haya lotes llenos; si no, una cada `intervaloMs`. Un fallo se avisa y se reintenta. */
export function iniciarAsignadorEventos(opciones: OpcionesIniciarAsignador): AsignadorEnMarcha {
  const asignador = new PostgresAsignadorEventos(opciones);
  const intervalo = opciones.intervaloMs ?? 50;
  const parar = new AbortController();
  const bucle = (async () => {
    while (!parar.signal.aborted) {
      let pausa = intervalo;
      try {
        const r = await asignador.ronda();
        if (r.tipo === 'numerados' && r.quedan) pausa = 0;
      } catch (error) {
        // Sin base (caída, reinicio): un aviso por segundo, no uno por ronda.
        opciones.alError?.(error instanceof Error ? error : new Error(String(error)));
        pausa = Math.max(intervalo, 1000);
      }
      if (pausa > 0) await esperar(pausa, undefined, { signal: parar.signal }).catch(() => undefined);
    }
  })();
  return {
    async detener() {
      parar.abort();
      await bucle;
    },
  };
}
