import { randomUUID } from 'node:crypto';
import { SUSCRIPCION_POR_DEFECTO, type ConsultorPostgres } from './reglas.js';

/**
 * Pagos plantados fila a fila, como los deja el pipeline cuando todo va bien: para probar el
 * comprobador (y el veredicto del experimento) contra un PostgreSQL real, plantando después el defecto.
 * La base necesita las migraciones de pagos, el libro de la pasarela simulada y, para las reglas del
 * broker, su esquema (`migrarBroker`).
 */

export type EstadoFinal = 'EXITOSO' | 'FALLIDO';

export interface PagoPlantado {
  readonly id: string;
  readonly referencia: string;
  readonly estado: EstadoFinal;
  readonly eventos: { readonly pendiente: string; readonly desenlace: string };
}

export interface OpcionesPlantar {
  readonly idSocio: string;
  readonly referencia: string;
  readonly estado?: EstadoFinal;
  /** Creación → estado final, en ms. Por defecto 800. */
  readonly ms?: number;
  readonly suscripcion?: string;
}

export const MENSAJE_RECHAZO_PLANTADO = 'Fondos insuficientes';

/** Un pago que pasó por todo el pipeline como debe: pago, 2 eventos publicados y consumidos, historial y su decisión en el libro. */
export async function plantarPago(bd: ConsultorPostgres, o: OpcionesPlantar): Promise<PagoPlantado> {
  const estado = o.estado ?? 'EXITOSO';
  const id = randomUUID();
  const creado = new Date(Date.now() - 60_000);
  const final = new Date(creado.getTime() + (o.ms ?? 800));
  const transaccion = estado === 'EXITOSO' ? `ch_${id.slice(0, 8)}` : null;
  const mensaje = estado === 'FALLIDO' ? MENSAJE_RECHAZO_PLANTADO : null;
  await bd.query(
    `INSERT INTO pagos (id, id_socio, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version,
                        fecha_creacion, fecha_actualizacion, fecha_procesamiento, referencia_transaccion, mensaje_error)
     VALUES ($1, $2, $3, 'afiliado-1', 1050, 'USD', $3, $4, 3, $5, $6, $6, $7, $8)`,
    [id, o.idSocio, o.referencia, estado, creado, final, transaccion, mensaje],
  );
  const pendiente = randomUUID();
  const desenlace = randomUUID();
  const tipoFinal = estado === 'EXITOSO' ? 'PagoExitoso' : 'PagoFallido';
  await bd.query(
    `INSERT INTO outbox (id_evento, id_agregado, version_agregado, tipo, payload, fecha_publicacion)
     VALUES ($1, $3, 1, 'PagoPendiente', '{}', now()), ($2, $3, 3, $4, '{}', now())`,
    [pendiente, desenlace, id, tipoFinal],
  );
  await bd.query(
    `INSERT INTO inbox (suscripcion, id_evento, id_pago, tipo_evento, version)
     VALUES ($1, $2, $4, 'PagoPendiente', 1), ($1, $3, $4, $5, 3)`,
    [o.suscripcion ?? SUSCRIPCION_POR_DEFECTO, pendiente, desenlace, id, tipoFinal],
  );
  await plantarHistorial(bd, id, [
    ['PENDIENTE', 1, creado],
    ['PROCESANDO', 2, new Date(creado.getTime() + 10)],
    [estado, 3, final],
  ]);
  await plantarCargo(bd, { clave: id, idPago: id, resultado: estado === 'EXITOSO' ? 'exitoso' : 'rechazado', transaccion, mensaje });
  return { id, referencia: o.referencia, estado, eventos: { pendiente, desenlace } };
}

/** Entradas de historial `[estado, versión, cuándo]` de un pago. */
export async function plantarHistorial(
  bd: ConsultorPostgres,
  idPago: string,
  entradas: readonly (readonly [string, number, Date])[],
): Promise<void> {
  for (const [estado, version, cuando] of entradas) {
    await bd.query(
      `INSERT INTO historial_pagos (id_pago, version, estado, tipo_evento, id_evento, ocurrido_en, id_correlacion)
       VALUES ($1, $2, $3, 'Pago' || initcap($3), $4, $5, 'corr')`,
      [idPago, version, estado, randomUUID(), cuando],
    );
  }
}

export interface CargoPlantado {
  readonly clave: string;
  readonly idPago: string;
  readonly resultado: 'exitoso' | 'rechazado';
  readonly transaccion: string | null;
  readonly mensaje?: string | null;
}

/** Una decisión en el libro de la pasarela simulada (un cobro o un rechazo). */
export async function plantarCargo(bd: ConsultorPostgres, c: CargoPlantado): Promise<void> {
  await bd.query(
    `INSERT INTO pasarela_simulada.cargos (clave_idempotencia, id_pago, resultado, referencia_transaccion, mensaje, unidades_menores, moneda, intentos, id_correlacion)
     VALUES ($1, $2, $3, $4, $5, 1050, 'USD', 1, 'corr')`,
    [c.clave, c.idPago, c.resultado, c.transaccion, c.mensaje ?? null],
  );
}

/** Un mensaje en la cola (o en mensajes muertos) del broker embebido para un evento del outbox. */
export async function plantarMensaje(
  bd: ConsultorPostgres,
  m: { readonly donde: 'cola' | 'muertos'; readonly clave: string; readonly idEvento?: string; readonly suscripcion?: string },
): Promise<void> {
  const propiedades = JSON.stringify(m.idEvento ? { id_evento: m.idEvento } : {});
  const suscripcion = `(SELECT id FROM broker.suscripciones WHERE nombre = $3)`;
  const valores = [m.clave, propiedades, m.suscripcion ?? SUSCRIPCION_POR_DEFECTO];
  if (m.donde === 'cola') {
    await bd.query(
      `INSERT INTO broker.mensajes (id_suscripcion, clave, productor, secuencia, cuerpo, propiedades) VALUES (${suscripcion}, $1, 'plantado', 1, '{}', $2)`,
      valores,
    );
  } else {
    await bd.query(
      `INSERT INTO broker.muertos (id, id_suscripcion, clave, productor, secuencia, cuerpo, propiedades, entregas, publicado_en, motivo)
       VALUES ((SELECT coalesce(max(id), 0) + 1 FROM broker.muertos), ${suscripcion}, $1, 'plantado', 1, '{}', $2, 1, now(), 'plantado')`,
      valores,
    );
  }
}
