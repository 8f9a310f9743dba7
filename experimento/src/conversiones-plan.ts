import { crearAzar } from './azar.js';

/**
 * El plan de conversiones de una corrida (issue 12): qué hechos cuenta cada socio de cada conversión,
 * cuántas copias de cada uno envía (a la vez o una tras otra), en qué orden llegan y qué se reenvía al
 * final. Es puro y determinista (la misma semilla da el mismo plan), así que se prueba sin red.
 *
 * Cada conversión: `creada`, a veces uno o dos `ajustada` (versión creciente: el importe es el de la
 * versión mayor) y un desenlace `aprobada`, `revertida` o ninguno (se queda pendiente). Algunas aprobadas
 * se revierten **después de cobrarse** su comisión en una liquidación: esa reversión se guarda hasta que
 * la comisión está PAGADA (la envía `carga-conversiones.ts`) y debe dar una recuperación. El ciclo entero
 * se baraja por ventanas de conversiones, así que una reversión o una aprobación llegan a menudo antes que
 * la creación. Lo que debe quedar NO está aquí: lo calcula el veredicto con el dominio sobre los hechos.
 */

export type TipoHecho = 'creada' | 'aprobada' | 'ajustada' | 'revertida';
type Moneda = 'USD' | 'EUR' | 'COP';

/** El cuerpo de `POST /conversiones/eventos`, tal cual se envía (idéntico en cada copia). */
export interface CuerpoHecho {
  readonly id_evento: string;
  readonly tipo: `conversion.${TipoHecho}`;
  readonly id_conversion: string;
  readonly id_afiliado?: string;
  readonly monto?: number;
  readonly moneda?: Moneda;
  readonly ocurrido_en: string;
  readonly version?: number;
  readonly motivo?: string;
}

export interface HechoPlaneado {
  /** Número del socio (1…P). */
  readonly socio: number;
  readonly cuerpo: CuerpoHecho;
  /** Copias idénticas que se envían (≥ 2: todo hecho llega duplicado). */
  readonly copias: number;
  /** ¿Las copias salen a la vez (compitiendo) o una tras otra? */
  readonly simultaneas: boolean;
  /** Se reenvía una vez más al final, con todo ya aplicado (réplica tardía). */
  readonly tardia: boolean;
  /** La reversión que espera a que la comisión esté PAGADA (debe dar una recuperación). */
  readonly trasPago: boolean;
  /**
   * Lo que se envía justo después de esta reversión tras el pago: dos conversiones nuevas del mismo
   * afiliado y moneda, aprobadas, que valen más que lo que hay que recuperar, para que la siguiente
   * liquidación netee la recuperación (sin ellas, el saldo negativo solo se arrastraría).
   */
  readonly siguen?: readonly HechoPlaneado[];
}

/** La regla de comisión de un socio, como la recibe `pnpm socios comision`. */
export interface ReglaPlaneada {
  /** Porcentaje de la venta en puntos básicos (1250 = 12,5 %). */
  readonly puntosBasicos: number;
  /** Tope por comisión en unidades menores, en `monedaTope`; sus conversiones van todas en esa moneda. */
  readonly tope?: { readonly unidadesMenores: number; readonly moneda: Moneda };
  /** 0: las comisiones aprobadas se pueden pagar en cuanto se aprueban (liquidaciones durante la corrida). */
  readonly diasBloqueo: 0;
}

export interface ConversionPlaneada {
  readonly socio: number;
  readonly idConversion: string;
  readonly idAfiliado: string;
  readonly moneda: Moneda;
  readonly desenlace: 'aprobada' | 'revertida' | 'pendiente' | 'revertida-tras-pago' | 'tras-la-reversion';
  /** Sus hechos, cada uno una vez (el orden de envío va en `PlanConversiones.envios`). */
  readonly hechos: readonly HechoPlaneado[];
}

export interface OpcionesPlanConversiones {
  readonly corrida: string;
  readonly socios: number;
  readonly conversionesPorSocio: number;
  readonly semilla: number;
  /** Instante de referencia de `ocurrido_en` (posterior a la regla de comisión de cada socio). */
  readonly inicio: Date;
}

export interface PlanConversiones {
  readonly reglas: readonly ReglaPlaneada[];
  readonly conversiones: readonly ConversionPlaneada[];
  /** Los hechos de la carga principal en orden de envío (ciclos barajados por ventanas, socios entrelazados); sin las reversiones tras el pago. */
  readonly envios: readonly HechoPlaneado[];
  /** Las reversiones que esperan a que su comisión esté pagada. */
  readonly trasPago: readonly HechoPlaneado[];
  readonly hechos: number;
  /** Peticiones planeadas (copias y réplicas tardías incluidas). */
  readonly peticiones: number;
  /** Peticiones que repiten un hecho ya enviado. */
  readonly duplicadas: number;
  readonly tardias: number;
}

const MONEDAS: readonly Moneda[] = ['USD', 'EUR', 'COP'];
/** Conversiones que se barajan juntas: sus ciclos se mezclan dentro de la ventana. */
const VENTANA = 12;

/**
 * La regla de cada socio: un porcentaje distinto; el 2.º con tope (en USD: sus ventas van todas en USD,
 * porque una regla con importes es de una sola moneda). Todas sin bloqueo, para pagar durante la corrida.
 */
export function reglaDeSocio(numero: number): ReglaPlaneada {
  const puntosBasicos = [1000, 750, 1250, 500][(numero - 1) % 4] as number;
  return numero % 4 === 2
    ? { puntosBasicos, tope: { unidadesMenores: 2_500, moneda: 'USD' }, diasBloqueo: 0 }
    : { puntosBasicos, diasBloqueo: 0 };
}

/** Los argumentos de `pnpm socios comision <id>` para una regla planeada. */
export function argumentosRegla(r: ReglaPlaneada): string[] {
  const args = ['--porcentaje', (r.puntosBasicos / 100).toFixed(2), '--dias-bloqueo', String(r.diasBloqueo)];
  if (r.tope) args.push('--tope', (r.tope.unidadesMenores / 100).toFixed(2), '--moneda', r.tope.moneda);
  return args;
}

/** Unidades menores → número JSON con 2 decimales (todas las monedas admitidas tienen 2). */
const importe = (unidades: number) => unidades / 100;

/** Cuántas copias de un hecho y cómo: casi siempre 2 o 3, a veces muchas, a veces 20 a la vez. */
function envio(r: number, extra: number): { copias: number; simultaneas: boolean } {
  if (r < 0.5) return { copias: 2, simultaneas: false };
  if (r < 0.8) return { copias: 2 + (extra % 2), simultaneas: true };
  if (r < 0.96) return { copias: 4 + (extra % 5), simultaneas: extra % 2 === 0 };
  return { copias: 20, simultaneas: true };
}

export function crearPlanConversiones(o: OpcionesPlanConversiones): PlanConversiones {
  const azar = crearAzar(o.semilla ^ 0x5eed_c0de);
  const base = o.inicio.getTime();
  const reglas = Array.from({ length: o.socios }, (_, i) => reglaDeSocio(i + 1));
  const conversiones: ConversionPlaneada[] = [];
  const colas: HechoPlaneado[][] = [];
  const trasPago: HechoPlaneado[] = [];
  let peticiones = 0;
  let hechos = 0;
  let tardias = 0;
  let indice = 0;
  for (let socio = 1; socio <= o.socios; socio += 1) {
    const regla = reglas[socio - 1] as ReglaPlaneada;
    const propias: ConversionPlaneada[] = [];
    for (let n = 1; n <= o.conversionesPorSocio; n += 1) {
      indice += 1;
      const idConversion = `conv-${o.corrida}-${n}`;
      const idAfiliado = `afiliado-${n % 12}`;
      const moneda = regla.tope ? regla.tope.moneda : (MONEDAS[n % MONEDAS.length] as Moneda);
      const instante = (k: number) => new Date(base + indice * 8 + k).toISOString();
      const r = azar.real();
      const desenlace: ConversionPlaneada['desenlace'] =
        r < 0.6 ? 'aprobada' : r < 0.8 ? 'revertida' : r < 0.9 ? 'pendiente' : 'revertida-tras-pago';
      const ajustes = azar.real() < 0.3 ? (azar.real() < 0.3 ? 2 : 1) : 0;
      const cuerpos: { cuerpo: CuerpoHecho; trasPago: boolean }[] = [];
      const id = (k: number, tipo: TipoHecho) => `ev-${o.corrida}-${n}-${k}-${tipo}`;
      cuerpos.push({
        cuerpo: {
          id_evento: id(0, 'creada'),
          tipo: 'conversion.creada',
          id_conversion: idConversion,
          id_afiliado: idAfiliado,
          monto: importe(azar.entero(500, 60_000)),
          moneda,
          ocurrido_en: instante(0),
          version: 1,
        },
        trasPago: false,
      });
      for (let k = 1; k <= ajustes; k += 1) {
        cuerpos.push({
          cuerpo: {
            id_evento: id(k, 'ajustada'),
            tipo: 'conversion.ajustada',
            id_conversion: idConversion,
            monto: importe(azar.entero(500, 60_000)),
            moneda,
            ocurrido_en: instante(k),
            version: k + 1,
            motivo: 'importe corregido',
          },
          trasPago: false,
        });
      }
      // La mitad de las revertidas también se aprueban: aprobación y reversión compiten.
      const aprobada = desenlace === 'aprobada' || desenlace === 'revertida-tras-pago' || (desenlace === 'revertida' && azar.real() < 0.5);
      if (aprobada)
        cuerpos.push({
          cuerpo: { id_evento: id(4, 'aprobada'), tipo: 'conversion.aprobada', id_conversion: idConversion, ocurrido_en: instante(4) },
          trasPago: false,
        });
      if (desenlace === 'revertida' || desenlace === 'revertida-tras-pago')
        cuerpos.push({
          cuerpo: {
            id_evento: id(5, 'revertida'),
            tipo: 'conversion.revertida',
            id_conversion: idConversion,
            ocurrido_en: instante(5),
            motivo: desenlace === 'revertida' ? 'devolución' : 'contracargo tras el pago',
          },
          trasPago: desenlace === 'revertida-tras-pago',
        });
      const planear = (lista: readonly { cuerpo: CuerpoHecho; trasPago: boolean }[]) =>
        lista.map(({ cuerpo, trasPago: tp }): HechoPlaneado => {
          const e = envio(azar.real(), azar.entero(0, 1_000));
          const tardia = azar.real() < 0.1;
          peticiones += e.copias + (tardia ? 1 : 0);
          tardias += tardia ? 1 : 0;
          hechos += 1;
          return { socio, cuerpo, copias: e.copias, simultaneas: e.simultaneas, tardia, trasPago: tp };
        });
      // Tras una reversión pagada, dos ventas nuevas del mismo afiliado (el doble de la venta máxima cada una).
      const acompanantes = (desenlace === 'revertida-tras-pago' ? ['a', 'b'] : []).map((sufijo): ConversionPlaneada => {
        const idc = `${idConversion}${sufijo}`;
        const idA = (tipo: TipoHecho) => `ev-${o.corrida}-${n}${sufijo}-${tipo}`;
        return {
          socio,
          idConversion: idc,
          idAfiliado,
          moneda,
          desenlace: 'tras-la-reversion',
          hechos: planear([
            {
              cuerpo: {
                id_evento: idA('creada'),
                tipo: 'conversion.creada',
                id_conversion: idc,
                id_afiliado: idAfiliado,
                monto: importe(120_000),
                moneda,
                ocurrido_en: instante(6),
                version: 1,
              },
              trasPago: false,
            },
            {
              cuerpo: { id_evento: idA('aprobada'), tipo: 'conversion.aprobada', id_conversion: idc, ocurrido_en: instante(7) },
              trasPago: false,
            },
          ]),
        };
      });
      const planeados = planear(cuerpos).map((h) => (h.trasPago ? { ...h, siguen: acompanantes.flatMap((a) => a.hechos) } : h));
      for (const h of planeados) if (h.trasPago) trasPago.push(h);
      const c: ConversionPlaneada = { socio, idConversion, idAfiliado, moneda, desenlace, hechos: planeados };
      conversiones.push(c, ...acompanantes);
      propias.push(c);
    }
    // Cada ventana de conversiones, con todos sus hechos barajados juntos: el ciclo llega desordenado.
    const cola: HechoPlaneado[] = [];
    for (let i = 0; i < propias.length; i += VENTANA) {
      const ventana = propias.slice(i, i + VENTANA).flatMap((c) => c.hechos.filter((h) => !h.trasPago));
      cola.push(...azar.barajar(ventana));
    }
    colas.push(cola);
  }
  // Socios entrelazados al azar, en proporción a lo que le queda a cada uno.
  const envios: HechoPlaneado[] = [];
  const posiciones = colas.map(() => 0);
  let restantes = colas.reduce((t, c) => t + c.length, 0);
  while (restantes > 0) {
    let k = azar.entero(0, restantes - 1);
    let s = 0;
    for (; s < colas.length; s += 1) {
      const quedan = (colas[s] as HechoPlaneado[]).length - (posiciones[s] as number);
      if (k < quedan) break;
      k -= quedan;
    }
    const pos = posiciones[s] as number;
    envios.push((colas[s] as HechoPlaneado[])[pos] as HechoPlaneado);
    posiciones[s] = pos + 1;
    restantes -= 1;
  }
  return { reglas, conversiones, envios, trasPago, hechos, peticiones, duplicadas: peticiones - hechos, tardias };
}
