import { Dinero, type PasarelaDePagos, type ResultadoPago, type SolicitudCobro } from '@aeropartners/dominio';
import type { Kysely } from 'kysely';
import type { PoolPostgres } from '../postgres/pool-postgres.js';
import {
  desenlaceDefinitivo,
  esTransitorio,
  latenciaSimulada,
  type DesenlaceDefinitivo,
  type Semilla,
} from './decisiones-simuladas.js';
import {
  aCargoSimulado,
  kyselyDelLibro,
  type CargoSimulado,
  type EsquemaPasarelaSimulada,
} from './libro-cargos-simulados.js';
import {
  MENSAJES_RECHAZO_SEMILLA,
  PERFIL_LOCAL,
  validarPerfilPasarelaSimulada,
  type PerfilPasarelaSimulada,
} from './perfiles-pasarela-simulada.js';

/** Semilla por defecto: sin configurar nada, dos ejecuciones deciden igual. */
export const SEMILLA_POR_DEFECTO = 'aeropartners';

export interface ConfiguracionPasarelaSimulada extends Partial<PerfilPasarelaSimulada> {
  /** Semilla de las decisiones. Por defecto {@link SEMILLA_POR_DEFECTO}. */
  readonly semilla?: Semilla;
  /** Mensajes de rechazo (uno por clave, elegido con la semilla). Por defecto los de la semilla. */
  readonly mensajesRechazo?: readonly string[];
  /** Prefijo de las referencias de transacción. Por defecto `ch_sim_`. */
  readonly prefijoReferencia?: string;
  /**
   * Solo para tests: impone el desenlace del intento (`intento` cuenta los de esa clave en este proceso).
   * `transitorio`: falla antes de cobrar, sin registrar nada. `exitoso` / `rechazado`: se decide así sin
   * tirar el dado del transitorio. `undefined`: decide el perfil.
   */
  readonly desenlaceForzado?: (solicitud: SolicitudCobro, intento: number) => ResultadoPago['tipo'] | undefined;
  /** Cómo se espera la latencia simulada (por defecto `setTimeout`); los tests pueden medirla o saltarla. */
  readonly esperar?: (ms: number) => Promise<void>;
}

/** Dónde guarda la pasarela su libro de cargos: un Kysely o un pool de `pg` (que no se cierra nunca aquí). */
export type FuenteDatosPasarelaSimulada = { readonly db: Kysely<any> } | { readonly pool: PoolPostgres };

export type OpcionesPasarelaSimulada = FuenteDatosPasarelaSimulada & ConfiguracionPasarelaSimulada;

/** Contadores del proceso (no del libro): cuánto hizo esta instancia desde que se creó. */
export interface ContadoresPasarelaSimulada {
  /** Llamadas a `cobrar`. */
  readonly llamadas: number;
  /** Cobros nuevos registrados (dinero movido). */
  readonly cargosNuevos: number;
  /** Rechazos nuevos registrados. */
  readonly rechazosNuevos: number;
  /**
   * Duplicados absorbidos en la etapa de la pasarela: la clave ya tenía desenlace y se devolvió el
   * guardado (incluye `carrerasPerdidas`).
   */
  readonly repeticionesAbsorbidas: number;
  /** De las anteriores, las que llegaron a intentar el INSERT y vieron que una llamada simultánea ganó. */
  readonly carrerasPerdidas: number;
  /** Fallos transitorios simulados (nada registrado). */
  readonly transitorios: number;
  /** La clave ya se había usado con otro pago, monto o moneda: rechazado sin cobrar. */
  readonly clavesReutilizadas: number;
}

type Contadores = { -readonly [K in keyof ContadoresPasarelaSimulada]: number };

const MENSAJE_TRANSITORIO =
  'La pasarela simulada no respondió a tiempo (fallo transitorio antes de cobrar); se puede reintentar con la misma clave.';

function dormir(ms: number): Promise<void> {
  return new Promise((resolver) => setTimeout(resolver, ms));
}

function envolver(operacion: string, error: unknown): Error {
  const detalle = error instanceof Error ? error.message : String(error);
  return new Error(`La pasarela simulada no pudo ${operacion} en su libro de cargos: ${detalle}`, { cause: error });
}

/**
 * Stripe simulado (el `StripeAdapter` de la semilla, con idempotencia de verdad): latencia, rechazos y
 * fallos transitorios configurables y deterministas dada la semilla, y un libro de cargos durable en
 * PostgreSQL (`pasarela_simulada.cargos`) que hace de memoria de idempotencia.
 *
 * Un cobro:
 * 1. busca la clave en el libro: si está, devuelve el desenlace guardado (una repetición absorbida);
 * 2. si no, espera la latencia simulada (ningún temporizador si es 0) y tira el dado del transitorio:
 *    si sale, responde `transitorio` sin registrar nada (el fallo ocurrió antes de cobrar);
 * 3. si no, decide cobro o rechazo y lo registra con `INSERT … ON CONFLICT (clave_idempotencia) DO
 *    NOTHING RETURNING`; si otra llamada con la misma clave ganó la carrera (en este u otro proceso),
 *    devuelve la fila ganadora.
 *
 * Así una clave no se cobra dos veces nunca: ni con llamadas simultáneas, ni entre procesos, ni tras una
 * caída. El desenlace definitivo de una clave depende solo de (semilla, clave); el transitorio y la
 * latencia, de (semilla, clave, intento), así que un reintento puede pasar donde el primero falló.
 */
export class SimuladaPasarelaDePagos implements PasarelaDePagos {
  readonly perfil: PerfilPasarelaSimulada;
  readonly semilla: Semilla;
  readonly #db: Kysely<EsquemaPasarelaSimulada>;
  readonly #mensajes: readonly string[];
  readonly #prefijo: string;
  readonly #forzado: ConfiguracionPasarelaSimulada['desenlaceForzado'];
  readonly #esperar: (ms: number) => Promise<void>;
  // Intentos por clave aún sin desenlace definitivo en este proceso (se borran al registrarlo).
  readonly #intentos = new Map<string, number>();
  readonly #contadores: Contadores = {
    llamadas: 0,
    cargosNuevos: 0,
    rechazosNuevos: 0,
    repeticionesAbsorbidas: 0,
    carrerasPerdidas: 0,
    transitorios: 0,
    clavesReutilizadas: 0,
  };

  constructor(opciones: OpcionesPasarelaSimulada) {
    this.perfil = validarPerfilPasarelaSimulada({
      latenciaMinMs: opciones.latenciaMinMs ?? Math.min(PERFIL_LOCAL.latenciaMinMs, opciones.latenciaMaxMs ?? Infinity),
      latenciaMaxMs: opciones.latenciaMaxMs ?? Math.max(PERFIL_LOCAL.latenciaMaxMs, opciones.latenciaMinMs ?? 0),
      tasaRechazo: opciones.tasaRechazo ?? PERFIL_LOCAL.tasaRechazo,
      tasaTransitorio: opciones.tasaTransitorio ?? PERFIL_LOCAL.tasaTransitorio,
    });
    this.semilla = opciones.semilla ?? SEMILLA_POR_DEFECTO;
    this.#mensajes = Object.freeze([...(opciones.mensajesRechazo ?? MENSAJES_RECHAZO_SEMILLA)]);
    if (this.#mensajes.length === 0 || this.#mensajes.some((m) => m.trim() === '')) {
      throw new Error('Pasarela simulada: los mensajes de rechazo no pueden estar vacíos.');
    }
    this.#prefijo = opciones.prefijoReferencia ?? 'ch_sim_';
    this.#forzado = opciones.desenlaceForzado;
    this.#esperar = opciones.esperar ?? dormir;
    this.#db = kyselyDelLibro('db' in opciones ? opciones.db : opciones.pool);
  }

  /** Lo hecho por esta instancia (el libro, compartido entre procesos, se consulta con `contarCargosPorPago`). */
  contadores(): ContadoresPasarelaSimulada {
    return { ...this.#contadores };
  }

  async cobrar(solicitud: SolicitudCobro): Promise<ResultadoPago> {
    this.#contadores.llamadas += 1;
    const clave = solicitud.claveIdempotencia;

    const guardado = await this.#buscar(clave);
    if (guardado !== undefined) return this.#repetir(solicitud, guardado, false);

    const intento = (this.#intentos.get(clave) ?? 0) + 1;
    this.#intentos.set(clave, intento);

    const latencia = latenciaSimulada(this.perfil, this.semilla, clave, intento);
    if (latencia > 0) await this.#esperar(latencia);

    const forzado = this.#forzado?.(solicitud, intento);
    if (forzado === 'transitorio' || (forzado === undefined && esTransitorio(this.perfil, this.semilla, clave, intento))) {
      this.#contadores.transitorios += 1;
      return { tipo: 'transitorio', mensaje: MENSAJE_TRANSITORIO };
    }

    const desenlace = desenlaceDefinitivo(this.perfil, this.semilla, clave, this.#mensajes, this.#prefijo, forzado);
    const registrado = await this.#registrar(solicitud, desenlace, intento);
    this.#intentos.delete(clave);
    if (registrado) {
      if (desenlace.tipo === 'exitoso') this.#contadores.cargosNuevos += 1;
      else this.#contadores.rechazosNuevos += 1;
      return desenlace;
    }

    // Otra llamada con la misma clave registró antes: manda su desenlace.
    const ganador = await this.#buscar(clave);
    if (ganador === undefined) {
      throw new Error(
        `La pasarela simulada no encuentra la fila de la clave ${clave} tras perder la carrera por registrarla.`,
      );
    }
    return this.#repetir(solicitud, ganador, true);
  }

  async #buscar(clave: string): Promise<CargoSimulado | undefined> {
    try {
      const fila = await this.#db
        .selectFrom('pasarela_simulada.cargos')
        .selectAll()
        .where('clave_idempotencia', '=', clave)
        .executeTakeFirst();
      return fila === undefined ? undefined : aCargoSimulado(fila);
    } catch (error) {
      throw envolver(`buscar la clave ${clave}`, error);
    }
  }

  /** `true` si esta llamada registró el desenlace; `false` si la clave ya tenía uno. */
  async #registrar(solicitud: SolicitudCobro, desenlace: DesenlaceDefinitivo, intento: number): Promise<boolean> {
    try {
      const fila = await this.#db
        .insertInto('pasarela_simulada.cargos')
        .values({
          clave_idempotencia: solicitud.claveIdempotencia,
          id_pago: solicitud.idPago,
          resultado: desenlace.tipo,
          referencia_transaccion: desenlace.tipo === 'exitoso' ? desenlace.referenciaTransaccion : null,
          mensaje: desenlace.tipo === 'rechazado' ? desenlace.mensaje : null,
          unidades_menores: solicitud.monto.unidadesMenores,
          moneda: solicitud.monto.moneda,
          intentos: intento,
          id_correlacion: solicitud.traza.idCorrelacion,
        })
        .onConflict((oc) => oc.column('clave_idempotencia').doNothing())
        .returning('clave_idempotencia')
        .executeTakeFirst();
      return fila !== undefined;
    } catch (error) {
      throw envolver(`registrar el cobro del pago ${solicitud.idPago}`, error);
    }
  }

  #repetir(solicitud: SolicitudCobro, guardado: CargoSimulado, carrera: boolean): ResultadoPago {
    const mismoMonto =
      guardado.unidadesMenores === solicitud.monto.unidadesMenores && guardado.moneda === solicitud.monto.moneda;
    if (guardado.idPago !== solicitud.idPago || !mismoMonto) {
      // Como Stripe: la clave ya se usó con otros parámetros; no se ejecuta nada con ella.
      this.#contadores.clavesReutilizadas += 1;
      const montoGuardado = Dinero.deUnidadesMenores(guardado.unidadesMenores, guardado.moneda);
      const texto = montoGuardado.ok ? `${Dinero.formatear(montoGuardado.valor)} ${guardado.moneda}` : `${guardado.unidadesMenores} ${guardado.moneda}`;
      return {
        tipo: 'rechazado',
        mensaje:
          `La clave de idempotencia ${solicitud.claveIdempotencia} ya se usó con otros parámetros ` +
          `(pago ${guardado.idPago}, ${texto}): no se cobró nada con esta solicitud.`,
      };
    }
    this.#contadores.repeticionesAbsorbidas += 1;
    if (carrera) this.#contadores.carrerasPerdidas += 1;
    if (guardado.resultado === 'exitoso') {
      if (guardado.referenciaTransaccion === null) {
        throw new Error(`Libro de la pasarela simulada corrupto: la clave ${guardado.claveIdempotencia} es exitosa sin referencia.`);
      }
      return { tipo: 'exitoso', referenciaTransaccion: guardado.referenciaTransaccion };
    }
    if (guardado.mensaje === null) {
      throw new Error(`Libro de la pasarela simulada corrupto: la clave ${guardado.claveIdempotencia} es un rechazo sin mensaje.`);
    }
    return { tipo: 'rechazado', mensaje: guardado.mensaje };
  }
}

/**
 * La pasarela simulada, con el perfil local por defecto (0–20 ms, 10 % de rechazos, 2 % de transitorios)
 * y lo que se indique encima. El libro debe existir: `prepararPasarelaSimulada(db)` antes.
 *
 * ```ts
 * await prepararPasarelaSimulada(db);
 * const pasarela = crearPasarelaSimulada({ db, ...PERFIL_SEMILLA, semilla: 7 });
 * ```
 */
export function crearPasarelaSimulada(opciones: OpcionesPasarelaSimulada): SimuladaPasarelaDePagos {
  return new SimuladaPasarelaDePagos(opciones);
}
