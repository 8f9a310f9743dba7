import { aplicarHechoConversion, estadoConversion, type Ambito } from '@aeropartners/dominio';
import type { AlmacenComisiones, DecisionHecho, DesenlaceAplicacion, LecturaConversion } from './puertos-conversiones.js';

/**
 * Qué escribir al aplicar un hecho, como función pura de lo leído con la conversión bloqueada: el
 * dominio (`aplicarHechoConversion`) calcula estado, comisión, ajuste y asiento a partir del conjunto de
 * hechos ya aplicados más el que llega.
 */
export function decidirHecho(lectura: LecturaConversion): DecisionHecho {
  if (lectura.yaAplicado) return { tipo: 'duplicado' };
  const { hecho, comision } = lectura;
  const cambio = aplicarHechoConversion({
    hechos: lectura.aplicados,
    hecho,
    reglaInstantanea: comision?.regla ?? null,
    reglas: lectura.reglas,
    liquidacion: comision?.liquidacion ?? null,
    ajustes: lectura.ajustes,
  });
  if (!cambio.ok) {
    const error = cambio.error;
    switch (error.tipo) {
      case 'ConversionBloqueada':
        return {
          tipo: 'bloqueada',
          conversion: estadoConversion({ idSocio: hecho.idSocio, idConversion: hecho.idConversion }, [...lectura.aplicados, hecho]),
        };
      case 'SinReglaVigente':
        return {
          tipo: 'rechazado',
          motivo: `El socio ${error.idSocio} no tiene regla de comisión vigente en ${error.instante.toISOString()}: configúrela con \`pnpm socios comision\` y reenvíe el mensaje.`,
        };
      default:
        return { tipo: 'rechazado', motivo: `No se puede aplicar el hecho ${hecho.idEvento}: ${error.tipo}` };
    }
  }
  const { conversion, comision: nueva, ajuste, asiento } = cambio.valor;
  return { tipo: 'aplicar', conversion, comision: nueva, ajuste, asiento };
}

export type AplicarHecho = (ambito: Ambito, idEvento: string) => Promise<DesenlaceAplicacion>;

/** El manejador del consumidor para un evento `HechoConversionRecibido`: aplica el hecho exactamente una vez. */
export function crearAplicadorDeHechos(deps: { readonly almacen: AlmacenComisiones }): AplicarHecho {
  return (ambito, idEvento) => deps.almacen.aplicarHecho(ambito, idEvento, decidirHecho);
}
