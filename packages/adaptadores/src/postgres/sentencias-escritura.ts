import { TipoEventoPago, type CambioPago, type Trazabilidad } from '@aeropartners/dominio';
import { COLUMNAS_PAGO } from './fila-pago.js';
import { eventoAFila } from './serializacion-eventos.js';
import { CTES_CREDENCIAL_AUTORIZADA } from './credencial-en-lote.js';

/**
 * SQL de las escrituras del repositorio. Cada escritura es UNA sentencia (un viaje de ida y vuelta y
 * una transacción implícita): CTE que modifican datos insertan el pago, sus filas de outbox y de
 * historial a la vez, de modo que o se escribe todo o nada. Los datos viajan como arrays (`unnest`),
 * así que el texto de la sentencia es fijo para cualquier tamaño de lote y se prepara una vez por
 * conexión.
 */

const EVENTOS = `
  eventos AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int4[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::timestamptz[], $9::text[])
      AS v(id_evento, id_agregado, version_agregado, tipo, payload, metadatos, estado, ocurrido_en, id_correlacion)
  )`;

/** Solo los eventos de integración van al outbox (todos van al historial): ver `TipoEventoPago.publicados`. */
const TIPOS_PUBLICADOS = TipoEventoPago.publicados.map((t) => `'${t}'`).join(', ');

function insertarEventos(fuente: string): string {
  return `
  en_outbox AS (
    INSERT INTO outbox (id_evento, id_agregado, version_agregado, tipo, payload, metadatos)
    SELECT v.id_evento, v.id_agregado, v.version_agregado, v.tipo, v.payload::jsonb, v.metadatos::jsonb
    FROM eventos v JOIN ${fuente} f ON f.id = v.id_agregado
    WHERE v.tipo IN (${TIPOS_PUBLICADOS})
  ),
  en_historial AS (
    INSERT INTO historial_pagos (id_pago, version, estado, tipo_evento, id_evento, ocurrido_en, id_correlacion, id_solicitud)
    SELECT v.id_agregado, v.version_agregado, v.estado, v.tipo, v.id_evento, v.ocurrido_en, v.id_correlacion,
           v.metadatos::jsonb ->> 'id_solicitud'
    FROM eventos v JOIN ${fuente} f ON f.id = v.id_agregado
  )`;
}

/**
 * Crea un lote de pagos. `autorizada` deja solo las solicitudes cuya credencial sigue valiendo (decisión
 * 0121): el socio activo y, si hay clave, vigente y de ese socio y modo; las filas del socio y de la
 * clave se bloquean en modo compartido (`FOR SHARE`), así que revocar o suspender (un UPDATE de esas
 * filas) espera a que esta sentencia confirme, y esta, si llega después, relee la fila ya cambiada y se
 * queda sin ella: ninguna escritura con una credencial revocada se confirma después de la revocación.
 * Las solicitudes sin credencial que comprobar (`comprobar` falso: escrituras internas) pasan siempre.
 *
 * `previos` ve los pagos que ya existían antes de la sentencia con alguna de las claves (una repetición
 * tardía se responde sin otra consulta); `nuevos` inserta el resto en orden de clave (todas las
 * transacciones toman las claves en el mismo orden: sin interbloqueos; a igual clave, gana la que llegó
 * antes al lote) y `ON CONFLICT DO NOTHING` descarta los duplicados, dentro del lote o frente a otra
 * transacción concurrente (a la que espera hasta que confirme). La clave de idempotencia es única por
 * (socio, modo, clave). Outbox e historial solo se escriben para los pagos realmente insertados. Las
 * solicitudes denegadas vuelven con `resultado = 'denegado'` (sin escribir nada de ellas).
 */
export const SQL_CREAR_LOTE = `
WITH ${EVENTOS},
  entrada AS (
    SELECT * FROM unnest($10::uuid[], $11::text[], $12::text[], $13::text[], $14::int8[], $15::text[], $16::text[],
                         $17::text[], $18::int4[], $19::timestamptz[], $20::timestamptz[], $21::text[], $22::uuid[],
                         $23::bool[])
      WITH ORDINALITY
      AS e(id, id_socio, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version,
           fecha_creacion, fecha_actualizacion, modo, id_clave, comprobar, orden)
  ),
  ${CTES_CREDENCIAL_AUTORIZADA},
  previos AS (
    SELECT ${COLUMNAS_PAGO} FROM pagos
    WHERE (id_socio, modo, clave_idempotencia) IN (SELECT id_socio, modo, clave_idempotencia FROM autorizada)
  ),
  nuevos AS (
    INSERT INTO pagos (id, id_socio, modo, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago,
                       estado, version, fecha_creacion, fecha_actualizacion)
    SELECT id, id_socio, modo, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version,
           fecha_creacion, fecha_actualizacion
    FROM autorizada ORDER BY id_socio, modo, clave_idempotencia, orden
    ON CONFLICT (id_socio, modo, clave_idempotencia) DO NOTHING
    RETURNING ${COLUMNAS_PAGO}
  ),${insertarEventos('nuevos')}
SELECT 'nuevo' AS resultado, ${COLUMNAS_PAGO} FROM nuevos
UNION ALL
SELECT 'previo' AS resultado, ${COLUMNAS_PAGO} FROM previos
UNION ALL
SELECT 'denegado' AS resultado, e.id, e.id_socio, e.modo, e.clave_idempotencia, e.id_afiliado, e.monto_unidades, e.moneda,
       e.referencia_pago, e.estado, e.version, e.fecha_creacion, e.fecha_actualizacion, NULL::timestamptz, NULL::text, NULL::text
FROM entrada e WHERE e.id NOT IN (SELECT id FROM autorizada)`;

/**
 * Por qué se denegó una credencial (tras una sentencia de creación que la encontró sin valer): el socio y,
 * si hay, la clave, tal como están ahora.
 */
export const SQL_ESTADO_CREDENCIAL = `
SELECT s.estado, c.id_socio AS socio_clave, c.modo AS modo_clave, c.expira_en, c.revocada_en
FROM (SELECT $1::text AS id_socio, $2::uuid AS id_clave) q
LEFT JOIN socios s ON s.id = q.id_socio
LEFT JOIN claves_api c ON c.id = q.id_clave`;

/** Pagos existentes por ternas (socio, modo, clave): la consulta de seguimiento tras perder una carrera. */
export const SQL_PAGOS_POR_CLAVE = `
SELECT ${COLUMNAS_PAGO} FROM pagos
WHERE (id_socio, modo, clave_idempotencia) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`;

/** Los nueve arrays de eventos ($1…$9) de una lista de cambios. */
export function parametrosEventos(cambios: readonly { readonly cambio: CambioPago; readonly traza: Trazabilidad }[]): unknown[][] {
  const idEvento: string[] = [];
  const idAgregado: string[] = [];
  const version: number[] = [];
  const tipo: string[] = [];
  const payload: string[] = [];
  const metadatos: string[] = [];
  const estado: string[] = [];
  const ocurridoEn: Date[] = [];
  const idCorrelacion: string[] = [];
  for (const { cambio, traza } of cambios) {
    for (const evento of cambio.eventos) {
      if (evento.idPago !== cambio.pago.id) {
        throw new Error(`El evento ${evento.idEvento} es del pago ${evento.idPago}, no de ${cambio.pago.id}`);
      }
      const fila = eventoAFila(evento, traza);
      idEvento.push(fila.id_evento);
      idAgregado.push(fila.id_agregado);
      version.push(fila.version_agregado);
      tipo.push(fila.tipo);
      payload.push(JSON.stringify(fila.payload));
      metadatos.push(JSON.stringify(fila.metadatos));
      estado.push(cambio.pago.estado);
      ocurridoEn.push(evento.ocurridoEn);
      idCorrelacion.push(traza.idCorrelacion);
    }
  }
  return [idEvento, idAgregado, version, tipo, payload, metadatos, estado, ocurridoEn, idCorrelacion];
}

/**
 * Las columnas de una transición por fila ($10…$19), comunes a `SQL_GUARDAR_LOTE` y
 * `SQL_GUARDAR_Y_ANOTAR_LOTE`. $18/$19: el turno de cobro que se toma con la transición (NULL: ninguno).
 */
const CAMBIOS = `$10::uuid[], $11::int4[], $12::text[], $13::int4[], $14::timestamptz[], $15::timestamptz[],
                         $16::text[], $17::text[], $18::text[], $19::int4[]`;
const COLUMNAS_CAMBIOS = `id, version_esperada, estado, version, fecha_actualizacion, fecha_procesamiento,
           referencia_transaccion, mensaje_error, turno_titular, turno_ms`;
// Toda transición reescribe el turno de cobro: el paso a PROCESANDO puede tomarlo en la misma sentencia
// (sin otra ida y vuelta) y cualquier otra lo borra (el desenlace final lo suelta).
const SET_CAMBIOS = `estado = c.estado, version = c.version, fecha_actualizacion = c.fecha_actualizacion,
        fecha_procesamiento = c.fecha_procesamiento, referencia_transaccion = c.referencia_transaccion,
        mensaje_error = c.mensaje_error, turno_titular = c.turno_titular,
        turno_hasta = CASE WHEN c.turno_ms IS NULL THEN NULL
                           ELSE clock_timestamp() + make_interval(secs => c.turno_ms / 1000.0) END`;

/**
 * Guarda un lote de transiciones de pagos DISTINTOS (un id como mucho una vez: si no,
 * `UPDATE … FROM` aplicaría solo una de ellas sin decir cuál). Cada fila se actualiza solo si su
 * versión sigue siendo la esperada; outbox e historial se insertan solo para los ids actualizados,
 * que son los que devuelve la sentencia.
 */
export const SQL_GUARDAR_LOTE = `
WITH ${EVENTOS},
  cambios AS (
    SELECT * FROM unnest(${CAMBIOS})
      AS c(${COLUMNAS_CAMBIOS})
  ),
  actualizado AS (
    UPDATE pagos p
    SET ${SET_CAMBIOS}
    FROM cambios c
    WHERE p.id = c.id AND p.version = c.version_esperada
    RETURNING p.id
  ),${insertarEventos('actualizado')}
SELECT id FROM actualizado`;

/**
 * `SQL_GUARDAR_LOTE` más la fila del inbox de cada transición (pagos distintos y eventos de inbox distintos): cada fila se
 * actualiza solo si su versión sigue siendo la esperada Y su evento no estaba ya en el inbox; inbox,
 * outbox e historial se insertan solo para las filas actualizadas.
 */
export const SQL_GUARDAR_Y_ANOTAR_LOTE = `
WITH ${EVENTOS},
  cambios AS (
    SELECT * FROM unnest(${CAMBIOS}, $20::text[], $21::uuid[], $22::uuid[], $23::text[], $24::int4[])
      AS c(${COLUMNAS_CAMBIOS}, suscripcion, id_evento_inbox, id_pago_inbox, tipo_evento_inbox, version_inbox)
  ),
  actualizado AS (
    UPDATE pagos p
    SET ${SET_CAMBIOS}
    FROM cambios c
    WHERE p.id = c.id AND p.version = c.version_esperada
      AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.suscripcion = c.suscripcion AND i.id_evento = c.id_evento_inbox)
    RETURNING p.id
  ),
  anotado AS (
    INSERT INTO inbox (suscripcion, id_evento, id_pago, tipo_evento, version)
    SELECT c.suscripcion, c.id_evento_inbox, c.id_pago_inbox, c.tipo_evento_inbox, c.version_inbox
    FROM cambios c JOIN actualizado a ON a.id = c.id
    ON CONFLICT DO NOTHING
    RETURNING 1
  ),${insertarEventos('actualizado')}
SELECT id FROM actualizado`;

/**
 * Anota un lote de eventos (claves distintas) en el inbox, en orden de clave (sin interbloqueos entre
 * lotes concurrentes). Devuelve las claves realmente insertadas; las demás ya estaban.
 */
export const SQL_ANOTAR_LOTE = `
INSERT INTO inbox (suscripcion, id_evento, id_pago, tipo_evento, version)
SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::int4[])
  AS e(suscripcion, id_evento, id_pago, tipo_evento, version)
ORDER BY suscripcion, id_evento
ON CONFLICT DO NOTHING
RETURNING suscripcion, id_evento::text AS id_evento`;

/** Qué eventos de una lista de claves (suscripcion, id_evento) ya están en el inbox. */
export const SQL_EN_INBOX = `
SELECT suscripcion, id_evento::text AS id_evento FROM inbox
WHERE (suscripcion, id_evento) IN (SELECT * FROM unnest($1::text[], $2::uuid[]))`;

/** Pagos por id (lecturas agrupadas de `obtener`). */
export const SQL_PAGOS_POR_ID = `SELECT ${COLUMNAS_PAGO} FROM pagos WHERE id = ANY($1::uuid[])`;

/** Una transición pendiente de guardar (con control optimista de versión). */
export interface Transicion {
  readonly cambio: CambioPago;
  readonly versionEsperada: number;
  readonly traza: Trazabilidad;
  /** El turno de cobro que se toma con la transición (el paso a PROCESANDO); sin él, se borra. */
  readonly turno?: { readonly titular: string; readonly duracionMs: number } | undefined;
}

/** Lanza si algún evento del cambio no es de su pago (lo mismo que haría `parametrosEventos`). */
export function comprobarEventos(cambio: CambioPago): void {
  for (const evento of cambio.eventos) {
    if (evento.idPago !== cambio.pago.id) {
      throw new Error(`El evento ${evento.idEvento} es del pago ${evento.idPago}, no de ${cambio.pago.id}`);
    }
  }
}

/** Los parámetros $1…$19 de `SQL_GUARDAR_LOTE` / `SQL_GUARDAR_Y_ANOTAR_LOTE`. */
export function parametrosTransiciones(transiciones: readonly Transicion[]): unknown[] {
  const id: string[] = [];
  const versionEsperada: number[] = [];
  const estado: string[] = [];
  const version: number[] = [];
  const actualizacion: Date[] = [];
  const procesamiento: (Date | null)[] = [];
  const referencia: (string | null)[] = [];
  const mensaje: (string | null)[] = [];
  const turnoTitular: (string | null)[] = [];
  const turnoMs: (number | null)[] = [];
  for (const { cambio, versionEsperada: esperada, turno } of transiciones) {
    const p = cambio.pago;
    id.push(p.id);
    versionEsperada.push(esperada);
    estado.push(p.estado);
    version.push(p.version);
    actualizacion.push(p.fechaActualizacion);
    procesamiento.push(p.fechaProcesamiento);
    referencia.push(p.referenciaTransaccion);
    mensaje.push(p.mensajeError);
    turnoTitular.push(turno?.titular ?? null);
    turnoMs.push(turno?.duracionMs ?? null);
  }
  return [
    ...parametrosEventos(transiciones),
    id,
    versionEsperada,
    estado,
    version,
    actualizacion,
    procesamiento,
    referencia,
    mensaje,
    turnoTitular,
    turnoMs,
  ];
}

/**
 * Reparte un lote en rondas en las que ninguna llave se repite, respetando el orden de llegada de
 * cada llave: la segunda solicitud para una llave va en la ronda siguiente a la de la primera.
 */
export function rondasSinRepetir<T>(lote: readonly T[], llaves: (elemento: T) => readonly string[]): T[][] {
  const rondas: T[][] = [];
  const ultimaRonda = new Map<string, number>();
  for (const elemento of lote) {
    const claves = llaves(elemento);
    let ronda = 0;
    for (const k of claves) {
      const previa = ultimaRonda.get(k);
      if (previa !== undefined && previa + 1 > ronda) ronda = previa + 1;
    }
    for (const k of claves) ultimaRonda.set(k, ronda);
    (rondas[ronda] ??= []).push(elemento);
  }
  return rondas;
}

/** Errores de PostgreSQL que merecen repetir la sentencia entera (no escribió nada). */
const REINTENTABLES = new Set(['40P01', '40001']);

export function codigoPg(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** Clase 22 (dato inválido) o 23 (restricción): culpa de una solicitud concreta, no del servidor. */
export function esErrorDeDatos(error: unknown): boolean {
  const codigo = codigoPg(error);
  return codigo !== undefined && (codigo.startsWith('22') || codigo.startsWith('23'));
}

/**
 * Ejecuta la sentencia de una ronda de solicitudes agrupadas. Si PostgreSQL rechaza un dato (clases
 * 22/23) y la ronda tiene más de una solicitud, la reparte en solicitudes sueltas (`porSeparado`) para
 * que solo falle la culpable; ante cualquier otro fallo rechaza a todas con `error(causa)`. Devuelve el
 * resultado de la sentencia, o `undefined` si la ronda ya quedó resuelta de una de esas dos maneras.
 */
export async function ejecutarRonda<P extends { rechazar(error: Error): void }, R>(
  ronda: readonly P[],
  ejecutar: () => Promise<R>,
  porSeparado: (solicitud: P) => Promise<void>,
  error: (causa: unknown) => Error,
): Promise<R | undefined> {
  try {
    return await ejecutar();
  } catch (causa) {
    if (ronda.length > 1 && esErrorDeDatos(causa)) {
      await Promise.all(ronda.map(porSeparado));
      return undefined;
    }
    const e = error(causa);
    for (const p of ronda) p.rechazar(e);
    return undefined;
  }
}

/** Repite `ejecutar` ante un interbloqueo o fallo de serialización (hasta 3 intentos). */
export async function conReintentos<T>(ejecutar: () => Promise<T>): Promise<T> {
  for (let intento = 1; ; intento += 1) {
    try {
      return await ejecutar();
    } catch (error) {
      if (intento < 3 && REINTENTABLES.has(codigoPg(error) ?? '')) continue;
      throw error;
    }
  }
}
