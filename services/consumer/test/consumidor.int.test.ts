import {
  PostgresAlmacenOutbox,
  PostgresInboxPagos,
  PostgresTurnosCobro,
  sobreDeFila,
  contarCargosPorPago,
  crearBrokerEmbebido,
  crearPasarelaSimulada,
  crearPersistenciaPostgres,
  prepararPasarelaSimulada,
  uuidv7,
  type PersistenciaPostgres,
  type PostgresBroker,
} from '@aeropartners/adaptadores';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import { crearManejadorEventos, crearManejadorRegistrarPago, type Publicador } from '@aeropartners/aplicacion';
import type { PasarelaDePagos } from '@aeropartners/dominio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { comprobarEsquema } from '../src/componentes.js';
import { crearConsumidorPagos, type Consumidor } from '../src/app.js';
import { esperarHasta, registroEnMemoria } from './apoyo.js';

/**
 * El consumidor sobre PostgreSQL real: broker embebido, pasarela simulada con su libro de cargos,
 * repositorio e inbox de Kysely. Los PagoPendiente se publican como lo hace el relay: filas del
 * outbox reclamadas con su secuencia → `sobreDeFila` → `Publicador`.
 */

const SUSCRIPCION = 'consumidor-pagos';
const TOPICO = 'pagos-prueba';

let base: BaseDePrueba;
let persistencia: PersistenciaPostgres;
let broker: PostgresBroker;
let publicador: Publicador;
let pasarela: PasarelaDePagos;
const cierres: (() => Promise<unknown>)[] = [];

async function preparar(opciones: { duplicarEntregas: boolean; latenciaMaxMs?: number }) {
  base = await crearBaseDePrueba();
  persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 12 });
  await prepararPasarelaSimulada(persistencia.pool);
  // Los socios de los pagos (la creación comprueba que existan y estén activos).
  await persistencia.pool.query("INSERT INTO socios (id, nombre) VALUES ('socio-int', 'socio-int'), ('s', 's')");
  pasarela = crearPasarelaSimulada({
    pool: persistencia.pool,
    latenciaMinMs: 0,
    latenciaMaxMs: opciones.latenciaMaxMs ?? 5,
    tasaRechazo: 0.2,
    tasaTransitorio: 0.1,
    semilla: 'consumidor-int',
  });
  broker = await crearBrokerEmbebido({
    url: base.url,
    topico: TOPICO,
    suscripciones: [SUSCRIPCION],
    duplicarEntregas: opciones.duplicarEntregas,
    intervaloSondeoMs: 50,
    leaseMs: 2_000,
  });
  publicador = await broker.crearPublicador('relay-prueba');
}

beforeEach(() => {
  cierres.length = 0;
});

afterEach(async () => {
  for (const cerrar of cierres.splice(0).reverse()) await cerrar().catch(() => undefined);
  await broker?.cerrar().catch(() => undefined);
  await persistencia?.cerrar().catch(() => undefined);
  await base?.cerrar();
});

async function consumidor(enVuelo: number): Promise<{ consumidor: Consumidor; registro: ReturnType<typeof registroEnMemoria> }> {
  const suscripcion = await broker.suscribir({ suscripcion: SUSCRIPCION, maximoEntregas: 10, retrasoReentregaMs: 50 });
  const registro = registroEnMemoria();
  const inbox = new PostgresInboxPagos(persistencia.pool);
  const c = crearConsumidorPagos({
    suscripcion,
    enVuelo,
    logger: registro.logger,
    crearManejador: ({ alReintentar }) =>
      crearManejadorEventos({
        suscripcion: SUSCRIPCION,
        repositorio: persistencia.repositorio,
        inbox,
        pasarela,
        turnos: new PostgresTurnosCobro(persistencia.pool, persistencia.repositorio),
        titular: crypto.randomUUID(),
        duracionTurnoMs: 15_000,
        reloj: { ahora: () => new Date() },
        nuevoId: uuidv7,
        intentosPasarela: 4,
        backoffPasarelaMs: 1,
        alReintentar,
      }),
  });
  cierres.push(() => c.detener());
  c.iniciar();
  return { consumidor: c, registro };
}

/** Crea `n` pagos por el repositorio y publica sus PagoPendiente como el relay. Devuelve los ids. */
async function crearYPublicar(n: number): Promise<string[]> {
  const crearPago = crearManejadorRegistrarPago({
    repositorio: persistencia.repositorio,
    reloj: { ahora: () => new Date() },
    nuevoId: uuidv7,
  });
  const ids = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const r = await crearPago({
        tipo: 'RegistrarPago',
        ambito: { idSocio: 'socio-int', modo: 'live' },
        credencial: { idClave: null },
        idAfiliado: `afiliado-${i % 7}`,
        monto: `${100 + i}.25`,
        moneda: (['USD', 'EUR', 'COP'] as const)[i % 3]!,
        referenciaPago: `ref-int-${i}`,
        traza: { idCorrelacion: `corr-int-${i}` },
      });
      if (!r.ok) throw new Error(`no se creó el pago ${i}`);
      return r.valor.pago.id;
    }),
  );
  const almacen = new PostgresAlmacenOutbox(persistencia.pool);
  const filas = await almacen.reclamar('relay-prueba', n + 10);
  expect(filas.map((f) => f.tipo)).toEqual(ids.map(() => 'PagoPendiente'));
  await publicador.publicar(filas.map(sobreDeFila));
  await almacen.marcarPublicadas(filas.map((f) => f.id));
  return ids;
}

async function contarFinales(ids: readonly string[]): Promise<number> {
  const { rows } = await persistencia.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pagos WHERE id = ANY($1::uuid[]) AND estado IN ('EXITOSO', 'FALLIDO')`,
    [ids],
  );
  return rows[0]?.n ?? 0;
}

describe('consumidor sobre PostgreSQL real', () => {
  it('comprobarEsquema acepta la base migrada', async () => {
    await preparar({ duplicarEntregas: false });
    await expect(comprobarEsquema(persistencia.pool)).resolves.toBeUndefined();
  });

  it('con cada mensaje entregado dos veces (inyección del broker), entonces cada pago es final, un cobro por pago y los duplicados contados', async () => {
    await preparar({ duplicarEntregas: true });
    const { consumidor: c, registro } = await consumidor(16);
    const N = 60;
    const ids = await crearYPublicar(N);

    await esperarHasta(async () => (await contarFinales(ids)) === N, 30_000, 'todos los pagos finales');
    await esperarHasta(
      async () => c.contadores().recibidos === 2 * N && (await broker.pendientes(SUSCRIPCION)) === 0,
      30_000,
      'las 2N entregas confirmadas',
    );

    // Exactamente un cobro por pago EXITOSO y ninguno por pago FALLIDO, en el libro de la pasarela.
    const cargos = await contarCargosPorPago(persistencia.pool);
    const { rows: pagos } = await persistencia.pool.query<{
      id: string;
      estado: string;
      mensaje_error: string | null;
      referencia_transaccion: string | null;
    }>(`SELECT id, estado, mensaje_error, referencia_transaccion FROM pagos WHERE id = ANY($1::uuid[])`, [ids]);
    expect(pagos).toHaveLength(N);
    for (const p of pagos) {
      if (p.estado === 'EXITOSO') {
        expect(cargos.get(p.id), p.id).toBe(1);
        expect(p.mensaje_error).toBeNull();
        expect(p.referencia_transaccion).toMatch(/\S/);
      } else {
        expect(p.estado).toBe('FALLIDO');
        expect(cargos.get(p.id) ?? 0, p.id).toBe(0);
        expect(p.mensaje_error).toMatch(/\S/);
      }
    }
    expect([...cargos.values()].every((n) => n <= 1)).toBe(true);
    expect(pagos.some((p) => p.estado === 'EXITOSO')).toBe(true);
    expect(pagos.some((p) => p.estado === 'FALLIDO')).toBe(true);

    // Un evento de desenlace por pago, e historial PENDIENTE → PROCESANDO → final con la correlación de entrada.
    const { rows: desenlaces } = await persistencia.pool.query<{ id_agregado: string; n: number }>(
      `SELECT id_agregado, count(*)::int AS n FROM outbox WHERE tipo IN ('PagoExitoso', 'PagoFallido') GROUP BY id_agregado`,
    );
    expect(desenlaces).toHaveLength(N);
    expect(desenlaces.every((d) => d.n === 1)).toBe(true);
    const { rows: historial } = await persistencia.pool.query<{ id_pago: string; estados: string[]; correlaciones: string[] }>(
      `SELECT id_pago, array_agg(estado ORDER BY version) AS estados, array_agg(DISTINCT id_correlacion) AS correlaciones
       FROM historial_pagos WHERE id_pago = ANY($1::uuid[]) GROUP BY id_pago`,
      [ids],
    );
    expect(historial).toHaveLength(N);
    for (const h of historial) {
      expect(h.estados.slice(0, 2)).toEqual(['PENDIENTE', 'PROCESANDO']);
      expect(['EXITOSO', 'FALLIDO']).toContain(h.estados[2]);
      expect(h.correlaciones).toHaveLength(1);
      expect(h.correlaciones[0]).toMatch(/^corr-int-\d+$/);
    }

    // Inbox: una fila por evento; el duplicado de cada mensaje se absorbió (y se contó) ahí.
    const { rows: inbox } = await persistencia.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbox WHERE suscripcion = $1`, [
      SUSCRIPCION,
    ]);
    expect(inbox[0]?.n).toBe(N);
    expect(c.contadores()).toMatchObject({ recibidos: 2 * N, procesados: N, duplicados: N, muertos: 0, errores: 0 });
    expect(broker.contadores.duplicadosInyectados).toBe(N);

    // Cada línea del manejo lleva la correlación del pago.
    const info = registro.lineas.filter((l) => l.nivel === 'info');
    expect(info).toHaveLength(2 * N);
    for (const l of info)
      expect(l.campos).toMatchObject({
        id_correlacion: expect.stringMatching(/^corr-int-/),
        id_pago: expect.any(String),
        id_evento: expect.any(String),
        tipo: 'PagoPendiente',
      });
  });

  it('un mensaje mal formado va a mensajes muertos del broker y los de detrás, de su mismo pago, siguen', async () => {
    await preparar({ duplicarEntregas: false });
    const { consumidor: c } = await consumidor(4);
    const crearPago = crearManejadorRegistrarPago({
      repositorio: persistencia.repositorio,
      reloj: { ahora: () => new Date() },
      nuevoId: uuidv7,
    });
    const r = await crearPago({
      tipo: 'RegistrarPago',
      ambito: { idSocio: 's', modo: 'live' },
      credencial: { idClave: null },
      idAfiliado: 'a',
      monto: '7.00',
      moneda: 'USD',
      referenciaPago: 'ref-malo',
      traza: { idCorrelacion: 'corr-malo' },
    });
    if (!r.ok) throw new Error('no se creó');
    const almacen = new PostgresAlmacenOutbox(persistencia.pool);
    const [fila] = await almacen.reclamar('relay-prueba', 10);
    const bueno = sobreDeFila(fila!);
    // Secuencias por debajo de la de la fila: el broker las acepta antes, en orden, con la misma clave.
    await publicador.publicar([{ ...bueno, secuencia: 0, cuerpo: 'no es JSON' }]);
    await publicador.publicar([bueno]);
    await almacen.marcarPublicadas([fila!.id]);
    await esperarHasta(async () => (await contarFinales([r.valor.pago.id])) === 1, 20_000, 'el pago de detrás');
    const muertos = await broker.mensajesMuertos(SUSCRIPCION);
    expect(muertos).toHaveLength(1);
    expect(muertos[0]?.motivo).toMatch(/^Mensaje inválido: el cuerpo no es JSON válido/);
    expect(c.contadores()).toMatchObject({ muertos: 1, procesados: 1, errores: 0 });
  });

  it('al detener con cobros en curso, los termina y confirma; otro consumidor sigue con el resto y nadie cobra dos veces', async () => {
    await preparar({ duplicarEntregas: false, latenciaMaxMs: 80 });
    const { consumidor: primero } = await consumidor(4);
    const N = 20;
    const ids = await crearYPublicar(N);
    await esperarHasta(() => primero.contadores().recibidos >= 4, 20_000, 'cobros en curso');
    await primero.detener();
    const { recibidos, procesados, errores } = primero.contadores();
    expect(procesados).toBe(recibidos); // lo que tomó, lo terminó
    expect(errores).toBe(0);
    const pendientesTrasParar = await broker.pendientes(SUSCRIPCION);
    expect(pendientesTrasParar).toBe(N - recibidos);
    const { rows } = await persistencia.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pagos WHERE estado = 'PROCESANDO'`);
    expect(rows[0]?.n).toBe(0); // nada quedó a medias

    const { consumidor: segundo } = await consumidor(8);
    await esperarHasta(async () => (await contarFinales(ids)) === N, 30_000, 'el resto');
    // El pago es final en la base un instante antes de que el consumidor confirme el mensaje y lo cuente.
    await esperarHasta(() => segundo.contadores().procesados >= N - recibidos, 5_000, 'los contadores del segundo');
    expect(segundo.contadores().procesados).toBe(N - recibidos);
    const cargos = await contarCargosPorPago(persistencia.pool);
    expect([...cargos.values()].every((n) => n <= 1)).toBe(true);
  });
});
