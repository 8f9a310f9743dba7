import type { Modo } from './ambito.js';
import type { Moneda } from './moneda.js';

interface EventoBase<Tipo extends string, Datos> {
  readonly tipo: Tipo;
  /** Identificador único del evento (clave de deduplicación en el inbox de cada consumidor). */
  readonly idEvento: string;
  readonly idPago: string;
  /** Versión del agregado que produjo este evento: ordena los eventos de un mismo pago. */
  readonly version: number;
  readonly ocurridoEn: Date;
  readonly datos: Datos;
}

export type PagoPendiente = EventoBase<
  'PagoPendiente',
  {
    readonly idSocio: string;
    readonly modo: Modo;
    readonly idAfiliado: string;
    readonly unidadesMenores: number;
    readonly moneda: Moneda;
    readonly referenciaPago: string;
  }
>;
export type PagoProcesando = EventoBase<'PagoProcesando', Readonly<Record<string, never>>>;
export type PagoExitoso = EventoBase<'PagoExitoso', { readonly referenciaTransaccion: string }>;
export type PagoFallido = EventoBase<'PagoFallido', { readonly mensajeError: string }>;

/** Todos los eventos que puede emitir un `Pago`: unión discriminada por `tipo`. */
export type EventoPago = PagoPendiente | PagoProcesando | PagoExitoso | PagoFallido;
export type TipoEventoPago = EventoPago['tipo'];

export const TipoEventoPago = {
  todos: Object.freeze(['PagoPendiente', 'PagoProcesando', 'PagoExitoso', 'PagoFallido'] as const) satisfies readonly TipoEventoPago[],
  /**
   * Eventos de integración: los que salen del servicio por el outbox. `PagoProcesando` es un paso
   * interno (queda en el historial, no se publica): nadie fuera necesita reaccionar a él, y publicarlo
   * costaría un mensaje más por pago en el broker.
   */
  publicados: Object.freeze(['PagoPendiente', 'PagoExitoso', 'PagoFallido'] as const) satisfies readonly TipoEventoPago[],
  sePublica(tipo: TipoEventoPago): boolean {
    return (TipoEventoPago.publicados as readonly string[]).includes(tipo);
  },
  esTipo(valor: unknown): valor is TipoEventoPago {
    return typeof valor === 'string' && (TipoEventoPago.todos as readonly string[]).includes(valor);
  },
} as const;
