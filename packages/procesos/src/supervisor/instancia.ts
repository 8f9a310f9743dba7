import cluster from 'node:cluster';
import path from 'node:path';
import { arrancarProceso, describirSalida, ProcesoHijo } from '../proceso.js';
import type { InstanciaAnotada } from './archivo-procesos.js';
import { etiquetaInstancia, type ServicioConfigurado } from './configuracion.js';
import type { Registro } from './registro.js';

const RETRASO_MINIMO_MS = 500;
const RETRASO_MAXIMO_MS = 10_000;
/** Un proceso que aguantó esto vuelve al retraso mínimo si muere. */
const VIDA_ESTABLE_MS = 30_000;

export interface OpcionesInstancia {
  readonly servicio: ServicioConfigurado;
  /** 1, 2, … */
  readonly numero: number;
  readonly raiz: string;
  /** Entorno común de los servicios (el del supervisor con DATABASE_URL). */
  readonly entorno: Readonly<Record<string, string | undefined>>;
  readonly registro: Registro;
  /** Cambió algo que se anota: PID, puerto, reinicios. */
  readonly alCambiar: () => void;
}

/**
 * Una instancia de un servicio bajo el supervisor: la arranca (como proceso hijo, o como trabajador de
 * `node:cluster` si el servicio comparte puerto), reenvía su salida con su prefijo, anota el puerto que
 * anuncia por IPC y, si muere, la vuelve a arrancar con un retraso creciente (0,5 s → 10 s).
 */
export class InstanciaSupervisada {
  readonly etiqueta: string;
  readonly #o: OpcionesInstancia;
  #proceso: ProcesoHijo | undefined;
  #reinicios = 0;
  #retrasoMs = RETRASO_MINIMO_MS;
  #iniciadoEn = 0;
  #pendiente: NodeJS.Timeout | undefined;
  #parando = false;

  constructor(opciones: OpcionesInstancia) {
    this.#o = opciones;
    this.etiqueta = etiquetaInstancia(opciones.servicio.nombre, opciones.numero, opciones.servicio.instancias);
  }

  /** Puerto configurado (0 = uno libre). */
  get puertoConfigurado(): number {
    return this.#o.servicio.puertos[this.#o.numero - 1] ?? 0;
  }

  arrancar(): void {
    if (this.#parando) return;
    const { servicio, registro } = this.#o;
    const entorno = { ...this.#o.entorno, [servicio.variablePuerto]: String(this.puertoConfigurado) };
    const alLinea = (linea: string, flujo: 'stdout' | 'stderr') => registro.linea(this.etiqueta, linea, flujo);
    const script = path.join(this.#o.raiz, servicio.script);
    const proceso = servicio.cluster
      ? new ProcesoHijo(bifurcarTrabajador(script, this.#o.raiz, entorno), { alLinea })
      : arrancarProceso({ script, entorno, cwd: this.#o.raiz, alLinea });
    this.#proceso = proceso;
    this.#iniciadoEn = Date.now();
    this.#o.alCambiar();
    proceso.puerto.then(
      (puerto) => {
        if (this.#proceso !== proceso) return;
        registro.decir(`${this.etiqueta} escuchando en el puerto ${puerto} (PID ${proceso.pid ?? '?'})`);
        this.#o.alCambiar();
      },
      () => undefined,
    );
    void proceso.salida.then((salida) => {
      if (this.#proceso !== proceso) return;
      this.#proceso = undefined;
      this.#o.alCambiar();
      if (this.#parando) return;
      if (Date.now() - this.#iniciadoEn > VIDA_ESTABLE_MS) this.#retrasoMs = RETRASO_MINIMO_MS;
      this.#reinicios += 1;
      registro.decir(`${this.etiqueta} terminó (${describirSalida(salida)}); reinicio n.º ${this.#reinicios} en ${this.#retrasoMs} ms`);
      this.#pendiente = setTimeout(() => {
        this.#pendiente = undefined;
        this.arrancar();
      }, this.#retrasoMs);
      this.#retrasoMs = Math.min(this.#retrasoMs * 2, RETRASO_MAXIMO_MS);
    });
  }

  /**
   * Si espera su reinicio, arranca ya y con el retraso al mínimo: PostgreSQL acaba de volver y lo que
   * la hizo caer (p. ej. el relay que perdió la conexión de su cerrojo) ya no está.
   */
  adelantarReinicio(): void {
    if (this.#pendiente === undefined || this.#parando) return;
    clearTimeout(this.#pendiente);
    this.#pendiente = undefined;
    this.#retrasoMs = RETRASO_MINIMO_MS;
    this.arrancar();
  }

  /** SIGTERM (el servicio termina lo que tiene entre manos) y SIGKILL si pasa `graciaMs`. No se reinicia. */
  async parar(graciaMs: number): Promise<void> {
    this.#parando = true;
    clearTimeout(this.#pendiente);
    await this.#proceso?.parar({ graciaMs });
  }

  anotacion(): InstanciaAnotada {
    return {
      numero: this.#o.numero,
      pid: this.#proceso?.pid ?? null,
      puerto: this.#proceso?.puertoAnunciado ?? null,
      reinicios: this.#reinicios,
    };
  }
}

/**
 * Un trabajador de `node:cluster` del supervisor: todos los del mismo servicio comparten el puerto que
 * abren (el primario, el supervisor, reparte las conexiones por turno). Con su salida en tuberías y
 * el canal IPC del propio cluster, por el que llega también el anuncio del puerto.
 */
function bifurcarTrabajador(script: string, cwd: string, entorno: Readonly<Record<string, string | undefined>>) {
  cluster.setupPrimary({ exec: script, cwd, execArgv: ['--enable-source-maps'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  return cluster.fork({ ...entorno }).process;
}
