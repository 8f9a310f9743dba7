import { crearRelay, type AlmacenOutbox, type FilaOutbox, type Publicador } from '@aeropartners/aplicacion';
import type { Logger } from '@aeropartners/adaptadores';
import { setTimeout as esperar } from 'node:timers/promises';

/** Lo que el relay necesita de su liderazgo: esperar avisos y soltar el cerrojo. */
export interface Liderazgo {
  esperarAviso(ms: number): Promise<void>;
  cerrar(): Promise<void>;
}

export interface DependenciasRelay {
  readonly almacen: AlmacenOutbox;
  readonly publicador: Publicador;
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
}

export interface ContadoresRelay {
  publicados: number;
  lotes: number;
  fallos: number;
  /** Filas que se volvieron a publicar (la vida anterior las publicó sin marcarlas): el broker las deduplica. */
  republicados: number;
}

/**
 * El proceso del relay: espera el liderazgo, publica lotes hasta que se le pide parar y, al parar,
 * termina el lote que tiene entre manos (publicar + marcar) antes de soltar el cerrojo.
 */
export function crearServicioRelay(deps: DependenciasRelay) {
  const contadores: ContadoresRelay = { publicados: 0, lotes: 0, fallos: 0, republicados: 0 };
  const parada = { pedido: false };
  const abortar = new AbortController();
  let liderazgo: Liderazgo | null = null;

  const registrar = (filas: readonly FilaOutbox[]) => {
    contadores.lotes += 1;
    contadores.publicados += filas.length;
    for (const f of filas) {
      if (f.yaNumerada) contadores.republicados += 1;
      deps.logger.info(
        { id_correlacion: f.metadatos.id_correlacion, id_pago: f.idAgregado, id_evento: f.idEvento, tipo: f.tipo, version: f.versionAgregado, secuencia: f.secuencia },
        'evento publicado',
      );
    }
  };

  async function ejecutar(): Promise<void> {
    liderazgo = await deps.esperarLiderazgo(abortar.signal);
    if (!liderazgo) return;
    deps.logger.info({ productor: deps.publicador.nombreProductor }, 'relay activo: este proceso tiene el cerrojo');
    const lider = liderazgo;
    const relay = crearRelay({
      almacen: deps.almacen,
      publicador: deps.publicador,
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
          { err: error, filas: filas.length, espera_ms: esperaMs, ids_correlacion: filas.slice(0, 20).map((f) => f.metadatos.id_correlacion) },
          'publicación fallida: se reintentará con las mismas secuencias',
        );
      },
    });
    await relay.ejecutar(parada);
  }

  /** Pide parar: deja de esperar, termina el lote en curso, suelta el cerrojo. */
  async function detener(ejecucion: Promise<void>): Promise<void> {
    parada.pedido = true;
    abortar.abort();
    await ejecucion.catch(() => undefined);
    await liderazgo?.cerrar();
  }

  return { ejecutar, detener, contadores: (): Readonly<ContadoresRelay> => ({ ...contadores }) };
}

/** Una espera cortada por la parada termina sin error; cualquier otro fallo sigue su curso. */
function soloAborto(error: unknown): void {
  if (!(error instanceof Error && error.name === 'AbortError')) throw error;
}
