import { randomUUID } from 'node:crypto';
import { migrarBroker, prepararPasarelaSimulada } from '@aeropartners/adaptadores';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import { plantarCargo, plantarMensaje, plantarPago, type EstadoFinal, type PagoPlantado } from '@aeropartners/kit-pruebas';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DESCRIPCION_REGLAS,
  juzgar,
  type AmbitoVeredicto,
  type ConsultaObservada,
  type ObservacionFuera,
  type SuspensionObservada,
} from '../src/veredicto.js';

/**
 * El veredicto del experimento contra un PostgreSQL real: una corrida sana plantada fila a fila aprueba;
 * cada defecto plantado —desde fuera (lo que respondió la API) o desde dentro (el comprobador común)— la
 * suspende nombrando el culpable. Los socios comparten referencias: todo se juzga por (socio, referencia),
 * y las reglas del ámbito (issue 11) tienen cada una su violación plantada. Las reglas de dentro tienen
 * además sus propios tests en `packages/kit-pruebas`.
 */

const SUSCRIPCION = 'consumidor-pagos';

let base: BaseDePrueba;
let pool: pg.Pool;
/** Los socios de cada test (nuevos en cada uno, como los de una corrida). */
let A: string;
let B: string;
let C: string;

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
  const corrida = randomUUID().slice(0, 8);
  [A, B, C] = [`exp-${corrida}-s1`, `exp-${corrida}-s2`, `exp-${corrida}-s4`];
  await pool.query(`UPDATE outbox SET fecha_publicacion = now() WHERE fecha_publicacion IS NULL`);
  await pool.query(`DELETE FROM broker.mensajes`);
  await pool.query(`DELETE FROM broker.muertos`);
});

const plantar = (n: number, estado: EstadoFinal = 'EXITOSO', socio = A) =>
  plantarPago(pool, { idSocio: socio, referencia: `ref-${n}`, estado });

const ambito = (extra: Partial<AmbitoVeredicto> = {}): AmbitoVeredicto => ({
  socios: [A, B, C],
  suscripcion: SUSCRIPCION,
  desde: new Date(Date.now() - 5_000),
  plazoMs: 60_000,
  venenos: [],
  ...extra,
});

const aceptada = (p: PagoPlantado, extra: Partial<ObservacionFuera> = {}): [string, ObservacionFuera] => [
  p.referencia,
  { ids: new Set([p.id]), aceptada: true, ...extra },
];

/** Lo visto desde fuera: por socio, cada pago aceptado con su id. */
const fueraDe = (...porSocio: [string, readonly PagoPlantado[]][]) =>
  new Map(porSocio.map(([socio, pagos]) => [socio, new Map(pagos.map((p) => aceptada(p)))]));

/** Las reglas incumplidas, con sus ids. */
async function incumplidas(extra: Partial<AmbitoVeredicto> = {}) {
  const v = await juzgar(pool, ambito(extra));
  expect(v.aprobado).toBe(v.violaciones.length === 0);
  return Object.fromEntries(v.violaciones.map((x) => [x.regla, x.ids]));
}

/** Lecturas de muestreo sanas de `socio` sobre su pago y el de `otro` con la misma referencia. */
const lecturasSanas = (socio: string, suyo: PagoPlantado, otro: PagoPlantado): ConsultaObservada[] => [
  { socio, ruta: `/pagos/${suyo.id}`, esperado: 200, estado: 200, ids: [suyo.id], idPedido: suyo.id },
  { socio, ruta: `/pagos?referencia_pago=${suyo.referencia}`, esperado: 200, estado: 200, ids: [suyo.id], idPedido: suyo.id },
  { socio, ruta: '/pagos?limite=100', esperado: 200, estado: 200, ids: [suyo.id] },
  { socio, ruta: `/pagos/${otro.id}`, esperado: 404, estado: 404, ids: [] },
  { socio, ruta: `/pagos/${otro.id}/historial`, esperado: 404, estado: 404, ids: [] },
];

describe('veredicto', () => {
  it('una corrida sana (dos socios con las mismas referencias, uno suspendido a mitad) aprueba todas las reglas', async () => {
    const deA = [await plantar(1), await plantar(2, 'FALLIDO'), await plantar(3)];
    const deB = [await plantar(1, 'EXITOSO', B), await plantar(2, 'EXITOSO', B), await plantar(3, 'FALLIDO', B)];
    // C: el 1 antes de la suspensión; el 2 solo recibió 403; el 3, 200 perdido a propósito y después 403.
    const deC1 = await plantar(1, 'EXITOSO', C);
    const deC3 = await plantar(3, 'EXITOSO', C);
    const suspension: SuspensionObservada = {
      idSocio: C,
      confirmadaEnBase: new Date(),
      tras: [
        { referencia: 'ref-2', estado: 403, idPago: undefined },
        { referencia: 'ref-3', estado: 403, idPago: undefined },
        { referencia: 'ref-3', estado: 503, idPago: undefined },
      ],
    };
    const fuera = fueraDe([A, deA], [B, deB]);
    fuera.set(
      C,
      new Map([
        aceptada(deC1),
        ['ref-2', { ids: new Set(), aceptada: false, denegada: true }],
        ['ref-3', { ids: new Set(), aceptada: false, aceptadaSinLeer: true, denegada: true }],
      ]),
    );
    const consultas = [
      ...lecturasSanas(A, deA[0] as PagoPlantado, deB[0] as PagoPlantado),
      ...lecturasSanas(B, deB[2] as PagoPlantado, deC3),
    ];
    const v = await juzgar(pool, ambito({ fuera, suspension, consultas }));
    expect(v.violaciones).toEqual([]);
    expect(v.aprobado).toBe(true);
    expect(v.pagos).toBe(8);
    expect(v.porEstado).toEqual({ EXITOSO: 6, FALLIDO: 2 });
    expect(v.reglas.map((r) => r.regla).sort()).toEqual(Object.keys(DESCRIPCION_REGLAS).sort());
    expect(v.reglas.length).toBe(25);
    expect(v.reglas.every((r) => r.violaciones === 0)).toBe(true);
  });

  it('sin socio suspendido (menos de 4 socios), las reglas de la suspensión no se evalúan y lo dicen', async () => {
    const pagos = [await plantar(1)];
    const v = await juzgar(pool, ambito({ fuera: fueraDe([A, pagos]) }));
    expect(v.aprobado).toBe(true);
    const sinEvaluar = v.reglas.filter((r) => r.violaciones === undefined).map((r) => [r.regla, r.nota]);
    expect(sinEvaluar).toEqual([
      ['suspension-rechaza', expect.stringMatching(/sin socio suspendido/)],
      ['suspension-sin-escrituras', expect.stringMatching(/sin socio suspendido/)],
    ]);
  });

  it('regla nueva: la misma referencia de dos socios con un solo pago, o con el pago del otro en la respuesta, la suspende', async () => {
    const deA = await plantar(1);
    // B envió la misma referencia y recibió el pago de A (un espacio de idempotencia compartido).
    const deA2 = await plantar(2);
    const deB2 = await plantar(2, 'EXITOSO', B);
    const sano = await plantar(3);
    const sanoB = await plantar(3, 'EXITOSO', B);
    const fuera = fueraDe([A, [deA, deA2, sano]], [B, [deB2, sanoB]]);
    fuera.get(B)?.set(deA.referencia, { ids: new Set([deA.id]), aceptada: true });
    // Y en la réplica tardía de la 2, B recibió el de A.
    fuera.get(B)?.set(deB2.referencia, { ids: new Set([deB2.id]), aceptada: true, tardia: { estado: 200, replay: true, idPago: deA2.id } });
    const fallo = await incumplidas({ fuera });
    expect(fallo['referencia-por-socio']).toEqual([
      `ref-1: no hay un pago distinto por socio; ${B} recibió ${deA.id} y su pago es — (base: ${A}=${deA.id}, ${B}=—)`,
      `ref-2: ${B} recibió ${deB2.id}, ${deA2.id} y su pago es ${deB2.id} (base: ${A}=${deA2.id}, ${B}=${deB2.id})`,
    ]);
    expect([...(fallo['ambito-del-socio'] ?? [])].sort()).toEqual([
      `${B} · ref-1: POST /pagos devolvió ${deA.id}, pago de ${A}`,
      `${B} · ref-2: POST /pagos devolvió ${deA2.id}, pago de ${A}`,
    ]);
    expect(fallo['pago-no-aceptado']).toEqual([`${B} · ref-1: aceptada y sin pago de ese socio en la base`]);
    expect(Object.values(fallo).flat().join(' ')).not.toContain('ref-3');
  });

  it('regla nueva: una lectura que trae el pago de otro socio, o no da 404 con el de otro, o no encuentra el propio, la suspende', async () => {
    const deA = await plantar(1);
    const deB = await plantar(1, 'EXITOSO', B);
    const fuera = fueraDe([A, [deA]], [B, [deB]]);
    const consultas: ConsultaObservada[] = [
      ...lecturasSanas(A, deA, deB),
      // B pide el pago de A y lo obtiene (existencia y datos filtrados).
      { socio: B, ruta: `/pagos/${deA.id}`, esperado: 404, estado: 200, ids: [deA.id] },
      // B lista por la referencia compartida y le llegan los dos.
      { socio: B, ruta: '/pagos?referencia_pago=ref-1', esperado: 200, estado: 200, ids: [deB.id, deA.id], idPedido: deB.id },
      // B pide su propio pago y recibe 404.
      { socio: B, ruta: `/pagos/${deB.id}`, esperado: 200, estado: 404, ids: [], idPedido: deB.id },
      // El listado sin filtro de B no trae el suyo pero sí solo suyos: bien; uno de A: mal.
      { socio: B, ruta: '/pagos?limite=100', esperado: 200, estado: 200, ids: [deA.id] },
    ];
    const fallo = await incumplidas({ fuera, consultas });
    expect(fallo['ambito-del-socio']).toEqual([
      `${B} GET /pagos/${deA.id}: 200 (se esperaba 404) con ${deA.id}`,
      `${B} GET /pagos?referencia_pago=ref-1: trae ${deA.id} (de ${A})`,
      `${B} GET /pagos/${deB.id}: 404 (se esperaba 200)`,
      `${B} GET /pagos?limite=100: trae ${deA.id} (de ${A})`,
    ]);
    expect(Object.keys(fallo)).toEqual(['ambito-del-socio']);
  });

  it('reglas nuevas de la suspensión: un 200 o un 422 tras confirmarla, un pago creado después y un 403 con pago la suspenden', async () => {
    const antes = await plantar(1, 'EXITOSO', C);
    const despues = await plantar(2, 'EXITOSO', C);
    const denegadoConPago = await plantar(3, 'EXITOSO', C);
    const confirmadaEnBase = new Date(Date.now() - 30_000);
    await pool.query(`UPDATE pagos SET fecha_creacion = now() WHERE id = $1`, [despues.id]);
    const suspension: SuspensionObservada = {
      idSocio: C,
      confirmadaEnBase,
      tras: [
        { referencia: 'ref-2', estado: 200, idPago: despues.id },
        { referencia: 'ref-3', estado: 403, idPago: undefined },
        { referencia: 'ref-4', estado: 422, idPago: undefined },
        { referencia: 'ref-4', estado: 429, idPago: undefined },
        { referencia: 'ref-5', estado: 403, idPago: undefined },
      ],
    };
    const fuera = new Map([
      [
        C,
        new Map<string, ObservacionFuera>([
          aceptada(antes),
          aceptada(despues),
          ['ref-3', { ids: new Set(), aceptada: false, denegada: true }],
          ['ref-5', { ids: new Set(), aceptada: false, denegada: true }],
        ]),
      ],
    ]);
    // Su conflicto salió antes de confirmarse la suspensión y recibió 403: también correcto.
    fuera.get(C)?.set(antes.referencia, { ids: new Set([antes.id]), aceptada: true, estadoConflicto: 403 });
    const fallo = await incumplidas({ fuera, suspension });
    expect(fallo['suspension-rechaza']).toEqual([`${C} · ref-2: 200 ${despues.id}`, `${C} · ref-4: 422`]);
    expect(fallo['suspension-sin-escrituras']).toEqual([
      `${C} · ref-3: solo recibió 403 y tiene el pago ${denegadoConPago.id}`,
      expect.stringMatching(new RegExp(`^${despues.id} \\(ref-2\\): creado .*, tras la suspensión$`)),
    ]);
    // Denegada y sin pago (ref-5) es lo correcto: no es «no aceptada».
    expect(fallo['pago-no-aceptado']).toBeUndefined();
    expect(fallo['conflicto-rechazado']).toBeUndefined();
    // Un 403 de un socio que NO es el suspendido sí es una referencia no aceptada (y un conflicto mal respondido).
    const deA = await plantar(7);
    const otro = await incumplidas({
      fuera: new Map([
        [
          A,
          new Map<string, ObservacionFuera>([
            ['ref-9', { ids: new Set<string>(), aceptada: false, denegada: true }],
            [deA.referencia, { ids: new Set([deA.id]), aceptada: true, estadoConflicto: 403 }],
          ]),
        ],
      ]),
      suspension: { ...suspension, tras: [] },
    });
    expect(otro['pago-no-aceptado']).toEqual([`${A} · ref-9`]);
    expect(otro['conflicto-rechazado']).toEqual([`${A} · ref-7: 403`]);
  });

  it('las reglas de issue 9 suspenden el veredicto, cada una nombrando su pago', async () => {
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

    const fallo = await incumplidas({ fuera: fueraDe([A, [sano, fallidoCobrado, incierto, perdido, enCola]]) });
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
    // De B: la misma referencia que un pago de A, pero B no la envió.
    const noPedidoDeB = await plantar(1, 'EXITOSO', B);
    const otroId = randomUUID();
    const fuera = new Map([
      [
        A,
        new Map<string, ObservacionFuera>([
          [a.referencia, { ids: new Set([a.id, otroId]), aceptada: true, estadoConflicto: 200 }],
          [b.referencia, { ids: new Set([b.id]), aceptada: true, tardia: { estado: 200, replay: false, idPago: b.id } }],
          [
            c.referencia,
            { ids: new Set([c.id]), aceptada: true, estadoConflicto: 422, tardia: { estado: 200, replay: true, idPago: c.id } },
          ],
          ['ref-99', { ids: new Set(), aceptada: false }],
          ['ref-98', { ids: new Set([randomUUID()]), aceptada: true }],
        ]),
      ],
    ]);
    const fallo = await incumplidas({ fuera });
    expect(fallo['respuestas-coherentes']).toEqual([`${A} · ${a.referencia}: respuestas ${a.id}, ${otroId}; base ${a.id}`]);
    expect(fallo['conflicto-rechazado']).toEqual([`${A} · ${a.referencia}: 200`]);
    expect(fallo['replica-tardia-reconocida']).toEqual([`${A} · ${b.referencia}: 200 ${b.id}`]);
    expect(fallo['pago-no-aceptado']).toEqual([`${A} · ref-99`, `${A} · ref-98: aceptada y sin pago de ese socio en la base`]);
    expect(fallo['pago-no-pedido']).toEqual([noPedido.id, noPedidoDeB.id]);
  });

  it('los pagos de las liquidaciones (issue 12) los crea el servicio: no son «no pedidos» ni escrituras del suspendido; un pago suelto sí', async () => {
    const deA = await plantar(1);
    const suspension: SuspensionObservada = { idSocio: C, confirmadaEnBase: new Date(Date.now() - 60_000), tras: [] };
    const deLiquidacion = async (socio: string) => {
      const p = await plantar(50, 'EXITOSO', socio);
      await pool.query(
        `INSERT INTO liquidaciones (id, id_socio, id_afiliado, moneda, id_ejecucion, creada_en, estado, neto_unidades, id_pago)
         VALUES ($1, $2, 'af-1', 'USD', 'e1', now(), 'PAGADA', 100, $3)`,
        [`liquidacion:${socio}:af-1:USD:e1`, socio, p.id],
      );
      return p;
    };
    await deLiquidacion(A);
    await deLiquidacion(C);
    const suelto = await plantar(60);
    const fallo = await incumplidas({ fuera: fueraDe([A, [deA]], [B, []], [C, []]), suspension });
    expect(fallo['pago-no-pedido']).toEqual([suelto.id]);
    expect(fallo['suspension-sin-escrituras']).toBeUndefined();
  });
});
