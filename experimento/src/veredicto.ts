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
import type { CodigoReglaConversiones } from './veredicto-conversiones.js';
import type { CodigoReglaTrazabilidad } from './veredicto-trazabilidad.js';

/**
 * El veredicto: lo que «cada pago surte efecto exactamente una vez» significa, comprobado desde fuera
 * (lo que la API respondió a cada petición: solo el experimento lo ve) y desde dentro (lo que quedó en
 * PostgreSQL: el comprobador común de `@aeropartners/kit-pruebas`, con todas sus reglas). Cada regla da
 * la lista de ids que la incumplen; una sola violación suspende el experimento.
 *
 * Los socios son de verdad y comparten referencias: todo se juzga por (socio, referencia), y las reglas
 * del ámbito exigen que ningún socio vea nada de otro y que el suspendido no escriba nada más.
 */

export type CodigoReglaFuera =
  | 'pago-no-aceptado'
  | 'respuestas-coherentes'
  | 'pago-no-pedido'
  | 'conflicto-rechazado'
  | 'replica-tardia-reconocida'
  | 'referencia-por-socio'
  | 'ambito-del-socio'
  | 'suspension-rechaza'
  | 'suspension-sin-escrituras';
/** Las de la trazabilidad (issue 13) se juzgan aparte (`veredicto-trazabilidad.ts`) y se suman al veredicto. */
export type CodigoRegla = CodigoReglaFuera | CodigoReglaDentro | CodigoReglaTrazabilidad | CodigoReglaConversiones;

export const DESCRIPCION_REGLAS_FUERA: Readonly<Record<CodigoReglaFuera, string>> = {
  'pago-no-aceptado':
    'Toda referencia enviada por un socio acabó aceptada (200) tras los reintentos, y tiene su pago de ese socio en la base',
  'respuestas-coherentes': 'Todas las respuestas 200 de un socio a una referencia dan el mismo id, el de su pago en la base',
  'pago-no-pedido': 'No hay pagos de los socios de la corrida con una referencia que ese socio no envió',
  'conflicto-rechazado': 'Misma referencia del mismo socio con otro cuerpo → 422 (o 403 al socio suspendido)',
  'replica-tardia-reconocida': 'Réplica tardía de un pago terminado → 200, Idempotent-Replayed y el id del pago de ese socio',
  'referencia-por-socio':
    'La misma referencia enviada por varios socios da un pago distinto por socio, y cada socio recibió el suyo (también en las réplicas)',
  'ambito-del-socio':
    'Ninguna respuesta llevó datos de otro socio: cada 200 (POST y lecturas de muestreo) trae pagos del socio que preguntó, su propio pago se lee (200) y el de otro socio es 404',
  'suspension-rechaza': 'Desde que se confirmó la suspensión, toda petición del socio suspendido recibió 403 (nunca 200 ni 422)',
  'suspension-sin-escrituras':
    'Nada del socio suspendido se escribió tras su suspensión: ningún pago suyo creado después, y ninguna referencia que solo recibió 403 tiene pago',
};

export const DESCRIPCION_REGLAS: Readonly<Record<CodigoReglaFuera | CodigoReglaDentro, string>> = {
  ...DESCRIPCION_REGLAS_FUERA,
  ...DESCRIPCION_REGLAS_DENTRO,
};

/** Lo que el cliente vio de una referencia de un socio (el experimento lo anota al enviar). */
export interface ObservacionFuera {
  /** Ids devueltos en las respuestas 200 (debe haber exactamente uno). */
  readonly ids: ReadonlySet<string>;
  /** ¿Alguna petición de esta referencia (con su cuerpo original) acabó en 200? */
  readonly aceptada: boolean;
  /** ¿Una respuesta perdida a propósito (timeout tras el éxito) era un 200? El pago existe aunque no se leyera su id. */
  readonly aceptadaSinLeer?: boolean;
  /** ¿Alguna petición recibió 403 (socio suspendido)? */
  readonly denegada?: boolean;
  /** Estado HTTP final de la petición en conflicto (mismo referencia, otro cuerpo), si se envió. */
  readonly estadoConflicto?: number;
  /** Respuesta a la réplica tardía, si se envió. */
  readonly tardia?: { readonly estado: number; readonly replay: boolean; readonly idPago: string | undefined };
}

/** Una petición del socio suspendido enviada después de confirmarse la suspensión. */
export interface PeticionTrasSuspension {
  readonly referencia: string;
  readonly estado: number;
  readonly idPago: string | undefined;
}

export interface SuspensionObservada {
  readonly idSocio: string;
  /** Hora de la base (`now()`) leída en cuanto la administración confirmó la suspensión. */
  readonly confirmadaEnBase: Date;
  readonly tras: readonly PeticionTrasSuspension[];
}

/** Una lectura de muestreo (ver `consultas-ambito.ts`). */
export interface ConsultaObservada {
  /** El socio que pregunta. */
  readonly socio: string;
  readonly ruta: string;
  readonly esperado: 200 | 404;
  readonly estado: number;
  /** Ids de pago del cuerpo de la respuesta. */
  readonly ids: readonly string[];
  /** El pago por el que se preguntó: debe venir en la respuesta. */
  readonly idPedido?: string;
}

export interface AmbitoVeredicto {
  /** Los socios de la corrida (creados para ella: todos sus pagos son de la corrida). */
  readonly socios: readonly string[];
  /** Suscripción del consumidor (su inbox). */
  readonly suscripcion: string;
  /** Inicio de la corrida: los mensajes muertos anteriores no cuentan. */
  readonly desde: Date;
  readonly plazoMs: number;
  /** Claves de los mensajes venenosos inyectados a propósito. */
  readonly venenos: readonly string[];
  /** Lo visto desde fuera, por socio y referencia; sin ello, solo se juzga desde dentro. */
  readonly fuera?: ReadonlyMap<string, ReadonlyMap<string, ObservacionFuera>>;
  /** La suspensión a mitad de corrida; sin ella (menos de 4 socios), sus reglas no se evalúan. */
  readonly suspension?: SuspensionObservada;
  /** Las lecturas de muestreo. */
  readonly consultas?: readonly ConsultaObservada[];
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

/** Un pago de la base de un socio de la corrida. */
export interface PagoEnBase {
  readonly id: string;
  readonly socio: string;
  readonly referencia: string;
  readonly fechaCreacion: Date;
}

/** Lo que hay en la base: por socio y referencia, los ids; y el socio de cada id (también de fuera de la corrida). */
interface Base {
  readonly porSocio: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
  readonly pagos: readonly PagoEnBase[];
  /** Socio dueño de cada id de pago visto en una respuesta (undefined: no existe). */
  readonly duenoDe: ReadonlyMap<string, string>;
}

const SIN_SUSPENSION = 'sin socio suspendido en esta corrida (hacen falta 4 socios o más)';

/** Las reglas de fuera: cada una con sus culpables (socio · referencia, con lo que se vio). */
function juzgarDesdeFuera(a: AmbitoVeredicto, fuera: ReadonlyMap<string, ReadonlyMap<string, ObservacionFuera>>, base: Base) {
  const fallos = new Map<CodigoReglaFuera, string[]>(REGLAS_FUERA.map((r) => [r, []]));
  const anotar = (regla: CodigoReglaFuera, id: string) => fallos.get(regla)?.push(id);
  const suspendido = a.suspension?.idSocio;
  for (const [socio, refs] of fuera) {
    const enBase = base.porSocio.get(socio) ?? new Map<string, readonly string[]>();
    for (const [referencia, obs] of refs) {
      const quien = `${socio} · ${referencia}`;
      const ids = enBase.get(referencia);
      // Al suspendido se le niegan (403) las peticiones desde la suspensión: no aceptar es lo correcto.
      const denegadaBien = socio === suspendido && obs.denegada === true;
      if (!obs.aceptada && !denegadaBien) anotar('pago-no-aceptado', quien);
      else if (obs.aceptada && !ids) anotar('pago-no-aceptado', `${quien}: aceptada y sin pago de ese socio en la base`);
      const idBase = ids?.[0] ?? [...obs.ids][0];
      if (obs.ids.size > 1 || (ids !== undefined && [...obs.ids].some((id) => id !== idBase))) {
        anotar('respuestas-coherentes', `${quien}: respuestas ${[...obs.ids].join(', ')}; base ${idBase ?? '—'}`);
      }
      // Al suspendido, un 403 también es correcto aunque la petición saliera antes de confirmarse: la
      // suspensión ya estaba escrita (la administración espera la caché de credenciales antes de volver).
      const conflictoBien = obs.estadoConflicto === 422 || (socio === suspendido && obs.estadoConflicto === 403);
      if (obs.estadoConflicto !== undefined && !conflictoBien) anotar('conflicto-rechazado', `${quien}: ${obs.estadoConflicto}`);
      if (obs.tardia && (obs.tardia.estado !== 200 || !obs.tardia.replay || obs.tardia.idPago !== idBase)) {
        anotar(
          'replica-tardia-reconocida',
          `${quien}: ${obs.tardia.estado}${obs.tardia.replay ? ' (replay)' : ''} ${obs.tardia.idPago ?? ''}`,
        );
      }
      // Lo que el socio recibió debe ser suyo: un id de otro socio es un dato ajeno.
      const recibidos = [...obs.ids, ...(obs.tardia?.idPago ? [obs.tardia.idPago] : [])];
      for (const id of recibidos) {
        const dueno = base.duenoDe.get(id);
        if (dueno !== undefined && dueno !== socio) anotar('ambito-del-socio', `${quien}: POST /pagos devolvió ${id}, pago de ${dueno}`);
      }
      if (socio === suspendido && !obs.aceptada && !obs.aceptadaSinLeer && ids) {
        anotar('suspension-sin-escrituras', `${quien}: solo recibió 403 y tiene el pago ${ids.join(', ')}`);
      }
    }
    for (const [referencia, ids] of enBase) if (!refs.has(referencia)) for (const id of ids) anotar('pago-no-pedido', id);
  }
  // Socios de la corrida sin ninguna observación: todo lo suyo en la base es «no pedido».
  for (const [socio, refs] of base.porSocio)
    if (!fuera.has(socio)) for (const ids of refs.values()) for (const id of ids) anotar('pago-no-pedido', id);

  // Referencias compartidas: un pago distinto por socio que la aceptó, y cada uno con el suyo.
  const porReferencia = new Map<string, { socio: string; obs: ObservacionFuera }[]>();
  for (const [socio, refs] of fuera)
    for (const [referencia, obs] of refs) porReferencia.set(referencia, [...(porReferencia.get(referencia) ?? []), { socio, obs }]);
  for (const [referencia, envios] of porReferencia) {
    const aceptadas = envios.filter((e) => e.obs.aceptada);
    if (aceptadas.length < 2) continue;
    const idsPorSocio = aceptadas.map((e) => ({ socio: e.socio, ids: base.porSocio.get(e.socio)?.get(referencia) ?? [] }));
    const todos = idsPorSocio.flatMap((x) => x.ids);
    const problemas: string[] = [];
    if (idsPorSocio.some((x) => x.ids.length !== 1) || new Set(todos).size !== todos.length)
      problemas.push('no hay un pago distinto por socio');
    for (const e of aceptadas) {
      const suyo = base.porSocio.get(e.socio)?.get(referencia)?.[0];
      const vistos = [...e.obs.ids, ...(e.obs.tardia?.idPago ? [e.obs.tardia.idPago] : [])];
      if (vistos.some((id) => id !== suyo)) problemas.push(`${e.socio} recibió ${vistos.join(', ')} y su pago es ${suyo ?? '—'}`);
    }
    if (problemas.length > 0)
      anotar(
        'referencia-por-socio',
        `${referencia}: ${problemas.join('; ')} (base: ${idsPorSocio.map((x) => `${x.socio}=${x.ids.join('+') || '—'}`).join(', ')})`,
      );
  }

  // Lecturas de muestreo.
  for (const c of a.consultas ?? []) {
    const quien = `${c.socio} GET ${c.ruta}`;
    if (c.estado !== c.esperado) {
      anotar('ambito-del-socio', `${quien}: ${c.estado} (se esperaba ${c.esperado})${c.ids.length ? ` con ${c.ids.join(', ')}` : ''}`);
      continue;
    }
    const ajenos = c.ids.filter((id) => base.duenoDe.get(id) !== c.socio);
    if (ajenos.length > 0)
      anotar('ambito-del-socio', `${quien}: trae ${ajenos.map((id) => `${id} (de ${base.duenoDe.get(id) ?? 'nadie'})`).join(', ')}`);
    else if (c.idPedido && !c.ids.includes(c.idPedido)) anotar('ambito-del-socio', `${quien}: no trae su pago ${c.idPedido}`);
  }

  // Suspensión.
  if (a.suspension) {
    for (const t of a.suspension.tras) {
      // Un transitorio (red, 429, 5xx) no escribe nada y se reintenta hasta el 403; cualquier otra cosa, sí cuenta.
      const aceptable = t.estado === 403 || t.estado === 0 || t.estado === 429 || t.estado >= 500;
      if (!aceptable)
        anotar('suspension-rechaza', `${a.suspension.idSocio} · ${t.referencia}: ${t.estado}${t.idPago ? ` ${t.idPago}` : ''}`);
    }
    for (const p of base.pagos)
      if (p.socio === a.suspension.idSocio && p.fechaCreacion.getTime() > a.suspension.confirmadaEnBase.getTime())
        anotar('suspension-sin-escrituras', `${p.id} (${p.referencia}): creado ${p.fechaCreacion.toISOString()}, tras la suspensión`);
  }
  return fallos;
}

function resultadosFuera(
  fallos: ReadonlyMap<CodigoReglaFuera, readonly string[]> | undefined,
  notas: Partial<Record<CodigoReglaFuera, string>>,
): { reglas: ResultadoRegla<CodigoRegla>[]; violaciones: Violacion<CodigoRegla>[] } {
  const reglas: ResultadoRegla<CodigoRegla>[] = [];
  const violaciones: Violacion<CodigoRegla>[] = [];
  for (const regla of REGLAS_FUERA) {
    const descripcion = DESCRIPCION_REGLAS_FUERA[regla];
    const lista = fallos?.get(regla);
    const nota = notas[regla];
    if (!lista || nota !== undefined) {
      reglas.push({ regla, descripcion, violaciones: undefined, nota: nota ?? 'sin observaciones desde fuera' });
      continue;
    }
    reglas.push({ regla, descripcion, violaciones: lista.length });
    if (lista.length > 0) violaciones.push({ regla, descripcion, total: lista.length, ids: lista.slice(0, MAXIMO_IDS) });
  }
  return { reglas, violaciones };
}

async function leerBase(bd: ConsultorPostgres, a: AmbitoVeredicto): Promise<Base> {
  // Los pagos de las liquidaciones (issue 12) los crea el servicio, no el socio: los juzga el veredicto de conversiones.
  const { rows } = await bd.query(
    `SELECT p.id::text AS id, p.id_socio, p.referencia_pago, p.fecha_creacion,
            EXISTS (SELECT 1 FROM liquidaciones l WHERE l.id_pago = p.id) AS de_liquidacion
     FROM pagos p WHERE p.id_socio = ANY($1::text[])`,
    [a.socios],
  );
  const filas = rows as { id: string; id_socio: string; referencia_pago: string; fecha_creacion: Date; de_liquidacion: boolean }[];
  const pagos = filas
    .filter((f) => !f.de_liquidacion)
    .map((f): PagoEnBase => ({ id: f.id, socio: f.id_socio, referencia: f.referencia_pago, fechaCreacion: new Date(f.fecha_creacion) }));
  const porSocio = new Map<string, Map<string, string[]>>();
  const duenoDe = new Map<string, string>(filas.map((f) => [f.id, f.id_socio]));
  for (const p of pagos) {
    const refs = porSocio.get(p.socio) ?? new Map<string, string[]>();
    porSocio.set(p.socio, refs);
    refs.set(p.referencia, [...(refs.get(p.referencia) ?? []), p.id]);
    duenoDe.set(p.id, p.socio);
  }
  // Ids vistos en respuestas que no son de los socios de la corrida (otro socio cualquiera, o inexistentes).
  const vistos = new Set<string>();
  for (const refs of a.fuera?.values() ?? [])
    for (const o of refs.values()) for (const id of [...o.ids, ...(o.tardia?.idPago ? [o.tardia.idPago] : [])]) vistos.add(id);
  for (const c of a.consultas ?? []) for (const id of c.ids) vistos.add(id);
  const desconocidos = [...vistos].filter((id) => !duenoDe.has(id) && /^[0-9a-f-]{36}$/i.test(id));
  if (desconocidos.length > 0) {
    const { rows: otros } = await bd.query(`SELECT id::text AS id, id_socio FROM pagos WHERE id = ANY($1::uuid[])`, [desconocidos]);
    for (const f of otros as { id: string; id_socio: string }[]) duenoDe.set(f.id, f.id_socio);
  }
  return { porSocio, pagos, duenoDe };
}

/** Desde fuera (si hay observaciones) y desde dentro, con todas las reglas del comprobador común. */
export async function juzgar(bd: ConsultorPostgres, ambito: AmbitoVeredicto): Promise<Veredicto> {
  const dentro = await comprobarExactamenteUnaVez(bd, {
    pagos: { tipo: 'socios', socios: ambito.socios },
    reglas: TODAS_LAS_REGLAS,
    suscripcion: ambito.suscripcion,
    plazoMs: ambito.plazoMs,
    desde: ambito.desde,
    venenos: ambito.venenos,
  });
  const notas: Partial<Record<CodigoReglaFuera, string>> = ambito.suspension
    ? {}
    : { 'suspension-rechaza': SIN_SUSPENSION, 'suspension-sin-escrituras': SIN_SUSPENSION };
  const fuera = ambito.fuera
    ? resultadosFuera(juzgarDesdeFuera(ambito, ambito.fuera, await leerBase(bd, ambito)), notas)
    : resultadosFuera(undefined, {});
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
