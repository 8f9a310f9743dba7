import { MAXIMO_IDS, type ConsultorPostgres, type ResultadoRegla, type Violacion } from '@aeropartners/kit-pruebas';
import type { EntregaRecibida } from './receptor-webhooks.js';
import type { EventoRecibido } from './stream-socios.js';

/**
 * Las reglas de la trazabilidad en tiempo real (issue 13): lo que cada socio ve de sus cambios por el feed
 * (`GET /eventos`), el stream (`GET /eventos/stream`) y sus webhooks, comparado con lo que quedó en la base
 * (`historial_pagos` y `historial_conversiones`, las fuentes del registro). Son funciones puras sobre lo
 * observado: los tests plantan cada violación sin levantar nada.
 *
 * Los `duplicado.absorbido` no entran en «cada cambio una vez» (su registro es informativo: un lote en
 * memoria puede perderse si el proceso muere, decisión 0163), pero sí en todo lo demás: son eventos del
 * feed y el stream y los webhooks deben entregarlos igual.
 */

export type CodigoReglaTrazabilidad =
  | 'feed-cada-cambio-una-vez'
  | 'feed-orden-por-sujeto'
  | 'feed-solo-del-socio'
  | 'stream-igual-al-feed'
  | 'webhooks-firma-valida'
  | 'webhooks-una-vez-por-evento';

export const DESCRIPCION_REGLAS_TRAZABILIDAD: Readonly<Record<CodigoReglaTrazabilidad, string>> = {
  'feed-cada-cambio-una-vez':
    'Cada cambio de estado en la base (historial de pagos y de conversiones) aparece exactamente una vez en el feed de su socio (GET /eventos hasta el final), con secuencias 1…N sin huecos, y el feed no trae cambios que no estén en la base',
  'feed-orden-por-sujeto':
    'En el feed, los cambios de cada pago o conversión salen en el orden en que ocurrieron (versión del pago, orden del historial)',
  'feed-solo-del-socio': 'Ningún evento del feed de un socio habla de un pago o conversión de otro socio',
  'stream-igual-al-feed':
    'El stream SSE de cada socio (con sus reconexiones por Last-Event-ID) entregó exactamente los eventos del feed: sin huecos, sin repetidos por id y con el mismo tipo y sujeto',
  'webhooks-firma-valida':
    'Cada entrega de webhook llegó con una firma Standard Webhooks válida (verificada por el receptor con su propia implementación de la especificación, no con el código que firma)',
  'webhooks-una-vez-por-evento':
    'Tras deduplicar por webhook-id, cada evento del feed cubierto por la suscripción llegó exactamente una vez, aceptado (2xx) al menos una vez, con el mismo cuerpo que el feed; y el webhook sigue activo',
};

/** Un evento del feed de un socio, como lo devuelve `GET /eventos`. */
export interface EventoFeed {
  readonly secuencia: number;
  readonly tipo: string;
  readonly sujeto: string;
  /** ms Unix. */
  readonly registradoEn: number;
  readonly datos: Readonly<Record<string, unknown>>;
  /** `huellaJson` del objeto entero: se compara con el cuerpo de cada webhook. */
  readonly huella: string;
}

/** Un cambio de estado en la base: una fila de historial de un socio de la corrida. */
export interface CambioEnBase {
  readonly socio: string;
  readonly sujeto: string;
  /** El tipo de evento que le corresponde (`pago.exitoso`, `conversion.aprobada`, …). */
  readonly tipo: string;
  /** Lo que identifica la fila entre las de su sujeto (ver `claveDeEvento`). */
  readonly clave: string;
  /** Su posición entre los cambios del sujeto: la versión del pago o el id del historial. */
  readonly orden: number;
}

export interface ObservadoSocio {
  readonly id: string;
  /** Su feed entero; `undefined`: no se pudo leer (la regla lo dice). */
  readonly feed: readonly EventoFeed[] | undefined;
  /** Nota sobre de dónde salió el feed (p. ej. el suspendido, que ya no puede leerlo por la API). */
  readonly notaFeed?: string;
  /** Lo recibido por el stream; `undefined`: sin stream. */
  readonly stream?: { readonly recibidos: readonly EventoRecibido[]; readonly denegado: boolean };
  /** Las llegadas a su receptor de webhooks; `undefined`: sin webhook. */
  readonly webhooks?: { readonly entregas: readonly EntregaRecibida[]; readonly activo: boolean };
}

export interface DatosTrazabilidad {
  readonly socios: readonly ObservadoSocio[];
  readonly cambios: readonly CambioEnBase[];
  /**
   * Los socios que tienen un sujeto (pago o conversión) con cada id nombrado en algún feed: los ids de
   * conversión son del socio (dos socios pueden usar el mismo), los de pago son únicos.
   */
  readonly duenos: ReadonlyMap<string, ReadonlySet<string>>;
  /** Nota general si no hubo stream o webhooks en la corrida. */
  readonly sinStream?: string;
  readonly sinWebhooks?: string;
}

export interface VeredictoTrazabilidad {
  readonly reglas: readonly ResultadoRegla<CodigoReglaTrazabilidad>[];
  readonly violaciones: readonly Violacion<CodigoReglaTrazabilidad>[];
}

const esCambio = (tipo: string) => tipo.startsWith('pago.') || tipo.startsWith('conversion.') || tipo.startsWith('comision.');

/**
 * La clave de un evento del feed entre los de su sujeto, la misma que la de su fila de historial: el tipo y
 * la versión de un pago; el tipo, el evento y el estado de un hecho de conversión.
 */
export function claveDeEvento(e: Pick<EventoFeed, 'tipo' | 'datos'>): string {
  if (e.tipo.startsWith('pago.')) return `${e.tipo} v${String(e.datos['version'] ?? '?')}`;
  return `${e.tipo} ${String(e.datos['id_evento'] ?? '—')} ${String(e.datos['estado'] ?? '—')}`;
}

export function juzgarTrazabilidad(d: DatosTrazabilidad): VeredictoTrazabilidad {
  const fallos = new Map<CodigoReglaTrazabilidad, string[]>();
  const notas = new Map<CodigoReglaTrazabilidad, string>();
  const anotar = (r: CodigoReglaTrazabilidad, texto: string) => {
    const lista = fallos.get(r);
    if (lista) lista.push(texto);
    else fallos.set(r, [texto]);
  };
  const evaluada = (r: CodigoReglaTrazabilidad) => fallos.set(r, fallos.get(r) ?? []);

  const cambiosPorSocio = new Map<string, CambioEnBase[]>();
  for (const c of d.cambios) {
    const lista = cambiosPorSocio.get(c.socio);
    if (lista) lista.push(c);
    else cambiosPorSocio.set(c.socio, [c]);
  }

  for (const s of d.socios) {
    const feed = s.feed;
    if (!feed) {
      notas.set('feed-cada-cambio-una-vez', `${s.id}: feed sin leer`);
      continue;
    }
    for (const r of ['feed-cada-cambio-una-vez', 'feed-orden-por-sujeto', 'feed-solo-del-socio'] as const) evaluada(r);
    // Secuencias 1…N sin huecos ni repetidas, en orden.
    feed.forEach((e, i) => {
      if (e.secuencia !== i + 1)
        anotar('feed-cada-cambio-una-vez', `${s.id}: en la posición ${i + 1} del feed viene la secuencia ${e.secuencia}`);
    });

    // Cada cambio de la base, exactamente una vez; y nada en el feed que no esté en la base.
    const esperados = new Map<string, { c: CambioEnBase; n: number }>();
    for (const c of cambiosPorSocio.get(s.id) ?? []) {
      const k = `${c.sujeto} ${c.clave}`;
      const x = esperados.get(k);
      if (x) x.n += 1;
      else esperados.set(k, { c, n: 1 });
    }
    const vistos = new Map<string, number[]>();
    const porSujeto = new Map<string, string[]>();
    for (const e of feed) {
      const duenos = d.duenos.get(e.sujeto);
      if (!duenos?.has(s.id))
        anotar(
          'feed-solo-del-socio',
          `${s.id} #${e.secuencia} ${e.tipo} ${e.sujeto}: ${duenos?.size ? `es de ${[...duenos].join(', ')}` : 'sujeto de ningún socio conocido'}`,
        );
      if (!esCambio(e.tipo)) continue;
      const k = `${e.sujeto} ${claveDeEvento(e)}`;
      vistos.set(k, [...(vistos.get(k) ?? []), e.secuencia]);
      porSujeto.set(e.sujeto, [...(porSujeto.get(e.sujeto) ?? []), claveDeEvento(e)]);
    }
    for (const [k, { n }] of esperados) {
      const en = vistos.get(k) ?? [];
      if (en.length !== n)
        anotar(
          'feed-cada-cambio-una-vez',
          `${s.id} · ${k}: ${en.length} vez/veces en el feed${en.length ? ` (#${en.join(', #')})` : ''}, ${n} en la base`,
        );
    }
    for (const [k, en] of vistos)
      if (!esperados.has(k))
        anotar('feed-cada-cambio-una-vez', `${s.id} · ${k}: en el feed (#${en.join(', #')}) y no en la base de este socio`);

    // Orden por sujeto: la lista de claves del feed, en orden de secuencia, es la de la base en su orden.
    const basePorSujeto = new Map<string, CambioEnBase[]>();
    for (const c of cambiosPorSocio.get(s.id) ?? []) basePorSujeto.set(c.sujeto, [...(basePorSujeto.get(c.sujeto) ?? []), c]);
    for (const [sujeto, claves] of porSujeto) {
      const base = (basePorSujeto.get(sujeto) ?? []).sort((a, b) => a.orden - b.orden).map((c) => c.clave);
      const enBase = new Set(base);
      // Cada clave en su primera aparición: las repetidas ya son de la regla anterior.
      const comunesFeed = [...new Set(claves)].filter((k) => enBase.has(k));
      const enFeed = new Set(claves);
      // También en la base cada clave en su primera aparición: dos cambios idénticos (una comisión liberada dos veces) son legítimos.
      const comunesBase = [...new Set(base)].filter((k) => enFeed.has(k));
      // Solo el orden relativo de lo que está en los dos (lo que falta, sobra o se repite ya lo dice la regla anterior).
      if (comunesFeed.join('|') !== comunesBase.join('|'))
        anotar('feed-orden-por-sujeto', `${s.id} · ${sujeto}: feed ${claves.join(' → ')}; base ${base.join(' → ')}`);
    }

    // Stream.
    if (s.stream) {
      evaluada('stream-igual-al-feed');
      const porSecuencia = new Map(feed.map((e) => [e.secuencia, e]));
      const recibidos = new Map<number, number>();
      for (const r of s.stream.recibidos) {
        recibidos.set(r.id, (recibidos.get(r.id) ?? 0) + 1);
        const f = porSecuencia.get(r.id);
        if (r.secuencia !== r.id) anotar('stream-igual-al-feed', `${s.id}: id ${r.id} con secuencia ${r.secuencia} en data`);
        if (!f) anotar('stream-igual-al-feed', `${s.id}: #${r.id} (${r.tipo} ${r.sujeto}) llegó por el stream y no está en el feed`);
        else if (f.tipo !== r.tipo || f.sujeto !== r.sujeto)
          anotar('stream-igual-al-feed', `${s.id}: #${r.id} es ${r.tipo} ${r.sujeto} en el stream y ${f.tipo} ${f.sujeto} en el feed`);
      }
      for (const [id, n] of recibidos) if (n > 1) anotar('stream-igual-al-feed', `${s.id}: #${id} repetido (${n} veces)`);
      // Al socio suspendido se le niega el stream al reconectar: lo suyo debe ser un prefijo del feed.
      const hasta = s.stream.denegado ? Math.max(0, ...recibidos.keys()) : feed.length;
      const faltan = feed.filter((e) => e.secuencia <= hasta && !recibidos.has(e.secuencia)).map((e) => e.secuencia);
      if (faltan.length > 0)
        anotar(
          'stream-igual-al-feed',
          `${s.id}: ${faltan.length} eventos del feed no llegaron por el stream (#${faltan.slice(0, 10).join(', #')}${faltan.length > 10 ? '…' : ''})`,
        );
      if (s.stream.denegado)
        notas.set(
          'stream-igual-al-feed',
          `${s.id} (suspendido): stream negado al reconectar; comprobado hasta #${hasta} de ${feed.length}`,
        );
    }

    // Webhooks.
    if (s.webhooks) {
      evaluada('webhooks-firma-valida');
      evaluada('webhooks-una-vez-por-evento');
      const porSecuencia = new Map(feed.map((e) => [e.secuencia, e]));
      const porId = new Map<string, EntregaRecibida[]>();
      for (const e of s.webhooks.entregas) {
        if (!e.firmaValida) anotar('webhooks-firma-valida', `${s.id} ${e.webhookId}: ${e.motivoFirma ?? 'firma no válida'}`);
        else porId.set(e.webhookId, [...(porId.get(e.webhookId) ?? []), e]);
      }
      const idDeSecuencia = new Map<number, string>();
      for (const [id, llegadas] of porId) {
        const secuencias = new Set(llegadas.map((l) => l.secuencia));
        const huellas = new Set(llegadas.map((l) => l.huella));
        const [secuencia] = [...secuencias];
        if (secuencias.size !== 1 || huellas.size !== 1 || secuencia === undefined) {
          anotar('webhooks-una-vez-por-evento', `${s.id} ${id}: llegadas con cuerpos distintos (secuencias ${[...secuencias].join(', ')})`);
          continue;
        }
        const f = porSecuencia.get(secuencia);
        if (!f) anotar('webhooks-una-vez-por-evento', `${s.id} ${id}: secuencia ${secuencia}, que no está en el feed`);
        else if (f.huella !== [...huellas][0])
          anotar('webhooks-una-vez-por-evento', `${s.id} ${id}: el cuerpo no es el evento #${secuencia} del feed`);
        const otro = idDeSecuencia.get(secuencia);
        if (otro) anotar('webhooks-una-vez-por-evento', `${s.id}: el evento #${secuencia} llegó con dos webhook-id (${otro} y ${id})`);
        idDeSecuencia.set(secuencia, id);
        if (!llegadas.some((l) => l.respuesta === 'ok'))
          anotar('webhooks-una-vez-por-evento', `${s.id} ${id}: nunca se aceptó (${llegadas.map((l) => l.respuesta).join(', ')})`);
      }
      const faltan = feed.filter((e) => !idDeSecuencia.has(e.secuencia)).map((e) => e.secuencia);
      if (faltan.length > 0)
        anotar(
          'webhooks-una-vez-por-evento',
          `${s.id}: ${faltan.length} eventos del feed sin webhook (#${faltan.slice(0, 10).join(', #')}${faltan.length > 10 ? '…' : ''})`,
        );
      if (!s.webhooks.activo) anotar('webhooks-una-vez-por-evento', `${s.id}: su webhook quedó desactivado`);
    }
    if (s.notaFeed) notas.set('feed-cada-cambio-una-vez', s.notaFeed);
  }
  if (d.sinStream) notas.set('stream-igual-al-feed', d.sinStream);
  if (d.sinWebhooks) {
    notas.set('webhooks-firma-valida', d.sinWebhooks);
    notas.set('webhooks-una-vez-por-evento', d.sinWebhooks);
  }

  const reglas: ResultadoRegla<CodigoReglaTrazabilidad>[] = [];
  const violaciones: Violacion<CodigoReglaTrazabilidad>[] = [];
  for (const [regla, descripcion] of Object.entries(DESCRIPCION_REGLAS_TRAZABILIDAD) as [CodigoReglaTrazabilidad, string][]) {
    const lista = fallos.get(regla);
    const nota = notas.get(regla);
    reglas.push({ regla, descripcion, violaciones: lista?.length, ...(nota || !lista ? { nota: nota ?? 'sin observaciones' } : {}) });
    if (lista && lista.length > 0) violaciones.push({ regla, descripcion, total: lista.length, ids: lista.slice(0, MAXIMO_IDS) });
  }
  return { reglas, violaciones };
}

/** El tipo de evento de una fila de `historial_conversiones`: el mismo reparto que hace el asignador (decisión 0160). */
const TIPO_CONVERSION = `CASE c.tipo
    WHEN 'HechoAplicado' THEN 'conversion.' || lower(coalesce(c.estado, 'aplicada'))
    WHEN 'HechoRecibido' THEN 'conversion.recibida'
    WHEN 'ConversionHuerfana' THEN 'conversion.huerfana'
    WHEN 'ComisionPagada' THEN 'comision.pagada'
    WHEN 'ComisionLiberada' THEN 'comision.liberada'
    ELSE 'conversion.' || lower(c.tipo) END`;

/** Los cambios de estado de los socios de la corrida (modo live): las filas de historial de sus pagos y conversiones. */
export async function leerCambios(bd: ConsultorPostgres, socios: readonly string[]): Promise<CambioEnBase[]> {
  const { rows: pagos } = await bd.query(
    `SELECT g.id_socio, h.id_pago::text AS sujeto, 'pago.' || lower(h.estado) AS tipo, h.version
     FROM historial_pagos h JOIN pagos g ON g.id = h.id_pago WHERE g.id_socio = ANY($1::text[]) AND g.modo = 'live'`,
    [socios],
  );
  const { rows: conversiones } = await bd.query(
    `SELECT c.id_socio, c.id_conversion AS sujeto, ${TIPO_CONVERSION} AS tipo, c.id_evento, c.estado, c.id::text AS id
     FROM historial_conversiones c WHERE c.id_socio = ANY($1::text[]) AND c.modo = 'live'`,
    [socios],
  );
  return [
    ...(pagos as { id_socio: string; sujeto: string; tipo: string; version: number }[]).map((f) => ({
      socio: f.id_socio,
      sujeto: f.sujeto,
      tipo: f.tipo,
      clave: claveDeEvento({ tipo: f.tipo, datos: { version: f.version } }),
      orden: Number(f.version),
    })),
    ...(
      conversiones as { id_socio: string; sujeto: string; tipo: string; id_evento: string | null; estado: string | null; id: string }[]
    ).map((f) => ({
      socio: f.id_socio,
      sujeto: f.sujeto,
      tipo: f.tipo,
      clave: claveDeEvento({ tipo: f.tipo, datos: { id_evento: f.id_evento, estado: f.estado } }),
      orden: Number(f.id),
    })),
  ];
}

/** Los socios con un pago, una conversión o un webhook de cada id, buscados en toda la base (también fuera de la corrida). */
export async function leerDuenos(bd: ConsultorPostgres, sujetos: readonly string[]): Promise<Map<string, Set<string>>> {
  const duenos = new Map<string, Set<string>>();
  const anotar = (id: string, socio: string) => duenos.set(id, (duenos.get(id) ?? new Set()).add(socio));
  const uuids = sujetos.filter((s) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s));
  for (let i = 0; i < uuids.length; i += 10_000) {
    const { rows } = await bd.query(`SELECT id::text AS id, id_socio FROM pagos WHERE id = ANY($1::uuid[])`, [uuids.slice(i, i + 10_000)]);
    for (const f of rows as { id: string; id_socio: string }[]) anotar(f.id, f.id_socio);
  }
  const otros = sujetos.filter((s) => !duenos.has(s));
  for (let i = 0; i < otros.length; i += 10_000) {
    const { rows } = await bd.query(
      `SELECT DISTINCT id_conversion AS id, id_socio FROM historial_conversiones WHERE id_conversion = ANY($1::text[])`,
      [otros.slice(i, i + 10_000)],
    );
    for (const f of rows as { id: string; id_socio: string }[]) anotar(f.id, f.id_socio);
  }
  // Los avisos al socio (p. ej. `webhook.desactivado`) hablan de uno de sus webhooks.
  const restantes = sujetos.filter((s) => !duenos.has(s));
  for (let i = 0; i < restantes.length; i += 10_000) {
    const { rows } = await bd.query(`SELECT id, id_socio FROM webhooks WHERE id = ANY($1::text[])`, [restantes.slice(i, i + 10_000)]);
    for (const f of rows as { id: string; id_socio: string }[]) anotar(f.id, f.id_socio);
  }
  return duenos;
}
