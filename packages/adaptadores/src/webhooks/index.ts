export {
  comprobarDestino,
  comprobarFormaUrl,
  lookupSeguro,
  rangoProhibido,
  resolverConDns,
  type DestinoComprobado,
  type OpcionesDestino,
  type Resolver,
} from './destino-seguro.js';
export {
  PostgresWebhooks,
  idEventoWebhook,
  secuenciaDeIdEvento,
  type IntentoWebhook,
  type ResultadoIntento,
  type ResultadoReenvio as ResultadoReenvioWebhook,
  type VistaWebhook,
} from './postgres-webhooks.js';
export {
  iniciarRepartidorWebhooks,
  type ContadoresRepartidor,
  type OpcionesRepartidorWebhooks,
  type RepartidorEnMarcha,
  type TiemposRepartidor,
} from './repartidor-webhooks.js';
export { VARIABLES_WEBHOOKS, VARIABLES_WEBHOOKS_API, configuracionRepartidor } from './config-webhooks.js';
export { PostgresLineaDeTiempo, type IntentoEnLinea, type PasoLineaDeTiempo } from './postgres-linea-de-tiempo.js';
