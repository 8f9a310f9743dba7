import type pg from 'pg';

/**
 * El veredicto: lo que «cada pago surte efecto exactamente una vez» significa, comprobado desde fuera
 * (lo que la API respondió a cada petición) y desde dentro (lo que quedó escrito en PostgreSQL). Cada
 * regla da la lista de ids que la incumplen; una sola violación suspende el experimento.
 *
 * El ámbito son los pagos de la corrida: los del socio de la API cuya referencia empieza por el prefijo
 * de la corrida. Las tablas globales (outbox pendiente, cola del broker, mensajes muertos desde el
 * inicio, cargos huérfanos) se miran enteras: en ellas no debe quedar nada de nadie.
 */

export type CodigoRegla =
  | 'una-referencia-un-pago'
  | 'respuestas-coherentes'
  | 'pago-no-aceptado'
  | 'pago-no-pedido'
  | 'conflicto-rechazado'
  | 'replica-tardia-reconocida'
  | 'estado-final'
  | 'dentro-del-plazo'
  | 'cargo-unico'
  | 'exitoso-con-un-cargo'
  | 'cargo-sin-exito'
  | 'cargo-huerfano'
  | 'outbox-vacio'
  | 'eventos-del-pago'
  | 'evento-consumido'
  | 'cola-vacia'
  | 'mensajes-muertos'
  | 'historial-monotono'
  | 'historial-coincide';

export const DESCRIPCION_REGLAS: Readonly<Record<CodigoRegla, string>> = {
  'una-referencia-un-pago': 'Cada (socio, referencia) tiene exactamente un pago en la base',
  'respuestas-coherentes': 'Todas las respuestas 200 de una referencia dan el mismo id, el de la base',
  'pago-no-aceptado': 'Toda referencia enviada acabó aceptada (200) tras los reintentos',
  'pago-no-pedido': 'No hay pagos de la corrida con una referencia que nadie envió',
  'conflicto-rechazado': 'Misma referencia con otro cuerpo → 422',
  'replica-tardia-reconocida': 'Réplica tardía de un pago terminado → 200, Idempotent-Replayed y el mismo id',
  'estado-final': 'Todo pago llegó a EXITOSO o FALLIDO',
  'dentro-del-plazo': 'Todo pago llegó a su estado final dentro del plazo declarado',
  'cargo-unico': 'El libro de la pasarela tiene como mucho un cargo por pago',
  'exitoso-con-un-cargo': 'Todo EXITOSO tiene exactamente un cobro, con su referencia de transacción',
  'cargo-sin-exito': 'Ningún pago no EXITOSO tiene un cobro',
  'cargo-huerfano': 'Ningún cargo del libro es de un pago inexistente',
  'outbox-vacio': 'El outbox no tiene eventos pendientes de publicar',
  'eventos-del-pago': 'Cada pago tiene un PagoPendiente y un solo evento de desenlace acorde a su estado',
  'evento-consumido': 'Cada evento de un pago de la corrida está anotado en el inbox del consumidor (ninguno perdido)',
  'cola-vacia': 'La cola del broker embebido quedó vacía',
  'mensajes-muertos': 'No hay mensajes muertos salvo los venenos inyectados, y los inyectados están',
  'historial-monotono': 'Cada historial sube de versión de uno en uno, sin retroceder en el tiempo, PENDIENTE → PROCESANDO → final',
  'historial-coincide': 'La última entrada del historial coincide con el estado y la versión del pago',
};

export interface Violacion {
  readonly regla: CodigoRegla;
  readonly descripcion: string;
  readonly total: number;
  /** Los primeros ids (de pago, o claves de mensaje) que incumplen la regla. */
  readonly ids: readonly string[];
}

export interface ResultadoRegla {
  readonly regla: CodigoRegla;
  readonly descripcion: string;
  /** `undefined` si no se pudo evaluar (p. ej. sin libro de la pasarela simulada). */
  readonly violaciones: number | undefined;
  readonly nota?: string;
}

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
  readonly violaciones: readonly Violacion[];
  readonly reglas: readonly ResultadoRegla[];
  readonly pagos: number;
  readonly porEstado: Readonly<Record<string, number>>;
  readonly latenciaFinalMs: { readonly p50: number | null; readonly p99: number | null; readonly max: number | null };
}

const MAX_IDS = 20;

const RUN = `r AS (SELECT * FROM pagos WHERE id_socio = $1 AND starts_with(referencia_pago, $2))`;

async function existeTabla(pool: pg.Pool, tabla: string): Promise<boolean> {
  const { rows } = await pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [tabla]);
  return rows[0]?.t != null;
}

export async function juzgar(pool: pg.Pool, ambito: AmbitoVeredicto): Promise<Veredicto> {
  const fallos = new Map<CodigoRegla, string[]>();
  const notas = new Map<CodigoRegla, string>();
  const noEvaluadas = new Set<CodigoRegla>();
  const anotar = (regla: CodigoRegla, ids: Iterable<string>) => {
    const lista = fallos.get(regla) ?? [];
    for (const id of ids) lista.push(id);
    fallos.set(regla, lista);
  };
  const p = [ambito.idSocio, ambito.prefijo];
  const ids = async (sql: string, params: unknown[] = p): Promise<string[]> =>
    (await pool.query<{ id: string }>(sql, params)).rows.map((f) => f.id);

  // ── Desde dentro: pagos ────────────────────────────────────────────────────
  const { rows: pagos } = await pool.query<{ id: string; referencia_pago: string; estado: string; ms: number | null }>(
    `WITH ${RUN} SELECT id::text AS id, referencia_pago, estado,
       CASE WHEN estado IN ('EXITOSO','FALLIDO') THEN extract(epoch FROM fecha_actualizacion - fecha_creacion) * 1000 END AS ms
     FROM r`,
    p,
  );
  const porReferencia = new Map<string, string[]>();
  const porEstado: Record<string, number> = {};
  const latencias: number[] = [];
  for (const f of pagos) {
    const lista = porReferencia.get(f.referencia_pago) ?? [];
    lista.push(f.id);
    porReferencia.set(f.referencia_pago, lista);
    porEstado[f.estado] = (porEstado[f.estado] ?? 0) + 1;
    if (f.ms !== null) {
      latencias.push(Number(f.ms));
      if (Number(f.ms) > ambito.plazoMs) anotar('dentro-del-plazo', [f.id]);
    } else anotar('estado-final', [f.id]);
  }
  for (const [referencia, lista] of porReferencia) if (lista.length > 1) anotar('una-referencia-un-pago', [`${referencia}: ${lista.join(', ')}`]);

  // ── Desde fuera ────────────────────────────────────────────────────────────
  if (ambito.fuera) {
    for (const [referencia, obs] of ambito.fuera) {
      const enBase = porReferencia.get(referencia);
      if (!obs.aceptada) anotar('pago-no-aceptado', [referencia]);
      if (obs.aceptada && !enBase) anotar('una-referencia-un-pago', [`${referencia}: aceptada y sin pago en la base`]);
      const idBase = enBase?.[0];
      if (obs.ids.size > 1 || (idBase !== undefined && [...obs.ids].some((id) => id !== idBase))) {
        anotar('respuestas-coherentes', [`${referencia}: respuestas ${[...obs.ids].join(', ')}; base ${idBase ?? '—'}`]);
      }
      if (obs.estadoConflicto !== undefined && obs.estadoConflicto !== 422) {
        anotar('conflicto-rechazado', [`${referencia}: ${obs.estadoConflicto}`]);
      }
      if (obs.tardia && (obs.tardia.estado !== 200 || !obs.tardia.replay || obs.tardia.idPago !== idBase)) {
        anotar('replica-tardia-reconocida', [`${referencia}: ${obs.tardia.estado}${obs.tardia.replay ? ' (replay)' : ''} ${obs.tardia.idPago ?? ''}`]);
      }
    }
    for (const [referencia, lista] of porReferencia) if (!ambito.fuera.has(referencia)) anotar('pago-no-pedido', lista);
  } else {
    for (const r of ['respuestas-coherentes', 'pago-no-aceptado', 'pago-no-pedido', 'conflicto-rechazado', 'replica-tardia-reconocida'] as const) {
      noEvaluadas.add(r);
    }
  }

  // ── Libro de la pasarela ───────────────────────────────────────────────────
  if (await existeTabla(pool, 'pasarela_simulada.cargos')) {
    anotar(
      'cargo-unico',
      await ids(`WITH ${RUN} SELECT c.id_pago::text AS id FROM pasarela_simulada.cargos c JOIN r ON r.id = c.id_pago
                 GROUP BY c.id_pago HAVING count(*) > 1`),
    );
    anotar(
      'exitoso-con-un-cargo',
      await ids(`WITH ${RUN} SELECT r.id::text AS id FROM r
                 LEFT JOIN pasarela_simulada.cargos c ON c.id_pago = r.id AND c.resultado = 'exitoso'
                 WHERE r.estado = 'EXITOSO' GROUP BY r.id, r.referencia_transaccion
                 HAVING count(c.id_pago) <> 1 OR bool_or(c.referencia_transaccion IS DISTINCT FROM r.referencia_transaccion)`),
    );
    anotar(
      'cargo-sin-exito',
      await ids(`WITH ${RUN} SELECT DISTINCT r.id::text AS id FROM r
                 JOIN pasarela_simulada.cargos c ON c.id_pago = r.id AND c.resultado = 'exitoso' WHERE r.estado <> 'EXITOSO'`),
    );
    anotar(
      'cargo-huerfano',
      await ids(`SELECT DISTINCT c.id_pago::text AS id FROM pasarela_simulada.cargos c
                 WHERE NOT EXISTS (SELECT 1 FROM pagos p WHERE p.id = c.id_pago)`, []),
    );
  } else {
    for (const r of ['cargo-unico', 'exitoso-con-un-cargo', 'cargo-sin-exito', 'cargo-huerfano'] as const) {
      noEvaluadas.add(r);
      notas.set(r, 'sin libro de la pasarela simulada (¿PASARELA=stripe?)');
    }
  }

  // ── Outbox, broker e inbox ─────────────────────────────────────────────────
  anotar('outbox-vacio', await ids(`SELECT DISTINCT id_agregado::text AS id FROM outbox WHERE fecha_publicacion IS NULL`, []));
  anotar(
    'eventos-del-pago',
    await ids(`WITH ${RUN}, e AS (
                 SELECT id_agregado, count(*) FILTER (WHERE tipo = 'PagoPendiente') AS pendientes,
                        count(*) FILTER (WHERE tipo = 'PagoExitoso') AS exitos,
                        count(*) FILTER (WHERE tipo = 'PagoFallido') AS fallos
                 FROM outbox o WHERE o.id_agregado IN (SELECT id FROM r) GROUP BY id_agregado)
               SELECT r.id::text AS id FROM r LEFT JOIN e ON e.id_agregado = r.id
               WHERE coalesce(e.pendientes, 0) <> 1
                  OR (r.estado = 'EXITOSO' AND (coalesce(e.exitos, 0) <> 1 OR coalesce(e.fallos, 0) <> 0))
                  OR (r.estado = 'FALLIDO' AND (coalesce(e.fallos, 0) <> 1 OR coalesce(e.exitos, 0) <> 0))
                  OR (r.estado IN ('PENDIENTE', 'PROCESANDO') AND coalesce(e.exitos, 0) + coalesce(e.fallos, 0) <> 0)`),
  );
  anotar(
    'evento-consumido',
    await ids(
      `WITH ${RUN} SELECT DISTINCT o.id_agregado::text AS id FROM outbox o JOIN r ON r.id = o.id_agregado
       WHERE NOT EXISTS (SELECT 1 FROM inbox i WHERE i.suscripcion = $3 AND i.id_evento = o.id_evento)`,
      [...p, ambito.suscripcion],
    ),
  );
  if (await existeTabla(pool, 'broker.mensajes')) {
    anotar('cola-vacia', await ids(`SELECT DISTINCT clave AS id FROM broker.mensajes`, []));
    const muertos = await ids(`SELECT clave AS id FROM broker.muertos WHERE muerto_en >= $1`, [ambito.desde]);
    const venenos = new Set(ambito.venenos);
    anotar('mensajes-muertos', muertos.filter((c) => !venenos.has(c)));
    const apartados = new Set(muertos);
    anotar('mensajes-muertos', ambito.venenos.filter((c) => !apartados.has(c)).map((c) => `${c} (veneno inyectado que no llegó a mensajes muertos)`));
  } else {
    for (const r of ['cola-vacia', 'mensajes-muertos'] as const) {
      noEvaluadas.add(r);
      notas.set(r, 'sin broker embebido (¿Pulsar?)');
    }
  }

  // ── Historial ──────────────────────────────────────────────────────────────
  anotar(
    'historial-monotono',
    await ids(`WITH ${RUN}, h AS (
                 SELECT h.id_pago, h.version, h.estado, h.ocurrido_en,
                        lag(h.version) OVER w AS v_ant, lag(h.estado) OVER w AS e_ant, lag(h.ocurrido_en) OVER w AS t_ant,
                        row_number() OVER w AS fila
                 FROM historial_pagos h JOIN r ON r.id = h.id_pago
                 WINDOW w AS (PARTITION BY h.id_pago ORDER BY h.id))
               SELECT DISTINCT id_pago::text AS id FROM h
               WHERE (fila = 1 AND (version <> 1 OR estado <> 'PENDIENTE'))
                  OR (fila > 1 AND (version <> v_ant + 1 OR ocurrido_en < t_ant
                      OR NOT ((e_ant = 'PENDIENTE' AND estado = 'PROCESANDO') OR (e_ant = 'PROCESANDO' AND estado IN ('EXITOSO', 'FALLIDO')))))`),
  );
  anotar(
    'historial-coincide',
    await ids(`WITH ${RUN} SELECT r.id::text AS id FROM r
               LEFT JOIN LATERAL (SELECT estado, version FROM historial_pagos h WHERE h.id_pago = r.id ORDER BY version DESC LIMIT 1) u ON true
               WHERE u.estado IS DISTINCT FROM r.estado OR u.version IS DISTINCT FROM r.version`),
  );

  latencias.sort((a, b) => a - b);
  const pct = (q: number) => (latencias.length === 0 ? null : (latencias[Math.min(latencias.length - 1, Math.ceil(q * latencias.length) - 1)] ?? null));
  return componer(fallos, noEvaluadas, notas, {
    pagos: pagos.length,
    porEstado,
    latenciaFinalMs: { p50: pct(0.5), p99: pct(0.99), max: latencias.at(-1) ?? null },
  });
}

/**
 * Solo desde fuera (un despliegue remoto sin acceso a su base): que cada referencia acabara aceptada con
 * un único id, que los conflictos dieran 422 y las réplicas tardías el mismo id como réplica.
 */
export function juzgarFuera(fuera: ReadonlyMap<string, ObservacionFuera>): Veredicto {
  const fallos = new Map<CodigoRegla, string[]>();
  const anotar = (regla: CodigoRegla, id: string) => fallos.set(regla, [...(fallos.get(regla) ?? []), id]);
  for (const [referencia, obs] of fuera) {
    if (!obs.aceptada) anotar('pago-no-aceptado', referencia);
    if (obs.ids.size > 1) anotar('respuestas-coherentes', `${referencia}: respuestas ${[...obs.ids].join(', ')}`);
    if (obs.estadoConflicto !== undefined && obs.estadoConflicto !== 422) anotar('conflicto-rechazado', `${referencia}: ${obs.estadoConflicto}`);
    const id = [...obs.ids][0];
    if (obs.tardia && (obs.tardia.estado !== 200 || !obs.tardia.replay || obs.tardia.idPago !== id)) {
      anotar('replica-tardia-reconocida', `${referencia}: ${obs.tardia.estado}${obs.tardia.replay ? ' (replay)' : ''} ${obs.tardia.idPago ?? ''}`);
    }
  }
  const dentro = (Object.keys(DESCRIPCION_REGLAS) as CodigoRegla[]).filter(
    (r) => !['pago-no-aceptado', 'respuestas-coherentes', 'conflicto-rechazado', 'replica-tardia-reconocida'].includes(r),
  );
  const notas = new Map(dentro.map((r) => [r, 'sin acceso a la base (--database-url)'] as const));
  return componer(fallos, new Set(dentro), notas, { pagos: fuera.size, porEstado: {}, latenciaFinalMs: { p50: null, p99: null, max: null } });
}

function componer(
  fallos: ReadonlyMap<CodigoRegla, readonly string[]>,
  noEvaluadas: ReadonlySet<CodigoRegla>,
  notas: ReadonlyMap<CodigoRegla, string>,
  resto: Pick<Veredicto, 'pagos' | 'porEstado' | 'latenciaFinalMs'>,
): Veredicto {
  const reglas: ResultadoRegla[] = [];
  const violaciones: Violacion[] = [];
  for (const [regla, descripcion] of Object.entries(DESCRIPCION_REGLAS) as [CodigoRegla, string][]) {
    const lista = [...new Set(fallos.get(regla) ?? [])];
    const nota = notas.get(regla);
    reglas.push({ regla, descripcion, violaciones: noEvaluadas.has(regla) ? undefined : lista.length, ...(nota ? { nota } : {}) });
    if (lista.length > 0) violaciones.push({ regla, descripcion, total: lista.length, ids: lista.slice(0, MAX_IDS) });
  }
  return { aprobado: violaciones.length === 0, violaciones, reglas, ...resto };
}
