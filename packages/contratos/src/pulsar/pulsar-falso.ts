// Solo los tipos del cliente real: el falso acepta las mismas configuraciones y mensajes que él.
import type { ClientConfig, ConsumerConfig, ProducerConfig, ProducerMessage, SubscriptionType } from 'pulsar-client';
import { crearAzarSembrado } from './azar-sembrado.js';
import { hashClavePulsar, murmur3_32 } from './murmur3.js';

/**
 * Un broker de Apache Pulsar en el proceso, con la forma del cliente real (`pulsar-client`: sus mismas
 * configuraciones, métodos y errores) y la semántica del broker y del cliente:
 *
 * - Tópicos persistentes sin particiones (`x` = `persistent://public/default/x`); retienen todo.
 * - Deduplicación del broker por nombre de productor: un mensaje cuyo `sequenceId` no supera el mayor
 *   que el tópico ya persistió de ese productor se DESCARTA y el envío se confirma igual, con el id
 *   `(-1,-1,-1,-1)` (la trampa documentada). El estado sobrevive a que el productor se cierre y vuelva.
 *   Un segundo productor con el mismo nombre conectado al tópico → `ProducerBusy`.
 * - Cola de envíos pendientes (`maxPendingMessages`, 1000 por defecto): llena, un `send` falla con
 *   `ProducerQueueIsFull` o, con `blockIfQueueFull`, el cliente real bloquearía el hilo de JavaScript
 *   hasta que hubiera hueco. El falso no puede bloquear: lo cuenta (`enviosBloqueantes`) y lo anota.
 * - `sequenceId` se coacciona como `ToNumber()` + `Int64Value()` (una cadena pasa). Sin él, el productor
 *   continúa desde la mayor secuencia conocida de su nombre (o `initialSequenceId`).
 * - `sendTimeoutMs` ≤ 0 se ignora (30 s). Los lotes vienen activados por defecto y, con
 *   `DefaultBatching`, los envíos seguidos comparten lote y Key_Shared enruta el lote entero por la
 *   clave de su primer mensaje (la trampa de los lotes); con `KeyBasedBatching` cada clave va en el suyo.
 * - Suscripciones: `Exclusive` (por defecto, como el cliente), `Failover`, `Shared` (reparto circular) y
 *   `KeyShared`: la clave (`orderingKey` o `partitionKey`) se resume con Murmur3_32 y un anillo de hash
 *   consistente (100 puntos por consumidor) elige el consumidor; una clave con mensajes sin confirmar
 *   en un consumidor no pasa a otro hasta que se confirman o reentregan (así se conserva el orden por
 *   clave cuando entran o salen consumidores). Posición inicial por defecto `Latest`.
 * - Cola del receptor (`receiverQueueSize`, 1000) que el broker llena por adelantado, como el real:
 *   un rechazo puede adelantar a su mensaje los posteriores de su clave ya precargados.
 * - Reentregas con `redeliveryCount` creciente: `negativeAcknowledge` tras `nAckRedeliverTimeoutMs`
 *   (60 000 por defecto), `ackTimeoutMs` (0 o ≥ 10 000) y el cierre de un consumidor (sus mensajes sin
 *   confirmar pasan a los demás).
 * - `deadLetterPolicy`: al pedir la reentrega de un mensaje recibido con `redeliveryCount` ≥
 *   `maxRedeliverCount` (> 0), el consumidor lo publica en `deadLetterTopic` (por defecto
 *   `<tópico>-<suscripción>-DLQ`) con `REAL_TOPIC` y `ORIGIN_MESSAGE_ID`, creando antes
 *   `initialSubscriptionName`, y lo confirma.
 * - Errores como los del cliente: `Failed to receive message: TimeOut`, `…: AlreadyClosed`, etc.
 *   Cerrar el cliente cierra sus consumidores y productores.
 *
 * Inyección de fallos, sembrable: `duplicar` (probabilidad de entregar un mensaje dos veces, la copia
 * como reentrega), `reordenar` (probabilidad de entregar antes un mensaje de OTRA clave; nunca altera
 * el orden dentro de una clave) y `fallarEnvios` (el productor se "atasca": ese envío y los que le
 * siguen mientras tanto fallan con `TimeOut` al cumplirse `sendTimeoutMs`, persistidos o no según el
 * modo; así un envío posterior nunca se confirma antes que uno anterior fallido, como en el real).
 *
 * No reproduce: tópicos particionados, retención y expiración, compactación, esquemas, cifrado,
 * `Reader`, `seek`, acuses acumulativos, entrega retrasada (`deliverAt`), `Sticky` de Key_Shared, la
 * reconexión con el broker ni el cierre por recolección de basura de un cliente sin referencias.
 */

export type ModoFalloEnvio = 'sin-persistir' | 'sin-confirmacion';

export interface FallosEnvioPulsarFalso {
  /** Probabilidad de que un envío (que no esté ya en un atasco) empiece un atasco. */
  readonly probabilidad: number;
  /** `sin-persistir`: el broker no recibió nada; `sin-confirmacion`: persistió pero la confirmación se perdió. */
  readonly modo?: ModoFalloEnvio | 'mixto';
}

export interface FallosPulsarFalso {
  /** Probabilidad de que un mensaje despachado se entregue además una segunda vez (como reentrega). */
  readonly duplicar?: number;
  /** Probabilidad de que `receive` entregue antes el primer mensaje pendiente de otra clave. */
  readonly reordenar?: number;
  readonly fallarEnvios?: number | FallosEnvioPulsarFalso;
}

export interface OpcionesPulsarFalso extends FallosPulsarFalso {
  /** Semilla del azar (fallos inyectados, nombres generados). Por defecto 1. */
  readonly semilla?: number;
  /** Deduplicación del broker (`brokerDeduplicationEnabled`). Por defecto activada, como en infra/. */
  readonly deduplicacion?: boolean;
}

export type ResultadoEnvioFalso = 'persistido' | 'descartado-por-duplicado' | 'fallido';

export type EventoPulsarFalso =
  | { readonly tipo: 'cliente-creado'; readonly cliente: number; readonly serviceUrl: string }
  | { readonly tipo: 'cliente-cerrado'; readonly cliente: number }
  | { readonly tipo: 'productor-creado'; readonly cliente: number; readonly productor: string; readonly topico: string }
  | {
      readonly tipo: 'productor-cerrado';
      readonly cliente: number;
      readonly productor: string;
      readonly topico: string;
      readonly porCliente: boolean;
    }
  | {
      readonly tipo: 'consumidor-creado';
      readonly cliente: number;
      readonly consumidor: string;
      readonly topico: string;
      readonly suscripcion: string;
    }
  | {
      readonly tipo: 'consumidor-cerrado';
      readonly cliente: number;
      readonly consumidor: string;
      readonly topico: string;
      readonly suscripcion: string;
      readonly porCliente: boolean;
    }
  | {
      readonly tipo: 'envio';
      readonly productor: string;
      readonly topico: string;
      readonly secuencia: number;
      readonly clave: string;
      readonly resultado: ResultadoEnvioFalso;
      readonly modo?: ModoFalloEnvio;
    }
  | { readonly tipo: 'envio-bloqueante'; readonly productor: string; readonly topico: string; readonly pendientes: number }
  | {
      readonly tipo: 'a-mensajes-muertos';
      readonly topico: string;
      readonly suscripcion: string;
      readonly idMensaje: string;
      readonly destino: string;
    };

export interface EstadisticasPulsarFalso {
  readonly persistidos: number;
  readonly descartadosPorDuplicado: number;
  readonly enviosFallidos: number;
  readonly entregas: number;
  readonly duplicadosInyectados: number;
  readonly reordenados: number;
  readonly aMensajesMuertos: number;
  /** `send` que el cliente real habría bloqueado (cola de pendientes llena con `blockIfQueueFull`). */
  readonly enviosBloqueantes: number;
}

/** Un mensaje tal como quedó guardado en un tópico del falso. */
export interface MensajeAlmacenadoFalso {
  readonly idMensaje: string;
  readonly clave: string;
  readonly cuerpo: string;
  readonly propiedades: Readonly<Record<string, string>>;
  readonly productor: string;
  readonly secuencia: number;
}

const CLAVE_VACIA = 'NONE_KEY';
const PUNTOS_POR_CONSUMIDOR = 100;
const TIEMPO_ENVIO_POR_DEFECTO_MS = 30_000;
const NACK_POR_DEFECTO_MS = 60_000;
const MINIMO_ACK_TIMEOUT_MS = 10_000;
const COLA_RECEPTOR_POR_DEFECTO = 1000;
const PENDIENTES_POR_DEFECTO = 1000;

function error(mensaje: string): Error {
  return new Error(mensaje);
}

/** Como el cliente: `x` → `persistent://public/default/x`; `t/n/x` → `persistent://t/n/x`. */
export function nombreCompletoTopico(topico: string): string {
  if (/^(persistent|non-persistent):\/\//.test(topico)) return topico;
  return topico.split('/').length === 3 ? `persistent://${topico}` : `persistent://public/default/${topico}`;
}

/** Coacción de `sequenceId` como `Napi::Value::ToNumber().Int64Value()`. */
function comoInt64(valor: unknown): number {
  const numero = Number(valor);
  return Number.isFinite(numero) ? Math.trunc(numero) : 0;
}

export class IdMensajeFalso {
  constructor(
    readonly ledger: number,
    readonly entrada: number,
  ) {}
  toString(): string {
    return `(${this.ledger},${this.entrada},-1,-1)`;
  }
}

interface Entrada {
  readonly posicion: number;
  readonly id: IdMensajeFalso;
  readonly datos: Buffer;
  readonly propiedades: Readonly<Record<string, string>>;
  readonly clave: string;
  /** La clave con que Key_Shared enruta: la del mensaje, o la del primero de su lote con `DefaultBatching`. */
  readonly claveEnrutado: string;
  readonly productor: string;
  readonly secuencia: number;
  readonly publicadoEn: number;
}

class TopicoFalso {
  readonly entradas: Entrada[] = [];
  readonly secuencias = new Map<string, number>();
  readonly productoresConectados = new Set<string>();
  readonly suscripciones = new Map<string, SuscripcionFalsa>();
  constructor(
    readonly nombre: string,
    readonly ledger: number,
  ) {}
}

export class MensajeFalso {
  constructor(
    readonly entrada: Entrada,
    private readonly topico: string,
    private readonly reentregas: number,
    readonly consumidor: ConsumidorFalso,
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
    return this.reentregas;
  }
  getPartitionKey(): string {
    return this.entrada.clave;
  }
  getProducerName(): string {
    return this.entrada.productor;
  }
}

interface EnvioPendiente {
  readonly mensaje: ProducerMessage;
  readonly secuencia: number;
  readonly claveEnrutado: string;
  readonly resolver: (id: IdMensajeFalso) => void;
  readonly rechazar: (error: Error) => void;
  atasco?: Atasco;
}

interface Atasco {
  readonly modo: ModoFalloEnvio;
  readonly miembros: EnvioPendiente[];
}

export class ProductorFalso {
  private cerrado = false;
  private siguienteSecuencia: number;
  private readonly cola: EnvioPendiente[] = [];
  private atasco: Atasco | undefined;
  private procesando = false;
  private lote: { clave: string; tamano: number } | undefined;
  /** Envíos aún sin confirmar ni fallar (la cola de pendientes del productor). */
  private enVuelo = 0;

  constructor(
    private readonly broker: PulsarFalso,
    private readonly cliente: ClienteFalso,
    private readonly topico: TopicoFalso,
    private readonly config: ProducerConfig,
    private readonly nombre: string,
  ) {
    const ultima = Math.max(config.initialSequenceId ?? -1, topico.secuencias.get(nombre) ?? -1);
    this.siguienteSecuencia = ultima + 1;
  }

  private get tiempoEnvioMs(): number {
    const configurado = this.config.sendTimeoutMs;
    return typeof configurado === 'number' && Math.trunc(configurado) > 0 ? Math.trunc(configurado) : TIEMPO_ENVIO_POR_DEFECTO_MS;
  }

  private claveDeEnrutado(mensaje: ProducerMessage): string {
    const clave = String(mensaje.orderingKey ?? mensaje.partitionKey ?? '');
    if (this.config.batchingEnabled === false) return clave;
    if ((this.config.batchingType ?? 'DefaultBatching') === 'KeyBasedBatching') return clave;
    // DefaultBatching: los envíos encolados en el mismo turno comparten lote; el broker lo ve como una
    // sola entrada y Key_Shared lo enruta por la clave del primer mensaje del lote.
    const maximo = this.config.batchingMaxMessages && this.config.batchingMaxMessages > 0 ? this.config.batchingMaxMessages : 1000;
    if (this.lote === undefined || this.lote.tamano >= maximo) {
      this.lote = { clave, tamano: 0 };
      setImmediate(() => (this.lote = undefined));
    }
    this.lote.tamano++;
    return this.lote.clave;
  }

  send(mensaje: ProducerMessage): Promise<IdMensajeFalso> {
    if (this.cerrado) return Promise.reject(error('Failed to send message: AlreadyClosed'));
    if (!Buffer.isBuffer(mensaje?.data)) return Promise.reject(new TypeError('Message data must be a Buffer'));
    let secuencia: number;
    if (mensaje.sequenceId === undefined) {
      secuencia = this.siguienteSecuencia++;
    } else {
      secuencia = comoInt64(mensaje.sequenceId);
    }
    const maximo =
      this.config.maxPendingMessages !== undefined && this.config.maxPendingMessages > 0
        ? this.config.maxPendingMessages
        : PENDIENTES_POR_DEFECTO;
    if (this.enVuelo >= maximo) {
      if (!this.config.blockIfQueueFull) return Promise.reject(error('Failed to send message: ProducerQueueIsFull'));
      this.broker.anotarBloqueo(this.topico, this.nombre, this.enVuelo);
    }
    const claveEnrutado = this.claveDeEnrutado(mensaje);
    this.enVuelo++;
    return new Promise<IdMensajeFalso>((resolverEnvio, rechazarEnvio) => {
      const resolver = (id: IdMensajeFalso) => {
        this.enVuelo--;
        resolverEnvio(id);
      };
      const rechazar = (e: Error) => {
        this.enVuelo--;
        rechazarEnvio(e);
      };
      const pendiente: EnvioPendiente = { mensaje, secuencia, claveEnrutado, resolver, rechazar };
      const modo = this.atasco === undefined ? this.broker.decidirFalloEnvio() : undefined;
      if (modo !== undefined) {
        this.atasco = { modo, miembros: [] };
        const atasco = this.atasco;
        setTimeout(() => this.vencerAtasco(atasco), this.tiempoEnvioMs);
      }
      if (this.atasco !== undefined) {
        pendiente.atasco = this.atasco;
        this.atasco.miembros.push(pendiente);
      }
      this.cola.push(pendiente);
      this.programar();
    });
  }

  private programar(): void {
    if (this.procesando) return;
    this.procesando = true;
    setImmediate(() => {
      this.procesando = false;
      for (const pendiente of this.cola.splice(0)) {
        const { mensaje, secuencia, claveEnrutado } = pendiente;
        if (pendiente.atasco !== undefined) {
          // Atascado: si el modo es `sin-confirmacion` el broker lo persiste, pero nadie lo confirma.
          if (pendiente.atasco.modo === 'sin-confirmacion') {
            this.broker.persistir(this.topico, this.nombre, mensaje, secuencia, claveEnrutado);
          }
          continue;
        }
        const { id, resultado } = this.broker.persistir(this.topico, this.nombre, mensaje, secuencia, claveEnrutado);
        this.broker.anotarEnvio(this.topico, this.nombre, secuencia, String(mensaje.partitionKey ?? ''), resultado);
        pendiente.resolver(id);
      }
    });
  }

  private vencerAtasco(atasco: Atasco): void {
    if (this.atasco === atasco) this.atasco = undefined;
    for (const pendiente of atasco.miembros) {
      const clave = String(pendiente.mensaje.partitionKey ?? '');
      this.broker.anotarEnvio(this.topico, this.nombre, pendiente.secuencia, clave, 'fallido', atasco.modo);
      pendiente.rechazar(error('Failed to send message: TimeOut'));
    }
    atasco.miembros.length = 0;
  }

  async flush(): Promise<null> {
    if (this.cerrado) throw error('Failed to flush producer: AlreadyClosed');
    this.lote = undefined;
    await new Promise<void>((resolver) => setImmediate(resolver));
    return null;
  }

  close(): Promise<null> {
    this.cerrarInterno(false);
    return Promise.resolve(null);
  }

  cerrarInterno(porCliente: boolean): void {
    if (this.cerrado) return;
    this.cerrado = true;
    // Como `ProducerImpl::closeAsync`: lo pendiente falla con AlreadyClosed.
    for (const pendiente of this.cola.splice(0)) pendiente.rechazar(error('Failed to send message: AlreadyClosed'));
    if (this.atasco !== undefined) {
      for (const pendiente of this.atasco.miembros) pendiente.rechazar(error('Failed to send message: AlreadyClosed'));
      this.atasco.miembros.length = 0;
      this.atasco = undefined;
    }
    this.topico.productoresConectados.delete(this.nombre);
    this.cliente.olvidarProductor(this);
    this.broker.anotar({
      tipo: 'productor-cerrado',
      cliente: this.cliente.id,
      productor: this.nombre,
      topico: this.topico.nombre,
      porCliente,
    });
  }

  getProducerName(): string {
    return this.nombre;
  }
  getTopic(): string {
    return this.topico.nombre;
  }
  isConnected(): boolean {
    return !this.cerrado;
  }
}

interface EnCola {
  readonly posicion: number;
  readonly reentregas: number;
}

interface Espera {
  readonly resolver: (mensaje: MensajeFalso) => void;
  readonly rechazar: (error: Error) => void;
  temporizador?: ReturnType<typeof setTimeout>;
}

export class ConsumidorFalso {
  private cerrado = false;
  readonly cola: EnCola[] = [];
  private readonly esperas: Espera[] = [];
  private readonly temporizadores = new Set<ReturnType<typeof setTimeout>>();
  private readonly ackTimeouts = new Map<MensajeFalso, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly broker: PulsarFalso,
    readonly cliente: ClienteFalso,
    readonly suscripcion: SuscripcionFalsa,
    readonly config: ConsumerConfig,
    readonly nombre: string,
  ) {}

  get abierto(): boolean {
    return !this.cerrado;
  }

  tieneCapacidad(): boolean {
    const capacidad = this.config.receiverQueueSize ?? COLA_RECEPTOR_POR_DEFECTO;
    return capacidad > 0 ? this.cola.length < capacidad : this.cola.length < this.esperas.length;
  }

  /** El broker empuja un mensaje al consumidor (a quien espera o a la cola del receptor). */
  encolar(enCola: EnCola): void {
    const espera = this.esperas.shift();
    if (espera !== undefined) {
      if (espera.temporizador !== undefined) clearTimeout(espera.temporizador);
      espera.resolver(this.entregar(enCola));
      return;
    }
    this.cola.push(enCola);
  }

  private tomarDeCola(): EnCola | undefined {
    if (this.cola.length === 0) return undefined;
    let indice = 0;
    if (this.cola.length > 1 && this.broker.sortear('reordenar')) {
      // Solo candidatos que son el primero de su clave en la cola: nunca se reordena dentro de una clave.
      const vistas = new Set<string>();
      const candidatos: number[] = [];
      this.cola.forEach((e, i) => {
        const clave = this.suscripcion.claveDe(e.posicion);
        if (!vistas.has(clave)) {
          vistas.add(clave);
          candidatos.push(i);
        }
      });
      indice = candidatos[Math.floor(this.broker.azar() * candidatos.length)] ?? 0;
      if (indice !== 0) this.broker.contar('reordenados');
    }
    return this.cola.splice(indice, 1)[0];
  }

  private entregar(enCola: EnCola): MensajeFalso {
    const entrada = this.suscripcion.topico.entradas[enCola.posicion]!;
    const mensaje = new MensajeFalso(entrada, this.suscripcion.topico.nombre, enCola.reentregas, this);
    this.broker.contar('entregas');
    const ackTimeout = this.config.ackTimeoutMs ?? 0;
    if (ackTimeout > 0) {
      const temporizador = setTimeout(() => {
        this.ackTimeouts.delete(mensaje);
        this.pedirReentrega(mensaje);
      }, ackTimeout);
      temporizador.unref?.();
      this.ackTimeouts.set(mensaje, temporizador);
    }
    return mensaje;
  }

  receive(timeout?: number): Promise<MensajeFalso> {
    if (this.cerrado) return Promise.reject(error('Failed to receive message: AlreadyClosed'));
    const enCola = this.tomarDeCola();
    if (enCola !== undefined) {
      const mensaje = this.entregar(enCola);
      this.suscripcion.despachar(); // quedó sitio en la cola del receptor
      return Promise.resolve(mensaje);
    }
    return new Promise<MensajeFalso>((resolver, rechazar) => {
      const espera: Espera = { resolver, rechazar };
      if (timeout !== undefined && timeout > 0) {
        espera.temporizador = setTimeout(() => {
          const i = this.esperas.indexOf(espera);
          if (i >= 0) this.esperas.splice(i, 1);
          rechazar(error('Failed to receive message: TimeOut'));
        }, timeout);
      }
      this.esperas.push(espera);
      this.suscripcion.despachar(); // con receiverQueueSize 0, una espera abre sitio
    });
  }

  private validar(mensaje: MensajeFalso): MensajeFalso {
    if (!(mensaje instanceof MensajeFalso)) throw new TypeError('Expected a Message object');
    return mensaje;
  }

  acknowledge(mensaje: MensajeFalso): Promise<null> {
    if (this.cerrado) return Promise.reject(error('Failed to acknowledge: AlreadyClosed'));
    let falso: MensajeFalso;
    try {
      falso = this.validar(mensaje);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    this.soltarAckTimeout(falso);
    if (falso.getTopicName() === this.suscripcion.topico.nombre) this.suscripcion.confirmar(falso.entrada.posicion);
    return Promise.resolve(null);
  }

  negativeAcknowledge(mensaje: MensajeFalso): void {
    if (this.cerrado) return;
    const falso = this.validar(mensaje);
    this.soltarAckTimeout(falso);
    const retraso = this.config.nAckRedeliverTimeoutMs ?? NACK_POR_DEFECTO_MS;
    const temporizador = setTimeout(() => {
      this.temporizadores.delete(temporizador);
      this.pedirReentrega(falso);
    }, retraso);
    temporizador.unref?.();
    this.temporizadores.add(temporizador);
  }

  private soltarAckTimeout(mensaje: MensajeFalso): void {
    const temporizador = this.ackTimeouts.get(mensaje);
    if (temporizador !== undefined) clearTimeout(temporizador);
    this.ackTimeouts.delete(mensaje);
  }

  /** Lo que hace el cliente al vencer un nack o un ackTimeout: DLQ si toca, si no, pedir la reentrega. */
  private pedirReentrega(mensaje: MensajeFalso): void {
    if (this.cerrado) return;
    const posicion = mensaje.entrada.posicion;
    if (this.suscripcion.estaConfirmada(posicion)) return;
    const politica = this.config.deadLetterPolicy;
    const maximo = politica?.maxRedeliverCount ?? 0;
    if (politica !== undefined && maximo > 0 && mensaje.getRedeliveryCount() >= maximo) {
      this.broker.moverAMuertos(this, mensaje, politica.deadLetterTopic, politica.initialSubscriptionName);
      return;
    }
    this.suscripcion.reentregar(posicion, this);
  }

  close(): Promise<null> {
    this.cerrarInterno(false);
    return Promise.resolve(null);
  }

  cerrarInterno(porCliente: boolean): void {
    if (this.cerrado) return;
    this.cerrado = true;
    for (const temporizador of this.temporizadores) clearTimeout(temporizador);
    for (const temporizador of this.ackTimeouts.values()) clearTimeout(temporizador);
    this.temporizadores.clear();
    this.ackTimeouts.clear();
    for (const espera of this.esperas.splice(0)) {
      if (espera.temporizador !== undefined) clearTimeout(espera.temporizador);
      espera.rechazar(error('Failed to receive message: AlreadyClosed'));
    }
    this.cola.length = 0;
    this.cliente.olvidarConsumidor(this);
    this.broker.anotar({
      tipo: 'consumidor-cerrado',
      cliente: this.cliente.id,
      consumidor: this.nombre,
      topico: this.suscripcion.topico.nombre,
      suscripcion: this.suscripcion.nombre,
      porCliente,
    });
    this.suscripcion.quitarConsumidor(this);
  }

  isConnected(): boolean {
    return !this.cerrado;
  }
}

function insertarOrdenado(lista: number[], valor: number): void {
  let bajo = 0;
  let alto = lista.length;
  while (bajo < alto) {
    const medio = (bajo + alto) >>> 1;
    if (lista[medio]! < valor) bajo = medio + 1;
    else alto = medio;
  }
  if (lista[bajo] !== valor) lista.splice(bajo, 0, valor);
}

class SuscripcionFalsa {
  /** Posiciones por despachar, en orden: las reentregadas vuelven a su sitio y salen primero. */
  private porEntregar: number[] = [];
  private readonly pendientes = new Map<number, ConsumidorFalso>();
  private readonly pendientesPorClave = new Map<string, { consumidor: ConsumidorFalso; cantidad: number }>();
  private readonly confirmadas = new Set<number>();
  private readonly reentregas = new Map<number, number>();
  readonly consumidores: ConsumidorFalso[] = [];
  private anillo: { hash: number; consumidor: ConsumidorFalso }[] = [];
  private turno = 0;
  private despachando = false;
  private repetir = false;

  constructor(
    private readonly broker: PulsarFalso,
    readonly topico: TopicoFalso,
    readonly nombre: string,
    public tipo: SubscriptionType,
    desde: number,
  ) {
    for (let p = desde; p < topico.entradas.length; p++) this.porEntregar.push(p);
  }

  claveDe(posicion: number): string {
    return this.topico.entradas[posicion]!.claveEnrutado || CLAVE_VACIA;
  }

  estaConfirmada(posicion: number): boolean {
    return this.confirmadas.has(posicion);
  }

  /** Mensajes sin confirmar (por despachar o en manos de un consumidor). */
  get atrasados(): number {
    return this.porEntregar.length + this.pendientes.size;
  }

  nuevaEntrada(posicion: number): void {
    this.porEntregar.push(posicion);
    this.despachar();
  }

  agregarConsumidor(consumidor: ConsumidorFalso): void {
    this.consumidores.push(consumidor);
    this.reconstruirAnillo();
    this.despachar();
  }

  quitarConsumidor(consumidor: ConsumidorFalso): void {
    const i = this.consumidores.indexOf(consumidor);
    if (i >= 0) this.consumidores.splice(i, 1);
    this.reconstruirAnillo();
    // Lo que tenía sin confirmar vuelve a despacharse, con el contador de reentregas incrementado.
    for (const [posicion, dueno] of [...this.pendientes]) {
      if (dueno === consumidor) this.devolver(posicion);
    }
    this.despachar();
  }

  private reconstruirAnillo(): void {
    const anillo: { hash: number; consumidor: ConsumidorFalso }[] = [];
    for (const consumidor of this.consumidores) {
      for (let i = 0; i < PUNTOS_POR_CONSUMIDOR; i++) anillo.push({ hash: murmur3_32(`${consumidor.nombre}#${i}`), consumidor });
    }
    anillo.sort((a, b) => a.hash - b.hash);
    this.anillo = anillo;
  }

  private consumidorDeClave(clave: string): ConsumidorFalso | undefined {
    if (this.anillo.length === 0) return undefined;
    const hash = hashClavePulsar(clave);
    let bajo = 0;
    let alto = this.anillo.length;
    while (bajo < alto) {
      const medio = (bajo + alto) >>> 1;
      if (this.anillo[medio]!.hash < hash) bajo = medio + 1;
      else alto = medio;
    }
    return (this.anillo[bajo] ?? this.anillo[0]!).consumidor;
  }

  confirmar(posicion: number): void {
    if (this.confirmadas.has(posicion) || posicion >= this.topico.entradas.length) return;
    this.confirmadas.add(posicion);
    this.quitarPendiente(posicion);
    const i = this.porEntregar.indexOf(posicion);
    if (i >= 0) this.porEntregar.splice(i, 1);
    this.despachar();
  }

  /** Reentrega pedida por `consumidor` (nack, ackTimeout): solo si el mensaje sigue en sus manos. */
  reentregar(posicion: number, consumidor: ConsumidorFalso): void {
    if (this.confirmadas.has(posicion) || this.pendientes.get(posicion) !== consumidor) return;
    this.devolver(posicion);
    this.despachar();
  }

  private devolver(posicion: number): void {
    this.quitarPendiente(posicion);
    this.reentregas.set(posicion, (this.reentregas.get(posicion) ?? 0) + 1);
    insertarOrdenado(this.porEntregar, posicion);
  }

  private quitarPendiente(posicion: number): void {
    const dueno = this.pendientes.get(posicion);
    if (dueno === undefined) return;
    this.pendientes.delete(posicion);
    const clave = this.claveDe(posicion);
    const porClave = this.pendientesPorClave.get(clave);
    if (porClave !== undefined && --porClave.cantidad <= 0) this.pendientesPorClave.delete(clave);
  }

  despachar(): void {
    if (this.despachando) {
      this.repetir = true;
      return;
    }
    this.despachando = true;
    try {
      do {
        this.repetir = false;
        this.pasada();
      } while (this.repetir);
    } finally {
      this.despachando = false;
    }
  }

  private pasada(): void {
    const activos = this.consumidores.filter((c) => c.abierto);
    if (activos.length === 0 || this.porEntregar.length === 0) return;
    const bloqueadas = new Set<string>();
    const quedan: number[] = [];
    const lista = this.porEntregar;
    this.porEntregar = [];
    for (let i = 0; i < lista.length; i++) {
      const posicion = lista[i]!;
      if (this.confirmadas.has(posicion)) continue;
      if (!activos.some((c) => c.tieneCapacidad())) {
        for (let j = i; j < lista.length; j++) if (!this.confirmadas.has(lista[j]!)) quedan.push(lista[j]!);
        break;
      }
      const destino = this.elegir(posicion, activos, bloqueadas);
      if (destino === undefined) {
        quedan.push(posicion);
        continue;
      }
      this.asignar(posicion, destino);
    }
    // Lo que llegara durante la pasada se intercala en su sitio.
    for (const posicion of this.porEntregar) insertarOrdenado(quedan, posicion);
    this.porEntregar = quedan;
  }

  private elegir(posicion: number, activos: ConsumidorFalso[], bloqueadas: Set<string>): ConsumidorFalso | undefined {
    switch (this.tipo) {
      case 'KeyShared': {
        const clave = this.claveDe(posicion);
        if (bloqueadas.has(clave)) return undefined;
        const elegido = this.consumidorDeClave(clave);
        const enManos = this.pendientesPorClave.get(clave);
        const fueraDeOrden = activos[0]?.config.keySharedPolicy?.allowOutOfOrderDelivery === true;
        // La clave sigue en el consumidor que tiene mensajes suyos sin confirmar, hasta que los suelte.
        if (
          elegido === undefined ||
          (enManos !== undefined && enManos.consumidor !== elegido && !fueraDeOrden) ||
          !elegido.tieneCapacidad()
        ) {
          bloqueadas.add(clave);
          return undefined;
        }
        return elegido;
      }
      case 'Shared': {
        for (let n = 0; n < activos.length; n++) {
          const candidato = activos[(this.turno + n) % activos.length]!;
          if (candidato.tieneCapacidad()) {
            this.turno = (this.turno + n + 1) % activos.length;
            return candidato;
          }
        }
        return undefined;
      }
      case 'Exclusive':
      case 'Failover': {
        const activo = activos[0]!;
        return activo.tieneCapacidad() ? activo : undefined;
      }
    }
  }

  private asignar(posicion: number, consumidor: ConsumidorFalso): void {
    this.pendientes.set(posicion, consumidor);
    const clave = this.claveDe(posicion);
    const porClave = this.pendientesPorClave.get(clave);
    if (porClave === undefined) this.pendientesPorClave.set(clave, { consumidor, cantidad: 1 });
    else porClave.cantidad++;
    const reentregas = this.reentregas.get(posicion) ?? 0;
    consumidor.encolar({ posicion, reentregas });
    if (this.broker.sortear('duplicar') && consumidor.abierto) {
      // Una copia, como la reentrega que sigue a un acuse perdido: mismo id, contador incrementado.
      this.reentregas.set(posicion, reentregas + 1);
      this.broker.contar('duplicadosInyectados');
      consumidor.encolar({ posicion, reentregas: reentregas + 1 });
    }
  }
}

export class ClienteFalso {
  private cerrado = false;
  private readonly productores = new Set<ProductorFalso>();
  private readonly consumidores = new Set<ConsumidorFalso>();

  constructor(
    private readonly broker: PulsarFalso,
    readonly id: number,
    readonly config: ClientConfig,
  ) {}

  async createProducer(config: ProducerConfig): Promise<ProductorFalso> {
    await Promise.resolve();
    if (this.cerrado) throw error('Failed to create producer: AlreadyClosed');
    if (typeof config?.topic !== 'string' || config.topic === '') {
      throw error('Topic is required and must be specified as a string when creating producer');
    }
    const topico = this.broker.topico(config.topic);
    const nombre = config.producerName || this.broker.nombreGenerado('standalone-0');
    if (topico.productoresConectados.has(nombre)) throw error('Failed to create producer: ProducerBusy');
    topico.productoresConectados.add(nombre);
    const productor = new ProductorFalso(this.broker, this, topico, { ...config }, nombre);
    this.productores.add(productor);
    this.broker.registrarConfigProductor({ ...config });
    this.broker.anotar({ tipo: 'productor-creado', cliente: this.id, productor: nombre, topico: topico.nombre });
    return productor;
  }

  async subscribe(config: ConsumerConfig): Promise<ConsumidorFalso> {
    await Promise.resolve();
    if (this.cerrado) throw error('Failed to create consumer: AlreadyClosed');
    if (typeof config?.topic !== 'string' || config.topic === '') {
      throw error('Topic, topics or topicsPattern is required and must be specified as a string when creating consumer');
    }
    if (typeof config.subscription !== 'string' || config.subscription === '') {
      throw error('Subscription is required and must be specified as a string when creating consumer');
    }
    const ackTimeout = config.ackTimeoutMs ?? 0;
    if (ackTimeout !== 0 && ackTimeout < MINIMO_ACK_TIMEOUT_MS) {
      throw error(`Ack timeout should be 0 or greater than or equal to ${MINIMO_ACK_TIMEOUT_MS}`);
    }
    if ((config.nAckRedeliverTimeoutMs ?? 0) < 0) throw error('NAck timeout should be greater than or equal to zero');
    const tipo = config.subscriptionType ?? 'Exclusive';
    const topico = this.broker.topico(config.topic);
    let suscripcion = topico.suscripciones.get(config.subscription);
    const conectados = suscripcion?.consumidores.filter((c) => c.abierto) ?? [];
    if (suscripcion !== undefined && conectados.length > 0 && (suscripcion.tipo !== tipo || tipo === 'Exclusive')) {
      throw error('Failed to create consumer: ConsumerBusy');
    }
    if (suscripcion === undefined) {
      const desde = (config.subscriptionInitialPosition ?? 'Latest') === 'Earliest' ? 0 : topico.entradas.length;
      suscripcion = this.broker.crearSuscripcion(topico, config.subscription, tipo, desde);
    } else {
      suscripcion.tipo = tipo;
    }
    const nombre = config.consumerName || this.broker.nombreGenerado('consumidor');
    const consumidor = new ConsumidorFalso(this.broker, this, suscripcion, { ...config }, nombre);
    this.consumidores.add(consumidor);
    this.broker.registrarConfigConsumidor({ ...config });
    this.broker.anotar({
      tipo: 'consumidor-creado',
      cliente: this.id,
      consumidor: nombre,
      topico: topico.nombre,
      suscripcion: suscripcion.nombre,
    });
    suscripcion.agregarConsumidor(consumidor);
    return consumidor;
  }

  olvidarProductor(productor: ProductorFalso): void {
    this.productores.delete(productor);
  }

  olvidarConsumidor(consumidor: ConsumidorFalso): void {
    this.consumidores.delete(consumidor);
  }

  /** Como el cliente real: cerrar el cliente cierra antes lo que siga abierto (consumidores, productores). */
  close(): Promise<null> {
    if (!this.cerrado) {
      this.cerrado = true;
      this.broker.anotar({ tipo: 'cliente-cerrado', cliente: this.id });
      for (const consumidor of [...this.consumidores]) consumidor.cerrarInterno(true);
      for (const productor of [...this.productores]) productor.cerrarInterno(true);
    }
    return Promise.resolve(null);
  }
}

/** El broker en memoria. `crearCliente` se pasa tal cual como fábrica a `crearBrokerPulsar`. */
export class PulsarFalso {
  private readonly topicos = new Map<string, TopicoFalso>();
  private readonly eventos: EventoPulsarFalso[] = [];
  private readonly configsCliente: ClientConfig[] = [];
  private readonly configsProductor: ProducerConfig[] = [];
  private readonly configsConsumidor: ConsumerConfig[] = [];
  private readonly contadores = {
    persistidos: 0,
    descartadosPorDuplicado: 0,
    enviosFallidos: 0,
    entregas: 0,
    duplicadosInyectados: 0,
    reordenados: 0,
    aMensajesMuertos: 0,
    enviosBloqueantes: 0,
  };
  private fallos: FallosPulsarFalso;
  private readonly deduplicacion: boolean;
  private readonly generador: () => number;
  private clientes = 0;
  private nombres = 0;
  private enviosAFallar: ModoFalloEnvio[] = [];

  constructor(opciones: OpcionesPulsarFalso = {}) {
    this.generador = crearAzarSembrado(opciones.semilla ?? 1);
    this.deduplicacion = opciones.deduplicacion ?? true;
    this.fallos = {};
    this.configurarFallos(opciones);
  }

  /** La fábrica del cliente (misma forma que `new Client(config)` de `pulsar-client`). */
  readonly crearCliente = (config: ClientConfig): ClienteFalso => {
    if (typeof config?.serviceUrl !== 'string' || !/^pulsar(\+ssl)?:\/\//.test(config.serviceUrl)) {
      throw error(`Invalid service url: ${String(config?.serviceUrl)}`);
    }
    const cliente = new ClienteFalso(this, ++this.clientes, { ...config });
    this.configsCliente.push({ ...config });
    this.anotar({ tipo: 'cliente-creado', cliente: cliente.id, serviceUrl: config.serviceUrl });
    return cliente;
  };

  /** Cambia la inyección de fallos en caliente (p. ej. para que un test arranque limpio y luego falle). */
  configurarFallos(fallos: FallosPulsarFalso): void {
    const probabilidad = (nombre: string, valor: number | undefined) => {
      if (valor !== undefined && !(valor >= 0 && valor <= 1)) throw new Error(`${nombre} debe ser una probabilidad entre 0 y 1: ${valor}`);
    };
    probabilidad('duplicar', fallos.duplicar);
    probabilidad('reordenar', fallos.reordenar);
    const envios = typeof fallos.fallarEnvios === 'number' ? { probabilidad: fallos.fallarEnvios } : fallos.fallarEnvios;
    probabilidad('fallarEnvios', envios?.probabilidad);
    this.fallos = { duplicar: fallos.duplicar ?? 0, reordenar: fallos.reordenar ?? 0, ...(envios ? { fallarEnvios: envios } : {}) };
  }

  /** Los próximos `cantidad` envíos (de cualquier productor) empiezan un atasco que termina en `TimeOut`. */
  fallarSiguientesEnvios(cantidad = 1, modo: ModoFalloEnvio = 'sin-persistir'): void {
    for (let i = 0; i < cantidad; i++) this.enviosAFallar.push(modo);
  }

  get registro(): readonly EventoPulsarFalso[] {
    return this.eventos;
  }

  get estadisticas(): EstadisticasPulsarFalso {
    return { ...this.contadores };
  }

  configuracionesCliente(): readonly ClientConfig[] {
    return this.configsCliente;
  }

  configuracionesProductor(): readonly ProducerConfig[] {
    return this.configsProductor;
  }

  configuracionesConsumidor(): readonly ConsumerConfig[] {
    return this.configsConsumidor;
  }

  /** Los envíos y su resultado, en orden (incluye los descartados por deduplicación y los fallidos). */
  envios(): readonly Extract<EventoPulsarFalso, { tipo: 'envio' }>[] {
    return this.eventos.filter((e): e is Extract<EventoPulsarFalso, { tipo: 'envio' }> => e.tipo === 'envio');
  }

  /** Lo que quedó persistido en un tópico, en orden. */
  mensajes(topico: string): readonly MensajeAlmacenadoFalso[] {
    const t = this.topicos.get(nombreCompletoTopico(topico));
    return (t?.entradas ?? []).map((e) => ({
      idMensaje: e.id.toString(),
      clave: e.clave,
      cuerpo: e.datos.toString('utf8'),
      propiedades: { ...e.propiedades },
      productor: e.productor,
      secuencia: e.secuencia,
    }));
  }

  /** Mensajes sin confirmar de una suscripción (atraso). */
  atrasados(topico: string, suscripcion: string): number {
    return this.topicos.get(nombreCompletoTopico(topico))?.suscripciones.get(suscripcion)?.atrasados ?? 0;
  }

  // ——— Interno (lo usan las clases del falso) ———

  azar(): number {
    return this.generador();
  }

  sortear(fallo: 'duplicar' | 'reordenar'): boolean {
    const p = this.fallos[fallo] ?? 0;
    return p > 0 && this.generador() < p;
  }

  contar(contador: 'entregas' | 'duplicadosInyectados' | 'reordenados'): void {
    this.contadores[contador]++;
  }

  decidirFalloEnvio(): ModoFalloEnvio | undefined {
    const forzado = this.enviosAFallar.shift();
    if (forzado !== undefined) return forzado;
    const config = this.fallos.fallarEnvios;
    const envios = typeof config === 'number' ? { probabilidad: config } : config;
    if (envios === undefined || envios.probabilidad <= 0 || this.generador() >= envios.probabilidad) return undefined;
    const modo = envios.modo ?? 'mixto';
    if (modo === 'mixto') return this.generador() < 0.5 ? 'sin-persistir' : 'sin-confirmacion';
    return modo;
  }

  nombreGenerado(prefijo: string): string {
    return `${prefijo}-${++this.nombres}`;
  }

  anotar(evento: EventoPulsarFalso): void {
    this.eventos.push(evento);
  }

  anotarEnvio(
    topico: TopicoFalso,
    productor: string,
    secuencia: number,
    clave: string,
    resultado: ResultadoEnvioFalso,
    modo?: ModoFalloEnvio,
  ): void {
    if (resultado === 'fallido') this.contadores.enviosFallidos++;
    this.anotar({ tipo: 'envio', productor, topico: topico.nombre, secuencia, clave, resultado, ...(modo ? { modo } : {}) });
  }

  anotarBloqueo(topico: TopicoFalso, productor: string, pendientes: number): void {
    this.contadores.enviosBloqueantes++;
    this.anotar({ tipo: 'envio-bloqueante', productor, topico: topico.nombre, pendientes });
  }

  registrarConfigProductor(config: ProducerConfig): void {
    this.configsProductor.push(config);
  }

  registrarConfigConsumidor(config: ConsumerConfig): void {
    this.configsConsumidor.push(config);
  }

  topico(nombre: string): TopicoFalso {
    const completo = nombreCompletoTopico(nombre);
    let topico = this.topicos.get(completo);
    if (topico === undefined) {
      topico = new TopicoFalso(completo, 10 + this.topicos.size);
      this.topicos.set(completo, topico);
    }
    return topico;
  }

  crearSuscripcion(topico: TopicoFalso, nombre: string, tipo: SubscriptionType, desde: number): SuscripcionFalsa {
    const suscripcion = new SuscripcionFalsa(this, topico, nombre, tipo, desde);
    topico.suscripciones.set(nombre, suscripcion);
    return suscripcion;
  }

  /** El broker recibe un mensaje: deduplicación por productor y, si pasa, a cada suscripción. */
  persistir(
    topico: TopicoFalso,
    productor: string,
    mensaje: ProducerMessage,
    secuencia: number,
    claveEnrutado: string,
  ): { id: IdMensajeFalso; resultado: ResultadoEnvioFalso } {
    const mayor = topico.secuencias.get(productor) ?? -1;
    if (this.deduplicacion && secuencia <= mayor) {
      this.contadores.descartadosPorDuplicado++;
      return { id: new IdMensajeFalso(-1, -1), resultado: 'descartado-por-duplicado' };
    }
    topico.secuencias.set(productor, Math.max(mayor, secuencia));
    const propiedades: Record<string, string> = {};
    for (const [nombre, valor] of Object.entries(mensaje.properties ?? {})) propiedades[nombre] = String(valor);
    const posicion = topico.entradas.length;
    const entrada: Entrada = {
      posicion,
      id: new IdMensajeFalso(topico.ledger, posicion),
      datos: Buffer.from(mensaje.data),
      propiedades,
      clave: String(mensaje.partitionKey ?? ''),
      claveEnrutado,
      productor,
      secuencia,
      publicadoEn: Date.now(),
    };
    topico.entradas.push(entrada);
    this.contadores.persistidos++;
    for (const suscripcion of topico.suscripciones.values()) suscripcion.nuevaEntrada(posicion);
    return { id: entrada.id, resultado: 'persistido' };
  }

  /** La `deadLetterPolicy` del cliente: publica en la DLQ (creando la suscripción inicial) y confirma. */
  moverAMuertos(
    consumidor: ConsumidorFalso,
    mensaje: MensajeFalso,
    topicoMuertos: string | undefined,
    suscripcionInicial: string | undefined,
  ): void {
    const origen = consumidor.suscripcion;
    const destino = this.topico(topicoMuertos || `${origen.topico.nombre}-${origen.nombre}-DLQ`);
    if (suscripcionInicial && !destino.suscripciones.has(suscripcionInicial)) {
      this.crearSuscripcion(destino, suscripcionInicial, 'Shared', destino.entradas.length);
    }
    const nombreProductor = `${origen.topico.nombre}-${origen.nombre}-${consumidor.nombre}-DLQ`;
    const secuencia = (destino.secuencias.get(nombreProductor) ?? -1) + 1;
    const { entrada } = mensaje;
    this.persistir(
      destino,
      nombreProductor,
      {
        data: entrada.datos,
        partitionKey: entrada.clave,
        properties: { ...entrada.propiedades, REAL_TOPIC: origen.topico.nombre, ORIGIN_MESSAGE_ID: entrada.id.toString() },
      },
      secuencia,
      entrada.clave,
    );
    this.contadores.aMensajesMuertos++;
    this.anotar({
      tipo: 'a-mensajes-muertos',
      topico: origen.topico.nombre,
      suscripcion: origen.nombre,
      idMensaje: entrada.id.toString(),
      destino: destino.nombre,
    });
    origen.confirmar(entrada.posicion);
  }
}
