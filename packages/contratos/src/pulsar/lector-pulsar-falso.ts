import type { ClientConfig, ReaderConfig } from 'pulsar-client';
import type { IdMensajeFalso, PulsarFalso } from './pulsar-falso.js';

/**
 * El `Reader` de Pulsar sobre el broker en memoria de {@link PulsarFalso}, con la semántica del cliente
 * real (`pulsar-client`, `src/Reader.cc`):
 *
 * - `startMessageId` obligatorio: `MessageId.earliest()` empieza en el primer mensaje del tópico,
 *   `latest()` en lo que llegue después, y el id de un mensaje, justo DESPUÉS de él (exclusivo: la API de
 *   Node no tiene `startMessageIdInclusive`). Sin tópico o sin id, el mismo error que el real.
 * - Crear un lector sobre un tópico que no existe lo crea (autocreación del broker), vacío.
 * - `readNext(timeout)`: el siguiente mensaje, o `Failed to receive message: TimeOut` si no llega en
 *   `timeout` ms; sin `timeout` (o ≤ 0), espera sin límite. `hasNext()`: si queda algo ya publicado.
 * - No confirma ni retiene: leer no cambia nada de las suscripciones del tópico.
 * - Cerrar el lector, o su cliente, hace fallar las lecturas con `AlreadyClosed`.
 *
 * Se engancha al cliente falso con {@link fabricaConLector}, que devuelve la fábrica de un cliente con
 * `createReader` (el falso de `pulsar-falso.ts` no lo trae).
 */

type TopicoFalso = ReturnType<PulsarFalso['topico']>;
type EntradaFalsa = TopicoFalso['entradas'][number];

class IdEspecialFalso {
  constructor(readonly cual: 'earliest' | 'latest') {}
  toString(): string {
    return this.cual === 'earliest' ? '(-1,-1,-1,-1)' : '(9223372036854775807,9223372036854775807,-1,-1)';
  }
}

/** `MessageId.earliest()` / `latest()` del falso (como `MessageId` de `pulsar-client`). */
export const IDS_MENSAJE_FALSOS: { earliest(): IdEspecialFalso; latest(): IdEspecialFalso } = {
  earliest: () => new IdEspecialFalso('earliest'),
  latest: () => new IdEspecialFalso('latest'),
};

class MensajeLeidoFalso {
  constructor(
    private readonly entrada: EntradaFalsa,
    private readonly topico: string,
  ) {}
  getTopicName(): string {
    return this.topico;
  }
  getProperties(): { [clave: string]: string } {
    return { ...this.entrada.propiedades };
  }
  getData(): Buffer {
    return Buffer.from(this.entrada.datos);
  }
  getMessageId(): IdMensajeFalso {
    return this.entrada.id;
  }
  getPublishTimestamp(): number {
    return this.entrada.publicadoEn;
  }
  getRedeliveryCount(): number {
    return 0;
  }
  getPartitionKey(): string {
    return this.entrada.clave;
  }
  getProducerName(): string {
    return this.entrada.productor;
  }
}

const SONDEO_MS = 5;

class LectorFalso {
  private cerrado = false;

  constructor(
    private readonly topico: TopicoFalso,
    private posicion: number,
    private readonly alCerrar: (lector: LectorFalso) => void,
  ) {}

  hasNext(): boolean {
    if (this.cerrado) throw new Error('Failed to check if next message is available: AlreadyClosed');
    return this.posicion < this.topico.entradas.length;
  }

  async readNext(timeout?: number): Promise<MensajeLeidoFalso> {
    const hasta = timeout !== undefined && Math.trunc(timeout) > 0 ? Date.now() + Math.trunc(timeout) : Number.POSITIVE_INFINITY;
    for (;;) {
      if (this.cerrado) throw new Error('Failed to receive message: AlreadyClosed');
      const entrada = this.topico.entradas[this.posicion];
      if (entrada !== undefined) {
        this.posicion += 1;
        return new MensajeLeidoFalso(entrada, this.topico.nombre);
      }
      if (Date.now() >= hasta) throw new Error('Failed to receive message: TimeOut');
      await new Promise((r) => setTimeout(r, SONDEO_MS));
    }
  }

  isConnected(): boolean {
    return !this.cerrado;
  }

  close(): Promise<null> {
    this.cerrarInterno();
    return Promise.resolve(null);
  }

  cerrarInterno(): void {
    if (this.cerrado) return;
    this.cerrado = true;
    this.alCerrar(this);
  }
}

function posicionInicial(topico: TopicoFalso, id: unknown): number | undefined {
  if (id instanceof IdEspecialFalso) return id.cual === 'earliest' ? 0 : topico.entradas.length;
  const propio = id as { ledger?: unknown; entrada?: unknown } | null;
  if (typeof propio?.ledger === 'number' && typeof propio.entrada === 'number' && propio.ledger === topico.ledger) {
    return Math.min(propio.entrada + 1, topico.entradas.length);
  }
  return undefined;
}

/**
 * La fábrica de clientes de `falso` con `createReader`: lo mismo que `falso.crearCliente` (productores y
 * consumidores) más lectores sobre sus tópicos.
 */
/** `ReaderConfig` con los ids del propio falso (los que dan `send`, `getMessageId` e {@link IDS_MENSAJE_FALSOS}). */
export type ConfigLectorFalso = Omit<ReaderConfig, 'startMessageId'> & { readonly startMessageId: { toString(): string } };

/** El cliente falso con lectores: productores y consumidores del falso, más `createReader`. */
export type ClienteFalsoConLector = Pick<ReturnType<PulsarFalso['crearCliente']>, 'createProducer' | 'subscribe' | 'close'> & {
  createReader(config: ConfigLectorFalso): Promise<LectorFalso>;
};

export function fabricaConLector(falso: PulsarFalso): (config: ClientConfig) => ClienteFalsoConLector {
  return (config) => {
    const cliente = falso.crearCliente(config);
    const lectores = new Set<LectorFalso>();
    let cerrado = false;
    return {
      createProducer: (c) => cliente.createProducer(c),
      subscribe: (c) => cliente.subscribe(c),
      async createReader(c: ConfigLectorFalso): Promise<LectorFalso> {
        await Promise.resolve();
        if (cerrado) throw new Error('Failed to create reader: AlreadyClosed');
        if (typeof c?.topic !== 'string' || c.topic === '') {
          throw new Error('Topic is required and must be specified as a string when creating reader');
        }
        if (typeof c.startMessageId !== 'object' || c.startMessageId === null) {
          throw new Error('StartMessageId is required and must be specified as a MessageId object when creating reader');
        }
        const topico = falso.topico(c.topic);
        const desde = posicionInicial(topico, c.startMessageId);
        if (desde === undefined) throw new Error('Failed to create reader: InvalidMessage');
        const lector = new LectorFalso(topico, desde, (l) => lectores.delete(l));
        lectores.add(lector);
        return lector;
      },
      close() {
        cerrado = true;
        for (const lector of [...lectores]) lector.cerrarInterno();
        return cliente.close();
      },
    };
  };
}
