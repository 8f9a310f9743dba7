import { toJsonSchema, type JsonSchema } from '@valibot/to-json-schema';
import type { GenericSchema } from 'valibot';
import {
  EsquemaClaveIdempotencia,
  EsquemaConsultaListado,
  EsquemaEstadisticasOutbox,
  EsquemaHistorialPago,
  EsquemaIdCorrelacion,
  EsquemaIdPago,
  EsquemaPaginaPagos,
  EsquemaPago,
  EsquemaPagoRegistrado,
  EsquemaProblema,
  EsquemaSalud,
  EsquemaSolicitudPago,
  EsquemaTraceparent,
} from './esquemas.js';
import { CATALOGO_PROBLEMAS, TIPO_CONTENIDO_PROBLEMA, uriTipoProblema, type TipoProblema } from './problemas.js';

/**
 * Documento OpenAPI 3.1 generado a partir de los mismos esquemas valibot que validan las peticiones
 * (JSON Schema 2020-12, el dialecto de OpenAPI 3.1). Se construye una vez al crear la app.
 */

export const NOMBRE_SERVICIO = 'aeropartners-pagos-api';

function esquema(schema: GenericSchema, modo: 'input' | 'output' = 'input'): JsonSchema {
  const { $schema: _dialecto, ...resto } = toJsonSchema(schema, {
    target: 'draft-2020-12',
    typeMode: modo,
    errorMode: 'throw',
  });
  return resto;
}

const ref = (nombre: string) => ({ $ref: `#/components/schemas/${nombre}` });
const refRespuesta = (nombre: string) => ({ $ref: `#/components/responses/${nombre}` });
const refParametro = (nombre: string) => ({ $ref: `#/components/parameters/${nombre}` });

const CABECERA_CORRELACION = {
  'X-Correlation-Id': {
    description: 'Identificador de correlación de la petición (el recibido o uno generado).',
    schema: { type: 'string' },
  },
};

function respuestaProblema(tipos: readonly TipoProblema[], descripcion: string, cabeceras: Record<string, unknown> = {}) {
  return {
    description: `${descripcion} Tipos: ${tipos.map(uriTipoProblema).join(', ')}.`,
    headers: { ...CABECERA_CORRELACION, ...cabeceras },
    content: { [TIPO_CONTENIDO_PROBLEMA]: { schema: ref('Problema') } },
  };
}

function json(nombreEsquema: string, descripcion: string, cabeceras: Record<string, unknown> = {}) {
  return {
    description: descripcion,
    headers: { ...CABECERA_CORRELACION, ...cabeceras },
    content: { 'application/json': { schema: ref(nombreEsquema) } },
  };
}

/** Parámetros de consulta de `GET /pagos`, uno por propiedad del esquema que los valida. */
function parametrosListado() {
  const objeto = esquema(EsquemaConsultaListado, 'output');
  return Object.entries(objeto.properties ?? {}).map(([nombre, schema]) => ({
    name: nombre,
    in: 'query',
    required: false,
    description: typeof schema === 'object' ? schema.description : undefined,
    schema,
  }));
}

export function crearDocumentoOpenApi(version = '0.1.0') {
  const comunes = [refParametro('IdCorrelacion'), refParametro('Traceparent')];
  // Toda ruta que usa la base de datos puede fallar de estas dos maneras.
  const fallosDeLaBase = { '500': refRespuesta('ErrorInterno'), '503': refRespuesta('NoDisponible') };
  return {
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
    paths: {
      '/pagos': {
        post: {
          operationId: 'registrarPago',
          tags: ['pagos'],
          summary: 'Registrar un pago (idempotente)',
          description:
            'Crea un pago en PENDIENTE con su evento PagoPendiente. La clave de idempotencia es la cabecera ' +
            'Idempotency-Key o, si falta, referencia_pago (por socio). Repetir la misma clave con el mismo cuerpo ' +
            'devuelve la respuesta original con Idempotent-Replayed: true; con otro cuerpo, 422.',
          parameters: [refParametro('ClaveIdempotencia'), ...comunes],
          requestBody: { required: true, content: { 'application/json': { schema: ref('SolicitudPago') } } },
          responses: {
            '200': json('PagoRegistrado', 'Pago registrado (o repetición idempotente de uno ya registrado).', {
              'Idempotent-Replayed': {
                description: 'true si la respuesta repite la de una petición anterior con la misma clave.',
                schema: { type: 'string', enum: ['true'] },
              },
            }),
            '400': refRespuesta('SolicitudInvalida'),
            '413': refRespuesta('CuerpoDemasiadoGrande'),
            '415': refRespuesta('TipoNoSoportado'),
            '422': refRespuesta('ClaveReutilizada'),
            ...fallosDeLaBase,
          },
        },
        get: {
          operationId: 'listarPagos',
          tags: ['pagos'],
          summary: 'Listar pagos (del más nuevo al más viejo, paginado por cursor)',
          parameters: [...parametrosListado(), ...comunes],
          responses: {
            '200': json('PaginaPagos', 'Una página de pagos.'),
            '400': refRespuesta('SolicitudInvalida'),
            ...fallosDeLaBase,
          },
        },
      },
      '/pagos/{id}': {
        get: {
          operationId: 'obtenerPago',
          tags: ['pagos'],
          summary: 'Estado de un pago',
          parameters: [refParametro('IdPago'), ...comunes],
          responses: {
            '200': json('Pago', 'El pago.'),
            '400': refRespuesta('SolicitudInvalida'),
            '404': refRespuesta('PagoNoEncontrado'),
            ...fallosDeLaBase,
          },
        },
      },
      '/pagos/{id}/historial': {
        get: {
          operationId: 'obtenerHistorialPago',
          tags: ['pagos'],
          summary: 'Historial de estados de un pago',
          parameters: [refParametro('IdPago'), ...comunes],
          responses: {
            '200': json('HistorialPago', 'Cada cambio de estado, con su evento y su correlación.'),
            '400': refRespuesta('SolicitudInvalida'),
            '404': refRespuesta('PagoNoEncontrado'),
            ...fallosDeLaBase,
          },
        },
      },
      '/pagos/outbox/estadisticas': {
        get: {
          operationId: 'estadisticasOutbox',
          tags: ['operación'],
          summary: 'Eventos del outbox: total, publicados y pendientes',
          parameters: comunes,
          responses: { '200': json('EstadisticasOutbox', 'Recuento de eventos.'), ...fallosDeLaBase },
        },
      },
      '/health': {
        get: {
          operationId: 'salud',
          tags: ['operación'],
          summary: 'Vida (liveness): el proceso responde',
          responses: { '200': json('Salud', 'El proceso está vivo.') },
        },
      },
      '/health/ready': {
        get: {
          operationId: 'preparado',
          tags: ['operación'],
          summary: 'Disponibilidad (readiness): la base de datos responde',
          responses: { '200': json('Salud', 'Listo para atender.'), '503': refRespuesta('NoDisponible') },
        },
      },
    },
    components: {
      schemas: {
        SolicitudPago: esquema(EsquemaSolicitudPago),
        PagoRegistrado: esquema(EsquemaPagoRegistrado),
        Pago: esquema(EsquemaPago),
        PaginaPagos: esquema(EsquemaPaginaPagos),
        HistorialPago: esquema(EsquemaHistorialPago),
        EstadisticasOutbox: esquema(EsquemaEstadisticasOutbox),
        Salud: esquema(EsquemaSalud),
        Problema: esquema(EsquemaProblema),
      },
      parameters: {
        IdPago: { name: 'id', in: 'path', required: true, schema: esquema(EsquemaIdPago) },
        ClaveIdempotencia: { name: 'Idempotency-Key', in: 'header', required: false, schema: esquema(EsquemaClaveIdempotencia) },
        IdCorrelacion: { name: 'X-Correlation-Id', in: 'header', required: false, schema: esquema(EsquemaIdCorrelacion) },
        Traceparent: { name: 'traceparent', in: 'header', required: false, schema: esquema(EsquemaTraceparent) },
      },
      responses: {
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
      },
    },
    'x-tipos-de-problema': Object.fromEntries(
      Object.entries(CATALOGO_PROBLEMAS).map(([tipo, { status, title }]) => [uriTipoProblema(tipo as TipoProblema), { status, title }]),
    ),
  };
}
