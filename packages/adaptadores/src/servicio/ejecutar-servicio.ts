import type { Logger } from '../observabilidad/logger.js';

/** Lo que devuelve el arranque de un servicio: cómo pararlo y, si puede terminar solo, cuándo. */
export interface ServicioEnMarcha {
  /** Parada ordenada (deja de aceptar trabajo, termina el que tiene, cierra conexiones). Se llama una vez. */
  detener(motivo: string): Promise<void>;
  /** Se resuelve si el servicio deja de funcionar por su cuenta (p. ej. la suscripción se cerró): sale con 1. */
  readonly terminado?: Promise<unknown>;
  /** Campos de la línea «iniciado» (puertos, modo…). */
  readonly campos?: Readonly<Record<string, unknown>>;
}

export interface OpcionesEjecutarServicio {
  readonly logger: Pick<Logger, 'fatal' | 'error' | 'info' | 'flush'>;
  /** Construye y arranca el servicio. Si lanza, se registra y el proceso sale con 1. */
  arrancar(): Promise<ServicioEnMarcha>;
  /** Lo que hay que cerrar si el arranque falla a medias (el pool, por ejemplo). */
  readonly alFallarArranque?: () => Promise<void>;
  /** Tiempo de gracia para que el registro termine de escribirse antes de forzar la salida. Por defecto 2 s. */
  readonly graciaSalidaMs?: number;
  /** Proceso sobre el que actuar (los tests pasan uno falso). Por defecto `process`. */
  readonly proceso?: ProcesoServicio;
}

/** Lo que se usa de `process`. */
export interface ProcesoServicio {
  once(evento: 'SIGTERM' | 'SIGINT', oyente: () => void): unknown;
  on(evento: 'unhandledRejection', oyente: (razon: unknown) => void): unknown;
  exitCode?: number | string | null | undefined;
  exit(codigo?: number): never;
}

/**
 * El ciclo de vida común de los servicios (api, outbox, consumer), escrito una vez: arranca; si falla,
 * lo dice en una línea y sale con 1; con SIGTERM/SIGINT para en orden y sale con 0; si el servicio
 * termina solo o una promesa se rechaza sin manejar, lo registra y para con 1 (un proceso en un estado
 * que nadie previó no debe seguir atendiendo). Devuelve cuando el servicio arrancó.
 */
export async function ejecutarServicio(opciones: OpcionesEjecutarServicio): Promise<void> {
  const { logger } = opciones;
  const proceso = opciones.proceso ?? (process as unknown as ProcesoServicio);
  const gracia = opciones.graciaSalidaMs ?? 2_000;
  let enMarcha: ServicioEnMarcha | undefined;
  let apagando = false;

  const salir = (codigo: number) => {
    proceso.exitCode = codigo;
    logger.flush();
    const t = setTimeout(() => proceso.exit(codigo), gracia);
    t.unref();
  };

  const apagar = async (motivo: string, codigo: number) => {
    if (apagando) return;
    apagando = true;
    if (enMarcha) {
      logger.info({ motivo }, 'apagando: se termina el trabajo en curso');
      await enMarcha.detener(motivo).catch((error: unknown) => logger.error({ err: error }, 'error al apagar'));
      logger.info({ motivo, codigo }, 'servicio detenido');
    }
    salir(codigo);
  };

  proceso.on('unhandledRejection', (razon) => {
    logger.fatal({ err: razon }, 'promesa rechazada sin manejar: el proceso se detiene');
    void apagar('promesa rechazada sin manejar', 1);
  });

  try {
    enMarcha = await opciones.arrancar();
  } catch (error) {
    logger.fatal({ err: error }, 'el servicio no pudo arrancar');
    await opciones.alFallarArranque?.().catch(() => undefined);
    salir(1);
    return;
  }
  logger.info({ ...(enMarcha.campos ?? {}) }, 'servicio iniciado');
  void enMarcha.terminado?.then(
    () => apagar('el servicio terminó sin que se pidiera', 1),
    (error: unknown) => {
      logger.fatal({ err: error }, 'el servicio falló');
      void apagar('error', 1);
    },
  );
  proceso.once('SIGTERM', () => void apagar('SIGTERM', 0));
  proceso.once('SIGINT', () => void apagar('SIGINT', 0));
}
