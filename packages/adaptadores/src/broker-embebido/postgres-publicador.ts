import type { MensajeSaliente, Publicador, ResultadoPublicacion } from '@aeropartners/aplicacion';
import type { PoolPostgres } from '../postgres/pool-postgres.js';
import { SQL_PUBLICAR, SQL_REGISTRAR_PRODUCTOR, SQL_ULTIMA_SECUENCIA, preparada } from './sql-broker.js';

/** Contadores del broker embebido en este proceso (para métricas y tests). */
export interface ContadoresBroker {
  /** Mensajes aceptados (cada uno cuenta una vez, aunque se reparta a varias suscripciones). */
  publicados: number;
  /** Mensajes descartados por la deduplicación de productor (confirmados como éxito). */
  descartadosPorDuplicado: number;
  /** Copias extra encoladas por la inyección de fallos `duplicarEntregas`. */
  duplicadosInyectados: number;
  /** Mensajes que un consumidor perdió porque su lease venció y otro los reclamó (su señal se abortó). */
  leasesPerdidos: number;
  /** Confirmaciones, rechazos o envíos a muertos de una entrega que ya no era del consumidor (sin efecto). */
  operacionesSinLease: number;
}

/**
 * Publicador del broker embebido: un lote = una sentencia (ver `SQL_PUBLICAR`). Cuando `publicar()`
 * resuelve, el lote está confirmado en PostgreSQL (durable) y la marca de agua del productor subió en
 * la misma transacción; lo que no superó la marca se descartó, y `publicar()` dice cuál (`duplicado`).
 */
export class PostgresPublicador implements Publicador {
  private cerrado = false;

  private constructor(
    private readonly pool: PoolPostgres,
    private readonly topico: string,
    readonly nombreProductor: string,
    private readonly duplicarEntregas: boolean,
    private readonly contadores: ContadoresBroker,
  ) {}

  static async crear(
    pool: PoolPostgres,
    topico: string,
    nombreProductor: string,
    duplicarEntregas: boolean,
    contadores: ContadoresBroker,
  ): Promise<PostgresPublicador> {
    if (nombreProductor.length === 0) throw new Error('El nombre del productor no puede estar vacío');
    await pool.query(SQL_REGISTRAR_PRODUCTOR, [topico, nombreProductor]);
    return new PostgresPublicador(pool, topico, nombreProductor, duplicarEntregas, contadores);
  }

  async ultimaSecuenciaAceptada(): Promise<number | null> {
    const { rows } = await this.pool.query(SQL_ULTIMA_SECUENCIA, [this.topico, this.nombreProductor]);
    const valor = rows[0]?.['ultima_secuencia'];
    return valor === null || valor === undefined ? null : Number(valor);
  }

  /** Cola de publicaciones de esta instancia: las llamadas concurrentes salen en el orden en que se hicieron. */
  private cola: Promise<unknown> = Promise.resolve();

  /**
   * Publica un lote. Las llamadas concurrentes a la misma instancia se encadenan en orden (como hace el
   * adaptador de Pulsar): si un lote con secuencias mayores adelantara a otro anterior, la deduplicación
   * descartaría el anterior en silencio.
   */
  publicar(mensajes: readonly MensajeSaliente[]): Promise<readonly ResultadoPublicacion[]> {
    const turno = this.cola.then(() => this.publicarAhora(mensajes));
    this.cola = turno.catch(() => undefined);
    return turno;
  }

  private async publicarAhora(mensajes: readonly MensajeSaliente[]): Promise<readonly ResultadoPublicacion[]> {
    if (this.cerrado) throw new Error(`El publicador ${this.nombreProductor} está cerrado`);
    if (mensajes.length === 0) return [];
    const secuencias: string[] = [];
    const claves: string[] = [];
    const cuerpos: string[] = [];
    const propiedades: string[] = [];
    for (const m of mensajes) {
      if (!Number.isSafeInteger(m.secuencia) || m.secuencia < 0) {
        throw new Error(`Secuencia inválida para ${this.nombreProductor}: ${m.secuencia} (entero ≥ 0)`);
      }
      secuencias.push(String(m.secuencia));
      claves.push(m.clave);
      cuerpos.push(m.cuerpo);
      propiedades.push(JSON.stringify(m.propiedades));
    }
    let fila: Record<string, unknown> | undefined;
    try {
      const { rows } = await this.pool.query(
        preparada('broker_publicar', SQL_PUBLICAR, [
          this.topico,
          this.nombreProductor,
          secuencias,
          claves,
          cuerpos,
          propiedades,
          this.duplicarEntregas ? 2 : 1,
        ]),
      );
      fila = rows[0];
    } catch (e) {
      throw new Error(`No se pudo publicar un lote de ${mensajes.length} mensajes (productor ${this.nombreProductor})`, { cause: e });
    }
    if (!fila || Number(fila['productor_existe']) !== 1) {
      throw new Error(`El productor ${this.nombreProductor} no está registrado en el tópico ${this.topico}`);
    }
    const aceptados = new Set(fila['ordenes_aceptados'] as number[]);
    this.contadores.publicados += aceptados.size;
    this.contadores.descartadosPorDuplicado += mensajes.length - aceptados.size;
    if (this.duplicarEntregas) this.contadores.duplicadosInyectados += aceptados.size;
    return mensajes.map((_, i) => (aceptados.has(i + 1) ? 'aceptado' : 'duplicado'));
  }

  async cerrar(): Promise<void> {
    this.cerrado = true;
  }
}
