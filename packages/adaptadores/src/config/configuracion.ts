import * as v from 'valibot';

/**
 * Piezas comunes de la configuración de los servicios: cada servicio declara su esquema valibot de
 * variables de entorno con estas piezas (cada variable con su descripción: de ahí sale la tabla de
 * configuración del README) y lo lee con {@link leerConfiguracion}.
 */

export const NIVELES_LOG_CONFIG = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Entero decimal en [minimo, maximo] leído de una variable de entorno. */
export const enteroEnv = (nombre: string, minimo: number, maximo: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d+$/, `${nombre} debe ser un entero entre ${minimo} y ${maximo}`),
    v.transform(Number),
    v.number(),
    v.minValue(minimo, `${nombre} debe ser un entero entre ${minimo} y ${maximo}`),
    v.maxValue(maximo, `${nombre} debe ser un entero entre ${minimo} y ${maximo}`),
  );

/** Número decimal en [minimo, maximo] (tasas, probabilidades). */
export const decimalEnv = (nombre: string, minimo: number, maximo: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d+(?:\.\d+)?$/, `${nombre} debe ser un número entre ${minimo} y ${maximo}`),
    v.transform(Number),
    v.number(),
    v.minValue(minimo, `${nombre} debe ser un número entre ${minimo} y ${maximo}`),
    v.maxValue(maximo, `${nombre} debe ser un número entre ${minimo} y ${maximo}`),
  );

/** `true`/`false`/`1`/`0`. */
export const booleanoEnv = (nombre: string) =>
  v.pipe(
    v.string(),
    v.regex(/^(?:true|false|1|0)$/, `${nombre} debe ser true, false, 1 o 0`),
    v.transform((s) => s === 'true' || s === '1'),
  );

export const urlPostgresEnv = (nombre: string) =>
  v.pipe(v.string(), v.regex(/^postgres(?:ql)?:\/\/\S+$/, `${nombre} debe ser una URL postgres:// o postgresql://`));

export const urlPulsarEnv = (nombre: string) =>
  v.pipe(v.string(), v.regex(/^pulsar(?:\+ssl)?:\/\/\S+$/, `${nombre} debe ser una URL pulsar:// o pulsar+ssl://`));

export const nombreEnv = (nombre: string) =>
  v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,128}$/, `${nombre} debe tener de 1 a 128 caracteres de [A-Za-z0-9._-]`));

/** Nombre de tópico: corto (`pagos`) o completo de Pulsar (`persistent://public/default/pagos`). */
export const topicoEnv = (nombre: string) =>
  v.pipe(v.string(), v.regex(/^[A-Za-z0-9._:/-]{1,200}$/, `${nombre} debe tener de 1 a 200 caracteres de [A-Za-z0-9._:/-]`));

export const nivelLogEnv = (nombre: string) =>
  v.picklist(NIVELES_LOG_CONFIG, `${nombre} debe ser uno de: ${NIVELES_LOG_CONFIG.join(', ')}`);

export const conDescripcion = <T extends v.GenericSchema>(esquema: T, descripcion: string) => v.pipe(esquema, v.description(descripcion));

export type LecturaConfiguracion<T> = { readonly ok: true; readonly config: T } | { readonly ok: false; readonly mensaje: string };

/**
 * Valida el entorno con el esquema de un servicio. Un valor vacío cuenta como ausente. El error es UNA
 * línea en español que nombra la variable (el servicio la escribe en stderr y sale con código 1).
 */
export function leerConfiguracion<E extends v.ObjectEntries>(
  esquema: v.ObjectSchema<E, undefined>,
  entorno: Readonly<Record<string, string | undefined>>,
  reglas?: ReglasCruzadas<v.InferOutput<v.ObjectSchema<E, undefined>>>,
): LecturaConfiguracion<v.InferOutput<v.ObjectSchema<E, undefined>>> {
  const valores: Record<string, string> = {};
  for (const nombre of Object.keys(esquema.entries)) {
    const valor = entorno[nombre];
    if (valor !== undefined && valor.trim() !== '') valores[nombre] = valor.trim();
  }
  const resultado = v.safeParse(esquema, valores, { abortEarly: true });
  if (resultado.success) {
    const error = reglas?.(resultado.output);
    return error === undefined ? { ok: true, config: resultado.output } : { ok: false, mensaje: `Configuración no válida: ${error}.` };
  }
  const [issue] = resultado.issues;
  const variable = v.getDotPath(issue) ?? 'entorno';
  const mensaje =
    issue.input === undefined
      ? `falta ${variable}, que es obligatoria`
      : issue.message.includes(variable)
        ? issue.message
        : `${variable}: ${issue.message}`;
  return { ok: false, mensaje: `Configuración no válida: ${mensaje}.` };
}

/**
 * Reglas que cruzan variables (p. ej. «Stripe exige su clave»): la primera que no se cumple, como texto
 * que nombra la variable; `undefined` si todas se cumplen.
 */
export type ReglasCruzadas<T> = (config: T) => string | undefined;

/** Lee la configuración (y sus reglas cruzadas) o termina el proceso con una línea clara y código 1. */
export function leerConfiguracionOSalir<E extends v.ObjectEntries>(
  esquema: v.ObjectSchema<E, undefined>,
  reglas?: ReglasCruzadas<v.InferOutput<v.ObjectSchema<E, undefined>>>,
  entorno: Readonly<Record<string, string | undefined>> = process.env,
): v.InferOutput<v.ObjectSchema<E, undefined>> {
  const lectura = leerConfiguracion(esquema, entorno, reglas);
  if (!lectura.ok) {
    process.stderr.write(`${lectura.mensaje}\n`);
    process.exit(1);
  }
  return lectura.config;
}
