/**
 * `@aeropartners/adaptadores/stripe`: la pasarela de pagos sobre transferencias de Stripe Connect.
 * `stripe` (par opcional del paquete) lo instala quien use esta subruta.
 */
export { StripePasarelaDePagos, type OpcionesStripePasarelaDePagos } from './stripe-pasarela-de-pagos.js';
export type { CuentasAfiliados } from './cuentas-afiliados.js';
export {
  MONEDAS_STRIPE_POR_DEFECTO,
  type FormatoMonedaStripe,
  type TablaMonedasStripe,
} from './montos-stripe.js';
