/**
 * @aeropartners/kit-pruebas — el kit de pruebas del proyecto (privado: no se publica).
 *
 * El comprobador de «cada pago surte efecto exactamente una vez» desde dentro (PostgreSQL), una sola
 * definición para el experimento, los e2e y los benchmarks:
 *
 * ```ts
 * const v = await comprobarExactamenteUnaVez(pool, { pagos: { tipo: 'ids', ids }, reglas: REGLAS_CON_PAGOS_FINALES });
 * if (!v.aprobada) throw new Error(describirViolaciones(v.violaciones));
 * ```
 *
 * Y los percentiles (rango más cercano) y la mediana de pasadas que usan el experimento y los benchmarks.
 */
export {
  MAXIMO_IDS,
  comprobarExactamenteUnaVez,
  describirViolaciones,
  type ComprobacionUnaVez,
  type OpcionesComprobacion,
  type ResultadoRegla,
  type Violacion,
} from './exactamente-una-vez/comprobar.js';
export {
  DESCRIPCION_REGLAS_DENTRO,
  REGLAS_CON_PAGOS_FINALES,
  REGLAS_DENTRO,
  SUSCRIPCION_POR_DEFECTO,
  TODAS_LAS_REGLAS,
  type AmbitoPagos,
  type CodigoReglaDentro,
  type ConsultorPostgres,
  type ContextoRegla,
  type Evaluacion,
  type OpcionesReglas,
  type ReglaDentro,
} from './exactamente-una-vez/reglas.js';
export {
  MENSAJE_RECHAZO_PLANTADO,
  plantarCargo,
  plantarHistorial,
  plantarMensaje,
  plantarPago,
  type CargoPlantado,
  type EstadoFinal,
  type OpcionesPlantar,
  type PagoPlantado,
} from './exactamente-una-vez/plantar.js';
export { mediana, percentil, percentiles } from './estadistica/percentiles.js';
