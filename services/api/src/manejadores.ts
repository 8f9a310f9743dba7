import {
  crearManejadorEstadisticasOutbox,
  crearManejadorListarPagos,
  crearManejadorObtenerEstadoPago,
  crearManejadorObtenerHistorialPago,
  crearManejadorProcesarPago,
  type ConsultasPagos,
  type GeneradorIds,
} from '@aeropartners/aplicacion';
import type { Reloj, RepositorioPagos } from '@aeropartners/dominio';

/** Los puertos que necesitan los casos de uso que expone la API. */
export interface PuertosApi {
  readonly repositorio: RepositorioPagos;
  readonly consultas: ConsultasPagos;
  readonly reloj: Reloj;
  readonly nuevoId: GeneradorIds;
}

/** Construye los manejadores de la API a partir de sus puertos (producción: PostgreSQL; tests: en memoria). */
export function crearManejadores(puertos: PuertosApi) {
  return {
    procesarPago: crearManejadorProcesarPago(puertos),
    obtenerEstadoPago: crearManejadorObtenerEstadoPago(puertos),
    listarPagos: crearManejadorListarPagos(puertos),
    obtenerHistorialPago: crearManejadorObtenerHistorialPago(puertos),
    estadisticasOutbox: crearManejadorEstadisticasOutbox(puertos),
  };
}

export type Manejadores = ReturnType<typeof crearManejadores>;
