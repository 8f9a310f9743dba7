/**
 * @aeropartners/adaptadores — persistencia PostgreSQL (Kysely + pg) con outbox e historial,
 * migraciones, PostgreSQL embebido e identificadores UUIDv7.
 * Infraestructura de tests: `@aeropartners/adaptadores/testing`.
 */
export { uuidv7, esUuid, instanteDeUuidv7 } from './ids/uuidv7.js';

export {
  iniciarPostgresEmbebido,
  type OpcionesPostgresEmbebido,
  type PostgresEmbebido,
} from './postgres/postgres-embebido.js';
export { migrarHastaLaUltima, MIGRACIONES, type ResultadoMigracion } from './postgres/migrar.js';
export {
  crearPersistenciaPostgres,
  type OpcionesPersistenciaPostgres,
  type PersistenciaPostgres,
} from './postgres/persistencia-postgres.js';
export {
  PostgresRepositorioPagos,
  type MetricasCreacion,
  type OpcionesRepositorioPagos,
} from './postgres/postgres-repositorio-pagos.js';
export { KyselyConsultasPagos, ErrorCursorInvalido } from './postgres/kysely-consultas-pagos.js';
export {
  eventoAFila,
  filaAEvento,
  type ErrorEventoOutbox,
  type EventoDeOutbox,
  type FilaEventoOutbox,
  type FilaEventoOutboxLeida,
  type MetadatosEvento,
  type PayloadEvento,
} from './postgres/serializacion-eventos.js';
export { filaAPago, type FilaPago } from './postgres/fila-pago.js';
export {
  enteroSeguro,
  type BaseDeDatos,
  type TablaHistorialPagos,
  type TablaOutbox,
  type TablaPagos,
} from './postgres/esquema.js';
export { crearPoolPostgres, type AvisoPostgres, type ClientePostgres, type ConsultaPostgres, type OpcionesPoolPostgres, type PoolPostgres, type ResultadoPostgres } from './postgres/pool-postgres.js';
export { validarUrlPostgres, urlSinContrasena } from './postgres/url-postgres.js';
export {
  AgrupadorPorLotes,
  type MetricasAgrupador,
  type OpcionesAgrupador,
  type Pendiente,
} from './postgres/agrupador-por-lotes.js';

export * from './stripe/index-stripe.js';

export {
  CENSURA,
  crearLogger,
  enmascararTarjetas,
  esNivelLog,
  RUTAS_SECRETAS,
  NIVELES_LOG,
  type Logger,
  type NivelLog,
  type OpcionesLogger,
} from './observabilidad/logger.js';
export { migrarUrl } from './postgres/migrar-url.js';

export * from './broker-embebido/index-broker-embebido.js';
export * from './pulsar/index-pulsar.js';
export * from './pasarela-simulada/index-pasarela-simulada.js';
export { PostgresAlmacenOutbox } from './postgres/postgres-almacen-outbox.js';
export { PostgresInboxPagos, type OpcionesInboxPagos } from './postgres/postgres-inbox-pagos.js';
export { PostgresTurnosCobro, type OpcionesTurnosCobro } from './postgres/postgres-turnos-cobro.js';
export { LiderRelay, type OpcionesLiderRelay } from './postgres/lider-relay.js';
export * from './config/configuracion.js';
export {
  documentoConfiguracion,
  filasConfiguracion,
  type EsquemaDeServicio,
  type FilaConfiguracion,
} from './config/tabla-configuracion.js';
export {
  crearAppSalud,
  iniciarServidorSalud,
  manejadoresSalud,
  type NoDisponible,
  type OpcionesSalud,
  type OpcionesServidorSalud,
  type ResponderNoDisponible,
} from './observabilidad/servidor-salud.js';
export { disponibleSi, saludDelBroker } from './observabilidad/disponibilidad.js';
export {
  CUBETAS_SEGUNDOS,
  ETAPAS_DUPLICADOS,
  NOMBRE_DUPLICADOS,
  PREFIJO_METRICAS,
  contadorLeido,
  crearMetricasHttp,
  crearRegistroMetricas,
  exponerMetricas,
  indicadorConsultado,
  medirManejador,
  medirPasarela,
  registrarDuplicados,
  type EtapaDuplicados,
  type MetricasHttp,
  type OpcionesRegistro,
} from './observabilidad/metricas.js';
export { registrarOutbox, registrarPagosEnCurso } from './observabilidad/metricas-postgres.js';
export {
  registrarMetricasConsumidor,
  registrarMetricasRelay,
  type FuentesMetricasConsumidor,
  type FuentesMetricasRelay,
} from './observabilidad/metricas-servicios.js';
export { PostgresPagosAtascados } from './postgres/postgres-pagos-atascados.js';
export { PostgresAdministracionMuertos, type OpcionesAdministracionMuertosEmbebido } from './broker-embebido/administracion-muertos.js';
export { PulsarAdministracionMuertos, type OpcionesAdministracionMuertosPulsar } from './pulsar/administracion-muertos-pulsar.js';
export {
  cargarModuloLectorPulsar,
  leerTopicoEntero,
  type ClientePulsarConLector,
  type ConfigLectorPulsar,
  type IdsMensajePulsar,
  type LectorPulsar,
  type ModuloLectorPulsar,
} from './pulsar/lector-pulsar.js';
export {
  NOMBRE_ATASCADOS,
  NOMBRE_ATASCADO_MAS_VIEJO,
  NOMBRE_FALLOS_BARRENDERO,
  NOMBRE_REIMPULSADOS,
  registrarMetricasAtascos,
  type FuentesMetricasAtascos,
} from './observabilidad/metricas-atascos.js';
export {
  VARIABLES_BARRENDERO,
  configuracionBarrendero,
  iniciarBarrendero,
  type BarrenderoEnMarcha,
  type ConfiguracionBarrendero,
  type OpcionesIniciarBarrendero,
} from './postgres/iniciar-barrendero.js';
export { ejecutarServicio, type OpcionesEjecutarServicio, type ProcesoServicio, type ServicioEnMarcha } from './servicio/ejecutar-servicio.js';
export { morirTrasPublicar } from './servicio/inyeccion-fallos.js';
export { camposDeMensaje, leerSobre, sobreDeFila } from './mensajeria/sobre-evento.js';
