import { Dinero, EstadoPago, Moneda, TipoEventoPago } from '@aeropartners/dominio';
import * as v from 'valibot';
import { EsquemaPasoLineaDeTiempo } from './esquema-linea-de-tiempo.js';
import { caracterNoGuardable, mensajeTextoNoGuardable, TEXTO_GUARDABLE, TEXTO_GUARDABLE_NO_VACIO } from './texto.js';

/**
 * Esquemas valibot de la API. Los de entrada validan cada petición; todos (entrada y salida) generan el
 * documento OpenAPI (`openapi.ts`), así la documentación no puede desviarse de lo que se valida.
 * Se construyen una sola vez, al cargar el módulo.
 */

const MAXIMO_TEXTO = 255;

/**
 * El nombre del esquema en `components.schemas` del documento OpenAPI: hono-openapi lo lee de la clave
 * `ref` de los metadatos y pone `$ref` donde se use. Va al final del pipe (lo que le siga no se vería).
 */
const componente = <T>(nombre: string) => v.metadata<T, { readonly ref: string }>({ ref: nombre });
const MONTO_MAXIMO = Dinero.MAXIMO_UNIDADES_MENORES / 100;

/** Sin caracteres de control ni sustitutos sueltos: ver `texto.ts`. */
const guardable = () => v.regex(TEXTO_GUARDABLE, (issue) => mensajeTextoNoGuardable(issue.input));

const texto = (descripcion: string, ejemplo: string) =>
  v.pipe(
    v.string('debe ser una cadena de texto'),
    v.regex(TEXTO_GUARDABLE_NO_VACIO, (issue) =>
      caracterNoGuardable(String(issue.input)) === undefined ? 'no puede estar vacío' : mensajeTextoNoGuardable(issue.input),
    ),
    v.maxLength(MAXIMO_TEXTO, `admite como máximo ${MAXIMO_TEXTO} caracteres`),
    v.description(descripcion),
    v.examples([ejemplo]),
  );

// ── Entrada ──────────────────────────────────────────────────────────────────

export const MENSAJE_NO_ES_OBJETO = 'el cuerpo debe ser un objeto JSON';

/** Cuerpo de `POST /pagos`. Los campos desconocidos se ignoran. */
export const EsquemaSolicitudPago = v.pipe(
  v.object(
    {
      id_afiliado: texto('Identificador del afiliado que recibe el pago.', 'afiliado-123'),
      monto: v.pipe(
        v.number('debe ser un número JSON'),
        v.gtValue(0, 'debe ser mayor que 0'),
        v.maxValue(
          MONTO_MAXIMO,
          `no puede superar ${Dinero.formatear({ unidadesMenores: Dinero.MAXIMO_UNIDADES_MENORES, moneda: 'USD' })}`,
        ),
        v.description(
          'Importe en unidades de la moneda (150.75), con como máximo los decimales de su unidad menor ISO 4217 (2 para USD, EUR y COP).',
        ),
        v.examples([150.75]),
      ),
      moneda: v.pipe(
        v.picklist(Moneda.todas, `debe ser una de: ${Moneda.todas.join(', ')}`),
        v.description('Código ISO 4217 de la moneda.'),
      ),
      referencia_pago: texto(
        'Referencia del pago en el sistema del socio. Es la clave de idempotencia cuando no se envía la cabecera Idempotency-Key.',
        'REF-2026-0001',
      ),
    },
    MENSAJE_NO_ES_OBJETO,
  ),
  v.title('SolicitudPago'),
  componente('SolicitudPago'),
);
export type SolicitudPago = v.InferOutput<typeof EsquemaSolicitudPago>;

/** Cabecera `Idempotency-Key`: de 1 a 255 caracteres ASCII imprimibles. */
export const EsquemaClaveIdempotencia = v.pipe(
  v.string(),
  v.regex(/^[\x20-\x7E]{1,255}$/, 'debe tener entre 1 y 255 caracteres ASCII imprimibles'),
  v.description(
    'Clave de idempotencia elegida por el cliente (1–255 caracteres ASCII imprimibles), única por socio. Si falta, la clave es referencia_pago.',
  ),
  v.examples(['7f1d0c5e-pedido-42']),
);

/** Cabecera `X-Correlation-Id`: si no cumple este formato (o falta) se genera uno nuevo. */
export const EsquemaIdCorrelacion = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9._:-]{1,128}$/),
  v.description(
    'Identificador de correlación (1–128 caracteres de [A-Za-z0-9._:-]). Se devuelve en la respuesta; si falta o no es válido, se genera uno.',
  ),
);

/** Cabecera W3C `traceparent` (solo se documenta; la valida `traza.ts`). */
export const EsquemaTraceparent = v.pipe(
  v.string(),
  v.regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$/),
  v.description('Contexto de traza W3C. Si falta o no es válido, se inicia una traza nueva.'),
);

/** Parámetro de ruta `{id}` de un pago: un UUID (se normaliza a minúsculas). */
export const EsquemaIdPago = v.pipe(v.string(), v.uuid('debe ser un UUID'), v.description('Identificador del pago (UUID).'));

// Entradas de cada ruta que no son el cuerpo, por nombre: `entrada.ts` las lee y las valida, y el
// documento las publica como parámetros (con una sola entrada, como `components.parameters`).

/** Cabeceras que lee `POST /pagos` (las demás se ignoran). */
export const EsquemaCabecerasRegistro = v.pipe(
  v.object({ 'Idempotency-Key': v.optional(EsquemaClaveIdempotencia) }),
  componente('ClaveIdempotencia'),
);

/** Parámetros de ruta de `/pagos/{id}` y `/pagos/{id}/historial`. */
export const EsquemaRutaPago = v.pipe(v.object({ id: EsquemaIdPago }), componente('IdPago'));

/** Parámetros de `GET /pagos`. */
export const EsquemaConsultaListado = v.object({
  estado: v.optional(
    v.pipe(v.picklist(EstadoPago.todos, `debe ser uno de: ${EstadoPago.todos.join(', ')}`), v.description('Filtra por estado.')),
  ),
  id_afiliado: v.optional(
    v.pipe(
      v.string(),
      guardable(),
      v.minLength(1, 'no puede estar vacío'),
      v.maxLength(MAXIMO_TEXTO, `admite como máximo ${MAXIMO_TEXTO} caracteres`),
      v.description('Filtra por afiliado.'),
    ),
  ),
  referencia_pago: v.optional(
    v.pipe(
      v.string(),
      guardable(),
      v.minLength(1, 'no puede estar vacío'),
      v.maxLength(MAXIMO_TEXTO, `admite como máximo ${MAXIMO_TEXTO} caracteres`),
      v.description('Filtra por referencia del socio.'),
    ),
  ),
  limite: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, 'debe ser un entero entre 1 y 200'),
      v.transform(Number),
      v.number(),
      v.integer(),
      v.minValue(1, 'debe ser un entero entre 1 y 200'),
      v.maxValue(200, 'debe ser un entero entre 1 y 200'),
      v.description('Tamaño de la página (1–200; por defecto 50).'),
    ),
  ),
  cursor: v.optional(
    v.pipe(
      v.string(),
      v.uuid('no es un cursor válido; use el siguiente_cursor de la página anterior'),
      v.description('Cursor opaco devuelto como siguiente_cursor en la página anterior.'),
    ),
  ),
});

// ── Salida (documentación; también se comprueban en los tests) ───────────────

const fecha = (descripcion: string) => v.pipe(v.string(), v.isoTimestamp(), v.description(descripcion));
const fechaONula = (descripcion: string) => v.nullable(fecha(descripcion));
const estado = v.picklist(EstadoPago.todos);
const moneda = v.picklist(Moneda.todas);
const uuid = v.pipe(v.string(), v.uuid());
const importe = v.pipe(v.number(), v.gtValue(0), v.description('Importe como número JSON (150.75).'));

export const EsquemaPagoRegistrado = v.pipe(
  v.object({
    id_pago: uuid,
    id_afiliado: v.string(),
    monto: importe,
    moneda,
    estado: v.literal('PENDIENTE'),
    referencia_pago: v.string(),
    fecha_creacion: fecha('Momento en que se registró el pago.'),
    mensaje: v.string(),
  }),
  v.title('PagoRegistrado'),
  v.description('El pago tal como se registró. Una repetición idempotente devuelve exactamente este mismo cuerpo.'),
  componente('PagoRegistrado'),
);

export const EsquemaPago = v.pipe(
  v.object({
    id: uuid,
    id_afiliado: v.string(),
    monto: importe,
    moneda,
    estado,
    referencia_pago: v.string(),
    fecha_creacion: fecha('Momento en que se registró el pago.'),
    fecha_procesamiento: fechaONula('Momento en que alcanzó un estado final (EXITOSO o FALLIDO).'),
    mensaje_error: v.nullable(v.string()),
    referencia_transaccion: v.nullable(v.string()),
    version: v.pipe(v.number(), v.integer(), v.minValue(1)),
    fecha_actualizacion: fecha('Último cambio de estado.'),
  }),
  v.title('Pago'),
  componente('Pago'),
);

export const EsquemaPaginaPagos = v.pipe(
  v.object({
    pagos: v.array(EsquemaPago),
    siguiente_cursor: v.pipe(v.nullable(v.string()), v.description('Cursor de la página siguiente; null si no hay más.')),
  }),
  v.title('PaginaPagos'),
  componente('PaginaPagos'),
);

export const EsquemaHistorialPago = v.pipe(
  v.object({
    id_pago: uuid,
    historial: v.array(
      v.object({
        estado,
        version: v.pipe(v.number(), v.integer(), v.minValue(1)),
        tipo_evento: v.picklist(TipoEventoPago.todos),
        id_evento: v.string(),
        ocurrido_en: fecha('Momento del cambio.'),
        id_correlacion: v.string(),
        id_solicitud: v.pipe(
          v.nullable(v.string()),
          v.description('Request-Id de la petición HTTP que causó el cambio; null si lo causó el procesamiento asíncrono.'),
        ),
      }),
    ),
    linea_de_tiempo: v.optional(
      v.pipe(
        v.array(EsquemaPasoLineaDeTiempo),
        v.description('Cada paso entre procesos (registro de eventos) con ids de solicitud, correlación y traza e intentos de webhook.'),
      ),
    ),
  }),
  v.title('HistorialPago'),
  componente('HistorialPago'),
);

const entero = v.pipe(v.number(), v.integer(), v.minValue(0));
export const EsquemaEstadisticasOutbox = v.pipe(
  v.object({ total_eventos: entero, eventos_procesados: entero, eventos_pendientes: entero }),
  v.title('EstadisticasOutbox'),
  v.description('eventos_procesados + eventos_pendientes = total_eventos.'),
  componente('EstadisticasOutbox'),
);

export const EsquemaSalud = v.pipe(
  v.object({ status: v.picklist(['healthy', 'ready']), service: v.string() }),
  v.title('Salud'),
  componente('Salud'),
);

export const EsquemaErrorCampo = v.pipe(
  v.object({
    campo: v.pipe(v.string(), v.description('Campo, cabecera o parámetro que falló ("cuerpo" si es el cuerpo entero).')),
    mensaje: v.string(),
  }),
  v.title('ErrorCampo'),
  componente('ErrorCampo'),
);

/** RFC 9457 `application/problem+json` con las extensiones de esta API. */
export const EsquemaProblema = v.pipe(
  v.object({
    type: v.pipe(v.string(), v.description('URI que identifica el tipo de problema.')),
    title: v.string(),
    status: v.pipe(v.number(), v.integer()),
    detail: v.string(),
    instance: v.pipe(v.string(), v.description('Ruta de la petición que falló.')),
    id_correlacion: v.string(),
    errores: v.optional(v.array(EsquemaErrorCampo)),
    id_pago: v.optional(v.string()),
    id_pago_existente: v.optional(v.pipe(v.string(), v.description('En 422: el pago que ya creó esta clave de idempotencia.'))),
    campos_distintos: v.optional(v.pipe(v.array(v.string()), v.description('En 422: campos que difieren del pago existente.'))),
    motivo: v.optional(
      v.pipe(
        v.string(),
        v.description(
          'En 401: por qué no vale la clave (clave-desconocida, clave-revocada, clave-expirada, cabecera-mal-formada) ' +
            'o la firma (falta_cabecera, marca_de_tiempo_antigua, marca_de_tiempo_futura, firma_no_coincide…).',
        ),
      ),
    ),
  }),
  v.title('Problema'),
  componente('Problema'),
);
