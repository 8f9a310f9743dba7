import {
  REGLAS_DENTRO,
  TODAS_LAS_REGLAS,
  type AmbitoPagos,
  type CodigoReglaDentro,
  type ConsultorPostgres,
  type ContextoRegla,
  type OpcionesReglas,
} from './reglas.js';

/** Ids que se guardan por violación (el total se cuenta entero). */
export const MAXIMO_IDS = 20;

export interface Violacion<C extends string = CodigoReglaDentro> {
  readonly regla: C;
  readonly descripcion: string;
  readonly total: number;
  /** Los primeros ids (de pago, o claves de mensaje) que incumplen la regla. */
  readonly ids: readonly string[];
}

export interface ResultadoRegla<C extends string = CodigoReglaDentro> {
  readonly regla: C;
  readonly descripcion: string;
  /** `undefined` si no se pudo evaluar (ver `nota`). */
  readonly violaciones: number | undefined;
  readonly nota?: string;
}

export interface ComprobacionUnaVez {
  readonly aprobada: boolean;
  readonly violaciones: readonly Violacion[];
  readonly reglas: readonly ResultadoRegla[];
  /** Pagos del ámbito encontrados en la base. */
  readonly pagos: number;
  readonly porEstado: Readonly<Record<string, number>>;
  /** Creación → estado final de los pagos finales (percentil por rango más cercano), en ms. */
  readonly latenciaFinalMs: { readonly p50: number | null; readonly p99: number | null; readonly max: number | null };
}

export interface OpcionesComprobacion extends OpcionesReglas {
  /** Qué reglas se evalúan (por defecto, todas: ver `REGLAS_CON_PAGOS_FINALES` para antes del drenaje). */
  readonly reglas?: readonly CodigoReglaDentro[];
}

function ambitoSql(pagos: AmbitoPagos): { readonly r: string; readonly valores: readonly unknown[] } {
  switch (pagos.tipo) {
    case 'socios':
      return { r: 'r AS (SELECT * FROM pagos WHERE id_socio = ANY($1::text[]))', valores: [pagos.socios] };
    case 'ids':
      return { r: 'r AS (SELECT * FROM pagos WHERE id = ANY($1::uuid[]))', valores: [pagos.ids] };
  }
}

async function existeTabla(bd: ConsultorPostgres, tabla: string): Promise<boolean> {
  const { rows } = await bd.query('SELECT to_regclass($1)::text AS t', [tabla]);
  return (rows[0] as { t: string | null } | undefined)?.t != null;
}

async function existeColumna(bd: ConsultorPostgres, tabla: string, columna: string): Promise<boolean> {
  const { rows } = await bd.query(
    `SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`,
    [tabla, columna],
  );
  return rows.length > 0;
}

/**
 * Comprueba desde dentro que cada pago del ámbito surtió efecto exactamente una vez (ver `REGLAS_DENTRO`).
 * Ninguna regla lanza por incumplirse: todas se evalúan y el resultado dice cuáles fallan y con qué ids.
 */
export async function comprobarExactamenteUnaVez(bd: ConsultorPostgres, opciones: OpcionesComprobacion): Promise<ComprobacionUnaVez> {
  const { r, valores } = ambitoSql(opciones.pagos);
  const contexto: ContextoRegla = {
    bd,
    opciones,
    r,
    valores,
    hayLibro: await existeTabla(bd, 'pasarela_simulada.cargos'),
    hayBroker: await existeTabla(bd, 'broker.mensajes'),
    hayModo: await existeColumna(bd, 'pagos', 'modo'),
  };
  const pedidas = new Set(opciones.reglas ?? TODAS_LAS_REGLAS);
  const reglas: ResultadoRegla[] = [];
  const violaciones: Violacion[] = [];
  for (const regla of REGLAS_DENTRO) {
    if (!pedidas.has(regla.codigo)) continue;
    const evaluacion = await regla.comprobar(contexto);
    if ('noEvaluada' in evaluacion) {
      reglas.push({ regla: regla.codigo, descripcion: regla.descripcion, violaciones: undefined, nota: evaluacion.noEvaluada });
      continue;
    }
    const culpables = [...new Set(evaluacion.ids)];
    reglas.push({ regla: regla.codigo, descripcion: regla.descripcion, violaciones: culpables.length });
    if (culpables.length > 0) {
      violaciones.push({
        regla: regla.codigo,
        descripcion: regla.descripcion,
        total: culpables.length,
        ids: culpables.slice(0, MAXIMO_IDS),
      });
    }
  }
  const { rows } = await bd.query(
    `WITH ${r}, f AS (
       SELECT extract(epoch FROM fecha_actualizacion - fecha_creacion) * 1000 AS ms FROM r WHERE estado IN ('EXITOSO', 'FALLIDO'))
     SELECT (SELECT coalesce(jsonb_object_agg(estado, n), '{}') FROM (SELECT estado, count(*)::int AS n FROM r GROUP BY estado) e) AS por_estado,
            (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) FROM f)::float8 AS p50,
            (SELECT percentile_disc(0.99) WITHIN GROUP (ORDER BY ms) FROM f)::float8 AS p99,
            (SELECT max(ms) FROM f)::float8 AS max`,
    [...valores],
  );
  const resumen = rows[0] as { por_estado: Record<string, number>; p50: number | null; p99: number | null; max: number | null };
  const porEstado = resumen.por_estado;
  return {
    aprobada: violaciones.length === 0,
    violaciones,
    reglas,
    pagos: Object.values(porEstado).reduce((a, b) => a + b, 0),
    porEstado,
    latenciaFinalMs: { p50: resumen.p50, p99: resumen.p99, max: resumen.max },
  };
}

/** Las violaciones como texto para un mensaje de error: una línea por regla con sus primeros ids. */
export function describirViolaciones(violaciones: readonly Violacion<string>[]): string {
  return violaciones
    .map(
      (v) =>
        `${v.regla} (${v.total}): ${v.descripcion}: ${v.ids.join(', ')}${v.total > v.ids.length ? ` … y ${v.total - v.ids.length} más` : ''}`,
    )
    .join('\n');
}
