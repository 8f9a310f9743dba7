import http from 'node:http';
import https from 'node:https';
import { ALEATORIEDAD_POR_DEFECTO, CALENDARIO_REINTENTOS_POR_DEFECTO, siguientePaso } from '@aeropartners/aplicacion';
import type { Modo } from '@aeropartners/dominio';
import type { Registry } from 'prom-client';
import { CABECERAS_STANDARD_WEBHOOKS, firmarStandardWebhooks } from '../firmas/standard-webhooks.js';
import type { Logger } from '../observabilidad/logger.js';
import { registrarMetricasWebhooks } from '../observabilidad/metricas-webhooks.js';
import type { PoolPostgres } from '../postgres/pool-postgres.js';
import { comprobarDestino, lookupSeguro, type Resolver } from './destino-seguro.js';
import { idEventoWebhook, TIPO_ADMITIDO, type ResultadoIntento } from './postgres-webhooks.js';

/**
 * El repartidor de webhooks (decisiones 0170, 0171, 0173, 0174). Corre en cada instancia del servicio
 * outbox, sin líder: todo lo que comparte lo coordina la base.
 *
 * 1. *Generar entregas*: para cada webhook activo (bloqueado con `SKIP LOCKED`: otra instancia se salta
 *    los que ya está tratando), los eventos de su ámbito con secuencia mayor que su cursor y de sus
 *    tipos pasan a `webhook_entregas`, y el cursor avanza, en una sola sentencia. Las secuencias del
 *    registro se hacen visibles en orden y sin huecos (decisión 0160), así que un cursor basta.
 * 2. *Reclamar*: las entregas vencidas, con `FOR UPDATE SKIP LOCKED`, como mucho `porDestino` en vuelo
 *    por webhook en este proceso, y un plazo: su `proximo_intento` se empuja más allá del tiempo máximo
 *    de un envío. Si el proceso muere enviando, otra instancia la reintenta al vencer el plazo.
 * 3. *Enviar* fuera de toda transacción, con tiempo máximo, firmado, por conexiones persistentes
 *    (keep-alive) de un agente cuyo `lookup` es {@link lookupSeguro}: toda conexión del agente se abrió
 *    hacia una dirección comprobada, y antes de cada envío se vuelve a comprobar el destino.
 * 4. *Anotar* el intento y el siguiente paso (entregada, reintentar según el calendario, o agotada → el
 *    webhook se desactiva): los envíos que terminan mientras se escribe la tanda anterior se anotan
 *    juntos en una sentencia (como un group commit); una entrega no libera su hueco hasta estar anotada.
 *
 * Un destino muerto solo ocupa sus `porDestino` huecos (cada uno como mucho `tiempoMaximoMs`): los
 * demás siguen saliendo por los huecos restantes.
 */

export interface OpcionesRepartidorWebhooks {
  readonly pool: PoolPostgres;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** `WEBHOOKS_PERMITIR_RED_LOCAL`: admitir destinos en redes privadas y loopback (tests, ejecuciones locales). */
  readonly permitirRedLocal: boolean;
  /** Plazos entre intentos (ms). Por defecto 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h. */
  readonly calendarioMs?: readonly number[];
  /** ±fracción aleatoria de cada plazo. Por defecto 0,1. */
  readonly aleatoriedad?: number;
  /** Tiempo máximo de un envío (conexión, petición y cabeceras de la respuesta). Por defecto 10 s. */
  readonly tiempoMaximoMs?: number;
  /** Envíos en vuelo como mucho en este proceso. Por defecto 128. */
  readonly concurrencia?: number;
  /** Envíos en vuelo como mucho por webhook en este proceso. Por defecto 16. */
  readonly porDestino?: number;
  /** Reutilizar conexiones (keep-alive) entre envíos al mismo destino. Por defecto `true`. */
  readonly conexionesPersistentes?: boolean;
  /** Intentos anotados como mucho por sentencia. Por defecto 200; 1 = una sentencia por intento. */
  readonly loteAnotaciones?: number;
  /** Cómo resuelve nombres la comprobación previa a cada envío (tests); la conexión usa siempre `lookupSeguro`. */
  readonly resolverDestino?: Resolver;
  /** Espera entre rondas cuando no hay nada que hacer. Por defecto 500 ms. */
  readonly sondeoMs?: number;
  /**
   * La espera, si hubo trabajo hace poco: los eventos que llegan a ritmo constante no esperan un sondeo
   * entero, y en reposo el coste no cambia. Por defecto 50 ms (nunca más que `sondeoMs`).
   */
  readonly sondeoActivoMs?: number;
  /** Eventos por webhook y ronda al generar entregas. Por defecto 500. */
  readonly lote?: number;
  readonly metricas?: Registry;
  /** La aleatoriedad del calendario (tests). */
  readonly aleatorio?: () => number;
}

export interface ContadoresRepartidor {
  readonly intentos: Readonly<Record<ResultadoIntento, number>>;
  readonly desactivados: number;
  readonly generadas: number;
  readonly fallosRonda: number;
  readonly enVuelo: number;
  /** Dónde se va el tiempo (milisegundos acumulados) y cuántas sentencias se lanzan, para medir. */
  readonly tiempos: TiemposRepartidor;
}

export interface TiemposRepartidor {
  /** Generar y reclamar (una sentencia cada una por ronda). */
  readonly sqlRondaMs: number;
  readonly sentenciasRonda: number;
  /** Anotar intentos. */
  readonly sqlAnotarMs: number;
  readonly sentenciasAnotar: number;
  /** Comprobación del destino (forma, y DNS si no se admite la red local). */
  readonly destinoMs: number;
  /** Firmar cada envío. */
  readonly firmaMs: number;
  /** Desde la petición hasta las cabeceras de la respuesta. */
  readonly httpMs: number;
  /** Conexiones TCP abiertas por el repartidor. */
  readonly conexiones: number;
}

export interface RepartidorEnMarcha {
  contadores(): ContadoresRepartidor;
  /** Deja de reclamar, corta los envíos en vuelo sin anotarlos (su plazo vencerá y se reintentarán) y espera. */
  detener(): Promise<void>;
}

interface FilaReclamada {
  id_webhook: string;
  secuencia: string;
  intentos: number;
  id_socio: string;
  modo: Modo;
  url: string;
  secreto: string;
  secreto_anterior: string | null;
  hay_evento: boolean;
  tipo: string | null;
  sujeto: string | null;
  ocurrido_en: Date | null;
  registrado_en: Date | null;
  id_solicitud: string | null;
  id_traza: string | null;
  id_correlacion: string | null;
  datos: Record<string, unknown> | null;
}

const SQL_GENERAR = `
WITH w AS (
  SELECT id, id_socio, modo, tipos, cursor FROM webhooks
  WHERE activo
    -- Solo los que tienen eventos nuevos: un webhook sin trabajo no se bloquea (ni se escribe) en cada ronda.
    AND cursor < (SELECT c.ultima FROM eventos_contadores c WHERE c.id_socio = webhooks.id_socio AND c.modo = webhooks.modo)
  ORDER BY id FOR UPDATE SKIP LOCKED
),
ev AS (
  SELECT w.id AS id_webhook, w.tipos, e.secuencia, e.tipo
  FROM w CROSS JOIN LATERAL (
    SELECT secuencia, tipo FROM eventos_socio
    WHERE id_socio = w.id_socio AND modo = w.modo AND secuencia > w.cursor ORDER BY secuencia LIMIT $1
  ) e
),
nuevas AS (
  INSERT INTO webhook_entregas (id_webhook, secuencia)
  SELECT id_webhook, secuencia FROM ev WHERE ${TIPO_ADMITIDO('ev.tipos', 'ev.tipo')}
  ON CONFLICT (id_webhook, secuencia) DO NOTHING
  RETURNING 1
),
avance AS (
  UPDATE webhooks SET cursor = m.hasta
  FROM (SELECT id_webhook, max(secuencia) AS hasta FROM ev GROUP BY id_webhook) m
  WHERE webhooks.id = m.id_webhook AND webhooks.cursor < m.hasta
  RETURNING 1
)
SELECT (SELECT count(*) FROM nuevas)::int AS nuevas, (SELECT count(*) FROM avance)::int AS avanzados`;

const SQL_RECLAMAR = `
WITH candidatas AS MATERIALIZED (
  SELECT e.id_webhook, e.secuencia, e.proximo_intento FROM webhook_entregas e
  WHERE e.estado = 'pendiente' AND e.proximo_intento <= now() AND NOT (e.id_webhook = ANY($2::text[]))
    AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = e.id_webhook AND w.activo)
  ORDER BY e.proximo_intento LIMIT $3
  FOR UPDATE OF e SKIP LOCKED
),
ocupacion AS (SELECT * FROM unnest($4::text[], $5::int[]) AS o(id_webhook, en_vuelo)),
elegidas AS (
  SELECT x.id_webhook, x.secuencia FROM (
    SELECT c.*, row_number() OVER (PARTITION BY c.id_webhook ORDER BY c.proximo_intento, c.secuencia) AS n FROM candidatas c
  ) x LEFT JOIN ocupacion o ON o.id_webhook = x.id_webhook
  WHERE x.n <= $6 - coalesce(o.en_vuelo, 0)
  ORDER BY x.proximo_intento LIMIT $1
)
UPDATE webhook_entregas e SET proximo_intento = now() + make_interval(secs => $7::double precision / 1000)
FROM elegidas el JOIN webhooks w ON w.id = el.id_webhook
  LEFT JOIN eventos_socio ev ON ev.id_socio = w.id_socio AND ev.modo = w.modo AND ev.secuencia = el.secuencia
WHERE e.id_webhook = el.id_webhook AND e.secuencia = el.secuencia
RETURNING e.id_webhook, e.secuencia::text, e.intentos, w.id_socio, w.modo, w.url, w.secreto,
  CASE WHEN w.secreto_anterior_hasta > now() THEN w.secreto_anterior END AS secreto_anterior,
  ev.secuencia IS NOT NULL AS hay_evento, ev.tipo, ev.sujeto, ev.ocurrido_en, ev.registrado_en, ev.id_solicitud, ev.id_traza,
  ev.id_correlacion, ev.datos`;

/**
 * Anota un intento y el estado siguiente de su entrega en una sentencia. Si el webhook se borró mientras
 * tanto, la entrega ya no existe y no se anota nada. Con `agotada`, desactiva el webhook y deja en la misma
 * sentencia el aviso `webhook.desactivado` para el registro de eventos del socio (decisión 0154).
 */
const SQL_ANOTAR = `
WITH e AS (
  UPDATE webhook_entregas SET estado = $3, intentos = intentos + 1, proximo_intento = coalesce($4, proximo_intento)
  WHERE id_webhook = $1 AND secuencia = $2 AND estado = 'pendiente'
  RETURNING id_webhook, secuencia, intentos
),
i AS (
  INSERT INTO webhook_intentos (id_webhook, secuencia, numero, ocurrido_en, duracion_ms, codigo_estado, resultado, error, proximo_intento)
  SELECT id_webhook, secuencia, intentos, $5, $6, $7, $8, $9, $4 FROM e
  RETURNING 1
),
d AS (
  UPDATE webhooks SET activo = false, desactivado_en = now(), motivo_desactivacion = $10
  WHERE id = $1 AND $3 = 'agotada' AND activo AND EXISTS (SELECT 1 FROM e)
  RETURNING id, id_socio, modo, url
),
aviso AS (
  INSERT INTO avisos_socio (id_socio, modo, tipo, sujeto, datos)
  SELECT d.id_socio, d.modo, 'webhook.desactivado', d.id,
    jsonb_build_object('id_webhook', d.id, 'url', d.url, 'motivo', $10::text, 'ultimo_intento', jsonb_build_object(
      'secuencia', $2::bigint, 'numero', e.intentos, 'ocurrido_en', $5::timestamptz, 'duracion_ms', $6::int,
      'codigo_estado', $7::int, 'resultado', $8::text, 'error', $9::text))
  FROM d CROSS JOIN e
)
SELECT (SELECT count(*) FROM i)::int AS anotados, (SELECT count(*) FROM d)::int AS desactivados`;

/**
 * Anota una tanda de intentos que no agotan el calendario (entregadas o a reintentar) en una sentencia: los
 * arrays van en paralelo, una posición por intento. Una entrega que ya no está pendiente (o cuyo webhook se
 * borró) no se anota.
 */
const SQL_ANOTAR_LOTE = `
WITH d AS (
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::int[], $7::int[], $8::text[], $9::text[])
    AS d(id_webhook, secuencia, estado, proximo, ocurrido_en, duracion_ms, codigo_estado, resultado, error)
),
e AS (
  UPDATE webhook_entregas w SET estado = d.estado, intentos = w.intentos + 1, proximo_intento = coalesce(d.proximo, w.proximo_intento)
  FROM d WHERE w.id_webhook = d.id_webhook AND w.secuencia = d.secuencia AND w.estado = 'pendiente'
  RETURNING w.id_webhook, w.secuencia, w.intentos, d.proximo, d.ocurrido_en, d.duracion_ms, d.codigo_estado, d.resultado, d.error
)
INSERT INTO webhook_intentos (id_webhook, secuencia, numero, ocurrido_en, duracion_ms, codigo_estado, resultado, error, proximo_intento)
SELECT id_webhook, secuencia, intentos, ocurrido_en, duracion_ms, codigo_estado, resultado, error, proximo FROM e`;

const SQL_CANCELAR = `UPDATE webhook_entregas SET estado = 'cancelada' WHERE id_webhook = $1 AND secuencia = $2 AND estado = 'pendiente'`;

/** Código de error de la clave foránea: el webhook se borró entre el reclamo y la anotación. */
const VIOLACION_CLAVE_FORANEA = '23503';

interface Envio {
  readonly resultado: ResultadoIntento;
  readonly codigoEstado: number | null;
  readonly error: string | null;
}

/** Un intento enviado, a la espera de su tanda de anotación. */
interface Anotacion {
  readonly idWebhook: string;
  readonly secuencia: number;
  readonly estado: 'entregada' | 'pendiente' | 'agotada';
  readonly proximo: Date | null;
  readonly inicio: Date;
  readonly duracionMs: number;
  readonly envio: Envio;
  readonly motivo: string | null;
  readonly resolver: (desactivado: boolean) => void;
  readonly rechazar: (error: unknown) => void;
}

/** Bytes del cuerpo de una respuesta que se leen (y descartan) para poder reutilizar la conexión. */
const CUERPO_RESPUESTA_MAXIMO = 64 * 1024;
/** Cuánto dura el sondeo corto (`sondeoActivoMs`) desde lo último generado o reclamado. */
const VENTANA_ACTIVA_MS = 5000;
/** Una conexión libre se cierra tras este tiempo sin uso (antes, si el receptor anuncia `Keep-Alive: timeout`). */
const CONEXION_LIBRE_MS = 4000;

export function iniciarRepartidorWebhooks(opciones: OpcionesRepartidorWebhooks): RepartidorEnMarcha {
  const { pool, logger } = opciones;
  const calendario = opciones.calendarioMs ?? CALENDARIO_REINTENTOS_POR_DEFECTO;
  const aleatoriedad = opciones.aleatoriedad ?? ALEATORIEDAD_POR_DEFECTO;
  const tiempoMaximoMs = opciones.tiempoMaximoMs ?? 10_000;
  const concurrencia = opciones.concurrencia ?? 128;
  const porDestino = Math.min(opciones.porDestino ?? 16, concurrencia);
  if ((opciones.porDestino ?? 0) > concurrencia) {
    logger.warn(
      { por_destino: opciones.porDestino, concurrencia },
      `webhooks: WEBHOOKS_POR_DESTINO (${opciones.porDestino}) es mayor que WEBHOOKS_CONCURRENCIA (${concurrencia}); se usa ${concurrencia} por destino`,
    );
  }
  const sondeoMs = opciones.sondeoMs ?? 500;
  const sondeoActivoMs = Math.min(opciones.sondeoActivoMs ?? 50, sondeoMs);
  const lote = opciones.lote ?? 500;
  const loteAnotaciones = Math.max(1, opciones.loteAnotaciones ?? 200);
  // El plazo de un reclamo: más que el envío más largo, para no reenviar lo que aún está en vuelo.
  const plazoReclamoMs = 2 * tiempoMaximoMs + 5000;
  const lookup = lookupSeguro(opciones.permitirRedLocal);
  // El `lookup` va en las opciones del agente, que las impone a cada conexión que abre: ninguna conexión
  // del agente (nueva o reutilizada) lleva a una dirección que no pasó por `lookupSeguro`.
  const agentes =
    (opciones.conexionesPersistentes ?? true)
      ? {
          http: new http.Agent({ keepAlive: true, timeout: CONEXION_LIBRE_MS, scheduling: 'lifo', lookup }),
          https: new https.Agent({ keepAlive: true, timeout: CONEXION_LIBRE_MS, scheduling: 'lifo', lookup }),
        }
      : undefined;

  const intentos: Record<ResultadoIntento, number> = { exitoso: 0, error_http: 0, tiempo_agotado: 0, error_red: 0 };
  const tiempos = {
    sqlRondaMs: 0,
    sentenciasRonda: 0,
    sqlAnotarMs: 0,
    sentenciasAnotar: 0,
    destinoMs: 0,
    firmaMs: 0,
    httpMs: 0,
    conexiones: 0,
  };
  let desactivados = 0;
  let generadas = 0;
  let fallosRonda = 0;
  const enVueloPorWebhook = new Map<string, number>();
  const envios = new Set<Promise<void>>();
  const cortes = new Set<AbortController>();
  const observarDuracion = opciones.metricas
    ? registrarMetricasWebhooks(opciones.metricas, { contadores: () => ({ intentos, desactivados }) })
    : undefined;

  let parado = false;
  // Un aviso que llega mientras la ronda trabaja no se pierde: la siguiente espera vuelve enseguida.
  let avisado = false;
  const avisar = () => {
    avisado = true;
  };
  let despertar: () => void = avisar;
  const dormir = (ms: number) =>
    new Promise<void>((resolver) => {
      if (avisado) {
        avisado = false;
        resolver();
        return;
      }
      const t = setTimeout(fin, ms);
      function fin() {
        clearTimeout(t);
        despertar = avisar;
        resolver();
      }
      despertar = fin;
    });

  async function consultaRonda<F extends object>(consulta: { name: string; text: string; values: unknown[] }): Promise<F[]> {
    const t0 = performance.now();
    try {
      return (await pool.query<F & Record<string, unknown>>(consulta)).rows;
    } finally {
      tiempos.sqlRondaMs += performance.now() - t0;
      tiempos.sentenciasRonda += 1;
    }
  }

  let ultimoTrabajo = Number.NEGATIVE_INFINITY;

  async function generar(): Promise<void> {
    const rows = await consultaRonda<{ nuevas: number }>({ name: 'webhooks-generar', text: SQL_GENERAR, values: [lote] });
    const nuevas = rows[0]?.nuevas ?? 0;
    generadas += nuevas;
    if (nuevas > 0) ultimoTrabajo = performance.now();
  }

  async function reclamar(libres: number): Promise<FilaReclamada[]> {
    const saturados: string[] = [];
    const ids: string[] = [];
    const ocupados: number[] = [];
    for (const [id, n] of enVueloPorWebhook) {
      if (n >= porDestino) saturados.push(id);
      ids.push(id);
      ocupados.push(n);
    }
    return consultaRonda<FilaReclamada>({
      name: 'webhooks-reclamar',
      text: SQL_RECLAMAR,
      values: [libres, saturados, libres * porDestino, ids, ocupados, porDestino, plazoReclamoMs],
    });
  }

  async function entregar(fila: FilaReclamada, corte: AbortController): Promise<void> {
    const secuencia = Number(fila.secuencia);
    const ambito = { idSocio: fila.id_socio, modo: fila.modo };
    const idEvento = idEventoWebhook(ambito, secuencia);
    if (!fila.hay_evento) {
      // La retención ya borró el evento: no hay nada que enviar.
      await pool.query(SQL_CANCELAR, [fila.id_webhook, secuencia]);
      return;
    }
    const cuerpo = JSON.stringify({
      secuencia,
      tipo: fila.tipo,
      sujeto: fila.sujeto,
      ocurrido_en: fila.ocurrido_en?.toISOString(),
      registrado_en: fila.registrado_en?.toISOString(),
      id_solicitud: fila.id_solicitud,
      id_traza: fila.id_traza,
      id_correlacion: fila.id_correlacion,
      datos: fila.datos,
    });
    const inicio = new Date();
    const t0 = performance.now();
    const marcaTiempoSegundos = Math.floor(inicio.getTime() / 1000);
    const firmas = [fila.secreto, ...(fila.secreto_anterior ? [fila.secreto_anterior] : [])].map((secreto) =>
      firmarStandardWebhooks({ secreto, id: idEvento, marcaTiempoSegundos, cuerpo }),
    );
    tiempos.firmaMs += performance.now() - t0;
    const envio = await enviar(
      fila.url,
      {
        'content-type': 'application/json',
        'user-agent': 'aeropartners-webhooks/1',
        [CABECERAS_STANDARD_WEBHOOKS.id]: idEvento,
        [CABECERAS_STANDARD_WEBHOOKS.marcaTiempo]: String(marcaTiempoSegundos),
        [CABECERAS_STANDARD_WEBHOOKS.firma]: firmas.join(' '),
      },
      cuerpo,
      corte.signal,
    );
    if (corte.signal.aborted) return; // apagándose: sin anotar; el plazo del reclamo vencerá y se reintentará
    const duracionMs = Math.round(performance.now() - t0);
    observarDuracion?.(duracionMs / 1000);
    intentos[envio.resultado] += 1;
    const numero = fila.intentos + 1;
    const paso = siguientePaso(numero, envio.resultado === 'exitoso', calendario, aleatoriedad, opciones.aleatorio);
    const proximo = paso.tipo === 'reintentar' ? new Date(Date.now() + paso.esperaMs) : null;
    const estado = paso.tipo === 'reintentar' ? 'pendiente' : paso.tipo;
    const motivo =
      paso.tipo === 'agotada'
        ? `la entrega de ${idEvento} falló ${numero} veces (la última: ${envio.error ?? envio.resultado}); se agotó el calendario de reintentos`
        : null;
    const desactivado = await new Promise<boolean>((resolver, rechazar) => {
      colaAnotar.push({ idWebhook: fila.id_webhook, secuencia, estado, proximo, inicio, duracionMs, envio, motivo, resolver, rechazar });
      if (!anotando) void vaciarAnotaciones();
    });
    if (envio.resultado !== 'exitoso') {
      logger.warn(
        {
          id_webhook: fila.id_webhook,
          id_socio: fila.id_socio,
          id_evento: idEvento,
          intento: numero,
          resultado: envio.resultado,
          codigo_estado: envio.codigoEstado,
          duracion_ms: duracionMs,
          error: envio.error,
          proximo_intento: proximo?.toISOString() ?? null,
        },
        'webhook: intento de entrega fallido',
      );
    }
    if (desactivado) {
      desactivados += 1;
      logger.warn({ id_webhook: fila.id_webhook, id_socio: fila.id_socio, id_evento: idEvento, motivo }, 'webhook desactivado');
    }
  }

  // Anotación por tandas: una sola tanda en curso; lo que termina mientras tanto espera a la siguiente.
  const colaAnotar: Anotacion[] = [];
  let anotando = false;

  async function vaciarAnotaciones(): Promise<void> {
    anotando = true;
    try {
      while (colaAnotar.length > 0) await anotarTanda(colaAnotar.splice(0, loteAnotaciones));
    } finally {
      anotando = false;
    }
  }

  async function anotarTanda(tanda: readonly Anotacion[]): Promise<void> {
    // Agotar desactiva el webhook y deja un aviso: eso va por la sentencia de uno, que lo hace todo junto.
    const juntas = tanda.filter((a) => a.estado !== 'agotada');
    const sueltas = tanda.filter((a) => a.estado === 'agotada');
    if (juntas.length > 1) {
      // En orden de clave, para que dos tandas que se cruzan bloqueen las filas en el mismo orden.
      const orden = [...juntas].sort((a, b) =>
        a.idWebhook === b.idWebhook ? a.secuencia - b.secuencia : a.idWebhook < b.idWebhook ? -1 : 1,
      );
      const t0 = performance.now();
      try {
        await pool.query({
          name: 'webhooks-anotar-lote',
          text: SQL_ANOTAR_LOTE,
          values: [
            orden.map((a) => a.idWebhook),
            orden.map((a) => a.secuencia),
            orden.map((a) => a.estado),
            orden.map((a) => a.proximo),
            orden.map((a) => a.inicio),
            orden.map((a) => a.duracionMs),
            orden.map((a) => a.envio.codigoEstado),
            orden.map((a) => a.envio.resultado),
            orden.map((a) => a.envio.error),
          ],
        });
        for (const a of orden) a.resolver(false);
      } catch {
        // Un webhook borrado a mitad (clave foránea) o un fallo de la tanda: una a una, cada cual con su error.
        sueltas.push(...orden);
      } finally {
        tiempos.sqlAnotarMs += performance.now() - t0;
        tiempos.sentenciasAnotar += 1;
      }
    } else sueltas.push(...juntas);
    for (const a of sueltas) {
      try {
        a.resolver(await anotarUna(a));
      } catch (error) {
        a.rechazar(error);
      }
    }
  }

  async function anotarUna(a: Anotacion): Promise<boolean> {
    const t0 = performance.now();
    try {
      const { rows } = await pool.query<{ anotados: number; desactivados: number }>({
        name: 'webhooks-anotar',
        text: SQL_ANOTAR,
        values: [
          a.idWebhook,
          a.secuencia,
          a.estado,
          a.proximo,
          a.inicio,
          a.duracionMs,
          a.envio.codigoEstado,
          a.envio.resultado,
          a.envio.error,
          a.motivo,
        ],
      });
      return (rows[0]?.desactivados ?? 0) > 0;
    } catch (error) {
      if ((error as { code?: string }).code !== VIOLACION_CLAVE_FORANEA) throw error;
      return false;
    } finally {
      tiempos.sqlAnotarMs += performance.now() - t0;
      tiempos.sentenciasAnotar += 1;
    }
  }

  async function enviar(url: string, cabeceras: Record<string, string>, cuerpo: string, senal: AbortSignal): Promise<Envio> {
    // Se comprueba el destino en cada envío (el DNS puede haber cambiado desde el registro) y otra vez al conectar.
    const t0 = performance.now();
    const destino = await comprobarDestino(url, {
      permitirRedLocal: opciones.permitirRedLocal,
      ...(opciones.resolverDestino ? { resolver: opciones.resolverDestino } : {}),
    });
    tiempos.destinoMs += performance.now() - t0;
    if (!destino.ok) return { resultado: 'error_red', codigoEstado: null, error: `destino no admitido: ${destino.motivo}` };
    const t1 = performance.now();
    // Un solo plazo para todo el envío, aunque haga falta una segunda petición.
    const corteTiempo = new AbortController();
    const limite = setTimeout(() => corteTiempo.abort(), tiempoMaximoMs);
    try {
      const primero = await peticionHttp(destino.url, cabeceras, cuerpo, senal, corteTiempo.signal);
      // Una conexión reutilizada que el receptor cerraba justo entonces (se cruzan): otra vez, por una nueva.
      if (primero.tipo === 'reutilizada-cerrada') {
        const segundo = await peticionHttp(destino.url, cabeceras, cuerpo, senal, corteTiempo.signal);
        return segundo.tipo === 'envio' ? segundo.envio : segundo.error;
      }
      return primero.envio;
    } finally {
      clearTimeout(limite);
      tiempos.httpMs += performance.now() - t1;
    }
  }

  type Respuesta = { tipo: 'envio'; envio: Envio } | { tipo: 'reutilizada-cerrada'; error: Envio };

  function peticionHttp(
    url: URL,
    cabeceras: Record<string, string>,
    cuerpo: string,
    senal: AbortSignal,
    senalTiempo: AbortSignal,
  ): Promise<Respuesta> {
    const https_ = url.protocol === 'https:';
    const modulo = https_ ? https : http;
    const agent = agentes ? (https_ ? agentes.https : agentes.http) : false;
    return new Promise<Respuesta>((resolver) => {
      let terminado = false;
      const fin = (respuesta: Respuesta) => {
        if (terminado) return;
        terminado = true;
        senal.removeEventListener('abort', alCortar);
        senalTiempo.removeEventListener('abort', alAgotar);
        resolver(respuesta);
      };
      const peticion = modulo.request(
        url,
        { method: 'POST', headers: { ...cabeceras, 'content-length': String(Buffer.byteLength(cuerpo)) }, lookup, agent },
        (respuesta) => {
          const codigo = respuesta.statusCode ?? 0;
          if (agentes) {
            // Para devolver la conexión al agente hay que leer la respuesta entera: se descarta, con un tope.
            let leidos = 0;
            const cortarCuerpo = setTimeout(() => respuesta.destroy(), tiempoMaximoMs);
            cortarCuerpo.unref();
            respuesta.on('data', (trozo: Buffer) => {
              leidos += trozo.length;
              if (leidos > CUERPO_RESPUESTA_MAXIMO) respuesta.destroy();
            });
            respuesta.on('close', () => clearTimeout(cortarCuerpo));
            respuesta.on('error', () => undefined);
          } else {
            // Solo cuenta el estado: el cuerpo de la respuesta no se lee.
            respuesta.destroy();
            peticion.destroy();
          }
          fin({
            tipo: 'envio',
            envio:
              codigo >= 200 && codigo < 300
                ? { resultado: 'exitoso', codigoEstado: codigo, error: null }
                : { resultado: 'error_http', codigoEstado: codigo, error: `el receptor respondió ${codigo}` },
          });
        },
      );
      peticion.on('socket', () => {
        if (!peticion.reusedSocket) tiempos.conexiones += 1;
      });
      const alAgotar = () => {
        peticion.destroy();
        fin({ tipo: 'envio', envio: { resultado: 'tiempo_agotado', codigoEstado: null, error: `sin respuesta en ${tiempoMaximoMs} ms` } });
      };
      const alCortar = () => {
        peticion.destroy();
        fin({ tipo: 'envio', envio: { resultado: 'error_red', codigoEstado: null, error: 'envío cortado al apagarse el proceso' } });
      };
      if (senalTiempo.aborted) return alAgotar();
      senal.addEventListener('abort', alCortar);
      senalTiempo.addEventListener('abort', alAgotar);
      peticion.on('error', (error: NodeJS.ErrnoException) => {
        const envio: Envio = {
          resultado: 'error_red',
          codigoEstado: null,
          error: error.code ? `${error.code}: ${error.message}` : error.message,
        };
        const cerradaAlReutilizar = peticion.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
        fin(cerradaAlReutilizar ? { tipo: 'reutilizada-cerrada', error: envio } : { tipo: 'envio', envio });
      });
      peticion.end(cuerpo);
    });
  }

  function lanzar(fila: FilaReclamada): void {
    const id = fila.id_webhook;
    enVueloPorWebhook.set(id, (enVueloPorWebhook.get(id) ?? 0) + 1);
    const corte = new AbortController();
    cortes.add(corte);
    const envio = entregar(fila, corte)
      .catch((error: unknown) => {
        fallosRonda += 1;
        logger.error({ err: error, id_webhook: id }, 'webhook: no se pudo anotar un intento (se reintentará al vencer su plazo)');
      })
      .finally(() => {
        const n = (enVueloPorWebhook.get(id) ?? 1) - 1;
        if (n <= 0) enVueloPorWebhook.delete(id);
        else enVueloPorWebhook.set(id, n);
        cortes.delete(corte);
        envios.delete(envio);
        despertar();
      });
    envios.add(envio);
  }

  async function bucle(): Promise<void> {
    while (!parado) {
      let reclamadas = 0;
      try {
        await generar();
        const libres = concurrencia - envios.size;
        if (libres > 0 && !parado) {
          const filas = await reclamar(libres);
          reclamadas = filas.length;
          if (reclamadas > 0) ultimoTrabajo = performance.now();
          for (const fila of filas) lanzar(fila);
        }
      } catch (error) {
        fallosRonda += 1;
        logger.warn({ err: error }, 'webhook: la ronda del repartidor falló (reintenta)');
      }
      const espera = performance.now() - ultimoTrabajo < VENTANA_ACTIVA_MS ? sondeoActivoMs : sondeoMs;
      if (!parado && reclamadas === 0) await dormir(espera);
      else if (!parado && envios.size >= concurrencia) await dormir(sondeoMs);
    }
  }

  const ejecucion = bucle();

  return {
    contadores: () => ({
      intentos: { ...intentos },
      desactivados,
      generadas,
      fallosRonda,
      enVuelo: envios.size,
      tiempos: { ...tiempos },
    }),
    async detener() {
      parado = true;
      despertar();
      await ejecucion;
      for (const corte of cortes) corte.abort();
      await Promise.allSettled([...envios]);
      agentes?.http.destroy();
      agentes?.https.destroy();
    },
  };
}
