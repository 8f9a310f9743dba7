export { PostgresAlmacenComisiones } from './postgres-almacen-comisiones.js';
export {
  TIPO_EVENTO_HECHO,
  type MetricasRegistroHechos,
  type OpcionesRegistroHechos,
} from './registro-hechos-por-lotes.js';
export { idAgregadoConversion } from './filas.js';
export { crearAtencionConversiones, leerSobreHecho, type HechoEnMensaje } from './atencion-conversiones.js';
export {
  CERROJO_LIQUIDACIONES,
  VARIABLES_LIQUIDACIONES,
  idEjecucionPeriodica,
  iniciarLiquidaciones,
  type LiquidacionesEnMarcha,
  type OpcionesIniciarLiquidaciones,
} from './iniciar-liquidaciones.js';
export { PostgresConsultasComisiones } from './postgres-consultas-comisiones.js';
