import {
  Dinero,
  type ConsultaCobro,
  type EstadoCobro,
  type PasarelaDePagos,
  type ResultadoPago,
  type SolicitudCobro,
} from '@aeropartners/dominio';
import type { Kysely } from 'kysely';
import type { PoolPostgres } from '../postgres/pool-postgres.js';
import {
  desenlaceDefinitivo,
  esTransitorio,
  falloTrasEnviar,
  latenciaSimulada,
  type DesenlaceDefinitivo,
  type FalloTrasEnviar,
  type Semilla,
} from './decisiones-simuladas.js';
import { LibroAgrupado, envolver } from './libro-agrupado.js';
import { cargosDe, kyselyDelLibro, type CargoSimulado, type EsquemaPasarelaSimulada } from './libro-cargos-simulados.js';
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
  /**
   * Cómo se espera la latencia simulada, también la de un cobro que sigue en curso (por defecto
   * `setTimeout`); los tests pueden medirla o saltarla.
   */
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
// biome-ignore lint/suspicious/noExplicitAny: un Kysely de cualquier esquema (el Migrator y el libro no dependen de sus tablas)
export type FuenteDatosPasarelaSimulada = { readonly db: Kysely<any> } | { readonly pool: PoolPostgres };

export type OpcionesPasarelaSimulada = FuenteDatosPasarelaSimulada &
  ConfiguracionPasarelaSimulada & {
    /** Cada repetición absorbida (la clave ya tenía desenlace): para el registro de eventos del socio (decisión 0153). */
    readonly alRepeticionAbsorbida?: (solicitud: SolicitudCobro) => void;
  };

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
  /** Fallos transitorios simulados, antes de cobrar (nada registrado). */
  readonly transitorios: number;
  /** Decisiones registradas (cobro o rechazo) cuya respuesta se perdió: tiempo agotado, `incierto`. */
  readonly respuestasPerdidas: number;
  /** Decisiones registradas respondidas con un HTTP 500: `incierto`. */
  readonly errores500TrasCobro: number;
  /**
   * Respuestas «en curso» (`incierto`): otra llamada de esta instancia con la misma clave seguía en
   * marcha, o el intento se quedó procesándose en segundo plano.
   */
  readonly enCurso: number;
  /** Decisiones que un intento en segundo plano registró después de responder «en curso». */
  readonly completadosEnSegundoPlano: number;
  /** Intentos en segundo plano que no pudieron registrar su decisión (el libro falló): nada cobrado. */
  readonly perdidosEnSegundoPlano: number;
  /** La clave ya se había usado con otro pago, monto o moneda: `incierto` (conflicto de clave), sin cobrar. */
  readonly clavesReutilizadas: number;
  /** Llamadas a `consultar`. */
  readonly consultas: number;
}

type Contadores = { -readonly [K in keyof ContadoresPasarelaSimulada]: number };

const MENSAJE_TRANSITORIO =
  'La pasarela simulada no respondió a tiempo (fallo transitorio antes de cobrar); se puede reintentar con la misma clave.';
const MENSAJE_SIN_RESPUESTA =
  'Tiempo agotado esperando la respuesta de la pasarela simulada: no se sabe si cobró (la petición llegó a decidirse y ' +
  'se perdió la respuesta); hay que preguntar por el pago antes de reintentar.';
const MENSAJE_500 =
  'La pasarela simulada respondió HTTP 500 (error interno) después de procesar la petición: no se sabe si cobró; hay ' +
  'que preguntar por el pago antes de reintentar.';

function mensajeEnCurso(clave: string, propia: boolean): string {
  return propia
    ? `La pasarela simulada sigue procesando la petición con la clave ${clave} y no respondió a tiempo (petición en curso): ` +
        'no se sabe aún si cobró; hay que preguntar por el pago.'
    : `La pasarela simulada ya está procesando otra petición con la clave de idempotencia ${clave} (petición en curso, ` +
        'como el 409 de Stripe): no se sabe aún si cobró; hay que preguntar por el pago cuando termine.';
}

function dormir(ms: number): Promise<void> {
  return new Promise((resolver) => setTimeout(resolver, ms));
}

/**
 * Stripe simulado (el `StripeAdapter` de la semilla, con idempotencia de verdad): latencia, rechazos y
 * los fallos de una pasarela real, configurables y deterministas dada la semilla, y un libro de cargos
 * durable en PostgreSQL (`pasarela_simulada.cargos`) que hace de memoria de idempotencia.
 *
 * Un cobro:
 * 0. si otra llamada de esta instancia con la misma clave sigue en marcha (o quedó en segundo plano),
 *    responde `incierto` «petición en curso», como el 409 de Stripe, sin hacer nada;
 * 1. busca la clave en el libro: si está, devuelve el desenlace guardado (una repetición absorbida);
 * 2. si no, espera la latencia simulada (ningún temporizador si es 0) y tira el dado del transitorio:
 *    si sale, responde `incierto` sin registrar nada (el fallo ocurrió antes de cobrar);
 * 3. si no, decide cobro o rechazo y tira el dado de los fallos tras enviar: «en curso» responde
 *    `incierto` y registra la decisión un poco después en segundo plano; «sin respuesta» y «500» la
 *    registran y responden `incierto`; sin fallo, la registra y la devuelve. El registro es un
 *    `INSERT … ON CONFLICT (clave_idempotencia) DO NOTHING RETURNING`: si otra llamada con la misma clave
 *    ganó la carrera (en otro proceso), se devuelve la fila ganadora.
 *
 * Así una clave no se cobra dos veces nunca: ni con llamadas simultáneas, ni entre procesos, ni tras una
 * caída. El desenlace definitivo de una clave depende solo de (semilla, clave); los fallos y la latencia,
 * de (semilla, clave, intento), así que un reintento puede pasar donde el primero falló. `consultar`
 * responde lo registrado en el libro para el pago, o `incierto` mientras esta instancia tenga un cobro
 * suyo en marcha.
 */
export class SimuladaPasarelaDePagos implements PasarelaDePagos {
  readonly perfil: PerfilPasarelaSimulada;
  readonly semilla: Semilla;
  readonly #db: Kysely<EsquemaPasarelaSimulada>;
  readonly #mensajes: readonly string[];
  readonly #prefijo: string;
  readonly #forzado: ConfiguracionPasarelaSimulada['desenlaceForzado'];
  readonly #esperar: (ms: number) => Promise<void>;
  readonly #alRepeticion: ((solicitud: SolicitudCobro) => void) | undefined;
  readonly #libro: LibroAgrupado;
  // Intentos por clave aún sin desenlace definitivo en este proceso (se borran al registrarlo).
  readonly #intentos = new Map<string, number>();
  // Peticiones en marcha en esta instancia: clave → id del pago, y cuántas hay por pago (para consultar).
  readonly #enCurso = new Map<string, string>();
  readonly #enCursoPorPago = new Map<string, number>();
  readonly #segundoPlano = new Set<Promise<void>>();
  readonly #contadores: Contadores = {
    llamadas: 0,
    cargosNuevos: 0,
    rechazosNuevos: 0,
    repeticionesAbsorbidas: 0,
    carrerasPerdidas: 0,
    transitorios: 0,
    respuestasPerdidas: 0,
    errores500TrasCobro: 0,
    enCurso: 0,
    completadosEnSegundoPlano: 0,
    perdidosEnSegundoPlano: 0,
    clavesReutilizadas: 0,
    consultas: 0,
  };

  constructor(opciones: OpcionesPasarelaSimulada) {
    this.perfil = validarPerfilPasarelaSimulada({
      latenciaMinMs: opciones.latenciaMinMs ?? Math.min(PERFIL_LOCAL.latenciaMinMs, opciones.latenciaMaxMs ?? Infinity),
      latenciaMaxMs: opciones.latenciaMaxMs ?? Math.max(PERFIL_LOCAL.latenciaMaxMs, opciones.latenciaMinMs ?? 0),
      tasaRechazo: opciones.tasaRechazo ?? PERFIL_LOCAL.tasaRechazo,
      tasaTransitorio: opciones.tasaTransitorio ?? PERFIL_LOCAL.tasaTransitorio,
      tasaSinRespuesta: opciones.tasaSinRespuesta ?? PERFIL_LOCAL.tasaSinRespuesta,
      tasa500TrasCobro: opciones.tasa500TrasCobro ?? PERFIL_LOCAL.tasa500TrasCobro,
      tasaEnCurso: opciones.tasaEnCurso ?? PERFIL_LOCAL.tasaEnCurso,
    });
    this.semilla = opciones.semilla ?? SEMILLA_POR_DEFECTO;
    this.#mensajes = Object.freeze([...(opciones.mensajesRechazo ?? MENSAJES_RECHAZO_SEMILLA)]);
    if (this.#mensajes.length === 0 || this.#mensajes.some((m) => m.trim() === '')) {
      throw new Error('Pasarela simulada: los mensajes de rechazo no pueden estar vacíos.');
    }
    this.#prefijo = opciones.prefijoReferencia ?? 'ch_sim_';
    this.#forzado = opciones.desenlaceForzado;
    this.#esperar = opciones.esperar ?? dormir;
    this.#alRepeticion = opciones.alRepeticionAbsorbida;
    this.#db = kyselyDelLibro('db' in opciones ? opciones.db : opciones.pool);
    this.#libro = new LibroAgrupado(this.#db, { enVueloMaximo: opciones.enVueloMaximo ?? 1, loteMaximo: opciones.loteMaximo ?? 500 });
  }

  /** Lo hecho por esta instancia (el libro, compartido entre procesos, se consulta con `contarCargosPorPago`). */
  contadores(): ContadoresPasarelaSimulada {
    return { ...this.#contadores };
  }

  /**
   * Espera a que terminen los intentos que quedaron en segundo plano («en curso»): para los tests, y para
   * una parada ordenada que no quiera perder los que estaban a punto de registrarse.
   */
  async esperarEnSegundoPlano(): Promise<void> {
    while (this.#segundoPlano.size > 0) await Promise.all([...this.#segundoPlano]);
  }

  async cobrar(solicitud: SolicitudCobro): Promise<ResultadoPago> {
    this.#contadores.llamadas += 1;
    const clave = solicitud.claveIdempotencia;
    if (this.#enCurso.has(clave)) {
      this.#contadores.enCurso += 1;
      return { tipo: 'incierto', mensaje: mensajeEnCurso(clave, false) };
    }
    this.#marcarEnCurso(solicitud);
    let sigueEnCurso = false;
    try {
      const guardado = await this.#libro.buscar(clave);
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
      // Un desenlace forzado no tira los dados de fallo (salvo el que él mismo impone).
      const sinRespuestaForzado = forzado === 'exitosoSinRespuesta';
      const fallo: FalloTrasEnviar | undefined = sinRespuestaForzado
        ? 'sinRespuesta'
        : forzado === undefined
          ? falloTrasEnviar(this.perfil, this.semilla, clave, intento)
          : undefined;
      const tipo = sinRespuestaForzado ? 'exitoso' : forzado;
      const desenlace = desenlaceDefinitivo(this.perfil, this.semilla, clave, this.#mensajes, this.#prefijo, tipo);

      if (fallo === 'enCurso') {
        this.#contadores.enCurso += 1;
        this.#registrarEnSegundoPlano(solicitud, desenlace, intento);
        sigueEnCurso = true;
        return { tipo: 'incierto', mensaje: mensajeEnCurso(clave, true) };
      }

      const registrado = await this.#libro.registrar(solicitud, desenlace, intento);
      this.#intentos.delete(clave);
      if (registrado) {
        this.#contarNuevo(desenlace);
        if (fallo === 'sinRespuesta') {
          this.#contadores.respuestasPerdidas += 1;
          return { tipo: 'incierto', mensaje: MENSAJE_SIN_RESPUESTA };
        }
        if (fallo === 'error500') {
          this.#contadores.errores500TrasCobro += 1;
          return { tipo: 'incierto', mensaje: MENSAJE_500 };
        }
        return desenlace;
      }

      // Otra llamada con la misma clave (de otro proceso) registró antes: manda su desenlace.
      const ganador = await this.#libro.buscar(clave);
      if (ganador === undefined) {
        throw new Error(`La pasarela simulada no encuentra la fila de la clave ${clave} tras perder la carrera por registrarla.`);
      }
      return this.#repetir(solicitud, ganador, true);
    } finally {
      if (!sigueEnCurso) this.#desmarcarEnCurso(solicitud);
    }
  }

  /**
   * Lo que el libro sabe del pago: su cobro (si lo hay, con cualquier clave); si no, `incierto` mientras
   * esta instancia tenga un cobro suyo en marcha (p. ej. uno que quedó en segundo plano); si no, su
   * rechazo, y si no `sinCobro`. Lo que el libro no pudo leer es `incierto`: preguntar no debe tumbar al
   * consumidor.
   */
  async consultar(consulta: ConsultaCobro): Promise<EstadoCobro> {
    this.#contadores.consultas += 1;
    // Antes de leer: un cobro en marcha que registra mientras se lee y deja de estar en marcha antes de
    // mirar otra vez no puede pasar por «sinCobro».
    const enMarchaAntes = this.#enCursoPorPago.has(consulta.idPago);
    let filas: readonly CargoSimulado[];
    try {
      filas = await cargosDe(this.#db, consulta.idPago);
    } catch (causa) {
      return { tipo: 'incierto', mensaje: envolver(`consultar el pago ${consulta.idPago}`, causa).message };
    }
    const cobro = filas.find((f) => f.resultado === 'exitoso');
    if (cobro !== undefined) {
      if (cobro.referenciaTransaccion === null) {
        throw new Error(`Libro de la pasarela simulada corrupto: la clave ${cobro.claveIdempotencia} es exitosa sin referencia.`);
      }
      return { tipo: 'exitoso', referenciaTransaccion: cobro.referenciaTransaccion };
    }
    if (enMarchaAntes || this.#enCursoPorPago.has(consulta.idPago)) {
      return {
        tipo: 'incierto',
        mensaje: `La pasarela simulada aún está procesando un cobro del pago ${consulta.idPago}: no se sabe todavía si cobró.`,
      };
    }
    const rechazo = filas[0];
    if (rechazo === undefined) return { tipo: 'sinCobro' };
    if (rechazo.mensaje === null) {
      throw new Error(`Libro de la pasarela simulada corrupto: la clave ${rechazo.claveIdempotencia} es un rechazo sin mensaje.`);
    }
    return { tipo: 'rechazado', mensaje: rechazo.mensaje };
  }

  #marcarEnCurso(solicitud: SolicitudCobro): void {
    this.#enCurso.set(solicitud.claveIdempotencia, solicitud.idPago);
    this.#enCursoPorPago.set(solicitud.idPago, (this.#enCursoPorPago.get(solicitud.idPago) ?? 0) + 1);
  }

  #desmarcarEnCurso(solicitud: SolicitudCobro): void {
    this.#enCurso.delete(solicitud.claveIdempotencia);
    const quedan = (this.#enCursoPorPago.get(solicitud.idPago) ?? 1) - 1;
    if (quedan > 0) this.#enCursoPorPago.set(solicitud.idPago, quedan);
    else this.#enCursoPorPago.delete(solicitud.idPago);
  }

  #contarNuevo(desenlace: DesenlaceDefinitivo): void {
    if (desenlace.tipo === 'exitoso') this.#contadores.cargosNuevos += 1;
    else this.#contadores.rechazosNuevos += 1;
  }

  /**
   * El proveedor sigue con la petición aunque el cliente se fue: registra la decisión tras otra latencia
   * simulada (al menos una vuelta del bucle de eventos, para que quien llamó reciba antes «en curso»). La
   * clave sigue en curso hasta entonces. Si el libro falla, la petición se pierde sin cobrar nada.
   */
  #registrarEnSegundoPlano(solicitud: SolicitudCobro, desenlace: DesenlaceDefinitivo, intento: number): void {
    const clave = solicitud.claveIdempotencia;
    const demora = latenciaSimulada(this.perfil, this.semilla, clave, intento, 'en-curso');
    const tarea = (async () => {
      try {
        await (demora > 0 ? this.#esperar(demora) : new Promise<void>((r) => setImmediate(r)));
        if (await this.#libro.registrar(solicitud, desenlace, intento)) {
          this.#contarNuevo(desenlace);
          this.#contadores.completadosEnSegundoPlano += 1;
        }
        this.#intentos.delete(clave);
      } catch {
        this.#contadores.perdidosEnSegundoPlano += 1;
      } finally {
        this.#desmarcarEnCurso(solicitud);
      }
    })();
    this.#segundoPlano.add(tarea);
    void tarea.finally(() => this.#segundoPlano.delete(tarea));
  }

  #repetir(solicitud: SolicitudCobro, guardado: CargoSimulado, carrera: boolean): ResultadoPago {
    const mismoMonto = guardado.unidadesMenores === solicitud.monto.unidadesMenores && guardado.moneda === solicitud.monto.moneda;
    if (guardado.idPago !== solicitud.idPago || !mismoMonto) {
      // Como el idempotency_error de Stripe: esta petición no se ejecuta, pero la primera con la clave
      // pudo cobrar, así que no es un rechazo.
      this.#contadores.clavesReutilizadas += 1;
      const montoGuardado = Dinero.deUnidadesMenores(guardado.unidadesMenores, guardado.moneda);
      const texto = montoGuardado.ok
        ? `${Dinero.formatear(montoGuardado.valor)} ${guardado.moneda}`
        : `${guardado.unidadesMenores} ${guardado.moneda}`;
      return {
        tipo: 'incierto',
        mensaje:
          `La clave de idempotencia ${solicitud.claveIdempotencia} ya se usó con otros parámetros ` +
          `(pago ${guardado.idPago}, ${texto}): no se cobró nada con esta solicitud, pero la primera con esa ` +
          'clave pudo cobrar; hay que preguntar por el pago.',
      };
    }
    this.#contadores.repeticionesAbsorbidas += 1;
    if (carrera) this.#contadores.carrerasPerdidas += 1;
    this.#alRepeticion?.(solicitud);
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
 * La pasarela simulada, con el perfil local por defecto (0–20 ms, 10 % de rechazos, 2 % de transitorios,
 * 1 % sin respuesta, 0,5 % de 500 tras cobrar, ninguno en curso) y lo que se indique encima. El libro debe existir: `prepararPasarelaSimulada(db)` antes.
 *
 * ```ts
 * await prepararPasarelaSimulada(db);
 * const pasarela = crearPasarelaSimulada({ db, ...PERFIL_SEMILLA, semilla: 7 });
 * ```
 */
export function crearPasarelaSimulada(opciones: OpcionesPasarelaSimulada): SimuladaPasarelaDePagos {
  return new SimuladaPasarelaDePagos(opciones);
}
