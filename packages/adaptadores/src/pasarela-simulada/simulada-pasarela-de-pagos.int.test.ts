import { probarContratoPasarela, type DesenlaceForzado } from '@aeropartners/aplicacion/testing';
import { Dinero, type ResultadoPago, type SolicitudCobro } from '@aeropartners/dominio';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crearBaseDePrueba, type BaseDePrueba } from '../testing/index.js';
import { desenlaceDefinitivo } from './decisiones-simuladas.js';
import {
  MENSAJES_RECHAZO_SEMILLA,
  PERFIL_LOCAL,
  PERFIL_SEMILLA,
  cargosDe,
  contarCargosPorPago,
  crearPasarelaSimulada,
  prepararPasarelaSimulada,
  resumirLibroCargos,
  type ConfiguracionPasarelaSimulada,
  type ContadoresPasarelaSimulada,
  type SimuladaPasarelaDePagos,
} from './index-pasarela-simulada.js';

let base: BaseDePrueba;
let pool: pg.Pool;
let db: Kysely<any>;
const poolsExtra: pg.Pool[] = [];

function nuevoPool(url = base.url, max = 10): pg.Pool {
  const p = new pg.Pool({ connectionString: url, max });
  poolsExtra.push(p);
  return p;
}

beforeAll(async () => {
  base = await crearBaseDePrueba();
  pool = new pg.Pool({ connectionString: base.url, max: 10 });
  db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  await prepararPasarelaSimulada(db);
});

afterAll(async () => {
  await Promise.all(poolsExtra.map((p) => p.end().catch(() => undefined)));
  await db?.destroy();
  await base?.cerrar();
});

async function contarExitosos(idPago: string): Promise<number> {
  return (await cargosDe(db, idPago)).filter((c) => c.resultado === 'exitoso').length;
}

/** Fábrica para la suite de contrato: `configurar` fuerza el desenlace vía `desenlaceForzado`. */
function fabricaSimulada(configuracion: ConfiguracionPasarelaSimulada, fuente: 'db' | 'pool' = 'db') {
  return () => {
    const forzados = new Map<string, DesenlaceForzado>();
    const pasarela = crearPasarelaSimulada({
      ...(fuente === 'db' ? { db } : { pool }),
      ...configuracion,
      desenlaceForzado: (s) => {
        const forzado = forzados.get(s.idPago);
        if (forzado === 'incierto') forzados.delete(s.idPago); // un solo intento
        return forzado;
      },
    });
    return {
      pasarela,
      contarCargos: contarExitosos,
      configurar: (idPago: string, desenlace: DesenlaceForzado) => void forzados.set(idPago, desenlace),
    };
  };
}

const soloExitos = { latenciaMaxMs: 0, tasaRechazo: 0, tasaTransitorio: 0 };
const inestable = { latenciaMaxMs: 3, tasaRechazo: 0.4, tasaTransitorio: 0.4 };
probarContratoPasarela('simulada, 0 ms, sin rechazos ni transitorios', fabricaSimulada(soloExitos));
probarContratoPasarela('simulada, perfil local (0–20 ms, 10 % rechazos, 2 % transitorios)', fabricaSimulada(PERFIL_LOCAL));
probarContratoPasarela('simulada, inestable (0–3 ms, 40 % rechazos, 40 % transitorios)', fabricaSimulada(inestable));
probarContratoPasarela('simulada sobre un pool de pg', fabricaSimulada({ ...inestable, tasaRechazo: 0.1 }, 'pool'));

// ── Casos propios de la pasarela simulada ────────────────────────────────────

function monto(unidades: number, moneda: 'USD' | 'EUR' | 'COP' = 'USD'): Dinero {
  const d = Dinero.deUnidadesMenores(unidades, moneda);
  if (!d.ok) throw new Error('monto inválido');
  return d.valor;
}

function solicitud(cambios: Partial<SolicitudCobro> = {}): SolicitudCobro {
  const idPago = cambios.idPago ?? crypto.randomUUID();
  return {
    idPago,
    idAfiliado: 'afiliado-1',
    monto: monto(15_075),
    referenciaPago: `REF-${idPago.slice(0, 8)}`,
    claveIdempotencia: idPago,
    traza: { idCorrelacion: `corr-${idPago.slice(0, 8)}` },
    ...cambios,
  };
}

async function cobrarHastaDefinitivo(pasarela: SimuladaPasarelaDePagos, s: SolicitudCobro, tipos?: string[]): Promise<ResultadoPago> {
  for (let i = 0; i < 100; i += 1) {
    const r = await pasarela.cobrar(s);
    tipos?.push(r.tipo);
    if (r.tipo !== 'incierto') return r;
  }
  throw new Error('demasiados transitorios');
}

/** Ejecuta `tarea` sobre cada elemento con `enParalelo` a la vez como mucho. */
async function enLotes<T, R>(elementos: readonly T[], enParalelo: number, tarea: (e: T) => Promise<R>): Promise<R[]> {
  const salida: R[] = [];
  for (let i = 0; i < elementos.length; i += enParalelo) {
    salida.push(...(await Promise.all(elementos.slice(i, i + enParalelo).map(tarea))));
  }
  return salida;
}

/** Espera que no deja pasar a nadie hasta que han llegado `n`: todas las llamadas pasan la búsqueda antes de que ninguna registre. */
function barrera(n: number): { esperar: (ms: number) => Promise<void>; esperas: number[] } {
  const esperas: number[] = [];
  let abrir!: () => void;
  const abierta = new Promise<void>((r) => {
    abrir = r;
  });
  return {
    esperas,
    esperar: (ms) => {
      esperas.push(ms);
      if (esperas.length >= n) abrir();
      return abierta;
    },
  };
}

function sumar(a: ContadoresPasarelaSimulada, b: ContadoresPasarelaSimulada): ContadoresPasarelaSimulada {
  return Object.fromEntries(Object.keys(a).map((k) => [k, a[k as keyof typeof a] + b[k as keyof typeof b]])) as unknown as ContadoresPasarelaSimulada;
}

/** UUIDs fijos (no aleatorios): la misma ejecución da lo mismo hoy y mañana. */
function uuidFijo(grupo: number, i: number): string {
  return `${grupo.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

describe('SimuladaPasarelaDePagos sobre PostgreSQL', () => {
  it('registra cada decisión en pasarela_simulada.cargos con todos sus campos', async () => {
    const forzados = new Map<string, DesenlaceForzado>();
    const pasarela = crearPasarelaSimulada({
      db,
      latenciaMaxMs: 0,
      tasaTransitorio: 0,
      semilla: 3,
      desenlaceForzado: (s) => forzados.get(s.idPago),
    });
    const cobro = solicitud({ monto: monto(2_500_000, 'COP') });
    const rechazo = solicitud();
    forzados.set(cobro.idPago, 'exitoso').set(rechazo.idPago, 'rechazado');

    const exitoso = await pasarela.cobrar(cobro);
    const rechazado = await pasarela.cobrar(rechazo);

    expect(exitoso).toEqual({ tipo: 'exitoso', referenciaTransaccion: expect.stringMatching(/^ch_sim_[0-9a-f]{24}$/) });
    expect(rechazado).toEqual({ tipo: 'rechazado', mensaje: expect.toBeOneOf([...MENSAJES_RECHAZO_SEMILLA]) });
    expect(await cargosDe(db, cobro.idPago)).toEqual([
      {
        claveIdempotencia: cobro.idPago,
        idPago: cobro.idPago,
        resultado: 'exitoso',
        referenciaTransaccion: exitoso.tipo === 'exitoso' ? exitoso.referenciaTransaccion : null,
        mensaje: null,
        unidadesMenores: 2_500_000,
        moneda: 'COP',
        intentos: 1,
        creadoEn: expect.any(Date),
        idCorrelacion: cobro.traza.idCorrelacion,
      },
    ]);
    expect(await cargosDe(db, rechazo.idPago)).toMatchObject([
      { resultado: 'rechazado', referenciaTransaccion: null, mensaje: rechazado.tipo === 'rechazado' ? rechazado.mensaje : '', unidadesMenores: 15_075, moneda: 'USD' },
    ]);
    expect(pasarela.contadores()).toMatchObject({ llamadas: 2, cargosNuevos: 1, rechazosNuevos: 1, repeticionesAbsorbidas: 0 });

    // Repetir cuenta como duplicado absorbido y no escribe nada.
    expect(await pasarela.cobrar(cobro)).toEqual(exitoso);
    expect(await pasarela.cobrar(rechazo)).toEqual(rechazado);
    expect(pasarela.contadores()).toMatchObject({ llamadas: 4, cargosNuevos: 1, rechazosNuevos: 1, repeticionesAbsorbidas: 2 });
    expect(await cargosDe(db, cobro.idPago)).toHaveLength(1);
  });

  it('dos procesos (dos pools) con 20 llamadas simultáneas y la misma clave: exactamente una fila y un solo desenlace', async () => {
    const s = solicitud();
    // Semillas distintas: cada «proceso» decidiría otra cosa (otra referencia, quizá otro tipo); solo uno gana.
    const { esperar, esperas } = barrera(20);
    const comun = { latenciaMinMs: 1, latenciaMaxMs: 1, tasaRechazo: 0.5, tasaTransitorio: 0, esperar };
    const a = crearPasarelaSimulada({ pool: nuevoPool(), semilla: 'proceso-a', ...comun });
    const b = crearPasarelaSimulada({ pool: nuevoPool(), semilla: 'proceso-b', ...comun });

    const resultados = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).cobrar(s)));

    // La barrera garantiza que las 20 pasaron la búsqueda sin ver nada y compitieron en el INSERT.
    expect(esperas).toHaveLength(20);
    const filas = await cargosDe(db, s.idPago);
    expect(filas).toHaveLength(1);
    const fila = filas[0]!;
    const esperado: ResultadoPago =
      fila.resultado === 'exitoso'
        ? { tipo: 'exitoso', referenciaTransaccion: fila.referenciaTransaccion! }
        : { tipo: 'rechazado', mensaje: fila.mensaje! };
    for (const r of resultados) expect(r).toEqual(esperado);
    const total = sumar(a.contadores(), b.contadores());
    expect(total).toMatchObject({ llamadas: 20, repeticionesAbsorbidas: 19, carrerasPerdidas: 19, transitorios: 0 });
    expect(total.cargosNuevos + total.rechazosNuevos).toBe(1);
  });

  it('dos procesos con latencia real y 20 llamadas con la misma clave: una fila', async () => {
    const s = solicitud();
    const comun = { latenciaMinMs: 0, latenciaMaxMs: 5, tasaRechazo: 0, tasaTransitorio: 0 };
    const a = crearPasarelaSimulada({ pool: nuevoPool(), semilla: 1, ...comun });
    const b = crearPasarelaSimulada({ pool: nuevoPool(), semilla: 2, ...comun });
    const resultados = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).cobrar(s)));
    expect(new Set(resultados.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(await cargosDe(db, s.idPago)).toHaveLength(1);
    expect(sumar(a.contadores(), b.contadores()).cargosNuevos).toBe(1);
  });

  it('agrupa: 200 cobros simultáneos con claves distintas y 20 con una clave compartida → 201 filas, una decisión', async () => {
    const idsPago: string[] = [];
    const distintas = Array.from({ length: 200 }, () => {
      const s = solicitud();
      idsPago.push(s.idPago);
      return s;
    });
    const compartida = solicitud();
    idsPago.push(compartida.idPago);
    const pasarela = crearPasarelaSimulada({ pool: nuevoPool(), latenciaMaxMs: 0, tasaRechazo: 0.3, tasaTransitorio: 0 });
    const todas = [...distintas, ...Array.from({ length: 20 }, () => compartida)];
    const resultados = await Promise.all(todas.map((s) => pasarela.cobrar(s)));

    const { rows } = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pasarela_simulada.cargos WHERE id_pago = ANY($1::uuid[])',
      [idsPago],
    );
    expect(rows[0]!.n).toBe(201);
    expect(await cargosDe(db, compartida.idPago)).toHaveLength(1);
    expect(new Set(resultados.slice(200).map((r) => JSON.stringify(r))).size).toBe(1);
    const c = pasarela.contadores();
    expect(c).toMatchObject({ llamadas: 220, repeticionesAbsorbidas: 19, transitorios: 0, clavesReutilizadas: 0 });
    expect(c.cargosNuevos + c.rechazosNuevos).toBe(201);
  });

  it('tras una caída, otro proceso con la misma clave devuelve lo guardado y no cobra otra vez', async () => {
    const s = solicitud();
    const poolA = nuevoPool();
    const a = crearPasarelaSimulada({ pool: poolA, semilla: 'antes', latenciaMaxMs: 0, tasaRechazo: 0, tasaTransitorio: 0 });
    const antes = await a.cobrar(s);
    await poolA.end(); // el proceso muere

    const b = crearPasarelaSimulada({ pool: nuevoPool(), semilla: 'despues', latenciaMaxMs: 0, tasaRechazo: 1, tasaTransitorio: 0 });
    expect(await b.cobrar(s)).toEqual(antes);
    expect(b.contadores()).toMatchObject({ repeticionesAbsorbidas: 1, cargosNuevos: 0, rechazosNuevos: 0 });
    expect(await cargosDe(db, s.idPago)).toHaveLength(1);
  });

  it('determinista dada la semilla: la misma secuencia de transitorios y los mismos desenlaces', async () => {
    const configuracion = { latenciaMaxMs: 0, tasaRechazo: 0.5, tasaTransitorio: 0.3 };
    const pagos = Array.from({ length: 100 }, (_, i) => solicitud({ idPago: uuidFijo(0xd7, i), claveIdempotencia: uuidFijo(0xd7, i) }));
    const ids = pagos.map((p) => p.idPago);

    async function ejecutar(semilla: number) {
      await db.deleteFrom('pasarela_simulada.cargos').where('id_pago', 'in', ids).execute();
      const pasarela = crearPasarelaSimulada({ db, semilla, ...configuracion });
      const salida = [];
      for (const p of pagos) {
        const tipos: string[] = [];
        const final = await cobrarHastaDefinitivo(pasarela, p, tipos);
        salida.push({ tipos, final });
      }
      return salida;
    }

    const primera = await ejecutar(7);
    const segunda = await ejecutar(7);
    const otraSemilla = await ejecutar(8);

    expect(segunda).toEqual(primera);
    expect(otraSemilla).not.toEqual(primera);
    // Hubo de todo, y el desenlace definitivo es el de (semilla, clave), sin importar los transitorios.
    const tipos = primera.flatMap((r) => r.tipos);
    expect(tipos).toContain('incierto');
    expect(tipos).toContain('rechazado');
    expect(tipos).toContain('exitoso');
    for (const [i, p] of pagos.entries()) {
      expect(primera[i]?.final).toEqual(
        desenlaceDefinitivo({ latenciaMinMs: 0, ...configuracion }, 7, p.claveIdempotencia, MENSAJES_RECHAZO_SEMILLA, 'ch_sim_'),
      );
    }
    // La columna intentos guarda en qué intento se decidió.
    const ultima = otraSemilla.at(-1)!;
    expect((await cargosDe(db, pagos.at(-1)!.idPago))[0]?.intentos).toBe(ultima.tipos.length);
  });

  it('2 000 claves sin latencia: las tasas de rechazo y de transitorios se respetan (cota holgada)', async () => {
    const pasarela = crearPasarelaSimulada({ db, latenciaMaxMs: 0, tasaRechazo: 0.1, tasaTransitorio: 0.05, semilla: 2_000 });
    const pagos = Array.from({ length: 2_000 }, () => solicitud());
    const primeros = await enLotes(pagos, 50, (p) => pasarela.cobrar(p));
    const finales = await enLotes(pagos, 50, (p) => cobrarHastaDefinitivo(pasarela, p));

    const transitorios = primeros.filter((r) => r.tipo === 'incierto').length / 2_000;
    const rechazos = finales.filter((r) => r.tipo === 'rechazado').length / 2_000;
    expect(transitorios).toBeGreaterThan(0.025); // esperado 0,05; σ ≈ 0,005
    expect(transitorios).toBeLessThan(0.075);
    expect(rechazos).toBeGreaterThan(0.07); // esperado 0,10; σ ≈ 0,007
    expect(rechazos).toBeLessThan(0.13);

    const porPago = await contarCargosPorPago(db);
    for (const [i, p] of pagos.entries()) expect(porPago.get(p.idPago)).toBe(finales[i]?.tipo === 'exitoso' ? 1 : 0);
    const c = pasarela.contadores();
    expect(c.cargosNuevos + c.rechazosNuevos).toBe(2_000);
    expect(c.rechazosNuevos / 2_000).toBe(rechazos);
  });

  it('perfil semilla: latencias de 2 a 8 s y la mitad rechazados con sus mensajes (sin esperar de verdad)', async () => {
    const esperas: number[] = [];
    const pasarela = crearPasarelaSimulada({
      db,
      ...PERFIL_SEMILLA,
      semilla: 'semilla',
      esperar: async (ms) => void esperas.push(ms),
    });
    const finales = await enLotes(Array.from({ length: 1_000 }, () => solicitud()), 50, (p) => pasarela.cobrar(p));
    expect(esperas).toHaveLength(1_000);
    expect(Math.min(...esperas)).toBeGreaterThanOrEqual(2_000);
    expect(Math.max(...esperas)).toBeLessThanOrEqual(8_000);
    const mensajes = finales.flatMap((r) => (r.tipo === 'rechazado' ? [r.mensaje] : []));
    expect(finales.filter((r) => r.tipo === 'incierto')).toEqual([]);
    expect(mensajes.length / 1_000).toBeGreaterThan(0.42); // esperado 0,5; σ ≈ 0,016
    expect(mensajes.length / 1_000).toBeLessThan(0.58);
    expect(new Set(mensajes)).toEqual(new Set(MENSAJES_RECHAZO_SEMILLA));
  });

  it('un transitorio no registra nada: ocurrió antes de cobrar', async () => {
    const siempre = crearPasarelaSimulada({ db, latenciaMaxMs: 0, tasaTransitorio: 1, tasaRechazo: 0 });
    const pagos = Array.from({ length: 30 }, () => solicitud());
    const resultados = await Promise.all(pagos.map((p) => siempre.cobrar(p)));
    for (const r of resultados) expect(r).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('se puede reintentar con la misma clave') });
    const { filas } = await db
      .selectFrom('pasarela_simulada.cargos')
      .select(sql<string>`count(*)`.as('filas'))
      .where('id_pago', 'in', pagos.map((p) => p.idPago))
      .executeTakeFirstOrThrow();
    expect(Number(filas)).toBe(0);
    expect(siempre.contadores()).toMatchObject({ llamadas: 30, transitorios: 30, cargosNuevos: 0, rechazosNuevos: 0 });

    // Cuando la pasarela se recupera, el reintento con la misma clave cobra una vez.
    const recuperada = crearPasarelaSimulada({ db, latenciaMaxMs: 0, tasaTransitorio: 0, tasaRechazo: 0 });
    await Promise.all(pagos.map((p) => recuperada.cobrar(p)));
    for (const p of pagos) expect(await contarExitosos(p.idPago)).toBe(1);
  });

  it('latencia 0: ningún temporizador; con latencia, solo los intentos nuevos esperan (las repeticiones no)', async () => {
    const esperas: number[] = [];
    const esperar = async (ms: number) => void esperas.push(ms);
    const sinLatencia = crearPasarelaSimulada({ db, latenciaMinMs: 0, latenciaMaxMs: 0, tasaTransitorio: 0.5, esperar });
    for (let i = 0; i < 50; i += 1) await sinLatencia.cobrar(solicitud());
    expect(esperas).toEqual([]);

    const conLatencia = crearPasarelaSimulada({ db, latenciaMinMs: 5, latenciaMaxMs: 5, tasaTransitorio: 0, esperar });
    const s = solicitud();
    await conLatencia.cobrar(s);
    await conLatencia.cobrar(s);
    await conLatencia.cobrar(s);
    expect(esperas).toEqual([5]);
  });

  it('la misma clave con otro monto, moneda o pago: rechazado sin cobrar, y lo guardado sigue igual', async () => {
    const pasarela = crearPasarelaSimulada({ db, latenciaMaxMs: 0, tasaRechazo: 0, tasaTransitorio: 0 });
    const s = solicitud();
    const original = await pasarela.cobrar(s);
    const otras = [
      solicitud({ ...s, monto: monto(99) }),
      solicitud({ ...s, monto: monto(15_075, 'EUR') }),
      solicitud({ ...s, idPago: crypto.randomUUID() }),
    ];
    for (const otra of otras) {
      expect(await pasarela.cobrar(otra)).toEqual({
        tipo: 'rechazado',
        mensaje: `La clave de idempotencia ${s.claveIdempotencia} ya se usó con otros parámetros (pago ${s.idPago}, 150.75 USD): no se cobró nada con esta solicitud.`,
      });
    }
    expect(pasarela.contadores()).toMatchObject({ clavesReutilizadas: 3, cargosNuevos: 1 });
    expect(await pasarela.cobrar(s)).toEqual(original);
    expect(await cargosDe(db, s.idPago)).toHaveLength(1);
  });

  it('un fallo de la base de datos se lanza como Error con causa, no como resultado', async () => {
    const muerto = nuevoPool();
    await muerto.end();
    const pasarela = crearPasarelaSimulada({ pool: muerto, latenciaMaxMs: 0 });
    const error = await pasarela.cobrar(solicitud()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^La pasarela simulada no pudo buscar la clave .* en su libro de cargos/);
    expect((error as Error).cause).toBeDefined();
  });

  it('rechaza una configuración imposible al construirse', () => {
    expect(() => crearPasarelaSimulada({ db, tasaRechazo: 2 })).toThrow(/tasaRechazo debe estar entre 0 y 1/);
    expect(() => crearPasarelaSimulada({ db, latenciaMinMs: 10, latenciaMaxMs: 5 })).toThrow(/no puede superar/);
    expect(() => crearPasarelaSimulada({ db, mensajesRechazo: [] })).toThrow(/mensajes de rechazo/);
  });
});

describe('libro de cargos en una base propia', () => {
  let propia: BaseDePrueba;
  let poolPropio: pg.Pool;

  beforeAll(async () => {
    propia = await crearBaseDePrueba();
    poolPropio = new pg.Pool({ connectionString: propia.url, max: 4 });
  });
  afterAll(async () => {
    await poolPropio?.end();
    await propia?.cerrar();
  });

  it('prepararPasarelaSimulada: segura con varios procesos a la vez, idempotente, y no toca las migraciones de pagos', async () => {
    // Tres «procesos», cada uno con su pool; se cierran antes de que la base se borre.
    const pools = Array.from({ length: 3 }, () => new pg.Pool({ connectionString: propia.url, max: 2 }));
    const aplicadas = await Promise.all(pools.map((p) => prepararPasarelaSimulada(p))).finally(() =>
      Promise.all(pools.map((p) => p.end())),
    );
    expect(aplicadas.flat()).toEqual(['0001-libro-cargos']);
    expect(await prepararPasarelaSimulada(poolPropio)).toEqual([]);

    const { rows } = await poolPropio.query<{ tabla: string }>(
      `select table_schema || '.' || table_name as tabla from information_schema.tables
        where table_schema = 'pasarela_simulada' order by 1`,
    );
    expect(rows.map((r) => r.tabla)).toEqual([
      'pasarela_simulada.cargos',
      'pasarela_simulada.migraciones',
      'pasarela_simulada.migraciones_cerrojo',
    ]);
    // Las migraciones de pagos siguen en su sitio y sin filas ajenas.
    const pagos = await poolPropio.query<{ name: string }>('select name from public.kysely_migration');
    expect(pagos.rows.map((r) => r.name)).not.toContain('0001-libro-cargos');
  });

  it('contarCargosPorPago y resumirLibroCargos: detectan un pago cobrado dos veces con claves distintas', async () => {
    await prepararPasarelaSimulada(poolPropio);
    const pasarela = crearPasarelaSimulada({ pool: poolPropio, latenciaMaxMs: 0, tasaTransitorio: 0, tasaRechazo: 0 });
    const uno = solicitud();
    const doble = solicitud();
    const rechazado = solicitud();
    await pasarela.cobrar(uno);
    await pasarela.cobrar(doble);
    await pasarela.cobrar({ ...doble, claveIdempotencia: `${doble.idPago}-otra` }); // un consumidor con otra clave: el error a detectar
    await crearPasarelaSimulada({ pool: poolPropio, latenciaMaxMs: 0, tasaTransitorio: 0, tasaRechazo: 1 }).cobrar(rechazado);

    expect(await contarCargosPorPago(poolPropio)).toEqual(
      new Map([
        [uno.idPago, 1],
        [doble.idPago, 2],
        [rechazado.idPago, 0],
      ]),
    );
    expect(await resumirLibroCargos(poolPropio)).toEqual({ pagos: 3, cargos: 3, rechazos: 1, pagosCobradosVariasVeces: [doble.idPago] });
    expect((await cargosDe(poolPropio, doble.idPago)).map((c) => c.claveIdempotencia).sort()).toEqual([doble.idPago, `${doble.idPago}-otra`].sort());
  });
});
