import {
  crearManejadorObtenerEstadisticasOutbox,
  crearManejadorListarPagos,
  crearManejadorObtenerPago,
  crearManejadorObtenerHistorialPago,
  crearManejadorRegistrarPago,
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
    registrarPago: crearManejadorRegistrarPago(puertos),
    obtenerPago: crearManejadorObtenerPago(puertos),
    listarPagos: crearManejadorListarPagos(puertos),
    obtenerHistorialPago: crearManejadorObtenerHistorialPago(puertos),
    obtenerEstadisticasOutbox: crearManejadorObtenerEstadisticasOutbox(puertos),
  };
}

export type Manejadores = ReturnType<typeof crearManejadores>;
