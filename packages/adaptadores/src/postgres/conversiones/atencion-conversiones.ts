import { crearAplicadorDeHechos, type AlmacenComisiones, type HechoMensaje, type MensajeEntrante } from '@aeropartners/aplicacion';
import { Resultado, type Ambito } from '@aeropartners/dominio';
import * as v from 'valibot';
import { idAgregadoConversion } from './filas.js';
import { TIPO_EVENTO_HECHO } from './registro-hechos-por-lotes.js';

/**
 * El sobre de un hecho de conversión en el broker: el mismo formato que los eventos de pago (la fila del
 * outbox en JSON, con la clave = el UUID derivado de la conversión), con `payload`
 * `{ id_socio, modo, id_evento, id_conversion, tipo_hecho, ocurrido_en }`. El hecho en sí se lee de la
 * base (es la fuente de verdad); el mensaje solo dice cuál aplicar.
 */
const Texto = v.pipe(v.string(), v.minLength(1), v.maxLength(1000));
const SobreHecho = v.object({
  id_evento: v.pipe(v.string(), v.uuid('debe ser un UUID')),
  id_agregado: v.pipe(v.string(), v.uuid('debe ser un UUID')),
  tipo: v.literal(TIPO_EVENTO_HECHO),
  payload: v.object({ id_socio: Texto, modo: v.picklist(['live', 'test']), id_evento: Texto, id_conversion: Texto }),
});

export interface HechoEnMensaje {
  readonly ambito: Ambito;
  readonly idEvento: string;
  readonly idConversion: string;
}

/** Lee y valida el sobre de un hecho de conversión; el motivo (legible) si no vale. */
export function leerSobreHecho(mensaje: MensajeEntrante): Resultado<HechoEnMensaje, string> {
  let cuerpo: unknown;
  try {
    cuerpo = JSON.parse(mensaje.cuerpo);
  } catch {
    return Resultado.fallo('el cuerpo no es JSON válido');
  }
  const leido = v.safeParse(SobreHecho, cuerpo);
  if (!leido.success) {
    return Resultado.fallo(`sobre inválido: ${leido.issues.map((i) => `${v.getDotPath(i) ?? ''}: ${i.message}`).join('; ')}`);
  }
  const { payload, id_agregado } = leido.output;
  const esperado = idAgregadoConversion(payload.id_socio, payload.modo, payload.id_conversion);
  if (id_agregado !== esperado || mensaje.clave.toLowerCase() !== esperado) {
    return Resultado.fallo('la clave del mensaje no es la de su conversión');
  }
  return Resultado.ok({
    ambito: { idSocio: payload.id_socio, modo: payload.modo },
    idEvento: payload.id_evento,
    idConversion: payload.id_conversion,
  });
}

/**
 * Lo que el consumidor hace con un mensaje de hecho de conversión (`atenderOtros` de `crearConsumidor`):
 * lo aplica exactamente una vez (la marca `aplicado_en` se escribe con la conversión bloqueada, en la
 * misma transacción que sus efectos). Los mensajes de otro tipo no son suyos (`null`).
 */
export function crearAtencionConversiones(deps: { readonly almacen: AlmacenComisiones }) {
  const aplicar = crearAplicadorDeHechos(deps);
  return (mensaje: MensajeEntrante): Promise<HechoMensaje> | null => {
    if (mensaje.propiedades.tipo !== TIPO_EVENTO_HECHO) return null;
    return (async (): Promise<HechoMensaje> => {
      const leido = leerSobreHecho(mensaje);
      if (!leido.ok) return { tipo: 'sobreInvalido', motivo: leido.error };
      const { ambito, idEvento, idConversion } = leido.valor;
      const d = await aplicar(ambito, idEvento);
      const base = { tipo: 'conversion', idEvento, idConversion } as const;
      switch (d.tipo) {
        case 'aplicar':
          return { ...base, desenlace: 'aplicado' };
        case 'duplicado':
        case 'bloqueada':
          return { ...base, desenlace: d.tipo };
        case 'rechazado':
          return { ...base, desenlace: 'rechazado', motivo: d.motivo };
        case 'hechoInexistente':
          return { ...base, desenlace: 'hechoInexistente', motivo: `El hecho ${idEvento} del socio ${ambito.idSocio} no existe.` };
      }
    })();
  };
}
