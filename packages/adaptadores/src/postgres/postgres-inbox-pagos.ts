import type { AnotacionInbox, InboxPagos } from '@aeropartners/aplicacion';
import type { CambioPago, Trazabilidad } from '@aeropartners/dominio';
import { esUuid } from '../ids/uuidv7.js';
import { AgrupadorPorLotes, type Pendiente } from './agrupador-por-lotes.js';
import type { ConsultaPostgres, PoolPostgres } from './pool-postgres.js';
import {
  SQL_ANOTAR_LOTE,
  SQL_EN_INBOX,
  SQL_GUARDAR_Y_ANOTAR_LOTE,
  comprobarEventos,
  conReintentos,
  ejecutarRonda,
  parametrosTransiciones,
  rondasSinRepetir,
  type Transicion,
} from './sentencias-escritura.js';

const SQL_YA_PROCESADO = `SELECT 1 FROM inbox WHERE suscripcion = $1 AND id_evento = $2::uuid`;

export interface OpcionesInboxPagos {
  /** Sentencias agrupadas en vuelo a la vez (por operación). Por defecto 1 (ver `enVueloMaximoTransiciones` del repositorio). */
  readonly enVueloMaximo?: number;
  /** Solicitudes como máximo por sentencia. Por defecto 500. */
  readonly loteMaximo?: number;
  /** Usar sentencias preparadas con nombre. Por defecto `true`. */
  readonly sentenciasPreparadas?: boolean;
}

type ResultadoGuardarYAnotar = 'aplicado' | 'duplicado' | 'conflicto';
interface SolicitudGuardarYAnotar extends Transicion {
  readonly anotacion: AnotacionInbox;
}
type PendienteGuardarYAnotar = Pendiente<SolicitudGuardarYAnotar, ResultadoGuardarYAnotar>;
type PendienteAnotar = Pendiente<AnotacionInbox, 'anotado' | 'duplicado'>;

function comprobarIds(anotacion: AnotacionInbox): void {
  if (!esUuid(anotacion.idEvento) || !esUuid(anotacion.idPago)) {
    throw new Error(`Anotación de inbox con ids que no son UUID: ${anotacion.idEvento} / ${anotacion.idPago}`);
  }
}

function llaveInbox(suscripcion: string, idEvento: string): string {
  // PostgreSQL no admite U+0000 en `text`: separador sin ambigüedad.
  return `${suscripcion}\u0000${idEvento.toLowerCase()}`;
}

/**
 * Inbox del consumidor en PostgreSQL: la fila `(suscripcion, id_evento)` se escribe en la misma
 * sentencia que la transición del pago, su outbox y su historial (ver `SQL_GUARDAR_Y_ANOTAR_LOTE`).
 *
 * `guardarYAnotar` y `anotar` agrupan las llamadas concurrentes («group commit», como la creación de
 * pagos): un lote es UNA sentencia y cada llamada recibe el resultado de SU fila. Dos solicitudes del
 * mismo pago o del mismo evento nunca van en la misma sentencia: la segunda sale en la siguiente.
 */
export class PostgresInboxPagos implements InboxPagos {
  readonly #pool: PoolPostgres;
  readonly #preparadas: boolean;
  readonly #agrupadorGuardar: AgrupadorPorLotes<SolicitudGuardarYAnotar, ResultadoGuardarYAnotar>;
  readonly #agrupadorAnotar: AgrupadorPorLotes<AnotacionInbox, 'anotado' | 'duplicado'>;

  constructor(pool: PoolPostgres, opciones: OpcionesInboxPagos = {}) {
    this.#pool = pool;
    this.#preparadas = opciones.sentenciasPreparadas ?? true;
    const agrupacion = { enVueloMaximo: opciones.enVueloMaximo ?? 1, loteMaximo: opciones.loteMaximo ?? 500 };
    this.#agrupadorGuardar = new AgrupadorPorLotes(agrupacion, (lote) => this.#guardarLote(lote));
    this.#agrupadorAnotar = new AgrupadorPorLotes(agrupacion, (lote) => this.#anotarLote(lote));
  }

  async yaProcesado(suscripcion: string, idEvento: string): Promise<boolean> {
    if (!esUuid(idEvento)) return false;
    const { rows } = await this.#consultar('inbox_ya_procesado_v1', SQL_YA_PROCESADO, [suscripcion, idEvento]);
    return rows.length > 0;
  }

  async anotar(anotacion: AnotacionInbox): Promise<'anotado' | 'duplicado'> {
    comprobarIds(anotacion);
    return this.#agrupadorAnotar.enviar(anotacion);
  }

  async guardarYAnotar(
    cambio: CambioPago,
    versionEsperada: number,
    traza: Trazabilidad,
    anotacion: AnotacionInbox,
  ): Promise<ResultadoGuardarYAnotar> {
    comprobarIds(anotacion);
    if (!esUuid(cambio.pago.id)) throw new Error(`El id del pago debe ser un UUID: ${cambio.pago.id}`);
    comprobarEventos(cambio);
    return this.#agrupadorGuardar.enviar({ cambio, versionEsperada, traza, anotacion });
  }

  /** Espera a que se respondan todas las solicitudes en curso (para cerrar sin cortar a nadie). */
  async vaciar(): Promise<void> {
    await Promise.all([this.#agrupadorGuardar.vaciar(), this.#agrupadorAnotar.vaciar()]);
  }

  #consultar<F>(nombre: string, text: string, values: readonly unknown[]) {
    const consulta: ConsultaPostgres = this.#preparadas ? { name: nombre, text, values } : { text, values };
    return this.#pool.query<F>(consulta);
  }

  async #anotarLote(lote: readonly PendienteAnotar[]): Promise<void> {
    // Una fila por clave: la primera solicitud de cada clave recibe el resultado de la sentencia y
    // las repetidas del mismo lote son duplicados (exactamente una `anotado`).
    const primeras = new Map<string, PendienteAnotar>();
    for (const p of lote) {
      const k = llaveInbox(p.entrada.suscripcion, p.entrada.idEvento);
      if (!primeras.has(k)) primeras.set(k, p);
    }
    const unicas = [...primeras.values()];
    await this.#anotarUnicas(unicas);
    for (const p of lote) {
      if (!p.respondido) p.resolver('duplicado');
    }
  }

  async #anotarUnicas(unicas: readonly PendienteAnotar[]): Promise<void> {
    const parametros = () => {
      const a = unicas.map((p) => p.entrada);
      return [
        a.map((x) => x.suscripcion),
        a.map((x) => x.idEvento),
        a.map((x) => x.idPago),
        a.map((x) => x.tipoEvento),
        a.map((x) => x.version),
      ];
    };
    const filas = await ejecutarRonda(
      unicas,
      () =>
        conReintentos(() =>
          this.#consultar<{ suscripcion: string; id_evento: string }>('inbox_anotar_lote_v1', SQL_ANOTAR_LOTE, parametros()),
        ),
      (p) => this.#anotarUnicas([p]),
      (causa) => new Error(`No se pudo anotar en el inbox: falló la sentencia del lote (${unicas.length} solicitud(es))`, { cause: causa }),
    );
    if (!filas) return;
    const anotadas = new Set(filas.rows.map((r) => llaveInbox(r.suscripcion, r.id_evento)));
    for (const p of unicas) {
      p.resolver(anotadas.has(llaveInbox(p.entrada.suscripcion, p.entrada.idEvento)) ? 'anotado' : 'duplicado');
    }
  }

  /** Un lote de `guardarYAnotar`: rondas sin pagos ni eventos repetidos, una sentencia por ronda. */
  async #guardarLote(lote: readonly PendienteGuardarYAnotar[]): Promise<void> {
    const llaves = (p: PendienteGuardarYAnotar) => [
      `p\u0000${p.entrada.cambio.pago.id.toLowerCase()}`,
      `e\u0000${llaveInbox(p.entrada.anotacion.suscripcion, p.entrada.anotacion.idEvento)}`,
    ];
    for (const ronda of rondasSinRepetir(lote, llaves)) await this.#guardarRonda(ronda);
  }

  async #guardarRonda(ronda: readonly PendienteGuardarYAnotar[]): Promise<void> {
    const parametros = () => {
      const a = ronda.map((p) => p.entrada.anotacion);
      return [
        ...parametrosTransiciones(ronda.map((p) => p.entrada)),
        a.map((x) => x.suscripcion),
        a.map((x) => x.idEvento),
        a.map((x) => x.idPago),
        a.map((x) => x.tipoEvento),
        a.map((x) => x.version),
      ];
    };
    const filas = await ejecutarRonda(
      ronda,
      () => conReintentos(() => this.#consultar<{ id: string }>('inbox_guardar_y_anotar_lote_v2', SQL_GUARDAR_Y_ANOTAR_LOTE, parametros())),
      (p) => this.#guardarRonda([p]),
      (causa) =>
        new Error(`No se pudo guardar y anotar: falló la sentencia del lote (${ronda.length} solicitud(es)) en PostgreSQL`, {
          cause: causa,
        }),
    );
    if (!filas) return;
    const actualizados = new Set(filas.rows.map((r) => r.id.toLowerCase()));
    const sinAplicar: PendienteGuardarYAnotar[] = [];
    for (const p of ronda) {
      if (actualizados.has(p.entrada.cambio.pago.id.toLowerCase())) p.resolver('aplicado');
      else sinAplicar.push(p);
    }
    if (sinAplicar.length === 0) return;
    // No se aplicó: ¿porque el evento ya estaba en el inbox (duplicado) o por la versión (conflicto)?
    try {
      const { rows } = await this.#consultar<{ suscripcion: string; id_evento: string }>('inbox_en_inbox_v1', SQL_EN_INBOX, [
        sinAplicar.map((p) => p.entrada.anotacion.suscripcion),
        sinAplicar.map((p) => p.entrada.anotacion.idEvento),
      ]);
      const presentes = new Set(rows.map((r) => llaveInbox(r.suscripcion, r.id_evento)));
      for (const p of sinAplicar) {
        const { suscripcion, idEvento } = p.entrada.anotacion;
        p.resolver(presentes.has(llaveInbox(suscripcion, idEvento)) ? 'duplicado' : 'conflicto');
      }
    } catch (causa) {
      const error = new Error('No se pudo comprobar el inbox tras una transición no aplicada', { cause: causa });
      for (const p of sinAplicar) p.rechazar(error);
    }
  }
}
