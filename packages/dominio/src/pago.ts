import { Modo, esModo } from './ambito.js';
import { Dinero, type ErrorDinero } from './dinero.js';
import { EstadoPago } from './estado-pago.js';
import type { EventoPago, PagoExitoso, PagoFallido, PagoPendiente, PagoProcesando } from './eventos.js';
import { Resultado } from './resultado.js';

/** El agregado `Pago`. Inmutable: cada regla devuelve un pago nuevo y los eventos que levantó. */
export type Pago = Readonly<{
  id: string;
  /** Socio (partner) que envió el pago: delimita el alcance de las claves de idempotencia. */
  idSocio: string;
  /** Real o de prueba (por la clave con la que se creó): uno de prueba nunca llega a la pasarela real. */
  modo: Modo;
  idAfiliado: string;
  monto: Dinero;
  /** Referencia del pago en el sistema del socio. */
  referenciaPago: string;
  estado: EstadoPago;
  /** Versión para concurrencia optimista: 1 al crearse, +1 por cada transición. */
  version: number;
  fechaCreacion: Date;
  fechaActualizacion: Date;
  /** Cuándo alcanzó un estado final; `null` mientras no lo haga. */
  fechaProcesamiento: Date | null;
  /** Referencia de la transacción en la pasarela (solo en EXITOSO). */
  referenciaTransaccion: string | null;
  /** Motivo del fallo (solo en FALLIDO). */
  mensajeError: string | null;
}>;

/** Lo que produce una regla: el pago resultante y los eventos que aún no se han entregado. */
export type CambioPago = Readonly<{ pago: Pago; eventos: readonly EventoPago[] }>;

/** Lo que el dominio necesita del mundo: la hora y nuevos identificadores. */
export interface Contexto {
  readonly ahora: Date;
  readonly nuevoId: () => string;
}

export type ErrorDePago =
  | ErrorDinero
  | { readonly tipo: 'DatoInvalido'; readonly campo: string; readonly motivo: string }
  | { readonly tipo: 'TransicionInvalida'; readonly idPago: string; readonly desde: EstadoPago; readonly hacia: EstadoPago }
  | {
      readonly tipo: 'ResultadoEnConflicto';
      readonly idPago: string;
      readonly estadoActual: EstadoPago;
      readonly estadoPedido: EstadoPago;
    };

export interface DatosNuevoPago {
  readonly id: string;
  readonly idSocio: string;
  /** Por defecto, real (`live`): lo que era todo pago antes de que hubiera modo de prueba. */
  readonly modo?: Modo | undefined;
  readonly idAfiliado: string;
  readonly monto: Dinero;
  readonly referenciaPago: string;
}

const LONGITUD_MAXIMA_TEXTO = 255;

function textoValido(campo: string, valor: string): ErrorDePago | null {
  if (valor.trim().length === 0) return { tipo: 'DatoInvalido', campo, motivo: 'no puede estar vacío' };
  if (valor.length > LONGITUD_MAXIMA_TEXTO) {
    return { tipo: 'DatoInvalido', campo, motivo: `admite como máximo ${LONGITUD_MAXIMA_TEXTO} caracteres` };
  }
  return null;
}

/** Corta a `maximo` unidades UTF-16 sin partir un par sustituto (un sustituto suelto no es UTF-8 válido). */
function truncar(texto: string, maximo: number): string {
  if (texto.length <= maximo) return texto;
  const ultimo = texto.charCodeAt(maximo - 1);
  return texto.slice(0, ultimo >= 0xd800 && ultimo <= 0xdbff ? maximo - 1 : maximo);
}

function transicion(pago: Pago, hacia: EstadoPago, ctx: Contexto, cambios: Partial<Pago>): Pago {
  return Object.freeze({
    ...pago,
    ...cambios,
    estado: hacia,
    version: pago.version + 1,
    fechaActualizacion: ctx.ahora,
    fechaProcesamiento: EstadoPago.esFinal(hacia) ? ctx.ahora : pago.fechaProcesamiento,
  });
}

function sinCambios(pago: Pago): Resultado<CambioPago, never> {
  return Resultado.ok({ pago, eventos: [] });
}

/**
 * Crea un pago en PENDIENTE y levanta `PagoPendiente`.
 */
export function crearPago(datos: DatosNuevoPago, ctx: Contexto): Resultado<CambioPago, ErrorDePago> {
  for (const [campo, valor] of [
    ['id', datos.id],
    ['id_socio', datos.idSocio],
    ['id_afiliado', datos.idAfiliado],
    ['referencia_pago', datos.referenciaPago],
  ] as const) {
    const error = textoValido(campo, valor);
    if (error) return Resultado.fallo(error);
  }
  const modo = datos.modo ?? Modo.REAL;
  if (!esModo(modo)) return Resultado.fallo({ tipo: 'DatoInvalido', campo: 'modo', motivo: 'debe ser live o test' });
  const monto = Dinero.deUnidadesMenores(datos.monto.unidadesMenores, datos.monto.moneda);
  if (!monto.ok) return monto;
  const pago: Pago = Object.freeze({
    id: datos.id,
    idSocio: datos.idSocio,
    modo,
    idAfiliado: datos.idAfiliado,
    monto: monto.valor,
    referenciaPago: datos.referenciaPago,
    estado: 'PENDIENTE',
    version: 1,
    fechaCreacion: ctx.ahora,
    fechaActualizacion: ctx.ahora,
    fechaProcesamiento: null,
    referenciaTransaccion: null,
    mensajeError: null,
  });
  const evento: PagoPendiente = {
    tipo: 'PagoPendiente',
    idEvento: ctx.nuevoId(),
    idPago: pago.id,
    version: pago.version,
    ocurridoEn: ctx.ahora,
    datos: {
      idSocio: pago.idSocio,
      modo: pago.modo,
      idAfiliado: pago.idAfiliado,
      unidadesMenores: pago.monto.unidadesMenores,
      moneda: pago.monto.moneda,
      referenciaPago: pago.referenciaPago,
    },
  };
  return Resultado.ok({ pago, eventos: [evento] });
}

/**
 * PENDIENTE → PROCESANDO. Un pago se procesa una sola vez: si ya está PROCESANDO (reentrega del
 * mismo evento tras una caída) no cambia nada y no levanta eventos; si ya terminó, es un error.
 */
export function iniciarProcesamiento(pago: Pago, ctx: Contexto): Resultado<CambioPago, ErrorDePago> {
  if (pago.estado === 'PROCESANDO') return sinCambios(pago);
  if (pago.estado !== 'PENDIENTE') {
    return Resultado.fallo({ tipo: 'TransicionInvalida', idPago: pago.id, desde: pago.estado, hacia: 'PROCESANDO' });
  }
  const nuevo = transicion(pago, 'PROCESANDO', ctx, {});
  const evento: PagoProcesando = {
    tipo: 'PagoProcesando',
    idEvento: ctx.nuevoId(),
    idPago: pago.id,
    version: nuevo.version,
    ocurridoEn: ctx.ahora,
    datos: {},
  };
  return Resultado.ok({ pago: nuevo, eventos: [evento] });
}

/**
 * PROCESANDO → EXITOSO con la referencia de la pasarela. Reaplicar el mismo desenlace es un no-op sin
 * eventos (así una reentrega es inofensiva); el desenlace contrario es `ResultadoEnConflicto`.
 */
export function registrarExito(pago: Pago, referenciaTransaccion: string, ctx: Contexto): Resultado<CambioPago, ErrorDePago> {
  const error = textoValido('referencia_transaccion', referenciaTransaccion);
  if (error) return Resultado.fallo(error);
  if (pago.estado === 'EXITOSO' && pago.referenciaTransaccion === referenciaTransaccion) return sinCambios(pago);
  if (EstadoPago.esFinal(pago.estado)) {
    return Resultado.fallo({ tipo: 'ResultadoEnConflicto', idPago: pago.id, estadoActual: pago.estado, estadoPedido: 'EXITOSO' });
  }
  if (pago.estado !== 'PROCESANDO') {
    return Resultado.fallo({ tipo: 'TransicionInvalida', idPago: pago.id, desde: pago.estado, hacia: 'EXITOSO' });
  }
  const nuevo = transicion(pago, 'EXITOSO', ctx, { referenciaTransaccion, mensajeError: null });
  const evento: PagoExitoso = {
    tipo: 'PagoExitoso',
    idEvento: ctx.nuevoId(),
    idPago: pago.id,
    version: nuevo.version,
    ocurridoEn: ctx.ahora,
    datos: { referenciaTransaccion },
  };
  return Resultado.ok({ pago: nuevo, eventos: [evento] });
}

/** PROCESANDO → FALLIDO con un mensaje claro. Mismas reglas de idempotencia que {@link registrarExito}. */
export function registrarFallo(pago: Pago, mensajeError: string, ctx: Contexto): Resultado<CambioPago, ErrorDePago> {
  const mensaje = mensajeError.trim().length > 0 ? truncar(mensajeError, 1000) : 'Pago rechazado';
  if (pago.estado === 'FALLIDO') return sinCambios(pago);
  if (EstadoPago.esFinal(pago.estado)) {
    return Resultado.fallo({ tipo: 'ResultadoEnConflicto', idPago: pago.id, estadoActual: pago.estado, estadoPedido: 'FALLIDO' });
  }
  if (pago.estado !== 'PROCESANDO') {
    return Resultado.fallo({ tipo: 'TransicionInvalida', idPago: pago.id, desde: pago.estado, hacia: 'FALLIDO' });
  }
  const nuevo = transicion(pago, 'FALLIDO', ctx, { mensajeError: mensaje, referenciaTransaccion: null });
  const evento: PagoFallido = {
    tipo: 'PagoFallido',
    idEvento: ctx.nuevoId(),
    idPago: pago.id,
    version: nuevo.version,
    ocurridoEn: ctx.ahora,
    datos: { mensajeError: mensaje },
  };
  return Resultado.ok({ pago: nuevo, eventos: [evento] });
}

/** Las reglas del agregado agrupadas, para quien prefiera `Pago.crear(...)` a las funciones sueltas. */
export const Pago = {
  crear: crearPago,
  iniciarProcesamiento,
  registrarExito,
  registrarFallo,
} as const;
