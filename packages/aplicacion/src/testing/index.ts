/**
 * Dobles en memoria de los puertos, para probar los casos de uso y los servicios sin infraestructura.
 * Cumplen los mismos contratos que los adaptadores reales (las suites viven en el paquete privado
 * `@aeropartners/contratos`, que los comprueba contra estos dobles).
 */
export { RepositorioPagosEnMemoria, idsSecuenciales, relojFijo, type FilaOutboxEnMemoria } from './dobles.js';
export { BrokerEnMemoria, type MensajePublicadoEnMemoria, type OpcionesBrokerEnMemoria } from './broker-en-memoria.js';
export { AlmacenOutboxEnMemoria, type FilaAlmacenOutbox } from './almacen-outbox-en-memoria.js';
export { SuscripcionGuionada } from './suscripcion-guionada.js';
export {
  PasarelaEnMemoria,
  type DesenlaceProgramado,
  type LlamadaPasarela,
  type CargoEnMemoria,
  type OpcionesPasarelaEnMemoria,
} from './pasarela-en-memoria.js';
export { PagosAtascadosEnMemoria } from './pagos-atascados-en-memoria.js';
export { AutenticadorEnMemoria, type OpcionesSocio } from './autenticador-en-memoria.js';
