import { Dinero, type ErrorDinero } from '../dinero.js';
import { Resultado } from '../resultado.js';
import {
  type DatoInvalido,
  compararNumero,
  compararTexto,
  datoInvalido,
  fechaValida,
  validarIdentificador,
  validarTextoLibre,
} from './texto.js';

/** Lo que un socio puede contar de una conversión (una venta que trajo un afiliado). */
export type TipoHechoConversion = 'creada' | 'aprobada' | 'ajustada' | 'revertida';

interface HechoBase<Tipo extends TipoHechoConversion> {
  readonly tipo: Tipo;
  /** Clave de idempotencia del hecho: única por socio, para siempre. */
  readonly idEvento: string;
  readonly idSocio: string;
  readonly idConversion: string;
  /** Cuándo ocurrió según el socio (su reloj, no el nuestro). */
  readonly ocurridoEn: Date;
  /** Versión que da el socio, creciente por conversión; `null` si no la envió. */
  readonly version: number | null;
  readonly motivo: string | null;
}

/** La venta existe: fija el afiliado y la moneda de la conversión. */
export type ConversionCreada = HechoBase<'creada'> & { readonly idAfiliado: string; readonly monto: Dinero };
/** El socio confirma la venta: su comisión se puede pagar pasado el bloqueo. */
export type ConversionAprobada = HechoBase<'aprobada'> & { readonly idAfiliado: string | null };
/** Nuevo importe ABSOLUTO de la venta (no una diferencia), en la moneda de la creación. */
export type ConversionAjustada = HechoBase<'ajustada'> & { readonly idAfiliado: string | null; readonly monto: Dinero };
/** La venta se anula (devolución, fraude): no genera comisión; si ya se pagó, se recupera. */
export type ConversionRevertida = HechoBase<'revertida'> & { readonly idAfiliado: string | null };

/** Un hecho sobre una conversión, tal como lo guarda el servicio: unión discriminada por `tipo`. */
export type HechoConversion = ConversionCreada | ConversionAprobada | ConversionAjustada | ConversionRevertida;

/** Un hecho aún sin validar (lo que llega de la API o de la base). */
export interface DatosHechoConversion {
  readonly tipo: string;
  readonly idEvento: string;
  readonly idSocio: string;
  readonly idConversion: string;
  readonly ocurridoEn: Date;
  readonly idAfiliado?: string | null | undefined;
  readonly monto?: Dinero | null | undefined;
  readonly version?: number | null | undefined;
  readonly motivo?: string | null | undefined;
}

export type ErrorHechoConversion =
  | ErrorDinero
  | DatoInvalido
  | { readonly tipo: 'TipoDeHechoDesconocido'; readonly valor: string }
  | { readonly tipo: 'CampoObligatorio'; readonly campo: string; readonly tipoHecho: TipoHechoConversion }
  | { readonly tipo: 'CampoNoAdmitido'; readonly campo: string; readonly tipoHecho: TipoHechoConversion };

const TIPOS = Object.freeze(['creada', 'aprobada', 'ajustada', 'revertida'] as const) satisfies readonly TipoHechoConversion[];
const LONGITUD_MAXIMA_MOTIVO = 1_000;

function esTipo(valor: unknown): valor is TipoHechoConversion {
  return typeof valor === 'string' && (TIPOS as readonly string[]).includes(valor);
}

/**
 * Valida un hecho suelto y lo devuelve con su forma exacta. Comprueba lo que se puede saber sin los demás
 * hechos de la conversión: identificadores, fecha, versión (entero ≥ 0), `idAfiliado` y `monto`
 * obligatorios en `creada`, `monto` obligatorio en `ajustada` y prohibido en `aprobada`/`revertida`.
 * Lo que depende de otros hechos (la moneda de un ajuste frente a la de la creación, dos creaciones
 * distintas) se detecta al combinarlos: {@link estadoConversion}.
 */
export function validarHechoConversion(datos: DatosHechoConversion): Resultado<HechoConversion, ErrorHechoConversion> {
  const tipo = datos.tipo;
  if (!esTipo(tipo)) return Resultado.fallo({ tipo: 'TipoDeHechoDesconocido', valor: String(tipo) });
  for (const [campo, valor] of [
    ['id_evento', datos.idEvento],
    ['id_socio', datos.idSocio],
    ['id_conversion', datos.idConversion],
  ] as const) {
    const error = validarIdentificador(campo, valor);
    if (error) return Resultado.fallo(error);
  }
  if (!fechaValida(datos.ocurridoEn)) return Resultado.fallo(datoInvalido('ocurrido_en', 'debe ser una fecha válida'));

  const version = datos.version ?? null;
  if (version !== null && !(Number.isSafeInteger(version) && version >= 0)) {
    return Resultado.fallo(datoInvalido('version', 'debe ser un entero mayor o igual que 0'));
  }
  const motivo = datos.motivo ?? null;
  if (motivo !== null) {
    const error = validarTextoLibre('motivo', motivo, LONGITUD_MAXIMA_MOTIVO);
    if (error) return Resultado.fallo(error);
  }
  const idAfiliado = datos.idAfiliado ?? null;
  if (idAfiliado !== null) {
    const error = validarIdentificador('id_afiliado', idAfiliado);
    if (error) return Resultado.fallo(error);
  }

  let monto: Dinero | null = null;
  if (datos.monto != null) {
    if (tipo === 'aprobada' || tipo === 'revertida') {
      return Resultado.fallo({ tipo: 'CampoNoAdmitido', campo: 'monto', tipoHecho: tipo });
    }
    const m = Dinero.deUnidadesMenores(datos.monto.unidadesMenores, datos.monto.moneda);
    if (!m.ok) return m;
    monto = m.valor;
  }

  const base = {
    idEvento: datos.idEvento,
    idSocio: datos.idSocio,
    idConversion: datos.idConversion,
    ocurridoEn: datos.ocurridoEn,
    version,
    motivo,
  };
  switch (tipo) {
    case 'creada':
      if (idAfiliado === null) return Resultado.fallo({ tipo: 'CampoObligatorio', campo: 'id_afiliado', tipoHecho: tipo });
      if (monto === null) return Resultado.fallo({ tipo: 'CampoObligatorio', campo: 'monto', tipoHecho: tipo });
      return Resultado.ok(Object.freeze({ tipo, ...base, idAfiliado, monto }));
    case 'ajustada':
      if (monto === null) return Resultado.fallo({ tipo: 'CampoObligatorio', campo: 'monto', tipoHecho: tipo });
      return Resultado.ok(Object.freeze({ tipo, ...base, idAfiliado, monto }));
    case 'aprobada':
    case 'revertida':
      return Resultado.ok(Object.freeze({ tipo, ...base, idAfiliado }));
  }
}

function montoDe(hecho: HechoConversion): Dinero | null {
  return hecho.tipo === 'creada' || hecho.tipo === 'ajustada' ? hecho.monto : null;
}

function compararNulos<T>(a: T | null, b: T | null, comparar: (x: T, y: T) => number): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  return comparar(a, b);
}

/**
 * Orden total sobre hechos, que no depende del orden de llegada: por `ocurridoEn`, `idEvento` y, para
 * desempatar copias distintas del mismo `idEvento`, por el resto de campos. Da el orden canónico en que
 * {@link estadoConversion} lista los hechos.
 */
export function compararHechos(a: HechoConversion, b: HechoConversion): number {
  const ma = montoDe(a);
  const mb = montoDe(b);
  return (
    compararNumero(a.ocurridoEn.getTime(), b.ocurridoEn.getTime()) ||
    compararTexto(a.idEvento, b.idEvento) ||
    compararNumero(TIPOS.indexOf(a.tipo), TIPOS.indexOf(b.tipo)) ||
    compararTexto(a.idSocio, b.idSocio) ||
    compararTexto(a.idConversion, b.idConversion) ||
    compararNulos(a.version, b.version, compararNumero) ||
    compararNulos(a.idAfiliado, b.idAfiliado, compararTexto) ||
    compararNulos(ma?.moneda ?? null, mb?.moneda ?? null, compararTexto) ||
    compararNulos(ma?.unidadesMenores ?? null, mb?.unidadesMenores ?? null, compararNumero) ||
    compararNulos(a.motivo, b.motivo, compararTexto)
  );
}

export const HechoConversion = {
  tipos: TIPOS,
  esTipo,
  validar: validarHechoConversion,
  comparar: compararHechos,
  /** ¿Son el mismo hecho campo a campo? (Una repetición legítima; si comparten `idEvento` y no, es un conflicto.) */
  iguales(a: HechoConversion, b: HechoConversion): boolean {
    return compararHechos(a, b) === 0;
  },
  /** El importe de la venta que trae el hecho (`creada` y `ajustada`), o `null`. */
  monto: montoDe,
} as const;
