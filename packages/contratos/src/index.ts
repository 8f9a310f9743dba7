/**
 * @aeropartners/contratos — el kit de pruebas de los puertos (privado: no se publica ni lo instala otro
 * equipo). Una suite de contrato por puerto, que corre igual contra el doble en memoria de
 * `@aeropartners/aplicacion/testing` y contra cada adaptador de `@aeropartners/adaptadores`:
 *
 * ```ts
 * probarContratoPasarela('Stripe contra su servidor falso', () => ({ pasarela, contarCargos, configurar }));
 * ```
 *
 * Los falsos de los proveedores están en sus subrutas: `@aeropartners/contratos/pulsar` (el cliente de
 * Apache Pulsar en memoria) y `@aeropartners/contratos/stripe` (un servidor HTTP que imita la API de Stripe).
 */
export { probarContratoRepositorioPagos, type RepositorioBajoPrueba } from './contrato-repositorio-pagos.js';
export { probarContratoBroker, type BrokerBajoPrueba, type CapacidadesBroker } from './contrato-broker.js';
export {
  AFILIADO_CONTRATO,
  comprobarFormaEstado,
  comprobarFormaResultado,
  desenlace,
  esMensajeEnEspanol,
  probarContratoPasarela,
  type DesenlaceForzado,
  type OpcionesContratoPasarela,
  type PasarelaBajoPrueba,
} from './contrato-pasarela.js';
export { probarContratoPagosAtascados, type PagosAtascadosBajoPrueba, type PlantaPago } from './contrato-pagos-atascados.js';
export { probarContratoMensajesMuertos, type MuertosBajoPrueba } from './contrato-mensajes-muertos.js';
