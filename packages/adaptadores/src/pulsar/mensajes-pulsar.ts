import type { MensajeEntrante, MensajeSaliente } from '@aeropartners/aplicacion';
import type { MensajePulsar, MensajeProductorPulsar } from './cliente-pulsar.js';

/**
 * Propiedades que el adaptador añade a cada mensaje y retira al entregarlo. El cliente de Node no
 * expone el `sequenceId` ni (tras pasar por la cola de mensajes muertos) el productor original de un
 * mensaje recibido, así que viajan también como propiedades.
 */
export const PROPIEDADES_INTERNAS = {
  secuencia: 'ap-secuencia',
  productor: 'ap-productor',
  /** En la cola de mensajes muertos: por qué llegó allí (`aMensajesMuertos`). */
  motivo: 'motivo',
  idMensajeOriginal: 'ap-id-mensaje-original',
  entregas: 'ap-entregas',
  suscripcion: 'ap-suscripcion',
} as const;

/** Las que añade el cliente de Pulsar al mover un mensaje a la cola de mensajes muertos. */
export const PROPIEDADES_DLQ_PULSAR = { topicoReal: 'REAL_TOPIC', idMensajeOrigen: 'ORIGIN_MESSAGE_ID' } as const;

const RESERVADAS = new Set<string>([...Object.values(PROPIEDADES_INTERNAS), ...Object.values(PROPIEDADES_DLQ_PULSAR)]);

/** El mensaje de productor de Pulsar para un `MensajeSaliente` con su secuencia ya validada. */
export function aMensajePulsar(mensaje: MensajeSaliente, secuencia: number, productor: string): MensajeProductorPulsar {
  if (typeof mensaje.clave !== 'string' || mensaje.clave.length === 0) {
    throw new Error(`Mensaje sin clave (id del pago) en la secuencia ${secuencia}: Key_Shared la necesita para el orden.`);
  }
  const propiedades: Record<string, string> = {};
  for (const [nombre, valor] of Object.entries(mensaje.propiedades)) {
    if (valor === undefined) continue;
    if (RESERVADAS.has(nombre)) {
      throw new Error(`La propiedad "${nombre}" está reservada por el adaptador de Pulsar (secuencia ${secuencia}).`);
    }
    if (typeof valor !== 'string') {
      throw new Error(`La propiedad "${nombre}" debe ser una cadena (secuencia ${secuencia}).`);
    }
    propiedades[nombre] = valor;
  }
  propiedades[PROPIEDADES_INTERNAS.secuencia] = String(secuencia);
  propiedades[PROPIEDADES_INTERNAS.productor] = productor;
  return {
    data: Buffer.from(mensaje.cuerpo, 'utf8'),
    partitionKey: mensaje.clave,
    sequenceId: secuencia,
    properties: propiedades,
  };
}

/** Las propiedades de negocio de un mensaje recibido: sin las internas del adaptador ni las de la DLQ. */
export function propiedadesDeNegocio(propiedades: Readonly<Record<string, string>>): Record<string, string> {
  const resultado: Record<string, string> = {};
  for (const [nombre, valor] of Object.entries(propiedades)) {
    if (!RESERVADAS.has(nombre)) resultado[nombre] = valor;
  }
  return resultado;
}

function enteroONulo(valor: string | undefined): number | null {
  if (valor === undefined || !/^(0|[1-9][0-9]*)$/.test(valor)) return null;
  const numero = Number(valor);
  return Number.isSafeInteger(numero) ? numero : null;
}

/**
 * Un mensaje de Pulsar como `MensajeEntrante`. `entregas` = `getRedeliveryCount() + 1`. Un mensaje que
 * no publicó este adaptador (sin secuencia en sus propiedades) llega con `secuencia: -1`: validar su
 * sobre es tarea del consumidor, no motivo para romper la recepción.
 */
export function aMensajeEntrante(mensaje: MensajePulsar): MensajeEntrante {
  const propiedades = mensaje.getProperties();
  return {
    idMensaje: mensaje.getMessageId().toString(),
    clave: mensaje.getPartitionKey(),
    cuerpo: mensaje.getData().toString('utf8'),
    propiedades: propiedadesDeNegocio(propiedades),
    entregas: mensaje.getRedeliveryCount() + 1,
    productor: propiedades[PROPIEDADES_INTERNAS.productor] ?? mensaje.getProducerName(),
    secuencia: enteroONulo(propiedades[PROPIEDADES_INTERNAS.secuencia]) ?? -1,
  };
}

/** Un mensaje leído de la cola de mensajes muertos, con su motivo y los datos del original. */
export function aMensajeMuerto(
  mensaje: MensajePulsar,
  entregasPorDefecto: number,
): { readonly mensaje: MensajeEntrante; readonly motivo: string } {
  const propiedades = mensaje.getProperties();
  const base = aMensajeEntrante(mensaje);
  const idOriginal =
    propiedades[PROPIEDADES_INTERNAS.idMensajeOriginal] ?? propiedades[PROPIEDADES_DLQ_PULSAR.idMensajeOrigen] ?? base.idMensaje;
  const motivo =
    propiedades[PROPIEDADES_INTERNAS.motivo] ?? `superó el máximo de entregas (política de mensajes muertos del cliente de Pulsar)`;
  return {
    mensaje: {
      ...base,
      idMensaje: idOriginal,
      entregas: enteroONulo(propiedades[PROPIEDADES_INTERNAS.entregas]) ?? entregasPorDefecto,
    },
    motivo,
  };
}

/** El mensaje que `aMensajesMuertos` publica en la cola de mensajes muertos. */
export function aMensajeMuertoPulsar(
  original: MensajePulsar,
  entrante: MensajeEntrante,
  motivo: string,
  suscripcion: string,
): MensajeProductorPulsar {
  return {
    data: original.getData(),
    partitionKey: original.getPartitionKey(),
    properties: {
      ...original.getProperties(),
      [PROPIEDADES_INTERNAS.motivo]: motivo,
      [PROPIEDADES_INTERNAS.idMensajeOriginal]: entrante.idMensaje,
      [PROPIEDADES_INTERNAS.entregas]: String(entrante.entregas),
      [PROPIEDADES_INTERNAS.suscripcion]: suscripcion,
    },
  };
}
