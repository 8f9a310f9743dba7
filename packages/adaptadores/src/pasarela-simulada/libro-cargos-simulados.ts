import { Kysely, Migrator, PostgresDialect, sql, type ColumnType, type Migration, type PostgresPool } from 'kysely';
import type { PoolPostgres } from '../postgres/pool-postgres.js';

/** Esquema propio de la pasarela simulada: hace de «servidor de Stripe» y no toca las tablas de pagos. */
export const ESQUEMA_PASARELA_SIMULADA = 'pasarela_simulada';

/**
 * Una fila por clave de idempotencia que llegó a decidirse (cobro o rechazo). Un fallo transitorio no
 * deja fila: ocurrió antes de cobrar.
 */
export interface TablaCargosSimulados {
  clave_idempotencia: string;
  id_pago: string;
  resultado: 'exitoso' | 'rechazado';
  referencia_transaccion: string | null;
  mensaje: string | null;
  /** BIGINT: `pg` lo devuelve como texto. */
  unidades_menores: ColumnType<string, number | string | bigint, never>;
  moneda: string;
  /** Intento (de esa clave, en el proceso que decidió) en que se decidió: 1 si no hubo transitorios antes. */
  intentos: number;
  creado_en: ColumnType<Date, Date | string | undefined, never>;
  id_correlacion: string;
}

export interface EsquemaPasarelaSimulada {
  'pasarela_simulada.cargos': TablaCargosSimulados;
}

/** Una fila del libro, ya convertida. */
export interface CargoSimulado {
  readonly claveIdempotencia: string;
  readonly idPago: string;
  readonly resultado: 'exitoso' | 'rechazado';
  readonly referenciaTransaccion: string | null;
  readonly mensaje: string | null;
  readonly unidadesMenores: number;
  readonly moneda: string;
  readonly intentos: number;
  readonly creadoEn: Date;
  readonly idCorrelacion: string;
}

/** Dónde está el libro: un Kysely (de cualquier esquema tipado) o un pool de `pg`. */
// biome-ignore lint/suspicious/noExplicitAny: un Kysely de cualquier esquema (el Migrator y el libro no dependen de sus tablas)
export type FuenteLibroCargos = Kysely<any> | PoolPostgres;

// Por forma y no con instanceof: otra copia de kysely en el árbol de dependencias también vale.
// biome-ignore lint/suspicious/noExplicitAny: un Kysely de cualquier esquema (el Migrator y el libro no dependen de sus tablas)
function esKysely(fuente: FuenteLibroCargos): fuente is Kysely<any> {
  // biome-ignore lint/suspicious/noExplicitAny: un Kysely de cualquier esquema (el Migrator y el libro no dependen de sus tablas)
  return typeof (fuente as Partial<Kysely<any>>).selectFrom === 'function';
}

/**
 * Kysely sobre el libro. Con un pool, el Kysely no es dueño de él: `end()` no hace nada, así que
 * destruirlo (o no) nunca cierra el pool de quien lo pasó.
 */
export function kyselyDelLibro(fuente: FuenteLibroCargos): Kysely<EsquemaPasarelaSimulada> {
  if (esKysely(fuente)) return fuente as Kysely<EsquemaPasarelaSimulada>;
  const prestado = {
    connect: () => fuente.connect(),
    end: async () => undefined,
  } as unknown as PostgresPool;
  return new Kysely<EsquemaPasarelaSimulada>({ dialect: new PostgresDialect({ pool: prestado }) });
}

const crearLibro: Migration = {
  async up(db) {
    await db.schema
      .createTable('pasarela_simulada.cargos')
      .addColumn('clave_idempotencia', 'text', (c) => c.primaryKey())
      .addColumn('id_pago', 'uuid', (c) => c.notNull())
      .addColumn('resultado', 'text', (c) => c.notNull().check(sql`resultado in ('exitoso', 'rechazado')`))
      .addColumn('referencia_transaccion', 'text')
      .addColumn('mensaje', 'text')
      .addColumn('unidades_menores', 'bigint', (c) => c.notNull().check(sql`unidades_menores > 0`))
      .addColumn('moneda', 'text', (c) => c.notNull())
      .addColumn('intentos', 'integer', (c) => c.notNull().check(sql`intentos >= 1`))
      .addColumn('creado_en', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('id_correlacion', 'text', (c) => c.notNull())
      .addCheckConstraint(
        'cargos_desenlace_completo',
        sql`(resultado = 'exitoso' and referencia_transaccion is not null and mensaje is null)
            or (resultado = 'rechazado' and mensaje is not null and referencia_transaccion is null)`,
      )
      .execute();
    await db.schema.createIndex('cargos_id_pago_idx').on('pasarela_simulada.cargos').column('id_pago').execute();
  },
  async down(db) {
    await db.schema.dropTable('pasarela_simulada.cargos').ifExists().execute();
  },
};

/** Migraciones del libro, por nombre (el nombre ordena: nunca renombrar ni reordenar una publicada). */
export const MIGRACIONES_PASARELA_SIMULADA: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-libro-cargos': crearLibro,
});

// Errores de carrera al crear el esquema o las tablas de control cuando arrancan varios procesos a la vez.
const CARRERA_AL_CREAR = new Set(['23505', '42P06', '42P07', '42710']);

function codigoDeError(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Crea (o pone al día) el esquema `pasarela_simulada` y su libro de cargos, con un `Migrator` de Kysely
 * propio cuyas tablas de control viven en ese esquema y tienen nombres propios (así no se confunden con
 * las de las migraciones de pagos). Idempotente y segura con varios procesos a la vez. Devuelve las
 * migraciones aplicadas en esta llamada.
 */
export async function prepararPasarelaSimulada(fuente: FuenteLibroCargos): Promise<readonly string[]> {
  const db = kyselyDelLibro(fuente);
  const migrador = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...MIGRACIONES_PASARELA_SIMULADA }) },
    migrationTableSchema: ESQUEMA_PASARELA_SIMULADA,
    migrationTableName: 'migraciones',
    migrationLockTableName: 'migraciones_cerrojo',
  });
  for (let intento = 1; ; intento += 1) {
    const { error, results } = await migrador.migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (intento < 3 && CARRERA_AL_CREAR.has(codigoDeError(error) ?? '')) continue;
    const fallida = results?.find((r) => r.status === 'Error')?.migrationName;
    const detalle = error instanceof Error ? error.message : String(error);
    throw new Error(
      fallida
        ? `La migración ${fallida} de la pasarela simulada falló: ${detalle}`
        : `No se pudo preparar el esquema de la pasarela simulada: ${detalle}`,
      { cause: error },
    );
  }
}

/** La fila tal como la lee un SELECT: el tipo de lectura de cada columna. */
type FilaCargo = {
  [K in keyof TablaCargosSimulados]: TablaCargosSimulados[K] extends ColumnType<infer S, unknown, unknown> ? S : TablaCargosSimulados[K];
};

export function aCargoSimulado(fila: FilaCargo): CargoSimulado {
  const unidades = Number(fila.unidades_menores);
  if (!Number.isSafeInteger(unidades)) {
    throw new Error(
      `Libro de la pasarela simulada: unidades_menores inválidas (${fila.unidades_menores}) en la clave ${fila.clave_idempotencia}.`,
    );
  }
  return {
    claveIdempotencia: fila.clave_idempotencia,
    idPago: fila.id_pago,
    resultado: fila.resultado,
    referenciaTransaccion: fila.referencia_transaccion,
    mensaje: fila.mensaje,
    unidadesMenores: unidades,
    moneda: fila.moneda,
    intentos: fila.intentos,
    creadoEn: fila.creado_en,
    idCorrelacion: fila.id_correlacion,
  };
}

/** Todas las decisiones (cobros y rechazos) registradas para un pago, de la más antigua a la más nueva. */
export async function cargosDe(fuente: FuenteLibroCargos, idPago: string): Promise<CargoSimulado[]> {
  const filas = await kyselyDelLibro(fuente)
    .selectFrom('pasarela_simulada.cargos')
    .selectAll()
    .where('id_pago', '=', idPago)
    .orderBy('creado_en')
    .orderBy('clave_idempotencia')
    .execute();
  return filas.map(aCargoSimulado);
}

/**
 * Cobros hechos de verdad (`exitoso`) por pago. Un pago con solo rechazos aparece con 0; uno que nunca
 * llegó a la pasarela (o solo tuvo transitorios) no aparece. Lo que debe cumplirse: ningún valor > 1.
 */
export async function contarCargosPorPago(fuente: FuenteLibroCargos): Promise<Map<string, number>> {
  const filas = await kyselyDelLibro(fuente)
    .selectFrom('pasarela_simulada.cargos')
    .select(['id_pago', sql<string>`count(*) filter (where resultado = 'exitoso')`.as('cargos')])
    .groupBy('id_pago')
    .execute();
  return new Map(filas.map((f) => [f.id_pago, Number(f.cargos)]));
}

/** Resumen del libro para el veredicto de un experimento. */
export interface ResumenLibroCargos {
  /** Pagos con alguna decisión registrada. */
  readonly pagos: number;
  /** Filas `exitoso`: dinero movido. */
  readonly cargos: number;
  /** Filas `rechazado`. */
  readonly rechazos: number;
  /** Pagos cobrados más de una vez (con claves distintas): debe estar vacío. */
  readonly pagosCobradosVariasVeces: readonly string[];
}

export async function resumirLibroCargos(fuente: FuenteLibroCargos): Promise<ResumenLibroCargos> {
  const porPago = await contarCargosPorPago(fuente);
  const { rechazos } = await kyselyDelLibro(fuente)
    .selectFrom('pasarela_simulada.cargos')
    .select(sql<string>`count(*) filter (where resultado = 'rechazado')`.as('rechazos'))
    .executeTakeFirstOrThrow();
  let cargos = 0;
  const varias: string[] = [];
  for (const [idPago, n] of porPago) {
    cargos += n;
    if (n > 1) varias.push(idPago);
  }
  return { pagos: porPago.size, cargos, rechazos: Number(rechazos), pagosCobradosVariasVeces: varias.sort() };
}
