import {
  crearRelay,
  describirAlarma,
  type AlmacenOutbox,
  type CercaLiderazgo,
  type FilaOutbox,
  type FinRelay,
  type MensajeSaliente,
  type Publicador,
  type ResultadoPublicacion,
} from '@aeropartners/aplicacion';
import { duplicadosEnElBroker, type DuplicadoAbsorbido, type Logger } from '@aeropartners/adaptadores';
import { setTimeout as esperar } from 'node:timers/promises';

/** Lo que el relay necesita de su liderazgo: la época ganada, esperar avisos y soltar el cerrojo. */
export interface Liderazgo {
  readonly cerca: CercaLiderazgo;
  esperarAviso(ms: number): Promise<void>;
  cerrar(): Promise<void>;
}

export interface DependenciasRelay {
  readonly almacen: AlmacenOutbox;
  /**
   * Crea el publicador (con el nombre fijo del productor). Se llama solo tras ganar el liderazgo: con
   * Pulsar, un productor con ese nombre en un relay en reserva dejaría al líder en `ProducerBusy`.
   */
  readonly crearPublicador: () => Promise<Publicador>;
  /** El sobre con que se publica cada fila (`sobreDeFila` de adaptadores). */
  readonly aMensaje: (fila: FilaOutbox) => MensajeSaliente;
  /** Espera hasta ser el relay activo (o `null` si se pidió parar mientras esperaba). */
  readonly esperarLiderazgo: (senal: AbortSignal) => Promise<Liderazgo | null>;
  readonly logger: Logger;
  readonly tamanoLote: number;
  readonly intervaloSondeoMs: number;
  /** Ver `OpcionesRelay.esperaAcumularMs`. */
  readonly esperaAcumularMs?: number;
  readonly backoffBaseMs: number;
  readonly backoffMaximoMs: number;
  /** Inyección de fallos: se llama entre publicar y marcar cada lote (ver RELAY_MORIR_TRAS_PUBLICAR). */
  readonly antesDeMarcar?: (filas: readonly FilaOutbox[], lote: number) => void;
  /** Cada republicación que el broker descartó, al registro de eventos del socio (por lotes asíncronos, decisión 0153). */
  readonly alDuplicado?: (duplicado: DuplicadoAbsorbido) => void;
}

export interface ContadoresRelay {
  publicados: number;
  lotes: number;
  fallos: number;
  /** Filas que se volvieron a publicar (la vida anterior las publicó sin marcarlas): el broker las deduplica. */
  republicados: number;
  /** Republicaciones que el broker descartó por productor y secuencia: los duplicados absorbidos en la etapa `broker`. */
  absorbidosPorElBroker: number;
  /** Filas nuevas que el broker descartó como duplicadas (alarma: el estado de las secuencias está mal). */
  secuenciasDescartadas: number;
  /** Filas de otro nombre de productor que este renumeró al hacerse líder. */
  renumeradas: number;
  /** 1 mientras el relay está detenido por una alarma (ver `AlarmaRelay`); 0 si no. */
  alarma: number;
}

/**
 * El proceso del relay: espera el liderazgo, crea su publicador, comprueba que puede publicar sin
 * perder nada y publica lotes hasta que se le pide parar. Al parar, termina el lote que tiene entre
 * manos (publicar + marcar) antes de soltar el cerrojo. Si salta una alarma, se queda detenido (sin
 * publicar, no disponible) hasta que un operador la resuelva; si otro relay le quitó la época, termina
 * y el llamante sale para que el supervisor lo relance en reserva.
 */
export function crearServicioRelay(deps: DependenciasRelay) {
  const contadores: ContadoresRelay = {
    publicados: 0,
    lotes: 0,
    fallos: 0,
    republicados: 0,
    absorbidosPorElBroker: 0,
    secuenciasDescartadas: 0,
    renumeradas: 0,
    alarma: 0,
  };
  const parada = { pedido: false };
  const abortar = new AbortController();
  let liderazgo: Liderazgo | null = null;
  let publicador: Publicador | null = null;

  const registrar = (filas: readonly FilaOutbox[], resultados: readonly ResultadoPublicacion[]) => {
    contadores.lotes += 1;
    contadores.publicados += filas.length;
    for (const duplicado of duplicadosEnElBroker(filas, resultados)) {
      contadores.absorbidosPorElBroker += 1;
      deps.alDuplicado?.(duplicado);
    }
    for (const f of filas) {
      if (f.yaNumerada) contadores.republicados += 1;
      deps.logger.info(
        {
          id_correlacion: f.metadatos.id_correlacion,
          id_pago: f.idAgregado,
          id_evento: f.idEvento,
          tipo: f.tipo,
          version: f.versionAgregado,
          secuencia: f.secuencia,
        },
        'evento publicado',
      );
    }
  };

  const alarmar = (fin: Extract<FinRelay, { tipo: 'alarma' }>) => {
    const { alarma } = fin;
    contadores.alarma = 1;
    if (alarma.tipo === 'secuenciasDescartadas') contadores.secuenciasDescartadas += alarma.secuencias.length;
    deps.logger.error(
      {
        alarma: alarma.tipo,
        productor: alarma.productor,
        ...(alarma.tipo === 'secuenciasDescartadas'
          ? { secuencias: alarma.secuencias.slice(0, 50), ids_evento: alarma.idsEvento.slice(0, 50) }
          : {}),
        ...(alarma.tipo === 'porDetrasDelBroker' ? { secuencia_relay: alarma.secuenciaRelay, marca_broker: alarma.marcaBroker } : {}),
      },
      `ALARMA del relay: ${describirAlarma(alarma)}. El relay no publica hasta que se resuelva (docs/decisiones/0020-secuencia-descartada-es-alarma.md).`,
    );
  };

  /** Hasta que se pide parar (`parada`), otro relay tiene la época (`sinLiderazgo`) o salta una alarma. `null`: paró esperando. */
  async function ejecutar(): Promise<FinRelay | null> {
    liderazgo = await deps.esperarLiderazgo(abortar.signal);
    if (!liderazgo) return null;
    const lider = liderazgo;
    publicador = await hastaParar(deps.crearPublicador(), abortar.signal);
    if (!publicador) return null;
    deps.logger.info(
      { productor: publicador.nombreProductor, epoca: lider.cerca.epoca },
      'relay activo: este proceso tiene el cerrojo y la época',
    );
    const relay = crearRelay({
      almacen: deps.almacen,
      publicador,
      aMensaje: deps.aMensaje,
      cerca: lider.cerca,
      tamanoLote: deps.tamanoLote,
      esperarAviso: (ms) => lider.esperarAviso(ms),
      intervaloSondeoMs: deps.intervaloSondeoMs,
      ...(deps.esperaAcumularMs === undefined ? {} : { esperaAcumularMs: deps.esperaAcumularMs }),
      backoffBaseMs: deps.backoffBaseMs,
      backoffMaximoMs: deps.backoffMaximoMs,
      // `timers/promises` retira su oyente de 'abort' al vencer el plazo (se duerme muchas veces por
      // segundo con RELAY_ACUMULAR_MS); la parada corta la espera.
      dormir: (ms) => esperar(ms, undefined, { signal: abortar.signal }).catch(soloAborto),
      alPublicar: registrar,
      antesDeMarcar: (filas) => deps.antesDeMarcar?.(filas, contadores.lotes + 1),
      alFallar: (filas, error, esperaMs) => {
        contadores.fallos += 1;
        deps.logger.warn(
          {
            err: error,
            filas: filas.length,
            espera_ms: esperaMs,
            ids_correlacion: filas.slice(0, 20).map((f) => f.metadatos.id_correlacion),
          },
          'publicación fallida: se reintentará con las mismas secuencias',
        );
      },
      alRenumerar: (cuantas) => {
        contadores.renumeradas += cuantas;
        deps.logger.warn(
          { filas: cuantas, productor: publicador?.nombreProductor },
          'filas numeradas con otro nombre de productor y sin publicar: renumeradas con este (pueden llegar dos veces; el inbox lo absorbe)',
        );
      },
    });
    const fin = await relay.ejecutar(parada);
    if (fin.tipo === 'alarma') alarmar(fin);
    return fin;
  }

  /** Pide parar: deja de esperar, termina el lote en curso, cierra el publicador y suelta el cerrojo. */
  async function detener(ejecucion: Promise<unknown>): Promise<void> {
    parada.pedido = true;
    abortar.abort();
    await ejecucion.catch(() => undefined);
    await publicador?.cerrar().catch(() => undefined);
    await liderazgo?.cerrar();
  }

  return {
    ejecutar,
    detener,
    contadores: (): Readonly<ContadoresRelay> => ({ ...contadores }),
    /** Para `/health/ready`: un relay en alarma no está disponible (uno en reserva, sí). */
    enAlarma: (): boolean => contadores.alarma === 1,
  };
}

/** Espera `promesa` salvo que se pida parar antes; lo que llegue después se cierra. */
async function hastaParar(promesa: Promise<Publicador>, senal: AbortSignal): Promise<Publicador | null> {
  if (senal.aborted) {
    void promesa.then((p) => p.cerrar()).catch(() => undefined);
    return null;
  }
  let alAbortar = () => {};
  const abortado = new Promise<null>((resolver) => {
    alAbortar = () => resolver(null);
    senal.addEventListener('abort', alAbortar, { once: true });
  });
  try {
    const ganador = await Promise.race([promesa, abortado]);
    if (ganador === null) void promesa.then((p) => p.cerrar()).catch(() => undefined);
    return ganador;
  } finally {
    senal.removeEventListener('abort', alAbortar);
  }
}

/** Una espera cortada por la parada termina sin error; cualquier otro fallo sigue su curso. */
function soloAborto(error: unknown): void {
  if (!(error instanceof Error && error.name === 'AbortError')) throw error;
}
