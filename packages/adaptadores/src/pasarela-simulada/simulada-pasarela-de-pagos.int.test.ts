import { crearManejadorEventos, crearManejadorRegistrarPago } from '@aeropartners/aplicacion';
import { RepositorioPagosEnMemoria, idsSecuenciales, relojFijo } from '@aeropartners/aplicacion/testing';
import { probarContratoPasarela, type DesenlaceForzado } from '@aeropartners/contratos';
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
// biome-ignore lint/suspicious/noExplicitAny: un Kysely de cualquier esquema (el Migrator y el libro no dependen de sus tablas)
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
  // biome-ignore lint/suspicious/noExplicitAny: un Kysely de cualquier esquema (el Migrator y el libro no dependen de sus tablas)
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

/** Ningún fallo: para los tests que miran otra cosa (las tasas que no se dan vienen del perfil local). */
const sinFallos = { tasaTransitorio: 0, tasaSinRespuesta: 0, tasa500TrasCobro: 0, tasaEnCurso: 0 } as const;
const soloExitos = { latenciaMaxMs: 0, tasaRechazo: 0, ...sinFallos };
const inestable = {
  latenciaMaxMs: 3,
  tasaRechazo: 0.4,
  tasaTransitorio: 0.4,
  tasaSinRespuesta: 0.2,
  tasa500TrasCobro: 0.1,
  tasaEnCurso: 0.2,
};
probarContratoPasarela('simulada, 0 ms, sin rechazos ni fallos', fabricaSimulada(soloExitos));
probarContratoPasarela('simulada, perfil local', fabricaSimulada(PERFIL_LOCAL));
probarContratoPasarela(
  'simulada, inestable (0–3 ms, 40 % rechazos, 40 % transitorios; tras enviar: 20 % en curso, 20 % sin respuesta, 10 % de 500)',
  fabricaSimulada(inestable),
);
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
    modo: 'live',
    idAfiliado: 'afiliado-1',
    monto: monto(15_075),
    referenciaPago: `REF-${idPago.slice(0, 8)}`,
    claveIdempotencia: idPago,
    traza: { idCorrelacion: `corr-${idPago.slice(0, 8)}` },
    ...cambios,
  };
}

/** Reintenta con la misma clave mientras sea incierto (con una espera: un cobro en curso termina solo). */
async function cobrarHastaDefinitivo(
  pasarela: SimuladaPasarelaDePagos,
  s: SolicitudCobro,
  respuestas?: ResultadoPago[],
): Promise<ResultadoPago> {
  for (let i = 0; i < 100; i += 1) {
    const r = await pasarela.cobrar(s);
    respuestas?.push(r);
    if (r.tipo !== 'incierto') return r;
    await new Promise((resolver) => setTimeout(resolver, 1));
  }
  throw new Error('demasiados inciertos');
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
  return Object.fromEntries(
    Object.keys(a).map((k) => [k, a[k as keyof typeof a] + b[k as keyof typeof b]]),
  ) as unknown as ContadoresPasarelaSimulada;
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
      {
        resultado: 'rechazado',
        referenciaTransaccion: null,
        mensaje: rechazado.tipo === 'rechazado' ? rechazado.mensaje : '',
        unidadesMenores: 15_075,
        moneda: 'USD',
      },
    ]);
    expect(pasarela.contadores()).toMatchObject({ llamadas: 2, cargosNuevos: 1, rechazosNuevos: 1, repeticionesAbsorbidas: 0 });

    // Repetir cuenta como duplicado absorbido y no escribe nada.
    expect(await pasarela.cobrar(cobro)).toEqual(exitoso);
    expect(await pasarela.cobrar(rechazo)).toEqual(rechazado);
    expect(pasarela.contadores()).toMatchObject({ llamadas: 4, cargosNuevos: 1, rechazosNuevos: 1, repeticionesAbsorbidas: 2 });
    expect(await cargosDe(db, cobro.idPago)).toHaveLength(1);
  });

  it('dos procesos (dos pools) con 20 llamadas simultáneas y la misma clave: una fila, un solo desenlace, y las demás «en curso»', async () => {
    const s = solicitud();
    // Semillas distintas: cada «proceso» decidiría otra cosa (otra referencia, quizá otro tipo); solo uno gana.
    const { esperar, esperas } = barrera(2);
    const comun = { latenciaMinMs: 1, latenciaMaxMs: 1, tasaRechazo: 0.5, ...sinFallos, esperar };
    const a = crearPasarelaSimulada({ pool: nuevoPool(), semilla: 'proceso-a', ...comun });
    const b = crearPasarelaSimulada({ pool: nuevoPool(), semilla: 'proceso-b', ...comun });

    const resultados = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).cobrar(s)));

    // En cada instancia, la primera llamada sigue y las otras nueve reciben «en curso» (el 409 de Stripe);
    // la barrera garantiza que las dos que siguieron pasaron la búsqueda sin ver nada y compitieron en el INSERT.
    expect(esperas).toHaveLength(2);
    const filas = await cargosDe(db, s.idPago);
    expect(filas).toHaveLength(1);
    const fila = filas[0]!;
    const esperado: ResultadoPago =
      fila.resultado === 'exitoso'
        ? { tipo: 'exitoso', referenciaTransaccion: fila.referenciaTransaccion! }
        : { tipo: 'rechazado', mensaje: fila.mensaje! };
    const definitivos = resultados.filter((r) => r.tipo !== 'incierto');
    expect(definitivos).toEqual([esperado, esperado]);
    for (const r of resultados.filter((x) => x.tipo === 'incierto'))
      expect(r).toMatchObject({ mensaje: expect.stringContaining('petición en curso') });
    const total = sumar(a.contadores(), b.contadores());
    expect(total).toMatchObject({ llamadas: 20, enCurso: 18, repeticionesAbsorbidas: 1, carrerasPerdidas: 1, transitorios: 0 });
    expect(total.cargosNuevos + total.rechazosNuevos).toBe(1);
  });

  it('dos procesos con latencia real y 20 llamadas con la misma clave: una fila', async () => {
    const s = solicitud();
    const comun = { latenciaMinMs: 0, latenciaMaxMs: 5, tasaRechazo: 0, ...sinFallos };
    const a = crearPasarelaSimulada({ pool: nuevoPool(), semilla: 1, ...comun });
    const b = crearPasarelaSimulada({ pool: nuevoPool(), semilla: 2, ...comun });
    const resultados = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).cobrar(s)));
    const definitivos = resultados.filter((r) => r.tipo !== 'incierto');
    expect(definitivos.length).toBeGreaterThan(0);
    expect(new Set(definitivos.map((r) => JSON.stringify(r))).size).toBe(1);
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
    const pasarela = crearPasarelaSimulada({ pool: nuevoPool(), latenciaMaxMs: 0, tasaRechazo: 0.3, ...sinFallos });
    const todas = [...distintas, ...Array.from({ length: 20 }, () => compartida)];
    const resultados = await Promise.all(todas.map((s) => pasarela.cobrar(s)));

    const { rows } = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pasarela_simulada.cargos WHERE id_pago = ANY($1::uuid[])',
      [idsPago],
    );
    expect(rows[0]!.n).toBe(201);
    expect(await cargosDe(db, compartida.idPago)).toHaveLength(1);
    // De las 20 con la clave compartida, la primera decide y las demás llegan mientras sigue en curso.
    expect(resultados.slice(200).filter((r) => r.tipo !== 'incierto')).toHaveLength(1);
    const c = pasarela.contadores();
    expect(c).toMatchObject({ llamadas: 220, enCurso: 19, repeticionesAbsorbidas: 0, transitorios: 0, clavesReutilizadas: 0 });
    expect(c.cargosNuevos + c.rechazosNuevos).toBe(201);
  });

  it('tras una caída, otro proceso con la misma clave devuelve lo guardado y no cobra otra vez', async () => {
    const s = solicitud();
    const poolA = nuevoPool();
    const a = crearPasarelaSimulada({ pool: poolA, semilla: 'antes', latenciaMaxMs: 0, tasaRechazo: 0, ...sinFallos });
    const antes = await a.cobrar(s);
    await poolA.end(); // el proceso muere

    const b = crearPasarelaSimulada({ pool: nuevoPool(), semilla: 'despues', latenciaMaxMs: 0, tasaRechazo: 1, tasaTransitorio: 0 });
    expect(await b.cobrar(s)).toEqual(antes);
    expect(b.contadores()).toMatchObject({ repeticionesAbsorbidas: 1, cargosNuevos: 0, rechazosNuevos: 0 });
    expect(await cargosDe(db, s.idPago)).toHaveLength(1);
  });

  it('determinista dada la semilla: la misma secuencia de fallos y los mismos desenlaces', async () => {
    // Sin «en curso»: su registro en segundo plano depende del reloj, y con él el número de reintentos.
    const configuracion = {
      latenciaMaxMs: 0,
      tasaRechazo: 0.5,
      tasaTransitorio: 0.3,
      tasaSinRespuesta: 0.1,
      tasa500TrasCobro: 0.1,
      tasaEnCurso: 0,
    };
    const pagos = Array.from({ length: 100 }, (_, i) => solicitud({ idPago: uuidFijo(0xd7, i), claveIdempotencia: uuidFijo(0xd7, i) }));
    const ids = pagos.map((p) => p.idPago);

    async function ejecutar(semilla: number) {
      await db.deleteFrom('pasarela_simulada.cargos').where('id_pago', 'in', ids).execute();
      const pasarela = crearPasarelaSimulada({ db, semilla, ...configuracion });
      const salida = [];
      for (const p of pagos) {
        const respuestas: ResultadoPago[] = [];
        const final = await cobrarHastaDefinitivo(pasarela, p, respuestas);
        salida.push({ respuestas, final });
      }
      return salida;
    }

    const primera = await ejecutar(7);
    const segunda = await ejecutar(7);
    const otraSemilla = await ejecutar(8);

    expect(segunda).toEqual(primera);
    expect(otraSemilla).not.toEqual(primera);
    // Hubo de todo, y el desenlace definitivo es el de (semilla, clave), sin importar los fallos.
    const mensajes = primera.flatMap((r) => r.respuestas.flatMap((x) => (x.tipo === 'incierto' ? [x.mensaje] : [])));
    expect(mensajes.some((m) => m.includes('antes de cobrar'))).toBe(true);
    expect(mensajes.some((m) => m.includes('Tiempo agotado'))).toBe(true);
    expect(mensajes.some((m) => m.includes('HTTP 500'))).toBe(true);
    const tipos = primera.flatMap((r) => r.respuestas.map((x) => x.tipo));
    expect(tipos).toContain('rechazado');
    expect(tipos).toContain('exitoso');
    for (const [i, p] of pagos.entries()) {
      expect(primera[i]?.final).toEqual(
        desenlaceDefinitivo({ ...PERFIL_LOCAL, ...configuracion }, 7, p.claveIdempotencia, MENSAJES_RECHAZO_SEMILLA, 'ch_sim_'),
      );
    }
    // La columna intentos guarda en qué intento se decidió: el primero que no falló antes de cobrar.
    const ultima = otraSemilla.at(-1)!;
    const decidido = ultima.respuestas.findIndex((r) => r.tipo !== 'incierto' || !r.mensaje.includes('antes de cobrar')) + 1;
    expect((await cargosDe(db, pagos.at(-1)!.idPago))[0]?.intentos).toBe(decidido);
  });

  it('2 000 claves sin latencia: las tasas de rechazo y de cada fallo se respetan (cota holgada), y nunca dos cargos', async () => {
    const pasarela = crearPasarelaSimulada({
      db,
      latenciaMaxMs: 0,
      tasaRechazo: 0.1,
      tasaTransitorio: 0.05,
      tasaEnCurso: 0.04,
      tasaSinRespuesta: 0.05,
      tasa500TrasCobro: 0.03,
      semilla: 2_000,
    });
    const pagos = Array.from({ length: 2_000 }, () => solicitud());
    const primeros = await enLotes(pagos, 50, (p) => pasarela.cobrar(p));
    const finales = await enLotes(pagos, 50, (p) => cobrarHastaDefinitivo(pasarela, p));
    await pasarela.esperarEnSegundoPlano();

    const fraccion = (texto: string) => primeros.filter((r) => r.tipo === 'incierto' && r.mensaje.includes(texto)).length / 2_000;
    const rechazos = finales.filter((r) => r.tipo === 'rechazado').length / 2_000;
    // σ ≈ 0,005 para cada fallo; los posteriores al envío solo en el 95 % que no falló antes de cobrar.
    expect(fraccion('antes de cobrar')).toBeGreaterThan(0.03); // esperado 0,05
    expect(fraccion('antes de cobrar')).toBeLessThan(0.07);
    expect(fraccion('sigue procesando')).toBeGreaterThan(0.02); // esperado 0,038
    expect(fraccion('sigue procesando')).toBeLessThan(0.056);
    expect(fraccion('Tiempo agotado')).toBeGreaterThan(0.03); // esperado 0,0475
    expect(fraccion('Tiempo agotado')).toBeLessThan(0.065);
    expect(fraccion('HTTP 500')).toBeGreaterThan(0.014); // esperado 0,0285
    expect(fraccion('HTTP 500')).toBeLessThan(0.043);
    expect(rechazos).toBeGreaterThan(0.07); // esperado 0,10; σ ≈ 0,007
    expect(rechazos).toBeLessThan(0.13);

    const porPago = await contarCargosPorPago(db);
    for (const [i, p] of pagos.entries()) expect(porPago.get(p.idPago)).toBe(finales[i]?.tipo === 'exitoso' ? 1 : 0);
    const c = pasarela.contadores();
    expect(c.cargosNuevos + c.rechazosNuevos).toBe(2_000);
    expect(c.rechazosNuevos / 2_000).toBe(rechazos);
    expect(c.completadosEnSegundoPlano).toBeGreaterThanOrEqual(
      primeros.filter((r) => r.tipo === 'incierto' && r.mensaje.includes('sigue procesando')).length,
    );
  });

  it('perfil semilla: latencias de 2 a 8 s y la mitad rechazados con sus mensajes (sin esperar de verdad)', async () => {
    const esperas: number[] = [];
    const pasarela = crearPasarelaSimulada({
      db,
      ...PERFIL_SEMILLA,
      semilla: 'semilla',
      esperar: async (ms) => void esperas.push(ms),
    });
    const finales = await enLotes(
      Array.from({ length: 1_000 }, () => solicitud()),
      50,
      (p) => pasarela.cobrar(p),
    );
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
    for (const r of resultados)
      expect(r).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('se puede reintentar con la misma clave') });
    const { filas } = await db
      .selectFrom('pasarela_simulada.cargos')
      .select(sql<string>`count(*)`.as('filas'))
      .where(
        'id_pago',
        'in',
        pagos.map((p) => p.idPago),
      )
      .executeTakeFirstOrThrow();
    expect(Number(filas)).toBe(0);
    expect(siempre.contadores()).toMatchObject({ llamadas: 30, transitorios: 30, cargosNuevos: 0, rechazosNuevos: 0 });

    // Cuando la pasarela se recupera, el reintento con la misma clave cobra una vez.
    const recuperada = crearPasarelaSimulada({ db, latenciaMaxMs: 0, tasaRechazo: 0, ...sinFallos });
    await Promise.all(pagos.map((p) => recuperada.cobrar(p)));
    for (const p of pagos) expect(await contarExitosos(p.idPago)).toBe(1);
  });

  it('latencia 0: ningún temporizador; con latencia, solo los intentos nuevos esperan (las repeticiones no)', async () => {
    const esperas: number[] = [];
    const esperar = async (ms: number) => void esperas.push(ms);
    const sinLatencia = crearPasarelaSimulada({ db, latenciaMinMs: 0, latenciaMaxMs: 0, ...sinFallos, tasaTransitorio: 0.5, esperar });
    for (let i = 0; i < 50; i += 1) await sinLatencia.cobrar(solicitud());
    expect(esperas).toEqual([]);

    const conLatencia = crearPasarelaSimulada({ db, latenciaMinMs: 5, latenciaMaxMs: 5, ...sinFallos, esperar });
    const s = solicitud();
    await conLatencia.cobrar(s);
    await conLatencia.cobrar(s);
    await conLatencia.cobrar(s);
    expect(esperas).toEqual([5]);
  });

  it('la misma clave con otro monto, moneda o pago: incierto (conflicto de clave) sin cobrar, y lo guardado sigue igual', async () => {
    const pasarela = crearPasarelaSimulada({ db, latenciaMaxMs: 0, tasaRechazo: 0, ...sinFallos });
    const s = solicitud();
    const original = await pasarela.cobrar(s);
    const otras = [
      solicitud({ ...s, monto: monto(99) }),
      solicitud({ ...s, monto: monto(15_075, 'EUR') }),
      solicitud({ ...s, idPago: crypto.randomUUID() }),
    ];
    for (const otra of otras) {
      expect(await pasarela.cobrar(otra)).toEqual({
        tipo: 'incierto',
        mensaje:
          `La clave de idempotencia ${s.claveIdempotencia} ya se usó con otros parámetros (pago ${s.idPago}, 150.75 USD): ` +
          'no se cobró nada con esta solicitud, pero la primera con esa clave pudo cobrar; hay que preguntar por el pago.',
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
    expect(() => crearPasarelaSimulada({ db, tasa500TrasCobro: -0.1 })).toThrow(/tasa500TrasCobro debe estar entre 0 y 1/);
    expect(() => crearPasarelaSimulada({ db, tasaEnCurso: 0.5, tasaSinRespuesta: 0.4, tasa500TrasCobro: 0.2 })).toThrow(
      /no puede superar 1 \(suman 1\.1/,
    );
    expect(() => crearPasarelaSimulada({ db, latenciaMinMs: 10, latenciaMaxMs: 5 })).toThrow(/no puede superar/);
    expect(() => crearPasarelaSimulada({ db, mensajesRechazo: [] })).toThrow(/mensajes de rechazo/);
  });
});

describe('SimuladaPasarelaDePagos falla como una pasarela real', () => {
  const consulta = (s: SolicitudCobro) => ({ idPago: s.idPago, modo: s.modo, claveIdempotencia: s.claveIdempotencia, traza: s.traza });

  /** Una espera que el test suelta a mano: `pendientes` dice cuántas hay retenidas. */
  function esperaRetenida() {
    const sueltas: (() => void)[] = [];
    return {
      esperar: () => new Promise<void>((r) => sueltas.push(r)),
      pendientes: () => sueltas.length,
      soltar: () => sueltas.splice(0).forEach((r) => r()),
    };
  }

  async function hasta(condicion: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !condicion(); i += 1) await new Promise((r) => setTimeout(r, 2));
    if (!condicion()) throw new Error('la condición no se cumplió a tiempo');
  }

  it('cobro registrado con la respuesta perdida: incierto, un cargo en el libro, consultar lo ve, y el reintento devuelve lo guardado', async () => {
    const pasarela = crearPasarelaSimulada({ db, latenciaMaxMs: 0, tasaRechazo: 0, ...sinFallos, tasaSinRespuesta: 1 });
    const s = solicitud();

    const primero = await pasarela.cobrar(s);

    expect(primero).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('Tiempo agotado') });
    const filas = await cargosDe(db, s.idPago);
    expect(filas).toMatchObject([{ resultado: 'exitoso' }]);
    const guardado = { tipo: 'exitoso', referenciaTransaccion: filas[0]!.referenciaTransaccion };
    expect(await pasarela.consultar(consulta(s))).toEqual(guardado);
    expect(await pasarela.cobrar(s)).toEqual(guardado);
    expect(await contarExitosos(s.idPago)).toBe(1);
    expect(pasarela.contadores()).toMatchObject({
      llamadas: 2,
      cargosNuevos: 1,
      respuestasPerdidas: 1,
      repeticionesAbsorbidas: 1,
      consultas: 1,
    });
  });

  it('500 tras cobrar: incierto con un mensaje de HTTP 500, el cargo registrado, y consultar lo ve', async () => {
    const pasarela = crearPasarelaSimulada({ db, latenciaMaxMs: 0, tasaRechazo: 0, ...sinFallos, tasa500TrasCobro: 1 });
    const s = solicitud();
    expect(await pasarela.cobrar(s)).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('HTTP 500') });
    expect(await pasarela.consultar(consulta(s))).toMatchObject({ tipo: 'exitoso' });
    expect(await contarExitosos(s.idPago)).toBe(1);
    expect(pasarela.contadores()).toMatchObject({ cargosNuevos: 1, errores500TrasCobro: 1 });
  });

  it('un rechazo con la respuesta perdida: incierto, ningún cargo, y consultar dice rechazado', async () => {
    const pasarela = crearPasarelaSimulada({ db, latenciaMaxMs: 0, tasaRechazo: 1, ...sinFallos, tasaSinRespuesta: 1 });
    const s = solicitud();
    expect((await pasarela.cobrar(s)).tipo).toBe('incierto');
    expect(await pasarela.consultar(consulta(s))).toEqual({ tipo: 'rechazado', mensaje: expect.toBeOneOf([...MENSAJES_RECHAZO_SEMILLA]) });
    expect(await contarExitosos(s.idPago)).toBe(0);
  });

  it('dos llamadas simultáneas con la misma clave en la instancia: la segunda recibe «en curso» sin hacer nada, y consultar es incierto mientras tanto', async () => {
    const espera = esperaRetenida();
    const pasarela = crearPasarelaSimulada({
      db,
      latenciaMinMs: 1,
      latenciaMaxMs: 1,
      tasaRechazo: 0,
      ...sinFallos,
      esperar: espera.esperar,
    });
    const s = solicitud();

    const primera = pasarela.cobrar(s);
    await hasta(() => espera.pendientes() === 1); // la primera está dentro, esperando su latencia
    expect(await pasarela.cobrar(s)).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('petición en curso') });
    expect(await pasarela.consultar(consulta(s))).toMatchObject({
      tipo: 'incierto',
      mensaje: expect.stringContaining('aún está procesando'),
    });
    expect(espera.pendientes(), 'la segunda no llegó a esperar ni a decidir').toBe(1);

    espera.soltar();
    const hecho = await primera;
    expect(hecho.tipo).toBe('exitoso');
    expect(await pasarela.consultar(consulta(s))).toEqual(hecho);
    expect(await pasarela.cobrar(s)).toEqual(hecho);
    expect(pasarela.contadores()).toMatchObject({ llamadas: 3, enCurso: 1, cargosNuevos: 1, repeticionesAbsorbidas: 1 });
  });

  it('en curso en segundo plano: incierto; mientras tanto consultar es incierto y la clave está «en curso»; después, lo registrado', async () => {
    const espera = esperaRetenida();
    const pasarela = crearPasarelaSimulada({
      db,
      latenciaMinMs: 2,
      latenciaMaxMs: 2,
      tasaRechazo: 0.5,
      ...sinFallos,
      tasaEnCurso: 1,
      esperar: espera.esperar,
    });
    const s = solicitud();
    const respuesta = pasarela.cobrar(s);
    await hasta(() => espera.pendientes() === 1);
    espera.soltar(); // la latencia de la respuesta

    expect(await respuesta).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('sigue procesando') });
    await hasta(() => espera.pendientes() === 1); // el cobro sigue, en segundo plano
    expect(await cargosDe(db, s.idPago)).toEqual([]);
    expect(await pasarela.consultar(consulta(s))).toMatchObject({ tipo: 'incierto' });
    expect(await pasarela.cobrar(s)).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('petición en curso') });

    espera.soltar();
    await pasarela.esperarEnSegundoPlano();
    const esperado = desenlaceDefinitivo(pasarela.perfil, pasarela.semilla, s.claveIdempotencia, MENSAJES_RECHAZO_SEMILLA, 'ch_sim_');
    expect(await pasarela.consultar(consulta(s))).toEqual(esperado);
    expect(await pasarela.cobrar(s)).toEqual(esperado);
    expect(await cargosDe(db, s.idPago)).toHaveLength(1);
    expect(pasarela.contadores()).toMatchObject({
      enCurso: 2,
      completadosEnSegundoPlano: 1,
      cargosNuevos: esperado.tipo === 'exitoso' ? 1 : 0,
    });
  });

  it('en segundo plano con el libro caído: nada registrado, y otro proceso decide de nuevo con la misma clave', async () => {
    const poolQueCae = nuevoPool(base.url, 2);
    let cortar!: () => void;
    const cortado = new Promise<void>((r) => {
      cortar = r;
    });
    const a = crearPasarelaSimulada({
      pool: poolQueCae,
      latenciaMinMs: 1,
      latenciaMaxMs: 1,
      tasaRechazo: 0,
      ...sinFallos,
      tasaEnCurso: 1,
      // La primera espera es la de la respuesta; la segunda, la del cobro en segundo plano: el libro cae ahí.
      esperar: async () => {
        if (a.contadores().enCurso === 0) return;
        await poolQueCae.end();
        cortar();
      },
    });
    const s = solicitud();
    expect((await a.cobrar(s)).tipo).toBe('incierto');
    await cortado;
    await a.esperarEnSegundoPlano();
    expect(a.contadores()).toMatchObject({ perdidosEnSegundoPlano: 1, completadosEnSegundoPlano: 0, cargosNuevos: 0 });

    const b = crearPasarelaSimulada({ db, latenciaMaxMs: 0, tasaRechazo: 0, ...sinFallos });
    expect(await b.consultar(consulta(s))).toEqual({ tipo: 'sinCobro' });
    expect((await b.cobrar(s)).tipo).toBe('exitoso');
    expect(await contarExitosos(s.idPago)).toBe(1);
  });

  const tasasAltas = {
    latenciaMinMs: 0,
    latenciaMaxMs: 3,
    tasaRechazo: 0.3,
    tasaTransitorio: 0.2,
    tasaEnCurso: 0.2,
    tasaSinRespuesta: 0.2,
    tasa500TrasCobro: 0.15,
  };

  it('tasas altas, dos instancias sobre el mismo libro y llamadas simultáneas: cobrar → incierto → consultar → reintento acaba con un cargo por exitoso y ninguno por rechazo', async () => {
    const pagos = Array.from({ length: 300 }, () => solicitud());
    // La primera ronda espera en la latencia hasta que las 600 primeras llamadas (una por pago e instancia;
    // las otras reciben «en curso») han pasado la búsqueda: así compiten de verdad por registrar.
    const { esperar, esperas } = barrera(600);
    const a = crearPasarelaSimulada({ pool: nuevoPool(), semilla: 'instancia-a', ...tasasAltas, latenciaMinMs: 1, esperar });
    const b = crearPasarelaSimulada({ pool: nuevoPool(), semilla: 'instancia-b', ...tasasAltas, latenciaMinMs: 1, esperar });

    // Primera ronda: cuatro llamadas simultáneas por pago, dos en cada instancia, todas a la vez.
    await Promise.all(pagos.flatMap((p) => [a.cobrar(p), b.cobrar(p), a.cobrar(p), b.cobrar(p)]));
    expect(esperas.length).toBeGreaterThanOrEqual(600);

    // Después, como el consumidor: ante un incierto se pregunta, y solo sin cobro se vuelve a cobrar.
    const finales = await enLotes(pagos, 50, async (p) => {
      for (let vuelta = 0; vuelta < 200; vuelta += 1) {
        const instancia = vuelta % 2 === 0 ? a : b;
        const estado = await instancia.consultar(consulta(p));
        if (estado.tipo === 'exitoso' || estado.tipo === 'rechazado') return estado;
        if (estado.tipo === 'sinCobro') {
          const r = await instancia.cobrar(p);
          if (r.tipo !== 'incierto') return r;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      throw new Error(`el pago ${p.idPago} no se aclaró`);
    });
    await Promise.all([a.esperarEnSegundoPlano(), b.esperarEnSegundoPlano()]);

    const porPago = await contarCargosPorPago(db);
    for (const [i, p] of pagos.entries()) {
      const final = finales[i]!;
      const filas = await cargosDe(db, p.idPago);
      expect(filas, `una sola decisión por clave para ${p.idPago}`).toHaveLength(1);
      expect(porPago.get(p.idPago)).toBe(final.tipo === 'exitoso' ? 1 : 0);
      if (final.tipo === 'exitoso') expect(filas[0]?.referenciaTransaccion).toBe(final.referenciaTransaccion);
    }
    // Hubo de cada fallo (si no, el test no prueba lo que dice), y de ambos desenlaces.
    const total = sumar(a.contadores(), b.contadores());
    expect(total.transitorios).toBeGreaterThan(0);
    expect(total.respuestasPerdidas).toBeGreaterThan(0);
    expect(total.errores500TrasCobro).toBeGreaterThan(0);
    expect(total.completadosEnSegundoPlano).toBeGreaterThan(0);
    expect(total.enCurso).toBeGreaterThan(total.completadosEnSegundoPlano); // también las simultáneas
    expect(total.carrerasPerdidas).toBeGreaterThan(0); // las dos instancias compitieron por la misma clave
    expect(finales.filter((f) => f.tipo === 'exitoso').length).toBeGreaterThan(0);
    expect(finales.filter((f) => f.tipo === 'rechazado').length).toBeGreaterThan(0);
  });

  it('con el manejador real del consumidor, dos consumidores y entregas duplicadas: cada EXITOSO con un cargo y su referencia, cada FALLIDO sin cargo', async () => {
    const repo = new RepositorioPagosEnMemoria();
    const nuevoId = idsSecuenciales(0x5e9);
    const reloj = relojFijo(new Date());
    const consumidor = (titular: string) =>
      crearManejadorEventos({
        suscripcion: 'consumidor-pagos',
        repositorio: repo,
        inbox: repo,
        turnos: repo,
        pasarela: crearPasarelaSimulada({ pool: nuevoPool(), semilla: titular, ...tasasAltas }),
        titular,
        duracionTurnoMs: 30_000,
        reloj,
        nuevoId,
        intentosPasarela: 3,
        backoffPasarelaMs: 1,
      });
    const consumidores = [consumidor('consumidor-a'), consumidor('consumidor-b')];
    const registrar = crearManejadorRegistrarPago({ repositorio: repo, reloj, nuevoId });
    const pendientes = [];
    for (let i = 0; i < 150; i += 1) {
      const r = await registrar({
        tipo: 'RegistrarPago',
        ambito: { idSocio: 'socio-1', modo: 'live' },
        credencial: { idClave: null },
        idAfiliado: 'afiliado-1',
        monto: '150.75',
        moneda: 'USD',
        referenciaPago: `REF-${i}`,
        traza: { idCorrelacion: `corr-${i}` },
      });
      if (!r.ok) throw new Error('no se creó el pago');
      pendientes.push(repo.outbox.find((f) => f.evento.idPago === r.valor.pago.id)!.evento);
    }

    // Cada evento llega a los dos consumidores a la vez, y se reentrega mientras el pago no termine.
    await enLotes(pendientes, 30, async (evento) => {
      for (let entrega = 0; entrega < 100; entrega += 1) {
        await Promise.all(consumidores.map((manejar) => manejar(evento, { idCorrelacion: 'corr' })));
        const pago = await repo.obtener(evento.idPago);
        if (pago?.estado === 'EXITOSO' || pago?.estado === 'FALLIDO') return;
        await new Promise((r) => setTimeout(r, 2));
      }
      throw new Error(`el pago ${evento.idPago} no terminó`);
    });

    const porPago = await contarCargosPorPago(db);
    const estados = { EXITOSO: 0, FALLIDO: 0 };
    for (const evento of pendientes) {
      const pago = (await repo.obtener(evento.idPago))!;
      if (pago.estado === 'EXITOSO') {
        estados.EXITOSO += 1;
        expect(porPago.get(pago.id), `cargos del pago EXITOSO ${pago.id}`).toBe(1);
        expect((await cargosDe(db, pago.id)).find((c) => c.resultado === 'exitoso')?.referenciaTransaccion).toBe(
          pago.referenciaTransaccion,
        );
      } else {
        expect(pago.estado).toBe('FALLIDO');
        estados.FALLIDO += 1;
        expect(porPago.get(pago.id) ?? 0, `cargos del pago FALLIDO ${pago.id}`).toBe(0);
      }
    }
    expect(estados.EXITOSO).toBeGreaterThan(0);
    expect(estados.FALLIDO).toBeGreaterThan(0);
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
    const pasarela = crearPasarelaSimulada({ pool: poolPropio, latenciaMaxMs: 0, tasaRechazo: 0, ...sinFallos });
    const uno = solicitud();
    const doble = solicitud();
    const rechazado = solicitud();
    await pasarela.cobrar(uno);
    await pasarela.cobrar(doble);
    await pasarela.cobrar({ ...doble, claveIdempotencia: `${doble.idPago}-otra` }); // un consumidor con otra clave: el error a detectar
    await crearPasarelaSimulada({ pool: poolPropio, latenciaMaxMs: 0, tasaRechazo: 1, ...sinFallos }).cobrar(rechazado);

    expect(await contarCargosPorPago(poolPropio)).toEqual(
      new Map([
        [uno.idPago, 1],
        [doble.idPago, 2],
        [rechazado.idPago, 0],
      ]),
    );
    expect(await resumirLibroCargos(poolPropio)).toEqual({ pagos: 3, cargos: 3, rechazos: 1, pagosCobradosVariasVeces: [doble.idPago] });
    expect((await cargosDe(poolPropio, doble.idPago)).map((c) => c.claveIdempotencia).sort()).toEqual(
      [doble.idPago, `${doble.idPago}-otra`].sort(),
    );
  });
});
