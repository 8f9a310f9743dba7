import {
  PERFILES_PASARELA_SIMULADA,
  VARIABLES_BARRENDERO,
  VARIABLES_LIQUIDACIONES,
  booleanoEnv,
  conDescripcion,
  decimalEnv,
  enteroEnv,
  leerConfiguracion as leerEsquema,
  nivelLogEnv,
  nombreEnv,
  sumaTasasTrasEnviar,
  topicoEnv,
  urlPostgresEnv,
  urlPulsarEnv,
  type LecturaConfiguracion,
  type PerfilPasarelaSimulada,
} from '@aeropartners/adaptadores';
import * as v from 'valibot';

/**
 * Configuración del consumidor desde variables de entorno, validada al arrancar. {@link EsquemaConfiguracion}
 * es la fuente de la tabla de configuración del README: cada variable lleva su descripción.
 */

const PERFILES = Object.keys(PERFILES_PASARELA_SIMULADA) as (keyof typeof PERFILES_PASARELA_SIMULADA)[];
const PASARELAS = ['simulada', 'stripe'] as const;

const CUENTA_CONECTADA = /^acct_[A-Za-z0-9]+$/;

const CuentasAfiliados = v.pipe(
  v.string(),
  v.parseJson(undefined, 'STRIPE_CUENTAS_AFILIADOS debe ser JSON válido: {"id_afiliado": "acct_…"}'),
  v.check(
    (x) => typeof x === 'object' && x !== null && !Array.isArray(x),
    'STRIPE_CUENTAS_AFILIADOS debe ser un objeto JSON de id de afiliado a cuenta conectada ("acct_…")',
  ),
  v.record(
    v.string(),
    v.pipe(
      v.string('la cuenta debe ser un texto "acct_…"'),
      v.regex(CUENTA_CONECTADA, 'la cuenta debe ser un identificador de cuenta conectada "acct_…"'),
    ),
    'STRIPE_CUENTAS_AFILIADOS debe ser un objeto JSON de id de afiliado a cuenta conectada ("acct_…")',
  ),
);

/**
 * Las variables, cada una con su descripción (fuente de la tabla del README). Las reglas que cruzan
 * variables (Stripe exige clave y cuentas; latencia mínima ≤ máxima; duplicar entregas solo con el broker
 * embebido) se aplican encima en {@link leerConfiguracion}.
 */
export const EsquemaConfiguracion = v.object({
  DATABASE_URL: conDescripcion(
    urlPostgresEnv('DATABASE_URL'),
    'URL de conexión a PostgreSQL (obligatoria; `pnpm start` la rellena con el PostgreSQL embebido). Con ella se leen y guardan los pagos, el inbox y, sin `PULSAR_URL`, el broker embebido.',
  ),
  PG_POOL_SIZE: conDescripcion(
    v.optional(enteroEnv('PG_POOL_SIZE', 1, 1000), '20'),
    'Conexiones máximas del pool de PostgreSQL del consumidor (pagos, inbox y libro de la pasarela simulada).',
  ),
  PULSAR_URL: conDescripcion(
    v.optional(urlPulsarEnv('PULSAR_URL')),
    'URL de Apache Pulsar. Si está, el consumidor usa Pulsar (suscripción Key_Shared); si no, el broker embebido sobre PostgreSQL (`DATABASE_URL`).',
  ),
  BROKER_TOPICO: conDescripcion(
    v.optional(topicoEnv('BROKER_TOPICO'), 'pagos'),
    'Tópico de los eventos de pago (el mismo que publica el relay del outbox).',
  ),
  CONSUMIDOR_SUSCRIPCION: conDescripcion(
    v.optional(nombreEnv('CONSUMIDOR_SUSCRIPCION'), 'consumidor-pagos'),
    'Nombre de la suscripción compartida. Los consumidores con el mismo nombre se reparten los pagos; el inbox deduplica por (suscripción, id de evento).',
  ),
  CONSUMIDOR_EN_VUELO: conDescripcion(
    v.optional(enteroEnv('CONSUMIDOR_EN_VUELO', 1, 10_000), '64'),
    'Mensajes que el consumidor retiene a la vez (pagos distintos en paralelo; los de un mismo pago, en orden). Con una pasarela lenta, el rendimiento crece con este límite (ley de Little).',
  ),
  BROKER_MAXIMO_ENTREGAS: conDescripcion(
    v.optional(enteroEnv('BROKER_MAXIMO_ENTREGAS', 1, 1000), '50'),
    'Entregas de un mensaje sin confirmar tras las que el broker lo manda a la cola de mensajes muertos.',
  ),
  BROKER_RETRASO_REENTREGA_MS: conDescripcion(
    v.optional(enteroEnv('BROKER_RETRASO_REENTREGA_MS', 0, 600_000), '1000'),
    'Espera base antes de reentregar un mensaje rechazado tras un fallo de infraestructura (el broker embebido la duplica en cada reentrega, con tope).',
  ),
  BROKER_DUPLICAR_ENTREGAS: conDescripcion(
    v.optional(booleanoEnv('BROKER_DUPLICAR_ENTREGAS'), 'false'),
    'Inyección de fallos para tests y experimentos (solo broker embebido): el broker de este proceso encola dos veces cada mensaje que se publica a través de él. La duplicación ocurre al publicar: para duplicar los eventos del relay, actívala también en el servicio outbox.',
  ),
  PASARELA: conDescripcion(
    v.optional(v.picklist(PASARELAS, `PASARELA debe ser una de: ${PASARELAS.join(', ')}`), 'simulada'),
    'Pasarela de pagos: `simulada` (Stripe simulado con libro de cargos en PostgreSQL) o `stripe` (transferencias de Stripe Connect).',
  ),
  PASARELA_PERFIL: conDescripcion(
    v.optional(v.picklist(PERFILES, `PASARELA_PERFIL debe ser uno de: ${PERFILES.join(', ')}`), 'local'),
    'Perfil de la pasarela simulada: `local` (0–20 ms, 10 % de rechazos; fallos: 2 % antes de cobrar, 1 % sin respuesta tras cobrar, 0,5 % de 500 tras cobrar, ninguno en curso), `semilla` (2–8 s, 50 % de rechazos, sin fallos, como la semilla) o `sin-latencia` (el local sin latencia).',
  ),
  PASARELA_LATENCIA_MIN_MS: conDescripcion(
    v.optional(enteroEnv('PASARELA_LATENCIA_MIN_MS', 0, 600_000)),
    'Latencia mínima de la pasarela simulada, en ms (sobrescribe la del perfil).',
  ),
  PASARELA_LATENCIA_MAX_MS: conDescripcion(
    v.optional(enteroEnv('PASARELA_LATENCIA_MAX_MS', 0, 600_000)),
    'Latencia máxima de la pasarela simulada, en ms (sobrescribe la del perfil).',
  ),
  PASARELA_TASA_RECHAZO: conDescripcion(
    v.optional(decimalEnv('PASARELA_TASA_RECHAZO', 0, 1)),
    'Fracción de pagos que la pasarela simulada rechaza, entre 0 y 1 (sobrescribe la del perfil).',
  ),
  PASARELA_TASA_TRANSITORIO: conDescripcion(
    v.optional(decimalEnv('PASARELA_TASA_TRANSITORIO', 0, 1)),
    'Fracción de intentos de la pasarela simulada que fallan ANTES de cobrar (nada registrado; responde incierto), entre 0 y 1 (sobrescribe la del perfil).',
  ),
  PASARELA_TASA_SIN_RESPUESTA: conDescripcion(
    v.optional(decimalEnv('PASARELA_TASA_SIN_RESPUESTA', 0, 1)),
    'Fracción de intentos de la pasarela simulada que registran su decisión (el cobro se hizo) y pierden la respuesta, como un tiempo agotado tras cobrar: responde incierto y solo preguntar por el pago lo revela. Entre 0 y 1 (sobrescribe la del perfil); con las de 500 y en curso suma como mucho 1.',
  ),
  PASARELA_TASA_500_TRAS_COBRO: conDescripcion(
    v.optional(decimalEnv('PASARELA_TASA_500_TRAS_COBRO', 0, 1)),
    'Fracción de intentos de la pasarela simulada que registran su decisión y responden un HTTP 500 (incierto). Entre 0 y 1 (sobrescribe la del perfil).',
  ),
  PASARELA_TASA_EN_CURSO: conDescripcion(
    v.optional(decimalEnv('PASARELA_TASA_EN_CURSO', 0, 1)),
    'Fracción de intentos de la pasarela simulada que quedan «en curso»: responde incierto y la decisión se registra poco después en segundo plano (mientras tanto, preguntar por el pago es incierto). Entre 0 y 1 (sobrescribe la del perfil). Las llamadas simultáneas con la misma clave reciben «en curso» siempre, como el 409 de Stripe.',
  ),
  PASARELA_SEMILLA: conDescripcion(
    v.optional(v.pipe(v.string(), v.regex(/^\S{1,200}$/, 'PASARELA_SEMILLA debe tener de 1 a 200 caracteres sin espacios'))),
    'Semilla de las decisiones de la pasarela simulada: con la misma, dos ejecuciones deciden igual.',
  ),
  PASARELA_INTENTOS: conDescripcion(
    v.optional(enteroEnv('PASARELA_INTENTOS', 1, 50), '4'),
    'Intentos de la pasarela (cobrar o preguntar por el pago) en una misma entrega mientras su respuesta sea incierta (tiempo agotado, 5xx, «en curso»). Agotados, el pago sigue en PROCESANDO y el evento se reentrega más tarde: una respuesta incierta nunca deja un pago FALLIDO.',
  ),
  PASARELA_BACKOFF_MS: conDescripcion(
    v.optional(enteroEnv('PASARELA_BACKOFF_MS', 0, 60_000), '200'),
    'Espera tras la primera respuesta incierta de la pasarela, en ms (se duplica en cada intento).',
  ),
  CONSUMIDOR_TURNO_COBRO_MS: conDescripcion(
    v.optional(enteroEnv('CONSUMIDOR_TURNO_COBRO_MS', 1_000, 3_600_000), '5000'),
    'Vigencia del turno de cobro de un pago (solo un consumidor a la vez ejecuta su paso de pasarela); se renueva cada tercio mientras dura el paso. Si el consumidor muere, otro puede tomarlo cuando vence: por eso vale lo mismo que el lease de los mensajes del broker embebido.',
  ),
  STRIPE_API_KEY: conDescripcion(
    v.optional(v.pipe(v.string(), v.regex(/^(?:sk|rk)_\S+$/, 'STRIPE_API_KEY debe ser una clave secreta de Stripe (sk_… o rk_…)'))),
    'Clave secreta de la plataforma en Stripe. Obligatoria con `PASARELA=stripe`.',
  ),
  STRIPE_CUENTAS_AFILIADOS: conDescripcion(
    v.optional(CuentasAfiliados),
    'Cuenta conectada de Stripe de cada afiliado, en JSON: `{"afiliado-1":"acct_…"}`. Obligatoria con `PASARELA=stripe`; un afiliado sin cuenta hace FALLIDO su pago sin transferir nada.',
  ),
  STRIPE_URL_API: conDescripcion(
    v.optional(
      v.pipe(v.string(), v.regex(/^https?:\/\/[^/\s:]+(?::\d{1,5})?\/?$/, 'STRIPE_URL_API debe ser http(s)://anfitrión[:puerto]')),
    ),
    'Anfitrión de la API de Stripe (por defecto, el de Stripe). Para apuntar a un servidor falso local en pruebas.',
  ),
  LOG_LEVEL: conDescripcion(
    v.optional(nivelLogEnv('LOG_LEVEL'), 'info'),
    'Nivel mínimo de los registros JSON (una línea por mensaje manejado en `info`).',
  ),
  PUERTO_SALUD: conDescripcion(
    v.optional(enteroEnv('PUERTO_SALUD', 0, 65_535), '8002'),
    'Puerto del servidor HTTP de salud (`GET /health`, `GET /health/ready`); 0 = uno libre al azar.',
  ),
  SHUTDOWN_TIMEOUT_MS: conDescripcion(
    v.optional(enteroEnv('SHUTDOWN_TIMEOUT_MS', 0, 600_000), '30000'),
    'Tiempo máximo para terminar los mensajes retenidos al recibir SIGTERM/SIGINT; vencido, lo no confirmado se reentrega a otro consumidor.',
  ),
  ...VARIABLES_BARRENDERO,
  ...VARIABLES_LIQUIDACIONES,
});

export type Configuracion = v.InferOutput<typeof EsquemaConfiguracion>;

/** Reglas que cruzan variables: la primera que no se cumple, como mensaje que nombra la variable. */
export function reglasCruzadas(c: Configuracion): string | undefined {
  if (c.PASARELA === 'stripe' && c.STRIPE_API_KEY === undefined) return 'falta STRIPE_API_KEY, que es obligatoria con PASARELA=stripe';
  if (c.PASARELA === 'stripe' && c.STRIPE_CUENTAS_AFILIADOS === undefined) {
    return 'falta STRIPE_CUENTAS_AFILIADOS, que es obligatoria con PASARELA=stripe';
  }
  const perfil = perfilPasarelaSimulada(c);
  if (perfil.latenciaMinMs > perfil.latenciaMaxMs) {
    return `PASARELA_LATENCIA_MIN_MS (${perfil.latenciaMinMs}) no puede superar a la latencia máxima (${perfil.latenciaMaxMs}, de PASARELA_LATENCIA_MAX_MS o del perfil ${c.PASARELA_PERFIL})`;
  }
  const trasCobro = sumaTasasTrasEnviar(perfil);
  if (trasCobro > 1 + 1e-9) {
    return `PASARELA_TASA_EN_CURSO + PASARELA_TASA_SIN_RESPUESTA + PASARELA_TASA_500_TRAS_COBRO (con las del perfil ${c.PASARELA_PERFIL} que no se den) no pueden sumar más de 1 (suman ${+trasCobro.toFixed(6)})`;
  }
  if (c.BROKER_DUPLICAR_ENTREGAS && c.PULSAR_URL !== undefined) {
    return 'BROKER_DUPLICAR_ENTREGAS solo se admite con el broker embebido (sin PULSAR_URL)';
  }
  return undefined;
}

/** El perfil de la pasarela simulada: el de `PASARELA_PERFIL` con las variables que lo sobrescriben. */
export function perfilPasarelaSimulada(
  config: Pick<
    Configuracion,
    | 'PASARELA_PERFIL'
    | 'PASARELA_LATENCIA_MIN_MS'
    | 'PASARELA_LATENCIA_MAX_MS'
    | 'PASARELA_TASA_RECHAZO'
    | 'PASARELA_TASA_TRANSITORIO'
    | 'PASARELA_TASA_SIN_RESPUESTA'
    | 'PASARELA_TASA_500_TRAS_COBRO'
    | 'PASARELA_TASA_EN_CURSO'
  >,
): PerfilPasarelaSimulada {
  const base = PERFILES_PASARELA_SIMULADA[config.PASARELA_PERFIL];
  return {
    latenciaMinMs: config.PASARELA_LATENCIA_MIN_MS ?? base.latenciaMinMs,
    latenciaMaxMs: config.PASARELA_LATENCIA_MAX_MS ?? base.latenciaMaxMs,
    tasaRechazo: config.PASARELA_TASA_RECHAZO ?? base.tasaRechazo,
    tasaTransitorio: config.PASARELA_TASA_TRANSITORIO ?? base.tasaTransitorio,
    tasaSinRespuesta: config.PASARELA_TASA_SIN_RESPUESTA ?? base.tasaSinRespuesta,
    tasa500TrasCobro: config.PASARELA_TASA_500_TRAS_COBRO ?? base.tasa500TrasCobro,
    tasaEnCurso: config.PASARELA_TASA_EN_CURSO ?? base.tasaEnCurso,
  };
}

/**
 * Valida el entorno (con `leerConfiguracion` de adaptadores, la misma lectura que los demás servicios:
 * un valor vacío cuenta como ausente) y después las reglas que cruzan variables. El error es UNA línea
 * en español que nombra la variable.
 */
export function leerConfiguracion(entorno: Readonly<Record<string, string | undefined>>): LecturaConfiguracion<Configuracion> {
  return leerEsquema(EsquemaConfiguracion, entorno, reglasCruzadas);
}
