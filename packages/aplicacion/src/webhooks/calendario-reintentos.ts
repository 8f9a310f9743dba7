/**
 * La política de reintentos de las entregas de webhooks (decisión 0173): tras cada intento fallido, el
 * siguiente llega al cabo del plazo que toca en el calendario (≈ 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 24 h), con una aleatoriedad de ±`aleatoriedad` para que los reintentos de muchas entregas no lleguen
 * juntos; agotado el calendario, la entrega se da por perdida y el webhook se desactiva.
 */

const SEGUNDO = 1000;
const MINUTO = 60 * SEGUNDO;
const HORA = 60 * MINUTO;

/** Plazo entre el intento n y el n+1 (el primero sale en cuanto se genera la entrega). */
export const CALENDARIO_REINTENTOS_POR_DEFECTO: readonly number[] = Object.freeze([
  5 * SEGUNDO,
  5 * MINUTO,
  30 * MINUTO,
  2 * HORA,
  5 * HORA,
  10 * HORA,
  24 * HORA,
]);

/** ±10 %. */
export const ALEATORIEDAD_POR_DEFECTO = 0.1;

export type SiguientePaso =
  | { readonly tipo: 'entregada' }
  | { readonly tipo: 'reintentar'; readonly esperaMs: number }
  /** Se agotó el calendario: la entrega se pierde y el webhook se desactiva. */
  | { readonly tipo: 'agotada' };

/**
 * Qué hacer tras el intento número `intento` (1 = el primero). `aleatorio` devuelve un número en [0, 1)
 * (inyectable para los tests).
 */
export function siguientePaso(
  intento: number,
  exito: boolean,
  calendario: readonly number[],
  aleatoriedad: number,
  aleatorio: () => number = Math.random,
): SiguientePaso {
  if (exito) return { tipo: 'entregada' };
  const base = calendario[intento - 1];
  if (base === undefined) return { tipo: 'agotada' };
  const factor = 1 + aleatoriedad * (2 * aleatorio() - 1);
  return { tipo: 'reintentar', esperaMs: Math.max(0, Math.round(base * factor)) };
}

const UNIDADES: Readonly<Record<string, number>> = { ms: 1, s: SEGUNDO, m: MINUTO, h: HORA, d: 24 * HORA };

/**
 * Lee un calendario escrito como plazos separados por comas (`5s,5m,30m,2h,5h,10h,24h`, o `50ms,100ms`
 * en los tests). Devuelve el motivo si no vale.
 */
export function leerCalendario(
  texto: string,
): { readonly ok: true; readonly valor: readonly number[] } | { readonly ok: false; readonly motivo: string } {
  const partes = texto.split(',').map((p) => p.trim());
  const valor: number[] = [];
  for (const parte of partes) {
    const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(parte);
    const unidad = m?.[2] === undefined ? undefined : UNIDADES[m[2]];
    if (!m || unidad === undefined) {
      return { ok: false, motivo: `«${parte}» no es un plazo (un entero con ms, s, m, h o d: 5s, 30m, 24h)` };
    }
    valor.push(Number(m[1]) * unidad);
  }
  if (valor.length === 0 || valor.length > 20) return { ok: false, motivo: 'debe tener entre 1 y 20 plazos' };
  return { ok: true, valor };
}
