import type { PlantaPago } from '@aeropartners/contratos';
import {
  Dinero,
  crearPago,
  iniciarProcesamiento,
  registrarExito,
  registrarFallo,
  type Pago,
  type RepositorioPagos,
} from '@aeropartners/dominio';
import { uuidv7 } from '../src/ids/uuidv7.js';
import type { PoolPostgres } from '../src/postgres/pool-postgres.js';

const traza = { idCorrelacion: 'plantado-en-test' };

/**
 * Planta pagos en una base de prueba como los dejaría el servicio (creados y movidos por el repositorio
 * real, con su outbox e historial) y después retrasa sus fechas con el reloj de la base: así se prueban
 * atascos de minutos u horas sin esperar. Ids UUIDv7 crecientes en el orden dado.
 */
export async function plantarPagosAtascados(
  repositorio: RepositorioPagos,
  pool: PoolPostgres,
  pagos: readonly PlantaPago[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const planta of pagos) {
    const pago = await crearEn(repositorio, planta.estado);
    ids.push(pago.id);
    await pool.query(
      `UPDATE pagos SET fecha_actualizacion = now() - make_interval(secs => $2::float8 / 1000),
              turno_titular = CASE WHEN $3::text IS NULL THEN NULL ELSE 'consumidor-plantado' END,
              turno_hasta = CASE $3::text WHEN 'vigente' THEN now() + interval '1 hour' WHEN 'vencido' THEN now() - interval '1 second' END
       WHERE id = $1`,
      [pago.id, planta.haceMs, planta.turno ?? null],
    );
    const pendiente = `(SELECT id_evento FROM historial_pagos WHERE id_pago = $1 AND version = 1)`;
    if (planta.evento === 'ninguno') {
      await pool.query(`DELETE FROM outbox WHERE id_evento = ${pendiente}`, [pago.id]);
    } else if (planta.evento === 'sinPublicar') {
      await pool.query(`UPDATE outbox SET fecha_publicacion = NULL, secuencia = NULL, productor = NULL WHERE id_evento = ${pendiente}`, [
        pago.id,
      ]);
    } else {
      await pool.query(
        `UPDATE outbox SET fecha_publicacion = now() - make_interval(secs => $2::float8 / 1000), productor = 'relay-plantado', secuencia = id
         WHERE id_evento = ${pendiente}`,
        [pago.id, planta.evento.publicadoHaceMs],
      );
    }
  }
  return ids;
}

/** Lo que haría el relay con todo lo que está en cola: publicarlo ahora (secuencia = id de la fila, productor de prueba). */
export async function publicarComoElRelay(pool: PoolPostgres): Promise<number> {
  const { rowCount } = await pool.query(
    `UPDATE outbox SET fecha_publicacion = now(), productor = 'relay-plantado', secuencia = id WHERE fecha_publicacion IS NULL`,
  );
  return rowCount ?? 0;
}

/** Veces que el barrendero re-encoló el `PagoPendiente` de un pago (de sus metadatos en el outbox). */
export async function reimpulsosDe(pool: PoolPostgres, idPago: string): Promise<number> {
  const { rows } = await pool.query<{ n: number | null }>(
    `SELECT (o.metadatos ->> 'reimpulsos')::int AS n
     FROM historial_pagos h JOIN outbox o ON o.id_evento = h.id_evento
     WHERE h.id_pago = $1 AND h.version = 1`,
    [idPago],
  );
  return rows[0]?.n ?? 0;
}

async function crearEn(repositorio: RepositorioPagos, estado: PlantaPago['estado']): Promise<Pago> {
  const ctx = { ahora: new Date(), nuevoId: uuidv7 };
  const monto = Dinero.deUnidadesMenores(12_345, 'USD');
  if (!monto.ok) throw new Error('monto inválido');
  const id = uuidv7();
  const creado = crearPago(
    { id, idSocio: 'socio-prueba', idAfiliado: 'afiliado-prueba', monto: monto.valor, referenciaPago: `ref-${id}` },
    ctx,
  );
  if (!creado.ok) throw new Error(creado.error.tipo);
  await repositorio.crear(creado.valor, { idSocio: 'socio-prueba', clave: id }, traza);
  let pago = creado.valor.pago;
  if (estado === 'PENDIENTE') return pago;
  const procesando = iniciarProcesamiento(pago, ctx);
  if (!procesando.ok) throw new Error(procesando.error.tipo);
  pago = await guardar(repositorio, procesando.valor, pago.version);
  if (estado === 'PROCESANDO') return pago;
  const final = estado === 'EXITOSO' ? registrarExito(pago, `tr_${id}`, ctx) : registrarFallo(pago, 'rechazado en la prueba', ctx);
  if (!final.ok) throw new Error(final.error.tipo);
  return guardar(repositorio, final.valor, pago.version);
}

async function guardar(repositorio: RepositorioPagos, cambio: Parameters<RepositorioPagos['guardar']>[0], version: number): Promise<Pago> {
  const r = await repositorio.guardar(cambio, version, traza);
  if (!r.ok) throw new Error(`conflicto al plantar ${cambio.pago.id}`);
  return r.valor;
}
