import type { ConsultaCobro, EstadoCobro, Moneda, PasarelaDePagos, ResultadoPago, SolicitudCobro } from '@aeropartners/dominio';
import Stripe from 'stripe';
import { describirErrorCuenta, resolverCuentaAfiliado, type CuentasAfiliados } from './cuentas-afiliados.js';
import { traducirErrorConsultaStripe, traducirErrorStripe } from './errores-stripe.js';
import {
  aMontoStripe,
  describirMontoNoRepresentable,
  tablaMonedasStripe,
  type FormatoMonedaStripe,
  type TablaMonedasStripe,
} from './montos-stripe.js';

export interface OpcionesStripePasarelaDePagos {
  /** Clave secreta de la plataforma (`sk_live_…`, `sk_test_…` o una restringida `rk_…`). */
  readonly apiKey: string;
  /** Cuenta conectada (`acct_…`) de cada afiliado. Un afiliado sin cuenta → `rechazado`, sin llamar a Stripe. */
  readonly cuentasAfiliados: CuentasAfiliados;
  /**
   * Formato de `amount` por moneda, sobre `MONEDAS_STRIPE_POR_DEFECTO` (USD y EUR con 2 decimales;
   * COP codificado con 2 decimales y transferido solo en pesos enteros).
   */
  readonly monedas?: Partial<Record<Moneda, FormatoMonedaStripe>>;
  /**
   * Reintentos automáticos del SDK ante errores de red, 409 y 5xx, con espera exponencial y la misma
   * `Idempotency-Key`. Por defecto 2. Con 0, el único reintento del SDK es el de una conexión cerrada.
   */
  readonly maxNetworkRetries?: number;
  /** Tiempo máximo de cada intento, en milisegundos. Por defecto 30 000. */
  readonly timeout?: number;
  /** Anfitrión de la API (por defecto `api.stripe.com`); los tests apuntan a un servidor falso local. */
  readonly host?: string;
  readonly port?: number;
  readonly protocol?: 'http' | 'https';
  /**
   * Cada cobro que Stripe respondió con la respuesta guardada de su clave (`Idempotent-Replayed: true`):
   * un duplicado absorbido en la etapa de la pasarela (decisión 0153).
   */
  readonly alRepeticionAbsorbida?: (solicitud: SolicitudCobro) => void;
}

const REINTENTOS_POR_DEFECTO = 2;
const TIMEOUT_POR_DEFECTO_MS = 30_000;
/**
 * Transferencias pedidas al preguntar por un pago. Una basta para decidir (un pago tiene una, o ninguna);
 * las demás solo sirven para ver un grupo anómalo, y cualquier anomalía ya es `incierto`.
 */
const TRANSFERENCIAS_POR_CONSULTA = 100;

function validarEntero(nombre: string, valor: number, minimo: number): number {
  if (!Number.isSafeInteger(valor) || valor < minimo) {
    throw new Error(`Opción ${nombre} de Stripe inválida: ${valor} (debe ser un entero ≥ ${minimo}).`);
  }
  return valor;
}

/**
 * Pasarela de pagos real: paga a cada afiliado con una transferencia de Stripe Connect
 * (`POST /v1/transfers`) a su cuenta conectada, con `Idempotency-Key` = la clave de la solicitud (el id
 * del pago) y `transfer_group` = el id del pago. Repetir un cobro con la misma clave —un reintento del
 * SDK, un evento reentregado tras una caída— devuelve la misma transferencia mientras Stripe recuerde la
 * clave (24 h); por eso quien reintenta un pago ya intentado pregunta antes con `consultar`, que busca la
 * transferencia por su grupo y no depende de la clave.
 *
 * Los parámetros enviados son función solo del pago (monto, afiliado, id, referencia), así
 * que un reintento nunca choca con el `idempotency_error` de Stripe por parámetros distintos.
 */
export class StripePasarelaDePagos implements PasarelaDePagos {
  readonly #stripe: Stripe;
  readonly #cuentas: CuentasAfiliados;
  readonly #monedas: TablaMonedasStripe;
  readonly #alRepeticion: ((solicitud: SolicitudCobro) => void) | undefined;
  #repeticionesAbsorbidas = 0;

  constructor(opciones: OpcionesStripePasarelaDePagos) {
    if (opciones.apiKey.trim() === '') throw new Error('Falta la clave de API de Stripe.');
    this.#cuentas = opciones.cuentasAfiliados;
    this.#monedas = tablaMonedasStripe(opciones.monedas);
    this.#alRepeticion = opciones.alRepeticionAbsorbida;
    this.#stripe = new Stripe(opciones.apiKey, {
      maxNetworkRetries: validarEntero('maxNetworkRetries', opciones.maxNetworkRetries ?? REINTENTOS_POR_DEFECTO, 0),
      timeout: validarEntero('timeout', opciones.timeout ?? TIMEOUT_POR_DEFECTO_MS, 1),
      ...(opciones.host === undefined ? {} : { host: opciones.host }),
      ...(opciones.port === undefined ? {} : { port: opciones.port }),
      ...(opciones.protocol === undefined ? {} : { protocol: opciones.protocol }),
      appInfo: { name: 'aeropartners-pagos' },
      typescript: true,
    });
  }

  async cobrar(solicitud: SolicitudCobro): Promise<ResultadoPago> {
    const monto = aMontoStripe(solicitud.monto, this.#monedas);
    if (!monto.ok) return { tipo: 'rechazado', mensaje: describirMontoNoRepresentable(monto.error) };

    const cuenta = await resolverCuentaAfiliado(this.#cuentas, solicitud.idAfiliado);
    if (!cuenta.ok) return { tipo: 'rechazado', mensaje: describirErrorCuenta(cuenta.error) };

    let transferencia: Stripe.Response<Stripe.Transfer>;
    try {
      transferencia = await this.#stripe.transfers.create(
        {
          amount: monto.valor.amount,
          currency: monto.valor.currency,
          destination: cuenta.valor,
          // El grupo es el id del pago: así `consultar` encuentra la transferencia aunque Stripe ya haya
          // olvidado la clave de idempotencia (24 h).
          transfer_group: solicitud.idPago,
          // Solo datos del pago: Stripe compara todos los parámetros al reutilizar una clave, así que
          // nada que cambie entre reintentos (id de correlación, traceparent) puede ir aquí.
          metadata: {
            id_pago: solicitud.idPago,
            referencia_pago: solicitud.referenciaPago,
          },
        },
        { idempotencyKey: solicitud.claveIdempotencia },
      );
    } catch (error) {
      return traducirErrorStripe(error, solicitud.claveIdempotencia);
    }

    if (typeof transferencia.id !== 'string' || transferencia.id === '') {
      throw new Error(`Stripe respondió sin id de transferencia al pago ${solicitud.idPago}: el desenlace es desconocido.`);
    }
    if (transferencia.lastResponse.headers['idempotent-replayed'] === 'true') {
      this.#repeticionesAbsorbidas += 1;
      this.#alRepeticion?.(solicitud);
    }
    return { tipo: 'exitoso', referenciaTransaccion: transferencia.id };
  }

  /** Cobros que Stripe respondió con la respuesta guardada de su clave (duplicados de la etapa pasarela). */
  get repeticionesAbsorbidas(): number {
    return this.#repeticionesAbsorbidas;
  }

  /**
   * Busca la transferencia del pago por su `transfer_group` (= id del pago) y su `metadata[id_pago]`: la
   * primera línea de defensa contra una segunda transferencia cuando Stripe ya olvidó la clave (24 h).
   *
   * - ninguna transferencia en el grupo → `sinCobro` (Stripe no guarda las transferencias que rechazó);
   * - una del pago (mismo `metadata[id_pago]`) sin revertir del todo → `exitoso` con su id (si hubiera
   *   varias, la más antigua);
   * - solo transferencias del pago revertidas del todo → `incierto`: el dinero se movió y volvió por una
   *   decisión ajena a este servicio; transferir otra vez la contradiría, y darlo por pagado también;
   * - solo transferencias con otro `metadata[id_pago]` (o sin él) → `incierto`: alguien usó el grupo del
   *   pago a mano y no se puede afirmar que no hubo cobro;
   * - un fallo al preguntar → `incierto` (un 401 lanza, como al cobrar).
   */
  async consultar(consulta: ConsultaCobro): Promise<EstadoCobro> {
    let lista: Stripe.ApiList<Stripe.Transfer>;
    try {
      lista = await this.#stripe.transfers.list({ transfer_group: consulta.idPago, limit: TRANSFERENCIAS_POR_CONSULTA });
    } catch (error) {
      return traducirErrorConsultaStripe(error, consulta.idPago);
    }
    if (lista.data.length === 0) return { tipo: 'sinCobro' };
    const propias = lista.data.filter((t) => t.metadata?.['id_pago'] === consulta.idPago);
    // La lista viene de la más nueva a la más antigua: la original es la última.
    const vigente = propias.filter((t) => !t.reversed).at(-1);
    if (vigente !== undefined) return { tipo: 'exitoso', referenciaTransaccion: vigente.id };
    if (propias.length > 0) {
      return {
        tipo: 'incierto',
        mensaje:
          `La transferencia del pago ${consulta.idPago} en Stripe (${propias.map((t) => t.id).join(', ')}) fue ` +
          'revertida: el dinero se movió y volvió. No se transfiere otra vez ni se da por pagado; hay que ' +
          'revisarlo a mano.',
      };
    }
    return {
      tipo: 'incierto',
      mensaje:
        `El grupo de transferencias ${consulta.idPago} en Stripe tiene transferencias que no llevan ` +
        `metadata[id_pago] = ${consulta.idPago} (${lista.data.map((t) => t.id).join(', ')}): no se puede saber ` +
        'si el pago se cobró; hay que revisarlo a mano antes de transferir.',
    };
  }
}
