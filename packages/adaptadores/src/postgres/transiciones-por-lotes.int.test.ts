import { Dinero, crearPago, iniciarProcesamiento, type CambioPago, type EstadoPago } from '@aeropartners/dominio';
import { afterAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../ids/uuidv7.js';
import { crearBaseDePrueba } from '../testing/index.js';
import { PostgresInboxPagos } from './postgres-inbox-pagos.js';
import { crearPersistenciaPostgres } from './persistencia-postgres.js';

// Carreras contra las escrituras agrupadas («group commit») de `guardar`, `guardarYAnotar` y `anotar`:
// cada llamada debe recibir el resultado de SU fila, y dos cambios del mismo pago o evento nunca se
// aplican ambos aunque lleguen en el mismo lote.

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

async function preparar() {
  const base = await crearBaseDePrueba();
  // Un solo hueco: todo lo que llega mientras tanto sale junto en el siguiente lote.
  const persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 6, enVueloMaximoTransiciones: 1 });
  const inbox = new PostgresInboxPagos(persistencia.pool, { enVueloMaximo: 1 });
  cierres.push(async () => {
    await inbox.vaciar();
    await persistencia.cerrar();
    await base.cerrar();
  });
  return { ...persistencia, inbox };
}

const traza = { idCorrelacion: 'corr-lotes' };
const ctx = () => ({ ahora: new Date(), nuevoId: uuidv7 });

function nuevoPago(): CambioPago {
  const monto = Dinero.deUnidadesMenores(1000, 'USD');
  if (!monto.ok) throw new Error();
  const r = crearPago({ id: uuidv7(), idSocio: 's', idAfiliado: 'a', monto: monto.valor, referenciaPago: `r-${uuidv7()}` }, ctx());
  if (!r.ok) throw new Error();
  return r.valor;
}

async function crearPagos(p: Awaited<ReturnType<typeof preparar>>, n: number) {
  const cambios = Array.from({ length: n }, nuevoPago);
  await Promise.all(cambios.map((c, i) => p.repositorio.crear(c, { idSocio: 's', clave: `k-${i}-${c.pago.id}` }, traza)));
  return cambios;
}

function procesar(c: CambioPago): CambioPago {
  const r = iniciarProcesamiento(c.pago, ctx());
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.valor;
}

async function contar(p: Awaited<ReturnType<typeof preparar>>, idPago?: string) {
  const { rows } = await p.pool.query<{ historial: number; inbox: number }>(
    `SELECT (SELECT count(*)::int FROM historial_pagos WHERE $1::uuid IS NULL OR id_pago = $1::uuid) AS historial,
            (SELECT count(*)::int FROM inbox WHERE $1::uuid IS NULL OR id_pago = $1::uuid) AS inbox`,
    [idPago ?? null],
  );
  return rows[0]!;
}

describe('guardar agrupado', () => {
  it('100 guardar concurrentes sobre pagos distintos: todos ok, en pocos lotes', async () => {
    const p = await preparar();
    const creados = await crearPagos(p, 100);
    const resultados = await Promise.all(creados.map((c) => p.repositorio.guardar(procesar(c), 1, traza)));
    expect(resultados.every((r) => r.ok)).toBe(true);
    const { rows } = await p.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pagos WHERE estado = 'PROCESANDO' AND version = 2");
    expect(rows[0]?.n).toBe(100);
    expect((await contar(p)).historial).toBe(200);
    const leidos = await Promise.all(creados.map((c) => p.repositorio.obtener(c.pago.id)));
    expect(leidos.map((l) => l?.estado)).toEqual(creados.map(() => 'PROCESANDO'));
    expect(await p.repositorio.obtener(uuidv7())).toBeNull();
  });

  it('20 guardar concurrentes con la misma versión esperada sobre UN pago: exactamente uno ok', async () => {
    const p = await preparar();
    const [creado] = await crearPagos(p, 1);
    // Otro pago en el mismo lote para que no salgan solos.
    const otros = await crearPagos(p, 5);
    const cambios = Array.from({ length: 20 }, () => procesar(creado!));
    const [resultados] = await Promise.all([
      Promise.all(cambios.map((c) => p.repositorio.guardar(c, 1, traza))),
      Promise.all(otros.map((c) => p.repositorio.guardar(procesar(c), 1, traza))),
    ]);
    expect(resultados.filter((r) => r.ok)).toHaveLength(1);
    for (const r of resultados.filter((r) => !r.ok)) {
      expect(r).toMatchObject({ ok: false, error: { tipo: 'ConflictoDeVersion', idPago: creado!.pago.id, versionEsperada: 1 } });
    }
    expect((await contar(p, creado!.pago.id)).historial).toBe(2);
    expect((await p.repositorio.obtener(creado!.pago.id))?.version).toBe(2);
  });

  it('dos cambios encadenados del mismo pago en un lote: se aplican en orden (v1→v2→v3)', async () => {
    const p = await preparar();
    const [creado] = await crearPagos(p, 1);
    const v2 = procesar(creado!);
    const v3: CambioPago = {
      pago: { ...v2.pago, version: 3, estado: 'FALLIDO' as EstadoPago, mensajeError: 'x', fechaProcesamiento: new Date() },
      eventos: [],
    };
    const [a, b] = await Promise.all([p.repositorio.guardar(v2, 1, traza), p.repositorio.guardar(v3, 2, traza)]);
    expect(a.ok && b.ok).toBe(true);
    expect((await p.repositorio.obtener(creado!.pago.id))?.version).toBe(3);
  });

  it('una fila que PostgreSQL rechaza no tumba al resto del lote', async () => {
    const p = await preparar();
    const creados = await crearPagos(p, 10);
    const malo = procesar(creados[0]!);
    const invalido: CambioPago = { pago: { ...malo.pago, estado: 'INVENTADO' as EstadoPago }, eventos: [] };
    const resultados = await Promise.allSettled([
      p.repositorio.guardar(invalido, 1, traza),
      ...creados.slice(1).map((c) => p.repositorio.guardar(procesar(c), 1, traza)),
    ]);
    expect(resultados[0]?.status).toBe('rejected');
    const error = (resultados[0] as PromiseRejectedResult).reason as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.cause).toBeDefined();
    for (const r of resultados.slice(1)) expect(r).toMatchObject({ status: 'fulfilled', value: { ok: true } });
  });
});

describe('inbox agrupado', () => {
  it('50 anotar concurrentes del mismo evento: exactamente uno anotado', async () => {
    const p = await preparar();
    const anotacion = { suscripcion: 'c', idEvento: uuidv7(), idPago: uuidv7(), tipoEvento: 'PagoExitoso', version: 3 };
    const otras = Array.from({ length: 10 }, () => ({ ...anotacion, idEvento: uuidv7() }));
    const [mismas, distintas] = await Promise.all([
      Promise.all(Array.from({ length: 50 }, () => p.inbox.anotar(anotacion))),
      Promise.all(otras.map((a) => p.inbox.anotar(a))),
    ]);
    expect(mismas.filter((r) => r === 'anotado')).toHaveLength(1);
    expect(mismas.filter((r) => r === 'duplicado')).toHaveLength(49);
    expect(distintas.every((r) => r === 'anotado')).toBe(true);
    // Otro «proceso» (otro inbox sobre el mismo pool) compitiendo: sigue habiendo uno solo.
    const otroInbox = new PostgresInboxPagos(p.pool, { enVueloMaximo: 2 });
    const nueva = { ...anotacion, idEvento: uuidv7() };
    const cruzadas = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? p.inbox : otroInbox).anotar(nueva)));
    expect(cruzadas.filter((r) => r === 'anotado')).toHaveLength(1);
  });

  it('guardarYAnotar concurrente del mismo evento: exactamente uno aplicado, el resto duplicado', async () => {
    const p = await preparar();
    const creados = await crearPagos(p, 21);
    const [objetivo, ...resto] = creados;
    const anotacion = {
      suscripcion: 'c',
      idEvento: objetivo!.eventos[0]!.idEvento,
      idPago: objetivo!.pago.id,
      tipoEvento: 'PagoPendiente',
      version: 1,
    };
    const [mismos, distintos] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, () => p.inbox.guardarYAnotar(procesar(objetivo!), 1, traza, anotacion))),
      Promise.all(
        resto.map((c) =>
          p.inbox.guardarYAnotar(procesar(c), 1, traza, { ...anotacion, idEvento: c.eventos[0]!.idEvento, idPago: c.pago.id }),
        ),
      ),
    ]);
    expect(mismos.filter((r) => r === 'aplicado')).toHaveLength(1);
    expect(mismos.filter((r) => r === 'duplicado')).toHaveLength(19);
    expect(distintos.every((r) => r === 'aplicado')).toBe(true);
    expect(await contar(p, objetivo!.pago.id)).toEqual({ historial: 2, inbox: 1 });
    expect(await contar(p)).toEqual({ historial: 42, inbox: 21 });
  });

  it('guardarYAnotar de eventos distintos con la misma versión sobre un pago: uno aplicado, el resto conflicto', async () => {
    const p = await preparar();
    const [creado] = await crearPagos(p, 1);
    const resultados = await Promise.all(
      Array.from({ length: 10 }, () =>
        p.inbox.guardarYAnotar(procesar(creado!), 1, traza, {
          suscripcion: 'c',
          idEvento: uuidv7(),
          idPago: creado!.pago.id,
          tipoEvento: 'PagoPendiente',
          version: 1,
        }),
      ),
    );
    expect(resultados.filter((r) => r === 'aplicado')).toHaveLength(1);
    expect(resultados.filter((r) => r === 'conflicto')).toHaveLength(9);
    expect(await contar(p, creado!.pago.id)).toEqual({ historial: 2, inbox: 1 });
  });
});
