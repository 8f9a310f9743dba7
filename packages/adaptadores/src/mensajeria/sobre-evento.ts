import type { FilaOutbox, MensajeEntrante, MensajeSaliente } from '@aeropartners/aplicacion';
import { Resultado } from '@aeropartners/dominio';
import { filaAEvento, type EventoDeOutbox, type FilaEventoOutboxLeida } from '../postgres/serializacion-eventos.js';

/**
 * El sobre de un evento en el broker, escrito y leído en un solo sitio:
 *
 * - `clave` = id del agregado (el pago): partición y orden;
 * - `cuerpo` = el sobre completo en JSON, con la forma de una fila del outbox:
 *   `{ id_evento, id_agregado, version_agregado, tipo, payload, metadatos }` (`payload` y `metadatos` como
 *   los escribe `eventoAFila`);
 * - propiedades que repiten `id_evento`, `tipo`, `version`, `id_correlacion` y, si llegaron, `traceparent`
 *   e `id_solicitud` (el `Request-Id` de la petición que causó el evento), para enrutar y trazar sin abrir
 *   el cuerpo.
 *
 * Al leerlo, el cuerpo lo valida `filaAEvento` (el mismo validador que lee el outbox) y la clave y las
 * propiedades deben decir lo mismo que el cuerpo: el broker enruta (clave) y los operadores trazan
 * (propiedades) con ellas, así que un mensaje en el que discrepan no es de fiar.
 */

const PROPIEDADES_OBLIGATORIAS = ['id_evento', 'tipo', 'version', 'id_correlacion'] as const;
/** Tope del motivo que se guarda con un mensaje muerto. */
const LARGO_MAXIMO_MOTIVO = 1000;

/** El mensaje que el relay publica para una fila del outbox. */
export function sobreDeFila(fila: FilaOutbox): MensajeSaliente {
  const propiedades: Record<string, string> = {
    id_evento: fila.idEvento,
    tipo: fila.tipo,
    version: String(fila.versionAgregado),
    id_correlacion: fila.metadatos.id_correlacion,
  };
  if (fila.metadatos.traceparent) propiedades['traceparent'] = fila.metadatos.traceparent;
  if (fila.metadatos.id_solicitud) propiedades['id_solicitud'] = fila.metadatos.id_solicitud;
  return {
    clave: fila.idAgregado,
    secuencia: fila.secuencia,
    cuerpo: JSON.stringify({
      id_evento: fila.idEvento,
      id_agregado: fila.idAgregado,
      version_agregado: fila.versionAgregado,
      tipo: fila.tipo,
      payload: fila.payload,
      metadatos: fila.metadatos,
    }),
    propiedades: propiedades as MensajeSaliente['propiedades'],
  };
}

/** El evento y su trazabilidad de un mensaje recibido, o el motivo (legible) por el que no vale. */
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
    if (enMensaje !== enCuerpo)
      discrepancias.push(`${que} «${recortar(enMensaje ?? '(ninguna)', 80)}» ≠ «${recortar(enCuerpo ?? '(ninguno)', 80)}» del cuerpo`);
  };
  comparar('la clave', mensaje.clave.toLowerCase(), evento.idPago.toLowerCase());
  comparar('la propiedad id_evento', propiedades['id_evento']?.toLowerCase(), evento.idEvento.toLowerCase());
  comparar('la propiedad tipo', propiedades['tipo'], evento.tipo);
  comparar('la propiedad version', propiedades['version'], String(evento.version));
  comparar('la propiedad id_correlacion', propiedades['id_correlacion'], traza.idCorrelacion);
  comparar('la propiedad traceparent', propiedades['traceparent'], traza.traceparent);
  comparar('la propiedad id_solicitud', propiedades['id_solicitud'], traza.idSolicitud);
  if (discrepancias.length > 0) return invalido(`el mensaje no coincide con su cuerpo: ${discrepancias.join('; ')}`);
  return leido;
}

/** Campos de trazabilidad de un mensaje para los registros, aunque su sobre no sea válido. */
export function camposDeMensaje(mensaje: MensajeEntrante): Record<string, string | number | null> {
  const p = mensaje.propiedades;
  return {
    id_correlacion: p['id_correlacion'] ?? null,
    id_solicitud: p['id_solicitud'] ?? null,
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
