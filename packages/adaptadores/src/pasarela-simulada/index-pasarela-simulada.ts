export {
  SEMILLA_POR_DEFECTO,
  SimuladaPasarelaDePagos,
  crearPasarelaSimulada,
  type ConfiguracionPasarelaSimulada,
  type ContadoresPasarelaSimulada,
  type DesenlaceForzadoSimulado,
  type FuenteDatosPasarelaSimulada,
  type OpcionesPasarelaSimulada,
} from './simulada-pasarela-de-pagos.js';
export {
  MENSAJES_RECHAZO_SEMILLA,
  PERFILES_PASARELA_SIMULADA,
  PERFIL_LOCAL,
  PERFIL_SEMILLA,
  PERFIL_SIN_LATENCIA,
  sumaTasasTrasEnviar,
  validarPerfilPasarelaSimulada,
  type NombrePerfilPasarelaSimulada,
  type PerfilPasarelaSimulada,
} from './perfiles-pasarela-simulada.js';
export {
  ESQUEMA_PASARELA_SIMULADA,
  MIGRACIONES_PASARELA_SIMULADA,
  cargosDe,
  contarCargosPorPago,
  prepararPasarelaSimulada,
  resumirLibroCargos,
  type CargoSimulado,
  type EsquemaPasarelaSimulada,
  type FuenteLibroCargos,
  type ResumenLibroCargos,
  type TablaCargosSimulados,
} from './libro-cargos-simulados.js';
export type { DesenlaceDefinitivo, Semilla } from './decisiones-simuladas.js';
