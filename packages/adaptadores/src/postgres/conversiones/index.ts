export { PostgresAlmacenComisiones, TIPO_EVENTO_HECHO } from './postgres-almacen-comisiones.js';
export { idAgregadoConversion } from './filas.js';
