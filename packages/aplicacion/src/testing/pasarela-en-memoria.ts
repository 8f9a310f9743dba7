import {
  Dinero,
  type ConsultaCobro,
  type EstadoCobro,
  type PasarelaDePagos,
  type ResultadoPago,
  type SolicitudCobro,
} from '@aeropartners/dominio';

/**
 * Lo que hará la pasarela en memoria en un intento de cobro que llegue a decidirse:
 * - `'exitoso'` / `'rechazado'`: ese desenlace con una referencia o un mensaje por defecto;
 * - `'incierto'`: la respuesta se pierde ANTES de cobrar (nada registrado; el reintento vuelve a decidir);
 * - `'exitosoSinRespuesta'`: cobra y registra el cobro, pero la respuesta se pierde (`incierto`): el
 *   caso que obliga a preguntar antes de dar nada por fallido;
 * - un `ResultadoPago` completo: tal cual (p. ej. un rechazo con un mensaje concreto);
 * - un `Error`: se lanza (un fallo de infraestructura: la pasarela no responde), sin registrar nada.
 */
export type DesenlaceProgramado = ResultadoPago['tipo'] | 'exitosoSinRespuesta' | ResultadoPago | Error;

/** Una llamada a `cobrar`, con lo que respondió (o lanzó). */
export interface LlamadaPasarela {
  readonly solicitud: SolicitudCobro;
  /**
   * Cómo se resolvió: `decidida` (este intento decidió: cobro, rechazo, incierto o error lanzado),
   * `repetida` (la clave ya tenía un desenlace definitivo, o lo estaba decidiendo una llamada simultánea:
   * se devolvió ese), `clave-reutilizada` (la clave ya se usó con otro pago, monto o moneda).
   */
  readonly tipo: 'decidida' | 'repetida' | 'clave-reutilizada';
  readonly resultado?: ResultadoPago;
  readonly error?: unknown;
}

/** Un cargo hecho de verdad (desenlace `exitoso` registrado): dinero movido. */
export interface CargoEnMemoria {
  readonly idPago: string;
  readonly claveIdempotencia: string;
  readonly referenciaTransaccion: string;
  readonly monto: Dinero;
  readonly idCorrelacion: string;
  /** Intento (de esta clave) en que se decidió. */
  readonly intento: number;
}

export interface OpcionesPasarelaEnMemoria {
  /** Desenlace de un intento sin nada programado para su pago. Por defecto `'exitoso'`. */
  readonly desenlacePorDefecto?: DesenlaceProgramado;
  /** Prefijo de las referencias generadas (`tr_mem_000001`…). */
  readonly prefijoReferencia?: string;
  /**
   * Espera antes de decidir cada intento (p. ej. `() => new Promise((r) => setTimeout(r, 5))`), para que
   * las llamadas simultáneas se solapen de verdad. Por defecto no espera.
   */
  readonly espera?: (solicitud: SolicitudCobro) => Promise<void>;
}

interface Decision {
  readonly idPago: string;
  readonly monto: Dinero;
  readonly resultado: ResultadoPago;
}

const MENSAJE_RECHAZO = 'Fondos insuficientes (rechazo programado en la pasarela en memoria).';
const MENSAJE_INCIERTO =
  'La pasarela en memoria no respondió (simulado): no se sabe si cobró; se puede preguntar o reintentar con la misma clave.';

/**
 * Doble de {@link PasarelaDePagos} para las pruebas de los manejadores, con las garantías que el
 * contrato exige a una pasarela real:
 *
 * - desenlaces programables por pago (`programar(idPago, 'incierto', 'exitoso')`: un intento cada
 *   uno, en orden; después, el desenlace por defecto);
 * - idempotencia: la misma clave devuelve el desenlace definitivo guardado y nunca cobra dos veces
 *   (hasta `olvidarClaves()`); un `incierto` programado o un `Error` no guardan nada, así que el
 *   reintento vuelve a decidir; las llamadas simultáneas con la misma clave esperan al intento en curso;
 * - `consultar` responde con lo registrado para el pago (aunque se hayan olvidado las claves);
 * - la misma clave con otro pago, monto o moneda → `incierto` (un conflicto de clave, como el
 *   `idempotency_error` de Stripe: esta petición no cobra, pero la primera con esa clave pudo hacerlo);
 * - registra cada llamada (`llamadas`) y cada cargo (`cargos`) para las aserciones.
 */
export class PasarelaEnMemoria implements PasarelaDePagos {
  /** Todas las llamadas a `cobrar`, en orden de llegada. */
  readonly llamadas: LlamadaPasarela[] = [];
  /** Cargos hechos de verdad, en orden. */
  readonly cargos: CargoEnMemoria[] = [];
  /** Todas las llamadas a `consultar`, en orden de llegada. */
  readonly consultas: ConsultaCobro[] = [];

  readonly #programados = new Map<string, DesenlaceProgramado[]>();
  /** Memoria de idempotencia: clave → desenlace definitivo. `olvidarClaves()` la vacía, como Stripe a las 24 h. */
  readonly #decisiones = new Map<string, Decision>();
  /** Registro permanente de desenlaces definitivos (lo que `consultar` lee): no se olvida. */
  readonly #registro: Decision[] = [];
  readonly #enCurso = new Map<string, Promise<ResultadoPago>>();
  readonly #solicitudesEnCurso = new Map<string, SolicitudCobro>();
  readonly #intentos = new Map<string, number>();
  readonly #porDefecto: DesenlaceProgramado;
  readonly #prefijo: string;
  readonly #espera: ((solicitud: SolicitudCobro) => Promise<void>) | undefined;
  #referencias = 0;

  constructor(opciones: OpcionesPasarelaEnMemoria = {}) {
    this.#porDefecto = opciones.desenlacePorDefecto ?? 'exitoso';
    this.#prefijo = opciones.prefijoReferencia ?? 'tr_mem_';
    this.#espera = opciones.espera;
  }

  /** Encola desenlaces para los próximos intentos del pago que lleguen a decidirse. */
  programar(idPago: string, ...desenlaces: DesenlaceProgramado[]): this {
    const cola = this.#programados.get(idPago) ?? [];
    cola.push(...desenlaces);
    this.#programados.set(idPago, cola);
    return this;
  }

  async cobrar(solicitud: SolicitudCobro): Promise<ResultadoPago> {
    const clave = solicitud.claveIdempotencia;
    const decidida = this.#decisiones.get(clave);
    if (decidida !== undefined) return this.#repetir(solicitud, decidida);

    const enCurso = this.#enCurso.get(clave);
    if (enCurso !== undefined) {
      // Otra llamada con la misma clave está decidiendo: se espera a su desenlace, como una repetición.
      const resultado = await enCurso.catch(() => undefined);
      const despues = this.#decisiones.get(clave);
      if (despues !== undefined) return this.#repetir(solicitud, despues);
      if (resultado !== undefined) {
        this.llamadas.push({ solicitud, tipo: 'repetida', resultado });
        return resultado;
      }
      return this.cobrar(solicitud); // el intento en curso lanzó: este vuelve a intentarlo
    }

    const intento = this.#decidir(solicitud);
    this.#enCurso.set(clave, intento);
    this.#solicitudesEnCurso.set(clave, solicitud);
    try {
      return await intento;
    } finally {
      this.#enCurso.delete(clave);
      this.#solicitudesEnCurso.delete(clave);
    }
  }

  /**
   * Lo que la pasarela sabe del pago: el desenlace definitivo guardado con cualquiera de sus claves,
   * `incierto` si hay un intento en curso con alguna, o `sinCobro`. Se registra en `consultas`.
   */
  async consultar(consulta: ConsultaCobro): Promise<EstadoCobro> {
    this.consultas.push(consulta);
    const exitoso = this.#registro.find((d) => d.idPago === consulta.idPago && d.resultado.tipo === 'exitoso');
    const decidido = exitoso ?? this.#registro.find((d) => d.idPago === consulta.idPago);
    if (decidido !== undefined && decidido.resultado.tipo !== 'incierto') return decidido.resultado;
    for (const [clave, solicitud] of this.#solicitudesEnCurso) {
      if (solicitud.idPago === consulta.idPago) {
        return { tipo: 'incierto', mensaje: `La pasarela en memoria aún está decidiendo el cobro con la clave ${clave}.` };
      }
    }
    return { tipo: 'sinCobro' };
  }

  /**
   * Olvida las claves de idempotencia (Stripe las olvida a las 24 h): repetir una clave vuelve a decidir
   * y puede cobrar otra vez. Lo ya cobrado sigue en `cargos` y `consultar` lo sigue viendo.
   */
  olvidarClaves(): void {
    this.#decisiones.clear();
  }

  /** Cargos hechos para el pago (con cualquier clave). */
  cargosDe(idPago: string): CargoEnMemoria[] {
    return this.cargos.filter((c) => c.idPago === idPago);
  }

  contarCargos(idPago: string): number {
    return this.cargosDe(idPago).length;
  }

  /** Llamadas recibidas para el pago, en orden. */
  llamadasDe(idPago: string): LlamadaPasarela[] {
    return this.llamadas.filter((l) => l.solicitud.idPago === idPago);
  }

  /** Desenlace definitivo guardado con la clave, si lo hay. */
  desenlaceDe(claveIdempotencia: string): ResultadoPago | undefined {
    return this.#decisiones.get(claveIdempotencia)?.resultado;
  }

  #repetir(solicitud: SolicitudCobro, decision: Decision): ResultadoPago {
    if (decision.idPago !== solicitud.idPago || !Dinero.igual(decision.monto, solicitud.monto)) {
      const resultado: ResultadoPago = {
        tipo: 'incierto',
        mensaje:
          `La clave de idempotencia ${solicitud.claveIdempotencia} ya se usó con otros parámetros ` +
          `(pago ${decision.idPago}, ${Dinero.formatear(decision.monto)} ${decision.monto.moneda}): esta petición ` +
          'no cobró, pero la primera con esa clave pudo hacerlo; hay que preguntar por el pago.',
      };
      this.llamadas.push({ solicitud, tipo: 'clave-reutilizada', resultado });
      return resultado;
    }
    this.llamadas.push({ solicitud, tipo: 'repetida', resultado: decision.resultado });
    return decision.resultado;
  }

  async #decidir(solicitud: SolicitudCobro): Promise<ResultadoPago> {
    const clave = solicitud.claveIdempotencia;
    const intento = (this.#intentos.get(clave) ?? 0) + 1;
    this.#intentos.set(clave, intento);
    await this.#espera?.(solicitud);

    const programado = this.#programados.get(solicitud.idPago)?.shift() ?? this.#porDefecto;
    if (programado instanceof Error) {
      this.llamadas.push({ solicitud, tipo: 'decidida', error: programado });
      throw programado;
    }
    const sinRespuesta = programado === 'exitosoSinRespuesta';
    const resultado = this.#resultado(sinRespuesta ? 'exitoso' : programado);
    const respuesta: ResultadoPago = sinRespuesta ? { tipo: 'incierto', mensaje: MENSAJE_INCIERTO } : resultado;
    this.llamadas.push({ solicitud, tipo: 'decidida', resultado: respuesta });
    if (resultado.tipo === 'incierto') return resultado;

    const decision: Decision = { idPago: solicitud.idPago, monto: solicitud.monto, resultado };
    this.#decisiones.set(clave, decision);
    this.#registro.push(decision);
    this.#intentos.delete(clave);
    if (resultado.tipo === 'exitoso') {
      this.cargos.push({
        idPago: solicitud.idPago,
        claveIdempotencia: clave,
        referenciaTransaccion: resultado.referenciaTransaccion,
        monto: solicitud.monto,
        idCorrelacion: solicitud.traza.idCorrelacion,
        intento,
      });
    }
    return respuesta;
  }

  #resultado(programado: Exclude<DesenlaceProgramado, 'exitosoSinRespuesta' | Error>): ResultadoPago {
    if (typeof programado !== 'string') return programado;
    switch (programado) {
      case 'exitoso':
        this.#referencias += 1;
        return { tipo: 'exitoso', referenciaTransaccion: `${this.#prefijo}${String(this.#referencias).padStart(6, '0')}` };
      case 'rechazado':
        return { tipo: 'rechazado', mensaje: MENSAJE_RECHAZO };
      case 'incierto':
        return { tipo: 'incierto', mensaje: MENSAJE_INCIERTO };
    }
  }
}
