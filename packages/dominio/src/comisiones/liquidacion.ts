import { Dinero, type ErrorDinero } from '../dinero.js';
import type { Moneda } from '../moneda.js';
import type { DatosNuevoPago } from '../pago.js';
import type { ClaveIdempotencia } from '../puertos.js';
import { Resultado } from '../resultado.js';
import type { AjusteComision } from './ajuste-comision.js';
import { Comision, type ReferenciaLiquidacion } from './comision.js';
import { ReglaComision } from './regla-comision.js';
import { type DatoInvalido, compararTexto, componerId, fechaValida, sumaSegura, validarIdentificador } from './texto.js';

/**
 * `EN_CURSO → PAGADA | ANULADA`, en dos fases como las transferencias pendientes de TigerBeetle: crearla
 * reserva sus partidas; el pago EXITOSO la asienta (`PAGADA`) y el FALLIDO la anula (`ANULADA`) y libera
 * sus partidas para la siguiente ejecución. Los estados finales son finales.
 */
export type EstadoLiquidacion = 'EN_CURSO' | 'PAGADA' | 'ANULADA';

export const EstadoLiquidacion = {
  todos: Object.freeze(['EN_CURSO', 'PAGADA', 'ANULADA'] as const) satisfies readonly EstadoLiquidacion[],
  esFinal(estado: EstadoLiquidacion): boolean {
    return estado !== 'EN_CURSO';
  },
} as const;

/** Lo que entra en una liquidación: una comisión (su importe) o un ajuste (complemento + / recuperación −). */
export type PartidaLiquidacion = Readonly<{
  tipo: 'comision' | 'complemento' | 'recuperacion';
  /** Id de la comisión o del ajuste: la unicidad «como mucho en una liquidación no anulada» es sobre él. */
  id: string;
  idComision: string;
  idConversion: string;
  /** ≥ 0; el signo lo da `tipo`. */
  unidadesMenores: number;
}>;

/** Una liquidación (payout) a un afiliado en una moneda: el neto de sus partidas, pagado con un `Pago`. */
export type Liquidacion = Readonly<{
  /** Determinista: `liquidacion:<idSocio>:<idAfiliado>:<moneda>:<idEjecucion>`. Es la clave de idempotencia de su `Pago`. */
  id: string;
  idSocio: string;
  idAfiliado: string;
  moneda: Moneda;
  /** La ejecución (el corte) que la creó. */
  idEjecucion: string;
  creadaEn: Date;
  estado: EstadoLiquidacion;
  /** En orden estable: comisiones, complementos y recuperaciones, cada grupo por id. */
  partidas: readonly PartidaLiquidacion[];
  /** Comisiones + complementos − recuperaciones: siempre > 0 y ≥ el mínimo de la regla. */
  netoUnidadesMenores: number;
}>;

export interface EntradaPlanificacion {
  /** Id de la ejecución (o del corte): con el mismo, el mismo plan da los mismos ids. */
  readonly idEjecucion: string;
  readonly ahora: Date;
  /** Comisiones candidatas, en cualquier estado: solo entran las pagables en `ahora`. */
  readonly comisiones: readonly Comision[];
  /** Ajustes candidatos: solo entran los que no están en ninguna liquidación. */
  readonly ajustes: readonly AjusteComision[];
  /** Reglas de los socios: el mínimo es el de la regla que rige en `ahora`. */
  readonly reglas: readonly ReglaComision[];
}

/** Por qué un grupo (socio, afiliado, moneda) con partidas no se liquida en esta ejecución: se arrastra. */
export type MotivoSinLiquidar = 'NetoNoPositivo' | 'BajoMinimo' | 'ExcedeMaximo';

export type GrupoSinLiquidar = Readonly<{
  idSocio: string;
  idAfiliado: string;
  moneda: Moneda;
  /** `null` si la suma no cabe en un entero seguro. */
  netoUnidadesMenores: number | null;
  minimoUnidadesMenores: number;
  motivo: MotivoSinLiquidar;
}>;

export type PlanLiquidaciones = Readonly<{ liquidaciones: readonly Liquidacion[]; sinLiquidar: readonly GrupoSinLiquidar[] }>;

export type ErrorPlanificacion = DatoInvalido | { readonly tipo: 'PartidaRepetida'; readonly id: string };

export type ErrorLiquidacion = {
  readonly tipo: 'DesenlaceEnConflicto';
  readonly idLiquidacion: string;
  readonly estadoActual: EstadoLiquidacion;
  readonly desenlace: DesenlacePago;
};

export type ErrorExclusividad = {
  readonly tipo: 'PartidaEnVariasLiquidaciones';
  readonly idPartida: string;
  readonly idsLiquidacion: readonly string[];
};

/** El desenlace definitivo del `Pago` de una liquidación (un pago incierto la deja EN_CURSO). */
export type DesenlacePago = 'EXITOSO' | 'FALLIDO';

const ORDEN_PARTIDA = { comision: 0, complemento: 1, recuperacion: 2 } as const;

function idLiquidacion(idSocio: string, idAfiliado: string, moneda: Moneda, idEjecucion: string): string {
  return componerId('liquidacion', idSocio, idAfiliado, moneda, idEjecucion);
}

function conSigno(p: PartidaLiquidacion): number {
  return p.tipo === 'recuperacion' ? -p.unidadesMenores : p.unidadesMenores;
}

interface Grupo {
  readonly idSocio: string;
  readonly idAfiliado: string;
  readonly moneda: Moneda;
  readonly partidas: PartidaLiquidacion[];
}

/**
 * Planifica las liquidaciones de una ejecución (decisión 0104). Por (socio, afiliado, moneda) junta las
 * comisiones pagables en `ahora` (aprobadas, con el bloqueo cumplido, en ninguna liquidación) y los
 * ajustes pendientes; si el neto es > 0 y alcanza el mínimo de la regla vigente crea una liquidación
 * EN_CURSO con id determinista. Si no, el grupo va a `sinLiquidar` y todo sigue pendiente para la
 * siguiente (un saldo negativo se arrastra así). Función pura: no marca nada; eso lo hace la persistencia
 * en la misma sentencia que guarda la liquidación.
 */
export function planificarLiquidaciones(entrada: EntradaPlanificacion): Resultado<PlanLiquidaciones, ErrorPlanificacion> {
  const error = validarIdentificador('id_ejecucion', entrada.idEjecucion);
  if (error) return Resultado.fallo(error);
  if (!fechaValida(entrada.ahora)) return Resultado.fallo({ tipo: 'DatoInvalido', campo: 'ahora', motivo: 'debe ser una fecha válida' });
  const vistos = new Set<string>();
  for (const { id } of [...entrada.comisiones, ...entrada.ajustes]) {
    if (vistos.has(id)) return Resultado.fallo({ tipo: 'PartidaRepetida', id });
    vistos.add(id);
  }

  const grupos = new Map<string, Grupo>();
  const anadir = (p: { idSocio: string; idAfiliado: string; moneda: Moneda }, partida: PartidaLiquidacion): void => {
    const clave = componerId(p.idSocio, p.idAfiliado, p.moneda);
    const grupo = grupos.get(clave) ?? { idSocio: p.idSocio, idAfiliado: p.idAfiliado, moneda: p.moneda, partidas: [] };
    grupo.partidas.push(Object.freeze(partida));
    grupos.set(clave, grupo);
  };
  for (const c of entrada.comisiones) {
    if (!Comision.esPagable(c, entrada.ahora)) continue;
    anadir(c, { tipo: 'comision', id: c.id, idComision: c.id, idConversion: c.idConversion, unidadesMenores: c.unidadesMenores });
  }
  for (const a of entrada.ajustes) {
    if (a.liquidacion !== null) continue;
    anadir(a, { tipo: a.tipo, id: a.id, idComision: a.idComision, idConversion: a.idConversion, unidadesMenores: a.unidadesMenores });
  }

  const liquidaciones: Liquidacion[] = [];
  const sinLiquidar: GrupoSinLiquidar[] = [];
  for (const clave of [...grupos.keys()].sort(compararTexto)) {
    const grupo = grupos.get(clave);
    if (!grupo) continue;
    const { idSocio, idAfiliado, moneda } = grupo;
    const neto = sumaSegura(grupo.partidas.map(conSigno));
    const minimo = ReglaComision.minimoEn(ReglaComision.vigente(entrada.reglas, idSocio, entrada.ahora), moneda);
    if (neto === null || neto > Dinero.MAXIMO_UNIDADES_MENORES || neto <= 0 || neto < minimo) {
      const motivo: MotivoSinLiquidar =
        neto === null || neto > Dinero.MAXIMO_UNIDADES_MENORES ? 'ExcedeMaximo' : neto <= 0 ? 'NetoNoPositivo' : 'BajoMinimo';
      sinLiquidar.push(Object.freeze({ idSocio, idAfiliado, moneda, netoUnidadesMenores: neto, minimoUnidadesMenores: minimo, motivo }));
      continue;
    }
    const partidas = grupo.partidas.sort((a, b) => ORDEN_PARTIDA[a.tipo] - ORDEN_PARTIDA[b.tipo] || compararTexto(a.id, b.id));
    liquidaciones.push(
      Object.freeze({
        id: idLiquidacion(idSocio, idAfiliado, moneda, entrada.idEjecucion),
        idSocio,
        idAfiliado,
        moneda,
        idEjecucion: entrada.idEjecucion,
        creadaEn: entrada.ahora,
        estado: 'EN_CURSO',
        partidas: Object.freeze(partidas),
        netoUnidadesMenores: neto,
      }),
    );
  }
  return Resultado.ok(Object.freeze({ liquidaciones: Object.freeze(liquidaciones), sinLiquidar: Object.freeze(sinLiquidar) }));
}

/**
 * El desenlace del `Pago` de la liquidación: EXITOSO → `PAGADA`, FALLIDO → `ANULADA`. Reaplicar el que ya
 * tiene no cambia nada (devuelve la misma liquidación); el contrario es `DesenlaceEnConflicto`.
 */
export function registrarDesenlaceLiquidacion(
  liquidacion: Liquidacion,
  desenlace: DesenlacePago,
): Resultado<Liquidacion, ErrorLiquidacion> {
  const destino: EstadoLiquidacion = desenlace === 'EXITOSO' ? 'PAGADA' : 'ANULADA';
  if (liquidacion.estado === destino) return Resultado.ok(liquidacion);
  if (liquidacion.estado !== 'EN_CURSO') {
    return Resultado.fallo({ tipo: 'DesenlaceEnConflicto', idLiquidacion: liquidacion.id, estadoActual: liquidacion.estado, desenlace });
  }
  return Resultado.ok(Object.freeze({ ...liquidacion, estado: destino }));
}

/**
 * La liquidación no anulada que incluye la partida `idPartida` (comisión o ajuste), con su importe, o
 * `null`. Si hay más de una es una violación de la regla «como mucho una liquidación no anulada».
 */
export function referenciaEnLiquidaciones(
  idPartida: string,
  liquidaciones: readonly Liquidacion[],
): Resultado<ReferenciaLiquidacion | null, ErrorExclusividad> {
  const vivas = liquidaciones.filter((l) => l.estado !== 'ANULADA' && l.partidas.some((p) => p.id === idPartida));
  const [una, ...otras] = vivas;
  if (otras.length > 0) {
    return Resultado.fallo({ tipo: 'PartidaEnVariasLiquidaciones', idPartida, idsLiquidacion: vivas.map((l) => l.id).sort(compararTexto) });
  }
  if (!una || una.estado === 'ANULADA') return Resultado.ok(null);
  const partida = una.partidas.find((p) => p.id === idPartida);
  return Resultado.ok(Object.freeze({ idLiquidacion: una.id, estado: una.estado, unidadesMenores: partida?.unidadesMenores ?? 0 }));
}

/** Comprueba que ninguna partida (comisión o ajuste) está en dos liquidaciones no anuladas. */
export function comprobarExclusividad(liquidaciones: readonly Liquidacion[]): Resultado<true, ErrorExclusividad> {
  const donde = new Map<string, string[]>();
  for (const l of liquidaciones) {
    if (l.estado === 'ANULADA') continue;
    for (const p of l.partidas) donde.set(p.id, [...(donde.get(p.id) ?? []), l.id]);
  }
  for (const [idPartida, ids] of [...donde].sort(([a], [b]) => compararTexto(a, b))) {
    if (ids.length > 1)
      return Resultado.fallo({ tipo: 'PartidaEnVariasLiquidaciones', idPartida, idsLiquidacion: ids.sort(compararTexto) });
  }
  return Resultado.ok(true);
}

export const Liquidacion = {
  id: idLiquidacion,
  planificar: planificarLiquidaciones,
  registrarDesenlace: registrarDesenlaceLiquidacion,
  referenciaEn: referenciaEnLiquidaciones,
  comprobarExclusividad,
  /** El importe con signo que aporta una partida al neto. */
  conSigno,
  /** La clave de idempotencia del `Pago` de la liquidación: su id (una liquidación, un solo cobro). */
  claveIdempotencia(liquidacion: Liquidacion): ClaveIdempotencia {
    return { idSocio: liquidacion.idSocio, clave: liquidacion.id };
  },
  /** Los datos del `Pago` que paga la liquidación (para `crearPago`), con `referenciaPago` = id de la liquidación. */
  datosPago(liquidacion: Liquidacion, idPago: string): Resultado<DatosNuevoPago, ErrorDinero> {
    const monto = Dinero.deUnidadesMenores(liquidacion.netoUnidadesMenores, liquidacion.moneda);
    if (!monto.ok) return monto;
    const { idSocio, idAfiliado } = liquidacion;
    return Resultado.ok({ id: idPago, idSocio, idAfiliado, monto: monto.valor, referenciaPago: liquidacion.id });
  },
} as const;
