import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { NombreServicio } from './configuracion.js';

/** Una instancia de un servicio tal como la ve el supervisor. */
export interface InstanciaAnotada {
  /** 1, 2, … */
  readonly numero: number;
  /** `null` entre una muerte y su reinicio. */
  readonly pid: number | null;
  /** El que anunció por IPC (o `null` si aún no lo anunció). */
  readonly puerto: number | null;
  readonly reinicios: number;
}

/**
 * `.data/procesos.json`: lo que una herramienta externa (el experimento, las pruebas) necesita de una
 * topología en marcha. Los campos planos por servicio (`api`, `outbox`, `consumer`, `puertos`) son los
 * de la instancia n.º 1 y se mantienen por compatibilidad; `instancias` tiene todas.
 */
export interface Procesos {
  readonly supervisor: number;
  readonly databaseUrl: string;
  readonly api: number | null;
  readonly outbox: number | null;
  readonly consumer: number | null;
  readonly puertos: Readonly<Record<NombreServicio, number | null>>;
  readonly instancias: Readonly<Record<NombreServicio, readonly InstanciaAnotada[]>>;
  readonly postgresEmbebido: boolean;
  /** PID del postmaster del PostgreSQL embebido en marcha (`null` si está caído o es externo). */
  readonly postgresPid: number | null;
  /** Carpeta de datos del PostgreSQL embebido. */
  readonly postgresDatos: string | null;
  /** Arranques de PostgreSQL tras el primero: por SIGUSR2 o tras una caída. */
  readonly postgresReinicios: number;
  /** Caídas de PostgreSQL detectadas (el servidor terminó sin que el supervisor lo parara). */
  readonly postgresCaidas: number;
}

/** Escribe el fichero de una vez (fichero temporal + rename): quien lo lee nunca ve medio JSON. */
export function escribirProcesos(archivo: string, procesos: Procesos): void {
  mkdirSync(path.dirname(archivo), { recursive: true });
  const temporal = `${archivo}.${process.pid}.tmp`;
  writeFileSync(temporal, `${JSON.stringify(procesos, null, 2)}\n`);
  renameSync(temporal, archivo);
}

export function borrarProcesos(archivo: string): void {
  rmSync(archivo, { force: true });
}
