import { setTimeout as temporizador } from 'node:timers/promises';

/** Espera `ms`. Con `senal`, termina antes (sin error) si se aborta: sirve para bucles que se pueden parar. */
export async function dormir(ms: number, senal?: AbortSignal): Promise<void> {
  try {
    await temporizador(ms, undefined, senal ? { signal: senal } : undefined);
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
  }
}

/** `promesa`, o un `Error(mensaje)` si no se resuelve en `ms`. El temporizador no retiene el proceso. */
export function conTope<T>(promesa: Promise<T>, ms: number, mensaje: string): Promise<T> {
  let temporizadorTope: NodeJS.Timeout | undefined;
  const tope = new Promise<never>((_, rechazar) => {
    temporizadorTope = setTimeout(() => rechazar(new Error(mensaje)), ms);
    temporizadorTope.unref();
  });
  return Promise.race([promesa, tope]).finally(() => clearTimeout(temporizadorTope));
}

export interface OpcionesEspera {
  /** Tiempo máximo. */
  readonly tiempoMs: number;
  /** Pausa entre comprobaciones. Por defecto 100 ms. */
  readonly intervaloMs?: number;
  /** Qué se esperaba, para el mensaje de error. */
  readonly descripcion: string;
  /** Contexto que se añade al mensaje de error (p. ej. las últimas líneas de los procesos). */
  readonly detalle?: () => string;
}

/**
 * Comprueba `condicion` hasta que devuelva `true`; vencido el plazo, falla con la descripción. Un error
 * lanzado por la condición se propaga en el acto (p. ej. «el proceso terminó mientras se esperaba»).
 */
export async function esperarQue(condicion: () => boolean | Promise<boolean>, opciones: OpcionesEspera): Promise<void> {
  const limite = Date.now() + opciones.tiempoMs;
  for (;;) {
    if (await condicion()) return;
    if (Date.now() > limite) {
      const detalle = opciones.detalle?.();
      throw new Error(`Tiempo agotado (${opciones.tiempoMs} ms) esperando: ${opciones.descripcion}${detalle ? `\n${detalle}` : ''}`);
    }
    await dormir(opciones.intervaloMs ?? 100);
  }
}
