import path from 'node:path';

/**
 * Configuración del supervisor de `pnpm start`, desde variables de entorno. Las mismas variables
 * llegan también a los servicios (que leen las suyas); estas son las que decide el supervisor.
 */

export type NombreServicio = 'api' | 'outbox' | 'consumer';

export interface ServicioConfigurado {
  readonly nombre: NombreServicio;
  /** Script compilado, relativo a la raíz del repositorio. */
  readonly script: string;
  /** Instancias que se arrancan (0 = ninguna). */
  readonly instancias: number;
  /** Variable por la que el servicio recibe su puerto. */
  readonly variablePuerto: 'PORT' | 'PUERTO_SALUD';
  /** Puerto de cada instancia (posición 0 = instancia 1); 0 = uno libre, que la instancia anuncia. */
  readonly puertos: readonly number[];
  /** Instancias como trabajadores de `node:cluster` que comparten un puerto (la API, con más de una). */
  readonly cluster: boolean;
}

export type PostgresConfigurado =
  | { readonly tipo: 'embebido'; readonly directorio: string; readonly puerto: number; readonly registrar: boolean }
  | { readonly tipo: 'externo'; readonly url: string };

export interface ConfiguracionSupervisor {
  readonly servicios: readonly ServicioConfigurado[];
  readonly postgres: PostgresConfigurado;
  /** Dónde se anotan pids, puertos y reinicios (`.data/procesos.json`). */
  readonly archivoProcesos: string;
  readonly colores: boolean;
}

export type LecturaSupervisor =
  | { readonly ok: true; readonly config: ConfiguracionSupervisor }
  | { readonly ok: false; readonly mensaje: string };

/** Máximo de instancias de cada servicio. */
export const MAXIMO_INSTANCIAS = 16;

/** Separación entre los puertos de dos instancias consecutivas del mismo servicio. */
export const PASO_PUERTOS = 10;

/** Las variables propias del supervisor, con su valor por defecto y qué hacen (para la documentación). */
export const VARIABLES_SUPERVISOR: readonly { readonly variable: string; readonly porDefecto: string; readonly descripcion: string }[] = [
  {
    variable: 'API_INSTANCIAS',
    porDefecto: '1',
    descripcion: `Instancias de la API (0 a ${MAXIMO_INSTANCIAS}). Con más de una, trabajadores de node:cluster del supervisor que comparten el puerto PORT.`,
  },
  {
    variable: 'RELAY_INSTANCIAS',
    porDefecto: '1',
    descripcion: `Relays del outbox (0 a ${MAXIMO_INSTANCIAS}). Uno tiene el cerrojo y publica; los demás esperan en reserva.`,
  },
  {
    variable: 'CONSUMIDOR_INSTANCIAS',
    porDefecto: '1',
    descripcion: `Consumidores (0 a ${MAXIMO_INSTANCIAS}) en la misma suscripción compartida.`,
  },
  { variable: 'PORT', porDefecto: '8000', descripcion: 'Puerto de la API (de todas sus instancias). 0 = uno libre.' },
  {
    variable: 'PUERTO_SALUD_OUTBOX',
    porDefecto: '8001',
    descripcion: `Puerto de salud del relay n.º 1; el n.º k usa este + ${PASO_PUERTOS}·(k−1). 0 = libres.`,
  },
  {
    variable: 'PUERTO_SALUD_CONSUMER',
    porDefecto: '8002',
    descripcion: `Puerto de salud del consumidor n.º 1; el n.º k usa este + ${PASO_PUERTOS}·(k−1). 0 = libres.`,
  },
  {
    variable: 'PUERTO_SALUD',
    porDefecto: '—',
    descripcion: 'Base común de los puertos de salud si no se dan los dos anteriores (solo tiene sentido 0).',
  },
  {
    variable: 'DATABASE_URL',
    porDefecto: '—',
    descripcion: 'PostgreSQL externo; sin ella, el supervisor arranca uno embebido y lo vigila.',
  },
  { variable: 'PG_DATOS_EMBEBIDO', porDefecto: '.data/postgres', descripcion: 'Carpeta de datos del PostgreSQL embebido.' },
  { variable: 'PG_PUERTO_EMBEBIDO', porDefecto: '54329', descripcion: 'Puerto del PostgreSQL embebido.' },
  {
    variable: 'ARCHIVO_PROCESOS',
    porDefecto: '.data/procesos.json',
    descripcion: 'Dónde se anotan pids, puertos y reinicios para las herramientas.',
  },
  {
    variable: 'LOG_POSTGRES',
    porDefecto: '—',
    descripcion: 'Con cualquier valor, la salida del PostgreSQL embebido se muestra con el prefijo [postgres].',
  },
  { variable: 'NO_COLOR', porDefecto: '—', descripcion: 'Prefijos de los registros sin color.' },
];

const SCRIPTS: Readonly<Record<NombreServicio, string>> = {
  api: 'services/api/dist/main.js',
  outbox: 'services/outbox/dist/main.js',
  consumer: 'services/consumer/dist/main.js',
};

class ErrorConfiguracion extends Error {}

/** Un valor vacío (o solo espacios) cuenta como ausente, como en los servicios. */
function valor(entorno: Readonly<Record<string, string | undefined>>, nombre: string): string | undefined {
  const v = entorno[nombre]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function entero(
  entorno: Readonly<Record<string, string | undefined>>,
  nombre: string,
  minimo: number,
  maximo: number,
  porDefecto: number,
): number {
  const texto = valor(entorno, nombre);
  if (texto === undefined) return porDefecto;
  const numero = /^\d+$/.test(texto) ? Number(texto) : Number.NaN;
  if (!(numero >= minimo && numero <= maximo))
    throw new ErrorConfiguracion(`${nombre} debe ser un entero entre ${minimo} y ${maximo} (recibido "${texto}")`);
  return numero;
}

/**
 * Lee y valida la configuración. El error es UNA línea que nombra la variable. `raiz` es la carpeta del
 * repositorio (las rutas relativas se resuelven desde ella); `terminal`, si la salida es una terminal.
 */
export function leerConfiguracionSupervisor(
  entorno: Readonly<Record<string, string | undefined>>,
  raiz: string,
  terminal: boolean,
): LecturaSupervisor {
  try {
    return { ok: true, config: leer(entorno, raiz, terminal) };
  } catch (error) {
    if (!(error instanceof ErrorConfiguracion)) throw error;
    return { ok: false, mensaje: `Configuración no válida: ${error.message}.` };
  }
}

function leer(entorno: Readonly<Record<string, string | undefined>>, raiz: string, terminal: boolean): ConfiguracionSupervisor {
  const instancias = {
    api: entero(entorno, 'API_INSTANCIAS', 0, MAXIMO_INSTANCIAS, 1),
    outbox: entero(entorno, 'RELAY_INSTANCIAS', 0, MAXIMO_INSTANCIAS, 1),
    consumer: entero(entorno, 'CONSUMIDOR_INSTANCIAS', 0, MAXIMO_INSTANCIAS, 1),
  };
  const saludComun = valor(entorno, 'PUERTO_SALUD') === undefined ? undefined : entero(entorno, 'PUERTO_SALUD', 0, 65_535, 0);
  const base = {
    api: { variable: 'PORT', puerto: entero(entorno, 'PORT', 0, 65_535, 8000) },
    outbox:
      valor(entorno, 'PUERTO_SALUD_OUTBOX') !== undefined
        ? { variable: 'PUERTO_SALUD_OUTBOX', puerto: entero(entorno, 'PUERTO_SALUD_OUTBOX', 0, 65_535, 8001) }
        : { variable: saludComun === undefined ? 'PUERTO_SALUD_OUTBOX' : 'PUERTO_SALUD', puerto: saludComun ?? 8001 },
    consumer:
      valor(entorno, 'PUERTO_SALUD_CONSUMER') !== undefined
        ? { variable: 'PUERTO_SALUD_CONSUMER', puerto: entero(entorno, 'PUERTO_SALUD_CONSUMER', 0, 65_535, 8002) }
        : { variable: saludComun === undefined ? 'PUERTO_SALUD_CONSUMER' : 'PUERTO_SALUD', puerto: saludComun ?? 8002 },
  };

  const servicios: ServicioConfigurado[] = (['api', 'outbox', 'consumer'] as const).map((nombre) => {
    const { variable, puerto } = base[nombre];
    const cluster = nombre === 'api' && instancias.api > 1;
    const puertos = Array.from({ length: instancias[nombre] }, (_, i) => (puerto === 0 || cluster ? puerto : puerto + PASO_PUERTOS * i));
    const ultimo = puertos.at(-1);
    if (ultimo !== undefined && ultimo > 65_535) {
      throw new ErrorConfiguracion(`${variable}=${puerto} con ${instancias[nombre]} instancias llega al puerto ${ultimo}, fuera de rango`);
    }
    return {
      nombre,
      script: SCRIPTS[nombre],
      instancias: instancias[nombre],
      variablePuerto: nombre === 'api' ? 'PORT' : 'PUERTO_SALUD',
      puertos,
      cluster,
    };
  });

  const url = valor(entorno, 'DATABASE_URL');
  let postgres: PostgresConfigurado;
  if (url !== undefined) {
    if (!/^postgres(?:ql)?:\/\/\S+$/.test(url)) throw new ErrorConfiguracion('DATABASE_URL debe ser una URL postgres:// o postgresql://');
    postgres = { tipo: 'externo', url };
  } else {
    postgres = {
      tipo: 'embebido',
      directorio: path.resolve(raiz, valor(entorno, 'PG_DATOS_EMBEBIDO') ?? '.data/postgres'),
      puerto: entero(entorno, 'PG_PUERTO_EMBEBIDO', 1, 65_535, 54329),
      registrar: valor(entorno, 'LOG_POSTGRES') !== undefined,
    };
  }

  // Dos procesos no pueden escuchar en el mismo puerto (las instancias de la API en cluster comparten uno).
  const ocupados = new Map<number, string>();
  const ocupar = (puerto: number, quien: string) => {
    if (puerto === 0) return;
    const otro = ocupados.get(puerto);
    if (otro)
      throw new ErrorConfiguracion(
        `${quien} y ${otro} usarían el mismo puerto ${puerto}; cambie PORT, PUERTO_SALUD_OUTBOX, PUERTO_SALUD_CONSUMER o PG_PUERTO_EMBEBIDO`,
      );
    ocupados.set(puerto, quien);
  };
  if (postgres.tipo === 'embebido') ocupar(postgres.puerto, 'PostgreSQL embebido');
  for (const s of servicios) {
    const unicos = s.cluster ? s.puertos.slice(0, 1) : s.puertos;
    unicos.forEach((p, i) => ocupar(p, etiquetaInstancia(s.nombre, i + 1, s.instancias)));
  }

  return {
    servicios,
    postgres,
    archivoProcesos: path.resolve(raiz, valor(entorno, 'ARCHIVO_PROCESOS') ?? '.data/procesos.json'),
    colores: terminal && valor(entorno, 'NO_COLOR') === undefined,
  };
}

/** `api` si es la única instancia; `api#2` si hay varias. */
export function etiquetaInstancia(servicio: NombreServicio, numero: number, instancias: number): string {
  return instancias > 1 ? `${servicio}#${numero}` : servicio;
}
