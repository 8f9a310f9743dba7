import { BARRIDO_POR_DEFECTO, crearBarrendero, type Barrendero, type UmbralesAtasco } from '@aeropartners/aplicacion';
import type { Registry } from 'prom-client';
import * as v from 'valibot';
import { booleanoEnv, conDescripcion, enteroEnv } from '../config/configuracion.js';
import type { Logger } from '../observabilidad/logger.js';
import { registrarMetricasAtascos } from '../observabilidad/metricas-atascos.js';
import type { PoolPostgres } from './pool-postgres.js';
import { PostgresPagosAtascados } from './postgres-pagos-atascados.js';

/**
 * Las variables del barrendero, listas para el esquema de configuración de un servicio
 * (`v.object({ ...VARIABLES_BARRENDERO, … })`); {@link configuracionBarrendero} las convierte en opciones.
 * Sin valor, los umbrales y el periodo salen de la pasarela (`BARRIDO_POR_DEFECTO`).
 */
export const VARIABLES_BARRENDERO = {
  BARRENDERO: conDescripcion(
    v.optional(booleanoEnv('BARRENDERO'), 'true'),
    'Barrendero de pagos atascados en este proceso: re-impulsa (vuelve a encolar su PagoPendiente en el outbox) los pagos en PENDIENTE o PROCESANDO más que su umbral y sin turno de cobro vigente. Varios consumidores con él no se estorban.',
  ),
  BARRENDERO_PERIODO_MS: conDescripcion(
    v.optional(enteroEnv('BARRENDERO_PERIODO_MS', 1_000, 86_400_000)),
    'Espera entre pasadas del barrendero, en ms. Por defecto 30000 con la pasarela simulada y 60000 con Stripe.',
  ),
  BARRENDERO_UMBRAL_PENDIENTE_MS: conDescripcion(
    v.optional(enteroEnv('BARRENDERO_UMBRAL_PENDIENTE_MS', 1_000, 604_800_000)),
    'Tiempo en PENDIENTE (con su evento publicado hace al menos otro tanto) a partir del cual un pago está atascado, en ms. Por defecto 120000 con la simulada y 300000 con Stripe.',
  ),
  BARRENDERO_UMBRAL_PROCESANDO_MS: conDescripcion(
    v.optional(enteroEnv('BARRENDERO_UMBRAL_PROCESANDO_MS', 1_000, 604_800_000)),
    'Tiempo en PROCESANDO sin turno de cobro vigente a partir del cual un pago está atascado, en ms. Por defecto 300000 con la simulada y 1800000 con Stripe (cada re-impulso cuesta una consulta a su API).',
  ),
  BARRENDERO_LOTE: conDescripcion(
    v.optional(enteroEnv('BARRENDERO_LOTE', 1, 10_000), '100'),
    'Pagos re-impulsados como mucho por estado y pasada (la sentencia es corta aunque haya muchos atascados).',
  ),
} as const;

export interface ConfiguracionBarrendero {
  readonly activo: boolean;
  readonly umbrales: UmbralesAtasco;
  readonly periodoMs: number;
  readonly lote: number;
}

/** Las opciones del barrendero desde la configuración leída (y la pasarela, que da los valores por defecto). */
export function configuracionBarrendero(config: {
  readonly PASARELA?: string;
  readonly BARRENDERO: boolean;
  readonly BARRENDERO_PERIODO_MS?: number | undefined;
  readonly BARRENDERO_UMBRAL_PENDIENTE_MS?: number | undefined;
  readonly BARRENDERO_UMBRAL_PROCESANDO_MS?: number | undefined;
  readonly BARRENDERO_LOTE: number;
}): ConfiguracionBarrendero {
  const base = BARRIDO_POR_DEFECTO[config.PASARELA === 'stripe' ? 'stripe' : 'simulada'];
  return {
    activo: config.BARRENDERO,
    umbrales: {
      PENDIENTE: config.BARRENDERO_UMBRAL_PENDIENTE_MS ?? base.umbrales.PENDIENTE,
      PROCESANDO: config.BARRENDERO_UMBRAL_PROCESANDO_MS ?? base.umbrales.PROCESANDO,
    },
    periodoMs: config.BARRENDERO_PERIODO_MS ?? base.periodoMs,
    lote: config.BARRENDERO_LOTE,
  };
}

export interface OpcionesIniciarBarrendero {
  /** El pool del servicio (una sentencia corta por estado y pasada). */
  readonly pool: PoolPostgres;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly umbrales: UmbralesAtasco;
  readonly periodoMs: number;
  readonly lote?: number;
  /** Si se da, registra en él las métricas de atascos y re-impulsos (`registrarMetricasAtascos`). */
  readonly metricas?: Registry;
}

export interface BarrenderoEnMarcha {
  readonly barrendero: Barrendero;
  /** Deja de barrer y espera la pasada en curso (llamar antes de cerrar el pool). */
  detener(): Promise<void>;
}

/**
 * Arranca el barrendero de pagos atascados sobre PostgreSQL: cada re-impulso queda en el registro con el
 * id del pago, su estado, su edad y cuántas veces se ha re-impulsado (y en `metadatos` de su fila del
 * outbox); una pasada fallida se registra y se reintenta en la siguiente.
 */
export function iniciarBarrendero(opciones: OpcionesIniciarBarrendero): BarrenderoEnMarcha {
  const { logger } = opciones;
  const atascados = new PostgresPagosAtascados(opciones.pool);
  const barrendero = crearBarrendero({
    atascados,
    umbrales: opciones.umbrales,
    periodoMs: opciones.periodoMs,
    ...(opciones.lote !== undefined && { lote: opciones.lote }),
    alReimpulsar: (pago) =>
      logger.warn(
        {
          id_pago: pago.idPago,
          estado: pago.estado,
          edad_s: Math.floor(pago.edadMs / 1000),
          desde: pago.desde.toISOString(),
          reimpulsos: pago.evento?.reimpulsos ?? null,
        },
        'pago atascado re-impulsado: su PagoPendiente vuelve al outbox y el consumidor lo manejará como una reentrega',
      ),
    alFallar: (error) =>
      logger.error({ err: error }, 'el barrendero de pagos atascados no completó una pasada; se reintenta en la siguiente'),
  });
  if (opciones.metricas) {
    registrarMetricasAtascos(opciones.metricas, { atascados, umbrales: opciones.umbrales, barrendero: () => barrendero.contadores() });
  }
  barrendero.iniciar();
  logger.info(
    {
      umbral_pendiente_ms: opciones.umbrales.PENDIENTE,
      umbral_procesando_ms: opciones.umbrales.PROCESANDO,
      periodo_ms: opciones.periodoMs,
    },
    'barrendero de pagos atascados iniciado',
  );
  return { barrendero, detener: () => barrendero.detener() };
}
