import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BARRIDO_POR_DEFECTO, type UmbralesAtasco } from '@aeropartners/aplicacion';
import { validarUrlPostgres } from '../postgres/url-postgres.js';

/** Lo que un comando de operación recibe del proceso (inyectable en los tests). */
export interface EntornoOperacion {
  readonly argumentos: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Carpeta desde la que se buscan `.data/procesos.json` (la raíz del repositorio con `pnpm operacion`). */
  readonly directorio: string;
  readonly escribir: (linea: string) => void;
  readonly escribirError: (linea: string) => void;
  /** Carga `pulsar-client` (solo con `PULSAR_URL`). */
  readonly importarPulsar?: () => Promise<unknown>;
}

/** Un error para el operador: una línea y el código de salida. */
export class ErrorOperacion extends Error {
  override readonly name = 'ErrorOperacion';
  constructor(
    mensaje: string,
    readonly codigo: 1 | 2 = 1,
  ) {
    super(mensaje);
  }
}

/**
 * La base con la que trabajar: `DATABASE_URL`, o la del `pnpm start` en marcha (`.data/procesos.json`,
 * o `ARCHIVO_PROCESOS`), si su supervisor sigue vivo.
 */
export function urlDeLaBase(entorno: EntornoOperacion): string {
  const propia = entorno.env.DATABASE_URL;
  if (propia !== undefined && propia !== '') {
    const url = validarUrlPostgres(propia);
    if (!url.ok) throw new ErrorOperacion(`DATABASE_URL inválida: ${url.error}`);
    return url.valor;
  }
  const archivo = path.resolve(entorno.directorio, entorno.env.ARCHIVO_PROCESOS ?? '.data/procesos.json');
  let texto: string;
  try {
    texto = readFileSync(archivo, 'utf8');
  } catch {
    throw new ErrorOperacion(
      `Falta DATABASE_URL y no hay un \`pnpm start\` en marcha (no existe ${archivo}): exporte DATABASE_URL o arranque \`pnpm start\`.`,
    );
  }
  let procesos: { supervisor?: unknown; databaseUrl?: unknown };
  try {
    procesos = JSON.parse(texto) as typeof procesos;
  } catch {
    throw new ErrorOperacion(`${archivo} no es JSON válido: exporte DATABASE_URL.`);
  }
  if (typeof procesos.supervisor !== 'number' || !vivo(procesos.supervisor)) {
    throw new ErrorOperacion(
      `Falta DATABASE_URL y el \`pnpm start\` de ${archivo} ya no está en marcha: exporte DATABASE_URL o arranque \`pnpm start\`.`,
    );
  }
  const url = validarUrlPostgres(typeof procesos.databaseUrl === 'string' ? procesos.databaseUrl : undefined);
  if (!url.ok) throw new ErrorOperacion(`databaseUrl de ${archivo} inválida: ${url.error}`);
  return url.valor;
}

function vivo(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

/** Umbrales de atasco: los del barrendero (por pasarela y variables `BARRENDERO_UMBRAL_*_MS`), o `--mas-de` para los dos estados. */
export function umbralesDe(env: EntornoOperacion['env'], masDe: string | undefined): UmbralesAtasco {
  if (masDe !== undefined) {
    const ms = duracionMs(masDe);
    if (ms === undefined)
      throw new ErrorOperacion(`--mas-de inválido: «${masDe}» (p. ej. 90s, 5m, 2h, 500ms; sin unidad, segundos; mayor que 0)`, 2);
    return { PENDIENTE: ms, PROCESANDO: ms };
  }
  const pasarela = env.PASARELA === 'stripe' ? 'stripe' : 'simulada';
  const base = BARRIDO_POR_DEFECTO[pasarela].umbrales;
  const umbral = (variable: string, porDefecto: number) => {
    const valor = env[variable];
    if (valor === undefined || valor === '') return porDefecto;
    if (!/^[1-9][0-9]{0,9}$/.test(valor)) throw new ErrorOperacion(`${variable} inválida: «${valor}» (milisegundos, entero mayor que 0)`);
    return Number(valor);
  };
  return {
    PENDIENTE: umbral('BARRENDERO_UMBRAL_PENDIENTE_MS', base.PENDIENTE),
    PROCESANDO: umbral('BARRENDERO_UMBRAL_PROCESANDO_MS', base.PROCESANDO),
  };
}

const UNIDADES: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** `90s`, `5m`, `2h`, `500ms`, `60` (segundos) → milisegundos; `undefined` si no vale o es 0. */
export function duracionMs(texto: string): number | undefined {
  const m = /^(\d{1,9})(ms|s|min|m|h)?$/.exec(texto.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIDADES[m[2] ?? 's']!;
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

/** Una duración para personas: `2 h 05 min`, `3 min 10 s`, `12 s`, `450 ms`. */
export function duracionLegible(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${String(min % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${String(h % 24).padStart(2, '0')} h`;
}

/** Filas alineadas en columnas (la última sin relleno). */
export function tabla(cabecera: readonly string[], filas: readonly (readonly string[])[]): string[] {
  const anchos = cabecera.map((c, i) => Math.max(c.length, ...filas.map((f) => (f[i] ?? '').length)));
  const linea = (f: readonly string[]) =>
    f
      .map((celda, i) => (i === f.length - 1 ? celda : celda.padEnd(anchos[i]!)))
      .join('  ')
      .trimEnd();
  return [linea(cabecera), ...filas.map(linea)];
}
