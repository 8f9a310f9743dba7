import {
  MENSAJE_SIN_BINARIO_PULSAR,
  type ClientePulsar,
  type ConfigClientePulsar,
  type IdMensajePulsar,
  type MensajePulsar,
} from './cliente-pulsar.js';

/**
 * El `Reader` de `pulsar-client` (subconjunto), con los nombres exactos de `pulsar-client/index.d.ts`
 * (un test de tipos comprueba que el cliente real los cumple). Un lector recorre un tópico desde una
 * posición sin suscripción duradera: no confirma ni retiene nada, así que leer la cola de mensajes
 * muertos con él no la altera (a diferencia de suscribirse y cerrar sin confirmar).
 */

/** `ReaderConfig` (subconjunto). */
export interface ConfigLectorPulsar {
  topic: string;
  /** Posición de partida, exclusiva salvo `MessageId.earliest()` (el primero retenido). */
  startMessageId: IdMensajePulsar;
  receiverQueueSize?: number;
  readerName?: string;
  subscriptionRolePrefix?: string;
  readCompacted?: boolean;
}

/** `Reader` (subconjunto). */
export interface LectorPulsar {
  /** Rechaza con `Failed to receive message: TimeOut` si no llega nada en `timeout` ms. */
  readNext(timeout?: number): Promise<MensajePulsar>;
  /** ¿Queda algo por leer? (Síncrono: pregunta al broker.) */
  hasNext(): boolean;
  isConnected(): boolean;
  close(): Promise<null>;
}

/** Un cliente que además crea lectores (`Client` real de `pulsar-client`). */
export interface ClientePulsarConLector extends ClientePulsar {
  createReader(config: ConfigLectorPulsar): Promise<LectorPulsar>;
}

/** Los `MessageId` especiales (`MessageId` estático de `pulsar-client`). */
export interface IdsMensajePulsar {
  earliest(): IdMensajePulsar;
  latest(): IdMensajePulsar;
}

/** Lo que hace falta para leer tópicos: crear clientes con lector y la posición «desde el principio». */
export interface ModuloLectorPulsar {
  readonly crearCliente: (config: ConfigClientePulsar) => ClientePulsarConLector;
  readonly ids: IdsMensajePulsar;
}

/**
 * Carga `pulsar-client` con `importar` (p. ej. `() => import('pulsar-client')`, que hace quien lo
 * necesita: el CLI de operación) y devuelve sus piezas de lectura. Si el paquete o su binario nativo
 * faltan, lanza el mismo error claro que la fábrica del broker, con la causa.
 */
export async function cargarModuloLectorPulsar(importar: () => Promise<unknown>): Promise<ModuloLectorPulsar> {
  let cargado: unknown;
  try {
    cargado = await importar();
  } catch (causa) {
    throw new Error(MENSAJE_SIN_BINARIO_PULSAR, { cause: causa });
  }
  // `pulsar-client` es CommonJS: desde ESM llega como `default`.
  const modulo = (cargado as { default?: unknown } | null)?.default ?? cargado;
  const { Client, MessageId } = (modulo ?? {}) as { Client?: unknown; MessageId?: unknown };
  if (typeof Client !== 'function' || !esIdsMensaje(MessageId)) {
    throw new Error(`${MENSAJE_SIN_BINARIO_PULSAR} (el módulo cargado no exporta Client y MessageId)`);
  }
  const Constructor = Client as new (config: ConfigClientePulsar) => ClientePulsarConLector;
  return {
    crearCliente: (config) => {
      try {
        return new Constructor(config);
      } catch (causa) {
        throw new Error(`No se pudo crear el cliente de Pulsar para ${config.serviceUrl}`, { cause: causa });
      }
    },
    ids: MessageId,
  };
}

function esIdsMensaje(valor: unknown): valor is IdsMensajePulsar {
  const v = valor as { earliest?: unknown; latest?: unknown } | null | undefined;
  return typeof v?.earliest === 'function' && typeof v.latest === 'function';
}

/** Lee un tópico entero, desde el primer mensaje retenido hasta el último que hay ahora. */
export async function leerTopicoEntero(
  cliente: ClientePulsarConLector,
  ids: IdsMensajePulsar,
  topico: string,
  esperaMs: number,
): Promise<MensajePulsar[]> {
  let lector: LectorPulsar;
  try {
    lector = await cliente.createReader({ topic: topico, startMessageId: ids.earliest(), readerName: 'aeropartners-operacion' });
  } catch (causa) {
    throw new Error(`No se pudo crear un lector de Pulsar para ${topico}`, { cause: causa });
  }
  const leidos: MensajePulsar[] = [];
  const fallo = (causa: unknown) =>
    new Error(`Fallo al leer ${topico} con un lector de Pulsar (${leidos.length} mensajes leídos)`, { cause: causa });
  try {
    for (;;) {
      let quedan: boolean;
      try {
        quedan = lector.hasNext();
      } catch (causa) {
        throw fallo(causa);
      }
      if (!quedan) break;
      leidos.push(await lector.readNext(esperaMs).catch((causa: unknown) => Promise.reject(fallo(causa))));
    }
  } finally {
    await lector.close().catch(() => null);
  }
  return leidos;
}
