import { Gauge, Histogram, type Registry } from 'prom-client';
import type { FilasPurgadas } from '../postgres/purga-retencion.js';
import { TABLAS_PURGADAS } from '../postgres/purga-retencion.js';
import { contadorLeido, PREFIJO_METRICAS } from './metricas.js';

export const NOMBRE_PURGADAS = `${PREFIJO_METRICAS}retencion_filas_purgadas_total`;
export const NOMBRE_ULTIMA_PURGA = `${PREFIJO_METRICAS}retencion_ultima_purga_timestamp_seconds`;
export const NOMBRE_DURACION_PURGA = `${PREFIJO_METRICAS}retencion_purga_duracion_seconds`;
export const NOMBRE_FALLOS_PURGA = `${PREFIJO_METRICAS}retencion_purga_fallos_total`;

export interface FuentesMetricasRetencion {
  readonly contadores: () => {
    readonly filas: Readonly<FilasPurgadas>;
    readonly fallos: number;
    readonly ultimaPurga: number;
  };
}

/**
 * Métricas de la purga por retención de este proceso: filas purgadas por tabla, fallos, cuándo terminó la
 * última pasada que hizo (0 si ninguna: con varias instancias, agréguese con `max`) y la duración de cada
 * pasada. Devuelve con qué observar la duración.
 */
export function registrarMetricasRetencion(registro: Registry, fuentes: FuentesMetricasRetencion): (segundos: number) => void {
  contadorLeido(
    registro,
    NOMBRE_PURGADAS,
    'Filas borradas por la purga por retención, por tabla (outbox, inbox, broker_muertos, eventos_socio, duplicados_absorbidos, avisos_socio, webhook_entregas, webhook_intentos).',
    ['tabla'],
    () => TABLAS_PURGADAS.map((tabla) => [{ tabla }, fuentes.contadores().filas[tabla]] as const),
  );
  contadorLeido(
    registro,
    NOMBRE_FALLOS_PURGA,
    'Pasadas de la purga por retención que fallaron (se reintentan en la siguiente).',
    [],
    () => [[{}, fuentes.contadores().fallos]],
  );
  new Gauge({
    name: NOMBRE_ULTIMA_PURGA,
    help: 'Segundos Unix del final de la última pasada de la purga que hizo este proceso (0 si ninguna).',
    registers: [registro],
    collect() {
      this.set(fuentes.contadores().ultimaPurga);
    },
  });
  const duracion = new Histogram({
    name: NOMBRE_DURACION_PURGA,
    help: 'Duración de cada pasada de la purga por retención hecha por este proceso, en segundos.',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
    registers: [registro],
  });
  return (segundos) => duracion.observe(segundos);
}
