import { readFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { dormir } from './esperas.js';

/**
 * ¿Existe el proceso `pid` y no es un zombi? (Un hijo muerto que su padre aún no recogió sigue
 * respondiendo a `kill(pid, 0)`.)
 */
export function pidVivo(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const estado = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // El nombre va entre paréntesis y puede tener espacios: el estado es el primer campo tras «) ».
    return estado.slice(estado.lastIndexOf(')') + 2, estado.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux'; // sin /proc no se distingue un zombi
  }
}

/** PID del postmaster según la primera línea de `postmaster.pid` de la carpeta de datos, si existe. */
export async function leerPidPostmaster(directorio: string): Promise<number | undefined> {
  try {
    const primera = (await readFile(path.join(directorio, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '';
    const pid = Number.parseInt(primera, 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Procesos `nombre` (por defecto `postgres`) cuya carpeta de trabajo es `directorio`: el postmaster y
 * todos sus hijos (cada proceso de PostgreSQL trabaja en su carpeta de datos). Tras la muerte del
 * postmaster, sus hijos huérfanos siguen ahí, con la memoria compartida del servidor muerto adjunta,
 * hasta que terminan. Solo Linux (`/proc`); en otro sistema devuelve `[]`.
 */
export async function procesosEnCarpeta(directorio: string, nombre = 'postgres'): Promise<number[]> {
  const buscada = path.resolve(directorio);
  let entradas: string[];
  try {
    entradas = await readdir('/proc');
  } catch {
    return [];
  }
  const encontrados: number[] = [];
  await Promise.all(
    entradas
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        try {
          const [carpeta, comando] = await Promise.all([readlink(`/proc/${e}/cwd`), readFile(`/proc/${e}/comm`, 'utf8')]);
          if (carpeta === buscada && comando.trim() === nombre && pidVivo(Number(e))) encontrados.push(Number(e));
        } catch {
          // terminó mientras se miraba, o no es nuestro: no cuenta
        }
      }),
  );
  return encontrados.sort((a, b) => a - b);
}

export interface OpcionesSinProcesos {
  /** Lo que se espera a que terminen solos antes de SIGQUIT. Por defecto 5 s. */
  readonly graciaMs?: number;
  /** Tras SIGQUIT, lo que se espera antes de SIGKILL. Por defecto 2 s. */
  readonly graciaQuitMs?: number;
  readonly nombre?: string;
}

/**
 * Espera a que no quede ningún proceso de PostgreSQL sobre `directorio` (ver {@link procesosEnCarpeta}).
 * Los hijos de un postmaster muerto lo notan y terminan solos; si alguno sigue tras `graciaMs` (p. ej.
 * en mitad de una consulta larga), recibe SIGQUIT (la salida inmediata de PostgreSQL) y, si aun así
 * sigue, SIGKILL. Arrancar otro servidor antes pondría dos juegos de procesos a escribir los mismos
 * ficheros de datos. Devuelve los PID que hubo que terminar a la fuerza.
 */
export async function esperarSinProcesos(directorio: string, opciones: OpcionesSinProcesos = {}): Promise<{ readonly forzados: number[] }> {
  const nombre = opciones.nombre ?? 'postgres';
  const hasta = async (limite: number): Promise<number[]> => {
    for (;;) {
      const quedan = await procesosEnCarpeta(directorio, nombre);
      if (quedan.length === 0 || Date.now() >= limite) return quedan;
      await dormir(50);
    }
  };
  let quedan = await hasta(Date.now() + (opciones.graciaMs ?? 5_000));
  if (quedan.length === 0) return { forzados: [] };
  const forzados = [...quedan];
  for (const pid of quedan) senalSegura(pid, 'SIGQUIT');
  quedan = await hasta(Date.now() + (opciones.graciaQuitMs ?? 2_000));
  for (const pid of quedan) senalSegura(pid, 'SIGKILL');
  await hasta(Date.now() + 10_000);
  return { forzados };
}

function senalSegura(pid: number, senal: NodeJS.Signals): void {
  try {
    process.kill(pid, senal);
  } catch {
    // ya terminó
  }
}
