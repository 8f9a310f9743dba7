/**
 * @aeropartners/dominio — el dominio de pagos de Aeropartners, sin dependencias de ejecución.
 *
 * - Valores: {@link Moneda}, {@link Dinero} (unidades menores enteras), {@link EstadoPago}.
 * - Agregado: {@link Pago} y sus reglas puras (`crearPago`, `iniciarProcesamiento`, `registrarExito`,
 *   `registrarFallo`), que devuelven `Resultado<CambioPago, ErrorDePago>`.
 * - Eventos: {@link EventoPago} (`PagoPendiente`, `PagoProcesando`, `PagoExitoso`, `PagoFallido`).
 * - Puertos: {@link RepositorioPagos}, {@link PasarelaDePagos}, {@link Reloj}.
 */
export { Resultado } from './resultado.js';
export { Moneda } from './moneda.js';
export { Dinero, type ErrorDinero } from './dinero.js';
export { EstadoPago } from './estado-pago.js';
export {
  TipoEventoPago,
  type EventoPago,
  type PagoExitoso,
  type PagoFallido,
  type PagoPendiente,
  type PagoProcesando,
} from './eventos.js';
export {
  Pago,
  crearPago,
  iniciarProcesamiento,
  registrarExito,
  registrarFallo,
  type CambioPago,
  type Contexto,
  type DatosNuevoPago,
  type ErrorDePago,
} from './pago.js';
export type {
  ClaveIdempotencia,
  ConsultaCobro,
  ConflictoDeVersion,
  EstadoCobro,
  PasarelaDePagos,
  RepositorioPagos,
  Reloj,
  ResultadoCreacion,
  ResultadoPago,
  SolicitudCobro,
  Trazabilidad,
} from './puertos.js';
