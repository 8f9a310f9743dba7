import { Resultado } from '@aeropartners/dominio';

/**
 * Qué trazas exporta un servicio, leído de las variables estándar de OpenTelemetry
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/).
 *
 * Apagado por defecto (decisión 0195): la especificación da `OTEL_TRACES_EXPORTER=otlp` por defecto, pero
 * un servicio de pagos que arranca en un portátil no debe intentar enviar trazas a `localhost:4318`. Se
 * enciende si `OTEL_TRACES_EXPORTER` nombra un exportador o si hay un destino OTLP
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` u `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); `OTEL_SDK_DISABLED=true` lo
 * apaga siempre. Un valor que no se entiende es un error que nombra la variable, no un apagado en silencio.
 */

export type Exportador = 'otlp' | 'console';

export type Muestreo =
  | { readonly tipo: 'always_on' | 'always_off' | 'parentbased_always_on' | 'parentbased_always_off' }
  | { readonly tipo: 'traceidratio' | 'parentbased_traceidratio'; readonly proporcion: number };

export type ConfiguracionTelemetria =
  | { readonly activa: false }
  | {
      readonly activa: true;
      readonly exportadores: readonly Exportador[];
      /** URL completa de las trazas OTLP (con `/v1/traces` si vino de `OTEL_EXPORTER_OTLP_ENDPOINT`). */
      readonly urlOtlp: string;
      readonly muestreo: Muestreo;
      readonly nombreServicio: string;
    };

type Entorno = Readonly<Record<string, string | undefined>>;

const EXPORTADORES = ['otlp', 'console', 'none'] as const;
const MUESTREOS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
const URL_OTLP_POR_DEFECTO = 'http://localhost:4318/v1/traces';

/** Un valor vacío cuenta como ausente (como en el resto de la configuración). */
function valor(entorno: Entorno, nombre: string): string | undefined {
  const v = entorno[nombre]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** La configuración de trazas de `entorno`, o UNA línea que nombra la variable mal puesta. */
export function leerConfiguracionTelemetria(entorno: Entorno, servicio: string): Resultado<ConfiguracionTelemetria, string> {
  const deshabilitado = valor(entorno, 'OTEL_SDK_DISABLED')?.toLowerCase();
  if (deshabilitado !== undefined && deshabilitado !== 'true' && deshabilitado !== 'false') {
    return error(`OTEL_SDK_DISABLED=«${deshabilitado}» no vale: true o false`);
  }

  const nombres = valor(entorno, 'OTEL_TRACES_EXPORTER')
    ?.toLowerCase()
    .split(',')
    .map((n) => n.trim());
  for (const n of nombres ?? []) {
    if (!(EXPORTADORES as readonly string[]).includes(n)) {
      return error(`OTEL_TRACES_EXPORTER: «${n}» no se admite (otlp, console o none)`);
    }
  }

  const protocolo = valor(entorno, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? valor(entorno, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocolo !== undefined && protocolo !== 'http/protobuf') {
    const variable = valor(entorno, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
      ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
      : 'OTEL_EXPORTER_OTLP_PROTOCOL';
    return error(`${variable}=«${protocolo}» no se admite: solo http/protobuf (el puerto 4318 de un colector o de Jaeger)`);
  }

  const urlTrazas = valor(entorno, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const urlBase = valor(entorno, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  for (const [variable, url] of [
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', urlTrazas],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', urlBase],
  ] as const) {
    if (url !== undefined && !esUrlHttp(url)) return error(`${variable}=«${url}» no es una URL http:// o https://`);
  }

  const muestreo = leerMuestreo(entorno);
  if (!muestreo.ok) return muestreo;

  if (deshabilitado === 'true') return Resultado.ok({ activa: false });
  const exportadores = (nombres ?? (urlTrazas !== undefined || urlBase !== undefined ? ['otlp'] : [])).filter(
    (n): n is Exportador => n !== 'none',
  );
  if (exportadores.length === 0) return Resultado.ok({ activa: false });

  return Resultado.ok({
    activa: true,
    exportadores: [...new Set(exportadores)],
    // La especificación: el destino propio de las trazas se usa tal cual; el general lleva `/v1/traces` detrás.
    urlOtlp: urlTrazas ?? (urlBase === undefined ? URL_OTLP_POR_DEFECTO : `${urlBase.replace(/\/+$/, '')}/v1/traces`),
    muestreo: muestreo.valor,
    nombreServicio: valor(entorno, 'OTEL_SERVICE_NAME') ?? servicio,
  });
}

function leerMuestreo(entorno: Entorno): Resultado<Muestreo, string> {
  const tipo = (valor(entorno, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase();
  if (!(MUESTREOS as readonly string[]).includes(tipo)) {
    return error(`OTEL_TRACES_SAMPLER: «${tipo}» no se admite (${MUESTREOS.join(', ')})`);
  }
  if (tipo !== 'traceidratio' && tipo !== 'parentbased_traceidratio') {
    return Resultado.ok({ tipo: tipo as Exclude<Muestreo['tipo'], 'traceidratio' | 'parentbased_traceidratio'> });
  }
  const argumento = valor(entorno, 'OTEL_TRACES_SAMPLER_ARG') ?? '1';
  const proporcion = Number(argumento);
  if (!/^\d*\.?\d+$/.test(argumento) || !(proporcion >= 0 && proporcion <= 1)) {
    return error(`OTEL_TRACES_SAMPLER_ARG=«${argumento}» no vale: una proporción entre 0 y 1`);
  }
  return Resultado.ok({ tipo, proporcion });
}

function esUrlHttp(texto: string): boolean {
  try {
    const url = new URL(texto);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function error(mensaje: string): Resultado<never, string> {
  return Resultado.fallo(`Configuración de trazas no válida: ${mensaje}.`);
}
