import {
  Liquidacion,
  asientoLiquidacionCreada,
  cerrarLiquidacion,
  crearPago,
  planificarLiquidaciones,
  type GrupoSinLiquidar,
  type Modo,
  type Trazabilidad,
} from '@aeropartners/dominio';
import type { AlmacenComisiones, EscrituraCierre, LecturaCierre } from './puertos-conversiones.js';

export interface DependenciasLiquidaciones {
  readonly almacen: AlmacenComisiones;
  readonly nuevoId: () => string;
  readonly ahora: () => Date;
}

export interface ResumenEjecucion {
  readonly idEjecucion: string;
  /** Liquidaciones en curso cuyo pago terminó y se cerraron antes de planificar (pagadas o anuladas). */
  readonly cerradas: number;
  /** Creadas por esta ejecución, con su `Pago`. */
  readonly creadas: readonly {
    readonly id: string;
    readonly idPago: string;
    readonly netoUnidadesMenores: number;
    readonly moneda: string;
  }[];
  /** Planificadas que no se escribieron: ya existían o alguna partida cambió mientras tanto (se reintentan en la siguiente). */
  readonly omitidas: number;
  readonly sinLiquidar: readonly GrupoSinLiquidar[];
}

/** Lanza con el motivo: un fallo del dominio aquí es un dato roto, no una situación de negocio. */
function exigir<T>(r: { ok: true; valor: T } | { ok: false; error: unknown }, que: string): T {
  if (!r.ok) throw new Error(`${que}: ${JSON.stringify(r.error)}`);
  return r.valor;
}

/** Cierra las liquidaciones en curso cuyo `Pago` ya es EXITOSO o FALLIDO (la segunda fase). Devuelve cuántas cerró. */
export async function cerrarLiquidacionesTerminadas(deps: Pick<DependenciasLiquidaciones, 'almacen'>, modo: Modo): Promise<number> {
  let cerradas = 0;
  for (const { idLiquidacion } of await deps.almacen.liquidacionesTerminadas(modo)) {
    const hecho = await deps.almacen.cerrarLiquidacion(modo, idLiquidacion, (lectura: LecturaCierre): EscrituraCierre => {
      return exigir(cerrarLiquidacion(lectura), `No se pudo cerrar la liquidación ${idLiquidacion}`);
    });
    if (hecho) cerradas += 1;
  }
  return cerradas;
}

/**
 * Una ejecución de liquidaciones (decisión 0104): cierra las terminadas, planifica con lo pagable ahora
 * y crea cada liquidación con su `Pago` en una sola sentencia. Repetir el mismo `idEjecucion` no crea
 * nada nuevo; dos ejecuciones a la vez nunca ponen una partida en dos liquidaciones (lo impide la base).
 */
export async function ejecutarLiquidaciones(
  deps: DependenciasLiquidaciones,
  opciones: { readonly modo: Modo; readonly idEjecucion: string; readonly traza: Trazabilidad },
): Promise<ResumenEjecucion> {
  const { almacen } = deps;
  const cerradas = await cerrarLiquidacionesTerminadas(deps, opciones.modo);
  const ahora = deps.ahora();
  const [reglas, candidatas] = await Promise.all([almacen.reglas(), almacen.candidatas(opciones.modo, ahora)]);
  const plan = exigir(
    planificarLiquidaciones({
      idEjecucion: opciones.idEjecucion,
      ahora,
      comisiones: candidatas.comisiones,
      ajustes: candidatas.ajustes,
      reglas,
    }),
    'No se pudo planificar la ejecución',
  );
  const creadas: { id: string; idPago: string; netoUnidadesMenores: number; moneda: string }[] = [];
  let omitidas = 0;
  for (const liquidacion of plan.liquidaciones) {
    const idPago = deps.nuevoId();
    const datos = exigir(Liquidacion.datosPago(liquidacion, idPago), `Importe inválido en ${liquidacion.id}`);
    const pago = exigir(
      crearPago({ ...datos, modo: opciones.modo }, { ahora, nuevoId: deps.nuevoId }),
      `No se pudo crear el pago de ${liquidacion.id}`,
    );
    const creada = await almacen.crearLiquidacion(opciones.modo, liquidacion, pago, asientoLiquidacionCreada(liquidacion), opciones.traza);
    if (creada)
      creadas.push({ id: liquidacion.id, idPago, netoUnidadesMenores: liquidacion.netoUnidadesMenores, moneda: liquidacion.moneda });
    else omitidas += 1;
  }
  return { idEjecucion: opciones.idEjecucion, cerradas, creadas, omitidas, sinLiquidar: plan.sinLiquidar };
}
