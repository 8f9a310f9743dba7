import { crearAzar } from './azar.js';

/**
 * El plan de carga: qué pagos envía cada socio, con qué fallo de red, y en qué orden llegan. Es puro y
 * determinista (la misma semilla da el mismo plan), así que se puede probar sin red.
 *
 * Los P socios son socios de verdad (cada uno con su clave, ver `socios.ts`) y **comparten referencias y
 * cuerpos**: el pago n de todos los socios es `exp-<corrida>-<n>` con el mismo afiliado, importe y moneda.
 * Solo la clave distingue de quién es cada petición; la API debe hacer un pago por socio y referencia y
 * devolver a cada socio los suyos. Lo que varía por socio es el fallo de red de cada pago y el orden.
 */

export type Modo = 'unico' | 'doble' | 'triple' | 'timeout';

export interface CuerpoPago {
  readonly id_afiliado: string;
  readonly monto: number;
  readonly moneda: 'USD' | 'EUR' | 'COP';
  readonly referencia_pago: string;
}

export interface PagoPlaneado {
  readonly socio: number;
  /** Número del pago dentro de su socio (orden «natural» de envío). */
  readonly n: number;
  readonly cuerpo: CuerpoPago;
  /**
   * unico: una petición. doble/triple: 2 o 3 copias idénticas a la vez. timeout: la respuesta del
   * original se pierde (el cliente corta la conexión tras el éxito) y se reintenta la misma petición.
   */
  readonly modo: Modo;
  /** Tras su respuesta, la misma referencia con otro importe: debe ser 422. */
  readonly conflicto: boolean;
  /** Se reenvía idéntico cuando ya terminó (réplica tardía). */
  readonly tardia: boolean;
}

export interface OpcionesPlan {
  readonly corrida: string;
  readonly socios: number;
  readonly pagosPorSocio: number;
  readonly dobles: number;
  readonly triples: number;
  readonly timeouts: number;
  readonly tardias: number;
  readonly conflictos: number;
  readonly desorden: number;
  readonly semilla: number;
}

export interface Plan {
  /** En el orden de envío: socios entrelazados y cada uno desordenado por ventanas. */
  readonly pagos: readonly PagoPlaneado[];
  readonly peticiones: number;
  /** Peticiones que repiten una referencia ya enviada (copias, reintentos, réplicas tardías y conflictos). */
  readonly duplicadas: number;
  readonly porModo: Readonly<Record<Modo, number>>;
  readonly conflictos: number;
  readonly tardias: number;
}

const MONEDAS = ['USD', 'EUR', 'COP'] as const;
export const COPIAS: Readonly<Record<Modo, number>> = { unico: 1, doble: 2, triple: 3, timeout: 2 };

/** La referencia del pago n de la corrida: la misma para todos los socios. */
export const referenciaDe = (corrida: string, n: number) => `exp-${corrida}-${n}`;

/** Otro cuerpo con la misma referencia: el importe cambia en un céntimo de unidad. */
export const cuerpoEnConflicto = (c: CuerpoPago): CuerpoPago => ({ ...c, monto: Math.round(c.monto * 100 + 1) / 100 });

/** El cuerpo del pago n: el mismo para todos los socios (solo la clave dice de quién es). */
export const cuerpoDe = (corrida: string, n: number): CuerpoPago => ({
  id_afiliado: `afiliado-${n % 50}`,
  // Céntimos enteros / 100: el double más cercano, que JSON escribe con 2 decimales como mucho.
  monto: (100 + ((n * 37) % 100_000)) / 100,
  moneda: MONEDAS[n % 3] as CuerpoPago['moneda'],
  referencia_pago: referenciaDe(corrida, n),
});

export function crearPlan(o: OpcionesPlan): Plan {
  const azar = crearAzar(o.semilla);
  const colas: PagoPlaneado[][] = [];
  const porModo: Record<Modo, number> = { unico: 0, doble: 0, triple: 0, timeout: 0 };
  let peticiones = 0;
  let conflictos = 0;
  let tardias = 0;
  for (let socio = 1; socio <= o.socios; socio += 1) {
    const cola: PagoPlaneado[] = [];
    for (let n = 1; n <= o.pagosPorSocio; n += 1) {
      const r = azar.real();
      const modo: Modo =
        r < o.dobles ? 'doble' : r < o.dobles + o.triples ? 'triple' : r < o.dobles + o.triples + o.timeouts ? 'timeout' : 'unico';
      const conflicto = azar.real() < o.conflictos;
      const tardia = azar.real() < o.tardias;
      porModo[modo] += 1;
      peticiones += COPIAS[modo] + (conflicto ? 1 : 0) + (tardia ? 1 : 0);
      conflictos += conflicto ? 1 : 0;
      tardias += tardia ? 1 : 0;
      cola.push({
        socio,
        n,
        modo,
        conflicto,
        tardia,
        cuerpo: cuerpoDe(o.corrida, n),
      });
    }
    // Fuera de orden: cada ventana de `desorden` pagos se envía barajada.
    for (let i = 0; i < cola.length; i += o.desorden) {
      const ventana = azar.barajar(cola.slice(i, i + o.desorden));
      cola.splice(i, ventana.length, ...ventana);
    }
    colas.push(cola);
  }
  // Entrelazado: cada envío es de un socio al azar, con probabilidad proporcional a lo que le queda.
  const pagos: PagoPlaneado[] = [];
  const posiciones = colas.map(() => 0);
  let restantes = o.socios * o.pagosPorSocio;
  while (restantes > 0) {
    let k = azar.entero(0, restantes - 1);
    let socio = 0;
    for (; socio < colas.length; socio += 1) {
      const quedan = (colas[socio] as PagoPlaneado[]).length - (posiciones[socio] as number);
      if (k < quedan) break;
      k -= quedan;
    }
    const pos = posiciones[socio] as number;
    pagos.push((colas[socio] as PagoPlaneado[])[pos] as PagoPlaneado);
    posiciones[socio] = pos + 1;
    restantes -= 1;
  }
  return { pagos, peticiones, duplicadas: peticiones - pagos.length, porModo, conflictos, tardias };
}
