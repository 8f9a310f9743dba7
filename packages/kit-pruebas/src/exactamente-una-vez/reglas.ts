/**
 * Las reglas de «cada pago surte efecto exactamente una vez» vistas desde dentro: lo que quedó escrito
 * en PostgreSQL (pagos, outbox, inbox, historial, libro de la pasarela simulada, broker embebido). Cada
 * regla es una consulta que devuelve los ids culpables (de pago, salvo donde se dice otra cosa); una
 * lista vacía es que se cumple.
 *
 * Las reglas miran los pagos de un ámbito (`r`: los de una corrida del experimento, o una lista de ids).
 * Las tablas en las que al final no debe quedar nada de nadie (outbox pendiente, cola del broker,
 * mensajes muertos, cobros de pagos inexistentes) se miran enteras.
 */

/** Lo poco que el comprobador necesita de un cliente de PostgreSQL (un `pg.Pool` lo cumple). */
export interface ConsultorPostgres {
  query(texto: string, valores?: unknown[]): Promise<{ readonly rows: readonly unknown[] }>;
}

export type CodigoReglaDentro =
  | 'una-referencia-un-pago'
  | 'ninguno-incierto'
  | 'dentro-del-plazo'
  | 'cargo-unico'
  | 'exitoso-con-su-cargo'
  | 'fallido-sin-cargo'
  | 'fallido-por-rechazo'
  | 'cargo-de-exitoso'
  | 'eventos-del-pago'
  | 'outbox-vacio'
  | 'publicado-entregado'
  | 'evento-consumido'
  | 'cola-vacia'
  | 'mensajes-muertos'
  | 'historial-monotono'
  | 'historial-coincide';

/** Qué pagos se comprueban. */
export type AmbitoPagos =
  /**
   * Todos los pagos de estos socios (los de una corrida del experimento, que crea socios nuevos en cada
   * una). Las referencias pueden repetirse entre socios: el socio es parte de la identidad del pago.
   */
  | { readonly tipo: 'socios'; readonly socios: readonly string[] }
  /** Estos pagos (los que creó un test). */
  | { readonly tipo: 'ids'; readonly ids: readonly string[] };

export interface OpcionesReglas {
  readonly pagos: AmbitoPagos;
  /** Suscripción del consumidor cuyo inbox se mira. Por defecto `consumidor-pagos`. */
  readonly suscripcion?: string;
  /** Plazo de creación → estado final. Sin él, `dentro-del-plazo` no se evalúa. */
  readonly plazoMs?: number;
  /** Los mensajes muertos anteriores no cuentan. Sin ella, cuentan todos. */
  readonly desde?: Date;
  /** Claves de los mensajes venenosos inyectados a propósito: deben estar en mensajes muertos, y nada más. */
  readonly venenos?: readonly string[];
}

/** Lo que una regla recibe: la base, el ámbito como CTE `r` y qué tablas opcionales existen. */
export interface ContextoRegla {
  readonly bd: ConsultorPostgres;
  readonly opciones: OpcionesReglas;
  /** `r AS (SELECT * FROM pagos WHERE …)`, con sus parámetros en {@link valores}. */
  readonly r: string;
  readonly valores: readonly unknown[];
  /** ¿Hay libro de la pasarela simulada (`pasarela_simulada.cargos`)? Con Stripe, no. */
  readonly hayLibro: boolean;
  /** ¿Hay broker embebido (`broker.mensajes`)? Con Pulsar, no. */
  readonly hayBroker: boolean;
  /** ¿Tienen los pagos columna `modo` (live/test)? */
  readonly hayModo: boolean;
}

export type Evaluacion = { readonly ids: readonly string[] } | { readonly noEvaluada: string };

export interface ReglaDentro {
  readonly codigo: CodigoReglaDentro;
  readonly descripcion: string;
  comprobar(contexto: ContextoRegla): Promise<Evaluacion>;
}

export const SUSCRIPCION_POR_DEFECTO = 'consumidor-pagos';
const SIN_LIBRO = 'sin libro de la pasarela simulada (¿PASARELA=stripe?)';
const SIN_BROKER = 'sin broker embebido (¿Pulsar?)';

/** Ejecuta `sql` (que puede usar `r`); `$k` de `extra` es `p(k)`. Devuelve la columna `id`. */
async function ids(c: ContextoRegla, sql: (p: (k: number) => string) => string, extra: readonly unknown[] = []): Promise<Evaluacion> {
  const p = (k: number) => `$${c.valores.length + k}`;
  const { rows } = await c.bd.query(sql(p), [...c.valores, ...extra]);
  return { ids: (rows as { id: string }[]).map((f) => f.id) };
}

/** Una consulta sobre tablas enteras (sin `r`): sus parámetros empiezan en `$1`. */
async function idsGlobales(c: ContextoRegla, sql: string, valores: readonly unknown[] = []): Promise<Evaluacion> {
  const { rows } = await c.bd.query(sql, [...valores]);
  return { ids: (rows as { id: string }[]).map((f) => f.id) };
}

const conLibro = (c: ContextoRegla, f: () => Promise<Evaluacion>) => (c.hayLibro ? f() : Promise.resolve({ noEvaluada: SIN_LIBRO }));
const conBroker = (c: ContextoRegla, f: () => Promise<Evaluacion>) => (c.hayBroker ? f() : Promise.resolve({ noEvaluada: SIN_BROKER }));
const suscripcion = (c: ContextoRegla) => c.opciones.suscripcion ?? SUSCRIPCION_POR_DEFECTO;

/** Todas las reglas, en el orden en que se informan. */
export const REGLAS_DENTRO: readonly ReglaDentro[] = [
  {
    codigo: 'una-referencia-un-pago',
    descripcion: 'Cada (socio, referencia) tiene exactamente un pago en la base (en cada modo, si lo hay)',
    comprobar: (c) => {
      // Con modos (live/test), la misma referencia en los dos modos de un socio son dos pagos legítimos.
      const clave = c.hayModo ? 'id_socio, modo, referencia_pago' : 'id_socio, referencia_pago';
      return ids(
        c,
        () => `WITH ${c.r}
          SELECT x.id_socio || ' · ' || x.referencia_pago || ': ' || string_agg(p.id::text, ', ' ORDER BY p.id) AS id
          FROM (SELECT DISTINCT ${clave} FROM r) x JOIN pagos p USING (${clave})
          GROUP BY ${clave} HAVING count(*) > 1 ORDER BY 1`,
      );
    },
  },
  {
    codigo: 'ninguno-incierto',
    descripcion: 'Ningún pago quedó incierto (PENDIENTE o PROCESANDO): todos acabaron EXITOSO o FALLIDO',
    comprobar: (c) => ids(c, () => `WITH ${c.r} SELECT id::text AS id FROM r WHERE estado NOT IN ('EXITOSO', 'FALLIDO') ORDER BY 1`),
  },
  {
    codigo: 'dentro-del-plazo',
    descripcion: 'Todo pago llegó a su estado final dentro del plazo declarado',
    comprobar: (c) =>
      c.opciones.plazoMs === undefined
        ? Promise.resolve({ noEvaluada: 'sin plazo declarado' })
        : ids(
            c,
            (p) => `WITH ${c.r} SELECT id::text AS id FROM r
              WHERE estado IN ('EXITOSO', 'FALLIDO') AND extract(epoch FROM fecha_actualizacion - fecha_creacion) * 1000 > ${p(1)}
              ORDER BY 1`,
            [c.opciones.plazoMs],
          ),
  },
  {
    codigo: 'cargo-unico',
    descripcion: 'El libro de la pasarela tiene como mucho una decisión (cobro o rechazo) por pago, con el id del pago como clave',
    comprobar: (c) =>
      conLibro(c, () =>
        ids(
          c,
          () => `WITH ${c.r} SELECT c.id_pago::text AS id FROM pasarela_simulada.cargos c JOIN r ON r.id = c.id_pago
            GROUP BY c.id_pago HAVING count(*) > 1 OR bool_or(c.clave_idempotencia <> c.id_pago::text) ORDER BY 1`,
        ),
      ),
  },
  {
    codigo: 'exitoso-con-su-cargo',
    descripcion: 'Todo EXITOSO tiene exactamente un cobro en el libro, con su referencia de transacción y sin mensaje de error',
    comprobar: (c) =>
      conLibro(c, () =>
        ids(
          c,
          () => `WITH ${c.r} SELECT r.id::text AS id FROM r
            LEFT JOIN pasarela_simulada.cargos c ON c.id_pago = r.id AND c.resultado = 'exitoso'
            WHERE r.estado = 'EXITOSO' GROUP BY r.id, r.referencia_transaccion, r.mensaje_error
            HAVING count(c.id_pago) <> 1 OR r.referencia_transaccion IS NULL OR r.mensaje_error IS NOT NULL
                OR bool_or(c.referencia_transaccion IS DISTINCT FROM r.referencia_transaccion)
            ORDER BY 1`,
        ),
      ),
  },
  {
    codigo: 'fallido-sin-cargo',
    descripcion: 'Ningún pago FALLIDO tiene un cobro en el libro de la pasarela',
    comprobar: (c) =>
      conLibro(c, () =>
        ids(
          c,
          () => `WITH ${c.r} SELECT DISTINCT r.id::text AS id FROM r
            JOIN pasarela_simulada.cargos c ON c.id_pago = r.id AND c.resultado = 'exitoso'
            WHERE r.estado = 'FALLIDO' ORDER BY 1`,
        ),
      ),
  },
  {
    codigo: 'fallido-por-rechazo',
    descripcion:
      'Todo FALLIDO viene de un rechazo definitivo: su rechazo está en el libro con el mismo mensaje, y no tiene referencia de transacción',
    comprobar: (c) =>
      conLibro(c, () =>
        ids(
          c,
          () => `WITH ${c.r} SELECT r.id::text AS id FROM r
            LEFT JOIN pasarela_simulada.cargos c ON c.id_pago = r.id AND c.resultado = 'rechazado'
            WHERE r.estado = 'FALLIDO' GROUP BY r.id, r.mensaje_error, r.referencia_transaccion
            HAVING count(c.id_pago) <> 1 OR r.referencia_transaccion IS NOT NULL OR bool_or(c.mensaje IS DISTINCT FROM r.mensaje_error)
            ORDER BY 1`,
        ),
      ),
  },
  {
    codigo: 'cargo-de-exitoso',
    descripcion: 'El pago de cada cobro del libro existe y es EXITOSO',
    comprobar: (c) =>
      conLibro(c, () =>
        ids(
          c,
          () => `WITH ${c.r} SELECT DISTINCT c.id_pago::text AS id FROM pasarela_simulada.cargos c
            LEFT JOIN pagos p ON p.id = c.id_pago
            WHERE c.resultado = 'exitoso' AND (p.id IS NULL OR (p.estado <> 'EXITOSO' AND p.id IN (SELECT id FROM r)))
            ORDER BY 1`,
        ),
      ),
  },
  {
    codigo: 'eventos-del-pago',
    descripcion:
      'Cada pago tiene en el outbox su PagoPendiente (versión 1) y, si terminó, un solo evento de desenlace acorde a su estado y versión, y nada más',
    comprobar: (c) =>
      ids(
        c,
        () => `WITH ${c.r}, e AS (
            SELECT o.id_agregado, count(*) AS total,
                   count(*) FILTER (WHERE o.tipo = 'PagoPendiente' AND o.version_agregado = 1) AS pendientes,
                   count(*) FILTER (WHERE o.tipo = 'PagoExitoso') AS exitos,
                   count(*) FILTER (WHERE o.tipo = 'PagoFallido') AS fallos,
                   max(o.version_agregado) FILTER (WHERE o.tipo IN ('PagoExitoso', 'PagoFallido')) AS version_desenlace
            FROM outbox o JOIN r ON r.id = o.id_agregado GROUP BY o.id_agregado)
          SELECT r.id::text AS id FROM r LEFT JOIN e ON e.id_agregado = r.id
          WHERE coalesce(e.pendientes, 0) <> 1
             OR coalesce(e.total, 0) <> CASE WHEN r.estado IN ('EXITOSO', 'FALLIDO') THEN 2 ELSE 1 END
             OR (r.estado = 'EXITOSO' AND (e.exitos <> 1 OR e.version_desenlace IS DISTINCT FROM r.version))
             OR (r.estado = 'FALLIDO' AND (e.fallos <> 1 OR e.version_desenlace IS DISTINCT FROM r.version))
          ORDER BY 1`,
      ),
  },
  {
    codigo: 'outbox-vacio',
    descripcion: 'El outbox no tiene eventos pendientes de publicar (de ningún pago)',
    comprobar: (c) => idsGlobales(c, `SELECT DISTINCT id_agregado::text AS id FROM outbox WHERE fecha_publicacion IS NULL ORDER BY 1`),
  },
  {
    codigo: 'publicado-entregado',
    descripcion: 'Ningún evento marcado publicado falta a la vez del inbox, de la cola del broker y de los mensajes muertos',
    // Una sola sentencia, una sola instantánea: el consumidor confirma el inbox antes de confirmar el
    // mensaje, así que la regla vale en cualquier momento, no solo tras el drenaje.
    comprobar: (c) =>
      conBroker(c, () =>
        ids(
          c,
          (p) => `WITH ${c.r}, s AS (SELECT id FROM broker.suscripciones WHERE nombre = ${p(1)})
            SELECT DISTINCT o.id_agregado::text AS id FROM outbox o JOIN r ON r.id = o.id_agregado
            WHERE o.fecha_publicacion IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.suscripcion = ${p(1)} AND i.id_evento = o.id_evento)
              AND NOT EXISTS (SELECT 1 FROM broker.mensajes m WHERE m.id_suscripcion IN (SELECT id FROM s)
                              AND m.clave = o.id_agregado::text AND m.propiedades ->> 'id_evento' = o.id_evento::text)
              AND NOT EXISTS (SELECT 1 FROM broker.muertos d WHERE d.id_suscripcion IN (SELECT id FROM s)
                              AND d.clave = o.id_agregado::text AND d.propiedades ->> 'id_evento' = o.id_evento::text)
            ORDER BY 1`,
          [suscripcion(c)],
        ),
      ),
  },
  {
    codigo: 'evento-consumido',
    descripcion: 'Cada evento de los pagos está anotado en el inbox del consumidor (ninguno perdido)',
    comprobar: (c) =>
      ids(
        c,
        (p) => `WITH ${c.r} SELECT DISTINCT o.id_agregado::text AS id FROM outbox o JOIN r ON r.id = o.id_agregado
          WHERE NOT EXISTS (SELECT 1 FROM inbox i WHERE i.suscripcion = ${p(1)} AND i.id_evento = o.id_evento)
          ORDER BY 1`,
        [suscripcion(c)],
      ),
  },
  {
    codigo: 'cola-vacia',
    descripcion: 'La cola del broker embebido quedó vacía (ids: claves de mensaje)',
    comprobar: (c) => conBroker(c, () => idsGlobales(c, `SELECT DISTINCT clave AS id FROM broker.mensajes ORDER BY 1`)),
  },
  {
    codigo: 'mensajes-muertos',
    descripcion: 'No hay mensajes muertos salvo los venenos inyectados, y los inyectados están (ids: claves de mensaje)',
    comprobar: (c) =>
      conBroker(c, async () => {
        const evaluacion = await idsGlobales(c, `SELECT clave AS id FROM broker.muertos WHERE muerto_en >= $1 ORDER BY id`, [
          c.opciones.desde ?? new Date(0),
        ]);
        const muertos = 'ids' in evaluacion ? evaluacion.ids : [];
        const venenos = c.opciones.venenos ?? [];
        const inyectados = new Set(venenos);
        const apartados = new Set(muertos);
        return {
          ids: [
            ...muertos.filter((clave) => !inyectados.has(clave)),
            ...venenos
              .filter((clave) => !apartados.has(clave))
              .map((clave) => `${clave} (veneno inyectado que no llegó a mensajes muertos)`),
          ],
        };
      }),
  },
  {
    codigo: 'historial-monotono',
    descripcion: 'Cada historial sube de versión de uno en uno, sin retroceder en el tiempo, PENDIENTE → PROCESANDO → final',
    comprobar: (c) =>
      ids(
        c,
        () => `WITH ${c.r}, h AS (
            SELECT h.id_pago, h.version, h.estado, h.ocurrido_en,
                   lag(h.version) OVER w AS v_ant, lag(h.estado) OVER w AS e_ant, lag(h.ocurrido_en) OVER w AS t_ant,
                   row_number() OVER w AS fila
            FROM historial_pagos h JOIN r ON r.id = h.id_pago
            WINDOW w AS (PARTITION BY h.id_pago ORDER BY h.id))
          SELECT DISTINCT id_pago::text AS id FROM h
          WHERE (fila = 1 AND (version <> 1 OR estado <> 'PENDIENTE'))
             OR (fila > 1 AND (version <> v_ant + 1 OR ocurrido_en < t_ant
                 OR NOT ((e_ant = 'PENDIENTE' AND estado = 'PROCESANDO') OR (e_ant = 'PROCESANDO' AND estado IN ('EXITOSO', 'FALLIDO')))))
          ORDER BY 1`,
      ),
  },
  {
    codigo: 'historial-coincide',
    descripcion: 'La última entrada del historial coincide con el estado y la versión del pago',
    comprobar: (c) =>
      ids(
        c,
        () => `WITH ${c.r} SELECT r.id::text AS id FROM r
          LEFT JOIN LATERAL (SELECT estado, version FROM historial_pagos h WHERE h.id_pago = r.id ORDER BY version DESC LIMIT 1) u ON true
          WHERE u.estado IS DISTINCT FROM r.estado OR u.version IS DISTINCT FROM r.version
          ORDER BY 1`,
      ),
  },
];

/**
 * Las reglas que ya valen cuando todos los pagos del ámbito son finales, aunque el pipeline no se haya
 * vaciado (los desenlaces aún pueden estar sin publicar o sin consumir): las de un test e2e.
 */
export const REGLAS_CON_PAGOS_FINALES: readonly CodigoReglaDentro[] = [
  'una-referencia-un-pago',
  'ninguno-incierto',
  'cargo-unico',
  'exitoso-con-su-cargo',
  'fallido-sin-cargo',
  'fallido-por-rechazo',
  'cargo-de-exitoso',
  'eventos-del-pago',
  'publicado-entregado',
  'historial-monotono',
  'historial-coincide',
];

/** Todas (también las que exigen el pipeline vacío): las del experimento tras el drenaje. */
export const TODAS_LAS_REGLAS: readonly CodigoReglaDentro[] = REGLAS_DENTRO.map((r) => r.codigo);

export const DESCRIPCION_REGLAS_DENTRO: Readonly<Record<CodigoReglaDentro, string>> = Object.fromEntries(
  REGLAS_DENTRO.map((r) => [r.codigo, r.descripcion]),
) as Record<CodigoReglaDentro, string>;
