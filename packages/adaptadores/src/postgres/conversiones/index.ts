export { PostgresAlmacenComisiones, TIPO_EVENTO_HECHO } from './postgres-almacen-comisiones.js';
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
