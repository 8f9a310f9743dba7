import type { DecisionDeLimite } from './limitador-de-ritmo.js';

/**
 * Las cabeceras HTTP de una decisión de límite de ritmo, en las dos formas que leen los clientes: la del
 * borrador vigente del IETF «RateLimit header fields for HTTP» (`RateLimit-Policy` y `RateLimit`, campos
 * estructurados) y la de sus versiones anteriores (`RateLimit-Limit`, `-Remaining`, `-Reset`), que es la
 * que implementa la mayoría; más `Retry-After` cuando se rechaza. Todas en segundos enteros redondeando
 * hacia arriba (esperar de menos solo trae otro 429). Ver `docs/decisiones/0132-cabeceras-de-limite.md`.
 */

export interface OpcionesCabecerasDeLimite {
  /** Nombre de la política en `RateLimit-Policy`/`RateLimit` (por defecto `"socio"`). */
  readonly politica?: string;
}

export const POLITICA_POR_DEFECTO = 'socio';

/** Los nombres, como los escribe la respuesta. */
export const CABECERAS_DE_LIMITE = {
  politica: 'RateLimit-Policy',
  estado: 'RateLimit',
  limite: 'RateLimit-Limit',
  restantes: 'RateLimit-Remaining',
  reinicio: 'RateLimit-Reset',
  reintentar: 'Retry-After',
} as const;

/**
 * - `RateLimit-Policy: "socio";q=<cuota>;w=<ventana>`: `w` son los segundos que tarda en llenarse la
 *   cubeta vacía (al menos 1) y `q` las fichas que entran en ese tiempo: `q/w` es el ritmo sostenido
 *   (redondeado a la baja) y, cuando la ventana es exacta, `q` es la ráfaga.
 * - `RateLimit: "socio";r=<restantes>;t=<segundos>` y `RateLimit-Remaining`/`RateLimit-Reset` iguales: si se
 *   admite, `t` es lo que tarda la cubeta en llenarse (la cuota vuelve entera); si se rechaza, `r=0` y `t`
 *   es `Retry-After` (el borrador pide que `Retry-After` no caiga antes del final de la ventana).
 * - `Retry-After` solo al rechazar: segundos hasta la siguiente ficha, al menos 1.
 */
export function cabecerasDeLimite(decision: DecisionDeLimite, opciones: OpcionesCabecerasDeLimite = {}): Readonly<Record<string, string>> {
  const politica = opciones.politica ?? POLITICA_POR_DEFECTO;
  if (!POLITICA_VALIDA.test(politica)) throw new TypeError(`Nombre de política de límite inválido: ${politica}`);
  const { rafaga, porSegundo } = decision.limite;
  const ventana = Math.max(1, Math.ceil(rafaga / porSegundo - EPSILON));
  const cuota = Math.floor(porSegundo * ventana + EPSILON);
  const reintentar = decision.permitido ? undefined : Math.max(1, segundosEnteros(decision.segundosHastaSiguiente));
  const restantes = decision.permitido ? decision.restantes : 0;
  const reinicio = reintentar ?? segundosEnteros(decision.segundosHastaLlenarse);
  return {
    [CABECERAS_DE_LIMITE.politica]: `"${politica}";q=${cuota};w=${ventana}`,
    [CABECERAS_DE_LIMITE.estado]: `"${politica}";r=${restantes};t=${reinicio}`,
    [CABECERAS_DE_LIMITE.limite]: String(rafaga),
    [CABECERAS_DE_LIMITE.restantes]: String(restantes),
    [CABECERAS_DE_LIMITE.reinicio]: String(reinicio),
    ...(reintentar === undefined ? {} : { [CABECERAS_DE_LIMITE.reintentar]: String(reintentar) }),
  };
}

/** Segundos enteros redondeando hacia arriba, sin que el ruido de coma flotante sume un segundo entero. */
export function segundosEnteros(segundos: number): number {
  return Math.max(0, Math.ceil(segundos - EPSILON));
}

const EPSILON = 1e-9;
// Un String de los campos estructurados (RFC 9651) sin escapes: ASCII visible salvo `"` y `\`.
const POLITICA_VALIDA = /^[\x20\x21\x23-\x5B\x5D-\x7E]{1,64}$/;
