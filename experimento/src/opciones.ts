import { parseArgs } from 'node:util';

/**
 * Opciones del experimento: flags `--nombre valor` (o `--nombre=valor`) leídos con `parseArgs` de
 * `node:util`, con la variable de entorno `EXPERIMENTO_NOMBRE` como alternativa y un valor por defecto
 * sensato. Un valor inválido es UN error en español que nombra el flag.
 */

export interface Rampa {
  /** Ritmo inicial, en peticiones/s. */
  readonly inicio: number;
  /** Lo que sube el ritmo en cada escalón. */
  readonly paso: number;
  /** Duración de cada escalón, en segundos. */
  readonly escalonS: number;
}

export interface Opciones {
  /** API de un despliegue cualquiera; sin ella, la topología local de `pnpm start` (arrancándola si hace falta). */
  readonly url: string | undefined;
  /** Base de datos del despliegue remoto, para el veredicto desde dentro (sin ella, solo desde fuera). */
  readonly databaseUrl: string | undefined;
  readonly socios: number;
  readonly pagosPorSocio: number;
  /** Conversiones distintas por socio (issue 12), cada una con su ciclo de hechos duplicados y barajados. */
  readonly conversionesPorSocio: number;
  /** Segundos entre las ejecuciones de liquidaciones a demanda durante la carga (y periodo de las del consumidor). */
  readonly liquidacionesCadaS: number;
  /**
   * Peticiones/s fijas (0 = tan rápido como permita la concurrencia). Sin él, se mide la capacidad con la
   * rampa y se mantiene `fraccionCapacidad` de ella.
   */
  readonly ritmo: number | undefined;
  /** La rampa que mide la capacidad al principio de la corrida. */
  readonly rampa: Rampa;
  /** Fracción de la capacidad medida que se mantiene tras la rampa. */
  readonly fraccionCapacidad: number;
  /** Peticiones en vuelo como máximo. */
  readonly concurrencia: number;
  /** Fracciones de los pagos que reciben cada fallo de red. */
  readonly dobles: number;
  readonly triples: number;
  readonly timeouts: number;
  readonly tardias: number;
  readonly conflictos: number;
  /** Ventana de desorden: cada socio envía sus pagos barajados en bloques de este tamaño. */
  readonly desorden: number;
  readonly matarConsumidor: number;
  readonly matarRelay: number;
  readonly reiniciarPostgres: number;
  readonly matarPostgres: number;
  /** Mensajes venenosos publicados a propósito en el broker embebido (deben acabar en mensajes muertos). */
  readonly venenos: number;
  /** El broker embebido encola dos veces cada mensaje (duplicados entre el broker y el consumidor). */
  readonly duplicarEntregas: boolean;
  /** Instancias de cada servicio (si el experimento arranca la topología). */
  readonly apis: number;
  readonly relays: number;
  readonly consumidores: number;
  /** Fallos de la pasarela simulada tras decidir (si el experimento arranca la topología). */
  readonly pasarelaSinRespuesta: number;
  readonly pasarela500: number;
  readonly pasarelaEnCurso: number;
  /** Tiempo máximo de creación → estado final de cada pago, en segundos. */
  readonly plazoS: number;
  /** Espera máxima a que el pipeline se vacíe tras la carga, en segundos. */
  readonly drenajeS: number;
  readonly semilla: number;
  readonly salida: string;
  readonly perfilPasarela: string;
  readonly consumidorEnVuelo: number;
  readonly nivelLog: string;
  readonly ayuda: boolean;
  /** Solo rehace `informe.html` a partir de este `informe.json` (sin correr nada). */
  readonly rehacer: string | undefined;
}

type Lector = (texto: string, flag: string) => unknown;

const entero =
  (min: number, max: number): Lector =>
  (texto, flag) => {
    if (!/^\d+$/.test(texto) || Number(texto) < min || Number(texto) > max) {
      throw new Error(`--${flag} debe ser un entero entre ${min} y ${max} (recibido "${texto}")`);
    }
    return Number(texto);
  };

const real =
  (min: number, max: number): Lector =>
  (texto, flag) => {
    const n = Number(texto);
    if (texto.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new Error(`--${flag} debe ser un número entre ${min} y ${max} (recibido "${texto}")`);
    }
    return n;
  };

const fraccion: Lector = (texto, flag) => {
  const n = Number(texto);
  if (texto.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new Error(`--${flag} debe ser una fracción entre 0 y 1 (recibido "${texto}")`);
  }
  return n;
};

const booleano: Lector = (texto, flag) => {
  if (['1', 'true', 'si', 'sí'].includes(texto)) return true;
  if (['0', 'false', 'no'].includes(texto)) return false;
  throw new Error(`--${flag} debe ser sí o no (1/0, true/false) (recibido "${texto}")`);
};

const url: Lector = (texto, flag) => {
  try {
    const u = new URL(texto);
    if (!/^(https?|postgres(ql)?):$/.test(u.protocol)) throw new Error();
    return texto.replace(/\/+$/, '');
  } catch {
    throw new Error(`--${flag} debe ser una URL válida (recibido "${texto}")`);
  }
};

const texto: Lector = (t, flag) => {
  if (t.trim() === '') throw new Error(`--${flag} no puede estar vacío`);
  return t;
};

const rampa: Lector = (t, flag) => {
  const partes = t.split(':').map(Number);
  if (partes.length !== 3 || partes.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`--${flag} debe ser inicio:paso:segundos con enteros positivos, p. ej. 100:100:5 (recibido "${t}")`);
  }
  const [inicio, paso, escalonS] = partes as [number, number, number];
  return { inicio, paso, escalonS } satisfies Rampa;
};

interface Definicion {
  readonly clave: keyof Opciones;
  readonly lector: Lector;
  /** Como texto: se lee con el mismo lector que un valor dado (y la ayuda lo muestra tal cual). */
  readonly porDefecto: string | undefined;
  readonly ayuda: string;
  /** Sin valor (`--ayuda`): un flag presente vale «sí». */
  readonly interruptor?: true;
}

/** Flag → definición. El orden es el de la ayuda. */
export const DEFINICIONES: Readonly<Record<string, Definicion>> = {
  url: {
    clave: 'url',
    lector: url,
    porDefecto: undefined,
    ayuda: 'API de un despliegue (solo HTTP: sin fallos de procesos). Sin ella: topología local de `pnpm start`.',
  },
  'database-url': {
    clave: 'databaseUrl',
    lector: url,
    porDefecto: undefined,
    ayuda: 'PostgreSQL del despliegue de --url, para el veredicto desde dentro.',
  },
  socios: {
    clave: 'socios',
    lector: entero(1, 1000),
    porDefecto: '4',
    ayuda: 'Socios de la corrida (con sus claves; con 3 o más, uno firma; con 4 o más, uno se suspende a mitad).',
  },
  pagos: {
    clave: 'pagosPorSocio',
    lector: entero(1, 10_000_000),
    porDefecto: '32000',
    ayuda: 'Pagos distintos en total (se reparten entre los socios).',
  },
  'pagos-por-socio': {
    clave: 'pagosPorSocio',
    lector: entero(1, 10_000_000),
    porDefecto: undefined,
    ayuda: 'Pagos distintos por socio (en vez de --pagos).',
  },
  conversiones: {
    clave: 'conversionesPorSocio',
    lector: entero(0, 1_000_000),
    porDefecto: '400',
    ayuda: 'Conversiones distintas en total (se reparten entre los socios; 0 = sin conversiones ni liquidaciones).',
  },
  'liquidaciones-cada': {
    clave: 'liquidacionesCadaS',
    lector: entero(1, 3600),
    porDefecto: '15',
    ayuda: 'Segundos entre ejecuciones de liquidaciones a demanda durante la carga (las periódicas del consumidor, cada 20 s).',
  },
  ritmo: {
    clave: 'ritmo',
    lector: entero(0, 1_000_000),
    porDefecto: undefined,
    ayuda: 'Peticiones/s fijas, sin medir la capacidad (0 = sin límite, solo la concurrencia). Sin él: rampa y --fraccion-capacidad.',
  },
  rampa: {
    clave: 'rampa',
    lector: rampa,
    porDefecto: '100:100:5',
    ayuda: 'inicio:paso:segundos de la rampa que mide la capacidad de extremo a extremo al empezar.',
  },
  'fraccion-capacidad': {
    clave: 'fraccionCapacidad',
    lector: real(0.05, 2),
    porDefecto: '0.8',
    ayuda: 'Fracción de la capacidad medida que se mantiene tras la rampa.',
  },
  concurrencia: { clave: 'concurrencia', lector: entero(1, 10_000), porDefecto: '128', ayuda: 'Peticiones en vuelo como máximo.' },
  dobles: { clave: 'dobles', lector: fraccion, porDefecto: '0.2', ayuda: 'Fracción de pagos enviados dos veces a la vez.' },
  triples: { clave: 'triples', lector: fraccion, porDefecto: '0.1', ayuda: 'Fracción de pagos enviados tres veces a la vez.' },
  timeouts: {
    clave: 'timeouts',
    lector: fraccion,
    porDefecto: '0.1',
    ayuda: 'Fracción de pagos cuya respuesta se pierde (timeout del cliente tras el éxito) y se reintentan.',
  },
  tardias: { clave: 'tardias', lector: fraccion, porDefecto: '0.1', ayuda: 'Fracción de pagos reenviados cuando ya terminaron.' },
  conflictos: {
    clave: 'conflictos',
    lector: fraccion,
    porDefecto: '0.02',
    ayuda: 'Fracción de pagos reenviados con la misma referencia y otro cuerpo (deben dar 422).',
  },
  desorden: {
    clave: 'desorden',
    lector: entero(1, 1_000_000),
    porDefecto: '64',
    ayuda: 'Ventana de desorden de cada socio (1 = en orden).',
  },
  'matar-consumidor': {
    clave: 'matarConsumidor',
    lector: entero(0, 1000),
    porDefecto: '3',
    ayuda: 'SIGKILL a un consumidor (uno distinto cada vez, en momentos al azar).',
  },
  'matar-relay': {
    clave: 'matarRelay',
    lector: entero(0, 1000),
    porDefecto: '2',
    ayuda: 'SIGKILL al relay líder (el que tiene el cerrojo), con otro en reserva.',
  },
  'reiniciar-postgres': {
    clave: 'reiniciarPostgres',
    lector: entero(0, 100),
    porDefecto: '1',
    ayuda: 'Reinicios rápidos de PostgreSQL (SIGUSR2 al supervisor) a mitad de la carga.',
  },
  'matar-postgres': {
    clave: 'matarPostgres',
    lector: entero(0, 100),
    porDefecto: '1',
    ayuda: 'Caídas de PostgreSQL (SIGKILL al postmaster: recuperación tras caída) a mitad de la carga.',
  },
  venenos: {
    clave: 'venenos',
    lector: entero(0, 1000),
    porDefecto: '2',
    ayuda: 'Mensajes venenosos inyectados en el broker embebido (deben acabar en mensajes muertos).',
  },
  'duplicar-entregas': {
    clave: 'duplicarEntregas',
    lector: booleano,
    porDefecto: 'sí',
    ayuda: 'El broker embebido entrega dos veces cada mensaje (sí/no; si el experimento arranca la topología).',
  },
  apis: { clave: 'apis', lector: entero(1, 16), porDefecto: '1', ayuda: 'Instancias de la API (si el experimento arranca la topología).' },
  relays: {
    clave: 'relays',
    lector: entero(1, 16),
    porDefecto: '2',
    ayuda: 'Relays del outbox: uno líder y los demás en reserva (si el experimento arranca la topología).',
  },
  consumidores: {
    clave: 'consumidores',
    lector: entero(1, 16),
    porDefecto: '3',
    ayuda: 'Procesos consumidores (si el experimento arranca la topología).',
  },
  'pasarela-sin-respuesta': {
    clave: 'pasarelaSinRespuesta',
    lector: fraccion,
    porDefecto: '0.03',
    ayuda: 'PASARELA_TASA_SIN_RESPUESTA: intentos que deciden (cobran o rechazan) y pierden la respuesta.',
  },
  'pasarela-500': {
    clave: 'pasarela500',
    lector: fraccion,
    porDefecto: '0.01',
    ayuda: 'PASARELA_TASA_500_TRAS_COBRO: intentos que deciden y responden HTTP 500.',
  },
  'pasarela-en-curso': {
    clave: 'pasarelaEnCurso',
    lector: fraccion,
    porDefecto: '0.01',
    ayuda: 'PASARELA_TASA_EN_CURSO: intentos que responden «en curso» y deciden poco después.',
  },
  'plazo-s': {
    clave: 'plazoS',
    lector: entero(1, 86_400),
    porDefecto: '900',
    ayuda: 'Plazo declarado: segundos máximos de creación a estado final por pago.',
  },
  'drenaje-s': {
    clave: 'drenajeS',
    lector: entero(1, 86_400),
    porDefecto: '1200',
    ayuda: 'Espera máxima a que el pipeline se vacíe tras la carga.',
  },
  semilla: { clave: 'semilla', lector: entero(0, 2 ** 31), porDefecto: '20260301', ayuda: 'Semilla del plan de carga y de fallos.' },
  salida: { clave: 'salida', lector: texto, porDefecto: '.data/experimento', ayuda: 'Carpeta de los informes (JSON y HTML).' },
  'perfil-pasarela': {
    clave: 'perfilPasarela',
    lector: texto,
    porDefecto: 'local',
    ayuda: 'PASARELA_PERFIL del consumidor (si el experimento arranca la topología).',
  },
  'consumidor-en-vuelo': {
    clave: 'consumidorEnVuelo',
    lector: entero(1, 10_000),
    porDefecto: '128',
    ayuda: 'CONSUMIDOR_EN_VUELO de cada consumidor (si el experimento arranca la topología).',
  },
  'nivel-log': {
    clave: 'nivelLog',
    lector: texto,
    porDefecto: 'warn',
    ayuda: 'LOG_LEVEL de los servicios (si el experimento arranca la topología).',
  },
  rehacer: {
    clave: 'rehacer',
    lector: texto,
    porDefecto: undefined,
    ayuda: 'Solo rehace el informe.html de un informe.json ya escrito (sin correr nada).',
  },
  ayuda: { clave: 'ayuda', lector: booleano, porDefecto: 'no', ayuda: 'Muestra esta ayuda.', interruptor: true },
};

const envDe = (flag: string) => `EXPERIMENTO_${flag.toUpperCase().replace(/-/g, '_')}`;

export type LecturaOpciones = { readonly ok: true; readonly opciones: Opciones } | { readonly ok: false; readonly mensaje: string };

/** Los errores de `parseArgs` (en inglés, con código) como una frase en español que nombra el flag. */
function traducir(error: unknown): Error {
  const codigo = (error as { code?: unknown }).code;
  const mensaje = error instanceof Error ? error.message : String(error);
  const nombrado = /'(--?[^' ]+)/.exec(mensaje)?.[1] ?? '';
  switch (codigo) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new Error(`flag desconocido: ${nombrado} (use --ayuda)`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new Error(/does not take an argument/.test(mensaje) ? `${nombrado} no admite valor` : `${nombrado} necesita un valor`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new Error(`argumento no reconocido: "${/'([^']*)'/.exec(mensaje)?.[1] ?? ''}" (use --ayuda)`);
    default:
      return error instanceof Error ? error : new Error(mensaje);
  }
}

export function leerOpciones(argv: readonly string[], entorno: Readonly<Record<string, string | undefined>>): LecturaOpciones {
  try {
    const dados = new Map<string, string>();
    for (const flag of Object.keys(DEFINICIONES)) {
      const valor = entorno[envDe(flag)];
      if (valor !== undefined && valor !== '') dados.set(flag, valor);
    }
    let valores: Record<string, string | boolean | undefined>;
    try {
      ({ values: valores } = parseArgs({
        // pnpm deja pasar el «--» que separa sus argumentos de los del script.
        args: argv.filter((a) => a !== '--'),
        options: Object.fromEntries(
          Object.entries(DEFINICIONES).map(([flag, def]) => [flag, { type: def.interruptor ? 'boolean' : 'string' }] as const),
        ),
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      throw traducir(error);
    }
    for (const [flag, valor] of Object.entries(valores)) {
      if (valor !== undefined) dados.set(flag, valor === true ? 'sí' : String(valor));
    }
    const salida: Record<string, unknown> = {};
    for (const [flag, def] of Object.entries(DEFINICIONES)) {
      if (flag === 'pagos' || flag === 'pagos-por-socio') continue;
      const valor = dados.get(flag) ?? def.porDefecto;
      salida[def.clave] = valor === undefined ? undefined : def.lector(valor, flag);
    }
    const socios = salida['socios'] as number;
    const porSocio = dados.get('pagos-por-socio');
    const total = Number(entero(1, 10_000_000)(dados.get('pagos') ?? (DEFINICIONES['pagos']?.porDefecto as string), 'pagos'));
    salida['pagosPorSocio'] =
      porSocio !== undefined ? entero(1, 10_000_000)(porSocio, 'pagos-por-socio') : Math.max(1, Math.ceil(total / socios));
    salida['conversionesPorSocio'] = Math.ceil((salida['conversionesPorSocio'] as number) / socios);
    const opciones = salida as unknown as Opciones;
    if (opciones.databaseUrl && !opciones.url) throw new Error('--database-url solo tiene sentido con --url');
    if (opciones.pasarelaSinRespuesta + opciones.pasarela500 + opciones.pasarelaEnCurso > 1) {
      throw new Error(
        '--pasarela-sin-respuesta, --pasarela-500 y --pasarela-en-curso no pueden sumar más de 1 (se reparten el mismo dado)',
      );
    }
    return { ok: true, opciones };
  } catch (error) {
    return { ok: false, mensaje: `Opción no válida: ${error instanceof Error ? error.message : String(error)}.` };
  }
}

export function textoAyuda(): string {
  const lineas = [
    'Uso: pnpm experimento -- [opciones]',
    '',
    'Escenario de calidad n.º 3: socios que envían pagos por una red que duplica y desordena, con caídas de',
    'procesos y de la base de datos; al final, veredicto de «cada pago surte efecto exactamente una vez».',
    'Cada opción admite también la variable de entorno EXPERIMENTO_<NOMBRE> (p. ej. EXPERIMENTO_RITMO=800).',
    '',
  ];
  for (const [flag, def] of Object.entries(DEFINICIONES)) {
    const defecto = def.porDefecto === undefined || def.interruptor ? '' : ` (por defecto: ${def.porDefecto})`;
    lineas.push(`  --${flag.padEnd(24)} ${def.ayuda}${defecto}`);
  }
  return lineas.join('\n');
}
