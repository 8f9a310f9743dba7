import { randomUUID } from 'node:crypto';
import type { MensajeEntrante, OpcionesSuscripcion, Suscripcion } from '@aeropartners/aplicacion';
import type { PoolPostgres } from '../postgres/pool-postgres.js';
import type { ContadoresBroker } from './postgres-publicador.js';
import {
  SQL_A_MUERTOS,
  SQL_CONFIRMAR,
  SQL_LIBERAR,
  SQL_RECHAZAR,
  SQL_RECLAMAR,
  SQL_RENOVAR,
  parametrosReclamar,
  preparada,
} from './sql-broker.js';

export interface ConfiguracionSuscripcion {
  readonly pool: PoolPostgres;
  readonly topico: string;
  readonly idSuscripcion: number;
  readonly opciones: OpcionesSuscripcion;
  /** Lease (visibility timeout) de cada mensaje reclamado, en ms; se renueva mientras el proceso vive. */
  readonly leaseMs: number;
  /** Máximo de mensajes por reclamo (una sentencia). */
  readonly lote: number;
  /** Tamaño del búfer de prefetch: se repone cuando baja de la mitad. */
  readonly prefetch: number;
  /** Sondeo de respaldo cuando no llega un aviso (NOTIFY es solo una pista). */
  readonly intervaloSondeoMs: number;
  /** Tope del backoff de reentrega tras `rechazar()` sin retraso explícito. */
  readonly retrasoMaximoMs: number;
  readonly alError: (error: Error) => void;
  /** Contadores del broker: aquí se cuentan los leases perdidos y las operaciones sin efecto. */
  readonly contadores: Pick<ContadoresBroker, 'leasesPerdidos' | 'operacionesSinLease'>;
  readonly alCerrar: (s: PostgresSuscripcion) => void;
}

interface ConfirmacionPendiente {
  readonly id: string;
  readonly resolver: () => void;
  readonly rechazar: (e: Error) => void;
}

/** Retraso de la n-ésima reentrega tras un rechazo: `base · 2^(entregas-1)`, con tope. */
export function retrasoConBackoff(baseMs: number, entregas: number, maximoMs: number): number {
  return Math.min(maximoMs, Math.max(0, baseMs) * 2 ** Math.max(0, entregas - 1));
}

/**
 * Un consumidor de una suscripción compartida del broker embebido.
 *
 * - Reclama lotes (una sentencia) a un búfer de prefetch; solo reclama cabezas de clave, así que el
 *   búfer nunca tiene dos mensajes de la misma clave y la aplicación puede procesarlo en paralelo sin
 *   romper el orden por clave.
 * - Lo que tiene (búfer + entregado sin confirmar) lleva un lease que un latido renueva mientras el
 *   proceso vive: un proceso muerto (SIGKILL) deja de renovar y sus mensajes vuelven en `leaseMs`.
 * - Cada entrega lleva una señal (`senal`). Si la renovación encuentra que un mensaje ya no es suyo (el
 *   proceso se quedó parado más que el lease y otro lo reclamó), la aborta y lo olvida; confirmar,
 *   rechazar o matar esa entrega no hace nada (ya van cercados por `consumidor`) y se cuenta. Al
 *   cerrar, aborta las señales de todo lo que tenía.
 * - Las confirmaciones concurrentes se agrupan: una sola DELETE en vuelo por suscripción, y la
 *   siguiente lleva todo lo que se acumuló mientras tanto.
 * - Se despierta por aviso (NOTIFY), tras confirmar (la clave puede tener sucesor), al vencer el
 *   retraso de un rechazo y, como respaldo, por sondeo.
 */
export class PostgresSuscripcion implements Suscripcion {
  /** Identidad del consumidor en la tabla: las confirmaciones y renovaciones van cercadas por ella. */
  readonly consumidor = randomUUID();
  private readonly bufer: MensajeEntrante[] = [];
  private readonly esperas: ((m: MensajeEntrante | null) => void)[] = [];
  /** Lo que este consumidor tiene reclamado: id → instante (ms, reloj local) en que vence su lease. */
  private readonly retenidos = new Map<string, number>();
  /** Entregado a la aplicación y aún sin confirmar, rechazar ni matar. */
  private readonly entregados = new Set<string>();
  /** La señal de cada mensaje retenido (búfer y entregados). */
  private readonly senales = new Map<string, AbortController>();
  private readonly temporizadores = new Set<ReturnType<typeof setTimeout>>();
  private porConfirmar: ConfirmacionPendiente[] = [];
  private confirmando: Promise<void> | undefined;
  private reclamando: Promise<void> | undefined;
  private otraVez = false;
  private cerrada = false;
  private cierre: Promise<void> | undefined;
  private readonly sondeo: ReturnType<typeof setInterval>;
  private readonly latido: ReturnType<typeof setInterval>;

  constructor(private readonly config: ConfiguracionSuscripcion) {
    this.sondeo = setInterval(() => this.avisar(), config.intervaloSondeoMs);
    this.sondeo.unref();
    this.latido = setInterval(() => void this.renovarLeases(), Math.max(50, Math.floor(config.leaseMs / 3)));
    this.latido.unref();
    this.avisar();
  }

  get nombre(): string {
    return this.config.opciones.suscripcion;
  }

  /** Pista de que puede haber mensajes (NOTIFY, confirmación, retraso vencido, sondeo). */
  avisar(): void {
    if (this.cerrada) return;
    if (this.reclamando) {
      this.otraVez = true;
      return;
    }
    this.reclamando = this.bucleReclamo().finally(() => {
      this.reclamando = undefined;
    });
  }

  recibir(): Promise<MensajeEntrante | null> {
    if (this.cerrada) return Promise.resolve(null);
    const m = this.bufer.shift();
    if (m) {
      this.entregados.add(m.idMensaje);
      if (this.bufer.length <= this.config.prefetch / 2) this.avisar();
      return Promise.resolve(m);
    }
    return new Promise((resolver) => {
      this.esperas.push(resolver);
      this.avisar();
    });
  }

  confirmar(mensaje: MensajeEntrante): Promise<void> {
    // Tras cerrar, lo que teníamos ya volvió a la cola (y la confirmación, cercada, no aplicaría).
    if (this.cerrada || this.sinLease(mensaje)) return Promise.resolve();
    this.soltar(mensaje.idMensaje);
    return new Promise((resolver, rechazar) => {
      this.porConfirmar.push({ id: mensaje.idMensaje, resolver, rechazar });
      this.programarConfirmaciones();
    });
  }

  async rechazar(mensaje: MensajeEntrante, retrasoMs?: number): Promise<void> {
    if (this.cerrada || this.sinLease(mensaje)) return;
    this.soltar(mensaje.idMensaje);
    const { opciones } = this.config;
    const retraso = Math.max(0, retrasoMs ?? retrasoConBackoff(opciones.retrasoReentregaMs, mensaje.entregas, this.config.retrasoMaximoMs));
    const { rows } = await this.consultar('rechazar un mensaje', SQL_RECHAZAR, [
      mensaje.idMensaje,
      this.consumidor,
      opciones.maximoEntregas,
      retraso,
    ]);
    if (Number(rows[0]?.['muertos']) > 0) this.avisar();
    else this.despertarEn(retraso + 5);
  }

  async aMensajesMuertos(mensaje: MensajeEntrante, motivo: string): Promise<void> {
    if (this.cerrada || this.sinLease(mensaje)) return;
    this.soltar(mensaje.idMensaje);
    await this.consultar('mandar un mensaje a muertos', SQL_A_MUERTOS, [mensaje.idMensaje, this.consumidor, motivo]);
    this.avisar();
  }

  /**
   * Deja de recibir (los `recibir()` pendientes devuelven `null`), espera las confirmaciones en curso
   * y devuelve a la cola, visible ya para otros consumidores, todo lo que tenía sin confirmar. Lo que
   * se confirme, rechace o mate después no tiene efecto (ya volvió a la cola): para un apagado limpio,
   * deja de pedir mensajes, termina y confirma lo que tienes, y entonces cierra.
   */
  cerrar(): Promise<void> {
    this.cierre ??= this.cerrarUnaVez();
    return this.cierre;
  }

  private async cerrarUnaVez(): Promise<void> {
    this.cerrada = true;
    clearInterval(this.sondeo);
    clearInterval(this.latido);
    for (const t of this.temporizadores) clearTimeout(t);
    this.temporizadores.clear();
    for (const resolver of this.esperas.splice(0)) resolver(null);
    this.config.alCerrar(this);
    await this.reclamando;
    while (this.confirmando) await this.confirmando;
    const delBufer = this.bufer.splice(0).map((m) => m.idMensaje);
    const entregados = [...this.entregados];
    this.entregados.clear();
    this.retenidos.clear();
    // Lo entregado y sin confirmar deja de ser nuestro: quien lo maneja debe saberlo.
    for (const senal of this.senales.values()) senal.abort();
    this.senales.clear();
    if (delBufer.length + entregados.length === 0) return;
    try {
      await this.config.pool.query(SQL_LIBERAR, [entregados, delBufer, this.consumidor, this.config.topico]);
    } catch (e) {
      // Sin liberar, los leases vencen solos: se reentregan en `leaseMs`.
      this.config.alError(
        new Error(`Broker embebido: no se pudieron liberar ${delBufer.length + entregados.length} mensajes al cerrar ${this.nombre}`, {
          cause: e,
        }),
      );
    }
  }

  private async bucleReclamo(): Promise<void> {
    for (;;) {
      this.otraVez = false;
      const { prefetch, lote } = this.config;
      if (this.cerrada) return;
      if (this.bufer.length > prefetch / 2 && this.esperas.length === 0) return;
      const cuantos = Math.min(lote, prefetch - this.bufer.length);
      if (cuantos <= 0) return;
      const antes = Date.now();
      let filas: Record<string, unknown>[];
      try {
        // Sin nombre a propósito: se planifica en cada reclamo con el tamaño actual de la cola (ver SQL_RECLAMAR).
        const r = await this.config.pool.query(
          SQL_RECLAMAR,
          parametrosReclamar({
            idSuscripcion: this.config.idSuscripcion,
            lote: cuantos,
            consumidor: this.consumidor,
            leaseMs: this.config.leaseMs,
            maximoEntregas: this.config.opciones.maximoEntregas,
          }),
        );
        filas = r.rows;
      } catch (e) {
        this.config.alError(new Error(`Broker embebido: falló el reclamo de mensajes de ${this.nombre}; se reintenta`, { cause: e }));
        this.despertarEn(this.config.intervaloSondeoMs);
        return;
      }
      let reclamados = 0;
      let muertos = 0;
      for (const f of filas) {
        if (f['muerto'] === true) {
          muertos += 1;
          continue;
        }
        reclamados += 1;
        const senal = new AbortController();
        const m = filaAMensaje(f, senal.signal);
        this.senales.set(m.idMensaje, senal);
        this.retenidos.set(m.idMensaje, antes + this.config.leaseMs);
        const espera = this.cerrada ? undefined : this.esperas.shift();
        if (espera) {
          this.entregados.add(m.idMensaje);
          espera(m);
        } else {
          this.bufer.push(m);
        }
      }
      // Lote lleno (puede haber más), cabezas muertas (su sucesor es cabeza ahora) o un aviso mientras
      // reclamábamos: otra vuelta. Si no, esperamos al siguiente aviso.
      if (!(reclamados === cuantos || muertos > 0 || this.otraVez)) return;
    }
  }

  private programarConfirmaciones(): void {
    if (this.confirmando) return;
    this.confirmando = (async () => {
      // Un turno del bucle de eventos para juntar las confirmaciones que llegan a la vez.
      await new Promise<void>((r) => setImmediate(r));
      while (this.porConfirmar.length > 0) {
        const grupo = this.porConfirmar;
        this.porConfirmar = [];
        try {
          await this.config.pool.query(preparada('broker_confirmar', SQL_CONFIRMAR, [grupo.map((c) => c.id), this.consumidor]));
          for (const c of grupo) c.resolver();
        } catch (e) {
          const error = new Error(`Broker embebido: no se pudieron confirmar ${grupo.length} mensajes de ${this.nombre}`, { cause: e });
          for (const c of grupo) c.rechazar(error);
        }
      }
    })().finally(() => {
      this.confirmando = undefined;
      if (this.porConfirmar.length > 0) this.programarConfirmaciones();
      // Lo confirmado pudo ser la cabeza de una clave con sucesores: ahora son reclamables.
      this.avisar();
    });
  }

  private async renovarLeases(): Promise<void> {
    if (this.cerrada || this.retenidos.size === 0) return;
    const ahora = Date.now();
    const { leaseMs } = this.config;
    const ids: string[] = [];
    for (const [id, vence] of this.retenidos) if (vence - ahora < (leaseMs * 2) / 3) ids.push(id);
    if (ids.length === 0) return;
    let renovados: Set<string>;
    try {
      const { rows } = await this.config.pool.query(preparada('broker_renovar_v2', SQL_RENOVAR, [ids, this.consumidor, leaseMs]));
      renovados = new Set(rows.map((f) => String(f['id'])));
    } catch (e) {
      // Sin respuesta no se sabe: se reintenta en el siguiente latido (el lease aún puede estar vigente).
      this.config.alError(new Error(`Broker embebido: no se pudieron renovar ${ids.length} leases de ${this.nombre}`, { cause: e }));
      return;
    }
    for (const id of ids) {
      // Lo soltado mientras tanto (confirmado, rechazado) ya no cuenta.
      if (!this.retenidos.has(id)) continue;
      if (renovados.has(id)) this.retenidos.set(id, ahora + leaseMs);
      else this.perder(id);
    }
  }

  /** El lease de `id` venció y otro lo reclamó: aborta su señal y lo olvida (también del búfer). */
  private perder(id: string): void {
    this.config.contadores.leasesPerdidos += 1;
    this.senales.get(id)?.abort();
    this.soltar(id);
    const enBufer = this.bufer.findIndex((m) => m.idMensaje === id);
    if (enBufer >= 0) this.bufer.splice(enBufer, 1);
  }

  /** ¿Es una entrega que ya perdimos? Entonces la operación no hace nada, y se cuenta. */
  private sinLease(mensaje: MensajeEntrante): boolean {
    if (!mensaje.senal?.aborted) return false;
    this.config.contadores.operacionesSinLease += 1;
    return true;
  }

  private soltar(id: string): void {
    this.entregados.delete(id);
    this.retenidos.delete(id);
    this.senales.delete(id);
  }

  private despertarEn(ms: number): void {
    if (this.cerrada) return;
    const t = setTimeout(() => {
      this.temporizadores.delete(t);
      this.avisar();
    }, ms);
    t.unref();
    this.temporizadores.add(t);
  }

  private async consultar(que: string, texto: string, valores: unknown[]) {
    try {
      return await this.config.pool.query(texto, valores);
    } catch (e) {
      throw new Error(`Broker embebido: no se pudo ${que} (${this.nombre})`, { cause: e });
    }
  }
}

/** Una fila de `SQL_RECLAMAR` (o de la cola) como mensaje entrante. */
export function filaAMensaje(f: Record<string, unknown>, senal?: AbortSignal): MensajeEntrante {
  return {
    idMensaje: String(f['id']),
    clave: String(f['clave']),
    cuerpo: String(f['cuerpo']),
    propiedades: f['propiedades'] as Record<string, string>,
    entregas: Number(f['entregas']),
    productor: String(f['productor']),
    secuencia: Number(f['secuencia']),
    ...(senal ? { senal } : {}),
  };
}
