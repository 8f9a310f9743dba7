/**
 * El falso en memoria del cliente de Apache Pulsar (`pulsar-client`): un broker en el proceso con la
 * forma del cliente real (productores, consumidores y lectores), con deduplicación, Key_Shared,
 * reentregas, mensajes muertos e inyección de fallos sembrable. Los tests del adaptador de Pulsar lo
 * inyectan como fábrica del cliente (`crearCliente: falso.crearCliente`).
 */
export {
  PulsarFalso,
  nombreCompletoTopico,
  type ClienteFalso,
  type ConsumidorFalso,
  type IdMensajeFalso,
  type MensajeFalso,
  type ProductorFalso,
  type EstadisticasPulsarFalso,
  type EventoPulsarFalso,
  type FallosEnvioPulsarFalso,
  type FallosPulsarFalso,
  type MensajeAlmacenadoFalso,
  type ModoFalloEnvio,
  type OpcionesPulsarFalso,
  type ResultadoEnvioFalso,
} from './pulsar-falso.js';
export { hashClavePulsar, murmur3_32 } from './murmur3.js';
export { crearAzarSembrado } from './azar-sembrado.js';
export { IDS_MENSAJE_FALSOS, fabricaConLector, type ClienteFalsoConLector, type ConfigLectorFalso } from './lector-pulsar-falso.js';
