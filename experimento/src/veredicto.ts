import {
  DESCRIPCION_REGLAS_DENTRO,
  MAXIMO_IDS,
  TODAS_LAS_REGLAS,
  comprobarExactamenteUnaVez,
  type CodigoReglaDentro,
  type ComprobacionUnaVez,
  type ConsultorPostgres,
  type ResultadoRegla,
  type Violacion,
} from '@aeropartners/kit-pruebas';

/**
 * El veredicto: lo que «cada pago surte efecto exactamente una vez» significa, comprobado desde fuera
 * (lo que la API respondió a cada petición: solo el experimento lo ve) y desde dentro (lo que quedó en
 * PostgreSQL: el comprobador común de `@aeropartners/kit-pruebas`, con todas sus reglas). Cada regla da
 * la lista de ids que la incumplen; una sola violación suspende el experimento.
 */

export type CodigoReglaFuera =
  | 'pago-no-aceptado'
  | 'respuestas-coherentes'
  | 'pago-no-pedido'
  | 'conflicto-rechazado'
  | 'replica-tardia-reconocida';
export type CodigoRegla = CodigoReglaFuera | CodigoReglaDentro;

export const DESCRIPCION_REGLAS_FUERA: Readonly<Record<CodigoReglaFuera, string>> = {
  'pago-no-aceptado': 'Toda referencia enviada acabó aceptada (200) tras los reintentos, y tiene su pago en la base',
  'respuestas-coherentes': 'Todas las respuestas 200 de una referencia dan el mismo id, el de la base',
  'pago-no-pedido': 'No hay pagos de la corrida con una referencia que nadie envió',
  'conflicto-rechazado': 'Misma referencia con otro cuerpo → 422',
  'replica-tardia-reconocida': 'Réplica tardía de un pago terminado → 200, Idempotent-Replayed y el mismo id',
};

export const DESCRIPCION_REGLAS: Readonly<Record<CodigoRegla, string>> = { ...DESCRIPCION_REGLAS_FUERA, ...DESCRIPCION_REGLAS_DENTRO };

/** Lo que el cliente vio de una referencia (el experimento lo anota al enviar). */
export interface ObservacionFuera {
  /** Ids devueltos en las respuestas 200 (debe haber exactamente uno). */
  readonly ids: ReadonlySet<string>;
  /** ¿Alguna petición de esta referencia (con su cuerpo original) acabó en 200? */
  readonly aceptada: boolean;
  /** Estado HTTP final de la petición en conflicto (mismo referencia, otro cuerpo), si se envió. */
  readonly estadoConflicto?: number;
  /** Respuesta a la réplica tardía, si se envió. */
  readonly tardia?: { readonly estado: number; readonly replay: boolean; readonly idPago: string | undefined };
}

export interface AmbitoVeredicto {
  readonly idSocio: string;
  /** Prefijo de las referencias de la corrida. */
  readonly prefijo: string;
  /** Suscripción del consumidor (su inbox). */
  readonly suscripcion: string;
  /** Inicio de la corrida: los mensajes muertos anteriores no cuentan. */
  readonly desde: Date;
  readonly plazoMs: number;
  /** Claves de los mensajes venenosos inyectados a propósito. */
  readonly venenos: readonly string[];
  /** Lo visto desde fuera, por referencia; sin ello, solo se juzga desde dentro. */
  readonly fuera?: ReadonlyMap<string, ObservacionFuera>;
}

export interface Veredicto {
  readonly aprobado: boolean;
  readonly violaciones: readonly Violacion<CodigoRegla>[];
  readonly reglas: readonly ResultadoRegla<CodigoRegla>[];
  readonly pagos: number;
  readonly porEstado: Readonly<Record<string, number>>;
  readonly latenciaFinalMs: ComprobacionUnaVez['latenciaFinalMs'];
}

const REGLAS_FUERA = Object.keys(DESCRIPCION_REGLAS_FUERA) as CodigoReglaFuera[];

/** Las reglas de fuera: cada una con sus culpables (referencias, con lo que se vio). `enBase`: referencia → ids de pago. */
function juzgarDesdeFuera(
  fuera: ReadonlyMap<string, ObservacionFuera>,
  enBase: ReadonlyMap<string, readonly string[]> | undefined,
): Map<CodigoReglaFuera, string[]> {
  const fallos = new Map<CodigoReglaFuera, string[]>(REGLAS_FUERA.map((r) => [r, []]));
  const anotar = (regla: CodigoReglaFuera, id: string) => fallos.get(regla)?.push(id);
  for (const [referencia, obs] of fuera) {
    const ids = enBase?.get(referencia);
    if (!obs.aceptada) anotar('pago-no-aceptado', referencia);
    else if (enBase && !ids) anotar('pago-no-aceptado', `${referencia}: aceptada y sin pago en la base`);
    const idBase = ids?.[0] ?? [...obs.ids][0];
    if (obs.ids.size > 1 || (ids !== undefined && [...obs.ids].some((id) => id !== idBase))) {
      anotar('respuestas-coherentes', `${referencia}: respuestas ${[...obs.ids].join(', ')}${enBase ? `; base ${idBase ?? '—'}` : ''}`);
    }
    if (obs.estadoConflicto !== undefined && obs.estadoConflicto !== 422)
      anotar('conflicto-rechazado', `${referencia}: ${obs.estadoConflicto}`);
    if (obs.tardia && (obs.tardia.estado !== 200 || !obs.tardia.replay || obs.tardia.idPago !== idBase)) {
      anotar(
        'replica-tardia-reconocida',
        `${referencia}: ${obs.tardia.estado}${obs.tardia.replay ? ' (replay)' : ''} ${obs.tardia.idPago ?? ''}`,
      );
    }
  }
  if (enBase) for (const [referencia, ids] of enBase) if (!fuera.has(referencia)) for (const id of ids) anotar('pago-no-pedido', id);
  return fallos;
}

function resultadosFuera(
  fallos: ReadonlyMap<CodigoReglaFuera, readonly string[]> | undefined,
  nota: string,
): { reglas: ResultadoRegla<CodigoRegla>[]; violaciones: Violacion<CodigoRegla>[] } {
  const reglas: ResultadoRegla<CodigoRegla>[] = [];
  const violaciones: Violacion<CodigoRegla>[] = [];
  for (const regla of REGLAS_FUERA) {
    const descripcion = DESCRIPCION_REGLAS_FUERA[regla];
    const lista = fallos?.get(regla);
    if (!lista) {
      reglas.push({ regla, descripcion, violaciones: undefined, nota });
      continue;
    }
    reglas.push({ regla, descripcion, violaciones: lista.length });
    if (lista.length > 0) violaciones.push({ regla, descripcion, total: lista.length, ids: lista.slice(0, MAXIMO_IDS) });
  }
  return { reglas, violaciones };
}

/** Desde fuera (si hay observaciones) y desde dentro, con todas las reglas del comprobador común. */
export async function juzgar(bd: ConsultorPostgres, ambito: AmbitoVeredicto): Promise<Veredicto> {
  const dentro = await comprobarExactamenteUnaVez(bd, {
    pagos: { tipo: 'prefijo', idSocio: ambito.idSocio, prefijo: ambito.prefijo },
    reglas: TODAS_LAS_REGLAS,
    suscripcion: ambito.suscripcion,
    plazoMs: ambito.plazoMs,
    desde: ambito.desde,
    venenos: ambito.venenos,
  });
  let fuera: ReturnType<typeof resultadosFuera>;
  if (ambito.fuera) {
    const { rows } = await bd.query(
      `SELECT id::text AS id, referencia_pago FROM pagos WHERE id_socio = $1 AND starts_with(referencia_pago, $2)`,
      [ambito.idSocio, ambito.prefijo],
    );
    const enBase = new Map<string, string[]>();
    for (const f of rows as { id: string; referencia_pago: string }[])
      enBase.set(f.referencia_pago, [...(enBase.get(f.referencia_pago) ?? []), f.id]);
    fuera = resultadosFuera(juzgarDesdeFuera(ambito.fuera, enBase), '');
  } else {
    fuera = resultadosFuera(undefined, 'sin observaciones desde fuera');
  }
  const violaciones = [...fuera.violaciones, ...dentro.violaciones];
  return {
    aprobado: violaciones.length === 0,
    violaciones,
    reglas: [...fuera.reglas, ...dentro.reglas],
    pagos: dentro.pagos,
    porEstado: dentro.porEstado,
    latenciaFinalMs: dentro.latenciaFinalMs,
  };
}

/**
 * Solo desde fuera (un despliegue remoto sin acceso a su base): que cada referencia acabara aceptada con
 * un único id, que los conflictos dieran 422 y las réplicas tardías el mismo id como réplica.
 */
export function juzgarFuera(fuera: ReadonlyMap<string, ObservacionFuera>): Veredicto {
  const desdeFuera = resultadosFuera(juzgarDesdeFuera(fuera, undefined), '');
  // Sin base no se sabe qué pagos hay: «no pedido» no se puede evaluar.
  const reglasFuera = desdeFuera.reglas.map((r) =>
    r.regla === 'pago-no-pedido' ? { ...r, violaciones: undefined, nota: 'sin acceso a la base (--database-url)' } : r,
  );
  const reglasDentro: ResultadoRegla<CodigoRegla>[] = TODAS_LAS_REGLAS.map((regla) => ({
    regla,
    descripcion: DESCRIPCION_REGLAS_DENTRO[regla],
    violaciones: undefined,
    nota: 'sin acceso a la base (--database-url)',
  }));
  return {
    aprobado: desdeFuera.violaciones.length === 0,
    violaciones: desdeFuera.violaciones,
    reglas: [...reglasFuera, ...reglasDentro],
    pagos: fuera.size,
    porEstado: {},
    latenciaFinalMs: { p50: null, p99: null, max: null },
  };
}
