import type { ContadoresBarrendero, MedidaAtascos, PagosAtascados, UmbralesAtasco } from '@aeropartners/aplicacion';
import { ESTADOS_ATASCABLES } from '@aeropartners/aplicacion';
import type { Registry } from 'prom-client';
import { contadorLeido, indicadorConsultado, PREFIJO_METRICAS } from './metricas.js';

export const NOMBRE_ATASCADOS = `${PREFIJO_METRICAS}atascados`;
export const NOMBRE_ATASCADO_MAS_VIEJO = `${PREFIJO_METRICAS}atascado_mas_viejo_seconds`;
export const NOMBRE_REIMPULSADOS = `${PREFIJO_METRICAS}reimpulsados_total`;
export const NOMBRE_FALLOS_BARRENDERO = `${PREFIJO_METRICAS}barrendero_fallos_total`;

export interface FuentesMetricasAtascos {
  readonly atascados: PagosAtascados;
  /** Los mismos umbrales que usa el barrendero: «atascado» significa lo mismo en la métrica y en el re-impulso. */
  readonly umbrales: UmbralesAtasco;
  /** Pagos más antiguos examinados por estado en cada raspado (la cuenta no pasa de aquí). Por defecto 10 000. */
  readonly ventana?: number;
  /** Los contadores del barrendero de este proceso, si tiene uno. */
  readonly barrendero?: () => ContadoresBarrendero;
  /** Tope de la consulta por raspado. Por defecto 1 000 ms. */
  readonly tiempoMaximoMs?: number;
}

/**
 * Métricas del trabajo atascado (docs/arquitectura.md §4), calculadas al raspar con UNA consulta acotada por el
 * índice `pagos_estado_id` (nunca un `count(*)` de la tabla):
 *
 * - `aeropartners_pagos_atascados{estado}`: pagos en PENDIENTE o PROCESANDO más que su umbral y sin turno
 *   de cobro vigente, contados entre los `ventana` más antiguos del estado (cota superior de la cuenta);
 * - `aeropartners_pagos_atascado_mas_viejo_seconds{estado}`: edad del pago más antiguo del estado que nadie
 *   procesa (sin turno vigente), haya pasado o no el umbral, para alertar con el umbral que se quiera y
 *   ver la tendencia antes; 0 si no hay ninguno;
 * - `aeropartners_pagos_reimpulsados_total{estado}` y `aeropartners_pagos_barrendero_fallos_total`: lo que
 *   hizo el barrendero de este proceso.
 *
 * Las dos primeras son de toda la base: con varios consumidores, todos dan el mismo valor (agréguense
 * con `max by (estado)`). Si la consulta falla o tarda más del tope, ese raspado va sin ellas.
 */
export function registrarMetricasAtascos(registro: Registry, fuentes: FuentesMetricasAtascos): void {
  const ventana = fuentes.ventana ?? 10_000;
  let enCurso: Promise<readonly MedidaAtascos[]> | undefined;
  // prom-client recoge los dos indicadores a la vez en cada raspado: comparten la consulta en curso.
  const medir = () =>
    (enCurso ??= fuentes.atascados.medir(fuentes.umbrales, ventana).finally(() => {
      enCurso = undefined;
    }));
  indicadorConsultado(
    registro,
    NOMBRE_ATASCADOS,
    `Pagos en PENDIENTE o PROCESANDO más que su umbral y sin turno de cobro vigente, por estado (entre los ${ventana} más antiguos de cada estado).`,
    ['estado'],
    async () => (await medir()).map((m) => [{ estado: m.estado }, m.atascados] as const),
    fuentes.tiempoMaximoMs,
  );
  indicadorConsultado(
    registro,
    NOMBRE_ATASCADO_MAS_VIEJO,
    'Edad en segundos del pago más antiguo en el estado que nadie está procesando (sin turno de cobro vigente); 0 si no hay.',
    ['estado'],
    async () => (await medir()).map((m) => [{ estado: m.estado }, m.masViejoMs / 1000] as const),
    fuentes.tiempoMaximoMs,
  );
  const barrendero = fuentes.barrendero;
  if (barrendero) {
    contadorLeido(
      registro,
      NOMBRE_REIMPULSADOS,
      'Pagos atascados que el barrendero de este proceso re-impulsó (re-encoló su PagoPendiente en el outbox), por estado.',
      ['estado'],
      () => ESTADOS_ATASCABLES.map((estado) => [{ estado }, barrendero().reimpulsados[estado]] as const),
    );
    contadorLeido(registro, NOMBRE_FALLOS_BARRENDERO, 'Pasadas del barrendero que fallaron (se reintentan en la siguiente).', [], () => [
      [{}, barrendero().fallos],
    ]);
  }
}
