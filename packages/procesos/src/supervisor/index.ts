/**
 * @aeropartners/procesos/supervisor — el supervisor de `pnpm start` (`scripts/start.mjs` le da las piezas
 * de PostgreSQL de los adaptadores compilados).
 */
export { iniciarSupervisor, type DependenciasSupervisor, type PiezasPostgres } from './supervisor.js';
export {
  MAXIMO_INSTANCIAS,
  PASO_PUERTOS,
  VARIABLES_SUPERVISOR,
  etiquetaInstancia,
  leerConfiguracionSupervisor,
  type ConfiguracionSupervisor,
  type NombreServicio,
  type ServicioConfigurado,
} from './configuracion.js';
export type { InstanciaAnotada, Procesos } from './archivo-procesos.js';
export {
  PostgresSupervisado,
  type IniciarPostgres,
  type OpcionesPostgresSupervisado,
  type PostgresEnMarcha,
} from './postgres-supervisado.js';
