import { Histogram, type Registry } from 'prom-client';
import type { ResultadoIntento } from '../webhooks/postgres-webhooks.js';
import { contadorLeido, PREFIJO_METRICAS } from './metricas.js';

/** El nombre que fijó la decisión 0152 (panel «Fallos de webhooks» y alerta `WebhooksFallando`). */
export const NOMBRE_INTENTOS_WEBHOOKS = `${PREFIJO_METRICAS}webhooks_intentos_total`;
export const NOMBRE_DURACION_WEBHOOKS = `${PREFIJO_METRICAS}webhooks_intento_duracion_seconds`;
export const NOMBRE_DESACTIVADOS_WEBHOOKS = `${PREFIJO_METRICAS}webhooks_desactivados_total`;

export const RESULTADOS_INTENTO: readonly ResultadoIntento[] = ['exitoso', 'error_http', 'tiempo_agotado', 'error_red'];

export interface FuentesMetricasWebhooks {
  readonly contadores: () => {
    readonly intentos: Readonly<Record<ResultadoIntento, number>>;
    readonly desactivados: number;
  };
}

/**
 * Métricas de las entregas de webhooks de este proceso: intentos por resultado (`exitoso` 2xx,
 * `error_http` otro estado, `tiempo_agotado`, `error_red`), webhooks desactivados por agotar el
 * calendario, y la duración de cada intento. Devuelve con qué observar la duración.
 */
export function registrarMetricasWebhooks(registro: Registry, fuentes: FuentesMetricasWebhooks): (segundos: number) => void {
  contadorLeido(
    registro,
    NOMBRE_INTENTOS_WEBHOOKS,
    'Intentos de entrega de webhooks por resultado: exitoso (2xx), error_http (otro estado), tiempo_agotado, error_red (conexión, DNS o destino no admitido).',
    ['resultado'],
    () => RESULTADOS_INTENTO.map((resultado) => [{ resultado }, fuentes.contadores().intentos[resultado]] as const),
  );
  contadorLeido(
    registro,
    NOMBRE_DESACTIVADOS_WEBHOOKS,
    'Webhooks desactivados por agotar el calendario de reintentos de una entrega.',
    [],
    () => [[{}, fuentes.contadores().desactivados]],
  );
  const duracion = new Histogram({
    name: NOMBRE_DURACION_WEBHOOKS,
    help: 'Duración de cada intento de entrega de un webhook (hasta la respuesta, el fallo o el tiempo máximo), en segundos.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registro],
  });
  return (segundos) => duracion.observe(segundos);
}
