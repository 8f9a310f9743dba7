import { leerCalendario } from '@aeropartners/aplicacion';
import * as v from 'valibot';
import { booleanoEnv, conDescripcion, enteroEnv } from '../config/configuracion.js';

const permitirRedLocal = conDescripcion(
  v.optional(booleanoEnv('WEBHOOKS_PERMITIR_RED_LOCAL'), 'false'),
  'Admite webhooks hacia redes privadas, loopback y link-local (solo tests y ejecuciones locales: en producción abriría la puerta a SSRF).',
);

/** Lo que la API necesita para registrar webhooks (`v.object({ ...VARIABLES_WEBHOOKS_API, … })`). */
export const VARIABLES_WEBHOOKS_API = {
  WEBHOOKS_PERMITIR_RED_LOCAL: permitirRedLocal,
  WEBHOOKS_GRACIA_SECRETO_S: conDescripcion(
    v.optional(enteroEnv('WEBHOOKS_GRACIA_SECRETO_S', 0, 30 * 86_400), '86400'),
    'Tras rotar el secreto de un webhook, segundos durante los que cada entrega va firmada también con el anterior.',
  ),
} as const;

/** Las variables del repartidor de webhooks, para el esquema del servicio que lo aloja (outbox). */
export const VARIABLES_WEBHOOKS = {
  WEBHOOKS_PERMITIR_RED_LOCAL: permitirRedLocal,
  WEBHOOKS_CALENDARIO: conDescripcion(
    v.optional(
      v.pipe(
        v.string(),
        v.rawTransform(({ dataset, addIssue, NEVER }) => {
          const r = leerCalendario(dataset.value);
          if (r.ok) return r.valor;
          addIssue({ message: `WEBHOOKS_CALENDARIO no es válido: ${r.motivo}` });
          return NEVER;
        }),
      ),
      '5s,5m,30m,2h,5h,10h,24h',
    ),
    'Plazos entre intentos de una entrega de webhook (con ±10 % aleatorio); agotados, el webhook se desactiva.',
  ),
  WEBHOOKS_TIEMPO_MAXIMO_MS: conDescripcion(
    v.optional(enteroEnv('WEBHOOKS_TIEMPO_MAXIMO_MS', 100, 120_000), '10000'),
    'Tiempo máximo de un envío de webhook (conexión y respuesta); pasado, cuenta como intento fallido.',
  ),
  WEBHOOKS_CONCURRENCIA: conDescripcion(
    v.optional(enteroEnv('WEBHOOKS_CONCURRENCIA', 1, 1000), '128'),
    'Envíos de webhooks en vuelo como mucho por proceso (por conexiones persistentes a cada destino).',
  ),
  WEBHOOKS_POR_DESTINO: conDescripcion(
    v.optional(enteroEnv('WEBHOOKS_POR_DESTINO', 1, 100), '16'),
    'Envíos en vuelo como mucho por webhook y proceso: un receptor lento o muerto no ocupa los huecos de los demás. Si supera WEBHOOKS_CONCURRENCIA, se usa esta (y se avisa al arrancar).',
  ),
  WEBHOOKS_SONDEO_MS: conDescripcion(
    v.optional(enteroEnv('WEBHOOKS_SONDEO_MS', 10, 60_000), '500'),
    'Espera del repartidor de webhooks entre rondas sin trabajo.',
  ),
} as const;

export function configuracionRepartidor(config: {
  readonly WEBHOOKS_PERMITIR_RED_LOCAL: boolean;
  readonly WEBHOOKS_CALENDARIO: readonly number[];
  readonly WEBHOOKS_TIEMPO_MAXIMO_MS: number;
  readonly WEBHOOKS_CONCURRENCIA: number;
  readonly WEBHOOKS_POR_DESTINO: number;
  readonly WEBHOOKS_SONDEO_MS: number;
}) {
  return {
    permitirRedLocal: config.WEBHOOKS_PERMITIR_RED_LOCAL,
    calendarioMs: config.WEBHOOKS_CALENDARIO,
    tiempoMaximoMs: config.WEBHOOKS_TIEMPO_MAXIMO_MS,
    concurrencia: config.WEBHOOKS_CONCURRENCIA,
    porDestino: config.WEBHOOKS_POR_DESTINO,
    sondeoMs: config.WEBHOOKS_SONDEO_MS,
  };
}
