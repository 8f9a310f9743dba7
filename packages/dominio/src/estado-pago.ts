/** Ciclo de vida de un pago: PENDIENTE → PROCESANDO → EXITOSO | FALLIDO. Los estados finales son finales. */
export type EstadoPago = 'PENDIENTE' | 'PROCESANDO' | 'EXITOSO' | 'FALLIDO';

const SIGUIENTES: Readonly<Record<EstadoPago, readonly EstadoPago[]>> = {
  PENDIENTE: ['PROCESANDO'],
  PROCESANDO: ['EXITOSO', 'FALLIDO'],
  EXITOSO: [],
  FALLIDO: [],
};

export const EstadoPago = {
  todos: Object.freeze(['PENDIENTE', 'PROCESANDO', 'EXITOSO', 'FALLIDO'] as const) satisfies readonly EstadoPago[],
  esEstado(valor: unknown): valor is EstadoPago {
    return typeof valor === 'string' && Object.hasOwn(SIGUIENTES, valor);
  },
  esFinal(estado: EstadoPago): boolean {
    return SIGUIENTES[estado].length === 0;
  },
  /** ¿Permite la máquina de estados pasar de `desde` a `hacia` en un solo paso? */
  puedePasar(desde: EstadoPago, hacia: EstadoPago): boolean {
    return SIGUIENTES[desde].includes(hacia);
  },
} as const;
