/**
 * El falso en memoria del cliente de Pulsar (para `@aeropartners/adaptadores/testing`): un broker en el
 * proceso detrás de la interfaz `ClientePulsar`, con deduplicación, Key_Shared, reentregas, mensajes
 * muertos e inyección de fallos sembrable.
 */
export {
  PulsarFalso,
  nombreCompletoTopico,
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
