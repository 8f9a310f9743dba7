import { randomUUID } from 'node:crypto';
import { migrarBroker, prepararPasarelaSimulada } from '@aeropartners/adaptadores';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import { plantarCargo, plantarMensaje, plantarPago, type EstadoFinal, type PagoPlantado } from '@aeropartners/kit-pruebas';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DESCRIPCION_REGLAS, juzgar, type AmbitoVeredicto, type ObservacionFuera } from '../src/veredicto.js';

/**
 * El veredicto del experimento contra un PostgreSQL real: una corrida sana plantada fila a fila aprueba;
 * cada defecto plantado —desde fuera (lo que respondió la API) o desde dentro (el comprobador común, con
 * las reglas nuevas de issue 9)— la suspende nombrando el id culpable. Las reglas de dentro tienen además
 * sus propios tests en `packages/kit-pruebas`.
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
beforeEach(async () => {
  // Cada test, su propia corrida; lo global (outbox, cola, muertos, cobros huérfanos) empieza limpio.
  prefijo = `exp-${randomUUID().slice(0, 8)}-`;
  await pool.query(`UPDATE outbox SET fecha_publicacion = now() WHERE fecha_publicacion IS NULL`);
  await pool.query(`DELETE FROM broker.mensajes`);
  await pool.query(`DELETE FROM broker.muertos`);
});

const plantar = (n: number, estado: EstadoFinal = 'EXITOSO') =>
  plantarPago(pool, { idSocio: SOCIO, referencia: `${prefijo}s1-${n}`, estado });

const ambito = (extra: Partial<AmbitoVeredicto> = {}): AmbitoVeredicto => ({
  idSocio: SOCIO,
  prefijo,
  suscripcion: SUSCRIPCION,
  desde: new Date(Date.now() - 5_000),
  plazoMs: 60_000,
  venenos: [],
  ...extra,
});

const fueraDe = (pagos: readonly PagoPlantado[]): Map<string, ObservacionFuera> =>
  new Map(pagos.map((p) => [p.referencia, { ids: new Set([p.id]), aceptada: true }]));

/** Las reglas incumplidas, con sus ids. */
async function incumplidas(extra: Partial<AmbitoVeredicto> = {}) {
  const v = await juzgar(pool, ambito(extra));
  expect(v.aprobado).toBe(v.violaciones.length === 0);
  return Object.fromEntries(v.violaciones.map((x) => [x.regla, x.ids]));
}

describe('veredicto', () => {
  it('una corrida sana (éxitos y rechazos) aprueba todas las reglas, de fuera y de dentro', async () => {
    const pagos = [await plantar(1), await plantar(2, 'FALLIDO'), await plantar(3)];
    const v = await juzgar(pool, ambito({ fuera: fueraDe(pagos), venenos: [] }));
    expect(v.violaciones).toEqual([]);
    expect(v.aprobado).toBe(true);
    expect(v.pagos).toBe(3);
    expect(v.porEstado).toEqual({ EXITOSO: 2, FALLIDO: 1 });
    expect(v.reglas.map((r) => r.regla).sort()).toEqual(Object.keys(DESCRIPCION_REGLAS).sort());
    expect(v.reglas.every((r) => r.violaciones === 0)).toBe(true);
  });

  it('las reglas nuevas de issue 9 suspenden el veredicto, cada una nombrando su pago', async () => {
    const sano = await plantar(1);
    // Un FALLIDO cuyo dinero sí se movió (respuesta perdida tras cobrar y aun así dado por fallido).
    const fallidoCobrado = await plantar(2, 'FALLIDO');
    await pool.query(`DELETE FROM pasarela_simulada.cargos WHERE id_pago = $1`, [fallidoCobrado.id]);
    await plantarCargo(pool, { clave: fallidoCobrado.id, idPago: fallidoCobrado.id, resultado: 'exitoso', transaccion: 'ch_perdido' });
    // Un pago que se quedó incierto tras el drenaje, con un cobro ya hecho.
    const incierto = await plantar(3);
    await pool.query(`UPDATE pagos SET estado = 'PROCESANDO', version = 2, referencia_transaccion = NULL WHERE id = $1`, [incierto.id]);
    // Un evento marcado publicado que no está en el inbox, ni en la cola, ni en mensajes muertos.
    const perdido = await plantar(4);
    await pool.query(`DELETE FROM inbox WHERE id_evento = $1`, [perdido.eventos.desenlace]);
    // Uno sin consumir pero aún en la cola: no es una pérdida (aunque la cola sin vaciar también suspende).
    const enCola = await plantar(5);
    await pool.query(`DELETE FROM inbox WHERE id_evento = $1`, [enCola.eventos.desenlace]);
    await plantarMensaje(pool, { donde: 'cola', clave: enCola.id, idEvento: enCola.eventos.desenlace });

    const fallo = await incumplidas({ fuera: fueraDe([sano, fallidoCobrado, incierto, perdido, enCola]) });
    expect(fallo['fallido-sin-cargo']).toEqual([fallidoCobrado.id]);
    expect(fallo['cargo-de-exitoso']).toEqual([fallidoCobrado.id, incierto.id].sort());
    expect(fallo['ninguno-incierto']).toEqual([incierto.id]);
    expect(fallo['publicado-entregado']).toEqual([perdido.id]);
    expect(fallo['cola-vacia']).toEqual([enCola.id]);
    expect(Object.values(fallo).flat()).not.toContain(sano.id);
  });

  it('un cobro doble y un mensaje muerto no inyectado la suspenden', async () => {
    await plantar(1);
    const doble = await plantar(2);
    await plantarCargo(pool, { clave: `${doble.id}-otra-clave`, idPago: doble.id, resultado: 'exitoso', transaccion: 'ch_bis' });
    const ajeno = randomUUID();
    await plantarMensaje(pool, { donde: 'muertos', clave: ajeno });
    const fallo = await incumplidas();
    expect(fallo['cargo-unico']).toEqual([doble.id]);
    expect(fallo['mensajes-muertos']).toEqual([ajeno]);
  });

  it('desde fuera: ids contradictorios, conflicto aceptado, réplica tardía no reconocida, referencia perdida o no pedida', async () => {
    const a = await plantar(1);
    const b = await plantar(2);
    const c = await plantar(3);
    const noPedido = await plantar(4);
    const otroId = randomUUID();
    const fuera = new Map<string, ObservacionFuera>([
      [a.referencia, { ids: new Set([a.id, otroId]), aceptada: true, estadoConflicto: 200 }],
      [b.referencia, { ids: new Set([b.id]), aceptada: true, tardia: { estado: 200, replay: false, idPago: b.id } }],
      [c.referencia, { ids: new Set([c.id]), aceptada: true, estadoConflicto: 422, tardia: { estado: 200, replay: true, idPago: c.id } }],
      [`${prefijo}s1-99`, { ids: new Set(), aceptada: false }],
      [`${prefijo}s1-98`, { ids: new Set([randomUUID()]), aceptada: true }],
    ]);
    const fallo = await incumplidas({ fuera });
    expect(fallo['respuestas-coherentes']).toEqual([`${a.referencia}: respuestas ${a.id}, ${otroId}; base ${a.id}`]);
    expect(fallo['conflicto-rechazado']).toEqual([`${a.referencia}: 200`]);
    expect(fallo['replica-tardia-reconocida']).toEqual([`${b.referencia}: 200 ${b.id}`]);
    expect(fallo['pago-no-aceptado']).toEqual([`${prefijo}s1-99`, `${prefijo}s1-98: aceptada y sin pago en la base`]);
    expect(fallo['pago-no-pedido']).toEqual([noPedido.id]);
  });
});
