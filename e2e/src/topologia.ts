import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import pg from 'pg';

/**
 * Topología de extremo a extremo con procesos REALES: una base de datos nueva y migrada, y los tres
 * servicios (`services/<nombre>/dist/main.js`) como procesos hijo de Node con su entorno, hablando por
 * HTTP (sockets de verdad) y por el broker embebido sobre esa base.
 *
 * - Cada línea JSON de la salida estándar de cada proceso se guarda (con el servicio y la «vida» del
 *   proceso: un reinicio es una vida nueva) para aserciones sobre ids de correlación.
 * - Puertos: la API escucha en `PORT=0` y los demás en `PUERTO_SALUD=0`; cada proceso anuncia el puerto
 *   real en su línea de arranque (`puerto` / `puerto_salud`), y se espera a `/health/ready`.
 * - Nunca quedan procesos vivos: `cerrar()` los para (SIGTERM, y SIGKILL si no salen) y, como red de
 *   seguridad, un gancho `exit` del proceso de test mata con SIGKILL los que sigan vivos.
 */

export type NombreServicio = 'api' | 'outbox' | 'consumer';
export const SERVICIOS: readonly NombreServicio[] = ['api', 'outbox', 'consumer'];

export type Entorno = Readonly<Record<string, string>>;

export interface LineaLog {
  readonly servicio: NombreServicio;
  /** 1 para el primer proceso del servicio; cada `reiniciar` suma una. */
  readonly vida: number;
  readonly campos: Readonly<Record<string, unknown>>;
}

export interface Salida {
  readonly codigo: number | null;
  readonly senal: NodeJS.Signals | null;
}

export interface PagoCreado {
  readonly id: string;
  readonly idCorrelacion: string;
  readonly referencia: string;
  readonly idAfiliado: string;
  /** Importe enviado, en unidades de la moneda (USD). */
  readonly monto: number;
}

export interface PagoEnBase {
  readonly id: string;
  readonly estado: string;
  readonly version: number;
  readonly mensaje_error: string | null;
  readonly referencia_transaccion: string | null;
  readonly fecha_actualizacion: Date;
}

export interface OpcionesTopologia {
  /** Servicios que arrancan al crear la topología (por defecto los tres, en orden api → outbox → consumer). */
  readonly arrancar?: readonly NombreServicio[];
  /** Entorno propio de cada servicio, encima de los valores por defecto de la topología. */
  readonly entorno?: Partial<Record<NombreServicio, Entorno>>;
  /** Tiempo máximo para que un proceso esté listo. Por defecto 30 s. */
  readonly arranqueMs?: number;
}

const RAIZ = fileURLToPath(new URL('../../', import.meta.url));
export const rutaMain = (servicio: NombreServicio): string => `${RAIZ}services/${servicio}/dist/main.js`;

/** Entorno por defecto: pasarela simulada con poca latencia, sin transitorios; puertos libres. */
const ENTORNO_POR_DEFECTO: Record<NombreServicio, Entorno> = {
  api: { PORT: '0', HOST: '127.0.0.1', PG_POOL_SIZE: '8', LOG_LEVEL: 'info' },
  outbox: { PUERTO_SALUD: '0', RELAY_SONDEO_MS: '200', LOG_LEVEL: 'info' },
  consumer: {
    PUERTO_SALUD: '0',
    PG_POOL_SIZE: '10',
    PASARELA: 'simulada',
    PASARELA_LATENCIA_MIN_MS: '5',
    PASARELA_LATENCIA_MAX_MS: '30',
    PASARELA_TASA_RECHAZO: '0.3',
    PASARELA_TASA_TRANSITORIO: '0',
    LOG_LEVEL: 'info',
  },
};

/** Lo único que los hijos heredan del entorno del test: nada de PULSAR_URL, DATABASE_URL ni NODE_OPTIONS ajenos. */
const HEREDADAS = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'];

const FINALES = ['EXITOSO', 'FALLIDO'];

// Red de seguridad: si el proceso de test sale sin cerrar (fallo o interrupción), no deja huérfanos.
const vivos = new Set<ChildProcess>();
let ganchoInstalado = false;
function instalarGancho(): void {
  if (ganchoInstalado) return;
  ganchoInstalado = true;
  process.on('exit', () => {
    for (const hijo of vivos) hijo.kill('SIGKILL');
  });
}

interface Vida {
  readonly numero: number;
  readonly hijo: ChildProcess;
  readonly salida: Promise<Salida>;
  readonly stderr: string[];
  terminada: Salida | undefined;
  puerto: number | undefined;
}

export class Topologia {
  readonly #base: BaseDePrueba;
  readonly pool: pg.Pool;
  readonly #opciones: OpcionesTopologia;
  readonly #vidas = new Map<NombreServicio, Vida[]>();
  readonly #lineas: LineaLog[] = [];
  #cierre: Promise<void> | undefined;

  private constructor(base: BaseDePrueba, opciones: OpcionesTopologia) {
    this.#base = base;
    this.#opciones = opciones;
    this.pool = new pg.Pool({ connectionString: base.url, max: 3 });
    this.pool.on('error', () => undefined);
  }

  /** Base nueva y migrada, y los servicios pedidos arrancados y listos. */
  static async iniciar(opciones: OpcionesTopologia = {}): Promise<Topologia> {
    for (const s of SERVICIOS) {
      if (!existsSync(rutaMain(s))) {
        throw new Error(`Falta ${rutaMain(s)}: compile los servicios (pnpm turbo run build --filter='./services/*').`);
      }
    }
    instalarGancho();
    const topologia = new Topologia(await crearBaseDePrueba(), opciones);
    try {
      for (const s of opciones.arrancar ?? SERVICIOS) await topologia.arrancar(s);
    } catch (error) {
      await topologia.cerrar();
      throw error;
    }
    return topologia;
  }

  get url(): string {
    return this.#base.url;
  }

  /** URL base de la API en curso. */
  get urlApi(): string {
    return `http://127.0.0.1:${this.#puerto('api')}`;
  }

  // ── Procesos ───────────────────────────────────────────────────────────────

  /** Arranca una vida nueva del servicio (no debe haber otra viva) y espera a que esté lista. */
  async arrancar(servicio: NombreServicio, entornoExtra: Entorno = {}): Promise<void> {
    const actual = this.#vidaActual(servicio);
    if (actual && !actual.terminada) throw new Error(`${servicio} ya está en marcha (vida ${actual.numero})`);
    const vidas = this.#vidas.get(servicio) ?? [];
    this.#vidas.set(servicio, vidas);
    const numero = vidas.length + 1;

    const entorno: Record<string, string> = {};
    for (const nombre of HEREDADAS) {
      const valor = process.env[nombre];
      if (valor !== undefined) entorno[nombre] = valor;
    }
    Object.assign(entorno, ENTORNO_POR_DEFECTO[servicio], this.#opciones.entorno?.[servicio] ?? {}, entornoExtra, {
      DATABASE_URL: this.#base.url,
    });

    const hijo = spawn(process.execPath, ['--enable-source-maps', rutaMain(servicio)], {
      cwd: RAIZ,
      env: entorno,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    vivos.add(hijo);
    const stderr: string[] = [];
    const salida = new Promise<Salida>((resolver) => {
      hijo.once('exit', (codigo, senal) => {
        vivos.delete(hijo);
        vida.terminada = { codigo, senal };
        resolver(vida.terminada);
      });
    });
    const vida: Vida = { numero, hijo, salida, stderr, terminada: undefined, puerto: undefined };
    vidas.push(vida);

    let avisarPuerto: ((puerto: number) => void) | undefined;
    const puerto = new Promise<number>((resolver) => (avisarPuerto = resolver));
    createInterface({ input: hijo.stdout! }).on('line', (texto) => {
      let campos: Record<string, unknown>;
      try {
        campos = JSON.parse(texto) as Record<string, unknown>;
      } catch {
        campos = { msg: texto, no_json: true };
      }
      this.#lineas.push({ servicio, vida: numero, campos });
      const anunciado = servicio === 'api' ? campos['puerto'] : campos['puerto_salud'];
      if (typeof anunciado === 'number' && vida.puerto === undefined) {
        vida.puerto = anunciado;
        avisarPuerto?.(anunciado);
      }
    });
    createInterface({ input: hijo.stderr! }).on('line', (texto) => stderr.push(texto));
    hijo.on('error', (error) => stderr.push(`no se pudo lanzar el proceso: ${error.message}`));

    const limite = this.#opciones.arranqueMs ?? 30_000;
    const resultado = await conTope(
      Promise.race([puerto.then((p) => ({ puerto: p })), salida.then((s) => ({ salida: s }))]),
      limite,
      `${servicio} (vida ${numero}) no anunció su puerto`,
    ).catch((error: unknown) => ({ error }));
    if ('error' in resultado || 'salida' in resultado) {
      hijo.kill('SIGKILL');
      const motivo = 'error' in resultado ? String(resultado.error) : `terminó con ${JSON.stringify(resultado.salida)}`;
      throw new Error(`${servicio} no arrancó: ${motivo}\n${this.volcado(servicio)}`);
    }
    await this.esperarQue(
      async () => {
        if (vida.terminada) throw new Error(`${servicio} terminó durante el arranque: ${JSON.stringify(vida.terminada)}\n${this.volcado(servicio)}`);
        const r = await fetch(`http://127.0.0.1:${resultado.puerto}/health/ready`).catch(() => undefined);
        await r?.text();
        return r?.status === 200;
      },
      limite,
      `${servicio} listo (/health/ready)`,
    );
  }

  /** Manda una señal al proceso en curso del servicio y espera a que salga. */
  async matar(servicio: NombreServicio, senal: NodeJS.Signals = 'SIGKILL'): Promise<Salida> {
    const vida = this.#vidaViva(servicio);
    vida.hijo.kill(senal);
    return conTope(vida.salida, 30_000, `${servicio} no salió tras ${senal}`);
  }

  /** Para el proceso en curso (SIGTERM) si sigue vivo y arranca una vida nueva con `entornoExtra` encima. */
  async reiniciar(servicio: NombreServicio, entornoExtra: Entorno = {}): Promise<void> {
    const vida = this.#vidaActual(servicio);
    if (vida && !vida.terminada) await this.matar(servicio, 'SIGTERM');
    await this.arrancar(servicio, entornoExtra);
  }

  /** Espera a que el proceso en curso del servicio salga por sí mismo (p. ej. la inyección de fallos del relay). */
  esperarSalida(servicio: NombreServicio, tiempoMs: number): Promise<Salida> {
    const vida = this.#vidaActual(servicio);
    if (!vida) throw new Error(`${servicio} no se arrancó nunca`);
    return conTope(vida.salida, tiempoMs, `${servicio} no salió en ${tiempoMs} ms\n${this.volcado(servicio)}`);
  }

  /** ¿Sigue vivo el proceso en curso del servicio? */
  vivo(servicio: NombreServicio): boolean {
    const vida = this.#vidaActual(servicio);
    return vida !== undefined && vida.terminada === undefined;
  }

  /** Contadores de `/health` del relay o del consumidor en curso. */
  async contadores(servicio: 'outbox' | 'consumer'): Promise<Record<string, number>> {
    const r = await fetch(`http://127.0.0.1:${this.#puerto(servicio)}/health`);
    if (r.status !== 200) throw new Error(`/health de ${servicio} respondió ${r.status}`);
    const cuerpo = (await r.json()) as { contadores: Record<string, number> };
    return cuerpo.contadores;
  }

  /** El texto de `GET /metrics` (Prometheus) del proceso en curso del servicio: la API en su puerto, los demás en el de salud. */
  async metricas(servicio: NombreServicio): Promise<string> {
    const r = await fetch(`http://127.0.0.1:${this.#puerto(servicio)}/metrics`);
    const texto = await r.text();
    if (r.status !== 200) throw new Error(`/metrics de ${servicio} respondió ${r.status}: ${texto.slice(0, 200)}`);
    return texto;
  }

  /** Las líneas JSON registradas (de un servicio, o de todos), en orden de llegada. */
  lineas(servicio?: NombreServicio): readonly LineaLog[] {
    return servicio ? this.#lineas.filter((l) => l.servicio === servicio) : [...this.#lineas];
  }

  /**
   * Espera a que haya al menos `cuantas` líneas que cumplan `filtro` (los procesos escriben sus registros
   * de forma asíncrona: una línea puede llegar unos milisegundos después del efecto que describe).
   */
  async esperarLineas(filtro: (l: LineaLog) => boolean, cuantas: number, tiempoMs = 10_000): Promise<LineaLog[]> {
    let encontradas: LineaLog[] = [];
    await this.esperarQue(
      () => (encontradas = this.#lineas.filter(filtro)).length >= cuantas,
      tiempoMs,
      `${cuantas} líneas de registro (hay ${encontradas.length})`,
    );
    return encontradas;
  }

  /** Últimas líneas y stderr de cada vida de un servicio (o de todos): para mensajes de fallo. */
  volcado(servicio?: NombreServicio, cuantas = 15): string {
    const partes: string[] = [];
    for (const s of servicio ? [servicio] : SERVICIOS) {
      for (const vida of this.#vidas.get(s) ?? []) {
        const lineas = this.#lineas.filter((l) => l.servicio === s && l.vida === vida.numero).slice(-cuantas);
        partes.push(
          `── ${s} vida ${vida.numero} (${vida.terminada ? `salió ${JSON.stringify(vida.terminada)}` : 'viva'})`,
          ...lineas.map((l) => JSON.stringify(l.campos)),
          ...vida.stderr.slice(-cuantas).map((t) => `stderr: ${t}`),
        );
      }
    }
    return partes.join('\n');
  }

  // ── HTTP ───────────────────────────────────────────────────────────────────

  /**
   * Crea `n` pagos con `POST /pagos` sobre sockets reales, `concurrencia` a la vez, cada uno con su
   * `X-Correlation-Id`. Falla si alguna respuesta no es 200 o no devuelve el id de correlación enviado.
   */
  async crearPagos(n: number, opciones: { readonly concurrencia?: number; readonly prefijo?: string } = {}): Promise<PagoCreado[]> {
    const prefijo = opciones.prefijo ?? 'e2e';
    const lote = randomUUID().slice(0, 8);
    const creados: PagoCreado[] = new Array(n);
    let siguiente = 0;
    const trabajador = async () => {
      while (siguiente < n) {
        const i = siguiente++;
        const idCorrelacion = `${prefijo}-${lote}-${i}`;
        const referencia = `REF-${lote}-${i}`;
        const idAfiliado = `afiliado-${i % 7}`;
        const monto = 10 + (i % 100) + 0.25;
        const r = await fetch(`${this.urlApi}/pagos`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-correlation-id': idCorrelacion },
          body: JSON.stringify({ id_afiliado: idAfiliado, monto, moneda: 'USD', referencia_pago: referencia }),
        });
        const cuerpo = (await r.json()) as { id_pago?: unknown; estado?: unknown };
        if (r.status !== 200 || typeof cuerpo.id_pago !== 'string' || cuerpo.estado !== 'PENDIENTE') {
          throw new Error(`POST /pagos #${i} respondió ${r.status}: ${JSON.stringify(cuerpo)}`);
        }
        if (r.headers.get('x-correlation-id') !== idCorrelacion) {
          throw new Error(`POST /pagos #${i} devolvió X-Correlation-Id ${r.headers.get('x-correlation-id')} en vez de ${idCorrelacion}`);
        }
        creados[i] = { id: cuerpo.id_pago, idCorrelacion, referencia, idAfiliado, monto };
      }
    };
    await Promise.all(Array.from({ length: Math.min(opciones.concurrencia ?? 16, n) }, trabajador));
    if (new Set(creados.map((p) => p.id)).size !== n) throw new Error('POST /pagos devolvió ids repetidos');
    return creados;
  }

  /** GET a la API; devuelve estado HTTP y cuerpo JSON. */
  async get<T = unknown>(ruta: string, cabeceras: Record<string, string> = {}): Promise<{ status: number; cuerpo: T }> {
    const r = await fetch(`${this.urlApi}${ruta}`, { headers: cabeceras });
    return { status: r.status, cuerpo: (await r.json()) as T };
  }

  // ── Base de datos ──────────────────────────────────────────────────────────

  async pagos(ids: readonly string[]): Promise<Map<string, PagoEnBase>> {
    const { rows } = await this.pool.query<PagoEnBase>(
      `SELECT id::text AS id, estado, version, mensaje_error, referencia_transaccion, fecha_actualizacion
       FROM pagos WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((f) => [f.id, f]));
  }

  /**
   * Espera (sondeando la base) a que TODOS los pagos estén en EXITOSO o FALLIDO. Falla si alguno no
   * existe o si vence el tiempo, con el reparto de estados y el final de los registros de cada proceso.
   */
  async esperarFinales(ids: readonly string[], tiempoMs: number): Promise<Map<string, PagoEnBase>> {
    const limite = Date.now() + tiempoMs;
    for (;;) {
      const pagos = await this.pagos(ids);
      if (pagos.size !== ids.length) throw new Error(`Faltan pagos en la base: ${ids.length} pedidos, ${pagos.size} encontrados`);
      const pendientes = [...pagos.values()].filter((p) => !FINALES.includes(p.estado));
      if (pendientes.length === 0) return pagos;
      if (Date.now() > limite) {
        const reparto: Record<string, number> = {};
        for (const p of pagos.values()) reparto[p.estado] = (reparto[p.estado] ?? 0) + 1;
        throw new Error(
          `${pendientes.length} de ${ids.length} pagos sin estado final tras ${tiempoMs} ms: ${JSON.stringify(reparto)}\n${this.volcado()}`,
        );
      }
      await dormir(150);
    }
  }

  /** Sondea `condicion` hasta que devuelva `true`; falla tras `tiempoMs` con `descripcion`. */
  async esperarQue(condicion: () => Promise<boolean> | boolean, tiempoMs: number, descripcion: string): Promise<void> {
    const limite = Date.now() + tiempoMs;
    for (;;) {
      if (await condicion()) return;
      if (Date.now() > limite) throw new Error(`Tiempo agotado (${tiempoMs} ms) esperando: ${descripcion}\n${this.volcado()}`);
      await dormir(100);
    }
  }

  // ── Cierre ─────────────────────────────────────────────────────────────────

  /**
   * SIGTERM a los procesos vivos (en orden inverso: consumidor, relay, api) y espera su salida (SIGKILL
   * si tardan más de `tiempoMs`). Devuelve cómo salió cada uno.
   */
  async detenerTodo(tiempoMs = 15_000): Promise<Partial<Record<NombreServicio, Salida>>> {
    const salidas: Partial<Record<NombreServicio, Salida>> = {};
    for (const servicio of [...SERVICIOS].reverse()) {
      const vida = this.#vidaActual(servicio);
      if (!vida || vida.terminada) continue;
      vida.hijo.kill('SIGTERM');
      salidas[servicio] = await conTope(vida.salida, tiempoMs, '').catch(async () => {
        vida.hijo.kill('SIGKILL');
        return vida.salida;
      });
    }
    return salidas;
  }

  /** Para todos los procesos y borra la base. Idempotente. */
  cerrar(): Promise<void> {
    this.#cierre ??= (async () => {
      await this.detenerTodo().catch(() => undefined);
      for (const vidas of this.#vidas.values()) for (const v of vidas) if (!v.terminada) v.hijo.kill('SIGKILL');
      await this.pool.end().catch(() => undefined);
      await this.#base.cerrar();
    })();
    return this.#cierre;
  }

  #vidaActual(servicio: NombreServicio): Vida | undefined {
    return this.#vidas.get(servicio)?.at(-1);
  }

  #vidaViva(servicio: NombreServicio): Vida {
    const vida = this.#vidaActual(servicio);
    if (!vida || vida.terminada) throw new Error(`${servicio} no está en marcha`);
    return vida;
  }

  #puerto(servicio: NombreServicio): number {
    const puerto = this.#vidaViva(servicio).puerto;
    if (puerto === undefined) throw new Error(`${servicio} aún no anunció su puerto`);
    return puerto;
  }
}

export function dormir(ms: number): Promise<void> {
  return new Promise((resolver) => setTimeout(resolver, ms));
}

function conTope<T>(promesa: Promise<T>, ms: number, mensaje: string): Promise<T> {
  let temporizador: NodeJS.Timeout | undefined;
  return Promise.race([
    promesa,
    new Promise<never>((_, rechazar) => {
      temporizador = setTimeout(() => rechazar(new Error(mensaje)), ms);
    }),
  ]).finally(() => clearTimeout(temporizador));
}
