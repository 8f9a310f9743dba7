/**
 * Dobles en memoria y suites de contrato para probar los casos de uso y los adaptadores.
 * Requiere `vitest` (dependencia de desarrollo de quien lo use) para las suites de contrato.
 */
export { RepositorioPagosEnMemoria, idsSecuenciales, relojFijo, type FilaOutboxEnMemoria } from './dobles.js';
export { probarContratoRepositorioPagos, type RepositorioBajoPrueba } from './contrato-repositorio-pagos.js';
