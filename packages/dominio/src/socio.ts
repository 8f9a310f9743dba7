import { Modo } from './ambito.js';
import { Resultado } from './resultado.js';

/**
 * Socios (partners) y sus claves de API: las reglas, sin el mecanismo (hash, caché, tablas). Un socio
 * está activo o suspendido; tiene como mucho dos claves vigentes por modo a la vez (la que usa y la que
 * la sustituye mientras rota); una clave deja de valer al revocarse o al llegar su plazo.
 */

export const EstadoSocio = {
  ACTIVO: 'activo',
  SUSPENDIDO: 'suspendido',
} as const;
export type EstadoSocio = (typeof EstadoSocio)[keyof typeof EstadoSocio];

export const esEstadoSocio = (valor: unknown): valor is EstadoSocio => valor === EstadoSocio.ACTIVO || valor === EstadoSocio.SUSPENDIDO;

/** Claves vigentes a la vez por socio y modo: la que está en uso y la que la sustituye durante una rotación. */
export const MAXIMO_CLAVES_VIGENTES = 2;

/** Secretos de firma vigentes a la vez: el actual y el siguiente durante una rotación. */
export const MAXIMO_SECRETOS_FIRMA = 2;

/** Peticiones por segundo que se pueden fijar como límite propio de un socio. */
export const LIMITE_RPS = { minimo: 1, maximo: 1_000_000 } as const;

/** Prefijo de toda clave de API según su modo (como `sk_live_`/`sk_test_` de Stripe). */
export const PREFIJO_CLAVE: Readonly<Record<Modo, string>> = Object.freeze({ live: 'ap_live_', test: 'ap_test_' });

export interface Socio {
  readonly id: string;
  readonly nombre: string;
  readonly estado: EstadoSocio;
  /** Si sus peticiones deben ir firmadas (Standard Webhooks) con uno de sus secretos. */
  readonly firmaObligatoria: boolean;
  /** Su límite propio de peticiones por segundo; `null`: el de la instancia. */
  readonly limiteRps: number | null;
}

/** Lo que se sabe de una clave de API sin su secreto (que nunca se guarda). */
export interface ClaveApi {
  readonly id: string;
  readonly idSocio: string;
  /** Parte pública de la clave con la que se la busca y se la nombra (`ap_live_3kT9…`). */
  readonly prefijo: string;
  readonly modo: Modo;
  readonly creadaEn: Date;
  readonly expiraEn: Date | null;
  readonly revocadaEn: Date | null;
}

export type EstadoClave = 'vigente' | 'expirada' | 'revocada';

/** Revocada pesa más que expirada: una clave revocada no vuelve a valer aunque se le cambie el plazo. */
export function estadoClave(clave: Pick<ClaveApi, 'expiraEn' | 'revocadaEn'>, ahora: Date): EstadoClave {
  if (clave.revocadaEn !== null) return 'revocada';
  if (clave.expiraEn !== null && clave.expiraEn.getTime() <= ahora.getTime()) return 'expirada';
  return 'vigente';
}

/**
 * Por qué una credencial no deja operar. La clave se juzga antes que el socio: una clave revocada o
 * expirada no identifica a nadie (401); con una clave vigente de un socio suspendido, se sabe quién es y
 * se le niega (403).
 */
export type MotivoRechazo = 'clave-revocada' | 'clave-expirada' | 'socio-suspendido';

/** ¿Puede operar el socio con esta clave (o sin clave, en el modo anónimo) en este instante? */
export function autorizar(
  socio: Pick<Socio, 'estado'>,
  clave: Pick<ClaveApi, 'expiraEn' | 'revocadaEn'> | null,
  ahora: Date,
): Resultado<void, MotivoRechazo> {
  if (clave !== null) {
    const estado = estadoClave(clave, ahora);
    if (estado === 'revocada') return Resultado.fallo('clave-revocada');
    if (estado === 'expirada') return Resultado.fallo('clave-expirada');
  }
  if (socio.estado !== EstadoSocio.ACTIVO) return Resultado.fallo('socio-suspendido');
  return Resultado.ok(undefined);
}

/** El modo de una clave por su prefijo; `null` si no tiene la forma de una clave de API. */
export function modoDeClave(texto: string): Modo | null {
  if (texto.startsWith(PREFIJO_CLAVE.live)) return Modo.REAL;
  if (texto.startsWith(PREFIJO_CLAVE.test)) return Modo.PRUEBA;
  return null;
}

export type ErrorSocio =
  | { readonly tipo: 'DatoInvalido'; readonly campo: string; readonly motivo: string }
  | { readonly tipo: 'DemasiadasClaves'; readonly idSocio: string; readonly modo: Modo; readonly vigentes: readonly string[] }
  | { readonly tipo: 'SinClaveAnterior'; readonly idSocio: string; readonly modo: Modo };

const ID_SOCIO = /^[A-Za-z0-9._-]{1,64}$/;
const LARGO_MAXIMO_NOMBRE = 200;
// Caracteres de control (C0, DEL y C1): un nombre se imprime en tablas y registros.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Un id de socio: 1 a 64 caracteres de `[A-Za-z0-9._-]` (cabe en una URL, una cabecera y un registro). */
export function validarIdSocio(id: string): Resultado<string, ErrorSocio> {
  if (!ID_SOCIO.test(id)) {
    return Resultado.fallo({ tipo: 'DatoInvalido', campo: 'id_socio', motivo: 'debe tener de 1 a 64 caracteres de [A-Za-z0-9._-]' });
  }
  return Resultado.ok(id);
}

/** El nombre de un socio, sin los espacios de los extremos: no vacío, sin caracteres de control, ≤ 200. */
export function validarNombreSocio(nombre: string): Resultado<string, ErrorSocio> {
  const limpio = nombre.trim();
  if (limpio.length === 0) return Resultado.fallo({ tipo: 'DatoInvalido', campo: 'nombre', motivo: 'no puede estar vacío' });
  if (limpio.length > LARGO_MAXIMO_NOMBRE) {
    return Resultado.fallo({ tipo: 'DatoInvalido', campo: 'nombre', motivo: `admite como máximo ${LARGO_MAXIMO_NOMBRE} caracteres` });
  }
  if (CONTROL.test(limpio)) return Resultado.fallo({ tipo: 'DatoInvalido', campo: 'nombre', motivo: 'no admite caracteres de control' });
  return Resultado.ok(limpio);
}

/** Un límite propio de peticiones por segundo: entero de {@link LIMITE_RPS}. */
export function validarLimiteRps(limite: number): Resultado<number, ErrorSocio> {
  if (!Number.isSafeInteger(limite) || limite < LIMITE_RPS.minimo || limite > LIMITE_RPS.maximo) {
    return Resultado.fallo({
      tipo: 'DatoInvalido',
      campo: 'limite_rps',
      motivo: `debe ser un entero de ${LIMITE_RPS.minimo} a ${LIMITE_RPS.maximo}`,
    });
  }
  return Resultado.ok(limite);
}

/** Un socio nuevo (activo) con sus datos validados. */
export function crearSocio(datos: {
  readonly id: string;
  readonly nombre: string;
  readonly firmaObligatoria?: boolean;
  readonly limiteRps?: number | null;
}): Resultado<Socio, ErrorSocio> {
  const id = validarIdSocio(datos.id);
  if (!id.ok) return id;
  const nombre = validarNombreSocio(datos.nombre);
  if (!nombre.ok) return nombre;
  let limiteRps: number | null = null;
  if (datos.limiteRps !== undefined && datos.limiteRps !== null) {
    const limite = validarLimiteRps(datos.limiteRps);
    if (!limite.ok) return limite;
    limiteRps = limite.valor;
  }
  return Resultado.ok(
    Object.freeze({
      id: id.valor,
      nombre: nombre.valor,
      estado: EstadoSocio.ACTIVO,
      firmaObligatoria: datos.firmaObligatoria ?? false,
      limiteRps,
    }),
  );
}

/** Suspender o reactivar: el estado pedido, y si cambió (repetirlo no es un error: es idempotente). */
export function cambiarEstado(socio: Socio, estado: EstadoSocio): { readonly socio: Socio; readonly cambiado: boolean } {
  if (socio.estado === estado) return { socio, cambiado: false };
  return { socio: Object.freeze({ ...socio, estado }), cambiado: true };
}

/** Qué hacer para emitir una clave nueva de un socio en un modo. */
export interface PlanClaveNueva {
  /** Claves que ya expiraron y se dan por retiradas (dejan de contar para el máximo). */
  readonly retirar: readonly string[];
  /** Plazo que se pone a la clave anterior (rotación «con margen»); vacío si no se pidió. */
  readonly expirarAnterior: readonly { readonly id: string; readonly expiraEn: Date }[];
}

/**
 * Emitir una clave nueva (rotación). Las claves expiradas se retiran; si quedan {@link MAXIMO_CLAVES_VIGENTES}
 * vigentes, no se emite otra (hay que revocar una antes). Con `expiraAnteriorEn`, la clave vigente que había
 * deja de valer en ese instante (como «roll key» de Stripe); sin él, sigue valiendo hasta que se revoque.
 */
export function planificarClaveNueva(
  idSocio: string,
  modo: Modo,
  claves: readonly ClaveApi[],
  ahora: Date,
  expiraAnteriorEn?: Date,
): Resultado<PlanClaveNueva, ErrorSocio> {
  const delModo = claves.filter((c) => c.idSocio === idSocio && c.modo === modo);
  const retirar = delModo.filter((c) => estadoClave(c, ahora) === 'expirada').map((c) => c.id);
  const vigentes = delModo.filter((c) => estadoClave(c, ahora) === 'vigente');
  if (vigentes.length >= MAXIMO_CLAVES_VIGENTES) {
    return Resultado.fallo({ tipo: 'DemasiadasClaves', idSocio, modo, vigentes: vigentes.map((c) => c.prefijo) });
  }
  if (expiraAnteriorEn === undefined) return Resultado.ok({ retirar, expirarAnterior: [] });
  if (expiraAnteriorEn.getTime() <= ahora.getTime()) {
    return Resultado.fallo({ tipo: 'DatoInvalido', campo: 'expira_en', motivo: 'debe ser un instante futuro' });
  }
  const anterior = vigentes[0];
  if (anterior === undefined) return Resultado.fallo({ tipo: 'SinClaveAnterior', idSocio, modo });
  const expiraEn =
    anterior.expiraEn !== null && anterior.expiraEn.getTime() < expiraAnteriorEn.getTime() ? anterior.expiraEn : expiraAnteriorEn;
  return Resultado.ok({ retirar, expirarAnterior: [{ id: anterior.id, expiraEn }] });
}
