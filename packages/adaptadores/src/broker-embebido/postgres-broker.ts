/**
 * # Broker embebido sobre PostgreSQL (escrito a mano)
 *
 * Por qué escrito a mano y no graphile-worker ni pg-boss, con lo medido al elegir: decisión 0007
 * (docs/decisiones/0007-broker-embebido-sobre-postgresql.md).
 *
 * ## Diseño
 *
 * - Esquema `broker` propio con su Migrator de kysely (`migrationTableSchema: 'broker'`), migrado en
 *   `crearBroker` bajo un cerrojo de sesión (varios procesos pueden arrancar a la vez).
 * - `broker.productores (topico, productor, ultima_secuencia)`: la marca de agua de deduplicación. Un
 *   lote se publica en UNA sentencia que bloquea la fila del productor, descarta lo que no supera la
 *   marca (y lo da por publicado, como Pulsar), encola el resto y sube la marca: atómico.
 * - `broker.suscripciones`: una suscripción recibe lo publicado desde que existe (semántica de Pulsar:
 *   empieza en el último mensaje). Lo publicado cuando un tópico no tiene suscripciones se descarta.
 *   Para no perder nada en el primer arranque, crea las suscripciones antes de publicar (opción
 *   `suscripciones` de `crearBrokerEmbebido`, que el relay también puede pasar).
 * - `broker.mensajes`: una fila por (mensaje, suscripción) — el reparto copia al publicar. Se BORRA al
 *   confirmarse, así que la tabla solo tiene lo pendiente; vacuum agresivo y fillfactor 70.
 * - Reclamo en lotes con `FOR UPDATE SKIP LOCKED`, solo de la cabeza de cada clave (ningún mensaje
 *   anterior de su clave sigue en la suscripción, ni con lease ni esperando reentrega): orden por clave
 *   estricto incluso con rechazos, y nunca dos mensajes de una clave en manos de consumidores.
 * - Al menos una vez con LEASES: reclamar pone `visible_desde = now() + lease` y `consumidor`; un
 *   latido los renueva mientras el proceso vive; si muere (SIGKILL), vuelven a ser visibles en
 *   `leaseMs` (5 s por defecto). Confirmar, rechazar y renovar van cercados por `consumidor`: un
 *   consumidor que perdió el lease no borra lo que ya tiene otro. La renovación dice qué ya no es suyo
 *   y el consumidor aborta la señal (`MensajeEntrante.senal`) de esa entrega: la aplicación deja de
 *   trabajar en ella, y confirmarla o rechazarla no hace nada (se cuenta).
 * - Rechazo: reentrega tras el retraso (backoff exponencial desde `retrasoReentregaMs`, con tope) con
 *   `entregas` + 1; tras `maximoEntregas` entregas (por rechazos o por leases vencidos de consumidores
 *   que caen) pasa a `broker.muertos` con el motivo, y lo que sigue de la clave fluye.
 * - Despertares por LISTEN/NOTIFY (solo una pista: se pierde tras PgBouncer) con sondeo de respaldo.
 * - Rendimiento: publicar, reclamar, confirmar y renovar son una sentencia preparada por lote; las
 *   confirmaciones concurrentes se agrupan (una DELETE en vuelo por suscripción); búfer de prefetch.
 *   Las sentencias del lado consumidor se confirman con `synchronous_commit = off` (solo en su propia
 *   transacción): perder una en una caída de PostgreSQL solo provoca una reentrega, que el inbox
 *   absorbe. Publicar es síncrono: lo que el broker confirma al relay es durable.
 *   Cifras: decisión 0007.
 * - El orden por clave es el de inserción (id), que coincide con el de publicación para los mensajes
 *   de un mismo productor (su fila serializa sus lotes). Dos productores distintos que publican la
 *   misma clave a la vez no tienen orden entre sí (como en Pulsar).
 * - Inyección de fallos `duplicarEntregas`: cada mensaje aceptado se encola dos veces, como dos
 *   mensajes distintos (duplicados de reentrega del broker), y se cuenta.
 */
import type { Broker, MensajeEntrante, OpcionesSuscripcion, Publicador, Suscripcion } from '@aeropartners/aplicacion';
import { migrarBroker } from './migraciones-broker.js';
import type { ClientePostgres, PoolPostgres } from '../postgres/pool-postgres.js';
import { PostgresPublicador, type ContadoresBroker } from './postgres-publicador.js';
import { PostgresSuscripcion, filaAMensaje } from './postgres-suscripcion.js';
import { CANAL_AVISOS, SQL_MUERTOS, SQL_REGISTRAR_SUSCRIPCION } from './sql-broker.js';

export interface OpcionesPostgresBroker {
  readonly pool: PoolPostgres;
  /** Nombre del tópico: aísla productores, suscripciones y mensajes dentro del esquema `broker`. */
  readonly topico: string;
  /** Lease de lo reclamado (visibility timeout), en ms. Por defecto 5 000. */
  readonly leaseMs?: number;
  /** Mensajes por reclamo (una sentencia). Por defecto 200. */
  readonly lote?: number;
  /** Búfer de prefetch de cada consumidor. Por defecto 2 × `lote`. */
  readonly prefetch?: number;
  /** Sondeo de respaldo, en ms. Por defecto 500. */
  readonly intervaloSondeoMs?: number;
  /** Tope del backoff de reentrega tras rechazar sin retraso explícito. Por defecto 60 000. */
  readonly retrasoMaximoMs?: number;
  /** LISTEN/NOTIFY para despertar al instante. Por defecto `true`; `false` tras PgBouncer (modo transacción). */
  readonly escuchar?: boolean;
  /** Inyección de fallos: cada mensaje aceptado se encola dos veces (dos mensajes distintos). */
  readonly duplicarEntregas?: boolean;
  /** Suscripciones que se crean al arrancar (antes de publicar nada), para no perder lo primero. */
  readonly suscripciones?: readonly string[];
  /** Fallos de fondo (reclamo, latido, LISTEN). Por defecto, una línea en stderr. */
  readonly alError?: (error: Error) => void;
  /** Si el broker es dueño del pool, lo cierra en `cerrar()`. */
  readonly cerrarPool?: boolean;
}

export class PostgresBroker implements Broker {
  /** Contadores de este proceso: publicados, descartados por deduplicación, duplicados inyectados. */
  readonly contadores: ContadoresBroker = {
    publicados: 0,
    descartadosPorDuplicado: 0,
    duplicadosInyectados: 0,
    leasesPerdidos: 0,
    operacionesSinLease: 0,
  };
  private readonly abiertas = new Set<PostgresSuscripcion>();
  private readonly publicadores = new Set<Publicador>();
  private readonly idsSuscripcion = new Map<string, number>();
  private escucha: { readonly cliente: ClientePostgres; readonly soltar: (error?: Error) => void } | undefined;
  private reconexion: ReturnType<typeof setTimeout> | undefined;
  private cerrado = false;
  private cierre: Promise<void> | undefined;
  private readonly leaseMs: number;
  private readonly lote: number;
  private readonly prefetch: number;
  private readonly intervaloSondeoMs: number;
  private readonly retrasoMaximoMs: number;
  private readonly alError: (error: Error) => void;

  private constructor(private readonly opciones: OpcionesPostgresBroker) {
    this.leaseMs = entero('leaseMs', opciones.leaseMs ?? 5_000, 100);
    this.lote = entero('lote', opciones.lote ?? 200, 1);
    this.prefetch = entero('prefetch', opciones.prefetch ?? 2 * this.lote, 1);
    this.intervaloSondeoMs = entero('intervaloSondeoMs', opciones.intervaloSondeoMs ?? 500, 10);
    this.retrasoMaximoMs = entero('retrasoMaximoMs', opciones.retrasoMaximoMs ?? 60_000, 0);
    this.alError = opciones.alError ?? errorAStderr;
    if (opciones.topico.length === 0) throw new Error('El tópico del broker embebido no puede estar vacío');
  }

  /** Migra el esquema `broker`, crea las suscripciones pedidas y empieza a escuchar avisos. */
  static async crear(opciones: OpcionesPostgresBroker): Promise<PostgresBroker> {
    const broker = new PostgresBroker(opciones);
    await migrarBroker(opciones.pool);
    for (const s of opciones.suscripciones ?? []) await broker.idDeSuscripcion(s);
    if (opciones.escuchar ?? true) await broker.escucharAvisos();
    return broker;
  }

  get topico(): string {
    return this.opciones.topico;
  }

  async crearPublicador(nombreProductor: string): Promise<Publicador> {
    this.comprobarAbierto();
    const p = await PostgresPublicador.crear(
      this.opciones.pool,
      this.opciones.topico,
      nombreProductor,
      this.opciones.duplicarEntregas ?? false,
      this.contadores,
    );
    this.publicadores.add(p);
    return p;
  }

  async suscribir(opciones: OpcionesSuscripcion): Promise<Suscripcion> {
    this.comprobarAbierto();
    entero('maximoEntregas', opciones.maximoEntregas, 1);
    if (!(opciones.retrasoReentregaMs >= 0)) throw new RangeError(`retrasoReentregaMs debe ser ≥ 0: ${opciones.retrasoReentregaMs}`);
    const idSuscripcion = await this.idDeSuscripcion(opciones.suscripcion);
    const s = new PostgresSuscripcion({
      pool: this.opciones.pool,
      topico: this.opciones.topico,
      idSuscripcion,
      opciones,
      leaseMs: this.leaseMs,
      lote: this.lote,
      prefetch: this.prefetch,
      intervaloSondeoMs: this.intervaloSondeoMs,
      retrasoMaximoMs: this.retrasoMaximoMs,
      alError: this.alError,
      contadores: this.contadores,
      alCerrar: (x) => this.abiertas.delete(x),
    });
    this.abiertas.add(s);
    return s;
  }

  async mensajesMuertos(suscripcion: string): Promise<readonly { readonly mensaje: MensajeEntrante; readonly motivo: string }[]> {
    const { rows } = await this.opciones.pool.query(SQL_MUERTOS, [this.opciones.topico, suscripcion]);
    return rows.map((f) => ({ mensaje: filaAMensaje(f), motivo: String(f['motivo']) }));
  }

  /** Mensajes pendientes de una suscripción (en cola, con lease o esperando reentrega). */
  async pendientes(suscripcion: string): Promise<number> {
    const { rows } = await this.opciones.pool.query(
      `SELECT count(*)::int AS n FROM broker.mensajes m JOIN broker.suscripciones s ON s.id = m.id_suscripcion
       WHERE s.topico = $1 AND s.nombre = $2`,
      [this.opciones.topico, suscripcion],
    );
    return Number(rows[0]?.['n'] ?? 0);
  }

  /** Disponibilidad (para `/health/ready`): abierto y su esquema responde en menos de `tiempoMs`. */
  async comprobarSalud(tiempoMs = 2000): Promise<boolean> {
    if (this.cerrado) return false;
    let temporizador: ReturnType<typeof setTimeout> | undefined;
    try {
      const limite = new Promise<never>((_, rechazar) => {
        temporizador = setTimeout(() => rechazar(new Error('tiempo agotado')), tiempoMs);
      });
      await Promise.race([this.opciones.pool.query('SELECT 1 FROM broker.suscripciones LIMIT 1'), limite]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(temporizador);
    }
  }

  /** Cierra las suscripciones (devolviendo lo que tenían), los publicadores, la escucha y, si es suyo, el pool. */
  cerrar(): Promise<void> {
    this.cierre ??= this.cerrarUnaVez();
    return this.cierre;
  }

  private async cerrarUnaVez(): Promise<void> {
    this.cerrado = true;
    clearTimeout(this.reconexion);
    await Promise.all([...this.abiertas].map((s) => s.cerrar()));
    await Promise.all([...this.publicadores].map((p) => p.cerrar()));
    const escucha = this.escucha;
    if (escucha) {
      await escucha.cliente.query(`UNLISTEN ${CANAL_AVISOS}`).catch(() => undefined);
      escucha.soltar();
    }
    if (this.opciones.cerrarPool) await this.opciones.pool.end();
  }

  private async idDeSuscripcion(nombre: string): Promise<number> {
    const conocido = this.idsSuscripcion.get(nombre);
    if (conocido !== undefined) return conocido;
    if (nombre.length === 0) throw new Error('El nombre de la suscripción no puede estar vacío');
    // Si otro proceso la crea a la vez, ON CONFLICT no devuelve fila y la instantánea aún no la ve:
    // un segundo intento la encuentra.
    for (let intento = 0; intento < 3; intento++) {
      const { rows } = await this.opciones.pool.query(SQL_REGISTRAR_SUSCRIPCION, [this.opciones.topico, nombre]);
      const id = rows[0]?.['id'];
      if (id !== undefined) {
        this.idsSuscripcion.set(nombre, Number(id));
        return Number(id);
      }
    }
    throw new Error(`No se pudo registrar la suscripción ${nombre} del tópico ${this.opciones.topico}`);
  }

  private async escucharAvisos(): Promise<void> {
    const cliente = await this.opciones.pool.connect();
    const alAviso = (aviso: { readonly channel: string; readonly payload?: string | undefined }) => {
      if (aviso.channel !== CANAL_AVISOS || aviso.payload !== this.opciones.topico) return;
      for (const s of this.abiertas) s.avisar();
    };
    const alFallo = (e: Error) => {
      // La conexión se rompió: el sondeo cubre el hueco mientras reconectamos.
      this.alError(new Error('Broker embebido: se perdió la conexión de LISTEN; se reconecta', { cause: e }));
      soltar(e);
      this.reconectarEscucha();
    };
    let suelto = false;
    const soltar = (error?: Error) => {
      if (suelto) return;
      suelto = true;
      cliente.removeListener('notification', alAviso);
      cliente.removeListener('error', alFallo);
      if (this.escucha?.cliente === cliente) this.escucha = undefined;
      cliente.release(error);
    };
    cliente.on('notification', alAviso);
    cliente.on('error', alFallo);
    try {
      await cliente.query(`LISTEN ${CANAL_AVISOS}`);
    } catch (e) {
      soltar(e instanceof Error ? e : new Error(String(e)));
      throw new Error('Broker embebido: no se pudo escuchar avisos (LISTEN)', { cause: e });
    }
    if (this.cerrado) {
      await cliente.query(`UNLISTEN ${CANAL_AVISOS}`).catch(() => undefined);
      soltar();
      return;
    }
    this.escucha = { cliente, soltar };
  }

  private reconectarEscucha(): void {
    if (this.cerrado) return;
    this.reconexion = setTimeout(
      () => {
        this.escucharAvisos().then(
          () => {
            for (const s of this.abiertas) s.avisar();
          },
          (e: unknown) => {
            this.alError(e instanceof Error ? e : new Error(String(e)));
            this.reconectarEscucha();
          },
        );
      },
      Math.max(1_000, this.intervaloSondeoMs),
    );
    this.reconexion.unref();
  }

  private comprobarAbierto(): void {
    if (this.cerrado) throw new Error('El broker embebido está cerrado');
  }
}

/** Por defecto los fallos de fondo se escriben en una línea de stderr (mensaje y causa, sin volcar objetos). */
export function errorAStderr(e: Error): void {
  const causa = e.cause instanceof Error ? `: ${e.cause.message}` : e.cause === undefined ? '' : `: ${String(e.cause)}`;
  console.error(`[broker-embebido] ${e.message}${causa}`);
}

function entero(nombre: string, valor: number, minimo: number): number {
  if (!Number.isSafeInteger(valor) || valor < minimo) throw new RangeError(`${nombre} debe ser un entero ≥ ${minimo} (recibido: ${valor})`);
  return valor;
}
