import type { HechoMensaje, MensajeEntrante, MensajeSaliente, Publicador, ResultadoPublicacion } from '@aeropartners/aplicacion';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { iniciarTelemetria, type Telemetria } from './iniciar-telemetria.js';
import { atencionTrazada, publicadorTrazado, traceparentActivo } from './mensajeria.js';

const DESTINO = { sistema: 'aeropartners_embebido', topico: 'pagos' };
const TP_A = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const TP_B = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

let telemetria: Telemetria | undefined;
afterEach(async () => {
  await telemetria?.cerrar();
  telemetria = undefined;
});

function saliente(secuencia: number, traceparent?: string): MensajeSaliente {
  return {
    clave: `pago-${secuencia}`,
    secuencia,
    cuerpo: '{}',
    propiedades: {
      id_evento: `ev-${secuencia}`,
      tipo: 'PagoPendiente',
      version: '1',
      id_correlacion: 'c',
      ...(traceparent ? { traceparent } : {}),
    },
  };
}

function publicadorDe(resultado: (m: readonly MensajeSaliente[]) => Promise<readonly ResultadoPublicacion[]>): Publicador {
  return { nombreProductor: 'relay-1', ultimaSecuenciaAceptada: async () => null, publicar: resultado, cerrar: async () => undefined };
}

describe('spans de mensajería', () => {
  it('apagada: no se registra nada y nadie crea spans (el API se queda en su no-op)', async () => {
    telemetria = await iniciarTelemetria({}, { servicio: 'prueba' });
    expect(telemetria.activa).toBe(false);
    const span = trace.getTracer('prueba').startSpan('x');
    expect(span.isRecording()).toBe(false);
    trace.getTracer('prueba').startActiveSpan('y', (s) => {
      expect(traceparentActivo()).toBeUndefined();
      s.end();
    });
  });

  it('el relay: un span productor por lote, sin padre, con un link al contexto de creación de cada mensaje', async () => {
    const exportador = new InMemorySpanExporter();
    telemetria = await iniciarTelemetria({}, { servicio: 'prueba', exportador });
    const publicador = publicadorTrazado(
      publicadorDe(async (ms) => ms.map((m) => (m.secuencia === 2 ? 'duplicado' : 'aceptado'))),
      DESTINO,
    );
    const resultados = await publicador.publicar([saliente(1, TP_A), saliente(2, TP_B), saliente(3)]);
    expect(resultados).toEqual(['aceptado', 'duplicado', 'aceptado']);

    const [span, ...otros] = exportador.getFinishedSpans();
    expect(otros).toHaveLength(0);
    expect(span?.name).toBe('send pagos');
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.attributes).toMatchObject({
      'messaging.system': 'aeropartners_embebido',
      'messaging.destination.name': 'pagos',
      'messaging.operation.type': 'send',
      'messaging.batch.message_count': 3,
      'messaging.client.id': 'relay-1',
      'aeropartners.duplicados': 1,
    });
    expect(span?.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
      ['0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331'],
      ['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7'],
    ]);
  });

  it('el relay: un lote del tamaño por defecto (500) guarda los links de todos sus mensajes', async () => {
    const exportador = new InMemorySpanExporter();
    telemetria = await iniciarTelemetria({}, { servicio: 'prueba', exportador });
    const publicador = publicadorTrazado(
      publicadorDe(async (ms) => ms.map(() => 'aceptado')),
      DESTINO,
    );
    const lote = Array.from({ length: 500 }, (_, i) => saliente(i + 1, `00-${(i + 1).toString(16).padStart(32, '0')}-b7ad6b7169203331-01`));
    await publicador.publicar(lote);
    expect(exportador.getFinishedSpans()[0]?.links).toHaveLength(500);
  });

  it('el relay: un lote que falla deja su span en error y el fallo sigue su curso', async () => {
    const exportador = new InMemorySpanExporter();
    telemetria = await iniciarTelemetria({}, { servicio: 'prueba', exportador });
    const publicador = publicadorTrazado(
      publicadorDe(async () => {
        throw new Error('broker caído');
      }),
      DESTINO,
    );
    await expect(publicador.publicar([saliente(1, TP_A)])).rejects.toThrow('broker caído');
    expect(exportador.getFinishedSpans()[0]?.status).toMatchObject({ code: 2, message: 'broker caído' });
  });

  it('el consumidor: el span de proceso cuelga del contexto del mensaje, lo enlaza y está activo mientras se atiende', async () => {
    const exportador = new InMemorySpanExporter();
    telemetria = await iniciarTelemetria({}, { servicio: 'prueba', exportador });
    const envolver = atencionTrazada(DESTINO, 'consumidor-pagos');
    const mensaje: MensajeEntrante = {
      idMensaje: 'm-1',
      clave: 'pago-1',
      cuerpo: '{}',
      propiedades: { traceparent: TP_A, id_evento: 'ev-1' },
      entregas: 2,
      productor: 'relay-1',
      secuencia: 1,
    };
    let dentro: string | undefined;
    const hecho = await envolver(mensaje, async () => {
      dentro = traceparentActivo();
      trace.getTracer('prueba').startSpan('consulta').end();
      return { tipo: 'detras' } satisfies HechoMensaje;
    });
    expect(hecho).toEqual({ tipo: 'detras' });

    const spans = exportador.getFinishedSpans();
    const proceso = spans.find((s) => s.name === 'process pagos');
    const hijo = spans.find((s) => s.name === 'consulta');
    expect(proceso?.kind).toBe(SpanKind.CONSUMER);
    expect(proceso?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(proceso?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(proceso?.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
    expect(proceso?.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.destination.subscription.name': 'consumidor-pagos',
      'messaging.message.id': 'm-1',
      'aeropartners.entregas': 2,
      'aeropartners.desenlace': 'detras',
    });
    expect(dentro).toBe(`00-0af7651916cd43dd8448eb211c80319c-${proceso?.spanContext().spanId}-01`);
    expect(hijo?.parentSpanContext?.spanId).toBe(proceso?.spanContext().spanId);
  });

  it('el consumidor: un mensaje sin traceparent válido abre una traza nueva, sin link', async () => {
    const exportador = new InMemorySpanExporter();
    telemetria = await iniciarTelemetria({}, { servicio: 'prueba', exportador });
    const envolver = atencionTrazada(DESTINO, 'consumidor-pagos');
    const mensaje: MensajeEntrante = {
      idMensaje: 'm-2',
      clave: 'pago-2',
      cuerpo: '{}',
      propiedades: { traceparent: 'no-es-un-traceparent' },
      entregas: 1,
      productor: 'relay-1',
      secuencia: 2,
    };
    await envolver(mensaje, async () => ({ tipo: 'sobreInvalido', motivo: 'falta la propiedad id_evento del mensaje' }));
    const [proceso] = exportador.getFinishedSpans();
    expect(proceso?.parentSpanContext).toBeUndefined();
    expect(proceso?.links).toEqual([]);
    expect(proceso?.status).toMatchObject({ code: 2, message: 'falta la propiedad id_evento del mensaje' });
  });
});
