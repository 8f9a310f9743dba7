import { Resultado, type Ambito, type EstadoPago, type Pago } from '@aeropartners/dominio';
import type { ConsultasPagos, EntradaHistorial, EstadisticasOutbox, Pagina } from '../puertos.js';

/** No existe en el ámbito de quien pregunta (puede existir en otro: eso no se revela). */
export type ErrorConsulta = { readonly tipo: 'PagoNoEncontrado'; readonly idPago: string };

/** Estado actual de un pago del ámbito. */
export interface ObtenerPago {
  readonly tipo: 'ObtenerPago';
  readonly ambito: Ambito;
  readonly idPago: string;
}

export interface ListarPagos {
  readonly tipo: 'ListarPagos';
  readonly ambito: Ambito;
  readonly estado?: EstadoPago | undefined;
  readonly idAfiliado?: string | undefined;
  readonly referenciaPago?: string | undefined;
  readonly cursor?: string | undefined;
  /** 1–200; por defecto 50. */
  readonly limite?: number | undefined;
}

export interface ObtenerHistorialPago {
  readonly tipo: 'ObtenerHistorialPago';
  readonly ambito: Ambito;
  readonly idPago: string;
}

/** Recuento de los eventos del outbox de los pagos del ámbito. */
export interface ObtenerEstadisticasOutbox {
  readonly tipo: 'ObtenerEstadisticasOutbox';
  readonly ambito: Ambito;
}

export const LIMITE_LISTADO = { porDefecto: 50, maximo: 200 } as const;

export function crearManejadorObtenerPago(deps: { readonly consultas: ConsultasPagos }) {
  return async (consulta: ObtenerPago): Promise<Resultado<Pago, ErrorConsulta>> => {
    const pago = await deps.consultas.obtenerPago(consulta.ambito, consulta.idPago);
    return pago ? Resultado.ok(pago) : Resultado.fallo({ tipo: 'PagoNoEncontrado', idPago: consulta.idPago });
  };
}

export function crearManejadorListarPagos(deps: { readonly consultas: ConsultasPagos }) {
  return (consulta: ListarPagos): Promise<Pagina<Pago>> => {
    const limite = Math.min(Math.max(1, Math.trunc(consulta.limite ?? LIMITE_LISTADO.porDefecto)), LIMITE_LISTADO.maximo);
    return deps.consultas.listar({
      ambito: consulta.ambito,
      estado: consulta.estado,
      idAfiliado: consulta.idAfiliado,
      referenciaPago: consulta.referenciaPago,
      cursor: consulta.cursor,
      limite,
    });
  };
}

export function crearManejadorObtenerHistorialPago(deps: { readonly consultas: ConsultasPagos }) {
  return async (consulta: ObtenerHistorialPago): Promise<Resultado<readonly EntradaHistorial[], ErrorConsulta>> => {
    const historial = await deps.consultas.historial(consulta.ambito, consulta.idPago);
    return historial ? Resultado.ok(historial) : Resultado.fallo({ tipo: 'PagoNoEncontrado', idPago: consulta.idPago });
  };
}

export function crearManejadorObtenerEstadisticasOutbox(deps: { readonly consultas: ConsultasPagos }) {
  return (consulta: ObtenerEstadisticasOutbox): Promise<EstadisticasOutbox> => deps.consultas.estadisticasOutbox(consulta.ambito);
}
