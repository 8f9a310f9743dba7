import {
  booleanoEnv,
  conDescripcion,
  enteroEnv,
  leerConfiguracion as leer,
  nivelLogEnv,
  nombreEnv,
  topicoEnv,
  urlPostgresEnv,
  urlPulsarEnv,
  VARIABLES_RETENCION,
  VARIABLES_WEBHOOKS,
} from '@aeropartners/adaptadores';
import * as v from 'valibot';

/** Variables de entorno del relay del outbox (fuente de la tabla de configuración del README). */
export const EsquemaConfiguracionRelay = v.object({
  DATABASE_URL: conDescripcion(urlPostgresEnv('DATABASE_URL'), 'URL de PostgreSQL (obligatoria; `pnpm start` la rellena).'),
  PULSAR_URL: conDescripcion(
    v.optional(urlPulsarEnv('PULSAR_URL')),
    'Si está definida, se publica en Apache Pulsar; si no, en el broker embebido sobre PostgreSQL.',
  ),
  BROKER_TOPICO: conDescripcion(
    v.optional(topicoEnv('BROKER_TOPICO'), 'pagos'),
    'Tópico de los eventos de pago (corto, o completo de Pulsar: `persistent://public/default/pagos`).',
  ),
  BROKER_SUSCRIPCIONES: conDescripcion(
    v.optional(
      v.pipe(
        v.string(),
        v.regex(
          /^[A-Za-z0-9._-]{1,128}(?:,[A-Za-z0-9._-]{1,128})*$/,
          'BROKER_SUSCRIPCIONES debe ser una lista de nombres separados por comas',
        ),
      ),
      'consumidor-pagos',
    ),
    'Suscripciones que el broker embebido crea al arrancar (para no perder lo publicado antes de que el consumidor se suscriba).',
  ),
  BROKER_DUPLICAR_ENTREGAS: conDescripcion(
    v.optional(booleanoEnv('BROKER_DUPLICAR_ENTREGAS'), 'false'),
    'Inyección de fallos (tests y experimento): el broker embebido encola cada mensaje dos veces.',
  ),
  RELAY_PRODUCTOR: conDescripcion(
    v.optional(nombreEnv('RELAY_PRODUCTOR'), 'relay-outbox-0'),
    'Nombre fijo del productor: la deduplicación del broker es por (productor, secuencia).',
  ),
  RELAY_CERROJO: conDescripcion(
    v.optional(enteroEnv('RELAY_CERROJO', 0, 2_147_483_647), '7310001'),
    'Clave del cerrojo consultivo: un solo relay activo por clave; los demás esperan en reserva.',
  ),
  RELAY_LOTE: conDescripcion(v.optional(enteroEnv('RELAY_LOTE', 1, 10_000), '500'), 'Filas por lote publicado.'),
  RELAY_LATIDO_MS: conDescripcion(
    v.optional(enteroEnv('RELAY_LATIDO_MS', 50, 60_000), '1000'),
    'Cada cuánto el relay líder comprueba su conexión y su época de liderazgo; sin respuesta en el doble (mínimo 2 s), o con la época de otro, deja de publicar y sale.',
  ),
  RELAY_ACUMULAR_MS: conDescripcion(
    v.optional(enteroEnv('RELAY_ACUMULAR_MS', 0, 10_000), '20'),
    'Tras publicar un lote incompleto, espera antes de reclamar el siguiente para que se acumulen filas (como linger.ms ' +
      'de Kafka): menos sentencias por evento a cambio de esa latencia. 0 = reclamar enseguida.',
  ),
  RELAY_SONDEO_MS: conDescripcion(
    v.optional(enteroEnv('RELAY_SONDEO_MS', 10, 60_000), '500'),
    'Sondeo de respaldo cuando no llega ningún aviso LISTEN/NOTIFY.',
  ),
  RELAY_BACKOFF_BASE_MS: conDescripcion(
    v.optional(enteroEnv('RELAY_BACKOFF_BASE_MS', 1, 60_000), '200'),
    'Espera tras el primer fallo de publicación.',
  ),
  RELAY_BACKOFF_MAX_MS: conDescripcion(
    v.optional(enteroEnv('RELAY_BACKOFF_MAX_MS', 1, 600_000), '10000'),
    'Espera máxima entre reintentos.',
  ),
  PG_POOL_SIZE: conDescripcion(v.optional(enteroEnv('PG_POOL_SIZE', 1, 100), '4'), 'Conexiones del pool del relay.'),
  PUERTO_SALUD: conDescripcion(
    v.optional(enteroEnv('PUERTO_SALUD', 0, 65535), '8001'),
    'Puerto de /health y /health/ready (0 = cualquiera libre).',
  ),
  RELAY_MORIR_TRAS_PUBLICAR: conDescripcion(
    v.optional(enteroEnv('RELAY_MORIR_TRAS_PUBLICAR', 0, 1_000_000), '0'),
    'Inyección de fallos (tests y experimento): el proceso se mata con SIGKILL tras publicar el lote N y antes de marcarlo (0 = nunca).',
  ),
  LOG_LEVEL: conDescripcion(v.optional(nivelLogEnv('LOG_LEVEL'), 'info'), 'Nivel mínimo de los registros JSON.'),
  ...VARIABLES_RETENCION,
  ...VARIABLES_WEBHOOKS,
});

export type ConfiguracionRelay = v.InferOutput<typeof EsquemaConfiguracionRelay>;

export const leerConfiguracionRelay = (entorno: Readonly<Record<string, string | undefined>>) => leer(EsquemaConfiguracionRelay, entorno);
