import { conTope, esperarQue } from './esperas.js';
import { arrancarProceso, describirSalida, type OpcionesProceso, type ProcesoHijo } from './proceso.js';

export interface OpcionesListo {
  /** Nombre para los mensajes de error (`api`, `outbox#2`…). */
  readonly nombre: string;
  /** Tiempo máximo hasta anunciar el puerto y, después, hasta estar listo. Por defecto 30 s. */
  readonly tiempoMs?: number;
  /** Dónde se le pregunta. Por defecto `127.0.0.1`. */
  readonly host?: string;
  /** Ruta de disponibilidad (200 = listo). Por defecto `/health/ready`. */
  readonly rutaListo?: string;
}

/**
 * Espera a que el proceso anuncie su puerto (por IPC) y a que su ruta de disponibilidad responda 200.
 * Falla en cuanto el proceso termina, o al vencer el plazo, con sus últimas líneas en el mensaje.
 * Devuelve el puerto.
 */
export async function esperarServicioListo(proceso: ProcesoHijo, opciones: OpcionesListo): Promise<number> {
  const tiempoMs = opciones.tiempoMs ?? 30_000;
  const detalle = () => proceso.ultimasLineas().join('\n');
  const puerto = await conTope(proceso.puerto, tiempoMs, `${opciones.nombre} no anunció su puerto en ${tiempoMs} ms`).catch(
    (error: unknown) => {
      throw new Error(`${opciones.nombre} no arrancó: ${error instanceof Error ? error.message : String(error)}\n${detalle()}`, {
        cause: error,
      });
    },
  );
  const url = `http://${opciones.host ?? '127.0.0.1'}:${puerto}${opciones.rutaListo ?? '/health/ready'}`;
  await esperarQue(
    async () => {
      const salida = proceso.terminado;
      if (salida) throw new Error(`${opciones.nombre} terminó (${describirSalida(salida)}) antes de estar listo\n${detalle()}`);
      return (await consultarEstado(url)) === 200;
    },
    { tiempoMs, descripcion: `${opciones.nombre} listo (${url})`, detalle },
  );
  return puerto;
}

export interface ServicioEnMarcha {
  readonly proceso: ProcesoHijo;
  /** El puerto que anunció. */
  readonly puerto: number;
}

/**
 * Arranca un servicio compilado (`arrancarProceso`) y espera a que esté listo (`esperarServicioListo`).
 * Si no llega a estarlo, lo mata (SIGKILL) antes de fallar: no deja procesos a medias.
 */
export async function arrancarServicio(opciones: OpcionesProceso & OpcionesListo): Promise<ServicioEnMarcha> {
  const proceso = arrancarProceso(opciones);
  try {
    return { proceso, puerto: await esperarServicioListo(proceso, opciones) };
  } catch (error) {
    proceso.matar();
    await proceso.salida;
    throw error;
  }
}

/** Código de estado de un GET (consumiendo el cuerpo), o `undefined` si no hubo respuesta. */
export async function consultarEstado(url: string, tiempoMs = 2_000): Promise<number | undefined> {
  try {
    const respuesta = await fetch(url, { signal: AbortSignal.timeout(tiempoMs) });
    await respuesta.arrayBuffer();
    return respuesta.status;
  } catch {
    return undefined;
  }
}
