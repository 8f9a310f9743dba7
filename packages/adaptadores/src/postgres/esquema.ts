import type { ColumnType, Generated } from 'kysely';

/**
 * Tipos de las tablas tal como las ve `pg` (Kysely las usa para el constructor de consultas).
 * `pg` devuelve BIGINT como texto: las columnas bigint se leen como `string` y se convierten
 * explícitamente con {@link enteroSeguro}.
 */
export interface BaseDeDatos {
  pagos: TablaPagos;
  outbox: TablaOutbox;
  historial_pagos: TablaHistorialPagos;
  socios: TablaSocios;
  claves_api: TablaClavesApi;
  secretos_firma: TablaSecretosFirma;
}

type Fecha = ColumnType<Date, Date | string, Date | string>;
type FechaConDefecto = ColumnType<Date, Date | string | undefined, Date | string>;
type Bigint = ColumnType<string, number | string | bigint, number | string | bigint>;

export interface TablaPagos {
  id: string;
  id_socio: string;
  /** `live` o `test` (el de la clave con la que se creó). */
  modo: ColumnType<string, string | undefined, never>;
  clave_idempotencia: string;
  id_afiliado: string;
  monto_unidades: Bigint;
  moneda: string;
  referencia_pago: string;
  estado: string;
  version: number;
  fecha_creacion: Fecha;
  fecha_actualizacion: Fecha;
  fecha_procesamiento: Fecha | null;
  referencia_transaccion: string | null;
  mensaje_error: string | null;
  /** Turno de cobro (lease): quién ejecuta el paso de la pasarela del pago y hasta cuándo. */
  turno_titular: ColumnType<string | null, string | null | undefined, string | null>;
  turno_hasta: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface TablaOutbox {
  id: ColumnType<string, never, never>;
  id_evento: string;
  id_agregado: string;
  version_agregado: number;
  tipo: string;
  payload: ColumnType<unknown, string, string>;
  metadatos: ColumnType<unknown, string, string>;
  fecha_creacion: FechaConDefecto;
  fecha_publicacion: Fecha | null;
  intentos: Generated<number>;
  ultimo_error: string | null;
  /** Secuencia de publicación que asigna el relay al reclamar la fila (la usa Pulsar como `sequenceId`). */
  secuencia: Bigint | null;
  /** Nombre del productor del relay que asignó `secuencia`. */
  productor: string | null;
}

export interface TablaHistorialPagos {
  id: ColumnType<string, never, never>;
  id_pago: string;
  version: number;
  estado: string;
  tipo_evento: string;
  id_evento: string;
  ocurrido_en: Fecha;
  id_correlacion: string;
  /** `Request-Id` de la petición que causó el paso (si vino de una). */
  id_solicitud: ColumnType<string | null, string | null | undefined, never>;
}

export interface TablaSocios {
  id: string;
  nombre: string;
  estado: ColumnType<string, string | undefined, string>;
  firma_obligatoria: ColumnType<boolean, boolean | undefined, boolean>;
  limite_rps: number | null;
  creado_en: FechaConDefecto;
}

export interface TablaClavesApi {
  id: string;
  id_socio: string;
  /** Parte pública de la clave, única: por ella se busca. */
  prefijo: string;
  /** SHA-256 del secreto (32 bytes); la clave nunca se guarda. */
  hash_secreto: Buffer;
  modo: string;
  creada_en: FechaConDefecto;
  expira_en: Fecha | null;
  revocada_en: Fecha | null;
  ultimo_uso_en: Fecha | null;
}

export interface TablaSecretosFirma {
  id: string;
  id_socio: string;
  /** `whsec_…` en claro: el HMAC se verifica con el secreto mismo. */
  secreto: string;
  creado_en: FechaConDefecto;
  expira_en: Fecha | null;
  revocado_en: Fecha | null;
}

/**
 * Convierte un BIGINT que `pg` entrega como texto (o un número) en un entero seguro de JavaScript.
 * Lanza si el valor no es entero o no cabe sin pérdida: nunca se redondea en silencio.
 */
export function enteroSeguro(valor: unknown, campo: string): number {
  const numero = typeof valor === 'number' ? valor : typeof valor === 'string' && /^-?\d{1,16}$/.test(valor) ? Number(valor) : Number.NaN;
  if (!Number.isSafeInteger(numero)) {
    throw new Error(`Valor entero inválido o fuera de rango en la columna ${campo}: ${String(valor)}`);
  }
  return numero;
}
