export {
  CANAL_EVENTOS,
  PostgresAsignadorEventos,
  iniciarAsignadorEventos,
  type AsignadorEnMarcha,
  type OpcionesAsignadorEventos,
  type OpcionesIniciarAsignador,
  type ResultadoRonda,
} from './asignador-eventos.js';
export { EscuchaEventos, type OpcionesEscuchaEventos } from './escucha-eventos.js';
export { PostgresRegistroEventos, type ConsultaEventos, type EventoSocio, type PaginaEventos } from './registro-eventos.js';
export { RegistradorDuplicados, type DuplicadoAbsorbido, type OpcionesRegistradorDuplicados } from './registrador-duplicados.js';
export {
  duplicadoEnElInbox,
  duplicadoEnLaConsultaPrevia,
  duplicadoEnLaPasarela,
  duplicadosEnElBroker,
} from './duplicados-por-etapa.js';
