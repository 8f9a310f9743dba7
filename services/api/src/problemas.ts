import type { ErrorConsulta, ErrorRegistrarPago } from '@aeropartners/aplicacion';
import type { ConflictoDeVersion } from '@aeropartners/dominio';

/**
 * Errores como RFC 9457 `application/problem+json`. Es el único lugar con códigos HTTP: el núcleo
 * devuelve errores como valores con un `tipo` literal, y {@link problemaDeError} los traduce con un
 * `switch` exhaustivo (añadir un `tipo` nuevo sin traducirlo no compila).
 */

export const TIPO_CONTENIDO_PROBLEMA = 'application/problem+json';

/** Prefijo de los URI de tipo: identificadores estables, no direcciones a las que haya que ir. */
const PREFIJO_TIPO = 'urn:aeropartners:pagos:problema:';

/** Catálogo de problemas que puede devolver la API: estado HTTP y título (fijo por tipo, RFC 9457 §3.1.3). */
export const CATALOGO_PROBLEMAS = {
  'solicitud-invalida': { status: 400, title: 'La solicitud no es válida' },
  'clave-ausente': { status: 401, title: 'Falta la clave de API' },
  'clave-invalida': { status: 401, title: 'La clave de API no es válida' },
  'firma-invalida': { status: 401, title: 'La firma de la petición no es válida' },
  'socio-suspendido': { status: 403, title: 'El socio está suspendido' },
  'pago-no-encontrado': { status: 404, title: 'El pago no existe' },
  'recurso-no-encontrado': { status: 404, title: 'El recurso no existe' },
  'transicion-invalida': { status: 409, title: 'El pago no admite ese cambio de estado' },
  'conflicto-de-version': { status: 409, title: 'El pago cambió mientras se modificaba' },
  'cuerpo-demasiado-grande': { status: 413, title: 'El cuerpo de la petición es demasiado grande' },
  'tipo-de-contenido-no-soportado': { status: 415, title: 'Tipo de contenido no soportado' },
  'clave-idempotencia-reutilizada': { status: 422, title: 'La clave de idempotencia ya se usó con otra solicitud' },
  'demasiadas-peticiones': { status: 429, title: 'Demasiadas peticiones' },
  'error-interno': { status: 500, title: 'Error interno' },
  'servicio-no-disponible': { status: 503, title: 'Servicio no disponible' },
} as const satisfies Record<string, { status: number; title: string }>;

export type TipoProblema = keyof typeof CATALOGO_PROBLEMAS;
export type EstadoProblema = (typeof CATALOGO_PROBLEMAS)[TipoProblema]['status'];

export const uriTipoProblema = (tipo: TipoProblema): string => PREFIJO_TIPO + tipo;

export interface ErrorCampo {
  /** Campo del cuerpo, cabecera o parámetro que falló; `cuerpo` si es el cuerpo entero. */
  readonly campo: string;
  readonly mensaje: string;
}

/** Extensiones de esta API (RFC 9457 §3.2). */
export interface ExtensionesProblema {
  readonly errores?: readonly ErrorCampo[];
  readonly id_pago?: string;
  readonly id_pago_existente?: string;
  readonly campos_distintos?: readonly string[];
  /** Por qué se rechazó una clave o una firma (`clave-revocada`, `marca_de_tiempo_antigua`…), para los programas. */
  readonly motivo?: string;
}

export interface Problema extends ExtensionesProblema {
  readonly type: string;
  readonly title: string;
  readonly status: EstadoProblema;
  readonly detail: string;
  readonly instance: string;
  readonly id_correlacion: string;
}

export interface ContextoProblema {
  /** Ruta de la petición (`instance`). */
  readonly instancia: string;
  readonly idCorrelacion: string;
}

export function crearProblema(
  tipo: TipoProblema,
  detalle: string,
  contexto: ContextoProblema,
  extensiones: ExtensionesProblema = {},
): Problema {
  const { status, title } = CATALOGO_PROBLEMAS[tipo];
  return {
    type: uriTipoProblema(tipo),
    title,
    status,
    detail: detalle,
    instance: contexto.instancia,
    id_correlacion: contexto.idCorrelacion,
    ...extensiones,
  };
}

/** 400 que nombra los campos que fallaron. */
export function problemaSolicitudInvalida(errores: readonly ErrorCampo[], contexto: ContextoProblema): Problema {
  const campos = [...new Set(errores.map((e) => e.campo))];
  const detalle = campos.length === 1 ? `El campo ${campos[0]} no es válido.` : `Los campos ${campos.join(', ')} no son válidos.`;
  return crearProblema('solicitud-invalida', detalle, contexto, { errores });
}

/** Todos los errores que devuelven como valor los casos de uso que expone esta API. */
export type ErrorAplicacion = ErrorRegistrarPago | ErrorConsulta | ConflictoDeVersion;

/** LA traducción de los errores de la aplicación a problem+json. */
export function problemaDeError(error: ErrorAplicacion, contexto: ContextoProblema): Problema {
  switch (error.tipo) {
    case 'MonedaNoSoportada':
      return problemaSolicitudInvalida([{ campo: 'moneda', mensaje: `"${error.moneda}" no es una moneda admitida` }], contexto);
    case 'MontoMalFormado':
      return problemaSolicitudInvalida([{ campo: 'monto', mensaje: 'no es un importe válido' }], contexto);
    case 'MontoNoPositivo':
      return problemaSolicitudInvalida([{ campo: 'monto', mensaje: 'debe ser mayor que 0' }], contexto);
    case 'DemasiadosDecimales':
      return problemaSolicitudInvalida(
        [{ campo: 'monto', mensaje: `admite como máximo ${error.decimalesPermitidos} decimales en esta moneda` }],
        contexto,
      );
    case 'MontoExcedeMaximo':
      return problemaSolicitudInvalida([{ campo: 'monto', mensaje: `no puede superar ${error.maximo}` }], contexto);
    case 'DatoInvalido':
      return problemaSolicitudInvalida([{ campo: error.campo, mensaje: error.motivo }], contexto);
    case 'ClaveReutilizada':
      return crearProblema(
        'clave-idempotencia-reutilizada',
        `La clave de idempotencia ya creó el pago ${error.idPagoExistente} con otros datos ` +
          `(${error.camposDistintos.join(', ')}). Use una clave nueva para un pago nuevo.`,
        contexto,
        {
          id_pago_existente: error.idPagoExistente,
          campos_distintos: error.camposDistintos,
          errores: error.camposDistintos.map((campo) => ({ campo, mensaje: 'no coincide con el pago existente' })),
        },
      );
    case 'CredencialDenegada':
      // La credencial dejó de valer entre la autenticación y la escritura (revocada, expirada, socio suspendido).
      return error.motivo === 'socio-suspendido'
        ? crearProblema('socio-suspendido', 'El socio está suspendido: no se registró nada.', contexto)
        : crearProblema(
            'clave-invalida',
            `La clave de API ${error.motivo === 'clave-revocada' ? 'fue revocada' : 'expiró'} mientras se atendía la petición: no se registró nada.`,
            contexto,
            { motivo: error.motivo },
          );
    case 'PagoNoEncontrado':
      return crearProblema('pago-no-encontrado', `No existe un pago con id ${error.idPago}.`, contexto, {
        id_pago: error.idPago,
      });
    case 'TransicionInvalida':
      return crearProblema(
        'transicion-invalida',
        `El pago ${error.idPago} está en ${error.desde} y no puede pasar a ${error.hacia}.`,
        contexto,
        { id_pago: error.idPago },
      );
    case 'ResultadoEnConflicto':
      return crearProblema(
        'transicion-invalida',
        `El pago ${error.idPago} ya terminó en ${error.estadoActual}; no puede quedar en ${error.estadoPedido}.`,
        contexto,
        { id_pago: error.idPago },
      );
    case 'ConflictoDeVersion':
      return crearProblema(
        'conflicto-de-version',
        `El pago ${error.idPago} cambió después de la versión ${error.versionEsperada}; vuelva a leerlo.`,
        contexto,
        { id_pago: error.idPago },
      );
    default:
      return sinTraduccion(error);
  }
}

function sinTraduccion(error: never): never {
  throw new Error(`Error de aplicación sin traducción a HTTP: ${JSON.stringify(error)}`);
}
