import type { Ambito } from '@aeropartners/dominio';
import { generarSecretoFirma } from '../firmas/standard-webhooks.js';
import { uuidv7 } from '../ids/uuidv7.js';
import type { PoolPostgres } from '../postgres/pool-postgres.js';

/**
 * Los webhooks de los socios en PostgreSQL (migración 0010): lo que necesita la API para registrarlos,
 * listarlos, borrarlos, rotar su secreto, ver sus intentos y reprogramar entregas. Todo por ámbito (socio
 * y modo): un webhook de otro ámbito no existe para quien pregunta.
 */

/** Resultado de cada intento de entrega (el mismo valor que la etiqueta `resultado` de la métrica, decisión 0152). */
export type ResultadoIntento = 'exitoso' | 'error_http' | 'tiempo_agotado' | 'error_red';

export interface VistaWebhook {
  readonly id: string;
  readonly url: string;
  readonly tipos: readonly string[];
  readonly activo: boolean;
  readonly motivoDesactivacion: string | null;
  readonly desactivadoEn: Date | null;
  readonly creadoEn: Date;
  /** Mientras dura una rotación: hasta cuándo se firma también con el secreto anterior. */
  readonly secretoAnteriorHasta: Date | null;
  /** Hasta qué secuencia del registro del ámbito se han generado ya sus entregas. */
  readonly cursor: number;
  readonly pendientes: number;
}

export interface IntentoWebhook {
  readonly id: number;
  readonly idEvento: string;
  readonly secuencia: number;
  readonly numero: number;
  readonly ocurridoEn: Date;
  readonly duracionMs: number;
  readonly codigoEstado: number | null;
  readonly resultado: ResultadoIntento;
  readonly error: string | null;
  readonly proximoIntento: Date | null;
}

/**
 * El `webhook-id` de la entrega de un evento: estable entre reintentos y único entre ámbitos (el mismo
 * receptor puede estar registrado por varios socios o en los dos modos). El socio va codificado para que
 * el id solo tenga caracteres ASCII visibles y ningún punto, como exige Standard Webhooks.
 */
export function idEventoWebhook(ambito: Ambito, secuencia: number): string {
  return `evt_${codificarSocio(ambito.idSocio)}_${ambito.modo}_${secuencia}`;
}

/** La secuencia de un `webhook-id` de este ámbito, o `undefined` si no es uno suyo. */
export function secuenciaDeIdEvento(ambito: Ambito, idEvento: string): number | undefined {
  const prefijo = `evt_${codificarSocio(ambito.idSocio)}_${ambito.modo}_`;
  if (!idEvento.startsWith(prefijo)) return undefined;
  const resto = idEvento.slice(prefijo.length);
  if (!/^[1-9]\d{0,15}$/.test(resto)) return undefined;
  const n = Number(resto);
  return Number.isSafeInteger(n) ? n : undefined;
}

const codificarSocio = (idSocio: string) => encodeURIComponent(idSocio).replaceAll('.', '%2E');

interface FilaWebhook {
  id: string;
  url: string;
  tipos: string[];
  activo: boolean;
  motivo_desactivacion: string | null;
  desactivado_en: Date | null;
  creado_en: Date;
  secreto_anterior_hasta: Date | null;
  cursor: string;
  pendientes: string;
}

const COLUMNAS = `w.id, w.url, w.tipos, w.activo, w.motivo_desactivacion, w.desactivado_en, w.creado_en,
  CASE WHEN w.secreto_anterior_hasta > now() THEN w.secreto_anterior_hasta END AS secreto_anterior_hasta, w.cursor::text,
  (SELECT count(*) FROM webhook_entregas e WHERE e.id_webhook = w.id AND e.estado = 'pendiente')::text AS pendientes`;

const aVista = (f: FilaWebhook): VistaWebhook => ({
  id: f.id,
  url: f.url,
  tipos: f.tipos,
  activo: f.activo,
  motivoDesactivacion: f.motivo_desactivacion,
  desactivadoEn: f.desactivado_en,
  creadoEn: f.creado_en,
  secretoAnteriorHasta: f.secreto_anterior_hasta,
  cursor: Number(f.cursor),
  pendientes: Number(f.pendientes),
});

export type ResultadoReenvio = { readonly tipo: 'programadas'; readonly entregas: number } | { readonly tipo: 'webhook-no-encontrado' };

export class PostgresWebhooks {
  readonly #pool: PoolPostgres;

  constructor(opciones: { readonly pool: PoolPostgres }) {
    this.#pool = opciones.pool;
  }

  /**
   * Registra un webhook: recibe los eventos que se numeren desde ahora (su cursor empieza en la última
   * secuencia del ámbito). Devuelve su secreto, que no se vuelve a mostrar.
   */
  async crear(ambito: Ambito, datos: { readonly url: string; readonly tipos: readonly string[] }) {
    const id = `wh_${uuidv7().replaceAll('-', '')}`;
    const secreto = generarSecretoFirma();
    const { rows } = await this.#pool.query<FilaWebhook>(
      `INSERT INTO webhooks (id, id_socio, modo, url, tipos, secreto, cursor)
       VALUES ($1, $2, $3, $4, $5, $6, coalesce((SELECT ultima FROM eventos_contadores WHERE id_socio = $2 AND modo = $3), 0))
       RETURNING id, url, tipos, activo, motivo_desactivacion, desactivado_en, creado_en,
                 NULL::timestamptz AS secreto_anterior_hasta, cursor::text, '0' AS pendientes`,
      [id, ambito.idSocio, ambito.modo, datos.url, [...datos.tipos], secreto],
    );
    const fila = rows[0];
    if (!fila) throw new Error('INSERT … RETURNING no devolvió el webhook creado');
    return { webhook: aVista(fila), secreto };
  }

  async listar(ambito: Ambito): Promise<readonly VistaWebhook[]> {
    const { rows } = await this.#pool.query<FilaWebhook>(
      `SELECT ${COLUMNAS} FROM webhooks w WHERE w.id_socio = $1 AND w.modo = $2 ORDER BY w.creado_en, w.id`,
      [ambito.idSocio, ambito.modo],
    );
    return rows.map(aVista);
  }

  async obtener(ambito: Ambito, id: string): Promise<VistaWebhook | undefined> {
    const { rows } = await this.#pool.query<FilaWebhook>(
      `SELECT ${COLUMNAS} FROM webhooks w WHERE w.id = $1 AND w.id_socio = $2 AND w.modo = $3`,
      [id, ambito.idSocio, ambito.modo],
    );
    return rows[0] ? aVista(rows[0]) : undefined;
  }

  /** Borra el webhook, sus entregas pendientes y sus intentos. */
  async eliminar(ambito: Ambito, id: string): Promise<boolean> {
    const r = await this.#pool.query('DELETE FROM webhooks WHERE id = $1 AND id_socio = $2 AND modo = $3', [
      id,
      ambito.idSocio,
      ambito.modo,
    ]);
    return (r.rowCount ?? 0) > 0;
  }

  /**
   * Un secreto nuevo; el actual pasa a anterior y se sigue firmando también con él durante `graciaMs`
   * (cada entrega lleva las dos firmas), para que el socio cambie el suyo sin perder ninguna.
   */
  async rotarSecreto(ambito: Ambito, id: string, graciaMs: number) {
    const secreto = generarSecretoFirma();
    const { rows } = await this.#pool.query<{ hasta: Date }>(
      `UPDATE webhooks SET secreto_anterior = secreto, secreto = $4,
              secreto_anterior_hasta = now() + make_interval(secs => $5::double precision / 1000)
       WHERE id = $1 AND id_socio = $2 AND modo = $3
       RETURNING secreto_anterior_hasta AS hasta`,
      [id, ambito.idSocio, ambito.modo, secreto, graciaMs],
    );
    const fila = rows[0];
    return fila ? { secreto, anteriorVigenteHasta: fila.hasta } : undefined;
  }

  /** Los intentos de un webhook, del más reciente al más antiguo; `undefined` si no es de este ámbito. */
  async intentos(
    ambito: Ambito,
    id: string,
    consulta: { readonly antesDe?: number | undefined; readonly limite: number },
  ): Promise<{ readonly intentos: readonly IntentoWebhook[]; readonly hayMas: boolean } | undefined> {
    if (!(await this.#esDelAmbito(ambito, id))) return undefined;
    const { rows } = await this.#pool.query<{
      id: string;
      secuencia: string;
      numero: number;
      ocurrido_en: Date;
      duracion_ms: number;
      codigo_estado: number | null;
      resultado: ResultadoIntento;
      error: string | null;
      proximo_intento: Date | null;
    }>(
      `SELECT id::text, secuencia::text, numero, ocurrido_en, duracion_ms, codigo_estado, resultado, error, proximo_intento
       FROM webhook_intentos WHERE id_webhook = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
      [id, consulta.antesDe ?? null, consulta.limite + 1],
    );
    return {
      hayMas: rows.length > consulta.limite,
      intentos: rows.slice(0, consulta.limite).map((f) => ({
        id: Number(f.id),
        idEvento: idEventoWebhook(ambito, Number(f.secuencia)),
        secuencia: Number(f.secuencia),
        numero: f.numero,
        ocurridoEn: f.ocurrido_en,
        duracionMs: f.duracion_ms,
        codigoEstado: f.codigo_estado,
        resultado: f.resultado,
        error: f.error,
        proximoIntento: f.proximo_intento,
      })),
    };
  }

  /**
   * Reprograma la entrega de los eventos del ámbito con secuencia en [desde, hasta] que el webhook
   * recibe por sus tipos: ya, con el calendario desde el principio. Si el webhook estaba desactivado,
   * lo reactiva (decisión 0175). Los eventos ya purgados por la retención no se pueden reenviar.
   */
  async reenviar(ambito: Ambito, id: string, rango: { readonly desde: number; readonly hasta: number }): Promise<ResultadoReenvio> {
    const cliente = await this.#pool.connect();
    try {
      await cliente.query('BEGIN');
      const w = await cliente.query<{ tipos: string[] }>(
        `UPDATE webhooks SET activo = true, motivo_desactivacion = NULL, desactivado_en = NULL
         WHERE id = $1 AND id_socio = $2 AND modo = $3 RETURNING tipos`,
        [id, ambito.idSocio, ambito.modo],
      );
      const tipos = w.rows[0]?.tipos;
      if (!tipos) {
        await cliente.query('ROLLBACK');
        return { tipo: 'webhook-no-encontrado' };
      }
      const r = await cliente.query(
        `INSERT INTO webhook_entregas (id_webhook, secuencia, estado, intentos, proximo_intento)
         SELECT $1, ev.secuencia, 'pendiente', 0, now() FROM eventos_socio ev
         WHERE ev.id_socio = $2 AND ev.modo = $3 AND ev.secuencia BETWEEN $4 AND $5 AND ${TIPO_ADMITIDO('$6', 'ev.tipo')}
         ON CONFLICT (id_webhook, secuencia) DO UPDATE SET estado = 'pendiente', intentos = 0, proximo_intento = now()`,
        [id, ambito.idSocio, ambito.modo, rango.desde, rango.hasta, tipos],
      );
      await cliente.query('COMMIT');
      return { tipo: 'programadas', entregas: r.rowCount ?? 0 };
    } catch (error) {
      await cliente.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      cliente.release();
    }
  }

  async #esDelAmbito(ambito: Ambito, id: string): Promise<boolean> {
    const { rows } = await this.#pool.query('SELECT 1 FROM webhooks WHERE id = $1 AND id_socio = $2 AND modo = $3', [
      id,
      ambito.idSocio,
      ambito.modo,
    ]);
    return rows.length > 0;
  }
}

/** ¿Recibe un webhook con estos tipos (`pago.exitoso`, la familia `pago.*` o `*`) un evento de este tipo? */
export const TIPO_ADMITIDO = (tipos: string, tipo: string) =>
  `EXISTS (SELECT 1 FROM unnest(${tipos}::text[]) t WHERE t = '*' OR t = ${tipo} OR (right(t, 2) = '.*' AND starts_with(${tipo}, left(t, -1))))`;
