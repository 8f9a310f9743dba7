import type { MensajeSaliente, Publicador, ResultadoPublicacion } from '../mensajeria/puertos-broker.js';
import { LiderazgoPerdido, type AlmacenOutbox, type CercaLiderazgo, type FilaOutbox } from './puertos-outbox.js';

export interface OpcionesRelay {
  readonly almacen: AlmacenOutbox;
  readonly publicador: Publicador;
  /** El mensaje (sobre) que se publica para una fila: formato de transporte, lo aporta el adaptador. */
  readonly aMensaje: (fila: FilaOutbox) => MensajeSaliente;
  /** La época de liderazgo que este relay ganó: cerca cada reclamo y cada marcado. */
  readonly cerca: CercaLiderazgo;
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
  readonly alPublicar?: (filas: readonly FilaOutbox[], resultados: readonly ResultadoPublicacion[]) => void;
  /** Se llama entre la confirmación del broker y el marcado (punto de inyección de caídas en los tests). */
  readonly antesDeMarcar?: (filas: readonly FilaOutbox[]) => void | Promise<void>;
  readonly alFallar?: (filas: readonly FilaOutbox[], error: unknown, esperaMs: number) => void;
  /** Al prepararse, si renumeró filas huérfanas de otro nombre de productor (ver `renumerarHuerfanas`). */
  readonly alRenumerar?: (cuantas: number) => void;
}

/**
 * Por qué el relay se niega a publicar. Las tres significan que el estado de las secuencias está mal
 * (base restaurada desde una copia, productor renombrado, dos relays a la vez): seguir perdería eventos
 * en silencio, porque el broker descarta, y confirma como éxito, toda secuencia que no supere su marca.
 */
export type AlarmaRelay =
  /** El broker dio por duplicadas filas que nunca se habían publicado: no llegarán a nadie. */
  | {
      readonly tipo: 'secuenciasDescartadas';
      readonly productor: string;
      readonly secuencias: readonly number[];
      readonly idsEvento: readonly string[];
    }
  /** La marca del broker va por delante de la secuencia del relay: lo que numere ahora se descartaría. */
  | {
      readonly tipo: 'porDetrasDelBroker';
      readonly productor: string;
      readonly secuenciaRelay: number | null;
      readonly marcaBroker: number;
    }
  /** Una vida anterior del relay guardó una alarma que nadie ha resuelto. */
  | { readonly tipo: 'alarmaGuardada'; readonly productor: string; readonly motivo: string };

/** La alarma en una frase para operadores (también es lo que se guarda con el productor). */
export function describirAlarma(alarma: AlarmaRelay): string {
  switch (alarma.tipo) {
    case 'secuenciasDescartadas': {
      const s = alarma.secuencias;
      const rango = s.length === 1 ? `la secuencia ${s[0]}` : `${s.length} secuencias (de ${s[0]} a ${s.at(-1)})`;
      return (
        `el broker descartó como duplicadas ${rango} del productor «${alarma.productor}» que nunca se habían publicado: ` +
        'esos eventos no llegarán a ningún consumidor. El estado de las secuencias está mal (copia restaurada, ' +
        'productor renombrado o dos relays a la vez); no se marca nada como publicado'
      );
    }
    case 'porDetrasDelBroker':
      return (
        `la secuencia del relay (${alarma.secuenciaRelay ?? 'ninguna'}) va por detrás de la marca del broker ` +
        `(${alarma.marcaBroker}) para el productor «${alarma.productor}»: el broker descartaría como duplicado ` +
        'lo que se publicara ahora (¿base restaurada desde una copia?)'
      );
    case 'alarmaGuardada':
      return `alarma sin resolver del productor «${alarma.productor}»: ${alarma.motivo}`;
  }
}

export type ResultadoLote =
  | { readonly tipo: 'publicado'; readonly filas: number }
  | { readonly tipo: 'vacio' }
  /** El broker no confirmó el lote: se anotó el fallo, se esperó el backoff y se reintentará igual. */
  | { readonly tipo: 'fallido' }
  | { readonly tipo: 'sinLiderazgo' }
  | { readonly tipo: 'alarma'; readonly alarma: AlarmaRelay };

export type PreparacionRelay =
  | { readonly tipo: 'listo'; readonly renumeradas: number }
  | { readonly tipo: 'sinLiderazgo' }
  | { readonly tipo: 'alarma'; readonly alarma: AlarmaRelay };

/** Cómo terminó `ejecutar`: a petición, porque otro relay tiene la época, o en alarma. */
export type FinRelay =
  | { readonly tipo: 'parada' }
  | { readonly tipo: 'sinLiderazgo' }
  | { readonly tipo: 'alarma'; readonly alarma: AlarmaRelay };

const dormirPorDefecto = (ms: number) => new Promise<void>((resolver) => setTimeout(resolver, ms));

function esLiderazgoPerdido(error: unknown): boolean {
  return error instanceof LiderazgoPerdido || (error instanceof Error && error.name === 'LiderazgoPerdido');
}

/** Ejecuta una operación cercada del almacén: `sinLiderazgo` si la cerca no pasó; cualquier otro fallo sigue su curso. */
async function cercado<T>(operacion: () => Promise<T>): Promise<{ readonly ok: true; readonly valor: T } | { readonly ok: false }> {
  try {
    return { ok: true, valor: await operacion() };
  } catch (error) {
    if (esLiderazgoPerdido(error)) return { ok: false };
    throw error;
  }
}

/**
 * El relay del outbox: reclama filas, las publica, espera las confirmaciones del broker y las marca.
 * Al menos una vez: una caída entre publicar y marcar hace que se republiquen con la misma secuencia
 * (el broker las descarta) y, si aun así llegan dos veces, el inbox del consumidor las absorbe.
 *
 * Nunca da por publicado lo que el broker descartó sin haberlo visto: si una fila nueva vuelve como
 * duplicada, el relay guarda una alarma, no marca nada del lote y se para. Y no publica nada sin
 * probar que sigue siendo el líder: reclamar y marcar van cercados por su época.
 */
export function crearRelay(opciones: OpcionesRelay) {
  const dormir = opciones.dormir ?? dormirPorDefecto;
  const { almacen, publicador, cerca } = opciones;
  const productor = publicador.nombreProductor;
  let fallosSeguidos = 0;

  /**
   * Antes del primer lote (al arrancar y al hacerse líder): una alarma guardada o una marca del broker
   * por delante de la secuencia del relay lo detienen; después se renumeran las filas huérfanas de un
   * nombre de productor anterior. Pulsar no da su marca (`null`): ahí solo queda la detección por envío.
   */
  async function preparar(): Promise<PreparacionRelay> {
    const estado = await almacen.estadoProductor(productor);
    if (estado.alarma !== null) return { tipo: 'alarma', alarma: { tipo: 'alarmaGuardada', productor, motivo: estado.alarma } };
    const marca = await publicador.ultimaSecuenciaAceptada();
    if (marca !== null && marca > (estado.ultimaSecuencia ?? 0)) {
      return {
        tipo: 'alarma',
        alarma: { tipo: 'porDetrasDelBroker', productor, secuenciaRelay: estado.ultimaSecuencia, marcaBroker: marca },
      };
    }
    const renumeradas = await cercado(() => almacen.renumerarHuerfanas(productor, cerca));
    if (!renumeradas.ok) return { tipo: 'sinLiderazgo' };
    if (renumeradas.valor > 0) opciones.alRenumerar?.(renumeradas.valor);
    return { tipo: 'listo', renumeradas: renumeradas.valor };
  }

  /** Un ciclo: reclama un lote, lo publica y, si el broker lo aceptó como se esperaba, lo marca. */
  async function publicarUnLote(): Promise<ResultadoLote> {
    const reclamo = await cercado(() => almacen.reclamar(productor, opciones.tamanoLote, cerca));
    if (!reclamo.ok) return { tipo: 'sinLiderazgo' };
    const filas = reclamo.valor;
    if (filas.length === 0) return { tipo: 'vacio' };
    let resultados: readonly ResultadoPublicacion[];
    try {
      resultados = await publicador.publicar(filas.map(opciones.aMensaje));
      if (resultados.length !== filas.length) {
        throw new Error(`El publicador devolvió ${resultados.length} resultados para ${filas.length} mensajes`);
      }
    } catch (error) {
      fallosSeguidos += 1;
      const esperaMs = Math.min(opciones.backoffBaseMs * 2 ** (fallosSeguidos - 1), opciones.backoffMaximoMs);
      const texto = error instanceof Error ? error.message : String(error);
      await almacen.registrarFallo(
        filas.map((f) => f.id),
        texto.slice(0, 2000),
      );
      opciones.alFallar?.(filas, error, esperaMs);
      await dormir(esperaMs);
      return { tipo: 'fallido' };
    }
    fallosSeguidos = 0;
    // Una fila ya numerada que vuelve duplicada es lo esperado (republicación tras una caída); una nueva, no.
    const descartadas = filas.filter((f, i) => resultados[i] === 'duplicado' && !f.yaNumerada);
    if (descartadas.length > 0) {
      const alarma: AlarmaRelay = {
        tipo: 'secuenciasDescartadas',
        productor,
        secuencias: descartadas.map((f) => f.secuencia),
        idsEvento: descartadas.map((f) => f.idEvento),
      };
      // Cercada: si otro relay ya tiene la época, él pudo publicar estas filas antes; no es una alarma.
      const guardada = await cercado(() => almacen.registrarAlarma(productor, describirAlarma(alarma), cerca));
      return guardada.ok ? { tipo: 'alarma', alarma } : { tipo: 'sinLiderazgo' };
    }
    await opciones.antesDeMarcar?.(filas);
    const marcado = await cercado(() =>
      almacen.marcarPublicadas(
        filas.map((f) => f.id),
        cerca,
      ),
    );
    if (!marcado.ok) return { tipo: 'sinLiderazgo' };
    opciones.alPublicar?.(filas, resultados);
    return { tipo: 'publicado', filas: filas.length };
  }

  /**
   * Prepara y publica lotes hasta que `parar` se active, otro relay tenga la época o salte una alarma.
   * Al pedir la parada, termina el lote que tiene entre manos (publicar + marcar) y sale.
   */
  async function ejecutar(parar: { readonly pedido: boolean }): Promise<FinRelay> {
    const preparacion = await preparar();
    if (preparacion.tipo !== 'listo') return preparacion;
    const acumular = opciones.esperaAcumularMs ?? 0;
    while (!parar.pedido) {
      const lote = await publicarUnLote();
      if (lote.tipo === 'sinLiderazgo' || lote.tipo === 'alarma') return lote;
      if (parar.pedido) break;
      if (lote.tipo === 'vacio') await opciones.esperarAviso(opciones.intervaloSondeoMs);
      else if (lote.tipo === 'publicado' && lote.filas < opciones.tamanoLote && acumular > 0) await dormir(acumular);
    }
    return { tipo: 'parada' };
  }

  return { preparar, publicarUnLote, ejecutar };
}

export type Relay = ReturnType<typeof crearRelay>;
