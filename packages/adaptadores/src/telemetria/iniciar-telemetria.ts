import { createRequire } from 'node:module';
import { syncBuiltinESMExports } from 'node:module';
import { context, diag, DiagLogLevel, propagation, trace, type DiagLogFunction } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { leerConfiguracionTelemetria, type Muestreo } from './configuracion-telemetria.js';

/**
 * Las trazas de un proceso con OpenTelemetry: proveedor, contexto por `AsyncLocalStorage`, propagador
 * W3C `traceparent` e instrumentación de `http`/`https` (servidor de la API, Stripe, webhooks) y `pg`.
 *
 * Apagada (lo normal sin `OTEL_*`), no se carga el SDK ni se registra nada: el API de OpenTelemetry se
 * queda en su no-op, `traceparentActivo()` devuelve `undefined` y nadie crea spans.
 */
export interface Telemetria {
  readonly activa: boolean;
  /** Exporta lo pendiente y deja los globales como estaban (no-op). */
  cerrar(): Promise<void>;
}

export interface OpcionesTelemetria {
  /** `service.name` si no llega `OTEL_SERVICE_NAME`. */
  readonly servicio: string;
  /** Dónde contar los fallos del propio SDK (p. ej. el colector no responde). */
  readonly alAvisar?: (mensaje: string) => void;
  /** Los tests: exporta aquí, span a span, aunque el entorno no diga nada. */
  readonly exportador?: SpanExporter;
}

const APAGADA: Telemetria = { activa: false, cerrar: async () => undefined };

/** Rutas que no se trazan: las sondas y el raspado de métricas llegan cada pocos segundos y no cuentan nada. */
const SIN_TRAZA = /^\/(health|metrics)(\/|\?|$)/;

/** Arranca las trazas según `entorno`; un valor malo de `OTEL_*` lanza con UNA línea que lo nombra. */
export async function iniciarTelemetria(
  entorno: Readonly<Record<string, string | undefined>>,
  opciones: OpcionesTelemetria,
): Promise<Telemetria> {
  const lectura = leerConfiguracionTelemetria(entorno, opciones.servicio);
  if (!lectura.ok) throw new Error(lectura.error);
  const config = lectura.valor;
  if (!config.activa && opciones.exportador === undefined) return APAGADA;

  // Solo encendida se carga el SDK (y su coste de arranque).
  const [base, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, recursos, { registerInstrumentations }, http, pg] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/core'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/instrumentation'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-pg'),
    ]);

  const procesadores = [];
  if (opciones.exportador) procesadores.push(new base.SimpleSpanProcessor(opciones.exportador));
  if (config.activa) {
    for (const nombre of config.exportadores) {
      if (nombre === 'console') {
        procesadores.push(new base.BatchSpanProcessor(new base.ConsoleSpanExporter()));
      } else {
        const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
        procesadores.push(new base.BatchSpanProcessor(new OTLPTraceExporter({ url: config.urlOtlp })));
      }
    }
  }
  const nombreServicio = config.activa ? config.nombreServicio : opciones.servicio;
  const proveedor = new base.BasicTracerProvider({
    resource: recursos
      .resourceFromAttributes({ 'service.name': nombreServicio })
      .merge(recursos.detectResources({ detectors: [recursos.envDetector] })),
    sampler: muestreador(base, config.activa ? config.muestreo : { tipo: 'parentbased_always_on' }),
    spanProcessors: procesadores,
    // El span de un lote del relay lleva un link por mensaje (decisión 0197): cabe el lote más grande (RELAY_LOTE).
    spanLimits: { linkCountLimit: 10_000 },
  });

  if (opciones.alAvisar) {
    const avisar: DiagLogFunction = (mensaje, ...resto) =>
      opciones.alAvisar?.(`OpenTelemetry: ${mensaje}${resto.length > 0 ? ` ${resto.map(String).join(' ')}` : ''}`);
    diag.setLogger({ error: avisar, warn: avisar, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
  }
  const gestor = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(gestor);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(proveedor);

  const instrumentaciones = [
    new http.HttpInstrumentation({
      ignoreIncomingRequestHook: (peticion) => SIN_TRAZA.test(peticion.url ?? ''),
      // Las llamadas salientes (Stripe, webhooks) solo dentro de una traza: un sondeo suelto no es una operación.
      requireParentforOutgoingSpans: true,
    }),
    // Lo mismo con las consultas: sin esto cada sondeo del relay, del broker y del barrendero sería una traza.
    new pg.PgInstrumentation({ requireParentSpan: true }),
  ];
  const quitarInstrumentacion = registerInstrumentations({ tracerProvider: proveedor, instrumentations: instrumentaciones });
  parchearCargados();

  return {
    activa: true,
    async cerrar() {
      await proveedor.shutdown();
      quitarInstrumentacion();
      trace.disable();
      propagation.disable();
      context.disable();
      diag.disable();
    },
  };
}

/**
 * La instrumentación parchea un módulo cuando alguien lo pide con `require` después de registrarla. Aquí
 * todo es ESM y ya está cargado: `pg` (su entrada ESM reexporta las clases de la CommonJS), `http` y
 * `https` se piden otra vez para que los parchee (`Client.prototype`, `Server.prototype.emit` y
 * `request` son los mismos objetos que usa el resto del proceso) y se sincronizan las exportaciones ESM
 * de los módulos del núcleo.
 */
function parchearCargados(): void {
  const requerir = createRequire(import.meta.url);
  requerir('node:http');
  requerir('node:https');
  const requerirDePg = createRequire(requerir.resolve('pg'));
  requerirDePg('pg');
  requerirDePg('pg-pool');
  syncBuiltinESMExports();
}

type SdkBase = typeof import('@opentelemetry/sdk-trace-base');

function muestreador(base: SdkBase, muestreo: Muestreo) {
  switch (muestreo.tipo) {
    case 'always_on':
      return new base.AlwaysOnSampler();
    case 'always_off':
      return new base.AlwaysOffSampler();
    case 'traceidratio':
      return new base.TraceIdRatioBasedSampler(muestreo.proporcion);
    case 'parentbased_always_on':
      return new base.ParentBasedSampler({ root: new base.AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new base.ParentBasedSampler({ root: new base.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new base.ParentBasedSampler({ root: new base.TraceIdRatioBasedSampler(muestreo.proporcion) });
  }
}

/** Como `iniciarTelemetria`, pero un `OTEL_*` mal puesto termina el proceso con una línea clara y código 1. */
export async function iniciarTelemetriaOSalir(
  opciones: OpcionesTelemetria,
  entorno: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Telemetria> {
  const lectura = leerConfiguracionTelemetria(entorno, opciones.servicio);
  if (!lectura.ok) {
    process.stderr.write(`${lectura.error}\n`);
    process.exit(1);
  }
  return iniciarTelemetria(entorno, opciones);
}
