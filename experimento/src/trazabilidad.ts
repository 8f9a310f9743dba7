import { percentiles, type ConsultorPostgres } from '@aeropartners/kit-pruebas';
import { huellaJson, iniciarReceptor, type Receptor } from './receptor-webhooks.js';
import { cabecerasDe, type SocioCorrida } from './socios.js';
import type { Veredicto } from './veredicto.js';
import { iniciarStreams, type Streams } from './stream-socios.js';
import {
  juzgarTrazabilidad,
  leerCambios,
  leerDuenos,
  type EventoFeed,
  type ObservadoSocio,
  type VeredictoTrazabilidad,
} from './veredicto-trazabilidad.js';

/**
 * La trazabilidad en tiempo real dentro del experimento (issue 13): cada socio registra un webhook de
 * todos los tipos hacia el receptor local y abre su stream SSE antes de la carga; durante la carga el
 * experimento corta los streams a mitad; al final se espera a que stream y webhooks alcancen al
 * registro, se lee el feed de cada socio hasta el final y se juzga (`veredicto-trazabilidad.ts`).
 */

/** Variables de la topología que arranca el experimento para el repartidor de webhooks. */
export const ENTORNO_WEBHOOKS = {
  WEBHOOKS_PERMITIR_RED_LOCAL: 'true',
  // Un receptor que no responde cuesta como mucho esto por intento (el receptor retiene más).
  WEBHOOKS_TIEMPO_MAXIMO_MS: '2000',
  // Reintentos en segundos y no en horas: el receptor falla como mucho dos veces seguidas la misma entrega.
  WEBHOOKS_CALENDARIO: '1s,2s,5s,10s,20s,30s,60s',
} as const;

/** Lo que el receptor retiene un «tiempo»: más que el tiempo máximo del repartidor (también el de por defecto, 10 s). */
const RETENER_MS = 12_000;
/** Fracciones de la carga principal en que se cortan los streams de todos los socios. */
export const CORTES_STREAM = [0.35, 0.7] as const;

export interface OpcionesTrazabilidad {
  readonly socios: readonly SocioCorrida[];
  readonly urlApi: string;
  /** Las URL de las instancias de la API en cada momento (el stream reconecta a la siguiente). */
  readonly urlsApi: () => readonly string[];
  readonly semilla: number;
  /**
   * Si no se puede registrar un webhook (una topología que no admite receptores locales), ¿es un error?
   * Sí cuando el experimento arrancó la topología con `ENTORNO_WEBHOOKS`.
   */
  readonly webhooksObligatorios: boolean;
}

export interface Trazabilidad {
  readonly streams: Streams;
  /** Corta a mitad los streams abiertos; devuelve cuántos. */
  cortarStreams(): number;
  /** Espera (como mucho `limiteS`) a que el registro esté quieto y stream y webhooks lo hayan alcanzado. */
  esperarAlDia(bd: ConsultorPostgres, limiteS: number): Promise<boolean>;
  juzgar(bd: ConsultorPostgres, suspendido: string | undefined): Promise<VeredictoTrazabilidad>;
  /** Las filas del informe (tras `juzgar`). */
  medidas(): Record<string, string>;
  parar(): Promise<void>;
}

const dormir = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function pedir(url: string, init: RequestInit, intentos = 10): Promise<Response> {
  for (let i = 1; ; i += 1) {
    try {
      const r = await fetch(url, init);
      if (r.status < 500 || i >= intentos) return r;
      await r.body?.cancel();
    } catch (error) {
      if (i >= intentos) throw error;
    }
    await dormir(500 * i);
  }
}

/** Un evento del feed (`GET /eventos` o la misma forma desde la base). */
function eventoFeed(o: Record<string, unknown>): EventoFeed {
  return {
    secuencia: Number(o['secuencia']),
    tipo: String(o['tipo']),
    sujeto: String(o['sujeto']),
    registradoEn: Date.parse(String(o['registrado_en'])),
    datos: (o['datos'] ?? {}) as Record<string, unknown>,
    huella: huellaJson(o),
  };
}

/** El feed entero de un socio por la API, página a página (`despues_de` = `siguiente`). */
export async function leerFeed(urlApi: string, socio: SocioCorrida): Promise<EventoFeed[]> {
  const eventos: EventoFeed[] = [];
  let despuesDe = 0;
  for (;;) {
    const r = await pedir(`${urlApi}/eventos?despues_de=${despuesDe}&limite=500`, { headers: cabecerasDe(socio, '') });
    const texto = await r.text();
    if (r.status !== 200) throw new Error(`GET /eventos de ${socio.id}: ${r.status} ${texto.slice(0, 200)}`);
    const pagina = JSON.parse(texto) as { eventos: Record<string, unknown>[]; siguiente: number; hay_mas: boolean };
    for (const e of pagina.eventos) eventos.push(eventoFeed(e));
    if (!pagina.hay_mas || pagina.siguiente === despuesDe) return eventos;
    despuesDe = pagina.siguiente;
  }
}

/** El feed de un socio leído de `eventos_socio` (el socio suspendido ya no puede leerlo por la API). */
async function leerFeedDeLaBase(bd: ConsultorPostgres, idSocio: string): Promise<EventoFeed[]> {
  const { rows } = await bd.query(
    `SELECT secuencia::int8::float8 AS secuencia, tipo, sujeto, ocurrido_en, registrado_en, id_solicitud, id_traza, id_correlacion, datos
     FROM eventos_socio WHERE id_socio = $1 AND modo = 'live' ORDER BY secuencia`,
    [idSocio],
  );
  return (rows as Record<string, unknown>[]).map((f) =>
    eventoFeed({
      ...f,
      ocurrido_en: (f['ocurrido_en'] as Date).toISOString(),
      registrado_en: (f['registrado_en'] as Date).toISOString(),
    }),
  );
}

const ms = (x: number | undefined) => (x === undefined ? '—' : x < 1000 ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(2)} s`);
const fmt = (n: number) => Math.round(n).toLocaleString('es-ES');
function resumen(valores: readonly number[]): string {
  const [p50, p95, p99, max] = percentiles(valores, [50, 95, 99, 100]);
  return `${ms(p50)} / ${ms(p95)} / ${ms(p99)} / ${ms(max)} (${fmt(valores.length)})`;
}

export async function iniciarTrazabilidad(o: OpcionesTrazabilidad): Promise<Trazabilidad> {
  const receptor: Receptor = await iniciarReceptor({ semilla: o.semilla, retenerMs: RETENER_MS });
  const webhooks = new Map<string, string>();
  let sinWebhooks: string | undefined;
  for (const socio of o.socios) {
    const cuerpo = JSON.stringify({ url: receptor.urlDe(socio.id), tipos: ['*'] });
    const r = await pedir(`${o.urlApi}/webhooks`, {
      method: 'POST',
      headers: { ...cabecerasDe(socio, cuerpo), 'content-type': 'application/json' },
      body: cuerpo,
    });
    const texto = await r.text();
    if (r.status !== 201 && r.status !== 200) {
      const motivo = `POST /webhooks de ${socio.id}: ${r.status} ${texto.slice(0, 300)}`;
      if (o.webhooksObligatorios) throw new Error(motivo);
      sinWebhooks = `sin webhooks en esta corrida (${motivo}; la topología debe admitir receptores locales: WEBHOOKS_PERMITIR_RED_LOCAL=true)`;
      break;
    }
    const { id, secreto } = JSON.parse(texto) as { id: string; secreto: string };
    webhooks.set(socio.id, id);
    receptor.registrar(socio.id, secreto);
  }
  const streams = iniciarStreams({ socios: o.socios, urlsApi: o.urlsApi });
  let filas: Record<string, string> = {};

  return {
    streams,
    cortarStreams: () => streams.cortar(),

    async esperarAlDia(bd, limiteS) {
      const limite = Date.now() + limiteS * 1000;
      let anterior = '';
      const ids = o.socios.map((s) => s.id);
      while (Date.now() < limite) {
        const { rows } = await bd
          .query(`SELECT id_socio, ultima::text AS ultima FROM eventos_contadores WHERE id_socio = ANY($1::text[]) AND modo = 'live'`, [
            ids,
          ])
          .catch(() => ({ rows: [] as unknown[] }));
        const ultimas = new Map((rows as { id_socio: string; ultima: string }[]).map((f) => [f.id_socio, Number(f.ultima)]));
        const foto = JSON.stringify([...ultimas].sort());
        const streamsAlDia = [...streams.porSocio.values()].every((s) => s.denegado || s.ultimo >= (ultimas.get(s.idSocio) ?? 0));
        let webhooksAlDia = true;
        if (webhooks.size > 0) {
          const { rows: w } = await bd
            .query(
              `SELECT w.id_socio, w.cursor::text AS cursor,
                      (SELECT count(*) FROM webhook_entregas e WHERE e.id_webhook = w.id AND e.estado = 'pendiente')::int AS pendientes
               FROM webhooks w WHERE w.id = ANY($1::text[])`,
              [[...webhooks.values()]],
            )
            .catch(() => ({ rows: [] as unknown[] }));
          webhooksAlDia =
            w.length === webhooks.size &&
            (w as { id_socio: string; cursor: string; pendientes: number }[]).every(
              (f) => f.pendientes === 0 && Number(f.cursor) >= (ultimas.get(f.id_socio) ?? 0),
            );
        }
        if (foto === anterior && streamsAlDia && webhooksAlDia) return true;
        anterior = foto;
        await dormir(2000);
      }
      return false;
    },

    async juzgar(bd, suspendido) {
      const observados: ObservadoSocio[] = [];
      const activos = new Map<string, boolean>();
      if (webhooks.size > 0) {
        const { rows } = await bd.query(`SELECT id, activo FROM webhooks WHERE id = ANY($1::text[])`, [[...webhooks.values()]]);
        for (const f of rows as { id: string; activo: boolean }[]) activos.set(f.id, f.activo);
      }
      for (const socio of o.socios) {
        let feed: EventoFeed[] | undefined;
        let notaFeed: string | undefined;
        if (socio.id === suspendido) {
          feed = await leerFeedDeLaBase(bd, socio.id);
          notaFeed = `el feed de ${socio.id} (suspendido: su clave ya recibe 403) se leyó de eventos_socio, la tabla que sirve GET /eventos`;
        } else
          try {
            feed = await leerFeed(o.urlApi, socio);
          } catch (error) {
            notaFeed = error instanceof Error ? error.message : String(error);
          }
        const s = streams.porSocio.get(socio.id);
        const idWebhook = webhooks.get(socio.id);
        observados.push({
          id: socio.id,
          feed,
          ...(notaFeed ? { notaFeed } : {}),
          ...(s ? { stream: { recibidos: s.recibidos, denegado: s.denegado } } : {}),
          ...(idWebhook
            ? { webhooks: { entregas: receptor.entregas.filter((e) => e.socio === socio.id), activo: activos.get(idWebhook) === true } }
            : {}),
        });
      }
      const cambios = await leerCambios(
        bd,
        o.socios.map((s) => s.id),
      );
      const sujetos = new Set<string>();
      for (const x of observados) for (const e of x.feed ?? []) sujetos.add(e.sujeto);
      const duenos = await leerDuenos(bd, [...sujetos]);
      const veredicto = juzgarTrazabilidad({ socios: observados, cambios, duenos, ...(sinWebhooks ? { sinWebhooks } : {}) });

      // Las medidas del informe.
      const retrasosStream: number[] = [];
      let recibidos = 0;
      for (const s of streams.porSocio.values()) {
        const vistos = new Set<number>();
        for (const r of s.recibidos) {
          recibidos += 1;
          if (vistos.has(r.id)) continue;
          vistos.add(r.id);
          retrasosStream.push(r.llegada - r.registradoEn);
        }
      }
      const todos = [...streams.porSocio.values()];
      const suma = (f: (s: (typeof todos)[number]) => number) => todos.reduce((t, s) => t + f(s), 0);
      const rechazos: Record<string, number> = {};
      for (const s of todos) for (const [k, v] of Object.entries(s.rechazos)) rechazos[k] = (rechazos[k] ?? 0) + v;
      filas = {
        'Stream SSE: eventos recibidos / conexiones / reconexiones (cortes provocados)': `${fmt(recibidos)} / ${fmt(suma((s) => s.conexiones))} / ${fmt(suma((s) => s.reconexiones))} (${fmt(suma((s) => s.cortesProvocados))})`,
        'Stream SSE: conexiones rechazadas por código (0 = red)': JSON.stringify(rechazos),
        'Retraso registro → stream p50 / p95 / p99 / máx (eventos)': resumen(retrasosStream),
      };
      const entregas = receptor.entregas;
      if (webhooks.size > 0) {
        const primeraAceptada = new Map<string, { llegada: number; registradoEn: number; fallosAntes: number }>();
        const fallosPorId = new Map<string, number>();
        for (const e of entregas) {
          const clave = `${e.socio}\n${e.webhookId}`;
          if (e.respuesta !== 'ok') {
            fallosPorId.set(clave, (fallosPorId.get(clave) ?? 0) + 1);
            continue;
          }
          if (primeraAceptada.has(clave) || e.registradoEn === undefined) continue;
          primeraAceptada.set(clave, { llegada: e.llegada, registradoEn: e.registradoEn, fallosAntes: fallosPorId.get(clave) ?? 0 });
        }
        const todas = [...primeraAceptada.values()];
        const conReintentos = todas.filter((x) => x.fallosAntes > 0);
        const cuenta = (r: string) => entregas.filter((e) => e.respuesta === r).length;
        const { rows: intentos } = await bd.query(
          `SELECT resultado, count(*)::int AS n FROM webhook_intentos WHERE id_webhook = ANY($1::text[]) GROUP BY resultado ORDER BY resultado`,
          [[...webhooks.values()]],
        );
        const distintos = new Set(entregas.map((e) => `${e.socio}\n${e.webhookId}`)).size;
        filas = {
          ...filas,
          'Webhooks: llegadas al receptor / eventos distintos / llegadas repetidas': `${fmt(entregas.length)} / ${fmt(distintos)} / ${fmt(entregas.length - distintos)}`,
          'Webhooks: fallos provocados por el receptor (500 / tiempo agotado / conexión cerrada)': `${fmt(cuenta('error-500'))} / ${fmt(cuenta('tiempo'))} / ${fmt(cuenta('cierre'))}`,
          'Webhooks: intentos anotados por el repartidor':
            (intentos as { resultado: string; n: number }[]).map((f) => `${f.resultado} ${fmt(f.n)}`).join(', ') || '—',
          'Retraso registro → primera entrega aceptada p50 / p95 / p99 / máx (todas)': resumen(
            todas.map((x) => x.llegada - x.registradoEn),
          ),
          'Retraso registro → entrega aceptada tras reintentos p50 / p95 / p99 / máx': resumen(
            conReintentos.map((x) => x.llegada - x.registradoEn),
          ),
        };
      }
      return veredicto;
    },

    medidas: () => filas,

    async parar() {
      await streams.parar();
      await receptor.parar();
    },
  };
}

/** El veredicto de la corrida con las reglas de la trazabilidad añadidas: una violación más lo suspende. */
export function conTrazabilidad(v: Veredicto, t: VeredictoTrazabilidad): Veredicto {
  const violaciones = [...v.violaciones, ...t.violaciones];
  return { ...v, aprobado: violaciones.length === 0, violaciones, reglas: [...v.reglas, ...t.reglas] };
}
