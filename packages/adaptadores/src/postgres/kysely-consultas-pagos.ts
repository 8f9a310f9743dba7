import type { Ambito, Pago } from '@aeropartners/dominio';
import type { ConsultasPagos, EntradaHistorial, EstadisticasOutbox, FiltrosListado, Pagina } from '@aeropartners/aplicacion';
import { TipoEventoPago, EstadoPago } from '@aeropartners/dominio';
import type { Kysely } from 'kysely';
import { esUuid } from '../ids/uuidv7.js';
import { enteroSeguro, type BaseDeDatos } from './esquema.js';
import { filaAPago } from './fila-pago.js';

/** El cursor de paginación no es el que dio una página anterior (no es un UUID). */
export class ErrorCursorInvalido extends Error {
  readonly codigo = 'CursorInvalido' as const;
  constructor(readonly cursor: string) {
    super(`Cursor de paginación inválido: debe ser el «siguienteCursor» de una página anterior`);
    this.name = 'ErrorCursorInvalido';
  }
}

/** Tope de seguridad del tamaño de página (el caso de uso ya lo acota a 200). */
const LIMITE_MAXIMO = 1000;

/**
 * Lado de lectura sobre PostgreSQL. Toda consulta filtra por el ámbito (socio y modo) en el propio SQL:
 * un pago de otro ámbito no aparece, igual que uno que no existe. El listado pagina por conjunto de
 * claves sobre `id` descendente: los ids son UUIDv7, así que ese orden es el de creación, y cada filtro
 * tiene su índice `(id_socio, modo, filtro, id)`.
 */
export class KyselyConsultasPagos implements ConsultasPagos {
  readonly #db: Kysely<BaseDeDatos>;

  constructor(db: Kysely<BaseDeDatos>) {
    this.#db = db;
  }

  async obtenerPago(ambito: Ambito, idPago: string): Promise<Pago | null> {
    if (!esUuid(idPago)) return null;
    const fila = await this.#db
      .selectFrom('pagos')
      .selectAll()
      .where('id', '=', idPago)
      .where('id_socio', '=', ambito.idSocio)
      .where('modo', '=', ambito.modo)
      .executeTakeFirst();
    return fila ? filaAPago(fila) : null;
  }

  /** Lanza {@link ErrorCursorInvalido} si el cursor no es un UUID. */
  async listar(filtros: FiltrosListado): Promise<Pagina<Pago>> {
    const limite = Math.min(Math.max(1, Math.trunc(filtros.limite)), LIMITE_MAXIMO);
    if (filtros.cursor !== undefined && !esUuid(filtros.cursor)) throw new ErrorCursorInvalido(filtros.cursor);
    let consulta = this.#db
      .selectFrom('pagos')
      .selectAll()
      .where('id_socio', '=', filtros.ambito.idSocio)
      .where('modo', '=', filtros.ambito.modo);
    if (filtros.estado !== undefined) consulta = consulta.where('estado', '=', filtros.estado);
    if (filtros.idAfiliado !== undefined) consulta = consulta.where('id_afiliado', '=', filtros.idAfiliado);
    if (filtros.referenciaPago !== undefined) consulta = consulta.where('referencia_pago', '=', filtros.referenciaPago);
    if (filtros.cursor !== undefined) consulta = consulta.where('id', '<', filtros.cursor);
    const filas = await consulta
      .orderBy('id', 'desc')
      .limit(limite + 1)
      .execute();
    const elementos = filas.slice(0, limite).map(filaAPago);
    const ultimo = elementos.at(-1);
    return { elementos, siguienteCursor: filas.length > limite && ultimo ? ultimo.id : null };
  }

  /** Historial por versión; `null` si el pago no existe en el ámbito (una sola consulta). */
  async historial(ambito: Ambito, idPago: string): Promise<readonly EntradaHistorial[] | null> {
    if (!esUuid(idPago)) return null;
    const filas = await this.#db
      .selectFrom('pagos as p')
      .leftJoin('historial_pagos as h', 'h.id_pago', 'p.id')
      .select(['h.estado', 'h.version', 'h.tipo_evento', 'h.id_evento', 'h.ocurrido_en', 'h.id_correlacion', 'h.id_solicitud'])
      .where('p.id', '=', idPago)
      .where('p.id_socio', '=', ambito.idSocio)
      .where('p.modo', '=', ambito.modo)
      .orderBy('h.version')
      .execute();
    if (filas.length === 0) return null;
    const entradas: EntradaHistorial[] = [];
    for (const f of filas) {
      if (f.version === null) continue; // pago sin historial (no debería pasar)
      if (!EstadoPago.esEstado(f.estado) || !TipoEventoPago.esTipo(f.tipo_evento)) {
        throw new Error(`Historial del pago ${idPago} con datos inválidos en la versión ${f.version}`);
      }
      entradas.push({
        estado: f.estado,
        version: f.version,
        tipoEvento: f.tipo_evento,
        idEvento: f.id_evento as string,
        ocurridoEn: f.ocurrido_en as Date,
        idCorrelacion: f.id_correlacion as string,
        idSolicitud: f.id_solicitud ?? null,
      });
    }
    return entradas;
  }

  /**
   * Total, publicados y pendientes de los eventos de los pagos del ámbito, contados en una sola
   * sentencia (un mismo instante). El outbox no lleva el socio: se cruza con sus pagos.
   */
  async estadisticasOutbox(ambito: Ambito): Promise<EstadisticasOutbox> {
    const fila = await this.#db
      .selectFrom('outbox as o')
      .innerJoin('pagos as p', 'p.id', 'o.id_agregado')
      .where('p.id_socio', '=', ambito.idSocio)
      .where('p.modo', '=', ambito.modo)
      .select((eb) => [
        eb.fn.countAll<string>().as('total'),
        eb.fn.countAll<string>().filterWhere('o.fecha_publicacion', 'is not', null).as('publicados'),
      ])
      .executeTakeFirstOrThrow();
    const total = enteroSeguro(fila.total, 'count(outbox)');
    const publicados = enteroSeguro(fila.publicados, 'count(outbox publicados)');
    return { total, publicados, pendientes: total - publicados };
  }
}
