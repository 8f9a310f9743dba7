import type { HechoMensaje, MensajeEntrante, MensajeSaliente, Publicador } from '@aeropartners/aplicacion';
import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';

/**
 * Los spans de mensajería (convenciones semánticas de OpenTelemetry para mensajería): el `send` del
 * relay y el `process` del consumidor. El contexto que viaja es el que se guardó con la fila del outbox
 * (el span de la petición de la API), en la propiedad `traceparent` del mensaje; el relay no lo cambia
 * (el consumidor exige que las propiedades digan lo mismo que el cuerpo, que es la fila tal cual).
 *
 * Solo se usan con la telemetría encendida: apagada, el servicio no envuelve nada.
 */

const TRAZADOR = 'aeropartners-mensajeria';

/** Qué broker y qué tópico (`messaging.system`, `messaging.destination.name`). */
export interface DestinoMensajeria {
  /** `pulsar`, o `aeropartners_embebido` para el broker sobre PostgreSQL (no tiene nombre en las convenciones). */
  readonly sistema: string;
  readonly topico: string;
}

/** El destino según la configuración de un servicio: Pulsar si hay `PULSAR_URL`; si no, el broker embebido. */
export function destinoMensajeria(config: { readonly PULSAR_URL?: string | undefined; readonly BROKER_TOPICO: string }): DestinoMensajeria {
  return { sistema: config.PULSAR_URL === undefined ? 'aeropartners_embebido' : 'pulsar', topico: config.BROKER_TOPICO };
}

/** El contexto remoto de un `traceparent` (propiedad de un mensaje o metadato del outbox); `undefined` si no vale. */
export function contextoDeTraceparent(traceparent: string | undefined): Context | undefined {
  if (traceparent === undefined) return undefined;
  const extraido = propagation.extract(ROOT_CONTEXT, { traceparent });
  return trace.getSpanContext(extraido) ? extraido : undefined;
}

/** El `traceparent` del span activo; `undefined` sin span (la telemetría apagada, o fuera de una traza). */
export function traceparentActivo(): string | undefined {
  const span = trace.getActiveSpan();
  if (span === undefined) return undefined;
  const c = span.spanContext();
  if (!trace.isSpanContextValid(c)) return undefined;
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 1) === 1 ? '01' : '00'}`;
}

/**
 * Nombra el span servidor de la petición con su ruta (`POST /pagos/:id`, no solo `POST`: la
 * instrumentación de `http` no conoce las rutas de Hono) y le pone el pago, para buscarlo en el visor.
 * Sin span activo (la telemetría apagada) no hace nada.
 */
export function anotarSpanHttp(metodo: string, ruta: string, idPago: string | undefined): void {
  const span = trace.getActiveSpan();
  if (span === undefined) return;
  span.updateName(`${metodo} ${ruta}`);
  span.setAttribute('http.route', ruta);
  if (idPago !== undefined) span.setAttribute('aeropartners.id_pago', idPago);
}

/**
 * El publicador del relay con un span productor por lote (`send <tópico>`): un lote es UNA ida y vuelta al
 * broker con mensajes de muchas peticiones, así que el span no es hijo de ninguna y lleva un link al
 * contexto de creación de cada mensaje (el span de la API que escribió la fila), como piden las
 * convenciones para los envíos por lotes.
 */
export function publicadorTrazado(publicador: Publicador, destino: DestinoMensajeria): Publicador {
  const trazador = trace.getTracer(TRAZADOR);
  return {
    nombreProductor: publicador.nombreProductor,
    ultimaSecuenciaAceptada: () => publicador.ultimaSecuenciaAceptada(),
    cerrar: () => publicador.cerrar(),
    publicar(mensajes: readonly MensajeSaliente[]) {
      const links: Link[] = [];
      for (const m of mensajes) {
        const origen = contextoDeSpan(m.propiedades.traceparent);
        if (origen) links.push({ context: origen });
      }
      return trazador.startActiveSpan(
        `send ${destino.topico}`,
        {
          kind: SpanKind.PRODUCER,
          links,
          attributes: {
            'messaging.system': destino.sistema,
            'messaging.destination.name': destino.topico,
            'messaging.operation.type': 'send',
            'messaging.operation.name': 'send',
            'messaging.client.id': publicador.nombreProductor,
            'messaging.batch.message_count': mensajes.length,
          },
        },
        ROOT_CONTEXT,
        async (span) => {
          try {
            const resultados = await publicador.publicar(mensajes);
            span.setAttribute('aeropartners.duplicados', resultados.filter((r) => r === 'duplicado').length);
            return resultados;
          } catch (error) {
            marcarError(span, error);
            throw error;
          } finally {
            span.end();
          }
        },
      );
    },
  };
}

/**
 * Envuelve la atención de cada mensaje del consumidor en su span `process <tópico>` (CONSUMER), activo
 * mientras se maneja (las consultas y la llamada a la pasarela cuelgan de él). Lleva un link al
 * contexto del mensaje y además lo toma como padre: se procesa un mensaje por span, y así la petición
 * de la API y su proceso son UNA traza en el visor (decisión 0196).
 */
export function atencionTrazada(destino: DestinoMensajeria, suscripcion: string) {
  const trazador = trace.getTracer(TRAZADOR);
  return (mensaje: MensajeEntrante, atender: () => Promise<HechoMensaje>): Promise<HechoMensaje> => {
    const origen = contextoDeTraceparent(mensaje.propiedades['traceparent']);
    const spanOrigen = origen === undefined ? undefined : trace.getSpanContext(origen);
    return trazador.startActiveSpan(
      `process ${destino.topico}`,
      {
        kind: SpanKind.CONSUMER,
        links: spanOrigen ? [{ context: spanOrigen }] : [],
        attributes: {
          'messaging.system': destino.sistema,
          'messaging.destination.name': destino.topico,
          'messaging.destination.subscription.name': suscripcion,
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.message.id': mensaje.idMensaje,
          'aeropartners.id_pago': mensaje.clave,
          'aeropartners.entregas': mensaje.entregas,
          ...(mensaje.propiedades['id_evento'] ? { 'aeropartners.id_evento': mensaje.propiedades['id_evento'] } : {}),
        },
      },
      origen ?? ROOT_CONTEXT,
      async (span) => {
        try {
          const hecho = await atender();
          span.setAttributes(atributosDeHecho(hecho));
          if (hecho.tipo === 'fallo') marcarError(span, hecho.error);
          if (hecho.tipo === 'sobreInvalido') span.setStatus({ code: SpanStatusCode.ERROR, message: hecho.motivo });
          return hecho;
        } catch (error) {
          marcarError(span, error);
          throw error;
        } finally {
          span.end();
        }
      },
    );
  };
}

function contextoDeSpan(traceparent: string | undefined): SpanContext | undefined {
  const c = contextoDeTraceparent(traceparent);
  return c === undefined ? undefined : trace.getSpanContext(c);
}

function atributosDeHecho(hecho: HechoMensaje): Attributes {
  switch (hecho.tipo) {
    case 'manejado':
      return { 'aeropartners.desenlace': hecho.desenlace.tipo, 'aeropartners.tipo_evento': hecho.evento.tipo };
    case 'conversion':
      return { 'aeropartners.desenlace': hecho.desenlace, 'aeropartners.id_conversion': hecho.idConversion };
    default:
      return { 'aeropartners.desenlace': hecho.tipo };
  }
}

function marcarError(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
