import type { Dinero } from '../dinero.js';
import type { Moneda } from '../moneda.js';
import { HechoConversion, type ConversionAjustada, type ConversionCreada } from './hecho-conversion.js';
import { compararNumero, compararTexto } from './texto.js';

/**
 * Estado de una conversión. `PENDIENTE < APROBADA < REVERTIDA` es un orden de precedencia (un
 * retículo): el estado es el mayor de los que implican sus hechos, así que no depende del orden en que
 * llegan. `ESPERANDO_CONVERSION`: hay hechos pero aún no la `creada`; se guardan y cuentan cuando llega.
 */
export type EstadoConversion = 'ESPERANDO_CONVERSION' | 'PENDIENTE' | 'APROBADA' | 'REVERTIDA';

const PRECEDENCIA: Readonly<Record<HechoConversion['tipo'], 'PENDIENTE' | 'APROBADA' | 'REVERTIDA'>> = {
  creada: 'PENDIENTE',
  ajustada: 'PENDIENTE',
  aprobada: 'APROBADA',
  revertida: 'REVERTIDA',
};
const NIVEL = { PENDIENTE: 0, APROBADA: 1, REVERTIDA: 2 } as const;

export const EstadoConversion = {
  todos: Object.freeze(['ESPERANDO_CONVERSION', 'PENDIENTE', 'APROBADA', 'REVERTIDA'] as const) satisfies readonly EstadoConversion[],
  esEstado(valor: unknown): valor is EstadoConversion {
    return typeof valor === 'string' && (EstadoConversion.todos as readonly string[]).includes(valor);
  },
} as const;

/** Qué conversión: los ids de conversión son únicos por socio. */
export interface ClaveConversion {
  readonly idSocio: string;
  readonly idConversion: string;
}

/**
 * Hechos que no encajan. Son valores, nunca excepciones, y también dependen solo del conjunto:
 * - bloqueantes (la conversión queda `bloqueada`: no se puede saber su afiliado o su importe sin un
 *   operador): `CreacionesDistintas`, `EventoReutilizado`;
 * - hechos ignorados (no cuentan, la creación manda): `AfiliadoDistinto`, `MonedaDistinta`,
 *   `HechoDeOtraConversion`;
 * - informativo (se resuelve con el desempate documentado): `VersionRepetida`.
 */
export type ConflictoConversion =
  | { readonly tipo: 'CreacionesDistintas'; readonly idsEvento: readonly string[] }
  | { readonly tipo: 'EventoReutilizado'; readonly idEvento: string }
  | { readonly tipo: 'AfiliadoDistinto'; readonly idEvento: string; readonly esperado: string; readonly recibido: string }
  | { readonly tipo: 'MonedaDistinta'; readonly idEvento: string; readonly esperada: Moneda; readonly recibida: Moneda }
  | { readonly tipo: 'HechoDeOtraConversion'; readonly idEvento: string; readonly idSocio: string; readonly idConversion: string }
  | { readonly tipo: 'VersionRepetida'; readonly version: number; readonly idsEvento: readonly string[] };

/** La conversión tal como la determinan sus hechos. Igual para cualquier orden y cualquier número de copias. */
export type Conversion = Readonly<{
  idSocio: string;
  idConversion: string;
  estado: EstadoConversion;
  /** El afiliado de la creación; `null` mientras espera la creación o si está bloqueada. */
  idAfiliado: string | null;
  /** El importe vigente de la venta (el del hecho ganador, ver {@link Conversion.hechoDelImporte}). */
  venta: Dinero | null;
  /** `ocurridoEn` de la creación (la más temprana si el socio la repitió con otro `idEvento`). */
  creadaEn: Date | null;
  /** `idEvento` del hecho que fija el importe de la venta. */
  idEventoImporte: string | null;
  /** Los hechos distintos recibidos (sin copias), en orden canónico ({@link HechoConversion.comparar}). */
  hechos: readonly HechoConversion[];
  /** Los `idEvento` que no cuentan (de otra conversión, o que contradicen la creación). */
  ignorados: readonly string[];
  conflictos: readonly ConflictoConversion[];
  /** Hay un conflicto bloqueante: no se puede calcular su comisión. */
  bloqueada: boolean;
}>;

type HechoConImporte = ConversionCreada | ConversionAjustada;

/**
 * Desempate del importe (decisión 0101): gana la `version` más alta; un hecho sin versión va detrás de
 * cualquiera con versión; a igual versión (o sin ella) un ajuste va delante de la creación, después el
 * `ocurridoEn` más tardío y por último el `idEvento` mayor (orden de unidades UTF-16).
 */
function compararImporte(a: HechoConImporte, b: HechoConImporte): number {
  return (
    compararNumero(a.version ?? -1, b.version ?? -1) ||
    compararNumero(a.tipo === 'ajustada' ? 1 : 0, b.tipo === 'ajustada' ? 1 : 0) ||
    compararNumero(a.ocurridoEn.getTime(), b.ocurridoEn.getTime()) ||
    compararTexto(a.idEvento, b.idEvento)
  );
}

function mismaCreacion(a: ConversionCreada, b: ConversionCreada): boolean {
  return a.idAfiliado === b.idAfiliado && a.monto.moneda === b.monto.moneda && a.monto.unidadesMenores === b.monto.unidadesMenores;
}

/**
 * El estado de una conversión como función pura del CONJUNTO de hechos recibidos (decisión 0100):
 * - las copias de un hecho (mismo `idEvento`, mismo contenido) cuentan una vez;
 * - el estado es el de mayor precedencia entre los hechos que cuentan; sin `creada`, `ESPERANDO_CONVERSION`;
 * - el importe de la venta es el del hecho con la `version` más alta (desempate en {@link compararImporte});
 * - los conflictos son valores en `conflictos`.
 * Los hechos de otra conversión no cuentan (conflicto `HechoDeOtraConversion`).
 */
export function estadoConversion(clave: ClaveConversion, hechos: readonly HechoConversion[]): Conversion {
  const conflictos: ConflictoConversion[] = [];
  const ignorados = new Set<string>();

  // 1. Un representante por idEvento; copias con otro contenido → EventoReutilizado (bloqueante).
  const porId = new Map<string, HechoConversion>();
  const reutilizados = new Set<string>();
  for (const hecho of hechos) {
    const previo = porId.get(hecho.idEvento);
    if (previo === undefined) porId.set(hecho.idEvento, hecho);
    else if (!HechoConversion.iguales(previo, hecho)) {
      reutilizados.add(hecho.idEvento);
      // El representante es el menor en orden canónico: el mismo para cualquier orden de llegada.
      if (HechoConversion.comparar(hecho, previo) < 0) porId.set(hecho.idEvento, hecho);
    }
  }
  for (const idEvento of [...reutilizados].sort(compararTexto)) conflictos.push({ tipo: 'EventoReutilizado', idEvento });
  const distintos = [...porId.values()].sort(HechoConversion.comparar);

  // 2. Solo cuentan los de esta conversión.
  const propios: HechoConversion[] = [];
  for (const h of distintos) {
    if (h.idSocio === clave.idSocio && h.idConversion === clave.idConversion) propios.push(h);
    else {
      ignorados.add(h.idEvento);
      conflictos.push({ tipo: 'HechoDeOtraConversion', idEvento: h.idEvento, idSocio: h.idSocio, idConversion: h.idConversion });
    }
  }

  // 3. La creación fija afiliado y moneda; si hay varias y no coinciden, nadie puede elegir por el socio.
  const creadas = propios.filter((h): h is ConversionCreada => h.tipo === 'creada');
  const primera = creadas[0];
  const creacionesDistintas = primera !== undefined && creadas.some((c) => !mismaCreacion(c, primera));
  if (creacionesDistintas) {
    conflictos.push({ tipo: 'CreacionesDistintas', idsEvento: creadas.map((c) => c.idEvento).sort(compararTexto) });
  }
  const bloqueada = creacionesDistintas || reutilizados.size > 0;

  // 4. Lo que contradice la creación no cuenta (con creaciones distintas no hay referencia).
  const referencia = creacionesDistintas ? undefined : primera;
  const cuentan = propios.filter((h) => {
    if (!referencia || h.tipo === 'creada') return true;
    if (h.idAfiliado !== null && h.idAfiliado !== referencia.idAfiliado) {
      conflictos.push({ tipo: 'AfiliadoDistinto', idEvento: h.idEvento, esperado: referencia.idAfiliado, recibido: h.idAfiliado });
      ignorados.add(h.idEvento);
      return false;
    }
    if (h.tipo === 'ajustada' && h.monto.moneda !== referencia.monto.moneda) {
      conflictos.push({ tipo: 'MonedaDistinta', idEvento: h.idEvento, esperada: referencia.monto.moneda, recibida: h.monto.moneda });
      ignorados.add(h.idEvento);
      return false;
    }
    return true;
  });

  // 5. El importe: el del hecho ganador; dos hechos con la misma versión e importes distintos se avisan.
  const conImporte = cuentan.filter((h): h is HechoConImporte => h.tipo === 'creada' || h.tipo === 'ajustada');
  const porVersion = new Map<number, HechoConImporte[]>();
  for (const h of conImporte) if (h.version !== null) porVersion.set(h.version, [...(porVersion.get(h.version) ?? []), h]);
  for (const [version, grupo] of [...porVersion].sort(([a], [b]) => a - b)) {
    if (new Set(grupo.map((h) => h.monto.unidadesMenores)).size > 1) {
      conflictos.push({ tipo: 'VersionRepetida', version, idsEvento: grupo.map((h) => h.idEvento).sort(compararTexto) });
    }
  }
  const ganador = conImporte.reduce<HechoConImporte | null>(
    (mejor, h) => (mejor === null || compararImporte(h, mejor) > 0 ? h : mejor),
    null,
  );

  const nivel = cuentan.reduce((max, h) => Math.max(max, NIVEL[PRECEDENCIA[h.tipo]]), 0);
  const estado: EstadoConversion = !primera
    ? 'ESPERANDO_CONVERSION'
    : ((['PENDIENTE', 'APROBADA', 'REVERTIDA'] as const)[nivel] ?? 'PENDIENTE');
  const conocida = primera !== undefined && !bloqueada;

  return Object.freeze({
    idSocio: clave.idSocio,
    idConversion: clave.idConversion,
    estado,
    idAfiliado: conocida ? primera.idAfiliado : null,
    venta: conocida && ganador ? ganador.monto : null,
    creadaEn: conocida ? new Date(Math.min(...creadas.map((c) => c.ocurridoEn.getTime()))) : null,
    idEventoImporte: conocida && ganador ? ganador.idEvento : null,
    hechos: Object.freeze(distintos),
    ignorados: Object.freeze([...ignorados].sort(compararTexto)),
    conflictos: Object.freeze(conflictos.sort(compararConflictos)),
    bloqueada,
  });
}

function claveConflicto(c: ConflictoConversion): string {
  switch (c.tipo) {
    case 'CreacionesDistintas':
      return c.idsEvento.join('\u0000');
    case 'VersionRepetida':
      return String(c.version).padStart(20, '0');
    default:
      return c.idEvento;
  }
}

function compararConflictos(a: ConflictoConversion, b: ConflictoConversion): number {
  return compararTexto(a.tipo, b.tipo) || compararTexto(claveConflicto(a), claveConflicto(b));
}

/** Espera máxima por defecto de una conversión sin `creada` antes de marcarla como huérfana: 24 h. */
const ESPERA_MAXIMA_POR_DEFECTO_MS = 24 * 60 * 60 * 1000;

export interface OpcionesHuerfana {
  /** Cuánto puede esperar su `creada` (ms); por defecto {@link Conversion.ESPERA_MAXIMA_POR_DEFECTO_MS}. */
  readonly esperaMaximaMs?: number;
  /**
   * Desde cuándo espera: la llegada del primer hecho según NUESTRO reloj (la guarda la persistencia).
   * Sin ella se usa el `ocurridoEn` más antiguo de sus hechos (el reloj del socio).
   */
  readonly esperaDesde?: Date;
}

/**
 * ¿Es huérfana? Lo es una conversión que sigue en `ESPERANDO_CONVERSION` más de `esperaMaximaMs`. Solo
 * es una marca para operación: sus hechos se conservan y cuentan si la `creada` llega después.
 */
export function esHuerfana(conversion: Conversion, ahora: Date, opciones: OpcionesHuerfana = {}): boolean {
  if (conversion.estado !== 'ESPERANDO_CONVERSION' || conversion.hechos.length === 0) return false;
  const desde = opciones.esperaDesde?.getTime() ?? Math.min(...conversion.hechos.map((h) => h.ocurridoEn.getTime()));
  return ahora.getTime() - desde > (opciones.esperaMaximaMs ?? ESPERA_MAXIMA_POR_DEFECTO_MS);
}

export const Conversion = {
  ESPERA_MAXIMA_POR_DEFECTO_MS,
  estado: estadoConversion,
  esHuerfana,
  /** El hecho que fija el importe de la venta, o `null`. */
  hechoDelImporte(conversion: Conversion): HechoConversion | null {
    return conversion.hechos.find((h) => h.idEvento === conversion.idEventoImporte) ?? null;
  },
} as const;
