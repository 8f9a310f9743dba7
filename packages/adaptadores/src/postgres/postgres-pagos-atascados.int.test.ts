import { randomUUID } from 'node:crypto';
import { crearBarrendero, crearManejadorEventos, type MensajeSaliente } from '@aeropartners/aplicacion';
import { PasarelaEnMemoria } from '@aeropartners/aplicacion/testing';
import { probarContratoPagosAtascados } from '@aeropartners/contratos';
import type { EventoPago, PasarelaDePagos, Trazabilidad } from '@aeropartners/dominio';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { crearBrokerEmbebido } from '../broker-embebido/index-broker-embebido.js';
import { uuidv7 } from '../ids/uuidv7.js';
import { crearBaseDePrueba } from '../testing/index.js';
import { plantarPagosAtascados, publicarComoElRelay, reimpulsosDe } from '../../test/plantar-pagos-atascados.js';
import { PostgresInboxPagos } from './postgres-inbox-pagos.js';
import { crearPersistenciaPostgres } from './persistencia-postgres.js';
import { PostgresPagosAtascados } from './postgres-pagos-atascados.js';
import { PostgresTurnosCobro } from './postgres-turnos-cobro.js';
import type { PoolPostgres } from './pool-postgres.js';
import { filaAEvento, type FilaEventoOutboxLeida } from './serializacion-eventos.js';

// PostgresPagosAtascados contra PostgreSQL real: la suite de contrato, barrenderos que compiten desde
// pools distintos (como dos consumidores) y el re-impulso de extremo a extremo con el manejador real.

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

async function preparar() {
  const base = await crearBaseDePrueba();
  const persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 4 });
  const otrosPools: pg.Pool[] = [];
  const cerrar = async () => {
    for (const p of otrosPools) await p.end().catch(() => undefined);
    await persistencia.cerrar();
    await base.cerrar();
  };
  cierres.push(cerrar);
  /** Un pool propio, como el de otro proceso. */
  const otroPool = () => {
    const p = new pg.Pool({ connectionString: base.url, max: 2 });
    otrosPools.push(p);
    return p;
  };
  return { base, persistencia, pool: persistencia.pool, otroPool, cerrar };
}

probarContratoPagosAtascados('PostgreSQL', async () => {
  const { persistencia, pool, otroPool, cerrar } = await preparar();
  return {
    atascados: new PostgresPagosAtascados(pool),
    plantar: (pagos) => plantarPagosAtascados(persistencia.repositorio, pool, pagos),
    publicar: async () => {
      await publicarComoElRelay(pool);
    },
    reimpulsos: (id) => reimpulsosDe(pool, id),
    otroAcceso: () => new PostgresPagosAtascados(otroPool()),
    cerrar,
  };
});

const UMBRALES = { PENDIENTE: 60_000, PROCESANDO: 60_000 };
const HORA = 3_600_000;

describe('PostgresPagosAtascados', () => {
  it('dos barrenderos (dos pools, a la vez y muchas pasadas): el PROCESANDO sin turno se re-impulsa una vez; el de turno vigente y el PENDIENTE sin publicar, ninguna', async () => {
    const { persistencia, pool, otroPool } = await preparar();
    const [sinTurno, conTurno, sinPublicar, ...resto] = await plantarPagosAtascados(persistencia.repositorio, pool, [
      { estado: 'PROCESANDO', haceMs: HORA, evento: { publicadoHaceMs: HORA } },
      { estado: 'PROCESANDO', haceMs: HORA, turno: 'vigente', evento: { publicadoHaceMs: HORA } },
      { estado: 'PENDIENTE', haceMs: HORA, evento: 'sinPublicar' },
      ...Array.from({ length: 20 }, (_, i) => ({
        estado: i % 2 ? ('PENDIENTE' as const) : ('PROCESANDO' as const),
        haceMs: HORA,
        turno: i % 3 === 0 ? ('vencido' as const) : undefined,
        evento: { publicadoHaceMs: HORA },
      })),
    ]);
    const barrenderos = [otroPool(), otroPool()].map((p) =>
      crearBarrendero({ atascados: new PostgresPagosAtascados(p), umbrales: UMBRALES, periodoMs: 1000, lote: 3, ventana: 5 }),
    );
    for (let i = 0; i < 15; i += 1) await Promise.all(barrenderos.map((b) => b.barrer()));
    expect(await reimpulsosDe(pool, sinTurno!)).toBe(1);
    expect(await reimpulsosDe(pool, conTurno!)).toBe(0);
    expect(await reimpulsosDe(pool, sinPublicar!)).toBe(0);
    for (const id of resto) expect({ id, veces: await reimpulsosDe(pool, id) }).toEqual({ id, veces: 1 });
    const total = barrenderos.reduce((n, b) => n + b.contadores().reimpulsados.PENDIENTE + b.contadores().reimpulsados.PROCESANDO, 0);
    expect(total).toBe(21);
    // Re-encolado como una fila nueva: sin publicar, sin secuencia ni productor (el relay le dará una nueva).
    const { rows } = await pool.query<{
      fecha_publicacion: Date | null;
      secuencia: string | null;
      productor: string | null;
      reimpulsado_en: string;
    }>(
      `SELECT o.fecha_publicacion, o.secuencia, o.productor, o.metadatos ->> 'reimpulsado_en' AS reimpulsado_en
       FROM historial_pagos h JOIN outbox o ON o.id_evento = h.id_evento WHERE h.id_pago = $1 AND h.version = 1`,
      [sinTurno],
    );
    expect(rows[0]).toMatchObject({ fecha_publicacion: null, secuencia: null, productor: null });
    expect(Number.isNaN(Date.parse(rows[0]!.reimpulsado_en))).toBe(false);
  });

  it('el re-impulso despierta al relay (NOTIFY outbox_nuevo) solo si re-encoló algo', async () => {
    const { persistencia, pool, base } = await preparar();
    const escucha = new pg.Client({ connectionString: base.url });
    await escucha.connect();
    const avisos: string[] = [];
    escucha.on('notification', (n) => avisos.push(n.channel));
    await escucha.query('LISTEN outbox_nuevo');
    try {
      const atascados = new PostgresPagosAtascados(pool);
      await plantarPagosAtascados(persistencia.repositorio, pool, [
        { estado: 'PROCESANDO', haceMs: HORA, evento: { publicadoHaceMs: HORA } },
      ]);
      await new Promise((r) => setTimeout(r, 200));
      avisos.length = 0;
      const consulta = { estado: 'PROCESANDO', umbralMs: 60_000, ventana: 10, lote: 10, despuesDe: null } as const;
      expect((await atascados.reimpulsar(consulta)).pagos).toHaveLength(1);
      expect((await atascados.reimpulsar(consulta)).pagos).toHaveLength(0);
      await new Promise((r) => setTimeout(r, 300));
      expect(avisos).toEqual(['outbox_nuevo']);
    } finally {
      await escucha.end();
    }
  });

  it('entradas inválidas: error claro sin tocar la base', async () => {
    const { pool } = await preparar();
    const atascados = new PostgresPagosAtascados(pool);
    const base = { estado: 'PENDIENTE', umbralMs: 1000, ventana: 10, despuesDe: null } as const;
    await expect(atascados.listar({ ...base, despuesDe: "x' OR 1=1" })).rejects.toThrow(/Cursor inválido/);
    await expect(atascados.listar({ ...base, ventana: 0 })).rejects.toThrow(/ventana/);
    await expect(atascados.reimpulsar({ ...base, lote: -1 })).rejects.toThrow(/lote/);
    await expect(atascados.listar({ ...base, estado: 'EXITOSO' as 'PENDIENTE' })).rejects.toThrow(/no atascable/);
  });

  it('sin base: un Error con la causa', async () => {
    const roto = new pg.Pool({ connectionString: 'postgres://nadie@127.0.0.1:1/nada', connectionTimeoutMillis: 2000 });
    try {
      const error = await new PostgresPagosAtascados(roto).medir(UMBRALES, 10).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe('No se pudieron medir los pagos atascados en PostgreSQL');
      expect((error as Error).cause).toBeDefined();
    } finally {
      await roto.end();
    }
  });
});

describe('re-impulso de extremo a extremo', () => {
  it('un pago cobrado cuyo consumidor murió antes de anotar el desenlace (y su mensaje se agotó) acaba EXITOSO por el camino normal, con un solo cobro', async () => {
    const { persistencia, pool, otroPool, base } = await preparar();
    const pasarela = new PasarelaEnMemoria({ espera: () => new Promise((r) => setTimeout(r, 2)) });
    const inbox = new PostgresInboxPagos(pool);
    const turnos = new PostgresTurnosCobro(pool, persistencia.repositorio);
    const manejador = (p: PasarelaDePagos) =>
      crearManejadorEventos({
        suscripcion: 'consumidor-pagos',
        repositorio: persistencia.repositorio,
        inbox,
        pasarela: p,
        turnos,
        titular: randomUUID(),
        duracionTurnoMs: 10_000,
        reloj: { ahora: () => new Date() },
        nuevoId: uuidv7,
        intentosPasarela: 3,
        backoffPasarelaMs: 1,
      });
    // 1) La primera entrega: PENDIENTE → PROCESANDO, la pasarela cobra y el proceso muere antes de anotarlo.
    const [idPago] = await plantarPagosAtascados(persistencia.repositorio, pool, [
      { estado: 'PENDIENTE', haceMs: 0, evento: { publicadoHaceMs: 0 } },
    ]);
    const pendiente = await leerPagoPendiente(pool, idPago!);
    const muere: PasarelaDePagos = {
      consultar: (c) => pasarela.consultar(c),
      async cobrar(s) {
        await pasarela.cobrar(s);
        throw new Error('el consumidor murió tras cobrar');
      },
    };
    await expect(manejador(muere)(pendiente.evento, pendiente.traza)).rejects.toThrow(/murió/);
    expect((await persistencia.repositorio.obtener(idPago!))?.estado).toBe('PROCESANDO');
    expect(pasarela.cargos.filter((c) => c.idPago === idPago)).toHaveLength(1);
    // Su mensaje agotó las entregas (a mensajes muertos): nadie más lo va a manejar. Pasa una hora.
    await pool.query(`UPDATE pagos SET fecha_actualizacion = now() - interval '1 hour' WHERE id = $1`, [idPago]);
    await pool.query(`UPDATE outbox SET fecha_publicacion = now() - interval '1 hour' WHERE id_evento = $1`, [pendiente.evento.idEvento]);

    // 2) Dos barrenderos a la vez (dos consumidores): se re-encola una sola vez.
    const barrenderos = [otroPool(), otroPool()].map((p) =>
      crearBarrendero({ atascados: new PostgresPagosAtascados(p), umbrales: UMBRALES, periodoMs: 1000 }),
    );
    const hechos = (await Promise.all(barrenderos.map((b) => b.barrer()))).flat();
    expect(hechos.map((p) => ({ id: p.idPago, estado: p.estado }))).toEqual([{ id: idPago, estado: 'PROCESANDO' }]);
    expect(hechos[0]!.edadMs).toBeGreaterThanOrEqual(HORA);

    // 3) El camino normal: lo que el relay publica (fila re-encolada → broker embebido) y el consumidor recibe.
    const broker = await crearBrokerEmbebido({
      url: base.url,
      tamanoPool: 2,
      topico: 'pagos-e2e',
      suscripciones: ['consumidor-pagos'],
      escuchar: false,
      intervaloSondeoMs: 20,
    });
    try {
      const publicador = await broker.crearPublicador('relay-e2e');
      const mensajes = await comoElRelay(pool);
      expect(mensajes.map((m) => m.propiedades.id_evento)).toEqual([pendiente.evento.idEvento]);
      await publicador.publicar(mensajes);
      const suscripcion = await broker.suscribir({ suscripcion: 'consumidor-pagos', maximoEntregas: 5, retrasoReentregaMs: 10 });
      const recibido = await suscripcion.recibir();
      if (!recibido) throw new Error('no llegó el mensaje re-impulsado');
      const sobre = filaAEvento(JSON.parse(recibido.cuerpo) as FilaEventoOutboxLeida);
      if (!sobre.ok) throw new Error(sobre.error.motivo);
      const desenlace = await manejador(pasarela)(sobre.valor.evento, sobre.valor.traza);
      await suscripcion.confirmar(recibido);
      await suscripcion.cerrar();
      expect(desenlace).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO' } });
    } finally {
      await broker.cerrar();
    }

    // 4) Final, con un solo cobro, y el barrendero ya no lo ve.
    const final = await persistencia.repositorio.obtener(idPago!);
    expect(final?.estado).toBe('EXITOSO');
    expect(pasarela.cargos.filter((c) => c.idPago === idPago)).toHaveLength(1);
    expect(final?.referenciaTransaccion).toBe(pasarela.cargos.find((c) => c.idPago === idPago)?.referenciaTransaccion);
    await pool.query(`UPDATE outbox SET fecha_publicacion = now() - interval '2 hours' WHERE id_evento = $1`, [pendiente.evento.idEvento]);
    expect((await Promise.all(barrenderos.map((b) => b.barrer()))).flat()).toEqual([]);
  });
});

/** El `PagoPendiente` de un pago, leído del outbox y validado como lo hace el consumidor. */
async function leerPagoPendiente(pool: PoolPostgres, idPago: string): Promise<{ evento: EventoPago; traza: Trazabilidad }> {
  const { rows } = await pool.query<FilaEventoOutboxLeida>(
    `SELECT o.id_evento::text, o.id_agregado::text, o.version_agregado, o.tipo, o.payload, o.metadatos
     FROM historial_pagos h JOIN outbox o ON o.id_evento = h.id_evento WHERE h.id_pago = $1 AND h.version = 1`,
    [idPago],
  );
  const leido = filaAEvento(rows[0]!);
  if (!leido.ok) throw new Error(leido.error.motivo);
  return leido.valor;
}

/**
 * Lo que hace el relay con las filas sin numerar: les asigna secuencia y arma el mensaje (el sobre
 * completo del evento, con solo la trazabilidad de los metadatos).
 */
async function comoElRelay(pool: PoolPostgres): Promise<MensajeSaliente[]> {
  const { rows } = await pool.query<{
    id: string;
    id_evento: string;
    id_agregado: string;
    version_agregado: number;
    tipo: string;
    payload: unknown;
    metadatos: { id_correlacion: string; traceparent?: string | null };
  }>(
    `UPDATE outbox SET secuencia = id, productor = 'relay-e2e' WHERE fecha_publicacion IS NULL AND secuencia IS NULL
     RETURNING id::text, id_evento::text, id_agregado::text, version_agregado, tipo, payload, metadatos`,
  );
  return rows.map((f) => {
    const metadatos = { id_correlacion: f.metadatos.id_correlacion, traceparent: f.metadatos.traceparent ?? null };
    return {
      clave: f.id_agregado,
      secuencia: Number(f.id),
      cuerpo: JSON.stringify({ ...f, metadatos, id: undefined }),
      propiedades: { id_evento: f.id_evento, tipo: f.tipo, version: String(f.version_agregado), id_correlacion: metadatos.id_correlacion },
    };
  });
}
