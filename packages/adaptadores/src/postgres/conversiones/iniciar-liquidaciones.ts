import { cerrarLiquidacionesTerminadas, ejecutarLiquidaciones, type AlmacenComisiones } from '@aeropartners/aplicacion';
import type { Modo } from '@aeropartners/dominio';
import * as v from 'valibot';
import { duracionMs } from '../../cli/entorno-operacion.js';
import { booleanoEnv, conDescripcion, enteroEnv } from '../../config/configuracion.js';
import { uuidv7 } from '../../ids/uuidv7.js';
import type { Logger } from '../../observabilidad/logger.js';
import type { PoolPostgres } from '../pool-postgres.js';

const MODOS: readonly Modo[] = ['live', 'test'];

/** Clave del cerrojo consultivo de las tareas periódicas de comisiones: un líder a la vez. */
export const CERROJO_LIQUIDACIONES = 0x6c69_7175;

const duracionEnv = (nombre: string) =>
  v.pipe(
    v.string(),
    v.check(
      (texto) => duracionMs(texto) !== undefined,
      `${nombre} debe ser una duración mayor que 0 (p. ej. 24h, 30m, 90s, 500ms; sin unidad, segundos)`,
    ),
    v.transform((texto) => duracionMs(texto) ?? 0),
  );

/** Las variables de las tareas periódicas de comisiones, para el esquema de configuración del consumidor. */
export const VARIABLES_LIQUIDACIONES = {
  LIQUIDACIONES: conDescripcion(
    v.optional(booleanoEnv('LIQUIDACIONES'), 'true'),
    'Tareas periódicas de comisiones en este proceso: ejecuciones de liquidaciones, cierre de las liquidaciones cuyo pago terminó y marca de conversiones huérfanas. Con varios consumidores, solo uno a la vez (cerrojo consultivo).',
  ),
  LIQUIDACIONES_CADA: conDescripcion(
    v.optional(duracionEnv('LIQUIDACIONES_CADA'), '24h'),
    'Periodo de las ejecuciones de liquidaciones (p. ej. 24h, 1h, 30m). Cada periodo es un corte con su id: dos líderes en el mismo periodo crean las mismas liquidaciones una vez.',
  ),
  LIQUIDACIONES_CIERRE_MS: conDescripcion(
    v.optional(enteroEnv('LIQUIDACIONES_CIERRE_MS', 100, 3_600_000), '5000'),
    'Cada cuánto se cierran las liquidaciones cuyo pago ya terminó (EXITOSO → comisiones PAGADAS; FALLIDO → liberadas) y se comprueba si toca una ejecución, en ms.',
  ),
  CONVERSIONES_ESPERA_MAXIMA: conDescripcion(
    v.optional(duracionEnv('CONVERSIONES_ESPERA_MAXIMA'), '24h'),
    'Cuánto puede esperar un hecho a la creación de su conversión (ESPERANDO_CONVERSION) antes de marcarla como huérfana para operación. Sus hechos se conservan y cuentan si la creación llega después.',
  ),
} as const;

export interface OpcionesIniciarLiquidaciones {
  readonly pool: PoolPostgres;
  readonly almacen: AlmacenComisiones;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly cadaMs: number;
  readonly cierreMs: number;
  readonly esperaMaximaMs: number;
}

export interface LiquidacionesEnMarcha {
  /** Deja de programar pasadas y espera la que esté en curso (antes de cerrar el pool). */
  detener(): Promise<void>;
}

/** El id de la ejecución periódica del corte que contiene `ahora`: el mismo para todos los procesos. */
export function idEjecucionPeriodica(ahora: Date, cadaMs: number): string {
  return `periodica-${new Date(Math.floor(ahora.getTime() / cadaMs) * cadaMs).toISOString()}`;
}

/**
 * Las tareas periódicas de comisiones dentro del consumidor. Cada pasada toma (sin esperar) el cerrojo
 * consultivo: quien lo tiene cierra las liquidaciones terminadas, marca las conversiones huérfanas y, si
 * el corte actual aún no se ejecutó en este proceso, ejecuta las liquidaciones del corte. Un fallo se
 * registra y se reintenta en la siguiente pasada.
 */
export function iniciarLiquidaciones(opciones: OpcionesIniciarLiquidaciones): LiquidacionesEnMarcha {
  const { pool, almacen, logger } = opciones;
  let ultimoCorte: string | null = null;
  let parado = false;
  let temporizador: NodeJS.Timeout | undefined;
  let enCurso: Promise<void> = Promise.resolve();

  async function pasada(): Promise<void> {
    const cliente = await pool.connect();
    // Si no se pudo soltar el cerrojo, la conexión se destruye: con ella se va el cerrojo de sesión.
    let destruir = false;
    try {
      const { rows } = await cliente.query<{ lider: boolean }>('SELECT pg_try_advisory_lock($1) AS lider', [CERROJO_LIQUIDACIONES]);
      if (!rows[0]?.lider) return;
      try {
        for (const modo of MODOS) {
          const cerradas = await cerrarLiquidacionesTerminadas({ almacen }, modo);
          if (cerradas > 0) logger.info({ modo, cerradas }, 'liquidaciones cerradas tras el desenlace de su pago');
        }
        const huerfanas = await almacen.marcarHuerfanas(opciones.esperaMaximaMs);
        if (huerfanas > 0) logger.warn({ huerfanas }, 'conversiones marcadas como huérfanas: sus hechos esperan una creación que no llega');
        const corte = idEjecucionPeriodica(new Date(), opciones.cadaMs);
        if (corte !== ultimoCorte) {
          for (const modo of MODOS) {
            const resumen = await ejecutarLiquidaciones(
              { almacen, nuevoId: uuidv7, ahora: () => new Date() },
              { modo, idEjecucion: corte, traza: { idCorrelacion: corte } },
            );
            logger.info(
              {
                modo,
                id_ejecucion: corte,
                creadas: resumen.creadas.length,
                omitidas: resumen.omitidas,
                sin_liquidar: resumen.sinLiquidar.length,
              },
              'ejecución periódica de liquidaciones',
            );
          }
          ultimoCorte = corte;
        }
      } finally {
        await cliente.query('SELECT pg_advisory_unlock($1)', [CERROJO_LIQUIDACIONES]).catch(() => {
          destruir = true;
        });
      }
    } finally {
      cliente.release(destruir);
    }
  }

  function programar(): void {
    if (parado) return;
    temporizador = setTimeout(() => {
      enCurso = pasada()
        .catch((error: unknown) =>
          logger.error({ err: error }, 'las tareas de comisiones no completaron una pasada; se reintenta en la siguiente'),
        )
        .finally(programar);
    }, opciones.cierreMs);
    temporizador.unref?.();
  }

  programar();
  logger.info({ cada_ms: opciones.cadaMs, cierre_ms: opciones.cierreMs }, 'tareas periódicas de comisiones iniciadas');
  return {
    async detener() {
      parado = true;
      clearTimeout(temporizador);
      await enCurso;
    },
  };
}
