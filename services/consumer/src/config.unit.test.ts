import { describe, expect, it } from 'vitest';
import { EsquemaConfiguracion, leerConfiguracion, perfilPasarelaSimulada, type Configuracion } from './config.js';

const URL_PG = 'postgres://usuario:clave@127.0.0.1:5432/pagos';

function leer(entorno: Record<string, string>): Configuracion {
  const r = leerConfiguracion(entorno);
  if (!r.ok) throw new Error(r.mensaje);
  return r.config;
}

function error(entorno: Record<string, string>): string {
  const r = leerConfiguracion(entorno);
  if (r.ok) throw new Error('se esperaba un error');
  return r.mensaje;
}

describe('leerConfiguracion del consumidor', () => {
  it('con solo DATABASE_URL, entonces aplica los valores por defecto (broker embebido, pasarela simulada local)', () => {
    expect(leer({ DATABASE_URL: URL_PG })).toEqual({
      DATABASE_URL: URL_PG,
      PG_POOL_SIZE: 20,
      BROKER_TOPICO: 'pagos',
      CONSUMIDOR_SUSCRIPCION: 'consumidor-pagos',
      CONSUMIDOR_EN_VUELO: 64,
      BROKER_MAXIMO_ENTREGAS: 50,
      BROKER_RETRASO_REENTREGA_MS: 1000,
      BROKER_DUPLICAR_ENTREGAS: false,
      PASARELA: 'simulada',
      PASARELA_PERFIL: 'local',
      PASARELA_INTENTOS: 4,
      PASARELA_BACKOFF_MS: 200,
      CONSUMIDOR_TURNO_COBRO_MS: 5_000,
      LOG_LEVEL: 'info',
      PUERTO_SALUD: 8002,
      SHUTDOWN_TIMEOUT_MS: 30_000,
      BARRENDERO: true,
      BARRENDERO_LOTE: 100,
      LIQUIDACIONES: true,
      LIQUIDACIONES_CADA: 86_400_000,
      LIQUIDACIONES_CIERRE_MS: 5_000,
      CONVERSIONES_ESPERA_MAXIMA: 86_400_000,
    });
  });

  it('LIQUIDACIONES_CADA y CONVERSIONES_ESPERA_MAXIMA aceptan duraciones con unidad y rechazan lo demás con una línea clara', () => {
    const c = leer({ DATABASE_URL: URL_PG, LIQUIDACIONES_CADA: '30m', CONVERSIONES_ESPERA_MAXIMA: '90s', LIQUIDACIONES: 'false' });
    expect(c).toMatchObject({ LIQUIDACIONES_CADA: 1_800_000, CONVERSIONES_ESPERA_MAXIMA: 90_000, LIQUIDACIONES: false });
    expect(() => leer({ DATABASE_URL: URL_PG, LIQUIDACIONES_CADA: 'cada día' })).toThrow(/LIQUIDACIONES_CADA debe ser una duración/);
    expect(() => leer({ DATABASE_URL: URL_PG, LIQUIDACIONES_CADA: '0' })).toThrow(/LIQUIDACIONES_CADA/);
  });

  it('con todos los valores, entonces los convierte a sus tipos', () => {
    const c = leer({
      DATABASE_URL: 'postgresql://otro/db',
      PULSAR_URL: 'pulsar://pulsar:6650',
      BROKER_TOPICO: 'persistent://public/default/pagos',
      CONSUMIDOR_SUSCRIPCION: 'consumidor-b',
      CONSUMIDOR_EN_VUELO: ' 256 ',
      BROKER_MAXIMO_ENTREGAS: '3',
      BROKER_RETRASO_REENTREGA_MS: '50',
      PASARELA: 'stripe',
      PASARELA_INTENTOS: '2',
      PASARELA_BACKOFF_MS: '0',
      STRIPE_API_KEY: 'sk_test_123',
      STRIPE_CUENTAS_AFILIADOS: '{"afiliado-1":"acct_1AbC","afiliado-2":"acct_2XyZ"}',
      STRIPE_URL_API: 'http://127.0.0.1:12111',
      PG_POOL_SIZE: '5',
      LOG_LEVEL: 'debug',
      PUERTO_SALUD: '0',
      SHUTDOWN_TIMEOUT_MS: '500',
      OTRA_VARIABLE: 'se ignora',
    });
    expect(c).toMatchObject({
      PULSAR_URL: 'pulsar://pulsar:6650',
      BROKER_TOPICO: 'persistent://public/default/pagos',
      CONSUMIDOR_EN_VUELO: 256,
      BROKER_MAXIMO_ENTREGAS: 3,
      PASARELA: 'stripe',
      STRIPE_CUENTAS_AFILIADOS: { 'afiliado-1': 'acct_1AbC', 'afiliado-2': 'acct_2XyZ' },
      PUERTO_SALUD: 0,
    });
    expect(c).not.toHaveProperty('OTRA_VARIABLE');
  });

  it('el perfil de la pasarela simulada se toma de PASARELA_PERFIL y las variables lo sobrescriben', () => {
    expect(perfilPasarelaSimulada(leer({ DATABASE_URL: URL_PG, PASARELA_PERFIL: 'semilla' }))).toEqual({
      latenciaMinMs: 2000,
      latenciaMaxMs: 8000,
      tasaRechazo: 0.5,
      tasaTransitorio: 0,
      tasaSinRespuesta: 0,
      tasa500TrasCobro: 0,
      tasaEnCurso: 0,
    });
    const c = leer({
      DATABASE_URL: URL_PG,
      PASARELA_PERFIL: 'sin-latencia',
      PASARELA_TASA_RECHAZO: '0',
      PASARELA_TASA_TRANSITORIO: '0.25',
      PASARELA_TASA_SIN_RESPUESTA: '0.03',
      PASARELA_TASA_500_TRAS_COBRO: '0.01',
      PASARELA_SEMILLA: 'experimento-7',
    });
    expect(perfilPasarelaSimulada(c)).toEqual({
      latenciaMinMs: 0,
      latenciaMaxMs: 0,
      tasaRechazo: 0,
      tasaTransitorio: 0.25,
      tasaSinRespuesta: 0.03,
      tasa500TrasCobro: 0.01,
      tasaEnCurso: 0, // la del perfil
    });
    expect(c.PASARELA_SEMILLA).toBe('experimento-7');
    expect(
      perfilPasarelaSimulada(leer({ DATABASE_URL: URL_PG, PASARELA_LATENCIA_MIN_MS: '5', PASARELA_LATENCIA_MAX_MS: '5' })),
    ).toMatchObject({
      latenciaMinMs: 5,
      latenciaMaxMs: 5,
    });
  });

  it('BROKER_DUPLICAR_ENTREGAS admite true/false/1/0', () => {
    expect(leer({ DATABASE_URL: URL_PG, BROKER_DUPLICAR_ENTREGAS: 'true' }).BROKER_DUPLICAR_ENTREGAS).toBe(true);
    expect(leer({ DATABASE_URL: URL_PG, BROKER_DUPLICAR_ENTREGAS: '0' }).BROKER_DUPLICAR_ENTREGAS).toBe(false);
  });

  it('un valor vacío cuenta como ausente', () => {
    const c = leer({ DATABASE_URL: URL_PG, CONSUMIDOR_EN_VUELO: '', PULSAR_URL: '  ' });
    expect(c.CONSUMIDOR_EN_VUELO).toBe(64);
    expect(c.PULSAR_URL).toBeUndefined();
  });

  it.each([
    [{}, 'DATABASE_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: URL_PG, PULSAR_URL: 'http://pulsar:8080' }, 'PULSAR_URL'],
    [{ DATABASE_URL: URL_PG, CONSUMIDOR_EN_VUELO: '0' }, 'CONSUMIDOR_EN_VUELO'],
    [{ DATABASE_URL: URL_PG, CONSUMIDOR_EN_VUELO: 'muchos' }, 'CONSUMIDOR_EN_VUELO'],
    [{ DATABASE_URL: URL_PG, BROKER_MAXIMO_ENTREGAS: '0' }, 'BROKER_MAXIMO_ENTREGAS'],
    [{ DATABASE_URL: URL_PG, CONSUMIDOR_SUSCRIPCION: 'con espacios' }, 'CONSUMIDOR_SUSCRIPCION'],
    [{ DATABASE_URL: URL_PG, PASARELA: 'paypal' }, 'PASARELA'],
    [{ DATABASE_URL: URL_PG, PASARELA_PERFIL: 'lento' }, 'PASARELA_PERFIL'],
    [{ DATABASE_URL: URL_PG, PASARELA_TASA_RECHAZO: '1.5' }, 'PASARELA_TASA_RECHAZO'],
    [{ DATABASE_URL: URL_PG, PASARELA_TASA_TRANSITORIO: '-0.1' }, 'PASARELA_TASA_TRANSITORIO'],
    [{ DATABASE_URL: URL_PG, PASARELA_TASA_SIN_RESPUESTA: '1.01' }, 'PASARELA_TASA_SIN_RESPUESTA'],
    [{ DATABASE_URL: URL_PG, PASARELA_TASA_500_TRAS_COBRO: 'mucho' }, 'PASARELA_TASA_500_TRAS_COBRO'],
    [{ DATABASE_URL: URL_PG, PASARELA_TASA_EN_CURSO: '-1' }, 'PASARELA_TASA_EN_CURSO'],
    [
      { DATABASE_URL: URL_PG, PASARELA_TASA_EN_CURSO: '0.6', PASARELA_TASA_SIN_RESPUESTA: '0.5' },
      'PASARELA_TASA_EN_CURSO + PASARELA_TASA_SIN_RESPUESTA',
    ],
    [{ DATABASE_URL: URL_PG, PASARELA_LATENCIA_MAX_MS: '2.5' }, 'PASARELA_LATENCIA_MAX_MS'],
    [{ DATABASE_URL: URL_PG, PASARELA_LATENCIA_MIN_MS: '100' }, 'PASARELA_LATENCIA_MIN_MS'], // el perfil local llega a 20
    [{ DATABASE_URL: URL_PG, PASARELA_LATENCIA_MIN_MS: '10', PASARELA_LATENCIA_MAX_MS: '5' }, 'PASARELA_LATENCIA_MIN_MS'],
    [{ DATABASE_URL: URL_PG, PASARELA_INTENTOS: '0' }, 'PASARELA_INTENTOS'],
    [{ DATABASE_URL: URL_PG, PASARELA: 'stripe' }, 'STRIPE_API_KEY'],
    [{ DATABASE_URL: URL_PG, PASARELA: 'stripe', STRIPE_API_KEY: 'sk_test_1' }, 'STRIPE_CUENTAS_AFILIADOS'],
    [{ DATABASE_URL: URL_PG, STRIPE_API_KEY: 'pk_test_1' }, 'STRIPE_API_KEY'],
    [{ DATABASE_URL: URL_PG, STRIPE_CUENTAS_AFILIADOS: '{afiliado: acct_1}' }, 'STRIPE_CUENTAS_AFILIADOS'],
    [{ DATABASE_URL: URL_PG, STRIPE_CUENTAS_AFILIADOS: '["acct_1"]' }, 'STRIPE_CUENTAS_AFILIADOS'],
    [{ DATABASE_URL: URL_PG, STRIPE_CUENTAS_AFILIADOS: '{"a":"cuenta-1"}' }, 'STRIPE_CUENTAS_AFILIADOS'],
    [{ DATABASE_URL: URL_PG, STRIPE_URL_API: 'ftp://stripe' }, 'STRIPE_URL_API'],
    [{ DATABASE_URL: URL_PG, BROKER_DUPLICAR_ENTREGAS: 'si' }, 'BROKER_DUPLICAR_ENTREGAS'],
    [{ DATABASE_URL: URL_PG, BROKER_DUPLICAR_ENTREGAS: 'true', PULSAR_URL: 'pulsar://p:6650' }, 'BROKER_DUPLICAR_ENTREGAS'],
    [{ DATABASE_URL: URL_PG, PUERTO_SALUD: '70000' }, 'PUERTO_SALUD'],
    [{ DATABASE_URL: URL_PG, LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
  ])('dado %o, entonces UNA línea en español que nombra %s', (entorno, variable) => {
    const mensaje = error(entorno as Record<string, string>);
    expect(mensaje).toMatch(/^Configuración no válida: .+\.$/);
    expect(mensaje).toContain(variable);
    expect(mensaje).not.toContain('\n');
    expect(mensaje).not.toMatch(/Invalid|Expected|received/);
  });

  it('cada variable del esquema lleva su descripción (para la tabla del README)', () => {
    for (const [nombre, esquema] of Object.entries(EsquemaConfiguracion.entries)) {
      const descripcion = 'pipe' in esquema ? esquema.pipe.find((p) => p.type === 'description') : undefined;
      expect(descripcion, nombre).toBeDefined();
    }
  });
});
