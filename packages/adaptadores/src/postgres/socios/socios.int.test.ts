import { Dinero, crearPago, type CambioPago, type CredencialEscritura, type Modo } from '@aeropartners/dominio';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../ids/uuidv7.js';
import { crearBaseDePrueba } from '../../testing/index.js';
import { crearPersistenciaPostgres } from '../persistencia-postgres.js';
import { hashDeClave, prefijoDe } from './claves.js';
import { PostgresAdministracionSocios } from './postgres-administracion-socios.js';
import { PostgresAutenticadorDeClaves } from './postgres-autenticador-de-claves.js';

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

async function escenario(opciones: { plazoCacheMs?: number } = {}) {
  const base = await crearBaseDePrueba();
  const persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 8 });
  const admin = new PostgresAdministracionSocios(persistencia.pool);
  const autenticador = new PostgresAutenticadorDeClaves({
    pool: persistencia.pool,
    url: base.url,
    intervaloUltimoUsoMs: 60_000,
    ...opciones,
  });
  await autenticador.iniciar();
  cierres.push(async () => {
    await autenticador.cerrar();
    await persistencia.cerrar();
    await base.cerrar();
  });
  return { base, persistencia, admin, autenticador };
}

function ok<T>(r: { ok: true; valor: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(`Se esperaba ok: ${JSON.stringify(r.error)}`);
  return r.valor;
}

function nuevoCambio(idSocio: string, referencia: string, modo: Modo = 'live'): CambioPago {
  const monto = ok(Dinero.deUnidadesMenores(1_000, 'USD'));
  return ok(
    crearPago(
      { id: uuidv7(), idSocio, modo, idAfiliado: 'afiliado-1', monto, referenciaPago: referencia },
      { ahora: new Date(), nuevoId: uuidv7 },
    ),
  );
}

const traza = { idCorrelacion: 'corr-socios' };

async function esperarHasta(condicion: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const limite = Date.now() + ms;
  while (!(await condicion())) {
    if (Date.now() > limite) throw new Error('No se cumplió la condición a tiempo');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('claves de API sobre PostgreSQL', () => {
  it('crear un socio da una clave ap_live_ de ≥ 32 bytes aleatorios; solo se guarda su hash; autentica y no autentica otra', async () => {
    const { admin, autenticador, persistencia } = await escenario();
    const creado = ok(await admin.crear({ nombre: 'Alpes', firmaObligatoria: false, limiteRps: null, modo: 'live' }, new Date()));
    const { claveEnClaro, clave } = creado.clave;
    expect(claveEnClaro).toMatch(/^ap_live_[A-Za-z0-9_-]{56}$/);
    expect(Buffer.from(claveEnClaro.slice('ap_live_'.length), 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(clave.prefijo).toBe(prefijoDe(claveEnClaro));
    const { rows } = await persistencia.pool.query<{ hash_secreto: Buffer; fila: string }>(
      'SELECT hash_secreto, row_to_json(c)::text AS fila FROM claves_api c',
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.hash_secreto.equals(hashDeClave(claveEnClaro))).toBe(true);
    expect(rows[0]!.fila).not.toContain(claveEnClaro.slice(clave.prefijo.length));

    const r = await autenticador.autenticar(claveEnClaro, new Date());
    expect(r).toEqual({
      tipo: 'autenticada',
      credencial: { socio: creado.socio, idClave: clave.id, prefijoClave: clave.prefijo, modo: 'live', secretosFirma: [] },
    });
    // Mismo prefijo, otro secreto; otra forma; nada.
    const otra = `${claveEnClaro.slice(0, -1)}${claveEnClaro.endsWith('A') ? 'B' : 'A'}`;
    for (const mala of [otra, 'ap_live_corta', 'Bearer x', '', `ap_test_${claveEnClaro.slice(8)}`]) {
      expect(await autenticador.autenticar(mala, new Date()), mala).toEqual({ tipo: 'desconocida' });
    }
  });

  it('--test da una clave ap_test_ de modo prueba; con firma obligatoria, el secreto whsec_ viaja en la credencial', async () => {
    const { admin, autenticador } = await escenario();
    const creado = ok(await admin.crear({ nombre: 'Pruebas', firmaObligatoria: true, limiteRps: 50, modo: 'test' }, new Date()));
    expect(creado.clave.claveEnClaro).toMatch(/^ap_test_/);
    expect(creado.secretoFirma).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const r = await autenticador.autenticar(creado.clave.claveEnClaro, new Date());
    expect(r).toMatchObject({
      tipo: 'autenticada',
      credencial: { modo: 'test', secretosFirma: [creado.secretoFirma], socio: { limiteRps: 50 } },
    });
  });

  it('revocar, expirar y suspender: rechazada con su motivo; reactivar vuelve a dejar operar', async () => {
    const { admin, autenticador } = await escenario({ plazoCacheMs: 60_000 });
    const { socio, clave } = ok(await admin.crear({ nombre: 'S', firmaObligatoria: false, limiteRps: null, modo: 'live' }, new Date()));
    const ahora = new Date();
    expect((await autenticador.autenticar(clave.claveEnClaro, ahora)).tipo).toBe('autenticada');

    ok(await admin.suspender(socio.id));
    // La caché (60 s) se vacía con el aviso de la base en cuanto se confirma la suspensión.
    await esperarHasta(async () => (await autenticador.autenticar(clave.claveEnClaro, new Date())).tipo === 'rechazada');
    expect(await autenticador.autenticar(clave.claveEnClaro, new Date())).toEqual({
      tipo: 'rechazada',
      motivo: 'socio-suspendido',
      idSocio: socio.id,
    });
    expect(ok(await admin.suspender(socio.id)).cambiado).toBe(false);
    expect(ok(await admin.reactivar(socio.id)).cambiado).toBe(true);
    await esperarHasta(async () => (await autenticador.autenticar(clave.claveEnClaro, new Date())).tipo === 'autenticada');

    // Una segunda clave con plazo para la anterior: la anterior expira en ese instante.
    const plazo = new Date(Date.now() + 60_000);
    const segunda = ok(await admin.emitirClave(socio.id, 'live', new Date(), plazo));
    await esperarHasta(async () => {
      const r = await autenticador.autenticar(clave.claveEnClaro, new Date(plazo.getTime() + 1));
      return r.tipo === 'rechazada' && r.motivo === 'clave-expirada';
    });
    expect((await autenticador.autenticar(clave.claveEnClaro, new Date())).tipo).toBe('autenticada');

    ok(await admin.revocarClave(socio.id, segunda.clave.prefijo, new Date()));
    await esperarHasta(async () => (await autenticador.autenticar(segunda.claveEnClaro, new Date())).tipo === 'rechazada');
    expect(await autenticador.autenticar(segunda.claveEnClaro, new Date())).toEqual({
      tipo: 'rechazada',
      motivo: 'clave-revocada',
      idSocio: socio.id,
    });
    expect(await admin.revocarClave(socio.id, 'ap_live_noexiste00', new Date())).toMatchObject({
      ok: false,
      error: { tipo: 'ClaveNoEncontrada' },
    });
    expect(await admin.suspender('soc_nadie')).toMatchObject({ ok: false, error: { tipo: 'SocioNoEncontrado' } });
  });

  it('rotación: dos claves vigentes a la vez, las dos autentican a la vez; una tercera se niega hasta revocar una', async () => {
    const { admin, autenticador } = await escenario();
    const { socio, clave: primera } = ok(
      await admin.crear({ nombre: 'R', firmaObligatoria: false, limiteRps: null, modo: 'live' }, new Date()),
    );
    const segunda = ok(await admin.emitirClave(socio.id, 'live', new Date()));
    const usos = await Promise.all(
      Array.from({ length: 40 }, (_, i) => autenticador.autenticar((i % 2 === 0 ? primera : segunda).claveEnClaro, new Date())),
    );
    expect(usos.every((r) => r.tipo === 'autenticada' && r.credencial.socio.id === socio.id)).toBe(true);
    expect(new Set(usos.map((r) => (r.tipo === 'autenticada' ? r.credencial.idClave : '')))).toEqual(
      new Set([primera.clave.id, segunda.clave.id]),
    );
    expect(await admin.emitirClave(socio.id, 'live', new Date())).toMatchObject({
      ok: false,
      error: { tipo: 'DemasiadasClaves', vigentes: expect.any(Array) },
    });
    // Otro modo cuenta aparte.
    expect((await admin.emitirClave(socio.id, 'test', new Date())).ok).toBe(true);
    ok(await admin.revocarClave(socio.id, primera.clave.prefijo, new Date()));
    expect((await admin.emitirClave(socio.id, 'live', new Date())).ok).toBe(true);
  });

  it('diez emisiones concurrentes desde diez conexiones: nunca más de 2 claves vigentes por socio y modo (lo decide la base)', async () => {
    const { admin, base, persistencia } = await escenario();
    const { socio } = ok(await admin.crear({ nombre: 'Carrera', firmaObligatoria: false, limiteRps: null, modo: 'live' }, new Date()));
    // Cada «administrador» con su propio pool: como diez `pnpm socios clave` a la vez.
    const pools = Array.from({ length: 10 }, () => new pg.Pool({ connectionString: base.url, max: 1 }));
    cierres.push(() => Promise.all(pools.map((p) => p.end())).then(() => undefined));
    const resultados = await Promise.all(pools.map((p) => new PostgresAdministracionSocios(p).emitirClave(socio.id, 'live', new Date())));
    expect(resultados.filter((r) => r.ok)).toHaveLength(1);
    expect(resultados.filter((r) => !r.ok).map((r) => !r.ok && r.error.tipo)).toEqual(Array(9).fill('DemasiadasClaves'));
    // Y sin pasar por la regla del dominio: inserciones directas a la vez, solo quedan 2.
    await persistencia.pool.query('UPDATE claves_api SET revocada_en = now() WHERE id_socio = $1', [socio.id]);
    const directas = await Promise.allSettled(
      pools.map((p, i) =>
        p.query(
          "INSERT INTO claves_api (id, id_socio, prefijo, hash_secreto, modo) VALUES (gen_random_uuid(), $1, $2::text, sha256(convert_to($2::text, 'UTF8')), 'live')",
          [socio.id, `ap_live_directa${i}`],
        ),
      ),
    );
    expect(directas.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(
      directas
        .filter((r) => r.status === 'rejected')
        .map((r) => r.status === 'rejected' && (r.reason as { constraint?: string }).constraint),
    ).toEqual(Array(8).fill('claves_api_maximo_vigentes'));
  });

  it('socioAnonimo crea el socio si falta (una vez) y lo da como credencial sin clave en modo live', async () => {
    const { autenticador, persistencia } = await escenario();
    const [a, b] = await Promise.all([autenticador.socioAnonimo('semilla'), autenticador.socioAnonimo('semilla')]);
    expect(a).toEqual({
      socio: { id: 'semilla', nombre: 'semilla', estado: 'activo', firmaObligatoria: false, limiteRps: null },
      idClave: null,
      prefijoClave: null,
      modo: 'live',
      secretosFirma: [],
    });
    expect(b).toEqual(a);
    const { rows } = await persistencia.pool.query<{ n: string }>("SELECT count(*) AS n FROM socios WHERE id = 'semilla'");
    expect(rows[0]?.n).toBe('1');
    await expect(autenticador.socioAnonimo('no vale')).rejects.toThrow(/Id de socio anónimo inválido/);
  });

  it('el último uso se escribe por lotes (un UPDATE para muchas autenticaciones), nunca hacia atrás', async () => {
    const { admin, autenticador, persistencia } = await escenario();
    const { clave } = ok(await admin.crear({ nombre: 'U', firmaObligatoria: false, limiteRps: null, modo: 'live' }, new Date()));
    const leer = async () =>
      (await persistencia.pool.query<{ en: Date | null }>('SELECT ultimo_uso_en AS en FROM claves_api WHERE id = $1', [clave.clave.id]))
        .rows[0]?.en;
    const t1 = new Date('2026-12-05T01:00:00Z');
    for (let i = 0; i < 50; i += 1) await autenticador.autenticar(clave.claveEnClaro, new Date(t1.getTime() - i * 1000));
    expect(await leer()).toBeNull();
    await autenticador.escribirUltimosUsos();
    // Lo anotado es el de la última autenticación (la más antigua de este bucle): luego otra más nueva.
    expect((await leer())?.toISOString()).toBe(new Date(t1.getTime() - 49_000).toISOString());
    await autenticador.autenticar(clave.claveEnClaro, t1);
    await autenticador.escribirUltimosUsos();
    await autenticador.autenticar(clave.claveEnClaro, new Date(t1.getTime() - 3_600_000));
    await autenticador.escribirUltimosUsos();
    expect((await leer())?.toISOString()).toBe(t1.toISOString());
  });
});

describe('la credencial se comprueba en la sentencia que crea el pago', () => {
  const credencialDe = (idClave: string | null): CredencialEscritura => ({ idClave });

  it('dos socios con las mismas referencias, a la vez: dos pagos por referencia, y las repeticiones de cada uno con el suyo', async () => {
    const { admin, autenticador, persistencia } = await escenario();
    const socios = await Promise.all(
      ['A', 'B'].map((n) => admin.crear({ nombre: n, firmaObligatoria: false, limiteRps: null, modo: 'live' }, new Date())),
    );
    const [a, b] = socios.map(ok);
    const credenciales = await Promise.all(
      [a!, b!].map(async (s) => {
        const r = await autenticador.autenticar(s.clave.claveEnClaro, new Date());
        if (r.tipo !== 'autenticada') throw new Error('no autenticó');
        return r.credencial;
      }),
    );
    const referencias = Array.from({ length: 30 }, (_, i) => `ref-${i}`);
    const peticiones = referencias.flatMap((ref) =>
      credenciales.flatMap((c) =>
        [1, 2, 3].map(() =>
          persistencia.repositorio.crear(nuevoCambio(c.socio.id, ref), { idSocio: c.socio.id, clave: ref }, traza, credencialDe(c.idClave)),
        ),
      ),
    );
    const resultados = await Promise.all(peticiones);
    expect(resultados.filter((r) => r.tipo === 'creado')).toHaveLength(60);
    expect(resultados.filter((r) => r.tipo === 'existente')).toHaveLength(120);
    for (const r of resultados) if (r.tipo !== 'denegado') expect(r.pago.referenciaPago).toMatch(/^ref-/);
    const porSocio = new Map<string, Set<string>>();
    for (const r of resultados) {
      if (r.tipo === 'denegado') continue;
      const ids = porSocio.get(`${r.pago.idSocio} ${r.pago.referenciaPago}`) ?? new Set();
      ids.add(r.pago.id);
      porSocio.set(`${r.pago.idSocio} ${r.pago.referenciaPago}`, ids);
    }
    expect([...porSocio.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(porSocio.size).toBe(60);
  });

  it('clave revocada, expirada, de otro socio o de otro modo, socio suspendido o inexistente: denegado y nada escrito', async () => {
    const { admin, persistencia } = await escenario();
    const a = ok(await admin.crear({ nombre: 'A', firmaObligatoria: false, limiteRps: null, modo: 'live' }, new Date()));
    const b = ok(await admin.crear({ nombre: 'B', firmaObligatoria: false, limiteRps: null, modo: 'live' }, new Date()));
    const prueba = ok(await admin.emitirClave(a.socio.id, 'test', new Date()));
    const crear = (idSocio: string, idClave: string | null, modo: Modo = 'live') =>
      persistencia.repositorio.crear(
        nuevoCambio(idSocio, `r-${uuidv7()}`, modo),
        { idSocio, clave: uuidv7() },
        traza,
        credencialDe(idClave),
      );

    expect(await crear(a.socio.id, b.clave.clave.id)).toEqual({ tipo: 'denegado', motivo: 'clave-revocada' });
    expect(await crear(a.socio.id, prueba.clave.id, 'live')).toEqual({ tipo: 'denegado', motivo: 'clave-revocada' });
    expect((await crear(a.socio.id, prueba.clave.id, 'test')).tipo).toBe('creado');
    expect(await crear('soc_nadie', null)).toEqual({ tipo: 'denegado', motivo: 'socio-suspendido' });
    ok(await admin.revocarClave(b.socio.id, b.clave.clave.prefijo, new Date()));
    expect(await crear(b.socio.id, b.clave.clave.id)).toEqual({ tipo: 'denegado', motivo: 'clave-revocada' });
    ok(await admin.emitirClave(a.socio.id, 'live', new Date(), new Date(Date.now() + 300)));
    await new Promise((r) => setTimeout(r, 400));
    expect(await crear(a.socio.id, a.clave.clave.id)).toEqual({ tipo: 'denegado', motivo: 'clave-expirada' });
    ok(await admin.suspender(a.socio.id));
    expect(await crear(a.socio.id, null)).toEqual({ tipo: 'denegado', motivo: 'socio-suspendido' });
    const { rows } = await persistencia.pool.query<{ pagos: string; outbox: string; historial: string }>(
      'SELECT (SELECT count(*) FROM pagos) AS pagos, (SELECT count(*) FROM outbox) AS outbox, (SELECT count(*) FROM historial_pagos) AS historial',
    );
    expect(rows[0]).toEqual({ pagos: '1', outbox: '1', historial: '1' });
    expect(persistencia.repositorio.metricas().denegadas).toBe(6);
  });

  it('revocación a mitad de carga: ninguna escritura con la clave se confirma después de confirmarse la revocación', async () => {
    const { admin, base, persistencia } = await escenario();
    const { socio, clave } = ok(await admin.crear({ nombre: 'Carga', firmaObligatoria: false, limiteRps: null, modo: 'live' }, new Date()));
    const otra = ok(await admin.emitirClave(socio.id, 'live', new Date()));
    // Otro «proceso» de la API: su propio pool y su propio repositorio, también escribiendo.
    const otroProceso = crearPersistenciaPostgres({ url: base.url, tamanoPool: 8 });
    cierres.push(() => otroProceso.cerrar());
    const repos = [persistencia.repositorio, otroProceso.repositorio];

    let revocadaConfirmada = false;
    let parar = false;
    const tras: string[] = [];
    let n = 0;
    const trabajador = async (repo: (typeof repos)[number]) => {
      while (!parar) {
        n += 1;
        const ref = `carga-${n}`;
        const emitidaTras = revocadaConfirmada;
        // Las dos claves del socio a la vez (rotación); solo la primera se revoca.
        const idClave = n % 2 === 0 ? clave.clave.id : otra.clave.id;
        const r = await repo.crear(nuevoCambio(socio.id, ref), { idSocio: socio.id, clave: ref }, traza, credencialDe(idClave));
        if (idClave === clave.clave.id && emitidaTras && r.tipo !== 'denegado') tras.push(`${ref}: ${r.tipo}`);
      }
    };
    const trabajadores = Array.from({ length: 40 }, (_, i) => trabajador(repos[i % 2]!));
    await esperarHasta(async () => {
      const { rows } = await persistencia.pool.query<{ n: string }>('SELECT count(*) AS n FROM pagos');
      return Number(rows[0]?.n) >= 300;
    }, 30_000);

    // La revocación, en su transacción: el UPDATE espera a las sentencias que tienen la clave; lo que
    // cuente después de él es todo lo que la clave llegará a escribir.
    const cliente = new pg.Client({ connectionString: base.url });
    await cliente.connect();
    cierres.push(() => cliente.end());
    const paresDe = async (c: { query: pg.Client['query'] }) =>
      Number(
        (
          await c.query<{ n: string }>(
            // Las referencias pares son las de la clave que se revoca.
            `SELECT count(*) AS n FROM pagos WHERE clave_idempotencia ~ '^carga-' AND (substring(clave_idempotencia from 7)::int % 2) = 0`,
          )
        ).rows[0]?.n,
      );
    await cliente.query('BEGIN');
    await cliente.query('UPDATE claves_api SET revocada_en = now() WHERE id = $1', [clave.clave.id]);
    const paresAlRevocar = await paresDe(cliente);
    await cliente.query('COMMIT');
    revocadaConfirmada = true;

    await new Promise((r) => setTimeout(r, 1_500));
    parar = true;
    await Promise.all(trabajadores);
    expect(paresAlRevocar).toBeGreaterThan(0);
    expect(await paresDe(cliente), 'pagos de la clave revocada confirmados después de la revocación').toBe(paresAlRevocar);
    expect(tras, 'peticiones con la clave revocada emitidas tras confirmarse la revocación que no se denegaron').toEqual([]);
    // La otra clave siguió escribiendo después.
    const { rows } = await persistencia.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM pagos WHERE clave_idempotencia ~ '^carga-' AND (substring(clave_idempotencia from 7)::int % 2) = 1`,
    );
    expect(Number(rows[0]?.n)).toBeGreaterThan(paresAlRevocar);
    expect(persistencia.repositorio.metricas().denegadas + otroProceso.repositorio.metricas().denegadas).toBeGreaterThan(0);
  });
});
