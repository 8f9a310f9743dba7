import type { Ambito } from '@aeropartners/dominio';
import type { PoolPostgres } from '../postgres/pool-postgres.js';
import { idEventoWebhook, type ResultadoIntento } from './postgres-webhooks.js';

/**
 * La línea de tiempo de un sujeto (un pago, una conversión) entre procesos (issue 13, punto 5; decisión
 * 0177): cada paso del registro de eventos del socio (escrito por la API o por el consumidor, con su id de
 * solicitud, de correlación y de traza), cuándo lo publicó el relay (si pasó por el outbox) y cada intento
 * de entrega a los webhooks del socio. Se lee del registro, así que un paso aparece en cuanto el asignador
 * lo numera, y desaparece con la retención.
 */

export interface IntentoEnLinea {
  readonly idWebhook: string;
  readonly numero: number;
  readonly ocurridoEn: Date;
  readonly codigoEstado: number | null;
  readonly duracionMs: number;
  readonly resultado: ResultadoIntento;
  readonly error: string | null;
  readonly proximoIntento: Date | null;
}

export interface PasoLineaDeTiempo {
  readonly secuencia: number;
  readonly tipo: string;
  readonly ocurridoEn: Date;
  readonly registradoEn: Date;
  readonly idSolicitud: string | null;
  readonly idCorrelacion: string | null;
  readonly idTraza: string | null;
  /** El id del evento de dominio del paso (el del historial y el outbox). */
  readonly idEvento: string | null;
  /** Cuándo lo publicó el relay en el broker (null si no pasó por el outbox o aún no). */
  readonly publicadoEn: Date | null;
  /** El `webhook-id` con que se entrega este paso a los webhooks del socio. */
  readonly idEventoWebhook: string;
  readonly intentosWebhook: readonly IntentoEnLinea[];
}

interface Fila {
  secuencia: string;
  tipo: string;
  ocurrido_en: Date;
  registrado_en: Date;
  id_solicitud: string | null;
  id_correlacion: string | null;
  id_traza: string | null;
  id_evento: string | null;
  publicado_en: Date | null;
  intentos: {
    id_webhook: string;
    numero: number;
    ocurrido_en: string;
    codigo_estado: number | null;
    duracion_ms: number;
    resultado: ResultadoIntento;
    error: string | null;
    proximo_intento: string | null;
  }[];
}

const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

const SQL = `
SELECT ev.secuencia::text, ev.tipo, ev.ocurrido_en, ev.registrado_en, ev.id_solicitud, ev.id_correlacion, ev.id_traza,
  ev.datos ->> 'id_evento' AS id_evento, o.fecha_publicacion AS publicado_en,
  coalesce((
    SELECT json_agg(json_build_object('id_webhook', wi.id_webhook, 'numero', wi.numero, 'ocurrido_en', wi.ocurrido_en,
                                      'codigo_estado', wi.codigo_estado, 'duracion_ms', wi.duracion_ms, 'resultado', wi.resultado,
                                      'error', wi.error, 'proximo_intento', wi.proximo_intento) ORDER BY wi.id)
    FROM webhooks w JOIN webhook_intentos wi ON wi.id_webhook = w.id AND wi.secuencia = ev.secuencia
    WHERE w.id_socio = ev.id_socio AND w.modo = ev.modo
  ), '[]'::json) AS intentos
FROM eventos_socio ev
LEFT JOIN outbox o
  ON ev.datos ->> 'id_evento' ~ '${UUID}' AND o.id_evento = (CASE WHEN ev.datos ->> 'id_evento' ~ '${UUID}' THEN (ev.datos ->> 'id_evento')::uuid END)
WHERE ev.id_socio = $1 AND ev.modo = $2 AND ev.sujeto = $3
ORDER BY ev.secuencia
LIMIT 1000`;

export class PostgresLineaDeTiempo {
  readonly #pool: PoolPostgres;

  constructor(opciones: { readonly pool: PoolPostgres }) {
    this.#pool = opciones.pool;
  }

  /** Los pasos del sujeto en el ámbito, en orden de secuencia (vacío si no hay ninguno). */
  async de(ambito: Ambito, sujeto: string): Promise<readonly PasoLineaDeTiempo[]> {
    const { rows } = await this.#pool.query<Fila>({
      name: 'linea-de-tiempo',
      text: SQL,
      values: [ambito.idSocio, ambito.modo, sujeto],
    });
    return rows.map((f) => ({
      secuencia: Number(f.secuencia),
      tipo: f.tipo,
      ocurridoEn: f.ocurrido_en,
      registradoEn: f.registrado_en,
      idSolicitud: f.id_solicitud,
      idCorrelacion: f.id_correlacion,
      idTraza: f.id_traza,
      idEvento: f.id_evento,
      publicadoEn: f.publicado_en,
      idEventoWebhook: idEventoWebhook(ambito, Number(f.secuencia)),
      intentosWebhook: f.intentos.map((i) => ({
        idWebhook: i.id_webhook,
        numero: i.numero,
        ocurridoEn: new Date(i.ocurrido_en),
        codigoEstado: i.codigo_estado,
        duracionMs: i.duracion_ms,
        resultado: i.resultado,
        error: i.error,
        proximoIntento: i.proximo_intento === null ? null : new Date(i.proximo_intento),
      })),
    }));
  }
}
