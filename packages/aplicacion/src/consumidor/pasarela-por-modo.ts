import {
  Modo,
  type ConsultaCobro,
  type EstadoCobro,
  type PasarelaDePagos,
  type ResultadoPago,
  type SolicitudCobro,
} from '@aeropartners/dominio';

/**
 * La pasarela de cada modo (decisión 0123): un pago de prueba (`test`) se cobra SIEMPRE en la de prueba
 * (la simulada), aunque la real sea Stripe, y se pregunta por él a esa misma; uno real, en la real. Es
 * la regla de Stripe con sus claves `sk_test_`: lo de prueba nunca mueve dinero.
 */
export function crearPasarelaPorModo(pasarelas: { readonly real: PasarelaDePagos; readonly prueba: PasarelaDePagos }): PasarelaDePagos {
  const de = (modo: Modo): PasarelaDePagos => (modo === Modo.PRUEBA ? pasarelas.prueba : pasarelas.real);
  return {
    cobrar: (solicitud: SolicitudCobro): Promise<ResultadoPago> => de(solicitud.modo).cobrar(solicitud),
    consultar: (consulta: ConsultaCobro): Promise<EstadoCobro> => de(consulta.modo).consultar(consulta),
  };
}
