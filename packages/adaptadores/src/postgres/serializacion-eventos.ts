import { Dinero, Resultado, type EventoPago, type Modo, type TipoEventoPago, type Trazabilidad } from '@aeropartners/dominio';
import * as v from 'valibot';

/**
 * Formato de un evento de pago en el outbox (y en el mensaje que publica el relay): columnas para
 * lo que se consulta (id de evento, agregado, versión, tipo) y dos JSON en snake_case.
 *
 * `payload` (el cuerpo del mensaje) repite `id_pago` y lleva `ocurrido_en` (ISO 8601, UTC) más los
 * datos del evento; los importes van en unidades menores enteras con su moneda, nunca como float:
 *
 * | tipo             | payload                                                                                       |
 * |------------------|-----------------------------------------------------------------------------------------------|
 * | `PagoPendiente`  | `id_pago, ocurrido_en, id_socio, modo, id_afiliado, monto_unidades_menores, moneda, referencia_pago` |
 * | `PagoProcesando` | `id_pago, ocurrido_en`                                                                        |
 * | `PagoExitoso`    | `id_pago, ocurrido_en, referencia_transaccion`                                                |
 * | `PagoFallido`    | `id_pago, ocurrido_en, mensaje_error`                                                         |
 *
 * `metadatos` lleva la trazabilidad: `{ id_correlacion, traceparent, id_solicitud }` (`traceparent` e
 * `id_solicitud` son `null` si no llegó ninguno).
 */
export interface FilaEventoOutbox {
  readonly id_evento: string;
  readonly id_agregado: string;
  readonly version_agregado: number;
  readonly tipo: TipoEventoPago;
  readonly payload: PayloadEvento;
  readonly metadatos: MetadatosEvento;
}

export type PayloadEvento =
  | {
      readonly id_pago: string;
      readonly ocurrido_en: string;
      readonly id_socio: string;
      readonly modo: Modo;
      readonly id_afiliado: string;
      readonly monto_unidades_menores: number;
      readonly moneda: string;
      readonly referencia_pago: string;
    }
  | { readonly id_pago: string; readonly ocurrido_en: string }
  | { readonly id_pago: string; readonly ocurrido_en: string; readonly referencia_transaccion: string }
  | { readonly id_pago: string; readonly ocurrido_en: string; readonly mensaje_error: string };

export interface MetadatosEvento {
  readonly id_correlacion: string;
  readonly traceparent: string | null;
  /** `Request-Id` de la petición que causó el evento; `null` si no vino de una. */
  readonly id_solicitud: string | null;
}

/** Lo que se lee de vuelta (de la tabla o de un mensaje): nada se da por bueno sin validarlo. */
export interface FilaEventoOutboxLeida {
  readonly id_evento: unknown;
  readonly id_agregado: unknown;
  readonly version_agregado: unknown;
  readonly tipo: unknown;
  readonly payload: unknown;
  readonly metadatos?: unknown;
}

export type ErrorEventoOutbox = { readonly tipo: 'EventoInvalido'; readonly motivo: string };

export interface EventoDeOutbox {
  readonly evento: EventoPago;
  readonly traza: Trazabilidad;
}

/** Serializa un evento de dominio y su trazabilidad como fila del outbox. */
export function eventoAFila(evento: EventoPago, traza: Trazabilidad): FilaEventoOutbox {
  const base = { id_pago: evento.idPago, ocurrido_en: evento.ocurridoEn.toISOString() };
  let payload: PayloadEvento;
  switch (evento.tipo) {
    case 'PagoPendiente':
      payload = {
        ...base,
        id_socio: evento.datos.idSocio,
        modo: evento.datos.modo,
        id_afiliado: evento.datos.idAfiliado,
        monto_unidades_menores: evento.datos.unidadesMenores,
        moneda: evento.datos.moneda,
        referencia_pago: evento.datos.referenciaPago,
      };
      break;
    case 'PagoProcesando':
      payload = base;
      break;
    case 'PagoExitoso':
      payload = { ...base, referencia_transaccion: evento.datos.referenciaTransaccion };
      break;
    case 'PagoFallido':
      payload = { ...base, mensaje_error: evento.datos.mensajeError };
      break;
  }
  return {
    id_evento: evento.idEvento,
    id_agregado: evento.idPago,
    version_agregado: evento.version,
    tipo: evento.tipo,
    payload,
    metadatos: { id_correlacion: traza.idCorrelacion, traceparent: traza.traceparent ?? null, id_solicitud: traza.idSolicitud ?? null },
  };
}

const Texto = v.pipe(v.string(), v.minLength(1, 'no puede estar vacío'), v.maxLength(1000, 'es demasiado largo'));
const Uuid = v.pipe(v.string(), v.uuid('debe ser un UUID'));
const Instante = v.pipe(v.string(), v.isoTimestamp('debe ser una fecha ISO 8601'));
const Version = v.pipe(v.number('debe ser un número'), v.integer('debe ser entero'), v.minValue(1, 'debe ser ≥ 1'));

const Metadatos = v.object(
  {
    id_correlacion: Texto,
    traceparent: v.nullish(v.pipe(v.string(), v.maxLength(512, 'es demasiado largo'))),
    id_solicitud: v.nullish(v.pipe(v.string(), v.maxLength(200, 'es demasiado largo'))),
  },
  'debe ser un objeto',
);

/** Una variante por tipo de evento: cabecera común + payload propio. */
function variante<const T extends TipoEventoPago, const D extends v.ObjectEntries>(tipo: T, datos: D) {
  return v.object({
    id_evento: Uuid,
    id_agregado: Uuid,
    version_agregado: Version,
    tipo: v.literal(tipo),
    payload: v.object({ id_pago: Uuid, ocurrido_en: Instante, ...datos }, 'debe ser un objeto'),
    metadatos: Metadatos,
  });
}

const FilaValida = v.variant(
  'tipo',
  [
    variante('PagoPendiente', {
      id_socio: Texto,
      // Los eventos anteriores al modo de prueba no lo llevan: eran todos reales.
      modo: v.optional(v.picklist(['live', 'test'], 'debe ser live o test'), 'live'),
      id_afiliado: Texto,
      monto_unidades_menores: v.pipe(v.number('debe ser un número'), v.safeInteger('debe ser un entero de unidades menores')),
      moneda: v.string('debe ser texto'),
      referencia_pago: Texto,
    }),
    variante('PagoProcesando', {}),
    variante('PagoExitoso', { referencia_transaccion: Texto }),
    variante('PagoFallido', { mensaje_error: Texto }),
  ],
  'tipo de evento desconocido',
);

function invalido(motivo: string): Resultado<never, ErrorEventoOutbox> {
  return Resultado.fallo({ tipo: 'EventoInvalido', motivo });
}

/**
 * Reconstruye y valida un evento de dominio a partir de una fila del outbox (o de un mensaje con
 * esos mismos campos). Un dato mal formado es un valor de error, nunca una excepción: el consumidor
 * lo manda a la cola de mensajes muertos.
 */
export function filaAEvento(fila: FilaEventoOutboxLeida): Resultado<EventoDeOutbox, ErrorEventoOutbox> {
  const leida = v.safeParse(FilaValida, {
    id_evento: fila.id_evento,
    id_agregado: fila.id_agregado,
    version_agregado: fila.version_agregado,
    tipo: fila.tipo,
    payload: fila.payload,
    metadatos: fila.metadatos ?? {},
  });
  if (!leida.success) {
    return invalido(
      leida.issues
        .map((issue) => {
          const ruta = v.getDotPath(issue);
          return ruta ? `${ruta}: ${issue.message}` : issue.message;
        })
        .join('; '),
    );
  }
  const f = leida.output;
  if (f.payload.id_pago.toLowerCase() !== f.id_agregado.toLowerCase()) {
    return invalido('payload.id_pago: no coincide con id_agregado');
  }
  const ocurridoEn = new Date(f.payload.ocurrido_en);
  if (Number.isNaN(ocurridoEn.getTime())) return invalido('payload.ocurrido_en: debe ser una fecha ISO 8601');
  const base = { idEvento: f.id_evento, idPago: f.id_agregado, version: f.version_agregado, ocurridoEn };
  const traza: Trazabilidad = {
    idCorrelacion: f.metadatos.id_correlacion,
    ...(f.metadatos.traceparent == null ? {} : { traceparent: f.metadatos.traceparent }),
    ...(f.metadatos.id_solicitud == null ? {} : { idSolicitud: f.metadatos.id_solicitud }),
  };

  let evento: EventoPago;
  switch (f.tipo) {
    case 'PagoPendiente': {
      const monto = Dinero.deUnidadesMenores(f.payload.monto_unidades_menores, f.payload.moneda);
      if (!monto.ok) return invalido(`payload.monto_unidades_menores: importe inválido (${monto.error.tipo})`);
      evento = {
        ...base,
        tipo: 'PagoPendiente',
        datos: {
          idSocio: f.payload.id_socio,
          modo: f.payload.modo,
          idAfiliado: f.payload.id_afiliado,
          unidadesMenores: monto.valor.unidadesMenores,
          moneda: monto.valor.moneda,
          referenciaPago: f.payload.referencia_pago,
        },
      };
      break;
    }
    case 'PagoProcesando':
      evento = { ...base, tipo: 'PagoProcesando', datos: {} };
      break;
    case 'PagoExitoso':
      evento = { ...base, tipo: 'PagoExitoso', datos: { referenciaTransaccion: f.payload.referencia_transaccion } };
      break;
    case 'PagoFallido':
      evento = { ...base, tipo: 'PagoFallido', datos: { mensajeError: f.payload.mensaje_error } };
      break;
  }
  return Resultado.ok({ evento, traza });
}
