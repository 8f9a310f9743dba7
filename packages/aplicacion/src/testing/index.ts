/**
 * Dobles en memoria y suites de contrato para probar los casos de uso y los adaptadores.
 * Requiere `vitest` (dependencia de desarrollo de quien lo use) para las suites de contrato.
 */
export { RepositorioPagosEnMemoria, idsSecuenciales, relojFijo, type FilaOutboxEnMemoria } from './dobles.js';
export { probarContratoRepositorioPagos, type RepositorioBajoPrueba } from './contrato-repositorio-pagos.js';
export { probarContratoBroker, type BrokerBajoPrueba, type CapacidadesBroker } from './contrato-broker.js';
export { BrokerEnMemoria, type MensajePublicadoEnMemoria, type OpcionesBrokerEnMemoria } from './broker-en-memoria.js';
export { AlmacenOutboxEnMemoria, type FilaAlmacenOutbox } from './almacen-outbox-en-memoria.js';
export { probarContratoPasarela, esMensajeEnEspanol, comprobarFormaResultado, comprobarFormaEstado, desenlace, AFILIADO_CONTRATO, type PasarelaBajoPrueba, type DesenlaceForzado, type OpcionesContratoPasarela } from './contrato-pasarela.js';
export { SuscripcionGuionada } from './suscripcion-guionada.js';
export { PasarelaEnMemoria, type DesenlaceProgramado, type LlamadaPasarela, type CargoEnMemoria, type OpcionesPasarelaEnMemoria } from './pasarela-en-memoria.js';
export { PagosAtascadosEnMemoria } from './pagos-atascados-en-memoria.js';
export { probarContratoPagosAtascados, type PagosAtascadosBajoPrueba, type PlantaPago } from './contrato-pagos-atascados.js';
export { probarContratoMensajesMuertos, type MuertosBajoPrueba } from './contrato-mensajes-muertos.js';
