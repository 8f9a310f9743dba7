import type { EntradaHistorial, EstadisticasOutbox, Pagina } from '@aeropartners/aplicacion';
import { Dinero, type Pago } from '@aeropartners/dominio';
import type * as v from 'valibot';
import type {
  EsquemaEstadisticasOutbox,
  EsquemaHistorialPago,
  EsquemaPaginaPagos,
  EsquemaPago,
  EsquemaPagoRegistrado,
} from './esquemas.js';

/** Del modelo a los cuerpos JSON de la API (snake_case, importes como número JSON, fechas ISO 8601). */

export const MENSAJE_PAGO_REGISTRADO = 'Pago registrado; se procesará de forma asíncrona.';

/**
 * Respuesta de `POST /pagos`. Solo usa campos inmutables desde la creación (y el estado inicial), así
 * que una repetición idempotente devuelve exactamente el cuerpo original aunque el pago ya haya avanzado.
 */
export function pagoRegistrado(pago: Pago): v.InferOutput<typeof EsquemaPagoRegistrado> {
  return {
    id_pago: pago.id,
    id_afiliado: pago.idAfiliado,
    monto: Dinero.aNumero(pago.monto),
    moneda: pago.monto.moneda,
    estado: 'PENDIENTE',
    referencia_pago: pago.referenciaPago,
    fecha_creacion: pago.fechaCreacion.toISOString(),
    mensaje: MENSAJE_PAGO_REGISTRADO,
  };
}

export function pagoDetalle(pago: Pago): v.InferOutput<typeof EsquemaPago> {
  return {
    id: pago.id,
    id_afiliado: pago.idAfiliado,
    monto: Dinero.aNumero(pago.monto),
    moneda: pago.monto.moneda,
    estado: pago.estado,
    referencia_pago: pago.referenciaPago,
    fecha_creacion: pago.fechaCreacion.toISOString(),
    fecha_procesamiento: pago.fechaProcesamiento?.toISOString() ?? null,
    mensaje_error: pago.mensajeError,
    referencia_transaccion: pago.referenciaTransaccion,
    version: pago.version,
    fecha_actualizacion: pago.fechaActualizacion.toISOString(),
  };
}

export function paginaPagos(pagina: Pagina<Pago>): v.InferOutput<typeof EsquemaPaginaPagos> {
  return { pagos: pagina.elementos.map(pagoDetalle), siguiente_cursor: pagina.siguienteCursor };
}

export function historialPago(idPago: string, historial: readonly EntradaHistorial[]): v.InferOutput<typeof EsquemaHistorialPago> {
  return {
    id_pago: idPago,
    historial: historial.map((h) => ({
      estado: h.estado,
      version: h.version,
      tipo_evento: h.tipoEvento,
      id_evento: h.idEvento,
      ocurrido_en: h.ocurridoEn.toISOString(),
      id_correlacion: h.idCorrelacion,
      id_solicitud: h.idSolicitud,
    })),
  };
}

export function estadisticasOutbox(e: EstadisticasOutbox): v.InferOutput<typeof EsquemaEstadisticasOutbox> {
  return { total_eventos: e.total, eventos_procesados: e.publicados, eventos_pendientes: e.pendientes };
}
