/**
 * @aeropartners/aplicacion — casos de uso del servicio de pagos (CQS).
 *
 * Comandos: {@link RegistrarPago}. Socios: {@link AutenticadorDeClaves}, {@link AdministracionSocios}. Consultas: {@link ObtenerPago},
 * {@link ListarPagos}, {@link ObtenerHistorialPago}, estadísticas del outbox.
 * Cada manejador se construye con `crearManejador…(dependencias)`; las dependencias son puertos.
 * Dobles en memoria de los puertos: `@aeropartners/aplicacion/testing`.
 */
export {
  crearManejadorRegistrarPago,
  type DependenciasRegistrarPago,
  type ErrorRegistrarPago,
  type ManejadorRegistrarPago,
  type PagoRegistrado,
  type RegistrarPago,
} from './comandos/registrar-pago.js';
export {
  LIMITE_LISTADO,
  crearManejadorObtenerEstadisticasOutbox,
  crearManejadorListarPagos,
  crearManejadorObtenerPago,
  crearManejadorObtenerHistorialPago,
  type ErrorConsulta,
  type ListarPagos,
  type ObtenerEstadisticasOutbox,
  type ObtenerPago,
  type ObtenerHistorialPago,
} from './consultas/consultas-pagos.js';
export type {
  ConsultasPagos,
  EntradaHistorial,
  EstadisticasOutbox,
  FiltrosListado,
  GeneradorIds,
  Pagina,
} from './puertos.js';
export type {
  AdministracionSocios,
  AutenticadorDeClaves,
  CambioEstadoSocio,
  ClaveEmitida,
  CredencialAutenticada,
  DatosSocioNuevo,
  ErrorAdministracion,
  ResultadoAutenticacion,
  SocioConClaves,
  SocioCreado,
} from './socios/puertos-socios.js';
export type {
  Broker,
  MensajeEntrante,
  MensajeSaliente,
  OpcionesSuscripcion,
  PropiedadesMensaje,
  Publicador,
  ResultadoPublicacion,
  Suscripcion,
} from './mensajeria/puertos-broker.js';
export {
  LiderazgoPerdido,
  type AlmacenOutbox,
  type CercaLiderazgo,
  type EstadoProductor,
  type FilaOutbox,
} from './outbox/puertos-outbox.js';
export {
  crearRelay,
  describirAlarma,
  type AlarmaRelay,
  type FinRelay,
  type OpcionesRelay,
  type PreparacionRelay,
  type Relay,
  type ResultadoLote,
} from './outbox/relay.js';
export type { AnotacionInbox, InboxPagos, TurnoCobro, TurnosCobro } from './consumidor/puertos-consumidor.js';
export { crearManejadorEventos, type DesenlaceEvento, type ManejadorEventos, type OpcionesManejador } from './consumidor/manejar-evento.js';
export { decidirMensaje, type DecisionMensaje, type HechoMensaje } from './consumidor/decidir-mensaje.js';
export { crearPasarelaPorModo } from './consumidor/pasarela-por-modo.js';
export {
  crearDespachador,
  type Despachador,
  type ObservadorDespacho,
  type OperacionBroker,
  type OpcionesDespachador,
  type OpcionesDetener,
} from './consumidor/despachador.js';
export {
  crearConsumidor,
  type AlReintentarPasarela,
  type Consumidor,
  type ContadoresConsumidor,
  type ManejarEvento,
  type ObservadorConsumidor,
  type OpcionesConsumidor,
  type SobreLeido,
} from './consumidor/consumidor.js';
export {
  BARRIDO_POR_DEFECTO,
  ESTADOS_ATASCABLES,
  enCurso,
  esEstadoAtascable,
  evaluarAtasco,
  validarUmbrales,
  type Atasco,
  type EstadoAtascable,
  type MotivoSinReimpulso,
  type UmbralesAtasco,
  type VistaPagoAtascable,
} from './barrido/atascos.js';
export type { ConsultaAtascados, Cursor, MedidaAtascos, PagoAtascado, PaginaAtascados, PagosAtascados } from './barrido/puertos-barrido.js';
export { crearBarrendero, type Barrendero, type ContadoresBarrendero, type OpcionesBarrendero } from './barrido/barrendero.js';
export {
  PROPIEDAD_REENVIADO_DE,
  type AdministracionMensajesMuertos,
  type MensajeMuerto,
  type ResultadoReenvio,
} from './mensajeria/puertos-mensajes-muertos.js';
export * from './conversiones/index.js';
export {
  ALEATORIEDAD_POR_DEFECTO,
  CALENDARIO_REINTENTOS_POR_DEFECTO,
  leerCalendario,
  siguientePaso,
  type SiguientePaso,
} from './webhooks/calendario-reintentos.js';
