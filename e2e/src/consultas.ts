import type pg from 'pg';

/**
 * Consultas de verificación sobre la base de una topología: lo que cada etapa dejó escrito (outbox,
 * inbox, historial, libro de la pasarela simulada, broker embebido). Solo lectura.
 */

export interface CargoEnLibro {
  readonly id_pago: string;
  readonly clave_idempotencia: string;
  readonly resultado: 'exitoso' | 'rechazado';
  readonly referencia_transaccion: string | null;
  readonly mensaje: string | null;
  readonly id_correlacion: string;
}

/** Todas las filas del libro de la pasarela simulada, agrupadas por pago. */
export async function libroPorPago(pool: pg.Pool): Promise<Map<string, CargoEnLibro[]>> {
  const { rows } = await pool.query<CargoEnLibro>(
    `SELECT id_pago::text AS id_pago, clave_idempotencia, resultado, referencia_transaccion, mensaje, id_correlacion
     FROM pasarela_simulada.cargos ORDER BY creado_en`,
  );
  return agrupar(rows, (f) => f.id_pago);
}

export interface EventoEnOutbox {
  readonly id_evento: string;
  readonly id_agregado: string;
  readonly version_agregado: number;
  readonly tipo: string;
  readonly secuencia: string | null;
  readonly productor: string | null;
  readonly publicado: boolean;
  readonly id_correlacion: string | null;
}

export async function outboxPorPago(pool: pg.Pool): Promise<Map<string, EventoEnOutbox[]>> {
  const { rows } = await pool.query<EventoEnOutbox>(
    `SELECT id_evento::text AS id_evento, id_agregado::text AS id_agregado, version_agregado, tipo,
            secuencia::text AS secuencia, productor, fecha_publicacion IS NOT NULL AS publicado,
            metadatos->>'id_correlacion' AS id_correlacion
     FROM outbox ORDER BY version_agregado, id`,
  );
  return agrupar(rows, (f) => f.id_agregado);
}

export interface AnotacionEnInbox {
  readonly suscripcion: string;
  readonly id_evento: string;
  readonly id_pago: string;
  readonly tipo_evento: string;
  readonly version: number;
  readonly procesado_en: Date;
}

export async function inbox(pool: pg.Pool): Promise<AnotacionEnInbox[]> {
  const { rows } = await pool.query<AnotacionEnInbox>(
    `SELECT suscripcion, id_evento::text AS id_evento, id_pago::text AS id_pago, tipo_evento, version, procesado_en
     FROM inbox ORDER BY procesado_en`,
  );
  return rows;
}

export interface EntradaHistorial {
  readonly id_pago: string;
  readonly estado: string;
  readonly version: number;
  readonly tipo_evento: string;
  readonly id_correlacion: string;
}

export async function historialPorPago(pool: pg.Pool): Promise<Map<string, EntradaHistorial[]>> {
  const { rows } = await pool.query<EntradaHistorial>(
    `SELECT id_pago::text AS id_pago, estado, version, tipo_evento, id_correlacion FROM historial_pagos ORDER BY id_pago, version, id`,
  );
  return agrupar(rows, (f) => f.id_pago);
}

export interface MensajeMuerto {
  readonly clave: string;
  readonly productor: string;
  readonly secuencia: string;
  readonly cuerpo: string;
  readonly propiedades: Record<string, string>;
  readonly entregas: number;
  readonly motivo: string;
}

export async function mensajesMuertos(pool: pg.Pool): Promise<MensajeMuerto[]> {
  const { rows } = await pool.query<MensajeMuerto>(
    `SELECT clave, productor, secuencia::text AS secuencia, cuerpo, propiedades, entregas, motivo FROM broker.muertos ORDER BY id`,
  );
  return rows;
}

/** Mensajes aún en la cola del broker embebido (sin confirmar), de todas las suscripciones. */
export async function mensajesEnCola(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM broker.mensajes');
  return rows[0]?.n ?? 0;
}

function agrupar<T>(filas: readonly T[], clave: (f: T) => string): Map<string, T[]> {
  const grupos = new Map<string, T[]>();
  for (const f of filas) {
    const k = clave(f);
    const grupo = grupos.get(k);
    if (grupo) grupo.push(f);
    else grupos.set(k, [f]);
  }
  return grupos;
}
