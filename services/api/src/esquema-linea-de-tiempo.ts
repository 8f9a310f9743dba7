import * as v from 'valibot';

/** Un paso de una línea de tiempo entre procesos (ver `linea-de-tiempo.ts`). */
const fecha = v.pipe(v.string(), v.isoTimestamp());
export const EsquemaPasoLineaDeTiempo = v.pipe(
  v.object({
    secuencia: v.pipe(v.number(), v.description('La del registro de eventos del socio (GET /eventos).')),
    tipo: v.pipe(v.string(), v.examples(['pago.exitoso'])),
    ocurrido_en: fecha,
    registrado_en: fecha,
    id_solicitud: v.pipe(v.nullable(v.string()), v.description('Request-Id de la petición HTTP que lo causó (null si fue asíncrono).')),
    id_correlacion: v.nullable(v.string()),
    id_traza: v.pipe(v.nullable(v.string()), v.description('El trace-id W3C de la petición que lo causó, si traía traceparent.')),
    id_evento: v.pipe(v.nullable(v.string()), v.description('El evento de dominio del paso (historial, outbox y broker).')),
    publicado_en: v.pipe(v.nullable(fecha), v.description('Cuándo lo publicó el relay en el broker (null si aún no o no pasa por él).')),
    id_evento_webhook: v.pipe(v.string(), v.description('El webhook-id con que se entrega este paso.')),
    intentos_webhook: v.array(
      v.object({
        id_webhook: v.string(),
        intento: v.number(),
        ocurrido_en: fecha,
        codigo_estado: v.nullable(v.number()),
        duracion_ms: v.number(),
        resultado: v.picklist(['exitoso', 'error_http', 'tiempo_agotado', 'error_red']),
        error: v.nullable(v.string()),
        proximo_intento: v.nullable(fecha),
      }),
    ),
  }),
  v.title('PasoLineaDeTiempo'),
);
