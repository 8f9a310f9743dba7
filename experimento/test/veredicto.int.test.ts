import { randomUUID } from 'node:crypto';
import { migrarBroker, prepararPasarelaSimulada } from '@aeropartners/adaptadores';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { juzgar, type AmbitoVeredicto, type ObservacionFuera } from '../src/veredicto.js';

/**
 * El veredicto, probado contra un PostgreSQL real: una corrida sana plantada fila a fila aprueba; cada
 * defecto plantado (cobro doble, pago atascado, evento perdido…) la suspende nombrando el id culpable.
 */

const SOCIO = 'aeropartners';
const SUSCRIPCION = 'consumidor-pagos';

let base: BaseDePrueba;
let pool: pg.Pool;
let prefijo: string;

beforeAll(async () => {
  base = await crearBaseDePrueba();
  pool = new pg.Pool({ connectionString: base.url, max: 3 });
  await prepararPasarelaSimulada(pool);
  await migrarBroker(pool);
  await pool.query(`INSERT INTO broker.suscripciones (topico, nombre) VALUES ('pagos', $1)`, [SUSCRIPCION]);
});
afterAll(async () => {
  await pool?.end();
  await base?.cerrar();
});
beforeEach(() => {
  // Cada test, su propia corrida: las demás filas de la base no son de su ámbito.
  prefijo = `exp-${randomUUID().slice(0, 8)}-`;
});

type Final = 'EXITOSO' | 'FALLIDO';

interface Plantado {
  readonly id: string;
  readonly referencia: string;
  readonly eventos: { readonly pendiente: string; readonly desenlace: string };
}

/** Un pago que pasó por todo el pipeline como debe: pago, 2 eventos publicados y consumidos, historial y cargo. */
async function plantarPago(n: number, estado: Final = 'EXITOSO', ms = 800): Promise<Plantado> {
  const id = randomUUID();
  const referencia = `${prefijo}s1-${n}`;
  const creado = new Date(Date.now() - 60_000);
  const final = new Date(creado.getTime() + ms);
  const transaccion = estado === 'EXITOSO' ? `tr_${n}` : null;
  const mensaje = estado === 'FALLIDO' ? 'fondos insuficientes' : null;
  await pool.query(
    `INSERT INTO pagos (id, id_socio, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version,
                        fecha_creacion, fecha_actualizacion, fecha_procesamiento, referencia_transaccion, mensaje_error)
     VALUES ($1, $2, $3, 'afiliado-1', 1050, 'USD', $3, $4, 3, $5, $6, $6, $7, $8)`,
    [id, SOCIO, referencia, estado, creado, final, transaccion, mensaje],
  );
  const pendiente = randomUUID();
  const desenlace = randomUUID();
  const tipoFinal = estado === 'EXITOSO' ? 'PagoExitoso' : 'PagoFallido';
  await pool.query(
    `INSERT INTO outbox (id_evento, id_agregado, version_agregado, tipo, payload, fecha_publicacion)
     VALUES ($1, $3, 1, 'PagoPendiente', '{}', now()), ($2, $3, 3, $4, '{}', now())`,
    [pendiente, desenlace, id, tipoFinal],
  );
  await pool.query(
    `INSERT INTO inbox (suscripcion, id_evento, id_pago, tipo_evento, version)
     VALUES ($1, $2, $4, 'PagoPendiente', 1), ($1, $3, $4, $5, 3)`,
    [SUSCRIPCION, pendiente, desenlace, id, tipoFinal],
  );
  await plantarHistorial(id, [
    ['PENDIENTE', 1, creado],
    ['PROCESANDO', 2, new Date(creado.getTime() + 10)],
    [estado, 3, final],
  ]);
  await plantarCargo(id, id, estado === 'EXITOSO' ? 'exitoso' : 'rechazado', transaccion, mensaje);
  return { id, referencia, eventos: { pendiente, desenlace } };
}

async function plantarHistorial(id: string, entradas: readonly (readonly [string, number, Date])[]): Promise<void> {
  for (const [estado, version, cuando] of entradas) {
    await pool.query(
      `INSERT INTO historial_pagos (id_pago, version, estado, tipo_evento, id_evento, ocurrido_en, id_correlacion)
       VALUES ($1, $2, $3, 'Pago' || initcap($3), $4, $5, 'corr')`,
      [id, version, estado, randomUUID(), cuando],
    );
  }
}

async function plantarCargo(clave: string, idPago: string, resultado: 'exitoso' | 'rechazado', transaccion: string | null, mensaje: string | null = null) {
  await pool.query(
    `INSERT INTO pasarela_simulada.cargos (clave_idempotencia, id_pago, resultado, referencia_transaccion, mensaje, unidades_menores, moneda, intentos, id_correlacion)
     VALUES ($1, $2, $3, $4, $5, 1050, 'USD', 1, 'corr')`,
    [clave, idPago, resultado, transaccion, mensaje],
  );
}

const ambito = (extra: Partial<AmbitoVeredicto> = {}): AmbitoVeredicto => ({
  idSocio: SOCIO,
  prefijo,
  suscripcion: SUSCRIPCION,
  desde: new Date(Date.now() - 5_000),
  plazoMs: 60_000,
  venenos: [],
  ...extra,
});

const fueraDe = (pagos: readonly Plantado[]): Map<string, ObservacionFuera> =>
  new Map(pagos.map((p) => [p.referencia, { ids: new Set([p.id]), aceptada: true }]));

/** Las reglas incumplidas, con sus ids. */
async function incumplidas(extra: Partial<AmbitoVeredicto> = {}) {
  const v = await juzgar(pool, ambito(extra));
  return Object.fromEntries(v.violaciones.map((x) => [x.regla, x.ids]));
}

describe('veredicto', () => {
  it('una corrida sana (éxitos y rechazos) aprueba todas las reglas', async () => {
    const pagos = [await plantarPago(1), await plantarPago(2, 'FALLIDO'), await plantarPago(3)];
    const v = await juzgar(pool, ambito({ fuera: fueraDe(pagos) }));
    expect(v.violaciones).toEqual([]);
    expect(v.aprobado).toBe(true);
    expect(v.pagos).toBe(3);
    expect(v.porEstado).toEqual({ EXITOSO: 2, FALLIDO: 1 });
    expect(v.reglas.every((r) => r.violaciones === 0)).toBe(true);
  });

  it('un cobro doble (dos cargos del mismo pago con claves distintas) la suspende nombrando el pago', async () => {
    const sano = await plantarPago(1);
    const doble = await plantarPago(2);
    await plantarCargo(`${doble.id}-otra-clave`, doble.id, 'exitoso', 'tr_bis');
    const fallo = await incumplidas({ fuera: fueraDe([sano, doble]) });
    expect(fallo['cargo-unico']).toEqual([doble.id]);
    expect(fallo['exitoso-con-un-cargo']).toEqual([doble.id]);
    expect(Object.values(fallo).flat()).not.toContain(sano.id);
  });

  it('un pago atascado en PROCESANDO la suspende', async () => {
    await plantarPago(1);
    const atascado = await plantarPago(2);
    await pool.query(`UPDATE pagos SET estado = 'PROCESANDO', version = 2 WHERE id = $1`, [atascado.id]);
    await pool.query(`DELETE FROM outbox WHERE id_evento = $1`, [atascado.eventos.desenlace]);
    await pool.query(`DELETE FROM pasarela_simulada.cargos WHERE id_pago = $1`, [atascado.id]);
    const fallo = await incumplidas();
    expect(fallo['estado-final']).toEqual([atascado.id]);
    // Su historial dice EXITOSO v3 y el pago PROCESANDO v2: también se señala.
    expect(fallo['historial-coincide']).toEqual([atascado.id]);
  });

  it('un evento perdido (publicado pero nunca consumido) la suspende, y también el pago que se quedó PENDIENTE', async () => {
    await plantarPago(1);
    const perdido = await plantarPago(2);
    await pool.query(`UPDATE pagos SET estado = 'PENDIENTE', version = 1, referencia_transaccion = NULL WHERE id = $1`, [perdido.id]);
    await pool.query(`DELETE FROM outbox WHERE id_evento = $1`, [perdido.eventos.desenlace]);
    await pool.query(`DELETE FROM inbox WHERE id_evento = $1`, [perdido.eventos.pendiente]);
    await pool.query(`DELETE FROM pasarela_simulada.cargos WHERE id_pago = $1`, [perdido.id]);
    const fallo = await incumplidas();
    expect(fallo['evento-consumido']).toEqual([perdido.id]);
    expect(fallo['estado-final']).toEqual([perdido.id]);
  });

  it('un evento de desenlace que falta en el outbox, o uno repetido, la suspende', async () => {
    const sinEvento = await plantarPago(1);
    const repetido = await plantarPago(2, 'FALLIDO');
    await pool.query(`DELETE FROM outbox WHERE id_evento = $1`, [sinEvento.eventos.desenlace]);
    await pool.query(
      `INSERT INTO outbox (id_evento, id_agregado, version_agregado, tipo, payload, fecha_publicacion) VALUES ($1, $2, 3, 'PagoFallido', '{}', now())`,
      [randomUUID(), repetido.id],
    );
    const fallo = await incumplidas();
    expect(new Set(fallo['eventos-del-pago'])).toEqual(new Set([sinEvento.id, repetido.id]));
  });

  it('un cobro en un pago FALLIDO y un cargo de un pago que no existe la suspenden', async () => {
    const fallido = await plantarPago(1, 'FALLIDO');
    await pool.query(`DELETE FROM pasarela_simulada.cargos WHERE id_pago = $1`, [fallido.id]);
    await plantarCargo(fallido.id, fallido.id, 'exitoso', 'tr_indebida');
    const fantasma = randomUUID();
    await plantarCargo(fantasma, fantasma, 'exitoso', 'tr_fantasma');
    const fallo = await incumplidas();
    expect(fallo['cargo-sin-exito']).toEqual([fallido.id]);
    expect(fallo['cargo-huerfano']).toContain(fantasma);
    await pool.query(`DELETE FROM pasarela_simulada.cargos WHERE id_pago = $1`, [fantasma]);
  });

  it('un historial que retrocede o salta de versión la suspende', async () => {
    const pago = await plantarPago(1);
    const otro = await plantarPago(2);
    // Un PROCESANDO v4 después del final: salta de EXITOSO a PROCESANDO.
    await plantarHistorial(pago.id, [['PROCESANDO', 4, new Date()]]);
    await pool.query(`UPDATE pagos SET version = 4 WHERE id = $1`, [pago.id]);
    await plantarHistorial(otro.id, [['EXITOSO', 5, new Date(0)]]);
    await pool.query(`UPDATE pagos SET version = 5 WHERE id = $1`, [otro.id]);
    const fallo = await incumplidas();
    expect(new Set(fallo['historial-monotono'])).toEqual(new Set([pago.id, otro.id]));
  });

  it('un pago fuera de plazo, un evento sin publicar y un mensaje muerto no inyectado la suspenden', async () => {
    const lento = await plantarPago(1, 'EXITOSO', 120_000);
    const pendiente = await plantarPago(2);
    await pool.query(`UPDATE outbox SET fecha_publicacion = NULL WHERE id_evento = $1`, [pendiente.eventos.desenlace]);
    const { rows } = await pool.query<{ id: number }>(`SELECT id FROM broker.suscripciones WHERE nombre = $1`, [SUSCRIPCION]);
    const idSuscripcion = rows[0]?.id;
    const veneno = `veneno-${prefijo}`;
    const ajeno = randomUUID();
    await pool.query(
      `INSERT INTO broker.muertos (id, id_suscripcion, clave, productor, secuencia, cuerpo, propiedades, entregas, publicado_en, motivo)
       VALUES ($1, $3, $4, 'x', 1, '{}', '{}', 1, now(), 'veneno'), ($2, $3, $5, 'x', 2, '{}', '{}', 50, now(), 'agotadas')`,
      [Math.floor(Math.random() * 1e9), Math.floor(Math.random() * 1e9) + 1, idSuscripcion, veneno, ajeno],
    );
    const fallo = await incumplidas({ venenos: [veneno, 'veneno-que-nunca-murio'] });
    expect(fallo['dentro-del-plazo']).toEqual([lento.id]);
    expect(fallo['outbox-vacio']).toEqual([pendiente.id]);
    expect(fallo['mensajes-muertos']).toEqual([ajeno, 'veneno-que-nunca-murio (veneno inyectado que no llegó a mensajes muertos)']);
    await pool.query(`UPDATE outbox SET fecha_publicacion = now() WHERE fecha_publicacion IS NULL`);
    await pool.query(`DELETE FROM broker.muertos`);
  });

  it('desde fuera: ids contradictorios, conflicto aceptado, réplica tardía no reconocida, referencia perdida o no pedida', async () => {
    const a = await plantarPago(1);
    const b = await plantarPago(2);
    const c = await plantarPago(3);
    const noPedido = await plantarPago(4);
    const otroId = randomUUID();
    const fuera = new Map<string, ObservacionFuera>([
      [a.referencia, { ids: new Set([a.id, otroId]), aceptada: true, estadoConflicto: 200 }],
      [b.referencia, { ids: new Set([b.id]), aceptada: true, tardia: { estado: 200, replay: false, idPago: b.id } }],
      [c.referencia, { ids: new Set([c.id]), aceptada: true, estadoConflicto: 422, tardia: { estado: 200, replay: true, idPago: c.id } }],
      [`${prefijo}s1-99`, { ids: new Set(), aceptada: false }],
    ]);
    const fallo = await incumplidas({ fuera });
    expect(fallo['respuestas-coherentes']).toEqual([`${a.referencia}: respuestas ${a.id}, ${otroId}; base ${a.id}`]);
    expect(fallo['conflicto-rechazado']).toEqual([`${a.referencia}: 200`]);
    expect(fallo['replica-tardia-reconocida']).toEqual([`${b.referencia}: 200 ${b.id}`]);
    expect(fallo['pago-no-aceptado']).toEqual([`${prefijo}s1-99`]);
    expect(fallo['pago-no-pedido']).toEqual([noPedido.id]);
  });
});
