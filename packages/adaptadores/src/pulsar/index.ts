/**
 * `@aeropartners/adaptadores/pulsar`: el adaptador de Apache Pulsar del puerto `Broker` y de la
 * administración de mensajes muertos. `pulsar-client` (par opcional del paquete) lo instala quien use
 * esta subruta; ningún módulo de aquí lo importa en su nivel superior: el cliente nativo se carga al
 * crear el primer broker sin `crearCliente`.
 */
export { PulsarBroker, crearBrokerPulsar, suscripcionDeMuertos, type OpcionesBrokerPulsar } from './pulsar-broker.js';
export { PulsarPublicador, type OpcionesPulsarPublicador } from './pulsar-publicador.js';
export { PulsarSuscripcion, type DependenciasPulsarSuscripcion } from './pulsar-suscripcion.js';
export {
  MENSAJE_SIN_BINARIO_PULSAR,
  clientesPulsarRetenidos,
  crearClientePulsarNativo,
  crearFabricaClientePulsar,
  type ClientePulsar,
  type ConfigClientePulsar,
  type ConfigConsumidorPulsar,
  type ConfigProductorPulsar,
  type ConsumidorPulsar,
  type EsquemaHashPulsar,
  type FabricaClientePulsar,
  type IdMensajePulsar,
  type MensajeProductorPulsar,
  type MensajePulsar,
  type PoliticaMensajesMuertosPulsar,
  type PosicionInicialPulsar,
  type ProductorPulsar,
  type TipoLotePulsar,
  type TipoSuscripcionPulsar,
} from './cliente-pulsar.js';
export { PROPIEDADES_INTERNAS, PROPIEDADES_DLQ_PULSAR } from './mensajes-pulsar.js';
export { normalizarSecuencia, normalizarSecuenciasDeLote } from './secuencia-pulsar.js';
export { PulsarAdministracionMuertos, type OpcionesAdministracionMuertosPulsar } from './administracion-muertos-pulsar.js';
export {
  cargarModuloLectorPulsar,
  leerTopicoEntero,
  type ClientePulsarConLector,
  type ConfigLectorPulsar,
  type IdsMensajePulsar,
  type LectorPulsar,
  type ModuloLectorPulsar,
} from './lector-pulsar.js';
