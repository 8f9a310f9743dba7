export { crearAplicadorDeHechos, decidirHecho, type AplicarHecho } from './aplicar-hecho.js';
export {
  cerrarLiquidacionesTerminadas,
  ejecutarLiquidaciones,
  type DependenciasLiquidaciones,
  type ResumenEjecucion,
} from './liquidaciones.js';
export type {
  AlmacenComisiones,
  ConsultasComisiones,
  DecisionHecho,
  DesenlaceAplicacion,
  EntradaHistorialConversion,
  EscrituraCierre,
  FiltrosConversiones,
  HechoParaRegistrar,
  LecturaCierre,
  LecturaConversion,
  ResultadoRegistroHecho,
  VistaConversion,
  VistaLiquidacion,
} from './puertos-conversiones.js';
export {
  crearManejadorRegistrarHecho,
  huellaDeHecho,
  type ErrorRegistrarHecho,
  type HechoRegistrado,
  type RegistrarHecho,
  type SolicitudHecho,
} from './registrar-hecho.js';
