import type { Registry } from 'prom-client';
import * as v from 'valibot';
import { conDescripcion, enteroEnv } from '../config/configuracion.js';
import type { Logger } from '../observabilidad/logger.js';
import { registrarMetricasRetencion } from '../observabilidad/metricas-retencion.js';
import type { PoolPostgres } from './pool-postgres.js';
import { purgarRetencion, TABLAS_PURGADAS, type FilasPurgadas, type ResultadoPurga } from './purga-retencion.js';

const DIA_MS = 86_400_000;

/**
 * Las variables de la retención, para el esquema de configuración de un servicio
 * (`v.object({ ...VARIABLES_RETENCION, … })`).
 */
export const VARIABLES_RETENCION = {
  RETENCION_DIAS: conDescripcion(
    v.optional(enteroEnv('RETENCION_DIAS', 1, 3650), '30'),
    'Días que se conservan las filas publicadas del outbox, las del inbox (de pagos ya terminados), los mensajes muertos del broker embebido, el registro de eventos por socio (con sus duplicados absorbidos) y las entregas terminadas e intentos de los webhooks; lo más viejo lo purga este proceso (uno a la vez entre todas las instancias).',
  ),
  RETENCION_PURGA_PERIODO_MS: conDescripcion(
    v.optional(enteroEnv('RETENCION_PURGA_PERIODO_MS', 100, 86_400_000), '60000'),
    'Espera entre pasadas de la purga por retención, en ms.',
  ),
  RETENCION_PURGA_LOTE: conDescripcion(
    v.optional(enteroEnv('RETENCION_PURGA_LOTE', 1, 100_000), '1000'),
    'Filas borradas como mucho por sentencia de la purga (cada lote es una sentencia corta, sin transacción larga).',
  ),
} as const;

export interface ConfiguracionRetencion {
  readonly retencionMs: number;
  readonly periodoMs: number;
  readonly lote: number;
}

export function configuracionRetencion(config: {
  readonly RETENCION_DIAS: number;
  readonly RETENCION_PURGA_PERIODO_MS: number;
  readonly RETENCION_PURGA_LOTE: number;
}): ConfiguracionRetencion {
  return { retencionMs: config.RETENCION_DIAS * DIA_MS, periodoMs: config.RETENCION_PURGA_PERIODO_MS, lote: config.RETENCION_PURGA_LOTE };
}

export interface ContadoresPurga {
  readonly filas: Readonly<FilasPurgadas>;
  readonly pasadas: number;
  readonly fallos: number;
  /** Segundos Unix del final de la última pasada hecha por este proceso (0 si ninguna). */
  readonly ultimaPurga: number;
}

export interface PurgaEnMarcha {
  contadores(): ContadoresPurga;
  /** Deja de purgar y espera la pasada en curso (cortada entre lotes); llamar antes de cerrar el pool. */
  detener(): Promise<void>;
}

export interface OpcionesIniciarPurga extends ConfiguracionRetencion {
  readonly pool: PoolPostgres;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metricas?: Registry;
}

/**
 * Purga periódica por retención: una pasada al arrancar y después cada `periodoMs`. Varias instancias
 * pueden tenerla: en cada pasada trabaja solo la que gana el cerrojo consultivo.
 */
export function iniciarPurgaRetencion(opciones: OpcionesIniciarPurga): PurgaEnMarcha {
  const { logger } = opciones;
  const filas: FilasPurgadas = Object.fromEntries(TABLAS_PURGADAS.map((t) => [t, 0])) as FilasPurgadas;
  let pasadas = 0;
  let fallos = 0;
  let ultimaPurga = 0;
  const parada = new AbortController();
  let temporizador: ReturnType<typeof setTimeout> | undefined;
  let enCurso: Promise<void> = Promise.resolve();
  const observarDuracion = opciones.metricas
    ? registrarMetricasRetencion(opciones.metricas, { contadores: () => ({ filas, pasadas, fallos, ultimaPurga }) })
    : undefined;

  const alTerminar = (r: ResultadoPurga) => {
    if (r.tipo === 'sinLiderazgo') return;
    pasadas += 1;
    ultimaPurga = Date.now() / 1000;
    observarDuracion?.(r.duracionMs / 1000);
    const total = TABLAS_PURGADAS.reduce((n, t) => n + r.filas[t], 0);
    if (total > 0 || r.interrumpida) {
      logger.info(
        { ...r.filas, lotes: r.lotes, duracion_ms: Math.round(r.duracionMs), limite: r.limite.toISOString(), interrumpida: r.interrumpida },
        'purga por retención: filas viejas borradas',
      );
    }
  };

  const ciclo = () => {
    enCurso = purgarRetencion(
      {
        pool: opciones.pool,
        retencionMs: opciones.retencionMs,
        lote: opciones.lote,
        senal: parada.signal,
        // Lote a lote: una pasada larga (la primera sobre una base vieja) se ve avanzar en las métricas.
        trasLote: (tabla, borradas) => {
          filas[tabla] += borradas;
        },
      },
      new Date(),
    ).then(alTerminar, (error: unknown) => {
      fallos += 1;
      logger.error({ err: error }, 'la purga por retención no completó una pasada; se reintenta en la siguiente');
    });
    void enCurso.then(() => {
      if (!parada.signal.aborted) temporizador = setTimeout(ciclo, opciones.periodoMs);
    });
  };
  ciclo();
  logger.info(
    { retencion_dias: opciones.retencionMs / DIA_MS, periodo_ms: opciones.periodoMs, lote: opciones.lote },
    'purga por retención iniciada',
  );

  return {
    contadores: () => ({ filas: { ...filas }, pasadas, fallos, ultimaPurga }),
    async detener() {
      parada.abort();
      if (temporizador !== undefined) clearTimeout(temporizador);
      await enCurso;
    },
  };
}
