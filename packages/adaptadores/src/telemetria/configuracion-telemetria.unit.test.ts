import { describe, expect, it } from 'vitest';
import { leerConfiguracionTelemetria } from './configuracion-telemetria.js';

const leer = (entorno: Record<string, string>) => leerConfiguracionTelemetria(entorno, 'servicio-prueba');

describe('configuración de trazas (variables OTEL_*)', () => {
  it('apagada sin variables, con OTEL_TRACES_EXPORTER=none y con OTEL_SDK_DISABLED=true', () => {
    expect(leer({})).toEqual({ ok: true, valor: { activa: false } });
    expect(leer({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' })).toEqual({
      ok: true,
      valor: { activa: false },
    });
    expect(leer({ OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' })).toEqual({
      ok: true,
      valor: { activa: false },
    });
  });

  it('un destino OTLP la enciende: el general con /v1/traces detrás, el de trazas tal cual', () => {
    const general = leer({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318/', OTEL_SERVICE_NAME: 'api-1' });
    expect(general).toEqual({
      ok: true,
      valor: {
        activa: true,
        exportadores: ['otlp'],
        urlOtlp: 'http://jaeger:4318/v1/traces',
        muestreo: { tipo: 'parentbased_always_on' },
        nombreServicio: 'api-1',
      },
    });
    const propio = leer({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otro:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c:4318/trazas' });
    expect(propio.ok && propio.valor.activa && propio.valor.urlOtlp).toBe('https://c:4318/trazas');
  });

  it('OTEL_TRACES_EXPORTER=otlp sin destino usa el de la especificación; console también vale', () => {
    const r = leer({ OTEL_TRACES_EXPORTER: 'otlp, console' });
    expect(r.ok && r.valor.activa && [r.valor.exportadores, r.valor.urlOtlp, r.valor.nombreServicio]).toEqual([
      ['otlp', 'console'],
      'http://localhost:4318/v1/traces',
      'servicio-prueba',
    ]);
  });

  it('el muestreo: una proporción con su argumento', () => {
    const r = leer({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' });
    expect(r.ok && r.valor.activa && r.valor.muestreo).toEqual({ tipo: 'parentbased_traceidratio', proporcion: 0.25 });
  });

  it.each([
    [{ OTEL_SDK_DISABLED: 'quizá' }, 'OTEL_SDK_DISABLED'],
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'jaeger:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://jaeger/v1/traces' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [{ OTEL_TRACES_SAMPLER: 'a_veces' }, 'OTEL_TRACES_SAMPLER'],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG'],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'mitad' }, 'OTEL_TRACES_SAMPLER_ARG'],
  ])('un valor malo es un error de una línea que nombra la variable: %o', (entorno, variable) => {
    const r = leer(entorno);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toContain(variable);
    expect(r.error).toMatch(/^Configuración de trazas no válida: /);
    expect(r.error).not.toContain('\n');
  });

  it('un valor malo falla aunque OTEL_SDK_DISABLED la apague (no se descubre el día que se enciende)', () => {
    expect(leer({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'jaeger' }).ok).toBe(false);
  });
});
