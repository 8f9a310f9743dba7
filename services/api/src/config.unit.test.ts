import { describe, expect, it } from 'vitest';
import { EsquemaConfiguracion, leerConfiguracion } from './config.js';

const URL_PG = 'postgres://usuario:clave@127.0.0.1:5432/pagos';

describe('leerConfiguracion', () => {
  it('con solo DATABASE_URL, entonces aplica los valores por defecto', () => {
    expect(leerConfiguracion({ DATABASE_URL: URL_PG })).toEqual({
      ok: true,
      config: {
        PORT: 8000,
        HOST: '0.0.0.0',
        DATABASE_URL: URL_PG,
        PG_POOL_SIZE: 20,
        PG_CREACIONES_EN_VUELO: 1,
        IDEMPOTENCIA_CACHE_ENTRADAS: 10_000,
        LOG_LEVEL: 'info',
        API_LIMITE_RPS: 1000,
        API_INSTANCIAS: 1,
        SHUTDOWN_DELAY_MS: 0,
        SHUTDOWN_TIMEOUT_MS: 10_000,
        WEBHOOKS_PERMITIR_RED_LOCAL: false,
        WEBHOOKS_GRACIA_SECRETO_S: 86_400,
      },
    });
  });

  it('con todos los valores, entonces los convierte a sus tipos', () => {
    const r = leerConfiguracion({
      DATABASE_URL: 'postgresql://otro/db',
      PORT: '0',
      HOST: '127.0.0.1',
      PG_POOL_SIZE: ' 50 ',
      PG_CREACIONES_EN_VUELO: '1',
      IDEMPOTENCIA_CACHE_ENTRADAS: '0',
      LOG_LEVEL: 'debug',
      API_ANONIMA_SOCIO: 'socio.alpes-1',
      API_LIMITE_RPS: '50',
      API_INSTANCIAS: '3',
      SHUTDOWN_DELAY_MS: '2500',
      SHUTDOWN_TIMEOUT_MS: '500',
      WEBHOOKS_PERMITIR_RED_LOCAL: 'true',
      WEBHOOKS_GRACIA_SECRETO_S: '60',
      OTRA_VARIABLE: 'se ignora',
    });
    expect(r).toEqual({
      ok: true,
      config: {
        PORT: 0,
        HOST: '127.0.0.1',
        DATABASE_URL: 'postgresql://otro/db',
        PG_POOL_SIZE: 50,
        PG_CREACIONES_EN_VUELO: 1,
        IDEMPOTENCIA_CACHE_ENTRADAS: 0,
        LOG_LEVEL: 'debug',
        API_ANONIMA_SOCIO: 'socio.alpes-1',
        API_LIMITE_RPS: 50,
        API_INSTANCIAS: 3,
        SHUTDOWN_DELAY_MS: 2500,
        SHUTDOWN_TIMEOUT_MS: 500,
        WEBHOOKS_PERMITIR_RED_LOCAL: true,
        WEBHOOKS_GRACIA_SECRETO_S: 60,
      },
    });
  });

  it('sin API_ANONIMA_SOCIO no hay modo anónimo (no tiene valor por defecto)', () => {
    const r = leerConfiguracion({ DATABASE_URL: URL_PG, API_ANONIMA_SOCIO: ' ' });
    expect(r.ok && r.config.API_ANONIMA_SOCIO).toBeUndefined();
  });

  it('un valor vacío cuenta como ausente', () => {
    const r = leerConfiguracion({ DATABASE_URL: URL_PG, PORT: '', LOG_LEVEL: '  ' });
    expect(r.ok && r.config.PORT).toBe(8000);
    expect(r.ok && r.config.LOG_LEVEL).toBe('info');
  });

  it.each([
    [{}, 'DATABASE_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: URL_PG, PORT: 'ochenta' }, 'PORT'],
    [{ DATABASE_URL: URL_PG, PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: URL_PG, PORT: '-1' }, 'PORT'],
    [{ DATABASE_URL: URL_PG, PG_POOL_SIZE: '0' }, 'PG_POOL_SIZE'],
    [{ DATABASE_URL: URL_PG, PG_POOL_SIZE: '2.5' }, 'PG_POOL_SIZE'],
    [{ DATABASE_URL: URL_PG, PG_CREACIONES_EN_VUELO: '0' }, 'PG_CREACIONES_EN_VUELO'],
    [{ DATABASE_URL: URL_PG, IDEMPOTENCIA_CACHE_ENTRADAS: '-1' }, 'IDEMPOTENCIA_CACHE_ENTRADAS'],
    [{ DATABASE_URL: URL_PG, LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: URL_PG, HOST: 'no valido' }, 'HOST'],
    [{ DATABASE_URL: URL_PG, API_ANONIMA_SOCIO: 'con espacios' }, 'API_ANONIMA_SOCIO'],
    [{ DATABASE_URL: URL_PG, API_ANONIMA_SOCIO: 'x'.repeat(65) }, 'API_ANONIMA_SOCIO'],
    [{ DATABASE_URL: URL_PG, API_LIMITE_RPS: '0' }, 'API_LIMITE_RPS'],
    [{ DATABASE_URL: URL_PG, API_LIMITE_RPS: 'mucho' }, 'API_LIMITE_RPS'],
    [{ DATABASE_URL: URL_PG, API_INSTANCIAS: '0' }, 'API_INSTANCIAS'],
    [{ DATABASE_URL: URL_PG, SHUTDOWN_TIMEOUT_MS: 'pronto' }, 'SHUTDOWN_TIMEOUT_MS'],
    [{ DATABASE_URL: URL_PG, WEBHOOKS_PERMITIR_RED_LOCAL: 'quizá' }, 'WEBHOOKS_PERMITIR_RED_LOCAL'],
    [{ DATABASE_URL: URL_PG, SHUTDOWN_DELAY_MS: '-5' }, 'SHUTDOWN_DELAY_MS'],
  ])('con %j, entonces UNA línea en español que nombra %s', (entorno, variable) => {
    const r = leerConfiguracion(entorno);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.mensaje).toMatch(/^Configuración no válida: /);
    expect(r.mensaje).toContain(variable);
    expect(r.mensaje).not.toContain('\n');
    expect(r.mensaje).not.toMatch(/Invalid|Expected|received/);
  });

  it('el esquema exportado describe cada variable (fuente de la tabla de configuración del README)', () => {
    for (const [nombre, esquema] of Object.entries(EsquemaConfiguracion.entries)) {
      const descripcion = 'pipe' in esquema ? esquema.pipe.find((a) => a.type === 'description') : undefined;
      expect(descripcion, nombre).toBeDefined();
    }
  });
});
