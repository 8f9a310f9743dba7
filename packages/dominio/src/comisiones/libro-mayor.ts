import type { Moneda } from '../moneda.js';
import type { AjusteComision } from './ajuste-comision.js';
import type { Comision } from './comision.js';
import type { Liquidacion } from './liquidacion.js';
import { compararTexto, componerId } from './texto.js';

/**
 * Cuentas del libro de un afiliado en una moneda (decisión 0105). `gasto` es la contrapartida: lo que el
 * socio ha comprometido en comisiones. Las demás dicen dónde está cada unidad:
 * - acreedoras (el socio se las debe o se las pagó al afiliado): `pendiente`, `aprobado`,
 *   `en_liquidacion` (bruto de comisiones y complementos en una liquidación en curso), `pagado`;
 * - deudoras (el afiliado se las debe al socio): `por_recuperar` (recuperaciones aún no netadas en una
 *   liquidación pagada), `recuperado`.
 */
export type CuentaLibro = 'gasto' | 'pendiente' | 'aprobado' | 'en_liquidacion' | 'pagado' | 'por_recuperar' | 'recuperado';
export type Naturaleza = 'deudora' | 'acreedora';

const NATURALEZA: Readonly<Record<CuentaLibro, Naturaleza>> = {
  gasto: 'deudora',
  pendiente: 'acreedora',
  aprobado: 'acreedora',
  en_liquidacion: 'acreedora',
  pagado: 'acreedora',
  por_recuperar: 'deudora',
  recuperado: 'deudora',
};
const POSICION = Object.freeze(['pendiente', 'aprobado', 'en_liquidacion', 'pagado', 'por_recuperar', 'recuperado'] as const);
const CUENTAS = Object.freeze(['gasto', ...POSICION] as const) satisfies readonly CuentaLibro[];

export const CuentaLibro = {
  todas: CUENTAS,
  naturaleza(cuenta: CuentaLibro): Naturaleza {
    return NATURALEZA[cuenta];
  },
} as const;

/** Saldos naturales (≥ 0 en uso normal) de las cuentas de posición: todas salvo la contrapartida. */
export type Saldos = Readonly<Record<Exclude<CuentaLibro, 'gasto'>, number>>;
/** Saldos naturales de todas las cuentas de un libro, con la contrapartida. */
export type SaldosLibro = Readonly<Record<CuentaLibro, number>>;

/** Un libro: los apuntes de un afiliado de un socio en una moneda. */
export interface ClaveLibro {
  readonly idSocio: string;
  readonly idAfiliado: string;
  readonly moneda: Moneda;
}

/** El evento que causa un asiento. De él (y de la pierna) salen los ids: repetirlo no escribe nada. */
export type CausaAsiento =
  | { readonly tipo: 'hecho'; readonly idSocio: string; readonly idEvento: string }
  | { readonly tipo: 'liquidacion_creada' | 'liquidacion_pagada' | 'liquidacion_anulada'; readonly idLiquidacion: string };

export type Apunte = Readonly<{
  /** Determinista: `apunte:<causa>:<cuenta>`. */
  id: string;
  idAsiento: string;
  idSocio: string;
  idAfiliado: string;
  moneda: Moneda;
  cuenta: CuentaLibro;
  lado: 'debe' | 'haber';
  /** > 0. */
  unidadesMenores: number;
}>;

/** Un asiento de partida doble: sus apuntes suman lo mismo en el debe que en el haber. */
export type Asiento = Readonly<{
  /** Determinista: `asiento:<causa>`. */
  id: string;
  causa: CausaAsiento;
  idSocio: string;
  idAfiliado: string;
  moneda: Moneda;
  /** Como mucho uno por cuenta, en el orden de {@link CuentaLibro.todas}. */
  apuntes: readonly Apunte[];
}>;

const CERO: Saldos = Object.freeze({ pendiente: 0, aprobado: 0, en_liquidacion: 0, pagado: 0, por_recuperar: 0, recuperado: 0 });

function partesCausa(causa: CausaAsiento): readonly string[] {
  return causa.tipo === 'hecho' ? ['hecho', causa.idSocio, causa.idEvento] : [causa.tipo, causa.idLiquidacion];
}

/**
 * Dónde está el importe de unas comisiones y ajustes de un mismo libro. La comisión en una liquidación
 * cuenta con el importe con que entró; fuera de ella, con su importe actual según su conversión.
 */
export function saldosDe(comisiones: readonly Comision[], ajustes: readonly AjusteComision[] = []): Saldos {
  const s = { ...CERO };
  for (const c of comisiones) {
    if (c.liquidacion?.estado === 'EN_CURSO') s.en_liquidacion += c.liquidacion.unidadesMenores;
    else if (c.liquidacion?.estado === 'PAGADA') s.pagado += c.liquidacion.unidadesMenores;
    else if (c.estadoConversion === 'PENDIENTE') s.pendiente += c.unidadesMenores;
    else if (c.estadoConversion === 'APROBADA') s.aprobado += c.unidadesMenores;
  }
  for (const a of ajustes) {
    const estado = a.liquidacion?.estado ?? null;
    if (a.tipo === 'complemento') {
      if (estado === 'EN_CURSO') s.en_liquidacion += a.unidadesMenores;
      else if (estado === 'PAGADA') s.pagado += a.unidadesMenores;
      else s.aprobado += a.unidadesMenores;
    } else if (estado === 'PAGADA') s.recuperado += a.unidadesMenores;
    else s.por_recuperar += a.unidadesMenores;
  }
  return Object.freeze(s);
}

/** Lo que el socio ha comprometido con el afiliado según unos saldos: el saldo que tendrá `gasto`. */
function compromiso(s: Saldos): number {
  return s.pendiente + s.aprobado + s.en_liquidacion + s.pagado - s.por_recuperar - s.recuperado;
}

/**
 * El asiento que lleva un libro de los saldos `antes` a los saldos `despues` por una causa: un apunte por
 * cuenta que cambia, más la contrapartida (`gasto`) por la diferencia de compromiso. Cuadra por
 * construcción. `null` si nada cambia (p. ej. un hecho repetido, o uno que llega con la comisión en
 * una liquidación en curso).
 */
export function asientoEntre(causa: CausaAsiento, libro: ClaveLibro, antes: Saldos, despues: Saldos): Asiento | null {
  const idAsiento = componerId('asiento', ...partesCausa(causa));
  const diferencias: [CuentaLibro, number][] = [['gasto', compromiso(despues) - compromiso(antes)]];
  for (const cuenta of POSICION) diferencias.push([cuenta, despues[cuenta] - antes[cuenta]]);
  const apuntes: Apunte[] = [];
  for (const [cuenta, diferencia] of diferencias) {
    if (diferencia === 0) continue;
    const aumentaEnDebe = NATURALEZA[cuenta] === 'deudora';
    apuntes.push(
      Object.freeze({
        id: componerId('apunte', ...partesCausa(causa), cuenta),
        idAsiento,
        idSocio: libro.idSocio,
        idAfiliado: libro.idAfiliado,
        moneda: libro.moneda,
        cuenta,
        lado: diferencia > 0 === aumentaEnDebe ? 'debe' : 'haber',
        unidadesMenores: Math.abs(diferencia),
      }),
    );
  }
  if (apuntes.length === 0) return null;
  const { idSocio, idAfiliado, moneda } = libro;
  return Object.freeze({ id: idAsiento, causa, idSocio, idAfiliado, moneda, apuntes: Object.freeze(apuntes) });
}

/** ¿Cuadra? Suma del debe = suma del haber, importes > 0 y todos los apuntes del mismo libro y asiento. */
function cuadra(asiento: Asiento): boolean {
  let debe = 0;
  let haber = 0;
  for (const a of asiento.apuntes) {
    if (!(Number.isSafeInteger(a.unidadesMenores) && a.unidadesMenores > 0)) return false;
    const mismoLibro = a.idSocio === asiento.idSocio && a.idAfiliado === asiento.idAfiliado && a.moneda === asiento.moneda;
    if (a.idAsiento !== asiento.id || !mismoLibro) return false;
    if (a.lado === 'debe') debe += a.unidadesMenores;
    else haber += a.unidadesMenores;
  }
  return debe === haber;
}

function claveTexto(clave: ClaveLibro): string {
  return componerId(clave.idSocio, clave.idAfiliado, clave.moneda);
}

/** Saldos naturales de cada libro sumando sus apuntes (lo que lee `GET /afiliados/{id}/saldo`). */
function saldosPorLibro(apuntes: Iterable<Apunte>): readonly (ClaveLibro & { readonly saldos: SaldosLibro })[] {
  const libros = new Map<string, ClaveLibro & { saldos: Record<CuentaLibro, number> }>();
  for (const a of apuntes) {
    const clave = claveTexto(a);
    const libro = libros.get(clave) ?? {
      idSocio: a.idSocio,
      idAfiliado: a.idAfiliado,
      moneda: a.moneda,
      saldos: { gasto: 0, ...CERO },
    };
    const signo = (a.lado === 'debe') === (NATURALEZA[a.cuenta] === 'deudora') ? 1 : -1;
    libro.saldos[a.cuenta] += signo * a.unidadesMenores;
    libros.set(clave, libro);
  }
  return [...libros.entries()]
    .sort(([a], [b]) => compararTexto(a, b))
    .map(([, libro]) => Object.freeze({ ...libro, saldos: Object.freeze(libro.saldos) }));
}

/** Una regla del libro que no se cumple, con lo que hace falta para encontrar al culpable. */
export type ViolacionLibro =
  | { readonly tipo: 'AsientoDescuadrado'; readonly idAsiento: string; readonly debe: number; readonly haber: number }
  | {
      readonly tipo: 'PagosDistintosDeLoPagado';
      readonly libro: ClaveLibro;
      /** Suma de los netos de las liquidaciones PAGADAS del libro. */
      readonly pagosLiquidaciones: number;
      /** `pagado − recuperado` según el libro mayor. */
      readonly pagadoMenosRecuperado: number;
    };

/**
 * Comprueba el libro: cada asiento cuadra (debe = haber), y por libro la suma de las liquidaciones
 * PAGADAS es igual a lo pagado en comisiones menos lo recuperado. Devuelve las violaciones (vacío si
 * está bien).
 */
function verificar(apuntes: readonly Apunte[], liquidaciones: readonly Liquidacion[]): readonly ViolacionLibro[] {
  const violaciones: ViolacionLibro[] = [];
  const porAsiento = new Map<string, { debe: number; haber: number }>();
  for (const a of apuntes) {
    const s = porAsiento.get(a.idAsiento) ?? { debe: 0, haber: 0 };
    s[a.lado] += a.unidadesMenores;
    porAsiento.set(a.idAsiento, s);
  }
  for (const [idAsiento, { debe, haber }] of [...porAsiento].sort(([a], [b]) => compararTexto(a, b))) {
    if (debe !== haber) violaciones.push({ tipo: 'AsientoDescuadrado', idAsiento, debe, haber });
  }
  const pagos = new Map<string, { libro: ClaveLibro; total: number }>();
  for (const l of liquidaciones) {
    if (l.estado !== 'PAGADA') continue;
    const clave = claveTexto(l);
    const p = pagos.get(clave) ?? { libro: { idSocio: l.idSocio, idAfiliado: l.idAfiliado, moneda: l.moneda }, total: 0 };
    p.total += l.netoUnidadesMenores;
    pagos.set(clave, p);
  }
  const libros = new Map(saldosPorLibro(apuntes).map((l) => [claveTexto(l), l] as const));
  for (const clave of [...new Set([...pagos.keys(), ...libros.keys()])].sort(compararTexto)) {
    const libro = libros.get(clave);
    const pago = pagos.get(clave);
    const pagadoMenosRecuperado = libro ? libro.saldos.pagado - libro.saldos.recuperado : 0;
    const pagosLiquidaciones = pago?.total ?? 0;
    if (pagadoMenosRecuperado !== pagosLiquidaciones) {
      const clavelibro = libro ?? pago?.libro;
      if (clavelibro) {
        violaciones.push({
          tipo: 'PagosDistintosDeLoPagado',
          libro: { idSocio: clavelibro.idSocio, idAfiliado: clavelibro.idAfiliado, moneda: clavelibro.moneda },
          pagosLiquidaciones,
          pagadoMenosRecuperado,
        });
      }
    }
  }
  return violaciones;
}

export const LibroMayor = {
  SALDOS_CERO: CERO,
  saldosDe,
  asientoEntre,
  cuadra,
  saldosPorLibro,
  verificar,
  /** `pendiente + aprobado + en_liquidacion + pagado − por_recuperar − recuperado`: el saldo de `gasto`. */
  compromiso,
  idAsiento(causa: CausaAsiento): string {
    return componerId('asiento', ...partesCausa(causa));
  },
} as const;
