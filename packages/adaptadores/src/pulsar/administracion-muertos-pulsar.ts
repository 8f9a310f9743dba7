import {
  PROPIEDAD_REENVIADO_DE,
  type AdministracionMensajesMuertos,
  type MensajeMuerto,
  type ResultadoReenvio,
} from '@aeropartners/aplicacion';
import { retenerCliente, soltarCliente, type MensajePulsar, type ProductorPulsar } from './cliente-pulsar.js';
import { leerTopicoEntero, type ClientePulsarConLector, type IdsMensajePulsar } from './lector-pulsar.js';
import { PROPIEDADES_DLQ_PULSAR, PROPIEDADES_INTERNAS, aMensajeMuerto } from './mensajes-pulsar.js';

export interface OpcionesAdministracionMuertosPulsar {
  readonly cliente: ClientePulsarConLector;
  /** `MessageId` de `pulsar-client` (para leer desde el principio). */
  readonly ids: IdsMensajePulsar;
  /** Tópico de los eventos de pago: adonde vuelven los reenviados. */
  readonly topico: string;
  /** Tópico de mensajes muertos de una suscripción. Por defecto `<tópico>-<suscripción>-DLQ`, como el broker. */
  readonly topicoMuertos?: (suscripcion: string) => string;
  /** Espera máxima de cada lectura de un mensaje que el broker dice que está. Por defecto 5 000 ms. */
  readonly esperaLecturaMs?: number;
  /** `sendTimeoutMs` de los productores (> 0). Por defecto 10 000. */
  readonly tiempoEsperaEnvioMs?: number;
  /** Intentos de tomar el cerrojo de reenvío si otro proceso lo tiene (`ProducerBusy`). Por defecto 20. */
  readonly intentosCerrojo?: number;
  /** Pausa entre esos intentos (se duplica, con tope de 2 s). Por defecto 100 ms. */
  readonly pausaCerrojoMs?: number;
  /** Cerrar el cliente al cerrar la administración. Por defecto `false`. */
  readonly cerrarCliente?: boolean;
}

/** Nombre fijo del productor del registro: dos procesos no lo pueden tener a la vez (`ProducerBusy`). */
const PRODUCTOR_CERROJO = 'aeropartners-operacion-reenvio-muertos';
/** Suscripción que retiene el registro (nunca confirma): sin ella el broker podría borrar lo registrado. */
const SUSCRIPCION_REGISTRO = 'registro-reenvios';
const PROPIEDAD_REGISTRO = 'id_mensaje_muerto';
/** Lo que el cliente o el adaptador añadieron al mandarlo a la DLQ: no vuelve con el reenvío. */
const SOLO_DE_LA_DLQ = new Set<string>([
  ...Object.values(PROPIEDADES_DLQ_PULSAR),
  PROPIEDADES_INTERNAS.motivo,
  PROPIEDADES_INTERNAS.idMensajeOriginal,
  PROPIEDADES_INTERNAS.entregas,
  PROPIEDADES_INTERNAS.suscripcion,
]);
const ENTREGAS_DESCONOCIDAS = -1;

interface Pendiente {
  readonly muerto: MensajeMuerto;
  readonly nativo: MensajePulsar;
}

/**
 * Mensajes muertos de Pulsar para el CLI de operación.
 *
 * - Lee la DLQ de la suscripción con un `Reader` desde el principio: no se suscribe ni confirma nada,
 *   así que leer no reparte ni altera la cola (la retiene la suscripción inicial que crea el broker).
 * - Reenviar republica el mensaje en el tópico original (Pulsar no entrega a una sola suscripción: las
 *   demás lo deduplican con su inbox) con clave, cuerpo y propiedades originales más
 *   `reenviado_de_muerto`, y lo anota en un tópico registro `<DLQ>-reenviados` (retenido por una
 *   suscripción que nunca confirma). Lo anotado ya no se lista ni se reenvía: queda descartado.
 * - Dos procesos a la vez: el registro se escribe con un productor de nombre fijo, que Pulsar concede a
 *   uno solo (`ProducerBusy` al otro, que reintenta); quien lo tiene lee la DLQ y el registro, reenvía lo
 *   pendiente y lo anota. Una caída entre reenviar y anotar deja un reenvío repetido la próxima vez
 *   (inocuo: el inbox del consumidor lo absorbe), nunca uno perdido.
 *
 * Diseño: docs/decisiones/0033-mensajes-muertos-reenvio.md.
 */
export class PulsarAdministracionMuertos implements AdministracionMensajesMuertos {
  readonly #o: Required<Omit<OpcionesAdministracionMuertosPulsar, 'topicoMuertos'>> & {
    readonly topicoMuertos: (suscripcion: string) => string;
  };
  #cola: Promise<unknown> = Promise.resolve();
  readonly #registrosPreparados = new Set<string>();

  constructor(opciones: OpcionesAdministracionMuertosPulsar) {
    if (opciones.topico.trim() === '') throw new Error('El tópico de Pulsar no puede estar vacío.');
    const topico = opciones.topico;
    this.#o = {
      cliente: opciones.cliente,
      ids: opciones.ids,
      topico,
      topicoMuertos: opciones.topicoMuertos ?? ((suscripcion) => `${topico}-${suscripcion}-DLQ`),
      esperaLecturaMs: positivo('esperaLecturaMs', opciones.esperaLecturaMs ?? 5_000),
      tiempoEsperaEnvioMs: positivo('tiempoEsperaEnvioMs', opciones.tiempoEsperaEnvioMs ?? 10_000),
      intentosCerrojo: positivo('intentosCerrojo', opciones.intentosCerrojo ?? 20),
      pausaCerrojoMs: positivo('pausaCerrojoMs', opciones.pausaCerrojoMs ?? 100),
      cerrarCliente: opciones.cerrarCliente ?? false,
    };
    retenerCliente(opciones.cliente);
  }

  async listar(suscripcion: string, opciones: { readonly limite?: number } = {}): Promise<readonly MensajeMuerto[]> {
    const limite = opciones.limite ?? 1000;
    if (!Number.isSafeInteger(limite) || limite < 1) throw new RangeError(`limite debe ser un entero ≥ 1 (recibido: ${String(limite)})`);
    return (await this.#pendientes(suscripcion)).slice(0, limite).map((p) => p.muerto);
  }

  reenviar(suscripcion: string, id: string): Promise<ResultadoReenvio> {
    return this.#conCerrojo(suscripcion, async (registro) => {
      const pendiente = (await this.#pendientes(suscripcion)).find((p) => p.muerto.id === id);
      if (!pendiente) return { tipo: 'noPendiente', id } as const;
      await this.#reenviarUno(pendiente, registro);
      return { tipo: 'reenviado', id } as const;
    });
  }

  reenviarTodos(suscripcion: string): Promise<readonly ResultadoReenvio[]> {
    return this.#conCerrojo(suscripcion, async (registro) => {
      const hechos: ResultadoReenvio[] = [];
      for (const pendiente of await this.#pendientes(suscripcion)) {
        await this.#reenviarUno(pendiente, registro);
        hechos.push({ tipo: 'reenviado', id: pendiente.muerto.id });
      }
      return hechos;
    });
  }

  async cerrar(): Promise<void> {
    await this.#cola.catch(() => undefined);
    if (this.#o.cerrarCliente) await this.#o.cliente.close().catch(() => null);
    soltarCliente(this.#o.cliente);
  }

  #topicoRegistro(suscripcion: string): string {
    return `${this.#o.topicoMuertos(suscripcion)}-reenviados`;
  }

  /** Los mensajes de la DLQ aún no anotados en el registro, sin repetidos, en el orden de la DLQ. */
  async #pendientes(suscripcion: string): Promise<Pendiente[]> {
    const { cliente, ids, esperaLecturaMs } = this.#o;
    const muertos = await leerTopicoEntero(cliente, ids, this.#o.topicoMuertos(suscripcion), esperaLecturaMs);
    if (muertos.length === 0) return [];
    const registrados = new Set(
      (await leerTopicoEntero(cliente, ids, this.#topicoRegistro(suscripcion), esperaLecturaMs)).flatMap((m) => {
        const id = m.getProperties()[PROPIEDAD_REGISTRO];
        return id === undefined ? [] : [id];
      }),
    );
    const vistos = new Set<string>();
    const pendientes: Pendiente[] = [];
    for (const nativo of muertos) {
      const { mensaje, motivo } = aMensajeMuerto(nativo, ENTREGAS_DESCONOCIDAS);
      // Un reintento de `aMensajesMuertos` o una copia de la DLQ no es otro mensaje muerto.
      if (vistos.has(mensaje.idMensaje)) continue;
      vistos.add(mensaje.idMensaje);
      if (registrados.has(mensaje.idMensaje)) continue;
      pendientes.push({
        nativo,
        muerto: {
          id: mensaje.idMensaje,
          suscripcion,
          clave: mensaje.clave,
          cuerpo: mensaje.cuerpo,
          propiedades: mensaje.propiedades,
          motivo,
          entregas: mensaje.entregas === ENTREGAS_DESCONOCIDAS ? null : mensaje.entregas,
          muertoEn: new Date(nativo.getPublishTimestamp()),
        },
      });
    }
    return pendientes;
  }

  async #reenviarUno(pendiente: Pendiente, registro: ProductorPulsar): Promise<void> {
    const { nativo, muerto } = pendiente;
    const propiedades: Record<string, string> = {};
    for (const [k, v] of Object.entries(nativo.getProperties())) if (!SOLO_DE_LA_DLQ.has(k)) propiedades[k] = v;
    propiedades[PROPIEDAD_REENVIADO_DE] = muerto.id;
    const productor = await this.#crearProductor(this.#o.topico);
    try {
      await productor.send({ data: nativo.getData(), partitionKey: muerto.clave, properties: propiedades });
    } catch (causa) {
      throw new Error(`Pulsar no confirmó el reenvío del mensaje muerto ${muerto.id} a ${this.#o.topico}`, { cause: causa });
    } finally {
      await productor.close().catch(() => null);
    }
    try {
      await registro.send({
        data: Buffer.from(JSON.stringify({ id: muerto.id, reenviado_en: new Date().toISOString() })),
        partitionKey: muerto.id,
        properties: { [PROPIEDAD_REGISTRO]: muerto.id, suscripcion: muerto.suscripcion },
      });
    } catch (causa) {
      throw new Error(
        `El mensaje muerto ${muerto.id} se reenvió pero no se pudo anotar en el registro: volverá a listarse y un nuevo reenvío sería un duplicado inocuo`,
        { cause: causa },
      );
    }
  }

  async #crearProductor(topico: string, nombre?: string): Promise<ProductorPulsar> {
    return this.#o.cliente.createProducer({
      topic: topico,
      ...(nombre !== undefined && { producerName: nombre }),
      sendTimeoutMs: this.#o.tiempoEsperaEnvioMs,
      batchingEnabled: false,
      hashingScheme: 'Murmur3_32Hash',
      messageRoutingMode: 'UseSinglePartition',
      blockIfQueueFull: true,
    });
  }

  /** Serializa en el proceso y toma el cerrojo entre procesos (el productor de nombre fijo del registro). */
  #conCerrojo<T>(suscripcion: string, trabajo: (registro: ProductorPulsar) => Promise<T>): Promise<T> {
    const turno = this.#cola.then(async () => {
      const topico = this.#topicoRegistro(suscripcion);
      await this.#prepararRegistro(topico);
      const registro = await this.#tomarCerrojo(topico);
      try {
        return await trabajo(registro);
      } finally {
        await registro.close().catch(() => null);
      }
    });
    this.#cola = turno.catch(() => undefined);
    return turno;
  }

  async #tomarCerrojo(topico: string): Promise<ProductorPulsar> {
    let pausa = this.#o.pausaCerrojoMs;
    for (let intento = 1; ; intento += 1) {
      try {
        return await this.#crearProductor(topico, PRODUCTOR_CERROJO);
      } catch (causa) {
        const ocupado = /ProducerBusy/i.test(causa instanceof Error ? causa.message : String(causa));
        if (!ocupado || intento >= this.#o.intentosCerrojo) {
          throw new Error(
            ocupado
              ? `Otro proceso está reenviando mensajes muertos de ${topico} (productor «${PRODUCTOR_CERROJO}» ocupado): reinténtelo en unos segundos`
              : `No se pudo crear el productor del registro de reenvíos en ${topico}`,
            { cause: causa },
          );
        }
        await new Promise((r) => setTimeout(r, pausa));
        pausa = Math.min(2_000, pausa * 2);
      }
    }
  }

  /** Crea (una vez) la suscripción que retiene el registro, antes de escribir en él. */
  async #prepararRegistro(topico: string): Promise<void> {
    if (this.#registrosPreparados.has(topico)) return;
    try {
      const consumidor = await this.#o.cliente.subscribe({
        topic: topico,
        subscription: SUSCRIPCION_REGISTRO,
        subscriptionType: 'Shared',
        subscriptionInitialPosition: 'Earliest',
      });
      await consumidor.close();
    } catch (causa) {
      throw new Error(`No se pudo preparar el registro de reenvíos ${topico} en Pulsar`, { cause: causa });
    }
    this.#registrosPreparados.add(topico);
  }
}

function positivo(nombre: string, valor: number): number {
  if (!Number.isSafeInteger(valor) || valor < 1) throw new Error(`Opción ${nombre} inválida: ${String(valor)} (entero ≥ 1).`);
  return valor;
}
