import { ESTADOS_ATASCABLES, validarUmbrales, type EstadoAtascable, type UmbralesAtasco } from './atascos.js';
import type { Cursor, PagoAtascado, PagosAtascados } from './puertos-barrido.js';

export interface OpcionesBarrendero {
  readonly atascados: PagosAtascados;
  readonly umbrales: UmbralesAtasco;
  /** Espera entre el final de una pasada y el comienzo de la siguiente. */
  readonly periodoMs: number;
  /** Re-impulsos como mucho por estado y pasada. Por defecto 100. */
  readonly lote?: number;
  /** Pagos examinados como mucho por estado y pasada (la sentencia es acotada). Por defecto 1000. */
  readonly ventana?: number;
  /** Cada pago re-impulsado (para el registro: id, estado, edad, veces). */
  readonly alReimpulsar?: (pago: PagoAtascado) => void;
  /** Una pasada que falló (base caída…): se cuenta y se reintenta en la siguiente. */
  readonly alFallar?: (error: unknown) => void;
  /** Espera abortable (los tests la sustituyen). */
  readonly dormir?: (ms: number, senal: AbortSignal) => Promise<void>;
}

export interface ContadoresBarrendero {
  readonly pasadas: number;
  readonly fallos: number;
  readonly reimpulsados: Readonly<Record<EstadoAtascable, number>>;
}

export interface Barrendero {
  /** Una pasada: un tramo acotado de cada estado, continuando donde se quedó la anterior. */
  barrer(): Promise<readonly PagoAtascado[]>;
  /** Empieza a barrer cada `periodoMs` (la primera pasada, tras el primer periodo). Idempotente. */
  iniciar(): void;
  /** Deja de barrer y espera a que termine la pasada en curso. Idempotente. */
  detener(): Promise<void>;
  contadores(): ContadoresBarrendero;
}

const LOTE_POR_DEFECTO = 100;
const VENTANA_POR_DEFECTO = 1000;

/**
 * El barrendero de pagos atascados (docs/arquitectura.md §4: todo lo que se puede atascar tiene edad, lista y
 * una forma idempotente de re-impulsarlo). Cada pasada recorre un tramo de cada estado no final y
 * re-impulsa lo atascado por el camino normal (outbox → relay → broker → consumidor); el recorrido
 * sigue en la pasada siguiente donde se quedó y vuelve a empezar al llegar al final, así que un atasco
 * que no se resuelve no tapa a los que hay detrás. Las pasadas no se solapan. Varios barrenderos a la
 * vez (un consumidor cada uno) no se estorban: el almacén re-impulsa cada pago una sola vez.
 */
export function crearBarrendero(opciones: OpcionesBarrendero): Barrendero {
  const umbrales = validarUmbrales(opciones.umbrales);
  const lote = entero('lote', opciones.lote ?? LOTE_POR_DEFECTO);
  const ventana = entero('ventana', opciones.ventana ?? VENTANA_POR_DEFECTO);
  const periodoMs = entero('periodoMs', opciones.periodoMs);
  const dormir = opciones.dormir ?? dormirAbortable;
  const cursores: Record<EstadoAtascable, Cursor> = { PENDIENTE: null, PROCESANDO: null };
  const reimpulsados: Record<EstadoAtascable, number> = { PENDIENTE: 0, PROCESANDO: 0 };
  let pasadas = 0;
  let fallos = 0;
  let enCurso: Promise<readonly PagoAtascado[]> | undefined;
  let parada: AbortController | undefined;
  let bucle: Promise<void> | undefined;

  async function pasada(): Promise<readonly PagoAtascado[]> {
    const hechos: PagoAtascado[] = [];
    for (const estado of ESTADOS_ATASCABLES) {
      const r = await opciones.atascados.reimpulsar({ estado, umbralMs: umbrales[estado], ventana, lote, despuesDe: cursores[estado] });
      cursores[estado] = r.siguiente;
      for (const pago of r.pagos) {
        reimpulsados[estado] += 1;
        hechos.push(pago);
        opciones.alReimpulsar?.(pago);
      }
    }
    pasadas += 1;
    return hechos;
  }

  function barrer(): Promise<readonly PagoAtascado[]> {
    // Una sola pasada a la vez: quien llama durante una la comparte.
    enCurso ??= pasada().finally(() => {
      enCurso = undefined;
    });
    return enCurso;
  }

  return {
    barrer,
    iniciar() {
      if (bucle) return;
      const controlador = new AbortController();
      parada = controlador;
      bucle = (async () => {
        while (!controlador.signal.aborted) {
          await dormir(periodoMs, controlador.signal).catch(() => undefined);
          if (controlador.signal.aborted) break;
          try {
            await barrer();
          } catch (error) {
            fallos += 1;
            opciones.alFallar?.(error);
          }
        }
      })();
    },
    async detener() {
      parada?.abort();
      await bucle;
      await enCurso?.catch(() => undefined);
    },
    contadores: () => ({ pasadas, fallos, reimpulsados: { ...reimpulsados } }),
  };
}

function entero(nombre: string, valor: number): number {
  if (!Number.isSafeInteger(valor) || valor < 1)
    throw new RangeError(`Opción ${nombre} del barrendero inválida: ${String(valor)} (entero ≥ 1)`);
  return valor;
}

function dormirAbortable(ms: number, senal: AbortSignal): Promise<void> {
  return new Promise((resolver) => {
    if (senal.aborted) return resolver();
    const alAbortar = () => {
      clearTimeout(temporizador);
      resolver();
    };
    const temporizador = setTimeout(() => {
      senal.removeEventListener('abort', alAbortar);
      resolver();
    }, ms);
    senal.addEventListener('abort', alAbortar, { once: true });
  });
}
