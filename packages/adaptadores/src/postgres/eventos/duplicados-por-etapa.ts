import type { FilaOutbox, HechoMensaje, MensajeEntrante, ResultadoPublicacion } from '@aeropartners/aplicacion';
import type { Modo, Pago, SolicitudCobro, Trazabilidad } from '@aeropartners/dominio';
import { TIPO_EVENTO_HECHO, leerSobreHecho } from '../conversiones/index.js';
import type { DuplicadoAbsorbido } from './registrador-duplicados.js';

/**
 * De lo que ve cada etapa al absorber un duplicado, la entrada del registro de eventos del socio
 * (decisión 0153). Cada duplicado se anota UNA vez, en la etapa que lo absorbió, con las mismas etapas que
 * las métricas: así el feed y `aeropartners_pagos_duplicados_absorbidos_total{etapa}` cuentan lo mismo.
 *
 * Un pago se identifica por su id (único): si el mensaje no trae el socio, el registrador lo lee de
 * `pagos`. Una conversión no (su id es del socio): sus duplicados salen siempre con el ámbito de su sobre.
 */

/** El `trace-id` de un `traceparent` W3C, si lo hay. */
function idTrazaDe(traceparent: string | undefined): string | null {
  const id = traceparent?.split('-')[1];
  return id === undefined || id === '' ? null : id;
}

/**
 * Broker → consumidor: un mensaje que el inbox ya tenía anotado (reentrega tras una caída, un nack, un
 * lease vencido, o una publicación repetida que el broker dejó pasar). Pagos: cualquier tipo de evento,
 * clave = id del evento. Hechos de conversión ya aplicados: clave = id del hecho (el que mandó el socio).
 */
export function duplicadoEnElInbox(mensaje: MensajeEntrante, hecho: HechoMensaje): DuplicadoAbsorbido | null {
  if (hecho.tipo === 'manejado' && hecho.desenlace.tipo === 'duplicado') {
    const { evento, traza } = hecho;
    const base = {
      etapa: 'inbox',
      clave: evento.idEvento,
      sujeto: evento.idPago,
      idSolicitud: traza.idSolicitud ?? null,
      idTraza: idTrazaDe(traza.traceparent),
    } as const;
    return evento.tipo === 'PagoPendiente' ? { ...base, idSocio: evento.datos.idSocio, modo: evento.datos.modo } : base;
  }
  if (hecho.tipo === 'conversion' && hecho.desenlace === 'duplicado') {
    const sobre = leerSobreHecho(mensaje);
    if (!sobre.ok) return null;
    return {
      etapa: 'inbox',
      idSocio: sobre.valor.ambito.idSocio,
      modo: sobre.valor.ambito.modo,
      clave: sobre.valor.idEvento,
      sujeto: sobre.valor.idConversion,
      idSolicitud: mensaje.propiedades['id_solicitud'] ?? null,
      idTraza: idTrazaDe(mensaje.propiedades['traceparent']),
    };
  }
  return null;
}

/**
 * Outbox → broker: filas que una vida anterior del relay ya publicó sin marcarlas (o que volvió a reclamar
 * tras perder la época) y que el broker descartó por productor y secuencia. Las descartadas que NO estaban
 * numeradas no son duplicados sino la alarma de secuencias (decisión 0020): no se anotan. Las republicadas
 * que el broker aceptó no eran duplicados (la publicación anterior no llegó) o los absorberá el inbox.
 */
export function duplicadosEnElBroker(
  filas: readonly FilaOutbox[],
  resultados: readonly ResultadoPublicacion[],
): readonly DuplicadoAbsorbido[] {
  const duplicados: DuplicadoAbsorbido[] = [];
  filas.forEach((fila, i) => {
    if (resultados[i] !== 'duplicado' || !fila.yaNumerada) return;
    const traza = { idSolicitud: fila.metadatos.id_solicitud ?? null, idTraza: idTrazaDe(fila.metadatos.traceparent) };
    if (fila.tipo === TIPO_EVENTO_HECHO) {
      const hecho = hechoDeFila(fila.payload);
      if (hecho) duplicados.push({ etapa: 'broker', ...hecho, ...traza });
      return;
    }
    duplicados.push({ etapa: 'broker', clave: fila.idEvento, sujeto: fila.idAgregado, ...traza });
  });
  return duplicados;
}

/** Consumidor → pasarela: la clave de idempotencia ya tenía desenlace y la pasarela devolvió el guardado. */
export function duplicadoEnLaPasarela(solicitud: SolicitudCobro): DuplicadoAbsorbido {
  return {
    etapa: 'pasarela',
    clave: solicitud.claveIdempotencia,
    sujeto: solicitud.idPago,
    idSolicitud: solicitud.traza.idSolicitud ?? null,
    idTraza: idTrazaDe(solicitud.traza.traceparent),
  };
}

/**
 * Consumidor → pasarela: una reentrega encontró el pago en PROCESANDO y, al preguntar antes de cobrar, la
 * pasarela ya tenía su desenlace (lo decidió una entrega anterior que cayó sin confirmarlo): no se cobra otra vez.
 */
export function duplicadoEnLaConsultaPrevia(pago: Pago, traza: Trazabilidad): DuplicadoAbsorbido {
  return {
    etapa: 'pasarela',
    idSocio: pago.idSocio,
    modo: pago.modo,
    clave: pago.id,
    sujeto: pago.id,
    idSolicitud: traza.idSolicitud ?? null,
    idTraza: idTrazaDe(traza.traceparent),
  };
}

function hechoDeFila(payload: unknown): { idSocio: string; modo: Modo; clave: string; sujeto: string } | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as Record<string, unknown>;
  const { id_socio: idSocio, modo, id_evento: clave, id_conversion: sujeto } = p;
  if (typeof idSocio !== 'string' || (modo !== 'live' && modo !== 'test') || typeof clave !== 'string' || typeof sujeto !== 'string') {
    return null;
  }
  return { idSocio, modo, clave, sujeto };
}
