import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  arrancarProceso,
  consultarEstado,
  dormir,
  esperarQue,
  esperarSinProcesos,
  pidVivo,
  puertoLibre,
  type ProcesoHijo,
} from '@aeropartners/procesos';
import type { InstanciaAnotada, NombreServicio, Procesos } from '@aeropartners/procesos/supervisor';

/**
 * La topología local de `pnpm start` (el supervisor de `@aeropartners/procesos`): la adopta si ya está en
 * marcha (su `.data/procesos.json` apunta a un supervisor vivo) o la arranca con su propio PostgreSQL y
 * su propio fichero de procesos. Sabe qué instancia es cuál (pids y puertos del fichero del supervisor),
 * quién es el relay líder, y cómo hacer caer cada pieza: SIGKILL a una instancia o al relay líder,
 * SIGUSR2 al supervisor (reinicio rápido de PostgreSQL) y SIGKILL al postmaster (caída de verdad).
 */

export type ServicioLocal = NombreServicio;

export interface OpcionesArranque {
  /** Variables para el supervisor y los servicios (instancias, pasarela, barrendero…). */
  readonly entorno: Readonly<Record<string, string>>;
  /** Fichero donde se vuelca la salida del supervisor y de los servicios. */
  readonly registro: string;
  readonly decir: (texto: string) => void;
  /** Carpeta de su PostgreSQL y su fichero de procesos. Por defecto `.data/experimento`. */
  readonly carpeta?: string;
}

/** Lo que tardó una pieza en volver tras un fallo inyectado. */
export interface Recuperacion {
  readonly pid: number;
  readonly recuperacionMs: number;
}

export interface RelevoLider extends Recuperacion {
  /** Instancia que tenía el cerrojo y murió. */
  readonly instancia: number;
  /** Instancia en reserva que tomó el cerrojo, y cuánto tardó desde el SIGKILL. */
  readonly relevo: number;
  readonly relevoMs: number;
}

/** Clave del cerrojo consultivo del relay (RELAY_CERROJO de los servicios). */
const CERROJO_RELAY = Number(process.env['RELAY_CERROJO'] ?? 7_310_001);
const ESPERA_RECUPERACION_MS = 180_000;
const ENTORNO_QUE_NO_HEREDA = ['DATABASE_URL', 'PULSAR_URL', 'NODE_OPTIONS', 'ARCHIVO_PROCESOS', 'AEROPARTNERS_SUPERVISOR'];

/** Lo poco que se necesita de la base para saber quién es el líder (un `pg.Pool`). */
export interface ConsultorLider {
  query(texto: string, valores?: unknown[]): Promise<{ readonly rows: readonly unknown[] }>;
}

export class TopologiaLocal {
  readonly #archivo: string;
  readonly #supervisor: ProcesoHijo | undefined;

  private constructor(archivo: string, supervisor?: ProcesoHijo) {
    this.#archivo = archivo;
    this.#supervisor = supervisor;
  }

  /** ¿La arrancó el experimento? (Entonces también la para.) */
  get propia(): boolean {
    return this.#supervisor !== undefined;
  }

  static leerProcesos(archivo: string): Procesos | undefined {
    if (!existsSync(archivo)) return undefined;
    try {
      return JSON.parse(readFileSync(archivo, 'utf8')) as Procesos;
    } catch {
      return undefined; // a medio escribir no se ve nunca (rename); corrupto o de otra versión: como si no hubiera
    }
  }

  /** La topología de `pnpm start` en marcha (`.data/procesos.json` con un supervisor vivo), si la hay. */
  static adoptar(raiz: string): TopologiaLocal | undefined {
    const archivo = path.join(raiz, '.data', 'procesos.json');
    const p = TopologiaLocal.leerProcesos(archivo);
    return p && Array.isArray(p.instancias?.api) && pidVivo(p.supervisor) ? new TopologiaLocal(archivo) : undefined;
  }

  /**
   * Arranca el supervisor de `pnpm start` (sin su envoltorio, en su propio grupo de procesos) con un
   * PostgreSQL propio del experimento (carpeta nueva, puerto libre), puertos libres para los servicios y
   * su propio fichero de procesos, y espera a que todas las instancias estén listas.
   */
  static async arrancar(raiz: string, o: OpcionesArranque): Promise<TopologiaLocal> {
    const carpeta = o.carpeta ?? path.join(raiz, '.data', 'experimento');
    const datos = path.join(carpeta, 'postgres');
    const archivo = path.join(carpeta, 'procesos.json');
    mkdirSync(carpeta, { recursive: true });
    // Lo que quedara de una corrida interrumpida (procesos de PostgreSQL sobre esa carpeta) no debe escribir en la nueva.
    await esperarSinProcesos(datos, { graciaMs: 0 });
    rmSync(datos, { recursive: true, force: true });
    rmSync(archivo, { force: true });
    const entorno: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !ENTORNO_QUE_NO_HEREDA.includes(k)) entorno[k] = v;
    Object.assign(entorno, o.entorno, {
      AEROPARTNERS_SUPERVISOR: '1', // sin envoltorio: las señales van al supervisor directamente
      ARCHIVO_PROCESOS: archivo,
      PG_DATOS_EMBEBIDO: datos,
      PG_PUERTO_EMBEBIDO: String(await puertoLibre()),
      PORT: '0',
      HOST: '127.0.0.1',
      PUERTO_SALUD: '0',
      NO_COLOR: '1',
    });
    const registro = createWriteStream(o.registro);
    const supervisor = arrancarProceso({
      script: path.join(raiz, 'scripts', 'start.mjs'),
      entorno,
      cwd: raiz,
      grupoPropio: true,
      opcionesNode: [],
      alLinea: (linea) => registro.write(`${linea}\n`),
    });
    // Si el experimento muere sin parar la topología, que no quede nada vivo (SIGKILL al grupo entero).
    process.on('exit', () => supervisor.matar());
    const t = new TopologiaLocal(archivo, supervisor);
    o.decir(
      `arrancando la topología local (supervisor de pnpm start) con PostgreSQL propio en ${path.relative(raiz, datos)}; salida en ${path.relative(raiz, o.registro)}`,
    );
    await esperarQue(
      async () => {
        if (!supervisor.vivo)
          throw new Error(`el supervisor terminó al arrancar; ver ${o.registro}\n${supervisor.ultimasLineas().join('\n')}`);
        return t.procesos(false) !== undefined && (await t.todasListas());
      },
      {
        tiempoMs: ESPERA_RECUPERACION_MS,
        intervaloMs: 300,
        descripcion: 'la topología local lista',
        detalle: () => supervisor.ultimasLineas().join('\n'),
      },
    );
    return t;
  }

  procesos(): Procesos;
  procesos(obligatorio: false): Procesos | undefined;
  procesos(obligatorio = true): Procesos | undefined {
    const p = TopologiaLocal.leerProcesos(this.#archivo);
    if (!p && obligatorio) throw new Error(`no se encuentra ${this.#archivo}: ¿se paró la topología?`);
    return p;
  }

  instancias(servicio: ServicioLocal): readonly InstanciaAnotada[] {
    return this.procesos().instancias[servicio] ?? [];
  }

  get urlApi(): string {
    const puerto = this.instancias('api').find((i) => i.puerto !== null)?.puerto;
    if (!puerto) throw new Error('la API no ha anunciado su puerto');
    return `http://127.0.0.1:${puerto}`;
  }

  get databaseUrl(): string {
    return this.procesos().databaseUrl;
  }

  /** Carpeta de datos del PostgreSQL embebido (o `null` si es externo). */
  get datosPostgres(): string | null {
    return this.procesos().postgresDatos;
  }

  static async lista(instancia: InstanciaAnotada): Promise<boolean> {
    return (
      instancia.pid !== null &&
      instancia.puerto !== null &&
      (await consultarEstado(`http://127.0.0.1:${instancia.puerto}/health/ready`)) === 200
    );
  }

  /** ¿Todas las instancias de todos los servicios tienen proceso, puerto y `/health/ready` = 200? */
  async todasListas(): Promise<boolean> {
    const todas = (['api', 'outbox', 'consumer'] as const).flatMap((s) => this.instancias(s));
    if (todas.length === 0) return false;
    const estados = await Promise.all(todas.map((i) => TopologiaLocal.lista(i)));
    return estados.every(Boolean);
  }

  /** Contadores de `/health` de una instancia, con el pid del proceso que los dio (un relanzado empieza de cero). */
  async contadores(
    servicio: 'outbox' | 'consumer',
    numero: number,
  ): Promise<{ pid: number; contadores: Record<string, number> } | undefined> {
    const antes = this.instancias(servicio).find((i) => i.numero === numero);
    if (!antes?.pid || !antes.puerto) return undefined;
    try {
      const r = await fetch(`http://127.0.0.1:${antes.puerto}/health`, { signal: AbortSignal.timeout(2000) });
      const cuerpo = (await r.json()) as { contadores?: Record<string, number> };
      // El pid se relee después: si cambió entre medias, la muestra no se sabe de qué vida es.
      if (!cuerpo.contadores || this.instancias(servicio).find((i) => i.numero === numero)?.pid !== antes.pid) return undefined;
      return { pid: antes.pid, contadores: cuerpo.contadores };
    } catch {
      return undefined;
    }
  }

  /** SIGKILL a una instancia; espera a que el supervisor la relance y esté lista. */
  async matarInstancia(servicio: ServicioLocal, numero: number): Promise<Recuperacion> {
    const instancia = this.instancias(servicio).find((i) => i.numero === numero);
    if (!instancia?.pid || !pidVivo(instancia.pid)) throw new Error(`${servicio}#${numero} no está en marcha`);
    const pid = instancia.pid;
    const inicio = Date.now();
    process.kill(pid, 'SIGKILL');
    await this.#esperarRelanzada(servicio, numero, pid);
    return { pid, recuperacionMs: Date.now() - inicio };
  }

  /**
   * El relay líder: el titular de la época vigente del cerrojo (`outbox_liderazgo`, `<host>:<pid>`) si
   * el cerrojo consultivo está concedido en `pg_locks` y ese pid es una instancia viva del relay.
   */
  async liderRelay(bd: ConsultorLider): Promise<{ readonly numero: number; readonly pid: number } | undefined> {
    const { rows } = await bd.query(
      `SELECT l.titular,
              EXISTS (SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 1
                        AND ((k.classid::bigint << 32) | k.objid::bigint) = $1) AS concedido
       FROM outbox_liderazgo l WHERE l.cerrojo = $1`,
      [CERROJO_RELAY],
    );
    const fila = rows[0] as { titular: string; concedido: boolean } | undefined;
    if (!fila?.concedido) return undefined;
    const pid = Number(fila.titular.slice(fila.titular.lastIndexOf(':') + 1));
    const instancia = this.instancias('outbox').find((i) => i.pid === pid);
    return instancia && pidVivo(pid) ? { numero: instancia.numero, pid } : undefined;
  }

  /**
   * SIGKILL al relay líder con otro en reserva: espera a que un relay de reserva tome el cerrojo
   * (`relevoMs`) y a que el supervisor relance el muerto y esté listo (`recuperacionMs`).
   */
  async matarLiderRelay(bd: ConsultorLider): Promise<RelevoLider> {
    const lider = await this.liderRelay(bd);
    if (!lider) throw new Error('ningún relay tiene el cerrojo ahora mismo');
    const reserva = [];
    for (const i of this.instancias('outbox')) if (i.numero !== lider.numero && (await TopologiaLocal.lista(i))) reserva.push(i.numero);
    if (reserva.length === 0) throw new Error(`el relay líder (outbox#${lider.numero}) no tiene ninguno en reserva`);
    const inicio = Date.now();
    process.kill(lider.pid, 'SIGKILL');
    let relevo: { numero: number; pid: number } | undefined;
    await esperarQue(
      async () => {
        relevo = await this.liderRelay(bd).catch(() => undefined);
        return relevo !== undefined && relevo.pid !== lider.pid;
      },
      {
        tiempoMs: ESPERA_RECUPERACION_MS,
        intervaloMs: 100,
        descripcion: `un relay de reserva (${reserva.map((n) => `outbox#${n}`).join(', ')}) toma el cerrojo`,
      },
    );
    const relevoMs = Date.now() - inicio;
    await this.#esperarRelanzada('outbox', lider.numero, lider.pid);
    return { pid: lider.pid, instancia: lider.numero, relevo: relevo?.numero ?? 0, relevoMs, recuperacionMs: Date.now() - inicio };
  }

  /** SIGUSR2 al supervisor: parada rápida y arranque de PostgreSQL; espera a que todo vuelva a estar listo. */
  async reiniciarPostgres(): Promise<Recuperacion> {
    const antes = this.procesos();
    if (!antes.postgresEmbebido) throw new Error('el supervisor usa una DATABASE_URL externa: no puede reiniciar PostgreSQL');
    const inicio = Date.now();
    process.kill(antes.supervisor, 'SIGUSR2');
    await this.#esperarTodo((p) => p.postgresReinicios > antes.postgresReinicios, 'PostgreSQL reiniciado y los servicios listos');
    return { pid: antes.postgresPid ?? 0, recuperacionMs: Date.now() - inicio };
  }

  /**
   * SIGKILL al postmaster (una caída de verdad: recuperación tras caída al volver a arrancar); espera a
   * que el supervisor la detecte y lo recupere, y a que todo vuelva a estar listo.
   */
  async matarPostgres(): Promise<Recuperacion> {
    const antes = this.procesos();
    if (!antes.postgresEmbebido || !antes.postgresPid) throw new Error('no hay un PostgreSQL embebido en marcha que matar');
    const pid = antes.postgresPid;
    const inicio = Date.now();
    process.kill(pid, 'SIGKILL');
    await this.#esperarTodo(
      (p) => p.postgresCaidas > antes.postgresCaidas && p.postgresPid !== null && p.postgresPid !== pid,
      'PostgreSQL recuperado tras la caída y los servicios listos',
    );
    return { pid, recuperacionMs: Date.now() - inicio };
  }

  async #esperarRelanzada(servicio: ServicioLocal, numero: number, pidMuerto: number): Promise<void> {
    await esperarQue(
      async () => {
        const i = this.instancias(servicio).find((x) => x.numero === numero);
        return i !== undefined && i.pid !== null && i.pid !== pidMuerto && (await TopologiaLocal.lista(i));
      },
      { tiempoMs: ESPERA_RECUPERACION_MS, intervaloMs: 200, descripcion: `${servicio}#${numero} relanzado por el supervisor y listo` },
    );
  }

  async #esperarTodo(condicion: (p: Procesos) => boolean, descripcion: string): Promise<void> {
    await esperarQue(async () => condicion(this.procesos()) && (await this.todasListas()), {
      tiempoMs: ESPERA_RECUPERACION_MS,
      intervaloMs: 200,
      descripcion,
    });
  }

  /** Para la topología si la arrancó el experimento: SIGTERM al supervisor (parada ordenada) y SIGKILL al grupo si no sale. */
  async parar(): Promise<void> {
    if (!this.#supervisor) return;
    await this.#supervisor.parar({ graciaMs: 60_000 });
    this.#supervisor.matar(); // lo que quedara del grupo (nada, si salió en orden)
    await dormir(100);
  }
}
