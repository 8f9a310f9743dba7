import type { ConsultaCobro, EstadoCobro, Moneda, PasarelaDePagos, ResultadoPago, SolicitudCobro } from '@aeropartners/dominio';
import Stripe from 'stripe';
import { describirErrorCuenta, resolverCuentaAfiliado, type CuentasAfiliados } from './cuentas-afiliados.js';
import { traducirErrorStripe } from './errores-stripe.js';
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
}

const REINTENTOS_POR_DEFECTO = 2;
const TIMEOUT_POR_DEFECTO_MS = 30_000;

function validarEntero(nombre: string, valor: number, minimo: number): number {
  if (!Number.isSafeInteger(valor) || valor < minimo) {
    throw new Error(`Opción ${nombre} de Stripe inválida: ${valor} (debe ser un entero ≥ ${minimo}).`);
  }
  return valor;
}

/**
 * Pasarela de pagos real: paga a cada afiliado con una transferencia de Stripe Connect
 * (`POST /v1/transfers`) a su cuenta conectada, con `Idempotency-Key` = la clave de la solicitud (el id
 * del pago). Repetir un cobro con la misma clave —un reintento del SDK, un evento reentregado tras una
 * caída— devuelve la misma transferencia y nunca crea otra.
 *
 * Los parámetros enviados son función solo del pago (monto, afiliado, id, referencia, correlación), así
 * que un reintento nunca choca con el `idempotency_error` de Stripe por parámetros distintos.
 */
export class StripePasarelaDePagos implements PasarelaDePagos {
  readonly #stripe: Stripe;
  readonly #cuentas: CuentasAfiliados;
  readonly #monedas: TablaMonedasStripe;

  constructor(opciones: OpcionesStripePasarelaDePagos) {
    if (opciones.apiKey.trim() === '') throw new Error('Falta la clave de API de Stripe.');
    this.#cuentas = opciones.cuentasAfiliados;
    this.#monedas = tablaMonedasStripe(opciones.monedas);
    this.#stripe = new Stripe(opciones.apiKey, {
      maxNetworkRetries: validarEntero(
        'maxNetworkRetries',
        opciones.maxNetworkRetries ?? REINTENTOS_POR_DEFECTO,
        0,
      ),
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

    let transferencia: Stripe.Transfer;
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
      throw new Error(
        `Stripe respondió sin id de transferencia al pago ${solicitud.idPago}: el desenlace es desconocido.`,
      );
    }
    return { tipo: 'exitoso', referenciaTransaccion: transferencia.id };
  }

  /**
   * Busca la transferencia del pago por su `transfer_group` (= id del pago). Stripe no guarda las
   * transferencias que rechazó, así que sin transferencia la respuesta es `sinCobro`. Un fallo al
   * preguntar es `incierto`.
   */
  async consultar(consulta: ConsultaCobro): Promise<EstadoCobro> {
    let lista: Stripe.ApiList<Stripe.Transfer>;
    try {
      lista = await this.#stripe.transfers.list({ transfer_group: consulta.idPago, limit: 10 });
    } catch (error) {
      const detalle = error instanceof Error ? error.message : String(error);
      return { tipo: 'incierto', mensaje: `No se pudo preguntar a Stripe por la transferencia del pago ${consulta.idPago}: ${detalle}` };
    }
    const propia = lista.data.find((t) => t.metadata?.['id_pago'] === consulta.idPago) ?? lista.data[0];
    if (propia === undefined) return { tipo: 'sinCobro' };
    return { tipo: 'exitoso', referenciaTransaccion: propia.id };
  }
}
