import type { Env, Hono, Schema } from 'hono';
import { generateSpecs, resolver, type DescribeRouteOptions, type GenerateSpecOptions, type ResponsesWithResolver } from 'hono-openapi';
import type { GenericSchema } from 'valibot';
import { EsquemaIdCorrelacion, EsquemaProblema, EsquemaTraceparent } from './esquemas.js';
import { CATALOGO_PROBLEMAS, TIPO_CONTENIDO_PROBLEMA, uriTipoProblema, type TipoProblema } from './problemas.js';

/**
 * Documento OpenAPI 3.1, generado por hono-openapi a partir de las rutas de la app: cada ruta aporta sus
 * esquemas valibot de entrada (`validar` de `entrada.ts`) y su `describeRoute` (resumen y respuestas,
 * con los esquemas de salida). Aquí solo queda lo común: la cabecera, los tipos de problema, las
 * respuestas de error y los parámetros compartidos por todas las rutas de `/pagos`.
 */

export const NOMBRE_SERVICIO = 'aeropartners-pagos-api';

/**
 * Un esquema valibot para el documento (JSON Schema 2020-12, el dialecto de OpenAPI 3.1). `input` es lo
 * que se envía; `output`, para los parámetros de consulta, lo que significan (`limite` es un entero).
 * Con `errorMode: 'throw'`, una acción que JSON Schema no puede expresar rompe el documento (y su test).
 */
export function esquemaDocumentado(esquema: GenericSchema, modo: 'input' | 'output' = 'input'): ReturnType<typeof resolver> {
  return resolver(esquema, { options: { target: 'draft-2020-12', typeMode: modo, errorMode: 'throw' } });
}

const CABECERA_CORRELACION = {
  'Request-Id': {
    description: 'Id único de la petición, generado por el servidor (req_ + UUIDv7): está en el registro y en el historial del pago.',
    schema: { type: 'string', pattern: '^req_' },
  },
  'X-Correlation-Id': {
    description: 'Identificador de correlación de la petición (el recibido o uno generado).',
    schema: { type: 'string' },
  },
} as const;

const CABECERAS_LIMITE: Cabeceras = {
  'RateLimit-Policy': {
    description: 'Límite del socio en esta instancia (borrador IETF RateLimit header fields): "socio";q=<cuota>;w=<segundos>.',
    schema: { type: 'string' },
  },
  RateLimit: {
    description: 'Estado del límite: "socio";r=<restantes>;t=<segundos hasta recuperar la cuota>.',
    schema: { type: 'string' },
  },
};

type Cabeceras = Readonly<Record<string, { readonly description: string; readonly schema: object }>>;
type RespuestaDocumentada = ResponsesWithResolver[string];

/** Una respuesta JSON con su esquema de salida. */
export function respuestaJson(esquema: GenericSchema, descripcion: string, cabeceras: Cabeceras = {}): RespuestaDocumentada {
  return {
    description: descripcion,
    headers: { ...CABECERA_CORRELACION, ...cabeceras },
    content: { 'application/json': { schema: esquemaDocumentado(esquema) } },
  };
}

/** Una de las respuestas de error de `components.responses`. */
export const respuesta = (nombre: NombreRespuesta) => ({ $ref: `#/components/responses/${nombre}` });

function respuestaProblema(tipos: readonly TipoProblema[], descripcion: string, cabeceras: Cabeceras = {}): RespuestaDocumentada {
  return {
    description: `${descripcion} Tipos: ${tipos.map(uriTipoProblema).join(', ')}.`,
    headers: { ...CABECERA_CORRELACION, ...cabeceras },
    content: { [TIPO_CONTENIDO_PROBLEMA]: { schema: esquemaDocumentado(EsquemaProblema) } },
  };
}

type NombreRespuesta =
  | 'NoAutenticado'
  | 'SocioSuspendido'
  | 'DemasiadasPeticiones'
  | 'SolicitudInvalida'
  | 'PagoNoEncontrado'
  | 'CuerpoDemasiadoGrande'
  | 'TipoNoSoportado'
  | 'ClaveReutilizada'
  | 'ErrorInterno'
  | 'NoDisponible';

const RESPUESTAS: Record<NombreRespuesta, RespuestaDocumentada> = {
  NoAutenticado: respuestaProblema(
    ['clave-ausente', 'clave-invalida', 'firma-invalida'],
    'Falta la clave de API, no es válida (desconocida, revocada, expirada: motivo lo dice) o, si el socio exige peticiones ' +
      'firmadas, la firma falta, caducó (±300 s) o no coincide (motivo lo dice). No se escribió nada.',
    {
      'WWW-Authenticate': {
        description: 'Reto Bearer (RFC 6750), con error="invalid_token" si la clave no vale.',
        schema: { type: 'string' },
      },
    },
  ),
  SocioSuspendido: respuestaProblema(['socio-suspendido'], 'El socio de la clave está suspendido. No se escribió nada.'),
  DemasiadasPeticiones: respuestaProblema(
    ['demasiadas-peticiones'],
    'El socio superó su límite de peticiones por segundo (las réplicas cuentan). No se escribió nada: repita pasados los ' +
      'segundos de Retry-After con la misma clave de idempotencia.',
    {
      'Retry-After': { description: 'Segundos hasta que se admita otra petición.', schema: { type: 'integer', minimum: 1 } },
      ...CABECERAS_LIMITE,
    },
  ),
  SolicitudInvalida: respuestaProblema(['solicitud-invalida'], 'Entrada no válida; errores nombra cada campo.'),
  PagoNoEncontrado: respuestaProblema(['pago-no-encontrado'], 'El pago no existe.'),
  CuerpoDemasiadoGrande: respuestaProblema(['cuerpo-demasiado-grande'], 'El cuerpo supera 64 KiB.'),
  TipoNoSoportado: respuestaProblema(['tipo-de-contenido-no-soportado'], 'El cuerpo no es application/json.'),
  ClaveReutilizada: respuestaProblema(
    ['clave-idempotencia-reutilizada'],
    'La clave de idempotencia ya creó otro pago con datos distintos: id_pago_existente lo nombra y campos_distintos dice qué cambió.',
  ),
  ErrorInterno: respuestaProblema(['error-interno'], 'Error inesperado; el detalle queda en el registro con el id de correlación.'),
  NoDisponible: respuestaProblema(
    ['servicio-no-disponible'],
    'La base de datos no está disponible (parada, reiniciándose, sin conexiones libres) o, en /health/ready, la instancia ' +
      'se está apagando. Repita la petición pasados los segundos de Retry-After, con la misma clave de idempotencia.',
    {
      'Retry-After': {
        description: 'Segundos que conviene esperar antes de repetir la petición (falta si la instancia se está apagando).',
        schema: { type: 'integer', minimum: 0 },
      },
    },
  ),
};

/**
 * Lo que comparten todas las rutas de `/pagos` (se declara con `app.use('/pagos/*', describeRoute(...))`):
 * aceptan las cabeceras de trazabilidad y, como usan la base de datos, pueden fallar con 500 o 503.
 */
export const COMUN_A_PAGOS: DescribeRouteOptions = {
  parameters: [{ $ref: '#/components/parameters/IdCorrelacion' }, { $ref: '#/components/parameters/Traceparent' }],
  responses: {
    '401': respuesta('NoAutenticado'),
    '403': respuesta('SocioSuspendido'),
    '429': respuesta('DemasiadasPeticiones'),
    '500': respuesta('ErrorInterno'),
    '503': respuesta('NoDisponible'),
  },
};

/** Las cabeceras de firma (Standard Webhooks), obligatorias solo para los socios que exigen peticiones firmadas. */
export const PARAMETROS_FIRMA = [
  { $ref: '#/components/parameters/WebhookId' },
  { $ref: '#/components/parameters/WebhookTimestamp' },
  { $ref: '#/components/parameters/WebhookSignature' },
];

/** Para las rutas que se sirven sin clave (salud): anula la seguridad global del documento. */
export const SIN_CLAVE: DescribeRouteOptions = { security: [] };

type Componentes = NonNullable<GenerateSpecOptions['documentation']['components']>;
type Parametro = NonNullable<Componentes['parameters']>[string];

async function parametroCabecera(nombre: string, esquema: GenericSchema): Promise<Parametro> {
  const { schema } = await esquemaDocumentado(esquema).toOpenAPISchema();
  // openapi-types declara el `schema` de un parámetro 3.1 con el tipo de 3.0: es el mismo JSON Schema.
  return { name: nombre, in: 'header', required: false, schema } as Parametro;
}

function cabeceraFirma(nombre: string, descripcion: string): Parametro {
  return {
    name: nombre,
    in: 'header',
    required: false,
    description: `Solo si el socio exige peticiones firmadas (Standard Webhooks). ${descripcion}`,
    schema: { type: 'string' },
  } as Parametro;
}

export async function crearDocumentoOpenApi<E extends Env, S extends Schema, P extends string>(
  app: Hono<E, S, P>,
  version = '0.1.0',
): Promise<Awaited<ReturnType<typeof generateSpecs>>> {
  const documentacion: GenerateSpecOptions['documentation'] & Record<`x-${string}`, unknown> = {
    openapi: '3.1.0',
    info: {
      title: 'Aeropartners · API de Pagos',
      version,
      description:
        'Registra pagos a afiliados de forma idempotente y consulta su estado. Un pago se registra en PENDIENTE ' +
        'y se procesa de forma asíncrona. Los errores son RFC 9457 application/problem+json.',
    },
    tags: [
      { name: 'pagos', description: 'Registro y consulta de pagos.' },
      { name: 'operación', description: 'Salud y estadísticas.' },
    ],
    components: {
      securitySchemes: {
        claveApi: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'ap_live_… / ap_test_…',
          description:
            'La clave de API del socio (`Authorization: Bearer ap_live_…`): de ella, y solo de ella, sale el socio, y todo ' +
            'lo que se lee o escribe queda en su ámbito. Una clave ap_test_ trabaja en modo de prueba (nunca llega a la ' +
            'pasarela real) y no ve lo de ap_live_, ni al revés. Se crean con `pnpm socios`.',
        },
      },
      parameters: {
        IdCorrelacion: await parametroCabecera('X-Correlation-Id', EsquemaIdCorrelacion),
        Traceparent: await parametroCabecera('traceparent', EsquemaTraceparent),
        WebhookId: cabeceraFirma('webhook-id', 'Id del mensaje firmado (ASCII visible, sin puntos).'),
        WebhookTimestamp: cabeceraFirma('webhook-timestamp', 'Segundos Unix de la firma; se aceptan ±300 s respecto del servidor.'),
        WebhookSignature: cabeceraFirma(
          'webhook-signature',
          'v1,<base64 del HMAC-SHA256 de "{webhook-id}.{webhook-timestamp}.{cuerpo crudo}"> con el secreto whsec_ del socio; ' +
            'varias separadas por espacios durante una rotación.',
        ),
      },
      responses: RESPUESTAS,
    },
    security: [{ claveApi: [] }],
    'x-tipos-de-problema': Object.fromEntries(
      Object.entries(CATALOGO_PROBLEMAS).map(([tipo, { status, title }]) => [uriTipoProblema(tipo as TipoProblema), { status, title }]),
    ),
  };
  return generateSpecs(app, {
    documentation: documentacion,
    // Toda ruta que valida su entrada puede responder 400; el de la casa es problem+json con `errores`.
    defaultValidationErrorResponse: respuesta('SolicitudInvalida') as unknown as GenerateSpecOptions['defaultValidationErrorResponse'],
  });
}
