import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import { arrancarProceso, conTope, dormir, esperarQue, esperarServicioListo, type ProcesoHijo, type Salida } from '@aeropartners/procesos';
import pg from 'pg';

export { dormir, type Salida };

/**
 * Topología de extremo a extremo con procesos REALES: una base de datos nueva y migrada, y los tres
 * servicios (`services/<nombre>/dist/main.js`) como procesos hijo de Node con su entorno, hablando por
 * HTTP (sockets de verdad) y por el broker embebido sobre esa base.
 *
 * - Cada servicio puede tener varias instancias (`instancias`: p. ej. 2 relays y 3 consumidores sobre la
 *   misma base). Cada instancia es su propio proceso, con su propio puerto; `crearPagos` reparte las
 *   peticiones entre las instancias vivas de la API.
 * - Cada línea JSON de la salida estándar de cada proceso se guarda (con el servicio, la instancia y la
 *   «vida» del proceso: un reinicio es una vida nueva) para aserciones sobre ids de correlación.
 * - Puertos: la API escucha en `PORT=0` y los demás en `PUERTO_SALUD=0`; cada proceso anuncia el puerto
 *   real por IPC (el kit `@aeropartners/procesos`), y se espera a `/health/ready`.
 * - Nunca quedan procesos vivos: `cerrar()` los para (SIGTERM, y SIGKILL si no salen) y, como red de
 *   seguridad, un gancho `exit` del proceso de test mata con SIGKILL los que sigan vivos.
 */

export type NombreServicio = 'api' | 'outbox' | 'consumer';
export const SERVICIOS: readonly NombreServicio[] = ['api', 'outbox', 'consumer'];

export type Entorno = Readonly<Record<string, string>>;

export interface LineaLog {
  readonly servicio: NombreServicio;
  /** 1, 2, … (varias instancias del mismo servicio a la vez). */
  readonly instancia: number;
  /** 1 para el primer proceso de la instancia; cada `reiniciar` suma una. */
  readonly vida: number;
  readonly campos: Readonly<Record<string, unknown>>;
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
  /** Instancias de cada servicio que arrancan al crear la topología (por defecto 1; cada una, su proceso y su puerto). */
  readonly instancias?: Partial<Record<NombreServicio, number>>;
  /** Entorno propio de cada servicio, encima de los valores por defecto de la topología. */
  readonly entorno?: Partial<Record<NombreServicio, Entorno>>;
  /** Tiempo máximo para que un proceso esté listo. Por defecto 30 s. */
  readonly arranqueMs?: number;
}

const RAIZ = fileURLToPath(new URL('../../', import.meta.url));
export const rutaMain = (servicio: NombreServicio): string => `${RAIZ}services/${servicio}/dist/main.js`;

/**
 * Entorno por defecto: pasarela simulada con poca latencia, sin transitorios; puertos libres. La API en el
 * modo anónimo explícito (estos tests son de procesos, broker y PostgreSQL, no de claves) y con un límite de
 * ritmo que la carga de un solo socio no alcanza.
 */
const ENTORNO_POR_DEFECTO: Record<NombreServicio, Entorno> = {
  api: { PORT: '0', HOST: '127.0.0.1', PG_POOL_SIZE: '8', LOG_LEVEL: 'info', API_ANONIMA_SOCIO: 'e2e', API_LIMITE_RPS: '1000000' },
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
const vivos = new Set<ProcesoHijo>();
let ganchoInstalado = false;
function instalarGancho(): void {
  if (ganchoInstalado) return;
  ganchoInstalado = true;
  process.on('exit', () => {
    for (const proceso of vivos) proceso.matar();
  });
}

interface Vida {
  readonly numero: number;
  readonly proceso: ProcesoHijo;
}

const clave = (servicio: NombreServicio, instancia: number) => `${servicio}#${instancia}`;

export class Topologia {
  readonly #base: BaseDePrueba;
  readonly pool: pg.Pool;
  readonly #opciones: OpcionesTopologia;
  /** Las vidas de cada instancia (`api#1`, `outbox#2`…), en orden. */
  readonly #vidas = new Map<string, Vida[]>();
  readonly #lineas: LineaLog[] = [];
  #turnoApi = 0;
  #cierre: Promise<void> | undefined;

  private constructor(base: BaseDePrueba, opciones: OpcionesTopologia) {
    this.#base = base;
    this.#opciones = opciones;
    this.pool = new pg.Pool({ connectionString: base.url, max: 3 });
    this.pool.on('error', () => undefined);
  }

  /** Base nueva y migrada, y los servicios pedidos arrancados y listos (con sus instancias). */
  static async iniciar(opciones: OpcionesTopologia = {}): Promise<Topologia> {
    for (const s of SERVICIOS) {
      if (!existsSync(rutaMain(s))) {
        throw new Error(`Falta ${rutaMain(s)}: compile los servicios (pnpm turbo run build --filter='./services/*').`);
      }
    }
    instalarGancho();
    const topologia = new Topologia(await crearBaseDePrueba(), opciones);
    try {
      for (const s of opciones.arrancar ?? SERVICIOS) {
        for (let instancia = 1; instancia <= (opciones.instancias?.[s] ?? 1); instancia += 1) await topologia.arrancar(s, {}, instancia);
      }
    } catch (error) {
      await topologia.cerrar();
      throw error;
    }
    return topologia;
  }

  get url(): string {
    return this.#base.url;
  }

  /** URL base de la API (la primera instancia viva). */
  get urlApi(): string {
    const [instancia] = this.instanciasVivas('api');
    if (instancia === undefined) throw new Error('api no está en marcha');
    return `http://127.0.0.1:${this.#puerto('api', instancia)}`;
  }

  // ── Procesos ───────────────────────────────────────────────────────────────

  /** Arranca una vida nueva de la instancia (no debe haber otra viva) y espera a que esté lista. */
  async arrancar(servicio: NombreServicio, entornoExtra: Entorno = {}, instancia = 1): Promise<void> {
    const actual = this.#vidaActual(servicio, instancia);
    if (actual?.proceso.vivo) throw new Error(`${clave(servicio, instancia)} ya está en marcha (vida ${actual.numero})`);
    const vidas = this.#vidas.get(clave(servicio, instancia)) ?? [];
    this.#vidas.set(clave(servicio, instancia), vidas);
    const numero = vidas.length + 1;

    const entorno: Record<string, string> = {};
    for (const nombre of HEREDADAS) {
      const valor = process.env[nombre];
      if (valor !== undefined) entorno[nombre] = valor;
    }
    Object.assign(entorno, ENTORNO_POR_DEFECTO[servicio], this.#opciones.entorno?.[servicio] ?? {}, entornoExtra, {
      DATABASE_URL: this.#base.url,
    });

    const proceso = arrancarProceso({
      script: rutaMain(servicio),
      entorno,
      cwd: RAIZ,
      alLinea: (texto, flujo) => {
        if (flujo !== 'stdout') return;
        let campos: Record<string, unknown>;
        try {
          campos = JSON.parse(texto) as Record<string, unknown>;
        } catch {
          campos = { msg: texto, no_json: true };
        }
        this.#lineas.push({ servicio, instancia, vida: numero, campos });
      },
    });
    vivos.add(proceso);
    void proceso.salida.then(() => vivos.delete(proceso));
    vidas.push({ numero, proceso });

    const nombre = `${clave(servicio, instancia)} (vida ${numero})`;
    try {
      await esperarServicioListo(proceso, { nombre, tiempoMs: this.#opciones.arranqueMs ?? 30_000 });
    } catch (error) {
      proceso.matar();
      await proceso.salida;
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${this.volcado(servicio)}`, { cause: error });
    }
  }

  /** Manda una señal al proceso en curso de la instancia y espera a que salga. */
  async matar(servicio: NombreServicio, senal: NodeJS.Signals = 'SIGKILL', instancia = 1): Promise<Salida> {
    const { proceso } = this.#vidaViva(servicio, instancia);
    proceso.senal(senal);
    return conTope(proceso.salida, 30_000, `${clave(servicio, instancia)} no salió tras ${senal}`);
  }

  /** Para el proceso en curso (SIGTERM) si sigue vivo y arranca una vida nueva con `entornoExtra` encima. */
  async reiniciar(servicio: NombreServicio, entornoExtra: Entorno = {}, instancia = 1): Promise<void> {
    if (this.vivo(servicio, instancia)) await this.matar(servicio, 'SIGTERM', instancia);
    await this.arrancar(servicio, entornoExtra, instancia);
  }

  /** Espera a que el proceso en curso de la instancia salga por sí mismo (p. ej. la inyección de fallos del relay). */
  esperarSalida(servicio: NombreServicio, tiempoMs: number, instancia = 1): Promise<Salida> {
    const vida = this.#vidaActual(servicio, instancia);
    if (!vida) throw new Error(`${clave(servicio, instancia)} no se arrancó nunca`);
    return conTope(vida.proceso.salida, tiempoMs, `${clave(servicio, instancia)} no salió en ${tiempoMs} ms\n${this.volcado(servicio)}`);
  }

  /** ¿Sigue vivo el proceso en curso de la instancia? */
  vivo(servicio: NombreServicio, instancia = 1): boolean {
    return this.#vidaActual(servicio, instancia)?.proceso.vivo ?? false;
  }

  /** Números de las instancias del servicio que están vivas, en orden. */
  instanciasVivas(servicio: NombreServicio): number[] {
    return [...this.#vidas.keys()]
      .filter((k) => k.startsWith(`${servicio}#`))
      .map((k) => Number(k.slice(servicio.length + 1)))
      .filter((n) => this.vivo(servicio, n))
      .sort((a, b) => a - b);
  }

  /** PID del proceso en curso de la instancia. */
  pid(servicio: NombreServicio, instancia = 1): number {
    const pid = this.#vidaViva(servicio, instancia).proceso.pid;
    if (pid === undefined) throw new Error(`${clave(servicio, instancia)} no tiene PID`);
    return pid;
  }

  /** Contadores de `/health` del relay o del consumidor en curso. */
  async contadores(servicio: 'outbox' | 'consumer', instancia = 1): Promise<Record<string, number>> {
    const r = await fetch(`http://127.0.0.1:${this.#puerto(servicio, instancia)}/health`);
    if (r.status !== 200) throw new Error(`/health de ${clave(servicio, instancia)} respondió ${r.status}`);
    const cuerpo = (await r.json()) as { contadores: Record<string, number> };
    return cuerpo.contadores;
  }

  /** El texto de `GET /metrics` (Prometheus) del proceso en curso: la API en su puerto, los demás en el de salud. */
  async metricas(servicio: NombreServicio, instancia = 1): Promise<string> {
    const r = await fetch(`http://127.0.0.1:${this.#puerto(servicio, instancia)}/metrics`);
    const texto = await r.text();
    if (r.status !== 200) throw new Error(`/metrics de ${clave(servicio, instancia)} respondió ${r.status}: ${texto.slice(0, 200)}`);
    return texto;
  }

  /** Las líneas JSON registradas (de un servicio, todas sus instancias, o de todos), en orden de llegada. */
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

  /** Últimas líneas de cada vida de cada instancia de un servicio (o de todos): para mensajes de fallo. */
  volcado(servicio?: NombreServicio, cuantas = 15): string {
    const partes: string[] = [];
    for (const [k, vidas] of this.#vidas) {
      if (servicio && !k.startsWith(`${servicio}#`)) continue;
      for (const { numero, proceso } of vidas) {
        const salida = proceso.terminado;
        partes.push(
          `── ${k} vida ${numero} (${salida ? `salió ${JSON.stringify(salida)}` : 'viva'})`,
          ...proceso.ultimasLineas().slice(-cuantas),
        );
      }
    }
    return partes.join('\n');
  }

  // ── HTTP ───────────────────────────────────────────────────────────────────

  /**
   * Crea `n` pagos con `POST /pagos` sobre sockets reales, `concurrencia` a la vez (repartidos por turno
   * entre las instancias vivas de la API), cada uno con su `X-Correlation-Id`. Falla si alguna respuesta no es 200 o no devuelve el id de correlación enviado.
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
        const r = await fetch(`${this.#siguienteUrlApi()}/pagos`, {
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

  /** Sondea `condicion` hasta que devuelva `true`; falla tras `tiempoMs` con `descripcion` y el volcado de los procesos. */
  esperarQue(condicion: () => Promise<boolean> | boolean, tiempoMs: number, descripcion: string): Promise<void> {
    return esperarQue(condicion, { tiempoMs, descripcion, detalle: () => this.volcado() });
  }

  // ── Cierre ─────────────────────────────────────────────────────────────────

  /**
   * SIGTERM a los procesos vivos (en orden inverso: consumidores, relays, api; las instancias de un mismo
   * servicio a la vez) y espera su salida (SIGKILL si tardan más de `tiempoMs`). Devuelve cómo salió la
   * instancia n.º 1 de cada servicio.
   */
  async detenerTodo(tiempoMs = 15_000): Promise<Partial<Record<NombreServicio, Salida>>> {
    const salidas: Partial<Record<NombreServicio, Salida>> = {};
    for (const servicio of [...SERVICIOS].reverse()) {
      const paradas = this.instanciasVivas(servicio).map(async (instancia) => {
        const salida = await this.#vidaViva(servicio, instancia).proceso.parar({ graciaMs: tiempoMs });
        if (instancia === 1) salidas[servicio] = salida;
      });
      await Promise.all(paradas);
    }
    return salidas;
  }

  /** Para todos los procesos y borra la base. Idempotente. */
  cerrar(): Promise<void> {
    this.#cierre ??= (async () => {
      await this.detenerTodo().catch(() => undefined);
      for (const vidas of this.#vidas.values()) for (const v of vidas) v.proceso.matar();
      await this.pool.end().catch(() => undefined);
      await this.#base.cerrar();
    })();
    return this.#cierre;
  }

  #vidaActual(servicio: NombreServicio, instancia: number): Vida | undefined {
    return this.#vidas.get(clave(servicio, instancia))?.at(-1);
  }

  #vidaViva(servicio: NombreServicio, instancia: number): Vida {
    const vida = this.#vidaActual(servicio, instancia);
    if (!vida?.proceso.vivo) throw new Error(`${clave(servicio, instancia)} no está en marcha`);
    return vida;
  }

  #puerto(servicio: NombreServicio, instancia: number): number {
    const puerto = this.#vidaViva(servicio, instancia).proceso.puertoAnunciado;
    if (puerto === undefined) throw new Error(`${clave(servicio, instancia)} aún no anunció su puerto`);
    return puerto;
  }

  /** La URL de la siguiente instancia viva de la API, por turno. */
  #siguienteUrlApi(): string {
    const vivas = this.instanciasVivas('api');
    if (vivas.length === 0) throw new Error('api no está en marcha');
    const instancia = vivas[this.#turnoApi++ % vivas.length]!;
    return `http://127.0.0.1:${this.#puerto('api', instancia)}`;
  }
}
