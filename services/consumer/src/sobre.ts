import { filaAEvento, type EventoDeOutbox, type FilaEventoOutboxLeida } from '@aeropartners/adaptadores';
import type { MensajeEntrante } from '@aeropartners/aplicacion';
import { Resultado } from '@aeropartners/dominio';

/**
 * Lectura del sobre de un mensaje del broker. El relay publica (`filaAMensaje` en aplicacion):
 * - `clave` = id del pago (id del agregado);
 * - `cuerpo` = el sobre completo en JSON, con la forma de una fila del outbox:
 *   `{ id_evento, id_agregado, version_agregado, tipo, payload, metadatos }`;
 * - propiedades que repiten `id_evento`, `tipo`, `version`, `id_correlacion` y, si llegó, `traceparent`.
 *
 * El cuerpo lo valida `filaAEvento` (el mismo validador que lee el outbox). Después, clave y propiedades
 * deben decir lo mismo que el cuerpo: el broker enruta (clave) y los operadores trazan (propiedades) con
 * ellas, así que un mensaje en el que discrepan no es de fiar. Lo que no pasa es un valor de error con
 * un motivo legible: el consumidor lo manda a mensajes muertos.
 */

const PROPIEDADES_OBLIGATORIAS = ['id_evento', 'tipo', 'version', 'id_correlacion'] as const;
/** Tope del motivo que se guarda con el mensaje muerto. */
const LARGO_MAXIMO_MOTIVO = 1000;

export function leerSobre(mensaje: MensajeEntrante): Resultado<EventoDeOutbox, string> {
  const { propiedades } = mensaje;
  for (const nombre of PROPIEDADES_OBLIGATORIAS) {
    const valor = propiedades[nombre];
    if (typeof valor !== 'string' || valor === '') return invalido(`falta la propiedad ${nombre} del mensaje`);
  }
  let cuerpo: unknown;
  try {
    cuerpo = JSON.parse(mensaje.cuerpo);
  } catch (error) {
    return invalido(`el cuerpo no es JSON válido: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof cuerpo !== 'object' || cuerpo === null || Array.isArray(cuerpo)) return invalido('el cuerpo no es un objeto JSON');
  const leido = filaAEvento(cuerpo as FilaEventoOutboxLeida);
  if (!leido.ok) return invalido(`sobre inválido: ${leido.error.motivo}`);
  const { evento, traza } = leido.valor;

  const discrepancias: string[] = [];
  const comparar = (que: string, enMensaje: string | undefined, enCuerpo: string | undefined) => {
    if (enMensaje !== enCuerpo) discrepancias.push(`${que} «${recortar(enMensaje ?? '(ninguna)', 80)}» ≠ «${recortar(enCuerpo ?? '(ninguno)', 80)}» del cuerpo`);
  };
  comparar('la clave', mensaje.clave.toLowerCase(), evento.idPago.toLowerCase());
  comparar('la propiedad id_evento', propiedades['id_evento']?.toLowerCase(), evento.idEvento.toLowerCase());
  comparar('la propiedad tipo', propiedades['tipo'], evento.tipo);
  comparar('la propiedad version', propiedades['version'], String(evento.version));
  comparar('la propiedad id_correlacion', propiedades['id_correlacion'], traza.idCorrelacion);
  comparar('la propiedad traceparent', propiedades['traceparent'], traza.traceparent);
  if (discrepancias.length > 0) return invalido(`el mensaje no coincide con su cuerpo: ${discrepancias.join('; ')}`);
  return leido;
}

/** Campos de trazabilidad de un mensaje para los registros, aunque su sobre no sea válido. */
export function camposDeMensaje(mensaje: MensajeEntrante): Record<string, string | number | null> {
  const p = mensaje.propiedades;
  return {
    id_correlacion: p['id_correlacion'] ?? null,
    id_pago: mensaje.clave,
    id_evento: p['id_evento'] ?? null,
    tipo: p['tipo'] ?? null,
    id_mensaje: mensaje.idMensaje,
    entregas: mensaje.entregas,
  };
}

function invalido(motivo: string): Resultado<never, string> {
  return Resultado.fallo(recortar(motivo, LARGO_MAXIMO_MOTIVO));
}

function recortar(texto: string, largo: number): string {
  return texto.length <= largo ? texto : `${texto.slice(0, largo - 1)}…`;
}
