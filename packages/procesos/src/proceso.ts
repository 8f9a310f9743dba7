import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { esAnuncioEscuchando } from './anuncio.js';

/** Cómo terminó un proceso: código de salida, o la señal que lo mató. */
export interface Salida {
  readonly codigo: number | null;
  readonly senal: NodeJS.Signals | null;
}

export type Flujo = 'stdout' | 'stderr';

export interface OpcionesVigilancia {
  /** Cada línea de stdout y stderr, en orden de llegada (solo si esos flujos son tuberías). */
  readonly alLinea?: (linea: string, flujo: Flujo) => void;
  /** Últimas líneas que se guardan para los mensajes de error. Por defecto 40. */
  readonly lineasGuardadas?: number;
}

export interface OpcionesProceso extends OpcionesVigilancia {
  /** Script de Node que se ejecuta (p. ej. `services/api/dist/main.js`). */
  readonly script: string;
  readonly argumentos?: readonly string[];
  /** Opciones de `node` delante del script. Por defecto `--enable-source-maps`. */
  readonly opcionesNode?: readonly string[];
  /** Entorno COMPLETO del hijo (no se mezcla con el del padre: quien llama decide qué hereda). */
  readonly entorno: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /**
   * En su propio grupo de procesos (`detached`): una señal al grupo del padre (Ctrl-C) no le llega, y
   * `parar` puede rematar con SIGKILL al grupo entero, nietos incluidos.
   */
  readonly grupoPropio?: boolean;
  /** `pipe` (por defecto: pasan por `alLinea`), `inherit` o `ignore`. */
  readonly salidaEstandar?: 'pipe' | 'inherit' | 'ignore';
}

export interface OpcionesParada {
  /** Tiempo que se deja al proceso para terminar tras la primera señal antes del SIGKILL. Por defecto 10 s. */
  readonly graciaMs?: number;
  /** Primera señal. Por defecto SIGTERM (parada ordenada de los servicios). */
  readonly senal?: NodeJS.Signals;
}

/**
 * Un proceso hijo vigilado: su salida como promesa, su puerto (el que anuncia por IPC, ver
 * `anunciarEscuchando`) como promesa, sus últimas líneas para los mensajes de error, y su parada.
 */
export class ProcesoHijo {
  readonly hijo: ChildProcess;
  /** Primer puerto que anuncia. Falla si el proceso termina antes de anunciarlo. */
  readonly puerto: Promise<number>;
  /** Se resuelve cuando el proceso termina (nunca falla). */
  readonly salida: Promise<Salida>;
  readonly #grupoPropio: boolean;
  readonly #ultimas: string[] = [];
  readonly #maximoLineas: number;
  #terminado: Salida | undefined;
  #puertoAnunciado: number | undefined;

  constructor(hijo: ChildProcess, opciones: OpcionesVigilancia & { readonly grupoPropio?: boolean } = {}) {
    this.hijo = hijo;
    this.#grupoPropio = opciones.grupoPropio ?? false;
    this.#maximoLineas = opciones.lineasGuardadas ?? 40;

    const guardar = (linea: string, flujo: Flujo) => {
      this.#ultimas.push(flujo === 'stderr' ? `stderr: ${linea}` : linea);
      if (this.#ultimas.length > this.#maximoLineas) this.#ultimas.shift();
      opciones.alLinea?.(linea, flujo);
    };
    if (hijo.stdout) createInterface({ input: hijo.stdout, crlfDelay: Infinity }).on('line', (l) => guardar(l, 'stdout'));
    if (hijo.stderr) createInterface({ input: hijo.stderr, crlfDelay: Infinity }).on('line', (l) => guardar(l, 'stderr'));

    this.salida = new Promise<Salida>((resolver) => {
      hijo.once('exit', (codigo, senal) => {
        this.#terminado = { codigo, senal };
        resolver(this.#terminado);
      });
      // Sin pid, el proceso no llegó a existir (p. ej. ENOENT): no habrá 'exit'.
      hijo.once('error', (error) => {
        guardar(`no se pudo lanzar el proceso: ${error.message}`, 'stderr');
        if (hijo.pid === undefined && !this.#terminado) {
          this.#terminado = { codigo: null, senal: null };
          resolver(this.#terminado);
        }
      });
    });

    this.puerto = new Promise<number>((resolver, rechazar) => {
      hijo.on('message', (mensaje: unknown) => {
        if (!esAnuncioEscuchando(mensaje) || this.#puertoAnunciado !== undefined) return;
        this.#puertoAnunciado = mensaje.puerto;
        resolver(mensaje.puerto);
      });
      void this.salida.then((s) => rechazar(new Error(`el proceso terminó (${describirSalida(s)}) sin anunciar su puerto`)));
    });
    // Nadie está obligado a esperar el puerto: su fallo no es un rechazo sin atender.
    this.puerto.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.hijo.pid;
  }

  /** `undefined` mientras vive. */
  get terminado(): Salida | undefined {
    return this.#terminado;
  }

  get vivo(): boolean {
    return this.#terminado === undefined && this.hijo.pid !== undefined;
  }

  /** El puerto anunciado, si ya lo anunció. */
  get puertoAnunciado(): number | undefined {
    return this.#puertoAnunciado;
  }

  /** Últimas líneas de stdout y stderr (las de stderr con el prefijo `stderr: `). */
  ultimasLineas(): readonly string[] {
    return [...this.#ultimas];
  }

  /** Manda `senal` al proceso (no al grupo). Devuelve `false` si ya no vivía. */
  senal(senal: NodeJS.Signals): boolean {
    if (!this.vivo) return false;
    return this.hijo.kill(senal);
  }

  /**
   * Parada ordenada: `senal` (SIGTERM) y, si no termina en `graciaMs`, SIGKILL (al grupo entero si se
   * lanzó con `grupoPropio`). Devuelve cómo terminó.
   */
  async parar(opciones: OpcionesParada = {}): Promise<Salida> {
    if (!this.vivo) return this.salida;
    this.senal(opciones.senal ?? 'SIGTERM');
    const rematar = setTimeout(() => this.matar(), opciones.graciaMs ?? 10_000);
    try {
      return await this.salida;
    } finally {
      clearTimeout(rematar);
    }
  }

  /** SIGKILL (al grupo entero si se lanzó con `grupoPropio`: así no quedan nietos). */
  matar(): void {
    const pid = this.hijo.pid;
    if (pid === undefined) return;
    if (this.#grupoPropio) {
      try {
        process.kill(-pid, 'SIGKILL');
        return;
      } catch {
        // el grupo ya no existe: queda el proceso, si acaso
      }
    }
    if (this.vivo) this.hijo.kill('SIGKILL');
  }
}

/** Lanza `node [opcionesNode] script [argumentos]` con canal IPC (para el anuncio del puerto). */
export function arrancarProceso(opciones: OpcionesProceso): ProcesoHijo {
  const flujo = opciones.salidaEstandar ?? 'pipe';
  const hijo = spawn(
    process.execPath,
    [...(opciones.opcionesNode ?? ['--enable-source-maps']), opciones.script, ...(opciones.argumentos ?? [])],
    {
      cwd: opciones.cwd,
      env: { ...opciones.entorno },
      stdio: ['ignore', flujo, flujo, 'ipc'],
      detached: opciones.grupoPropio ?? false,
    },
  );
  return new ProcesoHijo(hijo, opciones);
}

/** `código 0`, `señal SIGKILL`… */
export function describirSalida(salida: Salida): string {
  return salida.senal ? `señal ${salida.senal}` : `código ${salida.codigo ?? 'desconocido'}`;
}
