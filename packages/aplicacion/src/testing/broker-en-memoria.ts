import type {
  Broker,
  MensajeEntrante,
  MensajeSaliente,
  OpcionesSuscripcion,
  Publicador,
  ResultadoPublicacion,
  Suscripcion,
} from '../mensajeria/puertos-broker.js';

export interface OpcionesBrokerEnMemoria {
  /** Inyección de fallos: cada mensaje aceptado se encola dos veces, como dos mensajes distintos. */
  readonly duplicarEntregas?: boolean;
  /** Tope del backoff de reentrega tras `rechazar()` sin retraso explícito. Por defecto 60 s. */
  readonly retrasoMaximoMs?: number;
}

/** Un mensaje aceptado por el broker (tras deduplicar), en orden de aceptación. */
export interface MensajePublicadoEnMemoria extends MensajeSaliente {
  readonly productor: string;
}

interface Entrada {
  readonly id: number;
  readonly publicado: MensajePublicadoEnMemoria;
  entregas: number;
  disponibleEn: number;
  titular: SuscripcionEnMemoria | null;
  /** La señal de la entrega en curso: se aborta si el titular pierde el mensaje (lease vencido, cierre). */
  controlador: AbortController | null;
}

interface EstadoSuscripcion {
  /** En orden de publicación (id creciente). */
  cola: Entrada[];
  readonly muertos: { readonly mensaje: MensajeEntrante; readonly motivo: string }[];
  readonly consumidores: Set<SuscripcionEnMemoria>;
  despertador?: ReturnType<typeof setTimeout>;
  despertarEn?: number;
}

/**
 * Broker en memoria con la semántica del puerto, para probar manejadores sin infraestructura:
 * deduplicación por (productor, secuencia), reparto a cada suscripción existente al publicar (una
 * suscripción nueva empieza en el último mensaje, como en Pulsar), orden estricto por clave dentro de
 * cada suscripción (nunca entrega un mensaje mientras otro anterior de su clave siga pendiente, ni
 * siquiera si fue rechazado), reentrega con backoff tras `rechazar()` o al cerrar el consumidor que lo
 * tenía, y mensajes muertos tras `maximoEntregas`. Un consumidor "cae" con `cerrar()`. El lease es
 * simulado: no vence solo, lo hace vencer el test con {@link BrokerEnMemoria.vencerLeases}; entonces la
 * señal de esa entrega se aborta y confirmar, rechazar o matar con ella no tiene efecto (y se cuenta).
 */
export class BrokerEnMemoria implements Broker {
  /** Todo lo aceptado, en orden (sin los duplicados descartados). Útil para probar el relay. */
  readonly publicados: MensajePublicadoEnMemoria[] = [];
  /** Mensajes descartados por la deduplicación de productor. */
  descartadosPorDuplicado = 0;
  /** Copias extra encoladas por `duplicarEntregas`. */
  duplicadosInyectados = 0;
  /** Confirmaciones, rechazos y envíos a muertos de una entrega que ya no era del consumidor (sin efecto). */
  operacionesSinLease = 0;

  private readonly suscripciones = new Map<string, EstadoSuscripcion>();
  private readonly ultimaSecuencia = new Map<string, number>();
  private readonly abiertas = new Set<SuscripcionEnMemoria>();
  private siguienteId = 1;
  private cerrado = false;

  constructor(private readonly opciones: OpcionesBrokerEnMemoria = {}) {}

  async crearPublicador(nombreProductor: string): Promise<Publicador> {
    this.comprobarAbierto();
    let cerrado = false;
    return {
      nombreProductor,
      ultimaSecuenciaAceptada: async () => this.ultimaSecuencia.get(nombreProductor) ?? null,
      publicar: async (mensajes) => {
        if (cerrado) throw new Error(`El publicador ${nombreProductor} está cerrado`);
        this.comprobarAbierto();
        return this.aceptar(nombreProductor, mensajes);
      },
      cerrar: async () => {
        cerrado = true;
      },
    };
  }

  async suscribir(opciones: OpcionesSuscripcion): Promise<Suscripcion> {
    this.comprobarAbierto();
    if (!Number.isInteger(opciones.maximoEntregas) || opciones.maximoEntregas < 1) {
      throw new Error(`maximoEntregas debe ser un entero ≥ 1: ${opciones.maximoEntregas}`);
    }
    const estado = this.estadoDe(opciones.suscripcion);
    const s = new SuscripcionEnMemoria(this, estado, opciones, this.opciones.retrasoMaximoMs ?? 60_000);
    estado.consumidores.add(s);
    this.abiertas.add(s);
    return s;
  }

  async mensajesMuertos(suscripcion: string) {
    return [...(this.suscripciones.get(suscripcion)?.muertos ?? [])];
  }

  /**
   * Hace vencer ya el lease de todo lo que los consumidores de `suscripcion` tienen sin confirmar, como
   * si se hubieran quedado parados más allá de su lease: sus señales se abortan y los mensajes vuelven a
   * la cola para el primero que los pida.
   */
  vencerLeases(suscripcion: string): void {
    const estado = this.suscripciones.get(suscripcion);
    if (!estado) return;
    for (const entrada of estado.cola) if (entrada.titular !== null) soltarEntrada(entrada);
    this.despachar(estado);
  }

  /** Mensajes de una suscripción aún no confirmados (en cola, rechazados o en manos de un consumidor). */
  pendientes(suscripcion: string): number {
    return this.suscripciones.get(suscripcion)?.cola.length ?? 0;
  }

  async cerrar(): Promise<void> {
    if (this.cerrado) return;
    this.cerrado = true;
    for (const s of [...this.abiertas]) await s.cerrar();
    for (const estado of this.suscripciones.values()) clearTimeout(estado.despertador);
  }

  /** @internal */
  olvidar(s: SuscripcionEnMemoria) {
    this.abiertas.delete(s);
  }

  /** @internal Entrega lo disponible a los consumidores que esperan y programa el próximo despertar. */
  despachar(estado: EstadoSuscripcion) {
    const ahora = Date.now();
    const esperando = () => [...estado.consumidores].filter((c) => c.esperando());
    let proximo = Number.POSITIVE_INFINITY;
    let consumidores = esperando();
    if (consumidores.length > 0) {
      const clavesBloqueadas = new Set<string>();
      let turno = 0;
      for (const entrada of [...estado.cola]) {
        if (consumidores.length === 0) break;
        const clave = entrada.publicado.clave;
        if (clavesBloqueadas.has(clave)) continue;
        clavesBloqueadas.add(clave);
        if (entrada.titular !== null) continue;
        if (entrada.disponibleEn > ahora) {
          proximo = Math.min(proximo, entrada.disponibleEn);
          continue;
        }
        const consumidor = consumidores[turno % consumidores.length]!;
        turno += 1;
        if (entrada.entregas >= consumidor.opciones.maximoEntregas) {
          // Entregado el máximo de veces sin confirmar (p. ej. el consumidor cayó cada vez).
          this.matar(estado, entrada, `sin confirmar tras ${entrada.entregas} entregas (máximo ${consumidor.opciones.maximoEntregas})`);
          clavesBloqueadas.delete(clave);
          continue;
        }
        entrada.entregas += 1;
        entrada.titular = consumidor;
        entrada.controlador = new AbortController();
        consumidor.entregar(entradaAMensaje(entrada));
        consumidores = esperando();
      }
    }
    if (consumidores.length === 0) {
      // Nadie espera: basta con despertar cuando alguien llame a recibir(). Pero los rechazados con
      // retraso sí necesitan un temporizador si alguien espera; se recalcula entonces.
      return;
    }
    for (const entrada of estado.cola) {
      if (entrada.titular === null && entrada.disponibleEn > ahora) proximo = Math.min(proximo, entrada.disponibleEn);
    }
    if (Number.isFinite(proximo) && (estado.despertarEn === undefined || proximo < estado.despertarEn)) {
      clearTimeout(estado.despertador);
      estado.despertarEn = proximo;
      estado.despertador = setTimeout(
        () => {
          estado.despertador = undefined;
          estado.despertarEn = undefined;
          this.despachar(estado);
        },
        Math.max(0, proximo - ahora),
      );
      estado.despertador.unref?.();
    }
  }

  /** @internal */
  matar(estado: EstadoSuscripcion, entrada: Entrada, motivo: string) {
    estado.cola = estado.cola.filter((e) => e !== entrada);
    estado.muertos.push({ mensaje: entradaAMensaje(entrada), motivo });
  }

  /** @internal */
  quitar(estado: EstadoSuscripcion, entrada: Entrada) {
    estado.cola = estado.cola.filter((e) => e !== entrada);
  }

  private aceptar(productor: string, mensajes: readonly MensajeSaliente[]): ResultadoPublicacion[] {
    for (const m of mensajes) {
      if (!Number.isSafeInteger(m.secuencia) || m.secuencia < 0) throw new Error(`Secuencia inválida: ${m.secuencia}`);
    }
    let ultima = this.ultimaSecuencia.get(productor) ?? Number.NEGATIVE_INFINITY;
    const resultados: ResultadoPublicacion[] = [];
    for (const m of mensajes) {
      if (m.secuencia <= ultima) {
        this.descartadosPorDuplicado += 1;
        resultados.push('duplicado');
        continue;
      }
      resultados.push('aceptado');
      ultima = m.secuencia;
      const publicado: MensajePublicadoEnMemoria = { ...m, propiedades: { ...m.propiedades }, productor };
      this.publicados.push(publicado);
      const copias = this.opciones.duplicarEntregas ? 2 : 1;
      this.duplicadosInyectados += copias - 1;
      for (const estado of this.suscripciones.values()) {
        for (let c = 0; c < copias; c++) {
          estado.cola.push({ id: this.siguienteId++, publicado, entregas: 0, disponibleEn: 0, titular: null, controlador: null });
        }
      }
    }
    if (Number.isFinite(ultima)) this.ultimaSecuencia.set(productor, ultima);
    for (const estado of this.suscripciones.values()) this.despachar(estado);
    return resultados;
  }

  private estadoDe(nombre: string): EstadoSuscripcion {
    let estado = this.suscripciones.get(nombre);
    if (!estado) {
      estado = { cola: [], muertos: [], consumidores: new Set() };
      this.suscripciones.set(nombre, estado);
    }
    return estado;
  }

  private comprobarAbierto() {
    if (this.cerrado) throw new Error('El broker en memoria está cerrado');
  }
}

function entradaAMensaje(e: Entrada): MensajeEntrante {
  const propiedades: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.publicado.propiedades)) if (v !== undefined) propiedades[k] = v;
  return {
    idMensaje: String(e.id),
    clave: e.publicado.clave,
    cuerpo: e.publicado.cuerpo,
    propiedades,
    entregas: e.entregas,
    productor: e.publicado.productor,
    secuencia: e.publicado.secuencia,
    ...(e.controlador ? { senal: e.controlador.signal } : {}),
  };
}

/** El titular pierde la entrega: su señal se aborta y el mensaje queda libre. */
function soltarEntrada(e: Entrada): void {
  e.controlador?.abort();
  e.controlador = null;
  e.titular = null;
}

class SuscripcionEnMemoria implements Suscripcion {
  private readonly esperas: ((m: MensajeEntrante | null) => void)[] = [];
  private cerrada = false;

  constructor(
    private readonly broker: BrokerEnMemoria,
    private readonly estado: EstadoSuscripcion,
    readonly opciones: OpcionesSuscripcion,
    private readonly retrasoMaximoMs: number,
  ) {}

  esperando(): boolean {
    return !this.cerrada && this.esperas.length > 0;
  }

  entregar(m: MensajeEntrante) {
    this.esperas.shift()?.(m);
  }

  recibir(): Promise<MensajeEntrante | null> {
    if (this.cerrada) return Promise.resolve(null);
    return new Promise((resolver) => {
      this.esperas.push(resolver);
      this.broker.despachar(this.estado);
    });
  }

  async confirmar(mensaje: MensajeEntrante): Promise<void> {
    const entrada = this.mia(mensaje);
    if (!entrada) return; // Ya no es nuestro (lease vencido, o cerramos): la confirmación no cuenta.
    this.broker.quitar(this.estado, entrada);
    this.broker.despachar(this.estado);
  }

  async rechazar(mensaje: MensajeEntrante, retrasoMs?: number): Promise<void> {
    const entrada = this.mia(mensaje);
    if (!entrada) return;
    if (entrada.entregas >= this.opciones.maximoEntregas) {
      this.broker.matar(this.estado, entrada, `rechazado en ${entrada.entregas} entregas (máximo ${this.opciones.maximoEntregas})`);
    } else {
      const retraso = retrasoMs ?? backoff(this.opciones.retrasoReentregaMs, entrada.entregas, this.retrasoMaximoMs);
      entrada.titular = null;
      entrada.controlador = null;
      entrada.disponibleEn = Date.now() + retraso;
    }
    this.broker.despachar(this.estado);
  }

  async aMensajesMuertos(mensaje: MensajeEntrante, motivo: string): Promise<void> {
    const entrada = this.mia(mensaje);
    if (!entrada) return;
    this.broker.matar(this.estado, entrada, motivo);
    this.broker.despachar(this.estado);
  }

  async cerrar(): Promise<void> {
    if (this.cerrada) return;
    this.cerrada = true;
    for (const resolver of this.esperas.splice(0)) resolver(null);
    this.estado.consumidores.delete(this);
    this.broker.olvidar(this);
    // Lo que tenía sin confirmar vuelve a la cola para otro consumidor, y sus señales se abortan.
    for (const entrada of this.estado.cola) if (entrada.titular === this) soltarEntrada(entrada);
    this.broker.despachar(this.estado);
  }

  /** La entrada de esta entrega si sigue siendo nuestra (misma entrega: un lease vencido no cuenta). */
  private mia(mensaje: MensajeEntrante): Entrada | undefined {
    const entrada = this.estado.cola.find((e) => String(e.id) === mensaje.idMensaje);
    if (entrada && entrada.titular === this && entrada.entregas === mensaje.entregas) return entrada;
    if (entrada || mensaje.senal?.aborted) this.broker.operacionesSinLease += 1;
    return undefined;
  }
}

/** Retraso de la n-ésima reentrega: `base · 2^(entregas-1)`, con tope. */
export function backoff(baseMs: number, entregas: number, maximoMs: number): number {
  return Math.min(maximoMs, baseMs * 2 ** Math.max(0, entregas - 1));
}
