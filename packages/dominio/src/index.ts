/**
 * @aeropartners/dominio — el dominio de pagos de Aeropartners, sin dependencias de ejecución.
 *
 * - Valores: {@link Moneda}, {@link Dinero} (unidades menores enteras), {@link EstadoPago}.
 * - Agregado: {@link Pago} y sus reglas puras (`crearPago`, `iniciarProcesamiento`, `registrarExito`,
 *   `registrarFallo`), que devuelven `Resultado<CambioPago, ErrorDePago>`.
 * - Eventos: {@link EventoPago} (`PagoPendiente`, `PagoProcesando`, `PagoExitoso`, `PagoFallido`).
 * - Puertos: {@link RepositorioPagos}, {@link PasarelaDePagos}, {@link Reloj}.
 * - Socios: el {@link Ambito} de todo dato (socio y {@link Modo} `live`/`test`); {@link Socio} y sus
 *   {@link ClaveApi} (estados, máximo de claves vigentes, plazos) y {@link autorizar}.
 * - Conversiones y comisiones: {@link HechoConversion}, {@link Conversion} (estado como función del
 *   conjunto de hechos), {@link ReglaComision}, {@link Comision}, {@link AjusteComision} (recuperaciones y
 *   complementos), {@link Liquidacion} (en dos fases) y el {@link LibroMayor} de partida doble.
 */
export { Resultado } from './resultado.js';
export { Modo, esModo, type Ambito } from './ambito.js';
export {
  EstadoSocio,
  LIMITE_RPS,
  MAXIMO_CLAVES_VIGENTES,
  MAXIMO_SECRETOS_FIRMA,
  PREFIJO_CLAVE,
  autorizar,
  cambiarEstado,
  crearSocio,
  esEstadoSocio,
  estadoClave,
  modoDeClave,
  planificarClaveNueva,
  validarIdSocio,
  validarLimiteRps,
  validarNombreSocio,
  type ClaveApi,
  type EstadoClave,
  type ErrorSocio,
  type MotivoRechazo,
  type PlanClaveNueva,
  type Socio,
} from './socio.js';
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
  CredencialEscritura,
  EstadoCobro,
  PasarelaDePagos,
  RepositorioPagos,
  Reloj,
  ResultadoCreacion,
  ResultadoPago,
  SolicitudCobro,
  Trazabilidad,
} from './puertos.js';
export {
  HechoConversion,
  compararHechos,
  validarHechoConversion,
  type ConversionAjustada,
  type ConversionAprobada,
  type ConversionCreada,
  type ConversionRevertida,
  type DatosHechoConversion,
  type ErrorHechoConversion,
  type TipoHechoConversion,
} from './comisiones/hecho-conversion.js';
export {
  Conversion,
  EstadoConversion,
  esHuerfana,
  estadoConversion,
  type ClaveConversion,
  type ConflictoConversion,
  type OpcionesHuerfana,
} from './comisiones/conversion.js';
export {
  ReglaComision,
  aplicarPorcentaje,
  calcularComision,
  crearReglaComision,
  reglaVigente,
  type CalculoComision,
  type DatosReglaComision,
  type ErrorCalculoComision,
  type ErrorReglaComision,
} from './comisiones/regla-comision.js';
export {
  Comision,
  EstadoComision,
  comisionDe,
  reglaParaComision,
  type ErrorComision,
  type ReferenciaLiquidacion,
} from './comisiones/comision.js';
export { AjusteComision, regularizarComision, type CausaAjuste, type ErrorAjuste } from './comisiones/ajuste-comision.js';
export {
  EstadoLiquidacion,
  Liquidacion,
  comprobarExclusividad,
  planificarLiquidaciones,
  referenciaEnLiquidaciones,
  registrarDesenlaceLiquidacion,
  type DesenlacePago,
  type EntradaPlanificacion,
  type ErrorExclusividad,
  type ErrorLiquidacion,
  type ErrorPlanificacion,
  type GrupoSinLiquidar,
  type MotivoSinLiquidar,
  type PartidaLiquidacion,
  type PlanLiquidaciones,
} from './comisiones/liquidacion.js';
export {
  CuentaLibro,
  LibroMayor,
  asientoEntre,
  saldosDe,
  type Apunte,
  type Asiento,
  type CausaAsiento,
  type ClaveLibro,
  type Naturaleza,
  type Saldos,
  type SaldosLibro,
  type ViolacionLibro,
} from './comisiones/libro-mayor.js';
export {
  aplicarHechoConversion,
  asientoLiquidacionCreada,
  cerrarLiquidacion,
  type CambioConversion,
  type CierreLiquidacion,
  type EntradaCierre,
  type EntradaHecho,
  type ErrorCierre,
} from './comisiones/movimientos.js';
export type { DatoInvalido } from './comisiones/texto.js';
