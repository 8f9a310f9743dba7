import { crearAzar } from './azar.js';

/**
 * El plan de fallos de procesos: en qué punto de la carga mantenida (fracción de sus peticiones enviadas)
 * se mata a un consumidor o al relay líder, se reinicia PostgreSQL (SIGUSR2) o se le hace caer (SIGKILL
 * al postmaster). Al azar (con semilla), separados entre sí y lejos del principio y del final, con lo de
 * PostgreSQL hacia el centro. Cada muerte de consumidor es de una instancia distinta mientras las haya.
 */

export type TipoFallo = 'matar-consumidor' | 'matar-relay-lider' | 'reiniciar-postgres' | 'matar-postgres';

export interface FalloPlaneado {
  readonly tipo: TipoFallo;
  /** Se dispara cuando se ha enviado esta fracción de las peticiones de la carga mantenida. */
  readonly fraccion: number;
  /** Instancia del consumidor que se mata (1, 2, …). */
  readonly instancia?: number;
}

export interface OpcionesFallos {
  readonly matarConsumidor: number;
  readonly matarRelay: number;
  readonly reiniciarPostgres: number;
  readonly matarPostgres: number;
  /** Consumidores en marcha, para repartir sus muertes. */
  readonly consumidores: number;
  readonly semilla: number;
}

export const DESDE = 0.08;
export const HASTA = 0.92;

export function planearFallos(o: OpcionesFallos): FalloPlaneado[] {
  const azar = crearAzar(o.semilla ^ 0x5f3759df);
  const deProcesos: TipoFallo[] = [
    ...Array<TipoFallo>(o.matarConsumidor).fill('matar-consumidor'),
    ...Array<TipoFallo>(o.matarRelay).fill('matar-relay-lider'),
  ];
  azar.barajar(deProcesos);
  // Los de PostgreSQL, alternando reinicio y caída, repartidos hacia el centro de la lista.
  const dePostgres: TipoFallo[] = [];
  for (let i = 0; i < Math.max(o.reiniciarPostgres, o.matarPostgres); i += 1) {
    if (i < o.reiniciarPostgres) dePostgres.push('reiniciar-postgres');
    if (i < o.matarPostgres) dePostgres.push('matar-postgres');
  }
  const tipos = [...deProcesos];
  dePostgres.forEach((tipo, i) => {
    const pos = Math.round(((i + 1) * (deProcesos.length + 1)) / (dePostgres.length + 1)) - 1;
    tipos.splice(Math.max(0, Math.min(tipos.length, pos + i)), 0, tipo);
  });
  if (tipos.length === 0) return [];
  const hueco = (HASTA - DESDE) / tipos.length;
  // Las instancias de consumidor, barajadas y en rueda: ninguna muere dos veces antes de que mueran todas.
  const rueda = azar.barajar(Array.from({ length: Math.max(1, o.consumidores) }, (_, i) => i + 1));
  let siguiente = 0;
  return tipos.map((tipo, i) => {
    // Un hueco por fallo: cada uno cae al azar dentro del suyo (así quedan separados).
    const fraccion = DESDE + hueco * (i + 0.15 + 0.7 * azar.real());
    if (tipo !== 'matar-consumidor') return { tipo, fraccion };
    const instancia = rueda[siguiente % rueda.length] as number;
    siguiente += 1;
    return { tipo, fraccion, instancia };
  });
}
