import {
  Dinero,
  type ConsultaCobro,
  type EstadoCobro,
  type PasarelaDePagos,
  type ResultadoPago,
  type SolicitudCobro,
} from '@aeropartners/dominio';
import { sql, type Kysely } from 'kysely';
import { AgrupadorPorLotes, type Pendiente } from '../postgres/agrupador-por-lotes.js';
import type { PoolPostgres } from '../postgres/pool-postgres.js';
import { conReintentos, esErrorDeDatos } from '../postgres/sentencias-escritura.js';
import {
  desenlaceDefinitivo,
  esTransitorio,
  latenciaSimulada,
  type DesenlaceDefinitivo,
  type Semilla,
} from './decisiones-simuladas.js';
import {
  aCargoSimulado,
  cargosDe,
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
   * `incierto`: falla antes de cobrar, sin registrar nada. `exitoso` / `rechazado`: se decide así sin
   * tirar ningún dado de fallo. `exitosoSinRespuesta`: cobra y registra el cobro, pero responde
   * `incierto` (la respuesta se perdió). `undefined`: decide el perfil.
   */
  readonly desenlaceForzado?: (solicitud: SolicitudCobro, intento: number) => DesenlaceForzadoSimulado | undefined;
  /** Cómo se espera la latencia simulada (por defecto `setTimeout`); los tests pueden medirla o saltarla. */
  readonly esperar?: (ms: number) => Promise<void>;
  /**
   * Sentencias agrupadas en vuelo a la vez contra el libro (por operación: búsqueda y registro). Las
   * llamadas concurrentes que llegan con todos los huecos ocupados salen juntas en una sola sentencia.
   * Por defecto 1: lotes más grandes y menos sentencias (la latencia simulada del cobro va fuera del lote).
   */
  readonly enVueloMaximo?: number;
  /** Claves como máximo por sentencia agrupada. Por defecto 500. */
  readonly loteMaximo?: number;
}

/** Lo que un test puede imponer a un intento (ver `desenlaceForzado`). */
export type DesenlaceForzadoSimulado = ResultadoPago['tipo'] | 'exitosoSinRespuesta';

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
const MENSAJE_SIN_RESPUESTA =
  'Tiempo agotado esperando la respuesta de la pasarela simulada: no se sabe si cobró (la petición llegó a decidirse y ' +
  'se perdió la respuesta); hay que preguntar por el pago antes de reintentar.';

function dormir(ms: number): Promise<void> {
  return new Promise((resolver) => setTimeout(resolver, ms));
}

interface SolicitudRegistro {
  readonly solicitud: SolicitudCobro;
  readonly desenlace: DesenlaceDefinitivo;
  readonly intento: number;
}
type PendienteBuscar = Pendiente<string, CargoSimulado | undefined>;
type PendienteRegistrar = Pendiente<SolicitudRegistro, boolean>;

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
  // «Group commit» del lado del cliente: con un hueco libre, cada llamada sale sola y enseguida (sin
  // temporizadores); con carga, las que esperan comparten una sentencia.
  readonly #agrupadorBuscar: AgrupadorPorLotes<string, CargoSimulado | undefined>;
  readonly #agrupadorRegistrar: AgrupadorPorLotes<SolicitudRegistro, boolean>;
  // Por qué falló el registro de la primera solicitud de una clave (para rechazar también sus repetidas).
  readonly #causas = new WeakMap<PendienteRegistrar, unknown>();
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
    const agrupacion = { enVueloMaximo: opciones.enVueloMaximo ?? 1, loteMaximo: opciones.loteMaximo ?? 500 };
    this.#agrupadorBuscar = new AgrupadorPorLotes(agrupacion, (lote) => this.#buscarLote(lote));
    this.#agrupadorRegistrar = new AgrupadorPorLotes(agrupacion, (lote) => this.#registrarLote(lote));
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
    if (forzado === 'incierto' || (forzado === undefined && esTransitorio(this.perfil, this.semilla, clave, intento))) {
      this.#contadores.transitorios += 1;
      return { tipo: 'incierto', mensaje: MENSAJE_TRANSITORIO };
    }

    const sinRespuesta = forzado === 'exitosoSinRespuesta';
    const tipoForzado = sinRespuesta ? 'exitoso' : forzado;
    const desenlace = desenlaceDefinitivo(this.perfil, this.semilla, clave, this.#mensajes, this.#prefijo, tipoForzado);
    const registrado = await this.#registrar(solicitud, desenlace, intento);
    this.#intentos.delete(clave);
    if (registrado) {
      if (desenlace.tipo === 'exitoso') this.#contadores.cargosNuevos += 1;
      else this.#contadores.rechazosNuevos += 1;
      return sinRespuesta ? { tipo: 'incierto', mensaje: MENSAJE_SIN_RESPUESTA } : desenlace;
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

  /**
   * Lo que el libro sabe del pago: su cobro (si lo hay, con cualquier clave), si no su rechazo, y si no
   * `sinCobro`. Lo que el libro no pudo leer es `incierto`: preguntar no debe tumbar al consumidor.
   */
  async consultar(consulta: ConsultaCobro): Promise<EstadoCobro> {
    let filas: readonly CargoSimulado[];
    try {
      filas = await cargosDe(this.#db, consulta.idPago);
    } catch (causa) {
      return { tipo: 'incierto', mensaje: envolver(`consultar el pago ${consulta.idPago}`, causa).message };
    }
    const cobro = filas.find((f) => f.resultado === 'exitoso') ?? filas[0];
    if (cobro === undefined) return { tipo: 'sinCobro' };
    if (cobro.resultado === 'exitoso' && cobro.referenciaTransaccion !== null) {
      return { tipo: 'exitoso', referenciaTransaccion: cobro.referenciaTransaccion };
    }
    if (cobro.resultado === 'rechazado' && cobro.mensaje !== null) return { tipo: 'rechazado', mensaje: cobro.mensaje };
    throw new Error(`Libro de la pasarela simulada corrupto: la clave ${cobro.claveIdempotencia} no tiene desenlace completo.`);
  }

  #buscar(clave: string): Promise<CargoSimulado | undefined> {
    return this.#agrupadorBuscar.enviar(clave);
  }

  /** `true` si esta llamada registró el desenlace; `false` si la clave ya tenía uno. */
  #registrar(solicitud: SolicitudCobro, desenlace: DesenlaceDefinitivo, intento: number): Promise<boolean> {
    return this.#agrupadorRegistrar.enviar({ solicitud, desenlace, intento });
  }

  /** Un lote de búsquedas: una sentencia (`= ANY`) para todas las claves distintas del lote. */
  async #buscarLote(lote: readonly PendienteBuscar[]): Promise<void> {
    const claves = [...new Set(lote.map((p) => p.entrada))];
    let porClave: Map<string, CargoSimulado>;
    try {
      const { rows } = await sql<Parameters<typeof aCargoSimulado>[0]>`
        SELECT * FROM pasarela_simulada.cargos WHERE clave_idempotencia = ANY(${claves}::text[])`.execute(this.#db);
      porClave = new Map(rows.map((f) => [f.clave_idempotencia, aCargoSimulado(f)]));
    } catch (causa) {
      if (claves.length > 1 && esErrorDeDatos(causa)) {
        // Una clave imposible no hace fallar a las demás: cada una por su cuenta.
        await Promise.all(claves.map((clave) => this.#buscarLote(lote.filter((p) => p.entrada === clave))));
        return;
      }
      for (const p of lote) p.rechazar(envolver(`buscar la clave ${p.entrada}`, causa));
      return;
    }
    for (const p of lote) p.resolver(porClave.get(p.entrada));
  }

  /**
   * Un lote de registros: un `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING` con la
   * primera solicitud de cada clave. Las repetidas del mismo lote pierden la carrera (exactamente una
   * registra) y quien llamó busca después la fila ganadora, como si hubiera perdido contra otro proceso.
   */
  async #registrarLote(lote: readonly PendienteRegistrar[]): Promise<void> {
    const primeras = new Map<string, PendienteRegistrar>();
    for (const p of lote) {
      const clave = p.entrada.solicitud.claveIdempotencia;
      if (!primeras.has(clave)) primeras.set(clave, p);
    }
    const unicas = [...primeras.values()];
    await this.#registrarUnicas(unicas);
    for (const p of lote) {
      if (p.respondido) continue;
      const clave = p.entrada.solicitud.claveIdempotencia;
      const primera = primeras.get(clave)!;
      const causa = this.#causas.get(primera);
      if (causa !== undefined) {
        p.rechazar(envolver(`registrar el cobro del pago ${p.entrada.solicitud.idPago}`, causa));
      } else {
        p.resolver(false);
      }
    }
    for (const p of unicas) this.#causas.delete(p);
  }

  async #registrarUnicas(unicas: readonly PendienteRegistrar[]): Promise<void> {
    // Orden fijo por clave: dos procesos que insertan lotes solapados no se interbloquean.
    const orden = [...unicas].sort((a, b) => {
      const x = a.entrada.solicitud.claveIdempotencia;
      const y = b.entrada.solicitud.claveIdempotencia;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    let registradas: Set<string>;
    try {
      const e = orden.map((p) => p.entrada);
      const claves = e.map((x) => x.solicitud.claveIdempotencia);
      const idsPago = e.map((x) => x.solicitud.idPago);
      const resultados = e.map((x) => x.desenlace.tipo);
      const referencias = e.map((x) => (x.desenlace.tipo === 'exitoso' ? x.desenlace.referenciaTransaccion : null));
      const mensajes = e.map((x) => (x.desenlace.tipo === 'rechazado' ? x.desenlace.mensaje : null));
      const unidades = e.map((x) => x.solicitud.monto.unidadesMenores);
      const monedas = e.map((x) => x.solicitud.monto.moneda);
      const intentos = e.map((x) => x.intento);
      const correlaciones = e.map((x) => x.solicitud.traza.idCorrelacion);
      const { rows } = await conReintentos(() =>
        sql<{ clave_idempotencia: string }>`
          INSERT INTO pasarela_simulada.cargos (clave_idempotencia, id_pago, resultado, referencia_transaccion, mensaje,
                                                unidades_menores, moneda, intentos, id_correlacion)
          SELECT clave_idempotencia, id_pago, resultado, referencia_transaccion, mensaje, unidades_menores, moneda,
                 intentos, id_correlacion
          FROM unnest(${claves}::text[], ${idsPago}::uuid[], ${resultados}::text[], ${referencias}::text[],
                      ${mensajes}::text[], ${unidades}::int8[], ${monedas}::text[], ${intentos}::int4[],
                      ${correlaciones}::text[]) WITH ORDINALITY
            AS v(clave_idempotencia, id_pago, resultado, referencia_transaccion, mensaje, unidades_menores, moneda,
                 intentos, id_correlacion, orden)
          ORDER BY orden
          ON CONFLICT (clave_idempotencia) DO NOTHING
          RETURNING clave_idempotencia`.execute(this.#db),
      );
      registradas = new Set(rows.map((r) => r.clave_idempotencia));
    } catch (causa) {
      if (orden.length > 1 && esErrorDeDatos(causa)) {
        // Una fila imposible no hace fallar a las demás: cada una en su propia sentencia.
        await Promise.all(orden.map((p) => this.#registrarUnicas([p])));
        return;
      }
      for (const p of orden) {
        this.#causas.set(p, causa);
        p.rechazar(envolver(`registrar el cobro del pago ${p.entrada.solicitud.idPago}`, causa));
      }
      return;
    }
    for (const p of orden) p.resolver(registradas.has(p.entrada.solicitud.claveIdempotencia));
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
