import { probarContratoRepositorioPagos } from '@aeropartners/contratos';
import { Dinero, crearPago, type CambioPago, type ResultadoCreacion } from '@aeropartners/dominio';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../ids/uuidv7.js';
import { crearBaseDePrueba } from '../testing/index.js';
import { ErrorCursorInvalido } from './kysely-consultas-pagos.js';
import { crearPersistenciaPostgres, type OpcionesPersistenciaPostgres } from './persistencia-postgres.js';
import { filaAEvento } from './serializacion-eventos.js';

const pendientesDeCierre: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of pendientesDeCierre) await cerrar().catch(() => undefined);
});

/** Una base nueva y su persistencia; `url` permite abrir otros pools (otro «proceso») sobre ella. */
async function nuevaPersistencia(opciones: Partial<OpcionesPersistenciaPostgres> = {}) {
  const base = await crearBaseDePrueba();
  const persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 8, ...opciones });
  const cerrar = async () => {
    await persistencia.cerrar();
    await base.cerrar();
  };
  pendientesDeCierre.push(cerrar);
  return { ...persistencia, url: base.url, cerrar };
}

probarContratoRepositorioPagos('PostgreSQL (Kysely)', async () => ({ ...(await nuevaPersistencia()), nuevoId: uuidv7 }));

const traza = { idCorrelacion: 'corr-lotes', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };

function nuevoCambio(referencia = `ref-${uuidv7()}`, centavos = 15075): CambioPago {
  const r = crearPago(
    {
      id: uuidv7(),
      idSocio: 'socio-1',
      idAfiliado: 'afiliado-1',
      monto: Dinero.deUnidadesMenores(centavos, 'USD').ok
        ? { unidadesMenores: centavos, moneda: 'USD' }
        : { unidadesMenores: 1, moneda: 'USD' },
      referenciaPago: referencia,
    },
    { ahora: new Date(), nuevoId: uuidv7 },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.valor;
}

async function contar(p: Awaited<ReturnType<typeof nuevaPersistencia>>) {
  const { rows } = await p.pool.query<{ pagos: string; outbox: string; historial: string }>(
    'SELECT (SELECT count(*) FROM pagos) AS pagos, (SELECT count(*) FROM outbox) AS outbox, (SELECT count(*) FROM historial_pagos) AS historial',
  );
  const f = rows[0]!;
  return { pagos: Number(f.pagos), outbox: Number(f.outbox), historial: Number(f.historial) };
}

describe('PostgresRepositorioPagos: creación agrupada («group commit»)', () => {
  it('200 creaciones concurrentes con claves distintas: 200 pagos, outbox e historial, en menos sentencias', async () => {
    const p = await nuevaPersistencia({ tamanoPool: 4 });
    const cambios = Array.from({ length: 200 }, (_, i) => ({ cambio: nuevoCambio(`ref-${i}`), clave: `k-${i}` }));
    const resultados = await Promise.all(
      cambios.map(({ cambio, clave }) => p.repositorio.crear(cambio, { idSocio: 'socio-1', clave }, traza)),
    );
    expect(resultados.every((r) => r.tipo === 'creado')).toBe(true);
    expect(resultados.map((r) => (r.tipo === 'denegado' ? 'denegado' : r.pago.id))).toEqual(cambios.map((c) => c.cambio.pago.id));
    expect(await contar(p)).toEqual({ pagos: 200, outbox: 200, historial: 200 });
    const m = p.repositorio.metricas();
    console.info('[group commit] 200 concurrentes, 4 en vuelo:', JSON.stringify(m));
    expect(m).toMatchObject({ solicitudes: 200, pagosCreados: 200, existentes: 0, lotesFallidos: 0, enVuelo: 0, enCola: 0 });
    expect(m.sentencias).toBeLessThan(200);
    expect(m.lotes).toBeLessThanOrEqual(m.sentencias);
    expect(m.mayorLote).toBeGreaterThan(1);
    // Todo lo de un pago se escribió junto: cada pago tiene su PagoPendiente y su fila de historial.
    const { rows } = await p.pool.query<{ huerfanos: string }>(
      `SELECT count(*) AS huerfanos FROM pagos p
       WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id_agregado = p.id AND o.tipo = 'PagoPendiente')
          OR NOT EXISTS (SELECT 1 FROM historial_pagos h WHERE h.id_pago = p.id AND h.version = 1)`,
    );
    expect(Number(rows[0]?.huerfanos)).toBe(0);
  });

  it('50 concurrentes con la misma clave desde DOS pools (dos procesos de la API): exactamente un pago', async () => {
    const a = await nuevaPersistencia({ tamanoPool: 4 });
    const b = crearPersistenciaPostgres({ url: a.url, tamanoPool: 4, nombreAplicacion: 'otro-proceso' });
    pendientesDeCierre.unshift(() => b.cerrar());
    const resultados = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 === 0 ? a : b).repositorio.crear(nuevoCambio('ref-carrera'), { idSocio: 'socio-1', clave: 'carrera' }, traza),
      ),
    );
    expect(resultados.filter((r) => r.tipo === 'creado')).toHaveLength(1);
    expect(new Set(resultados.map((r) => (r.tipo === 'denegado' ? 'denegado' : r.pago.id))).size).toBe(1);
    expect(await contar(a)).toEqual({ pagos: 1, outbox: 1, historial: 1 });
    const [ma, mb] = [a.repositorio.metricas(), b.repositorio.metricas()];
    console.info('[carrera entre pools] A:', JSON.stringify(ma), 'B:', JSON.stringify(mb));
    expect(ma.pagosCreados + mb.pagosCreados).toBe(1);
    expect(ma.existentes + mb.existentes).toBe(49);
    await b.cerrar();
  });

  it('lote mixto con duplicados dentro del lote y una clave ya existente: cada clave un pago, sin consultas extra', async () => {
    const p = await nuevaPersistencia({ enVueloMaximo: 1 });
    const previo = nuevoCambio('ref-previa');
    await p.repositorio.crear(previo, { idSocio: 'socio-1', clave: 'previa' }, traza);
    // Con un solo lote en vuelo, las que llegan a la vez viajan juntas (como mucho la primera sale sola).
    const claves = ['d', 'a', 'b', 'a', 'previa', 'c', 'b', 'a'];
    const cambios = claves.map((clave) => ({ clave, cambio: nuevoCambio(`ref-${clave}`) }));
    const resultados = await Promise.all(
      cambios.map(({ clave, cambio }) => p.repositorio.crear(cambio, { idSocio: 'socio-1', clave }, traza)),
    );
    const porClave = new Map<string, ResultadoCreacion[]>();
    resultados.forEach((r, i) => porClave.set(claves[i]!, [...(porClave.get(claves[i]!) ?? []), r]));
    for (const [clave, rs] of porClave) {
      const esperadosCreados = clave === 'previa' ? 0 : 1;
      expect(
        rs.filter((r) => r.tipo === 'creado'),
        clave,
      ).toHaveLength(esperadosCreados);
      expect(new Set(rs.map((r) => (r.tipo === 'denegado' ? 'denegado' : r.pago.id))).size, clave).toBe(1);
    }
    // El primero de cada clave en el lote es el que gana.
    expect(resultados[1]).toEqual({ tipo: 'creado', pago: cambios[1]!.cambio.pago });
    expect(resultados[3]).toEqual({ tipo: 'existente', pago: cambios[1]!.cambio.pago });
    expect(resultados[4]).toEqual({ tipo: 'existente', pago: previo.pago });
    expect(await contar(p)).toEqual({ pagos: 5, outbox: 5, historial: 5 });
    const m = p.repositorio.metricas();
    expect(m).toMatchObject({ pagosCreados: 5, existentes: 4, consultasSeguimiento: 0, reintentos: 0 });
    expect(m.mayorLote).toBeGreaterThanOrEqual(7);
    expect(m.sentencias).toBeLessThanOrEqual(3);
  });

  it('un lote que falla en PostgreSQL rechaza a todos sus llamantes con la causa y no escribe nada', async () => {
    const p = await nuevaPersistencia();
    const conLockTimeout = new URL(p.url);
    conLockTimeout.searchParams.set('options', '-c lock_timeout=300');
    const conTiempoDeEspera = crearPersistenciaPostgres({
      url: conLockTimeout.toString(),
      tamanoPool: 2,
    });
    pendientesDeCierre.unshift(() => conTiempoDeEspera.cerrar());
    const bloqueo = new pg.Client({ connectionString: p.url });
    await bloqueo.connect();
    try {
      await bloqueo.query('BEGIN');
      await bloqueo.query('LOCK TABLE pagos IN ACCESS EXCLUSIVE MODE');
      const resultados = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) =>
          conTiempoDeEspera.repositorio.crear(nuevoCambio(), { idSocio: 'socio-1', clave: `f-${i}` }, traza),
        ),
      );
      expect(resultados.every((r) => r.status === 'rejected')).toBe(true);
      for (const r of resultados) {
        const error = (r as PromiseRejectedResult).reason as Error;
        expect(error).toBeInstanceOf(Error);
        expect(error.message).toMatch(/^No se pudo registrar el pago/);
        expect((error.cause as { code?: string }).code).toBe('55P03');
      }
      expect(conTiempoDeEspera.repositorio.metricas().lotesFallidos).toBeGreaterThan(0);
    } finally {
      await bloqueo.query('ROLLBACK');
      await bloqueo.end();
    }
    expect(await contar(p)).toEqual({ pagos: 0, outbox: 0, historial: 0 });
    // El repositorio sigue sirviendo después.
    expect((await conTiempoDeEspera.repositorio.crear(nuevoCambio(), { idSocio: 'socio-1', clave: 'f-0' }, traza)).tipo).toBe('creado');
    await conTiempoDeEspera.cerrar();
  });

  it('conexiones cortadas a mitad de lote: quien falla recibe un Error con causa y lo confirmado está completo', async () => {
    const p = await nuevaPersistencia({ tamanoPool: 3, nombreAplicacion: 'pagos-a-cortar' });
    const bloqueo = new pg.Client({ connectionString: p.url });
    await bloqueo.connect();
    await bloqueo.query('BEGIN');
    await bloqueo.query('LOCK TABLE pagos IN ACCESS EXCLUSIVE MODE');
    const asentados = Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => p.repositorio.crear(nuevoCambio(), { idSocio: 'socio-1', clave: `c-${i}` }, traza)),
    );
    // Esperar a que los lotes estén bloqueados en el servidor y cortar sus conexiones.
    const admin = new pg.Client({ connectionString: p.url });
    await admin.connect();
    for (let i = 0; i < 100; i += 1) {
      const { rows } = await admin.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'pagos-a-cortar' AND wait_event_type = 'Lock'",
      );
      if (Number(rows[0]?.n) >= 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pagos-a-cortar'");
    await admin.end();
    await bloqueo.query('ROLLBACK');
    await bloqueo.end();
    const resultados = await asentados;
    const rechazados = resultados.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const creados = resultados.filter((r) => r.status === 'fulfilled' && r.value.tipo === 'creado');
    expect(rechazados.length).toBeGreaterThan(0);
    for (const r of rechazados) {
      expect(r.reason).toBeInstanceOf(Error);
      expect((r.reason as Error).cause).toBeDefined();
    }
    expect(creados.length + rechazados.length).toBe(60);
    expect(await contar(p)).toEqual({ pagos: creados.length, outbox: creados.length, historial: creados.length });
  });

  it('un dato que PostgreSQL rechaza en un lote solo tumba a su solicitud (se aíslan una a una)', async () => {
    const p = await nuevaPersistencia({ enVueloMaximo: 1 });
    const claves = ['primera', 'buena-1', 'mala\u0000clave', 'buena-2'];
    const resultados = await Promise.allSettled(
      claves.map((clave) => p.repositorio.crear(nuevoCambio(), { idSocio: 'socio-1', clave }, traza)),
    );
    expect(resultados.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(((resultados[2] as PromiseRejectedResult).reason as Error).cause).toBeDefined();
    expect(await contar(p)).toEqual({ pagos: 3, outbox: 3, historial: 3 });
  });
});

describe('PostgresRepositorioPagos: formato del outbox y lecturas', () => {
  it('la fila del outbox lleva payload snake_case, metadatos de traza y se deserializa al mismo evento', async () => {
    const p = await nuevaPersistencia();
    const cambio = nuevoCambio('ref-outbox', 999);
    await p.repositorio.crear(cambio, { idSocio: 'socio-1', clave: 'outbox' }, traza);
    const fila = await p.db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow();
    expect(fila).toMatchObject({
      id_evento: cambio.eventos[0]!.idEvento,
      id_agregado: cambio.pago.id,
      version_agregado: 1,
      tipo: 'PagoPendiente',
      fecha_publicacion: null,
      intentos: 0,
      secuencia: null,
      productor: null,
      metadatos: { id_correlacion: 'corr-lotes', traceparent: traza.traceparent },
    });
    expect(fila.payload).toMatchObject({ monto_unidades_menores: 999, moneda: 'USD', referencia_pago: 'ref-outbox' });
    expect(filaAEvento(fila)).toEqual({ ok: true, valor: { evento: cambio.eventos[0], traza } });
  });

  it('ids y cursores que no son UUID: obtener/historial dan null, listar lanza ErrorCursorInvalido', async () => {
    const p = await nuevaPersistencia();
    expect(await p.repositorio.obtener('no-es-uuid')).toBeNull();
    const ambito = { idSocio: 'socio-1', modo: 'live' } as const;
    expect(await p.consultas.obtenerPago(ambito, 'no-es-uuid')).toBeNull();
    expect(await p.consultas.historial(ambito, "'; DROP TABLE pagos; --")).toBeNull();
    await expect(p.consultas.listar({ ambito, limite: 10, cursor: 'zzz' })).rejects.toBeInstanceOf(ErrorCursorInvalido);
  });

  it('comprobarSalud: true con la base arriba, false tras cerrar', async () => {
    const p = await nuevaPersistencia();
    expect(await p.comprobarSalud()).toBe(true);
    await p.cerrar();
    expect(await p.comprobarSalud()).toBe(false);
  });
});
