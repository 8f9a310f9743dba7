import { randomUUID } from 'node:crypto';
import { migrarBroker, prepararPasarelaSimulada } from '@aeropartners/adaptadores';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { comprobarExactamenteUnaVez, describirViolaciones, type OpcionesComprobacion } from './comprobar.js';
import { plantarCargo, plantarHistorial, plantarMensaje, plantarPago, type EstadoFinal, type PagoPlantado } from './plantar.js';
import { REGLAS_CON_PAGOS_FINALES, TODAS_LAS_REGLAS } from './reglas.js';

/**
 * El comprobador contra un PostgreSQL real: una corrida sana plantada fila a fila lo pasa; cada defecto
 * plantado (cobro doble, cobro en un FALLIDO, pago incierto, evento perdido…) lo hace fallar nombrando el
 * id culpable, y solo ese.
 */

const SUSCRIPCION = 'consumidor-pagos';

let base: BaseDePrueba;
let pool: pg.Pool;
/** El socio de cada test (nuevo en cada uno, como los de una corrida del experimento). */
let socio: string;

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
beforeEach(async () => {
  // Cada test, su propia corrida; lo global (outbox pendiente, cola, muertos, cobros huérfanos) empieza limpio.
  socio = `exp-${randomUUID().slice(0, 8)}`;
  await pool.query(`UPDATE outbox SET fecha_publicacion = now() WHERE fecha_publicacion IS NULL`);
  await pool.query(`DELETE FROM broker.mensajes`);
  await pool.query(`DELETE FROM broker.muertos`);
  await pool.query(`DELETE FROM pasarela_simulada.cargos c WHERE NOT EXISTS (SELECT 1 FROM pagos p WHERE p.id = c.id_pago)`);
});

const plantar = (n: number, estado: EstadoFinal = 'EXITOSO', ms = 800) =>
  plantarPago(pool, { idSocio: socio, referencia: `ref-${n}`, estado, ms });

const comprobar = (extra: Partial<OpcionesComprobacion> = {}) =>
  comprobarExactamenteUnaVez(pool, {
    pagos: { tipo: 'socios', socios: [socio] },
    suscripcion: SUSCRIPCION,
    plazoMs: 60_000,
    desde: new Date(Date.now() - 5_000),
    ...extra,
  });

/** Las reglas incumplidas, con sus ids. */
async function incumplidas(extra: Partial<OpcionesComprobacion> = {}): Promise<Record<string, readonly string[]>> {
  const v = await comprobar(extra);
  return Object.fromEntries(v.violaciones.map((x) => [x.regla, x.ids]));
}

const idsDe = (pagos: readonly PagoPlantado[]) => pagos.map((p) => p.id);

describe('comprobador de «exactamente una vez»', () => {
  it('una corrida sana (éxitos y rechazos) pasa todas las reglas, con sus cifras', async () => {
    await plantar(1);
    await plantar(2, 'FALLIDO', 1500);
    await plantar(3);
    const v = await comprobar();
    expect(v.violaciones).toEqual([]);
    expect(v.aprobada).toBe(true);
    expect(v.pagos).toBe(3);
    expect(v.porEstado).toEqual({ EXITOSO: 2, FALLIDO: 1 });
    expect(v.reglas.map((r) => r.regla)).toEqual(TODAS_LAS_REGLAS);
    expect(v.reglas.every((r) => r.violaciones === 0)).toBe(true);
    expect(v.latenciaFinalMs).toEqual({ p50: 800, p99: 1500, max: 1500 });
  });

  it('por ids, con las reglas de pagos finales: las del drenaje ni se evalúan', async () => {
    const pagos = [await plantar(1), await plantar(2, 'FALLIDO')];
    await pool.query(`UPDATE outbox SET fecha_publicacion = NULL WHERE id_evento = $1`, [pagos[1]?.eventos.desenlace]);
    const v = await comprobarExactamenteUnaVez(pool, { pagos: { tipo: 'ids', ids: idsDe(pagos) }, reglas: REGLAS_CON_PAGOS_FINALES });
    expect(v.violaciones).toEqual([]);
    expect(v.pagos).toBe(2);
    expect(v.reglas.map((r) => r.regla)).toEqual(REGLAS_CON_PAGOS_FINALES);
    // Con todas, el desenlace sin publicar sí se señala.
    const todas = await comprobarExactamenteUnaVez(pool, { pagos: { tipo: 'ids', ids: idsDe(pagos) } });
    expect(todas.violaciones.map((x) => [x.regla, x.ids])).toEqual([['outbox-vacio', [pagos[1]?.id]]]);
  });

  it('un cobro doble (dos cargos del mismo pago con claves distintas) falla nombrando el pago, y solo ese', async () => {
    const sano = await plantar(1);
    const doble = await plantar(2);
    await plantarCargo(pool, { clave: `${doble.id}-otra-clave`, idPago: doble.id, resultado: 'exitoso', transaccion: 'ch_bis' });
    const fallo = await incumplidas();
    expect(fallo['cargo-unico']).toEqual([doble.id]);
    expect(fallo['exitoso-con-su-cargo']).toEqual([doble.id]);
    expect(Object.values(fallo).flat()).not.toContain(sano.id);
    expect(describirViolaciones((await comprobar()).violaciones)).toMatch(new RegExp(`^cargo-unico \\(1\\): .*${doble.id}`, 'm'));
  });

  it('regla nueva: un pago FALLIDO con un cobro en el libro falla nombrando el pago', async () => {
    await plantar(1, 'FALLIDO');
    const cobrado = await plantar(2, 'FALLIDO');
    // El dinero se movió (respuesta perdida tras cobrar) y aun así el pago se dio por fallido.
    await pool.query(`DELETE FROM pasarela_simulada.cargos WHERE id_pago = $1`, [cobrado.id]);
    await plantarCargo(pool, { clave: cobrado.id, idPago: cobrado.id, resultado: 'exitoso', transaccion: 'ch_perdido' });
    const fallo = await incumplidas();
    expect(fallo['fallido-sin-cargo']).toEqual([cobrado.id]);
    expect(fallo['cargo-de-exitoso']).toEqual([cobrado.id]);
    expect(fallo['fallido-por-rechazo']).toEqual([cobrado.id]);
  });

  it('regla nueva: el pago de cada cobro es EXITOSO — un cobro de un pago PROCESANDO o inexistente falla', async () => {
    await plantar(1);
    const procesando = await plantar(2, 'FALLIDO');
    await pool.query(`DELETE FROM pasarela_simulada.cargos WHERE id_pago = $1`, [procesando.id]);
    await pool.query(`UPDATE pagos SET estado = 'PROCESANDO', version = 2, mensaje_error = NULL WHERE id = $1`, [procesando.id]);
    await plantarCargo(pool, { clave: procesando.id, idPago: procesando.id, resultado: 'exitoso', transaccion: 'ch_sin_cerrar' });
    const fantasma = randomUUID();
    await plantarCargo(pool, { clave: fantasma, idPago: fantasma, resultado: 'exitoso', transaccion: 'ch_fantasma' });
    const fallo = await incumplidas();
    expect(fallo['cargo-de-exitoso']).toEqual([procesando.id, fantasma].sort());
    expect(fallo['fallido-sin-cargo']).toBeUndefined();
  });

  it('un FALLIDO sin su rechazo en el libro, o con otro mensaje, falla: un FALLIDO viene siempre de un rechazo definitivo', async () => {
    const sinRechazo = await plantar(1, 'FALLIDO');
    const otroMensaje = await plantar(2, 'FALLIDO');
    await plantar(3, 'FALLIDO');
    await pool.query(`DELETE FROM pasarela_simulada.cargos WHERE id_pago = $1`, [sinRechazo.id]);
    await pool.query(`UPDATE pagos SET mensaje_error = 'La pasarela no respondió tras 4 intentos' WHERE id = $1`, [otroMensaje.id]);
    const fallo = await incumplidas();
    expect(fallo['fallido-por-rechazo']).toEqual([sinRechazo.id, otroMensaje.id].sort());
  });

  it('regla nueva: un pago incierto (PENDIENTE o PROCESANDO) tras el drenaje falla nombrando el pago', async () => {
    await plantar(1);
    const procesando = await plantar(2);
    const pendiente = await plantar(3, 'FALLIDO');
    await pool.query(`UPDATE pagos SET estado = 'PROCESANDO', version = 2, referencia_transaccion = NULL WHERE id = $1`, [procesando.id]);
    await pool.query(`UPDATE pagos SET estado = 'PENDIENTE', version = 1, mensaje_error = NULL WHERE id = $1`, [pendiente.id]);
    const fallo = await incumplidas();
    expect(fallo['ninguno-incierto']).toEqual([procesando.id, pendiente.id].sort());
    // Su historial dice final v3 y el pago no: también se señala.
    expect(fallo['historial-coincide']).toEqual([procesando.id, pendiente.id].sort());
  });

  it('regla nueva: un evento marcado publicado que no está en el inbox, ni en la cola, ni en mensajes muertos falla', async () => {
    await plantar(1);
    const perdido = await plantar(2);
    const enCola = await plantar(3);
    const muerto = await plantar(4);
    await pool.query(`DELETE FROM inbox WHERE id_evento = ANY($1::uuid[])`, [
      [perdido.eventos.desenlace, enCola.eventos.desenlace, muerto.eventos.desenlace],
    ]);
    // El de la cola aún se entregará y el muerto está apartado: no son pérdidas, aunque no estén consumidos.
    await plantarMensaje(pool, { donde: 'cola', clave: enCola.id, idEvento: enCola.eventos.desenlace });
    await plantarMensaje(pool, { donde: 'muertos', clave: muerto.id, idEvento: muerto.eventos.desenlace });
    const fallo = await incumplidas();
    expect(fallo['publicado-entregado']).toEqual([perdido.id]);
    expect(fallo['evento-consumido']).toEqual([perdido.id, enCola.id, muerto.id].sort());
    // Vale también antes del drenaje: está entre las reglas de pagos finales.
    const antes = await comprobarExactamenteUnaVez(pool, {
      pagos: { tipo: 'ids', ids: [perdido.id, enCola.id] },
      reglas: REGLAS_CON_PAGOS_FINALES,
    });
    expect(antes.violaciones.map((x) => [x.regla, x.ids])).toEqual([['publicado-entregado', [perdido.id]]]);
  });

  it('un evento consumido que nunca se publicó (sin inbox) no es «publicado-entregado» sino outbox pendiente', async () => {
    const pendiente = await plantar(1);
    await pool.query(`UPDATE outbox SET fecha_publicacion = NULL WHERE id_evento = $1`, [pendiente.eventos.desenlace]);
    await pool.query(`DELETE FROM inbox WHERE id_evento = $1`, [pendiente.eventos.desenlace]);
    const fallo = await incumplidas();
    expect(fallo['publicado-entregado']).toBeUndefined();
    expect(fallo['outbox-vacio']).toEqual([pendiente.id]);
    expect(fallo['evento-consumido']).toEqual([pendiente.id]);
  });

  it('un evento de desenlace que falta, se repite o lleva otra versión falla', async () => {
    const sinEvento = await plantar(1);
    const repetido = await plantar(2, 'FALLIDO');
    const otraVersion = await plantar(3);
    await plantar(4);
    await pool.query(`DELETE FROM outbox WHERE id_evento = $1`, [sinEvento.eventos.desenlace]);
    await pool.query(
      `INSERT INTO outbox (id_evento, id_agregado, version_agregado, tipo, payload, fecha_publicacion) VALUES ($1, $2, 3, 'PagoFallido', '{}', now())`,
      [randomUUID(), repetido.id],
    );
    await pool.query(`UPDATE outbox SET version_agregado = 2 WHERE id_evento = $1`, [otraVersion.eventos.desenlace]);
    const fallo = await incumplidas();
    expect(fallo['eventos-del-pago']).toEqual([sinEvento.id, repetido.id, otraVersion.id].sort());
  });

  it('un historial que retrocede o salta de versión falla', async () => {
    const pago = await plantar(1);
    const otro = await plantar(2);
    await plantarHistorial(pool, pago.id, [['PROCESANDO', 4, new Date()]]);
    await pool.query(`UPDATE pagos SET version = 4 WHERE id = $1`, [pago.id]);
    await plantarHistorial(pool, otro.id, [['EXITOSO', 5, new Date(0)]]);
    await pool.query(`UPDATE pagos SET version = 5 WHERE id = $1`, [otro.id]);
    const fallo = await incumplidas();
    expect(fallo['historial-monotono']).toEqual([pago.id, otro.id].sort());
  });

  it('dos pagos con la misma referencia fallan nombrando la referencia y los dos ids', async () => {
    const uno = await plantar(1);
    const id = randomUUID();
    await pool.query(
      `INSERT INTO pagos (id, id_socio, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version, fecha_creacion, fecha_actualizacion)
       VALUES ($1, $2, $3, 'afiliado-1', 1050, 'USD', $4, 'EXITOSO', 3, now(), now())`,
      [id, socio, `otra-clave-${id}`, uno.referencia],
    );
    const fallo = await incumplidas();
    expect(fallo['una-referencia-un-pago']).toEqual([`${socio} · ${uno.referencia}: ${[uno.id, id].sort().join(', ')}`]);
  });

  it('la misma referencia de un socio en los modos live y test son dos pagos; dos en el mismo modo, no', async () => {
    const live = await plantar(1);
    // plantarPago no dice el modo (la columna lo pone en live) y usa la referencia como clave de idempotencia.
    const test = await plantarPago(pool, { idSocio: socio, referencia: 'ref-1-test' });
    await pool.query(`UPDATE pagos SET modo = 'test', referencia_pago = $2 WHERE id = $1`, [test.id, live.referencia]);
    expect((await incumplidas())['una-referencia-un-pago']).toBeUndefined();
    await pool.query(`UPDATE pagos SET modo = 'live' WHERE id = $1`, [test.id]);
    expect((await incumplidas())['una-referencia-un-pago']).toEqual([`${socio} · ref-1: ${[live.id, test.id].sort().join(', ')}`]);
  });

  it('la misma referencia en dos socios son dos pagos legítimos; el ámbito son los pagos de sus socios y solo esos', async () => {
    const otro = `${socio}-b`;
    const deA = await plantar(1);
    const deB = await plantarPago(pool, { idSocio: otro, referencia: deA.referencia });
    const v = await comprobarExactamenteUnaVez(pool, { pagos: { tipo: 'socios', socios: [socio, otro] }, suscripcion: SUSCRIPCION });
    expect(v.violaciones).toEqual([]);
    expect(v.pagos).toBe(2);
    // Un defecto de un socio fuera del ámbito no cuenta; dentro, sí.
    await pool.query(`UPDATE pagos SET estado = 'PROCESANDO', version = 2, referencia_transaccion = NULL WHERE id = $1`, [deB.id]);
    expect((await incumplidas())['ninguno-incierto']).toBeUndefined();
    const ambos = await comprobarExactamenteUnaVez(pool, { pagos: { tipo: 'socios', socios: [socio, otro] }, suscripcion: SUSCRIPCION });
    expect(ambos.violaciones.find((x) => x.regla === 'ninguno-incierto')?.ids).toEqual([deB.id]);
  });

  it('un pago fuera de plazo, la cola sin vaciar y un mensaje muerto no inyectado fallan', async () => {
    const lento = await plantar(1, 'EXITOSO', 120_000);
    const veneno = `veneno-${socio}`;
    const ajeno = randomUUID();
    await plantarMensaje(pool, { donde: 'muertos', clave: veneno });
    await plantarMensaje(pool, { donde: 'muertos', clave: ajeno });
    await plantarMensaje(pool, { donde: 'cola', clave: lento.id, idEvento: randomUUID() });
    const fallo = await incumplidas({ venenos: [veneno, 'veneno-que-nunca-murio'] });
    expect(fallo['dentro-del-plazo']).toEqual([lento.id]);
    expect(fallo['cola-vacia']).toEqual([lento.id]);
    expect(fallo['mensajes-muertos']).toEqual([ajeno, 'veneno-que-nunca-murio (veneno inyectado que no llegó a mensajes muertos)']);
  });

  it('sin libro de la pasarela ni broker embebido (Stripe, Pulsar), sus reglas no se evalúan y lo dicen', async () => {
    const otra = await crearBaseDePrueba();
    const solo = new pg.Pool({ connectionString: otra.url, max: 1 });
    try {
      const v = await comprobarExactamenteUnaVez(solo, { pagos: { tipo: 'ids', ids: [] } });
      const sinEvaluar = Object.fromEntries(v.reglas.filter((r) => r.violaciones === undefined).map((r) => [r.regla, r.nota]));
      expect(Object.keys(sinEvaluar).sort()).toEqual(
        [
          'cargo-unico',
          'exitoso-con-su-cargo',
          'fallido-sin-cargo',
          'fallido-por-rechazo',
          'cargo-de-exitoso',
          'publicado-entregado',
          'cola-vacia',
          'mensajes-muertos',
          'dentro-del-plazo',
        ].sort(),
      );
      expect(sinEvaluar['cargo-unico']).toMatch(/sin libro de la pasarela simulada/);
      expect(sinEvaluar['publicado-entregado']).toMatch(/sin broker embebido/);
      expect(v.aprobada).toBe(true);
      expect(v.pagos).toBe(0);
    } finally {
      await solo.end();
      await otra.cerrar();
    }
  });
});
