import pg from 'pg';
import type { TopologiaLocal } from './topologia-local.js';

/**
 * Muestras periódicas mientras corre el experimento: estados de los pagos de la corrida, outbox
 * pendiente y cola del broker (de la base) y contadores de `/health` de cada relay y cada consumidor
 * (con el pid de cada muestra, porque un proceso relanzado empieza de cero).
 */

export interface MuestraEstados {
  readonly segundo: number;
  readonly PENDIENTE: number;
  readonly PROCESANDO: number;
  readonly EXITOSO: number;
  readonly FALLIDO: number;
  readonly outboxPendiente: number;
  readonly cola: number;
}

export interface MuestraContadores {
  readonly segundo: number;
  readonly servicio: 'outbox' | 'consumer';
  readonly instancia: number;
  readonly pid: number;
  readonly contadores: Record<string, number>;
}

export interface Muestreo {
  readonly estados: MuestraEstados[];
  readonly contadores: MuestraContadores[];
  /** Consultas a la base que fallaron (p. ej. con PostgreSQL caído). */
  fallosBase: number;
  ultimo(): MuestraEstados | undefined;
  parar(): Promise<void>;
}

export function crearPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 3, connectionTimeoutMillis: 5000, application_name: 'experimento' });
  pool.on('error', () => undefined); // conexiones ociosas cortadas por un reinicio o una caída de PostgreSQL: se reabren solas
  return pool;
}

/** Pagos de la corrida por estado, y lo pendiente del outbox y de la cola del broker. */
export async function estadosDeLaCorrida(pool: pg.Pool, socios: readonly string[]): Promise<Omit<MuestraEstados, 'segundo'>> {
  const { rows } = await pool.query<{ estado: string; n: number }>(
    `SELECT estado, count(*)::int AS n FROM pagos WHERE id_socio = ANY($1::text[]) GROUP BY estado`,
    [socios],
  );
  const { rows: extra } = await pool.query<{ outbox: number; cola: number }>(
    `SELECT (SELECT count(*)::int FROM outbox WHERE fecha_publicacion IS NULL) AS outbox,
            CASE WHEN to_regclass('broker.mensajes') IS NULL THEN 0 ELSE (SELECT count(*)::int FROM broker.mensajes) END AS cola`,
  );
  const e = Object.fromEntries(rows.map((f) => [f.estado, f.n]));
  return {
    PENDIENTE: e['PENDIENTE'] ?? 0,
    PROCESANDO: e['PROCESANDO'] ?? 0,
    EXITOSO: e['EXITOSO'] ?? 0,
    FALLIDO: e['FALLIDO'] ?? 0,
    outboxPendiente: extra[0]?.outbox ?? 0,
    cola: extra[0]?.cola ?? 0,
  };
}

export function iniciarMuestreo(o: {
  readonly pool: pg.Pool | undefined;
  readonly topologia: TopologiaLocal | undefined;
  /** Los socios de la corrida: sus pagos son los de la corrida. */
  readonly socios: readonly string[];
  readonly t0: number;
}): Muestreo {
  const estados: MuestraEstados[] = [];
  const contadores: MuestraContadores[] = [];
  let activo = true;
  const segundo = () => Math.round((performance.now() - o.t0) / 100) / 10;
  const m: Muestreo = {
    estados,
    contadores,
    fallosBase: 0,
    ultimo: () => estados.at(-1),
    parar: async () => {
      activo = false;
      await Promise.all(bucles);
    },
  };
  const muestrearBase = async () => {
    if (!o.pool) return;
    try {
      const s = segundo();
      estados.push({ segundo: s, ...(await estadosDeLaCorrida(o.pool, o.socios)) });
    } catch {
      m.fallosBase += 1;
    }
  };
  const muestrearSalud = async () => {
    const t = o.topologia;
    if (!t) return;
    const instancias = (['outbox', 'consumer'] as const).flatMap((servicio) => {
      try {
        return t.instancias(servicio).map((i) => ({ servicio, numero: i.numero }));
      } catch {
        return [];
      }
    });
    await Promise.all(
      instancias.map(async ({ servicio, numero }) => {
        const c = await t.contadores(servicio, numero);
        if (c) contadores.push({ segundo: segundo(), servicio, instancia: numero, pid: c.pid, contadores: c.contadores });
      }),
    );
  };
  const bucle = async (cada: number, f: () => Promise<void>) => {
    while (activo) {
      const inicio = performance.now();
      await f();
      const resto = cada - (performance.now() - inicio);
      if (resto > 0 && activo) await new Promise((r) => setTimeout(r, resto));
    }
    await f(); // una última muestra al parar
  };
  const bucles = [bucle(1000, muestrearBase), bucle(1000, muestrearSalud)];
  return m;
}
