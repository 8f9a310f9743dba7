import type { MensajeSaliente, Publicador, ResultadoPublicacion } from '@aeropartners/aplicacion';
import type { ClientePulsar, IdMensajePulsar, MensajeProductorPulsar, ProductorPulsar } from './cliente-pulsar.js';
import { aMensajePulsar } from './mensajes-pulsar.js';
import { normalizarSecuenciasDeLote } from './secuencia-pulsar.js';

export interface OpcionesPulsarPublicador {
  /** Reintentos de los envíos fallidos dentro de una llamada a `publicar`, con la misma secuencia. */
  readonly reintentosEnvio: number;
  /** Espera antes del primer reintento; se duplica en cada uno. */
  readonly pausaReintentoMs: number;
  /** Con lotes por clave el cliente agrupa: `publicar` fuerza el `flush` tras encolar los envíos. */
  readonly conLotes: boolean;
  /**
   * El `maxPendingMessages` del productor: `publicar` nunca tiene más envíos sin confirmar que esto (parte
   * los lotes mayores), porque con `blockIfQueueFull` el cliente nativo bloquearía el hilo de JavaScript
   * (y con él el bucle de eventos) hasta que se confirmaran.
   */
  readonly mensajesPendientesMaximos: number;
}

/**
 * Un envío que el broker descartó por duplicado se confirma con el id `(-1,-1,…)` (ledger y entrada
 * -1): es la única señal que da el cliente de Node. `toString()` de un `MessageId` es
 * `(ledger,entrada,partición,índice de lote)`.
 */
export function esIdDeDuplicado(id: IdMensajePulsar): boolean {
  return /^\(-1,-1,/.test(id.toString());
}

/**
 * Publicador de Pulsar con nombre de productor fijo y `sequenceId` = la secuencia de publicación del
 * relay: la deduplicación del broker descarta una republicación tras una caída.
 *
 * Los envíos de una llamada se encolan en orden en el productor (el cliente los manda en ese orden) y se
 * espera la confirmación de todos. Si alguno falla (p. ej. `TimeOut` tras `sendTimeoutMs`) se reenvían
 * los fallidos, en orden y con la MISMA secuencia: si el broker sí lo había persistido y solo se perdió
 * la confirmación, lo descarta como duplicado y lo confirma; si no, lo persiste ahora.
 *
 * Hay un caso que ningún reintento arregla: que un envío falle y uno POSTERIOR del mismo lote se
 * confirme (el cliente falla un mensaje suelto solo por errores locales, p. ej. un mensaje demasiado
 * grande). Reenviar el fallido con su secuencia, menor que la ya aceptada, lo descartaría el broker
 * en silencio; `publicar` rechaza con un error que lo dice, en vez de dar por publicado lo que no lo está.
 *
 * Las llamadas concurrentes a `publicar` se serializan: intercaladas, una secuencia menor podría
 * llegar detrás de una mayor y el broker la descartaría.
 *
 * Qué hizo el broker con cada mensaje lo dice el id de la confirmación (ver {@link esIdDeDuplicado}). Un
 * mensaje reenviado dentro de la misma llamada tras un fallo (p. ej. `TimeOut`) que vuelve duplicado
 * cuenta como aceptado: el envío anterior es el que entró (ver `ResultadoPublicacion`).
 */
export class PulsarPublicador implements Publicador {
  readonly nombreProductor: string;
  private cola: Promise<unknown> = Promise.resolve();
  private cerrado = false;
  private cierre: Promise<void> | undefined;

  constructor(
    private readonly productor: ProductorPulsar,
    nombreProductor: string,
    private readonly opciones: OpcionesPulsarPublicador,
    /** Referencia al cliente: mientras viva el publicador, su cliente no puede ser recolectado. */
    readonly cliente: ClientePulsar,
    private readonly alCerrar: (publicador: PulsarPublicador) => void = () => {},
  ) {
    this.nombreProductor = nombreProductor;
  }

  /** El cliente de Node no expone `getLastSequenceId()`: la marca de agua vive en PostgreSQL. */
  ultimaSecuenciaAceptada(): Promise<number | null> {
    return Promise.resolve(null);
  }

  publicar(mensajes: readonly MensajeSaliente[]): Promise<readonly ResultadoPublicacion[]> {
    const turno = this.cola.then(() => this.publicarAhora(mensajes));
    this.cola = turno.catch(() => {});
    return turno;
  }

  private async publicarAhora(mensajes: readonly MensajeSaliente[]): Promise<readonly ResultadoPublicacion[]> {
    if (this.cerrado) throw new Error(`El publicador de Pulsar "${this.nombreProductor}" está cerrado.`);
    if (mensajes.length === 0) return [];
    // Todo se valida antes de enviar nada: un lote a medias con secuencias malas no tiene arreglo.
    const secuencias = normalizarSecuenciasDeLote(mensajes.map((m) => m.secuencia as unknown));
    const salientes = mensajes.map((m, i) => aMensajePulsar(m, secuencias[i]!, this.nombreProductor));
    // En tramos de a lo sumo `mensajesPendientesMaximos`, cada uno confirmado antes del siguiente: así
    // ningún `send` encuentra la cola del productor llena.
    const tramo = this.opciones.mensajesPendientesMaximos;
    const resultados: ResultadoPublicacion[] = [];
    for (let desde = 0; desde < salientes.length; desde += tramo) {
      resultados.push(
        ...(await this.publicarTramo(salientes.slice(desde, desde + tramo), secuencias.slice(desde, desde + tramo), mensajes.length)),
      );
    }
    return resultados;
  }

  private async publicarTramo(
    salientes: readonly MensajeProductorPulsar[],
    secuencias: readonly number[],
    totalLote: number,
  ): Promise<ResultadoPublicacion[]> {
    const resultado: (ResultadoPublicacion | undefined)[] = salientes.map(() => undefined);
    let pendientes = salientes.map((_, i) => i);
    let ultimoError: unknown;
    for (let intento = 0; ; intento++) {
      const resultados = await this.enviar(pendientes.map((i) => salientes[i]!));
      pendientes.forEach((i, j) => {
        const r = resultados[j]!;
        // Tras un envío fallido (intento > 0) un duplicado es el eco del envío anterior, que sí entró.
        if (r.status === 'fulfilled') resultado[i] = intento === 0 && esIdDeDuplicado(r.value) ? 'duplicado' : 'aceptado';
      });
      const fallidos = pendientes.filter((_, j) => resultados[j]!.status === 'rejected');
      if (fallidos.length === 0) return resultado as ResultadoPublicacion[];
      ultimoError = (resultados.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;

      const primerFallido = fallidos[0]!;
      const aceptadoDespues = pendientes.find((i, j) => i > primerFallido && resultados[j]!.status === 'fulfilled');
      if (aceptadoDespues !== undefined) {
        throw new Error(
          `Pulsar confirmó la secuencia ${secuencias[aceptadoDespues]} pero no la ${secuencias[primerFallido]} ` +
            `(productor "${this.nombreProductor}"): reenviarla con su secuencia la descartaría la deduplicación ` +
            'del broker. Hay que republicarla con una secuencia nueva, mayor que la última aceptada.',
          { cause: ultimoError },
        );
      }
      if (intento >= this.opciones.reintentosEnvio || this.cerrado) break;
      pendientes = fallidos;
      await esperar(this.opciones.pausaReintentoMs * 2 ** intento);
    }
    throw new Error(
      `Pulsar no confirmó ${pendientes.length} de ${totalLote} mensajes del productor ` +
        `"${this.nombreProductor}" (secuencias ${pendientes.map((i) => secuencias[i]).join(', ')}) tras ` +
        `${this.opciones.reintentosEnvio + 1} intentos; reintentar con las mismas secuencias es seguro.`,
      { cause: ultimoError },
    );
  }

  private async enviar(mensajes: readonly MensajeProductorPulsar[]): Promise<PromiseSettledResult<IdMensajePulsar>[]> {
    // Todos los `send` se encolan antes de esperar ninguno: el cliente los manda en este orden.
    const envios = mensajes.map((m) => this.productor.send(m));
    if (this.opciones.conLotes) await this.productor.flush().catch(() => null);
    return Promise.allSettled(envios);
  }

  cerrar(): Promise<void> {
    this.cierre ??= (async () => {
      this.cerrado = true;
      await this.cola;
      try {
        await this.productor.close();
      } finally {
        this.alCerrar(this);
      }
    })();
    return this.cierre;
  }
}

function esperar(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolver) => setTimeout(resolver, ms)) : Promise.resolve();
}
