import { dormir } from '@aeropartners/procesos';
import type { Rampa } from './opciones.js';

/**
 * La capacidad de extremo a extremo, medida al principio de la misma corrida: una rampa de ritmo por
 * escalones hasta que los pagos terminados dejan de seguir a los aceptados (o la API deja de absorber el
 * ritmo pedido); después se mantiene una fracción de ella. Criterio: docs/decisiones/0072-…
 */

/** El pipeline en un instante: pagos de la corrida creados y finales, y peticiones enviadas. */
export interface FotoPipeline {
  /** Segundos desde el inicio del experimento. */
  readonly segundo: number;
  readonly creados: number;
  readonly finales: number;
  readonly peticiones: number;
}

export interface Escalon {
  readonly ritmoPedido: number;
  readonly desde: number;
  readonly hasta: number;
  /** Peticiones enviadas por segundo (lo que la API absorbió con la concurrencia dada). */
  readonly peticionesPorSegundo: number;
  /** Pagos nuevos aceptados (creados en la base) por segundo. */
  readonly aceptadosPorSegundo: number;
  /** Pagos que llegaron a EXITOSO o FALLIDO por segundo. */
  readonly terminadosPorSegundo: number;
  /** Pagos aceptados sin terminar al empezar y al acabar el escalón. */
  readonly atrasoInicial: number;
  readonly atrasoFinal: number;
}

export type Juicio = { readonly saturado: false } | { readonly saturado: true; readonly motivo: string };

export interface MedidaCapacidad {
  readonly escalones: readonly Escalon[];
  /** ¿Llegó la rampa a saturar? Si no (se acabó su parte del plan), la capacidad es una cota inferior. */
  readonly saturada: boolean;
  readonly motivo: string;
  /** Lo que la máquina termina por segundo de extremo a extremo: el máximo de terminados/s de un escalón. */
  readonly pagosPorSegundo: number;
  /** Lo mismo en peticiones/s del plan (cada pago lleva sus copias, reintentos y conflictos). */
  readonly peticionesPorSegundo: number;
  /** El ritmo que se mantiene tras la rampa: `fraccion` × la capacidad, en peticiones/s. */
  readonly ritmoMantenido: number;
  readonly fraccion: number;
}

/** La rampa no consume más que esta fracción de las peticiones del plan: el resto es la carga mantenida. */
export const RAMPA_MAXIMA_DEL_PLAN = 0.4;

/** Un escalón que sigue el ritmo: terminados ≥ este tanto de los aceptados… */
export const SEGUIMIENTO_MINIMO = 0.9;
/** …y la API envía al menos este tanto del ritmo pedido. */
export const ABSORCION_MINIMA = 0.9;

export function escalonEntre(ritmoPedido: number, a: FotoPipeline, b: FotoPipeline): Escalon {
  const s = Math.max(0.001, b.segundo - a.segundo);
  return {
    ritmoPedido,
    desde: a.segundo,
    hasta: b.segundo,
    peticionesPorSegundo: (b.peticiones - a.peticiones) / s,
    aceptadosPorSegundo: (b.creados - a.creados) / s,
    terminadosPorSegundo: (b.finales - a.finales) / s,
    atrasoInicial: a.creados - a.finales,
    atrasoFinal: b.creados - b.finales,
  };
}

/**
 * ¿Se saturó el pipeline en este escalón? El primero nunca (calienta y llena el pipeline). Después:
 * - los terminados dejan de seguir a los aceptados: menos del 90 % y el atraso creció más que el ruido
 *   (un cuarto de segundo de lo aceptado, o 20 pagos);
 * - o la API no absorbe el ritmo pedido: envía menos del 90 % (la concurrencia se llenó de esperas).
 */
export function juzgarEscalon(e: Escalon, numero: number): Juicio {
  if (numero === 0) return { saturado: false };
  const crecio = e.atrasoFinal - e.atrasoInicial > Math.max(20, 0.25 * e.aceptadosPorSegundo);
  if (e.terminadosPorSegundo < SEGUIMIENTO_MINIMO * e.aceptadosPorSegundo && crecio) {
    return {
      saturado: true,
      motivo: `a ${e.ritmoPedido} pet/s los terminados (${Math.round(e.terminadosPorSegundo)}/s) dejan de seguir a los aceptados (${Math.round(e.aceptadosPorSegundo)}/s)`,
    };
  }
  if (e.peticionesPorSegundo < ABSORCION_MINIMA * e.ritmoPedido) {
    return { saturado: true, motivo: `a ${e.ritmoPedido} pet/s la API solo absorbe ${Math.round(e.peticionesPorSegundo)} pet/s` };
  }
  return { saturado: false };
}

export function medirCapacidad(
  escalones: readonly Escalon[],
  juicio: Juicio,
  peticionesPorPago: number,
  fraccion: number,
): MedidaCapacidad {
  const pagosPorSegundo = Math.max(0, ...escalones.map((e) => e.terminadosPorSegundo));
  const peticionesPorSegundo = pagosPorSegundo * peticionesPorPago;
  return {
    escalones,
    saturada: juicio.saturado,
    motivo: juicio.saturado ? juicio.motivo : 'la rampa agotó su parte del plan sin saturar: la capacidad es una cota inferior',
    pagosPorSegundo,
    peticionesPorSegundo,
    ritmoMantenido: Math.max(1, Math.round(fraccion * peticionesPorSegundo)),
    fraccion,
  };
}

export interface ControlRitmo {
  /** El ritmo que el despachador debe seguir ahora (peticiones/s; 0 = sin límite). */
  ritmo(): number;
  /** `rampa` mientras mide; `mantenida` después (o desde el principio con un ritmo fijo). */
  fase(): 'rampa' | 'mantenida';
  /** La medida, cuando la rampa termina (`undefined` con un ritmo fijo). */
  readonly medida: Promise<MedidaCapacidad | undefined>;
  /** Para la rampa (p. ej. si el plan se acabó antes). */
  detener(): void;
}

/** Un ritmo fijo, sin rampa. */
export function ritmoFijo(ritmo: number): ControlRitmo {
  return { ritmo: () => ritmo, fase: () => 'mantenida', medida: Promise.resolve(undefined), detener: () => undefined };
}

export interface OpcionesRampa {
  readonly rampa: Rampa;
  readonly fraccion: number;
  readonly peticionesPorPago: number;
  /** La rampa no consume más de estas peticiones del plan (el resto es la carga mantenida). */
  readonly limitePeticiones: number;
  readonly fotografiar: () => Promise<FotoPipeline>;
  readonly alEscalon?: (e: Escalon, juicio: Juicio) => void;
  /** Cómo se espera cada escalón (por defecto, de verdad; los tests lo simulan). */
  readonly esperar?: (ms: number, senal: AbortSignal) => Promise<void>;
}

/** Sube el ritmo escalón a escalón, juzgando cada uno, hasta saturar; después mantiene la fracción de la capacidad. */
export function rampaDeCapacidad(o: OpcionesRampa): ControlRitmo {
  let actual = o.rampa.inicio;
  let fase: 'rampa' | 'mantenida' = 'rampa';
  const parada = new AbortController();
  const esperar = o.esperar ?? dormir;
  const medida = (async (): Promise<MedidaCapacidad> => {
    const escalones: Escalon[] = [];
    let juicio: Juicio = { saturado: false };
    let antes = await o.fotografiar();
    for (let k = 0; !parada.signal.aborted; k += 1) {
      actual = o.rampa.inicio + k * o.rampa.paso;
      await esperar(o.rampa.escalonS * 1000, parada.signal);
      const despues = await o.fotografiar();
      const escalon = escalonEntre(actual, antes, despues);
      escalones.push(escalon);
      juicio = juzgarEscalon(escalon, k);
      o.alEscalon?.(escalon, juicio);
      if (juicio.saturado || despues.peticiones >= o.limitePeticiones) break;
      antes = despues;
    }
    const m = medirCapacidad(escalones, juicio, o.peticionesPorPago, o.fraccion);
    actual = m.ritmoMantenido;
    fase = 'mantenida';
    return m;
  })();
  return {
    ritmo: () => actual,
    fase: () => fase,
    medida,
    detener: () => parada.abort(),
  };
}
