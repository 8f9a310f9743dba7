import type { MensajeSaliente, Publicador } from '../mensajeria/puertos-broker.js';
import type { AlmacenOutbox, FilaOutbox } from './puertos-outbox.js';

export interface OpcionesRelay {
  readonly almacen: AlmacenOutbox;
  readonly publicador: Publicador;
  /** Filas por lote. */
  readonly tamanoLote: number;
  /** Espera un aviso de filas nuevas (LISTEN/NOTIFY) o, como mucho, `ms` (sondeo de respaldo). */
  readonly esperarAviso: (ms: number) => Promise<void>;
  readonly intervaloSondeoMs: number;
  /**
   * Tras publicar un lote incompleto (menos de `tamanoLote` filas), espera esto antes de reclamar el
   * siguiente, para que se acumulen filas (como `linger.ms` de Kafka): menos sentencias por fila a
   * cambio de esa latencia. 0 (por defecto) = reclamar enseguida.
   */
  readonly esperaAcumularMs?: number;
  /** Backoff tras un fallo de publicación: base × 2^(fallos−1), con tope. */
  readonly backoffBaseMs: number;
  readonly backoffMaximoMs: number;
  readonly dormir?: (ms: number) => Promise<void>;
  readonly alPublicar?: (filas: readonly FilaOutbox[]) => void;
  /** Se llama entre la confirmación del broker y el marcado (punto de inyección de caídas en los tests). */
  readonly antesDeMarcar?: (filas: readonly FilaOutbox[]) => void | Promise<void>;
  readonly alFallar?: (filas: readonly FilaOutbox[], error: unknown, esperaMs: number) => void;
}

/**
 * El mensaje que publica el relay. El cuerpo es el sobre completo del evento, autodescriptivo:
 * `{id_evento, id_agregado, version_agregado, tipo, payload, metadatos}` (la misma forma que una fila
 * del outbox, que el consumidor valida con `filaAEvento`); las propiedades repiten lo necesario para
 * enrutar y trazar sin abrir el cuerpo.
 */
export function filaAMensaje(fila: FilaOutbox): MensajeSaliente {
  const propiedades: Record<string, string> = {
    id_evento: fila.idEvento,
    tipo: fila.tipo,
    version: String(fila.versionAgregado),
    id_correlacion: fila.metadatos.id_correlacion,
  };
  if (fila.metadatos.traceparent) propiedades.traceparent = fila.metadatos.traceparent;
  return {
    clave: fila.idAgregado,
    secuencia: fila.secuencia,
    cuerpo: JSON.stringify({
      id_evento: fila.idEvento,
      id_agregado: fila.idAgregado,
      version_agregado: fila.versionAgregado,
      tipo: fila.tipo,
      payload: fila.payload,
      metadatos: fila.metadatos,
    }),
    propiedades: propiedades as MensajeSaliente['propiedades'],
  };
}

const dormirPorDefecto = (ms: number) => new Promise<void>((resolver) => setTimeout(resolver, ms));

/**
 * El relay del outbox: reclama filas, las publica, espera las confirmaciones del broker y las marca.
 * Al menos una vez: una caída entre publicar y marcar hace que se republiquen con la misma secuencia
 * (el broker las descarta) y, si aun así llegan dos veces, el inbox del consumidor las absorbe.
 */
export function crearRelay(opciones: OpcionesRelay) {
  const dormir = opciones.dormir ?? dormirPorDefecto;
  let fallosSeguidos = 0;

  /** Un ciclo: reclama un lote y lo publica. Devuelve cuántas filas publicó (0 si no había o falló). */
  async function publicarUnLote(): Promise<number> {
    const filas = await opciones.almacen.reclamar(opciones.publicador.nombreProductor, opciones.tamanoLote);
    if (filas.length === 0) return 0;
    try {
      await opciones.publicador.publicar(filas.map(filaAMensaje));
    } catch (error) {
      fallosSeguidos += 1;
      const esperaMs = Math.min(opciones.backoffBaseMs * 2 ** (fallosSeguidos - 1), opciones.backoffMaximoMs);
      const texto = error instanceof Error ? error.message : String(error);
      await opciones.almacen.registrarFallo(
        filas.map((f) => f.id),
        texto.slice(0, 2000),
      );
      opciones.alFallar?.(filas, error, esperaMs);
      await dormir(esperaMs);
      return 0;
    }
    fallosSeguidos = 0;
    await opciones.antesDeMarcar?.(filas);
    await opciones.almacen.marcarPublicadas(filas.map((f) => f.id));
    opciones.alPublicar?.(filas);
    return filas.length;
  }

  /**
   * Bucle principal hasta que `parar` se active. Al pedir la parada, termina el lote que tiene entre
   * manos (publicar + marcar) y sale.
   */
  async function ejecutar(parar: { readonly pedido: boolean }): Promise<void> {
    const acumular = opciones.esperaAcumularMs ?? 0;
    while (!parar.pedido) {
      const publicadas = await publicarUnLote();
      if (parar.pedido) break;
      if (publicadas === 0 && fallosSeguidos === 0) await opciones.esperarAviso(opciones.intervaloSondeoMs);
      else if (publicadas > 0 && publicadas < opciones.tamanoLote && acumular > 0) await dormir(acumular);
    }
  }

  return { publicarUnLote, ejecutar };
}

export type Relay = ReturnType<typeof crearRelay>;
