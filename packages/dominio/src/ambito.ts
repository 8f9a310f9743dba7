/**
 * Modo de los datos de un socio, como el `livemode` de Stripe: lo creado con una clave `ap_test_` es de
 * prueba (nunca llega a la pasarela real) y no lo ve una clave `ap_live_`, ni al revés.
 */
export const Modo = {
  REAL: 'live',
  PRUEBA: 'test',
} as const;
export type Modo = (typeof Modo)[keyof typeof Modo];

/** ¿Es `valor` un {@link Modo}? */
export const esModo = (valor: unknown): valor is Modo => valor === Modo.REAL || valor === Modo.PRUEBA;

/**
 * El ámbito de todo dato de un socio: cada fila lo lleva y cada consulta filtra por él. Lo que está en
 * otro ámbito no existe para quien pregunta (404, no 403).
 */
export interface Ambito {
  readonly idSocio: string;
  readonly modo: Modo;
}
