import {
  LiderazgoPerdido,
  type AlmacenOutbox,
  type CercaLiderazgo,
  type EstadoProductor,
  type FilaOutbox,
} from '../outbox/puertos-outbox.js';

/** Una fila del outbox en memoria, con su estado de publicación (para que los tests lo inspeccionen). */
export interface FilaAlmacenOutbox {
  readonly id: string;
  readonly idEvento: string;
  readonly idAgregado: string;
  readonly versionAgregado: number;
  readonly tipo: string;
  readonly payload: unknown;
  readonly metadatos: {
    readonly id_correlacion: string;
    readonly traceparent?: string | undefined;
    readonly id_solicitud?: string | undefined;
  };
  secuencia: number | null;
  productor: string | null;
  publicada: boolean;
  intentos: number;
  ultimoError: string | null;
}

/**
 * El outbox en memoria con la semántica del adaptador de PostgreSQL: numera al reclamar (secuencia
 * estrictamente creciente por productor), devuelve primero lo ya numerado y sin marcar, y cerca las
 * operaciones con la época de liderazgo de cada cerrojo (`ganarLiderazgo` la incrementa, como un relay
 * que gana el cerrojo consultivo).
 */
export class AlmacenOutboxEnMemoria implements AlmacenOutbox {
  readonly filas: FilaAlmacenOutbox[] = [];
  private readonly productores = new Map<string, { ultima: number; alarma: string | null }>();
  private readonly epocas = new Map<number, number>();
  private siguienteId = 1;

  /** Añade `n` filas: el evento i es del pago `pago-(i mod pagos)`. Devuelve las filas añadidas. */
  agregar(n: number, pagos = 3): FilaAlmacenOutbox[] {
    const nuevas = Array.from({ length: n }, () => {
      const id = this.siguienteId++;
      return {
        id: String(id),
        idEvento: `00000000-0000-7000-8000-${String(id).padStart(12, '0')}`,
        idAgregado: `pago-${(id - 1) % pagos}`,
        versionAgregado: Math.floor((id - 1) / pagos) + 1,
        tipo: 'PagoPendiente',
        payload: { i: id },
        metadatos: { id_correlacion: `corr-${id}` },
        secuencia: null,
        productor: null,
        publicada: false,
        intentos: 0,
        ultimoError: null,
      };
    });
    this.filas.push(...nuevas);
    return nuevas;
  }

  /** Un relay gana el cerrojo: la época del cerrojo sube y la anterior deja de valer. */
  ganarLiderazgo(cerrojo = 1): CercaLiderazgo {
    const epoca = (this.epocas.get(cerrojo) ?? 0) + 1;
    this.epocas.set(cerrojo, epoca);
    return { cerrojo, epoca };
  }

  /** Fija la secuencia de un productor (p. ej. para simular una base restaurada desde una copia). */
  fijarSecuencia(productor: string, ultima: number): void {
    this.productor(productor).ultima = ultima;
  }

  async reclamar(productor: string, limite: number, cerca: CercaLiderazgo): Promise<readonly FilaOutbox[]> {
    this.comprobarCerca(cerca);
    const ya = this.filas
      .filter((f) => !f.publicada && f.secuencia !== null && f.productor === productor)
      .sort((a, b) => a.secuencia! - b.secuencia!)
      .slice(0, limite);
    const nuevas = this.filas.filter((f) => !f.publicada && f.secuencia === null).slice(0, Math.max(0, limite - ya.length));
    const estado = this.productor(productor);
    for (const f of nuevas) {
      f.secuencia = ++estado.ultima;
      f.productor = productor;
    }
    return [...ya.map((f) => aFila(f, true)), ...nuevas.map((f) => aFila(f, false))];
  }

  async marcarPublicadas(ids: readonly string[], cerca: CercaLiderazgo): Promise<void> {
    this.comprobarCerca(cerca);
    for (const f of this.filas) if (ids.includes(f.id)) f.publicada = true;
  }

  async registrarFallo(ids: readonly string[], error: string): Promise<void> {
    for (const f of this.filas) {
      if (!ids.includes(f.id)) continue;
      f.intentos += 1;
      f.ultimoError = error;
    }
  }

  async renumerarHuerfanas(productor: string, cerca: CercaLiderazgo): Promise<number> {
    this.comprobarCerca(cerca);
    const huerfanas = this.filas.filter((f) => !f.publicada && f.secuencia !== null && f.productor !== productor);
    const estado = this.productor(productor);
    for (const f of huerfanas) {
      f.secuencia = ++estado.ultima;
      f.productor = productor;
    }
    return huerfanas.length;
  }

  async estadoProductor(productor: string): Promise<EstadoProductor> {
    const estado = this.productores.get(productor);
    return { ultimaSecuencia: estado ? estado.ultima : null, alarma: estado?.alarma ?? null };
  }

  async registrarAlarma(productor: string, motivo: string, cerca: CercaLiderazgo): Promise<void> {
    this.comprobarCerca(cerca);
    this.productor(productor).alarma = motivo;
  }

  private productor(nombre: string) {
    let estado = this.productores.get(nombre);
    if (!estado) {
      estado = { ultima: 0, alarma: null };
      this.productores.set(nombre, estado);
    }
    return estado;
  }

  private comprobarCerca(cerca: CercaLiderazgo): void {
    if (this.epocas.get(cerca.cerrojo) !== cerca.epoca) throw new LiderazgoPerdido(cerca);
  }
}

function aFila(f: FilaAlmacenOutbox, yaNumerada: boolean): FilaOutbox {
  return {
    id: f.id,
    idEvento: f.idEvento,
    idAgregado: f.idAgregado,
    versionAgregado: f.versionAgregado,
    tipo: f.tipo,
    payload: f.payload,
    metadatos: f.metadatos,
    secuencia: f.secuencia!,
    intentos: f.intentos,
    yaNumerada,
  };
}
