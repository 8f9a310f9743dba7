/**
 * La parte del cliente oficial de Apache Pulsar para Node (`pulsar-client`) que usa el adaptador,
 * declarada aquí como interfaz mínima (al estilo de kysely con su `PostgresPool`): los nombres de
 * opciones y métodos son exactamente los de `pulsar-client/index.d.ts`, así que un `Client` real
 * la cumple (un test de tipos lo comprueba) y el falso en memoria de `./testing` también.
 *
 * `pulsar-client` es un módulo nativo: su binario (`pulsar.node`) se descarga o compila al instalar.
 * Nada de este paquete lo importa en el nivel superior de un módulo: la fábrica por defecto lo carga
 * con un `import()` dinámico la primera vez que alguien crea un broker Pulsar, así que instalar,
 * compilar tipos y arrancar servicios que no usan Pulsar nunca depende de ese binario.
 */

/** Un `MessageId` de Pulsar: opaco; su `toString()` es `(ledger,entrada,partición,índice de lote)`. */
export interface IdMensajePulsar {
  toString(): string;
}

/** `ClientConfig` (subconjunto). */
export interface ConfigClientePulsar {
  serviceUrl: string;
  operationTimeoutSeconds?: number;
  connectionTimeoutMs?: number;
  ioThreads?: number;
  messageListenerThreads?: number;
  listenerName?: string;
  tlsTrustCertsFilePath?: string;
  tlsValidateHostname?: boolean;
  tlsAllowInsecureConnection?: boolean;
  statsIntervalInSeconds?: number;
  /** Manejador de los registros del cliente C++ (nivel 0 = DEBUG … 3 = ERROR). */
  log?: (level: number, file: string, line: number, message: string) => void;
}

export type EsquemaHashPulsar = 'Murmur3_32Hash' | 'BoostHash' | 'JavaStringHash';
export type TipoLotePulsar = 'DefaultBatching' | 'KeyBasedBatching';
export type TipoSuscripcionPulsar = 'Exclusive' | 'Shared' | 'KeyShared' | 'Failover';
export type PosicionInicialPulsar = 'Latest' | 'Earliest';

/** `ProducerConfig` (subconjunto). */
export interface ConfigProductorPulsar {
  topic: string;
  producerName?: string;
  /** Ojo: `0` (o negativo) lo ignora el cliente y queda el valor por defecto, 30 s. */
  sendTimeoutMs?: number;
  initialSequenceId?: number;
  maxPendingMessages?: number;
  blockIfQueueFull?: boolean;
  messageRoutingMode?: 'UseSinglePartition' | 'RoundRobinDistribution' | 'CustomPartition';
  hashingScheme?: EsquemaHashPulsar;
  compressionType?: 'None' | 'Zlib' | 'LZ4' | 'ZSTD' | 'SNAPPY';
  /** Por defecto `true` en el cliente: con Key_Shared hay que apagarlo o usar `KeyBasedBatching`. */
  batchingEnabled?: boolean;
  batchingMaxPublishDelayMs?: number;
  batchingMaxMessages?: number;
  batchingType?: TipoLotePulsar;
  properties?: { [clave: string]: string };
}

/** `ProducerMessage` (subconjunto). */
export interface MensajeProductorPulsar {
  data: Buffer;
  properties?: { [clave: string]: string };
  eventTimestamp?: number;
  /** Un número de JS: el cliente lo convierte a int64 con `ToNumber()` (una cadena se coacciona). */
  sequenceId?: number;
  partitionKey?: string;
  orderingKey?: string;
  deliverAfter?: number;
  deliverAt?: number;
}

/** `Producer` (subconjunto). */
export interface ProductorPulsar {
  send(message: MensajeProductorPulsar): Promise<IdMensajePulsar>;
  flush(): Promise<null>;
  close(): Promise<null>;
  getProducerName(): string;
  getTopic(): string;
}

/** `DeadLetterPolicy`. `maxRedeliverCount` ≤ 0 u omitido: sin límite (el cliente C++ usa INT_MAX). */
export interface PoliticaMensajesMuertosPulsar {
  deadLetterTopic: string;
  maxRedeliverCount?: number;
  initialSubscriptionName?: string;
}

/** `ConsumerConfig` (subconjunto). */
export interface ConfigConsumidorPulsar {
  topic: string;
  subscription: string;
  subscriptionType?: TipoSuscripcionPulsar;
  /** Por defecto `Latest`: una suscripción nueva no ve lo publicado antes de crearse. */
  subscriptionInitialPosition?: PosicionInicialPulsar;
  /** 0 (por defecto) lo desactiva; si no, ≥ 10 000 ms. */
  ackTimeoutMs?: number;
  /** Retraso de la reentrega tras `negativeAcknowledge` (por defecto 60 000 ms). */
  nAckRedeliverTimeoutMs?: number;
  receiverQueueSize?: number;
  consumerName?: string;
  properties?: { [clave: string]: string };
  deadLetterPolicy?: PoliticaMensajesMuertosPulsar;
  keySharedPolicy?: { keyShareMode?: 'AutoSplit' | 'Sticky'; allowOutOfOrderDelivery?: boolean };
}

/** `Message` (subconjunto). */
export interface MensajePulsar {
  getTopicName(): string;
  getProperties(): { [clave: string]: string };
  getData(): Buffer;
  getMessageId(): IdMensajePulsar;
  getPublishTimestamp(): number;
  getRedeliveryCount(): number;
  getPartitionKey(): string;
  getProducerName(): string;
}

/** `Consumer` (subconjunto). */
export interface ConsumidorPulsar {
  /** Sin argumento: espera sin límite (y rechaza con `AlreadyClosed` al cerrarse el consumidor). */
  receive(timeout?: number): Promise<MensajePulsar>;
  acknowledge(message: MensajePulsar): Promise<null>;
  negativeAcknowledge(message: MensajePulsar): void;
  close(): Promise<null>;
  isConnected(): boolean;
}

/** `Client` (subconjunto). */
export interface ClientePulsar {
  createProducer(config: ConfigProductorPulsar): Promise<ProductorPulsar>;
  subscribe(config: ConfigConsumidorPulsar): Promise<ConsumidorPulsar>;
  close(): Promise<null>;
}

/** Crea el cliente. La fábrica por defecto carga `pulsar-client` de forma diferida. */
export type FabricaClientePulsar = (config: ConfigClientePulsar) => ClientePulsar | Promise<ClientePulsar>;

interface ModuloPulsarMinimo {
  readonly Client: new (config: ConfigClientePulsar) => ClientePulsar;
}

export const MENSAJE_SIN_BINARIO_PULSAR =
  'No se pudo cargar el cliente nativo de Apache Pulsar (paquete "pulsar-client"): falta su binario ' +
  'nativo (pulsar.node) o el paquete. Este workspace no lo compila al instalar (allowBuilds: ' +
  'pulsar-client: false en pnpm-workspace.yaml) y su descarga necesita internet. Para usar Pulsar, ' +
  'instálelo con la compilación nativa habilitada en una máquina con acceso a la descarga; si no, ' +
  'quite PULSAR_URL y los servicios usan el broker embebido sobre PostgreSQL.';

function esModuloPulsar(valor: unknown): valor is ModuloPulsarMinimo {
  return typeof valor === 'object' && valor !== null && typeof (valor as { Client?: unknown }).Client === 'function';
}

/**
 * Fábrica que carga `pulsar-client` con `importar` (por defecto, `import('pulsar-client')`) la primera
 * vez que se usa. Si el paquete o su binario nativo faltan, lanza un `Error` con un mensaje claro en
 * castellano y el error original como `cause`.
 */
export function crearFabricaClientePulsar(importar: () => Promise<unknown> = () => import('pulsar-client')): FabricaClientePulsar {
  let modulo: Promise<ModuloPulsarMinimo> | undefined;
  const cargar = async (): Promise<ModuloPulsarMinimo> => {
    let cargado: unknown;
    try {
      cargado = await importar();
    } catch (causa) {
      throw new Error(MENSAJE_SIN_BINARIO_PULSAR, { cause: causa });
    }
    // `pulsar-client` es CommonJS (`module.exports = Pulsar`): desde ESM llega como `default`.
    const porDefecto = (cargado as { default?: unknown } | null)?.default;
    if (esModuloPulsar(porDefecto)) return porDefecto;
    if (esModuloPulsar(cargado)) return cargado;
    throw new Error(`${MENSAJE_SIN_BINARIO_PULSAR} (el módulo cargado no exporta Client)`);
  };
  return async (config) => {
    modulo ??= cargar().catch((error: unknown) => {
      modulo = undefined; // un fallo de carga no se queda en caché: el siguiente intento reintenta
      throw error;
    });
    const { Client } = await modulo;
    try {
      return new Client(config);
    } catch (causa) {
      throw new Error(`No se pudo crear el cliente de Pulsar para ${config.serviceUrl}`, { cause: causa });
    }
  };
}

/** La fábrica por defecto: el cliente nativo real, cargado al primer uso. */
export const crearClientePulsarNativo: FabricaClientePulsar = crearFabricaClientePulsar();

/**
 * Referencias fuertes a los clientes vivos. Un `Client` de `pulsar-client` que el recolector de basura
 * reclama cierra su conexión y sus productores y consumidores empiezan a fallar con `AlreadyClosed`;
 * mientras el broker no se cierre, su cliente vive aquí, sin depender de quién guarde qué.
 */
const clientesVivos = new Set<ClientePulsar>();

export function retenerCliente(cliente: ClientePulsar): void {
  clientesVivos.add(cliente);
}

export function soltarCliente(cliente: ClientePulsar): void {
  clientesVivos.delete(cliente);
}

/** Cuántos clientes retiene el proceso (para tests y diagnóstico). */
export function clientesPulsarRetenidos(): number {
  return clientesVivos.size;
}
