import { crearAzar } from './azar.js';

/**
 * El plan de fallos de procesos: en qué punto de la carga (fracción de peticiones enviadas) se mata al
 * consumidor o al relay, o se reinicia PostgreSQL. Al azar (con semilla), separados entre sí y lejos
 * del principio y del final, con el reinicio de PostgreSQL hacia la mitad.
 */

export type TipoFallo = 'matar-consumidor' | 'matar-relay' | 'reiniciar-postgres';

export interface FalloPlaneado {
  readonly tipo: TipoFallo;
  /** Se dispara cuando se ha enviado esta fracción de las peticiones. */
  readonly fraccion: number;
}

export interface OpcionesFallos {
  readonly matarConsumidor: number;
  readonly matarRelay: number;
  readonly reiniciarPostgres: number;
  readonly semilla: number;
}

export const DESDE = 0.08;
export const HASTA = 0.92;

export function planearFallos(o: OpcionesFallos): FalloPlaneado[] {
  const azar = crearAzar(o.semilla ^ 0x5f3759df);
  const total = o.matarConsumidor + o.matarRelay + o.reiniciarPostgres;
  if (total === 0) return [];
  // Un hueco por fallo: cada uno cae al azar dentro del suyo (así quedan separados).
  const hueco = (HASTA - DESDE) / total;
  const tipos: TipoFallo[] = [
    ...Array<TipoFallo>(o.matarConsumidor).fill('matar-consumidor'),
    ...Array<TipoFallo>(o.matarRelay).fill('matar-relay'),
  ];
  azar.barajar(tipos);
  // Los reinicios de PostgreSQL, repartidos hacia el centro de la lista.
  for (let i = 0; i < o.reiniciarPostgres; i += 1) {
    const pos = Math.round(((i + 1) * (tipos.length + 1)) / (o.reiniciarPostgres + 1)) - 1;
    tipos.splice(Math.max(0, Math.min(tipos.length, pos + i)), 0, 'reiniciar-postgres');
  }
  return tipos.map((tipo, i) => ({ tipo, fraccion: DESDE + hueco * (i + 0.15 + 0.7 * azar.real()) }));
}
