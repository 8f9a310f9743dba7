import type { Broker, MensajeEntrante, OpcionesSuscripcion, Publicador, Suscripcion } from '@aeropartners/aplicacion';
import {
  crearClientePulsarNativo,
  retenerCliente,
  soltarCliente,
  type ClientePulsar,
  type ConfigClientePulsar,
  type ConfigConsumidorPulsar,
  type ConfigProductorPulsar,
  type FabricaClientePulsar,
  type MensajePulsar,
  type ProductorPulsar,
} from './cliente-pulsar.js';
import { aMensajeMuerto } from './mensajes-pulsar.js';
import { PulsarPublicador } from './pulsar-publicador.js';
import { PulsarSuscripcion } from './pulsar-suscripcion.js';

export interface OpcionesBrokerPulsar {
  /** `pulsar://host:6650` (o `pulsar+ssl://…`). */
  readonly url: string;
  /** Tópico de los eventos de pago, p. ej. `persistent://public/default/eventos-pagos`. */
  readonly topico: string;
  /** Fábrica del cliente; por defecto carga `pulsar-client` (nativo) al primer uso. Los tests inyectan el falso. */
  readonly crearCliente?: FabricaClientePulsar;
  /** Más opciones del cliente (hilos, TLS, `log`…). */
  readonly opcionesCliente?: Omit<ConfigClientePulsar, 'serviceUrl'>;
  /** `sendTimeoutMs` de los productores: > 0 (el cliente ignora 0 y se queda con 30 s). Por defecto 10 000. */
  readonly tiempoEsperaEnvioMs?: number;
  /** Reintentos de un envío fallido dentro de `publicar`, con la misma secuencia. Por defecto 3. */
  readonly reintentosEnvio?: number;
  /** Espera antes del primer reintento de envío (se duplica). Por defecto 100 ms. */
  readonly pausaReintentoMs?: number;
  /**
   * `maxPendingMessages` de los productores (por defecto 1 000, el del cliente): debe ser ≥ el lote del
   * relay. `publicar` nunca tiene más envíos sin confirmar que esto; con la cola llena, el cliente
   * nativo bloquearía el bucle de eventos.
   */
  readonly mensajesPendientesMaximos?: number;
  /**
   * Cuánto tiempo reintenta (con backoff) crear un productor cuyo nombre aún tiene otro conectado
   * (`ProducerBusy`: el líder anterior, hasta que el broker note que su conexión murió). Por defecto 60 000 ms.
   */
  readonly esperaProductorOcupadoMs?: number;
  /**
   * `desactivados` (por defecto) o `por-clave` (`KeyBasedBatching`). Nunca los lotes por defecto del
   * cliente: un lote mezcla claves y Key_Shared lo entregaría entero al consumidor de la primera.
   */
  readonly lotes?: 'desactivados' | 'por-clave';
  /** `ackTimeoutMs` de los consumidores: 0 (por defecto, desactivado) o ≥ 10 000. */
  readonly tiempoEsperaConfirmacionMs?: number;
  /** `receiverQueueSize` de los consumidores (por defecto, el del cliente: 1000). */
  readonly tamanoColaReceptor?: number;
  /** Tópico de mensajes muertos de una suscripción. Por defecto `<tópico>-<suscripción>-DLQ`, como Pulsar. */
  readonly topicoMuertos?: (suscripcion: string) => string;
  /** Cuánto espera `mensajesMuertos` sin recibir nada antes de dar la lectura por terminada. Por defecto 1000 ms. */
  readonly esperaLecturaMuertosMs?: number;
}

const POR_DEFECTO = {
  tiempoEsperaEnvioMs: 10_000,
  reintentosEnvio: 3,
  pausaReintentoMs: 100,
  mensajesPendientesMaximos: 1_000,
  esperaProductorOcupadoMs: 60_000,
  pausaProductorOcupadoMs: 100,
  pausaMaximaProductorOcupadoMs: 5_000,
  esperaLecturaMuertosMs: 1_000,
  minimoAckTimeoutMs: 10_000,
} as const;

function entero(nombre: string, valor: number, minimo: number): number {
  if (!Number.isSafeInteger(valor) || valor < minimo) {
    throw new Error(`Opción ${nombre} del broker Pulsar inválida: ${valor} (debe ser un entero ≥ ${minimo}).`);
  }
  return valor;
}

interface OpcionesResueltas {
  readonly url: string;
  readonly topico: string;
  readonly tiempoEsperaEnvioMs: number;
  readonly reintentosEnvio: number;
  readonly pausaReintentoMs: number;
  readonly mensajesPendientesMaximos: number;
  readonly esperaProductorOcupadoMs: number;
  readonly lotes: 'desactivados' | 'por-clave';
  readonly tiempoEsperaConfirmacionMs: number;
  readonly tamanoColaReceptor: number | undefined;
  readonly topicoMuertos: (suscripcion: string) => string;
  readonly esperaLecturaMuertosMs: number;
}

function resolverOpciones(opciones: OpcionesBrokerPulsar): OpcionesResueltas {
  if (!/^pulsar(\+ssl)?:\/\/.+/.test(opciones.url)) {
    throw new Error(`URL de Pulsar inválida: "${opciones.url}" (se espera pulsar://host:puerto o pulsar+ssl://…).`);
  }
  if (opciones.topico.trim() === '') throw new Error('El tópico de Pulsar no puede estar vacío.');
  const ackTimeout = entero('tiempoEsperaConfirmacionMs', opciones.tiempoEsperaConfirmacionMs ?? 0, 0);
  if (ackTimeout !== 0 && ackTimeout < POR_DEFECTO.minimoAckTimeoutMs) {
    throw new Error(`Opción tiempoEsperaConfirmacionMs del broker Pulsar inválida: ${ackTimeout} (0 o ≥ 10000, como exige el cliente).`);
  }
  const lotes = opciones.lotes ?? 'desactivados';
  if (lotes !== 'desactivados' && lotes !== 'por-clave') throw new Error(`Opción lotes del broker Pulsar inválida: ${String(lotes)}.`);
  const topico = opciones.topico;
  return {
    url: opciones.url,
    topico,
    // 0 lo ignora el cliente (queda su valor por defecto, 30 s): se exige > 0 para que no pase en silencio.
    tiempoEsperaEnvioMs: entero('tiempoEsperaEnvioMs', opciones.tiempoEsperaEnvioMs ?? POR_DEFECTO.tiempoEsperaEnvioMs, 1),
    reintentosEnvio: entero('reintentosEnvio', opciones.reintentosEnvio ?? POR_DEFECTO.reintentosEnvio, 0),
    pausaReintentoMs: entero('pausaReintentoMs', opciones.pausaReintentoMs ?? POR_DEFECTO.pausaReintentoMs, 0),
    mensajesPendientesMaximos: entero(
      'mensajesPendientesMaximos',
      opciones.mensajesPendientesMaximos ?? POR_DEFECTO.mensajesPendientesMaximos,
      1,
    ),
    esperaProductorOcupadoMs: entero(
      'esperaProductorOcupadoMs',
      opciones.esperaProductorOcupadoMs ?? POR_DEFECTO.esperaProductorOcupadoMs,
      0,
    ),
    lotes,
    tiempoEsperaConfirmacionMs: ackTimeout,
    tamanoColaReceptor:
      opciones.tamanoColaReceptor === undefined ? undefined : entero('tamanoColaReceptor', opciones.tamanoColaReceptor, 1),
    topicoMuertos: opciones.topicoMuertos ?? ((suscripcion) => `${topico}-${suscripcion}-DLQ`),
    esperaLecturaMuertosMs: entero('esperaLecturaMuertosMs', opciones.esperaLecturaMuertosMs ?? POR_DEFECTO.esperaLecturaMuertosMs, 1),
  };
}

function validarOpcionesSuscripcion(opciones: OpcionesSuscripcion): void {
  if (typeof opciones.suscripcion !== 'string' || opciones.suscripcion.trim() === '') {
    throw new Error('El nombre de la suscripción de Pulsar no puede estar vacío.');
  }
  entero('maximoEntregas', opciones.maximoEntregas, 1);
  entero('retrasoReentregaMs', opciones.retrasoReentregaMs, 0);
}

/** Nombre de la suscripción de la cola de mensajes muertos que retiene sus mensajes y desde la que se leen. */
export function suscripcionDeMuertos(suscripcion: string): string {
  return `${suscripcion}-muertos`;
}

/**
 * Broker sobre Apache Pulsar con estos ajustes (docs/arquitectura.md §3):
 *
 * - productor con `producerName` fijo (el del relay), `sequenceId` = su secuencia de publicación
 *   (deduplicación del broker), clave del mensaje = id del pago, `hashingScheme: 'Murmur3_32Hash'`
 *   (todos los clientes enrutan igual), sin lotes o con `KeyBasedBatching`, `sendTimeoutMs` > 0;
 * - suscripción `KeyShared` desde `Earliest`, `nAckRedeliverTimeoutMs` = `retrasoReentregaMs`,
 *   `deadLetterPolicy` con `maxRedeliverCount` = `maximoEntregas - 1` y la suscripción inicial que
 *   retiene la cola de mensajes muertos;
 * - un solo cliente por broker, retenido mientras el broker viva, y `cerrar()` en orden:
 *   consumidores, productores, cliente.
 */
export class PulsarBroker implements Broker {
  private cerrado = false;
  private cierre: Promise<void> | undefined;
  private readonly suscripciones = new Set<PulsarSuscripcion>();
  private readonly publicadores = new Set<PulsarPublicador>();
  private readonly productoresMuertos = new Map<string, Promise<ProductorPulsar>>();
  private readonly colasMuertasPreparadas = new Map<string, Promise<void>>();
  private readonly maximoEntregasPorSuscripcion = new Map<string, number>();
  private lecturaMuertos: Promise<unknown> = Promise.resolve();
  /** Veces que crear el productor encontró `ProducerBusy` y se reintentó (para diagnóstico y tests). */
  productoresOcupados = 0;

  constructor(
    /** El cliente: el broker lo retiene hasta `cerrar()`. */
    readonly cliente: ClientePulsar,
    private readonly opciones: OpcionesResueltas,
  ) {
    retenerCliente(cliente);
  }

  get topico(): string {
    return this.opciones.topico;
  }

  /** La configuración con que se crea el productor de un publicador (expuesta para tests y diagnóstico). */
  configuracionProductor(nombreProductor: string): ConfigProductorPulsar {
    const base: ConfigProductorPulsar = {
      topic: this.opciones.topico,
      producerName: nombreProductor,
      sendTimeoutMs: this.opciones.tiempoEsperaEnvioMs,
      hashingScheme: 'Murmur3_32Hash',
      messageRoutingMode: 'UseSinglePartition',
      // Sin cola llena que falle un envío suelto: un hueco en medio de un lote no tendría arreglo. Y como
      // bloquear también es malo (el hilo de JavaScript), `publicar` nunca pasa de `maxPendingMessages`.
      blockIfQueueFull: true,
      maxPendingMessages: this.opciones.mensajesPendientesMaximos,
    };
    return this.opciones.lotes === 'por-clave'
      ? { ...base, batchingEnabled: true, batchingType: 'KeyBasedBatching' }
      : { ...base, batchingEnabled: false };
  }

  /** La configuración con que se crea el consumidor de una suscripción. */
  configuracionConsumidor(opciones: OpcionesSuscripcion): ConfigConsumidorPulsar {
    const config: ConfigConsumidorPulsar = {
      topic: this.opciones.topico,
      subscription: opciones.suscripcion,
      subscriptionType: 'KeyShared',
      subscriptionInitialPosition: 'Earliest',
      keySharedPolicy: { keyShareMode: 'AutoSplit' },
      nAckRedeliverTimeoutMs: opciones.retrasoReentregaMs,
      ackTimeoutMs: this.opciones.tiempoEsperaConfirmacionMs,
      deadLetterPolicy: {
        deadLetterTopic: this.opciones.topicoMuertos(opciones.suscripcion),
        // El cliente manda a la DLQ el mensaje rechazado cuyo redeliveryCount ya es ≥ este valor, es
        // decir, tras `maximoEntregas` entregas. ≤ 0 significaría "sin límite": el mínimo es 1.
        maxRedeliverCount: Math.max(1, opciones.maximoEntregas - 1),
        initialSubscriptionName: suscripcionDeMuertos(opciones.suscripcion),
      },
    };
    return this.opciones.tamanoColaReceptor === undefined ? config : { ...config, receiverQueueSize: this.opciones.tamanoColaReceptor };
  }

  async crearPublicador(nombreProductor: string): Promise<Publicador> {
    this.asegurarAbierto();
    if (typeof nombreProductor !== 'string' || nombreProductor.trim() === '') {
      throw new Error('El nombre del productor de Pulsar no puede estar vacío: la deduplicación es por nombre.');
    }
    const productor = await this.crearProductor(nombreProductor);
    const publicador = new PulsarPublicador(
      productor,
      nombreProductor,
      {
        reintentosEnvio: this.opciones.reintentosEnvio,
        pausaReintentoMs: this.opciones.pausaReintentoMs,
        conLotes: this.opciones.lotes === 'por-clave',
        mensajesPendientesMaximos: this.opciones.mensajesPendientesMaximos,
      },
      this.cliente,
      (p) => this.publicadores.delete(p),
    );
    this.publicadores.add(publicador);
    return publicador;
  }

  /**
   * Crea el productor de nombre fijo. Solo un productor por nombre puede estar conectado al tópico: si
   * el broker contesta `ProducerBusy` (el relay que lideraba antes aún no se ha desconectado del todo),
   * se reintenta con backoff durante `esperaProductorOcupadoMs`. Cualquier otro fallo no se reintenta.
   */
  private async crearProductor(nombreProductor: string): Promise<ProductorPulsar> {
    const hasta = Date.now() + this.opciones.esperaProductorOcupadoMs;
    for (let intento = 0; ; intento++) {
      try {
        return await this.cliente.createProducer(this.configuracionProductor(nombreProductor));
      } catch (error) {
        const ocupado = /ProducerBusy/.test(error instanceof Error ? error.message : String(error));
        const pausa = Math.min(POR_DEFECTO.pausaProductorOcupadoMs * 2 ** intento, POR_DEFECTO.pausaMaximaProductorOcupadoMs);
        if (!ocupado || this.cerrado || Date.now() + pausa > hasta) {
          const detalle = ocupado
            ? `: otro productor con ese nombre sigue conectado tras ${this.opciones.esperaProductorOcupadoMs} ms (¿otro relay activo?)`
            : '';
          throw new Error(`No se pudo crear el productor "${nombreProductor}" de Pulsar en ${this.opciones.topico}${detalle}`, {
            cause: error,
          });
        }
        this.productoresOcupados += 1;
        await new Promise((resolver) => setTimeout(resolver, pausa));
      }
    }
  }

  async suscribir(opciones: OpcionesSuscripcion): Promise<Suscripcion> {
    this.asegurarAbierto();
    validarOpcionesSuscripcion(opciones);
    this.maximoEntregasPorSuscripcion.set(opciones.suscripcion, opciones.maximoEntregas);
    await this.prepararColaMuertos(opciones.suscripcion);
    let consumidor: Awaited<ReturnType<typeof this.cliente.subscribe>>;
    try {
      consumidor = await this.cliente.subscribe(this.configuracionConsumidor(opciones));
    } catch (error) {
      throw new Error(`No se pudo suscribir "${opciones.suscripcion}" a ${this.opciones.topico} en Pulsar`, { cause: error });
    }
    const suscripcion = new PulsarSuscripcion({
      consumidor,
      opciones,
      cliente: this.cliente,
      productorMuertos: () => this.productorMuertos(opciones.suscripcion),
      alCerrar: (s) => this.suscripciones.delete(s),
    });
    this.suscripciones.add(suscripcion);
    return suscripcion;
  }

  /**
   * Lee la cola de mensajes muertos de una suscripción sin consumirla: se suscribe a la suscripción que
   * la retiene, recibe hasta que pasa `esperaLecturaMuertosMs` sin nada nuevo y cierra sin confirmar.
   * (El `Reader` de Pulsar necesitaría `MessageId.earliest()` del módulo nativo.) Las lecturas de este
   * broker se serializan; dos procesos leyendo a la vez se repartirían los mensajes.
   */
  mensajesMuertos(suscripcion: string): Promise<readonly { readonly mensaje: MensajeEntrante; readonly motivo: string }[]> {
    const lectura = this.lecturaMuertos.then(() => this.leerMuertos(suscripcion));
    this.lecturaMuertos = lectura.catch(() => {});
    return lectura;
  }

  private async leerMuertos(suscripcion: string): Promise<{ readonly mensaje: MensajeEntrante; readonly motivo: string }[]> {
    this.asegurarAbierto();
    const consumidor = await this.cliente.subscribe({
      topic: this.opciones.topicoMuertos(suscripcion),
      subscription: suscripcionDeMuertos(suscripcion),
      subscriptionType: 'Shared',
      subscriptionInitialPosition: 'Earliest',
    });
    const leidos: MensajePulsar[] = [];
    try {
      for (;;) {
        try {
          leidos.push(await consumidor.receive(this.opciones.esperaLecturaMuertosMs));
        } catch (error) {
          if (/TimeOut/i.test(error instanceof Error ? error.message : String(error))) break;
          throw new Error(`Fallo al leer la cola de mensajes muertos de "${suscripcion}"`, { cause: error });
        }
      }
    } finally {
      await consumidor.close(); // sin confirmar: los mensajes siguen en la cola
    }
    const entregasPorDefecto = this.maximoEntregasPorSuscripcion.get(suscripcion) ?? 1;
    const vistos = new Set<string>();
    const resultado: { readonly mensaje: MensajeEntrante; readonly motivo: string }[] = [];
    for (const nativo of leidos) {
      const muerto = aMensajeMuerto(nativo, entregasPorDefecto);
      // Una reentrega de la lectura o un reintento de `aMensajesMuertos` no es otro mensaje muerto.
      if (vistos.has(muerto.mensaje.idMensaje)) continue;
      vistos.add(muerto.mensaje.idMensaje);
      resultado.push(muerto);
    }
    return resultado;
  }

  /** Crea (una vez) la suscripción que retiene la cola de mensajes muertos, para que nada se pierda en ella. */
  private prepararColaMuertos(suscripcion: string): Promise<void> {
    let preparada = this.colasMuertasPreparadas.get(suscripcion);
    if (preparada === undefined) {
      preparada = (async () => {
        const consumidor = await this.cliente.subscribe({
          topic: this.opciones.topicoMuertos(suscripcion),
          subscription: suscripcionDeMuertos(suscripcion),
          subscriptionType: 'Shared',
          subscriptionInitialPosition: 'Earliest',
        });
        await consumidor.close();
      })();
      preparada.catch(() => this.colasMuertasPreparadas.delete(suscripcion));
      this.colasMuertasPreparadas.set(suscripcion, preparada);
    }
    return preparada.catch((error: unknown) => {
      throw new Error(`No se pudo preparar la cola de mensajes muertos de "${suscripcion}" en Pulsar`, { cause: error });
    });
  }

  private productorMuertos(suscripcion: string): Promise<ProductorPulsar> {
    let productor = this.productoresMuertos.get(suscripcion);
    if (productor === undefined) {
      this.asegurarAbierto();
      // Sin nombre fijo: lo genera el broker, así dos procesos no chocan (no hay secuencia que deduplicar).
      productor = this.cliente.createProducer({
        topic: this.opciones.topicoMuertos(suscripcion),
        sendTimeoutMs: this.opciones.tiempoEsperaEnvioMs,
        batchingEnabled: false,
        hashingScheme: 'Murmur3_32Hash',
        blockIfQueueFull: true,
      });
      productor.catch(() => this.productoresMuertos.delete(suscripcion));
      this.productoresMuertos.set(suscripcion, productor);
    }
    return productor;
  }

  /**
   * Disponibilidad (para `/health/ready`): el broker está abierto y cada suscripción tiene su consumidor
   * conectado. El cliente de Pulsar no expone su propia conexión; un productor desconectado se nota al
   * publicar (el relay reintenta con las mismas secuencias).
   */
  async comprobarSalud(): Promise<boolean> {
    return !this.cerrado && [...this.suscripciones].every((s) => s.conectada());
  }

  /** Cierra en el orden que pide el cliente: consumidores, después productores, por último el cliente. */
  cerrar(): Promise<void> {
    this.cierre ??= (async () => {
      this.cerrado = true;
      const errores: unknown[] = [];
      const recoger = async (tareas: Promise<unknown>[]) => {
        for (const r of await Promise.allSettled(tareas)) if (r.status === 'rejected') errores.push(r.reason);
      };
      await recoger([...this.suscripciones].map((s) => s.cerrar()));
      await recoger([
        ...[...this.publicadores].map((p) => p.cerrar()),
        ...[...this.productoresMuertos.values()].map(async (p) => (await p.catch(() => null))?.close()),
      ]);
      this.productoresMuertos.clear();
      await recoger([this.cliente.close()]);
      soltarCliente(this.cliente);
      if (errores.length > 0) throw new AggregateError(errores, 'Hubo errores al cerrar el broker Pulsar.');
    })();
    return this.cierre;
  }

  private asegurarAbierto(): void {
    if (this.cerrado) throw new Error('El broker Pulsar está cerrado.');
  }
}

/**
 * Crea el broker y su cliente (uno por proceso y tópico). Sin `crearCliente`, carga el cliente nativo
 * `pulsar-client` en este momento; si falta su binario, rechaza con un mensaje claro.
 */
export async function crearBrokerPulsar(opciones: OpcionesBrokerPulsar): Promise<PulsarBroker> {
  const resueltas = resolverOpciones(opciones);
  const crearCliente = opciones.crearCliente ?? crearClientePulsarNativo;
  const cliente = await crearCliente({ ...opciones.opcionesCliente, serviceUrl: resueltas.url });
  return new PulsarBroker(cliente, resueltas);
}
