import { describe, expect, it } from 'vitest';
import { leerConfiguracionRelay } from './config.js';

const URL_PG = 'postgres://u:p@localhost:5432/pagos';

describe('configuración del relay', () => {
  it('con solo DATABASE_URL toma los valores por defecto', () => {
    const r = leerConfiguracionRelay({ DATABASE_URL: URL_PG });
    expect(r).toMatchObject({
      ok: true,
      config: {
        BROKER_TOPICO: 'pagos',
        RELAY_PRODUCTOR: 'relay-outbox-0',
        RELAY_LOTE: 500,
        BROKER_DUPLICAR_ENTREGAS: false,
        RELAY_MORIR_TRAS_PUBLICAR: 0,
        RETENCION_DIAS: 30,
        RETENCION_PURGA_PERIODO_MS: 60_000,
        RETENCION_PURGA_LOTE: 1000,
        WEBHOOKS_PERMITIR_RED_LOCAL: false,
        WEBHOOKS_CALENDARIO: [5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 86_400_000],
        WEBHOOKS_TIEMPO_MAXIMO_MS: 10_000,
        WEBHOOKS_CONCURRENCIA: 128,
        WEBHOOKS_POR_DESTINO: 16,
      },
    });
  });

  it('un calendario de webhooks acortado (tests) se lee con sus unidades', () => {
    const r = leerConfiguracionRelay({ DATABASE_URL: URL_PG, WEBHOOKS_CALENDARIO: '50ms,1s', WEBHOOKS_PERMITIR_RED_LOCAL: 'true' });
    expect(r).toMatchObject({ ok: true, config: { WEBHOOKS_CALENDARIO: [50, 1000], WEBHOOKS_PERMITIR_RED_LOCAL: true } });
  });

  it('acepta un tópico completo de Pulsar y una URL de Pulsar', () => {
    const r = leerConfiguracionRelay({
      DATABASE_URL: URL_PG,
      PULSAR_URL: 'pulsar://pulsar:6650',
      BROKER_TOPICO: 'persistent://public/default/pagos',
    });
    expect(r.ok).toBe(true);
  });

  it.each([
    [{}, 'falta DATABASE_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: URL_PG, RELAY_LOTE: '0' }, 'RELAY_LOTE'],
    [{ DATABASE_URL: URL_PG, RELAY_LOTE: 'muchos' }, 'RELAY_LOTE'],
    [{ DATABASE_URL: URL_PG, PULSAR_URL: 'http://pulsar' }, 'PULSAR_URL'],
    [{ DATABASE_URL: URL_PG, BROKER_DUPLICAR_ENTREGAS: 'quizá' }, 'BROKER_DUPLICAR_ENTREGAS'],
    [{ DATABASE_URL: URL_PG, LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: URL_PG, RETENCION_DIAS: '0' }, 'RETENCION_DIAS'],
    [{ DATABASE_URL: URL_PG, RETENCION_DIAS: 'treinta' }, 'RETENCION_DIAS'],
    [{ DATABASE_URL: URL_PG, RETENCION_DIAS: '7.5' }, 'RETENCION_DIAS'],
    [{ DATABASE_URL: URL_PG, RETENCION_PURGA_LOTE: '0' }, 'RETENCION_PURGA_LOTE'],
    [{ DATABASE_URL: URL_PG, WEBHOOKS_CALENDARIO: '5s,pronto' }, 'WEBHOOKS_CALENDARIO'],
    [{ DATABASE_URL: URL_PG, WEBHOOKS_PERMITIR_RED_LOCAL: 'si' }, 'WEBHOOKS_PERMITIR_RED_LOCAL'],
    [{ DATABASE_URL: URL_PG, WEBHOOKS_POR_DESTINO: '0' }, 'WEBHOOKS_POR_DESTINO'],
  ])('un valor inválido da UNA línea que nombra la variable: %j', (entorno, nombre) => {
    const r = leerConfiguracionRelay(entorno);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.mensaje).toContain(nombre);
    expect(r.mensaje.split('\n')).toHaveLength(1);
  });
});
