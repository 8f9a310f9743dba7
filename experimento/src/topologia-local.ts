import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

/**
 * La topología local de `pnpm start` (scripts/start.mjs): la adopta si ya está en marcha (su
 * `.data/procesos.json` apunta a un supervisor vivo) o la arranca. Sabe matar procesos por su pid y
 * pedir al supervisor que reinicie PostgreSQL (SIGUSR2).
 */

export type ServicioLocal = 'api' | 'outbox' | 'consumer';

export interface Procesos {
  readonly supervisor: number;
  readonly databaseUrl: string;
  readonly api: number | null;
  readonly outbox: number | null;
  readonly consumer: number | null;
  readonly puertos?: Partial<Record<ServicioLocal, number | null>>;
  readonly postgresReinicios?: number;
  readonly postgresEmbebido?: boolean;
}

export interface OpcionesArranque {
  /** Variables extra para los servicios (perfil de la pasarela, duplicación de entregas…). */
  readonly entorno: Readonly<Record<string, string>>;
  /** Fichero donde se vuelca la salida del supervisor y de los servicios. */
  readonly registro: string;
  readonly decir: (texto: string) => void;
}

const esperar = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function vivo(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function puertoLibre(): Promise<number> {
  return new Promise((resolver, rechazar) => {
    const s = createServer();
    s.unref();
    s.on('error', rechazar);
    s.listen(0, '127.0.0.1', () => {
      const d = s.address();
      const puerto = typeof d === 'object' && d ? d.port : 0;
      s.close(() => resolver(puerto));
    });
  });
}

export class TopologiaLocal {
  readonly #raiz: string;
  readonly #archivo: string;
  #wrapper: ChildProcess | undefined;
  #salida: Promise<void> | undefined;

  private constructor(raiz: string, wrapper?: ChildProcess) {
    this.#raiz = raiz;
    this.#archivo = path.join(raiz, '.data', 'procesos.json');
    this.#wrapper = wrapper;
    if (wrapper) this.#salida = new Promise((r) => wrapper.once('exit', () => r()));
  }

  /** ¿La arrancó el experimento? (Entonces también la para.) */
  get propia(): boolean {
    return this.#wrapper !== undefined;
  }

  static leerProcesos(raiz: string): Procesos | undefined {
    const archivo = path.join(raiz, '.data', 'procesos.json');
    if (!existsSync(archivo)) return undefined;
    try {
      return JSON.parse(readFileSync(archivo, 'utf8')) as Procesos;
    } catch {
      return undefined;
    }
  }

  /** La topología en marcha, si el supervisor de `.data/procesos.json` vive. */
  static adoptar(raiz: string): TopologiaLocal | undefined {
    const p = TopologiaLocal.leerProcesos(raiz);
    return p && vivo(p.supervisor) ? new TopologiaLocal(raiz) : undefined;
  }

  /**
   * Arranca `node scripts/start.mjs` con un PostgreSQL propio del experimento (carpeta nueva, puerto
   * libre) y puertos libres para los servicios, y espera a que los tres estén listos.
   */
  static async arrancar(raiz: string, o: OpcionesArranque): Promise<TopologiaLocal> {
    const datos = path.join(raiz, '.data', 'experimento', 'postgres');
    rmSync(datos, { recursive: true, force: true });
    const [pg, api, outbox, consumer] = [await puertoLibre(), await puertoLibre(), await puertoLibre(), await puertoLibre()];
    const entorno: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !['DATABASE_URL', 'PULSAR_URL', 'NODE_OPTIONS'].includes(k)) entorno[k] = v;
    Object.assign(entorno, o.entorno, {
      PG_DATOS_EMBEBIDO: datos,
      PG_PUERTO_EMBEBIDO: String(pg),
      PORT: String(api),
      HOST: '127.0.0.1',
      PUERTO_SALUD_OUTBOX: String(outbox),
      PUERTO_SALUD_CONSUMER: String(consumer),
      NO_COLOR: '1',
    });
    const registro = createWriteStream(o.registro);
    const wrapper = spawn(process.execPath, [path.join(raiz, 'scripts', 'start.mjs')], { cwd: raiz, env: entorno, stdio: ['ignore', 'pipe', 'pipe'] });
    wrapper.stdout?.pipe(registro);
    wrapper.stderr?.pipe(registro);
    // Si el experimento muere sin parar la topología, que no quede huérfana.
    process.on('exit', () => wrapper.kill('SIGTERM'));
    const t = new TopologiaLocal(raiz, wrapper);
    o.decir(`arrancando la topología local (pnpm start) con PostgreSQL propio en .data/experimento/postgres; salida en ${path.relative(raiz, o.registro)}`);
    const limite = Date.now() + 180_000;
    for (;;) {
      if (wrapper.exitCode !== null) throw new Error(`el supervisor terminó al arrancar (código ${wrapper.exitCode}); ver ${o.registro}`);
      const p = TopologiaLocal.leerProcesos(raiz);
      if (p && vivo(p.supervisor) && p.puertos?.api === api && (await t.listos())) return t;
      if (Date.now() > limite) throw new Error(`la topología no estuvo lista en 180 s; ver ${o.registro}`);
      await esperar(300);
    }
  }

  procesos(): Procesos {
    const p = TopologiaLocal.leerProcesos(this.#raiz);
    if (!p) throw new Error('no se encuentra .data/procesos.json: ¿se paró la topología?');
    return p;
  }

  puerto(servicio: ServicioLocal): number {
    const porDefecto = { api: 8000, outbox: 8001, consumer: 8002 }[servicio];
    return this.procesos().puertos?.[servicio] ?? porDefecto;
  }

  get urlApi(): string {
    return `http://127.0.0.1:${this.puerto('api')}`;
  }

  get databaseUrl(): string {
    return this.procesos().databaseUrl;
  }

  async listo(servicio: ServicioLocal): Promise<boolean> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.puerto(servicio)}/health/ready`, { signal: AbortSignal.timeout(2000) });
      await r.text();
      return r.status === 200;
    } catch {
      return false;
    }
  }

  async listos(): Promise<boolean> {
    const estados = await Promise.all((['api', 'outbox', 'consumer'] as const).map((s) => this.listo(s)));
    return estados.every(Boolean);
  }

  /** Contadores de /health del relay o del consumidor, con el pid del proceso que los dio. */
  async contadores(servicio: 'outbox' | 'consumer'): Promise<{ pid: number; contadores: Record<string, number> } | undefined> {
    const pid = this.procesos()[servicio];
    if (!pid) return undefined;
    try {
      const r = await fetch(`http://127.0.0.1:${this.puerto(servicio)}/health`, { signal: AbortSignal.timeout(2000) });
      const cuerpo = (await r.json()) as { contadores?: Record<string, number> };
      // El pid se relee después: si cambió entre medias, la muestra no se sabe de qué vida es.
      if (!cuerpo.contadores || this.procesos()[servicio] !== pid) return undefined;
      return { pid, contadores: cuerpo.contadores };
    } catch {
      return undefined;
    }
  }

  /** SIGKILL al proceso del servicio; espera a que el supervisor lo relance y esté listo. Devuelve ms hasta listo. */
  async matar(servicio: ServicioLocal): Promise<{ pid: number; recuperacionMs: number }> {
    const pid = this.procesos()[servicio];
    if (!pid || !vivo(pid)) throw new Error(`${servicio} no está en marcha`);
    const inicio = Date.now();
    process.kill(pid, 'SIGKILL');
    await this.esperarQue(async () => {
      const nuevo = this.procesos()[servicio];
      return nuevo !== null && nuevo !== pid && (await this.listo(servicio));
    }, 120_000, `${servicio} relanzado por el supervisor`);
    return { pid, recuperacionMs: Date.now() - inicio };
  }

  /** Pide al supervisor (SIGUSR2) que reinicie PostgreSQL y espera a que todo vuelva a estar listo. */
  async reiniciarPostgres(): Promise<{ recuperacionMs: number }> {
    const antes = this.procesos();
    if (antes.postgresEmbebido === false) throw new Error('el supervisor usa una DATABASE_URL externa: no puede reiniciar PostgreSQL');
    if (antes.postgresReinicios === undefined) throw new Error('este supervisor no sabe reiniciar PostgreSQL (scripts/start.mjs anterior a SIGUSR2)');
    const inicio = Date.now();
    process.kill(antes.supervisor, 'SIGUSR2');
    await this.esperarQue(
      async () => (this.procesos().postgresReinicios ?? 0) > (antes.postgresReinicios ?? 0) && (await this.listos()),
      180_000,
      'PostgreSQL reiniciado y los servicios listos',
    );
    return { recuperacionMs: Date.now() - inicio };
  }

  async esperarQue(condicion: () => Promise<boolean>, ms: number, que: string): Promise<void> {
    const limite = Date.now() + ms;
    for (;;) {
      if (await condicion().catch(() => false)) return;
      if (Date.now() > limite) throw new Error(`tiempo agotado (${ms} ms) esperando: ${que}`);
      await esperar(200);
    }
  }

  /** Para la topología si la arrancó el experimento (SIGTERM: parada ordenada del supervisor). */
  async parar(): Promise<void> {
    if (!this.#wrapper) return;
    this.#wrapper.kill('SIGTERM');
    await Promise.race([this.#salida, esperar(60_000)]);
  }
}
