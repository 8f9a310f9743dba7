import {
  NIVELES_LOG_CONFIG,
  conDescripcion,
  enteroEnv,
  VARIABLES_WEBHOOKS_API,
  leerConfiguracion as leerConfiguracionComun,
  type LecturaConfiguracion as LecturaConfiguracionComun,
} from '@aeropartners/adaptadores';
import * as v from 'valibot';
import { LIMITE_RPS_POR_DEFECTO } from './limite-socio.js';

/**
 * Configuración de la API desde variables de entorno, validada al arrancar. {@link EsquemaConfiguracion}
 * es la fuente de la tabla de configuración del README: cada variable lleva su descripción.
 */

// Piezas comunes a los tres servicios (mismo formato de error: una línea que nombra la variable).
const entero = enteroEnv;
const NIVELES = NIVELES_LOG_CONFIG;

export const EsquemaConfiguracion = v.object({
  PORT: conDescripcion(v.optional(entero('PORT', 0, 65535), '8000'), 'Puerto HTTP de la API.'),
  HOST: conDescripcion(
    v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9.:[\]-]{1,255}$/, 'HOST debe ser un nombre de host o una dirección IP')), '0.0.0.0'),
    'Dirección en la que escucha la API.',
  ),
  DATABASE_URL: conDescripcion(
    v.pipe(v.string(), v.regex(/^postgres(?:ql)?:\/\/\S+$/, 'DATABASE_URL debe ser una URL postgres:// o postgresql://')),
    'URL de conexión a PostgreSQL (obligatoria; `pnpm start` la rellena con el PostgreSQL embebido).',
  ),
  PG_POOL_SIZE: conDescripcion(v.optional(entero('PG_POOL_SIZE', 1, 1000), '20'), 'Conexiones máximas del pool de PostgreSQL.'),
  PG_CREACIONES_EN_VUELO: conDescripcion(
    v.optional(entero('PG_CREACIONES_EN_VUELO', 1, 1000), '1'),
    'Sentencias de creación de pagos en vuelo a la vez («group commit»: las peticiones que llegan mientras están ocupadas ' +
      'esperan y salen juntas en la siguiente, con un solo commit). Pocas dan lotes grandes y menos CPU de PostgreSQL por pago: ' +
      'en 2 núcleos, 1 rinde más que 2, 4 u 8, sola y con todo el pipeline (ver bench/README.md). Con más núcleos puede ' +
      'convenir 2–4. No puede superar PG_POOL_SIZE (se recorta).',
  ),
  IDEMPOTENCIA_CACHE_ENTRADAS: conDescripcion(
    v.optional(entero('IDEMPOTENCIA_CACHE_ENTRADAS', 0, 10_000_000), '10000'),
    'Respuestas de POST /pagos ya confirmadas que cada instancia guarda en memoria (LRU) para responder las réplicas ' +
      '(misma clave, mismo cuerpo) sin consultar la base de datos; 0 la desactiva. Correcto con varias instancias ' +
      'porque las claves no caducan y la respuesta solo usa campos inmutables.',
  ),
  LOG_LEVEL: conDescripcion(
    v.optional(v.picklist(NIVELES, `LOG_LEVEL debe ser uno de: ${NIVELES.join(', ')}`), 'info'),
    'Nivel mínimo de los registros JSON.',
  ),
  API_ANONIMA_SOCIO: conDescripcion(
    v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[A-Za-z0-9._-]{1,64}$/, 'API_ANONIMA_SOCIO debe ser un id de socio: de 1 a 64 caracteres de [A-Za-z0-9._-]'),
      ),
    ),
    'Modo anónimo, solo para compatibilidad con clientes del servicio semilla: las peticiones SIN cabecera Authorization ' +
      'actúan como este socio (se crea si no existe) y la API lo avisa al arrancar. Las que traen clave se autentican ' +
      'igual. Sin valor (lo normal), toda ruta de datos exige `Authorization: Bearer <clave>`.',
  ),
  API_LIMITE_RPS: conDescripcion(
    v.optional(entero('API_LIMITE_RPS', 1, 1_000_000), String(LIMITE_RPS_POR_DEFECTO)),
    'Peticiones por segundo de cada socio que no tiene un límite propio (`pnpm socios crear … --limite-rps N`), con una ' +
      'ráfaga de un segundo. Al pasarlo: 429 con Retry-After. Las réplicas cuentan.',
  ),
  API_INSTANCIAS: conDescripcion(
    v.optional(entero('API_INSTANCIAS', 1, 1000), '1'),
    'Cuántas instancias de la API sirven detrás del balanceador: cada una aplica 1/N del límite de cada socio (el límite ' +
      'se cuenta en memoria de cada instancia; ver docs/decisiones/0131-limite-de-ritmo-por-socio-con-varias-instancias.md).',
  ),
  SHUTDOWN_DELAY_MS: conDescripcion(
    v.optional(entero('SHUTDOWN_DELAY_MS', 0, 600_000), '0'),
    'Tras SIGTERM/SIGINT, tiempo durante el que la API sigue aceptando peticiones con GET /health/ready en 503, para que ' +
      'el balanceador deje de enviarle tráfico antes de que cierre el puerto (en Kubernetes, unos segundos más que el ' +
      'periodo de la sonda de disponibilidad). 0 cierra el puerto en el acto.',
  ),
  SHUTDOWN_TIMEOUT_MS: conDescripcion(
    v.optional(entero('SHUTDOWN_TIMEOUT_MS', 0, 600_000), '10000'),
    'Tiempo máximo para terminar las peticiones en curso al recibir SIGTERM/SIGINT.',
  ),
  ...VARIABLES_WEBHOOKS_API,
});

export type Configuracion = v.InferOutput<typeof EsquemaConfiguracion>;

export type LecturaConfiguracion = LecturaConfiguracionComun<Configuracion>;

/** Valida el entorno. Un valor vacío cuenta como ausente. El error es UNA línea que nombra la variable. */
export function leerConfiguracion(entorno: Readonly<Record<string, string | undefined>>): LecturaConfiguracion {
  return leerConfiguracionComun(EsquemaConfiguracion, entorno);
}
