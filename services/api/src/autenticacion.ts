import type { AutenticadorDeClaves, CredencialAutenticada } from '@aeropartners/aplicacion';
import type { MiddlewareHandler } from 'hono';
import { contextoDe, responderProblema, type Ctx, type EnvApp } from './contexto.js';
import { crearProblema } from './problemas.js';
import type { SocioAutenticado } from './socio-autenticado.js';

/**
 * Autenticación de cada petición con `Authorization: Bearer <clave>`: el socio sale de la clave y de
 * nada más. Es la opción por defecto: toda ruta la pasa salvo las de operación y documentación de
 * {@link esRutaPublica}, así que una ruta que se añada mañana nace autenticada. Un rechazo responde antes
 * de leer el cuerpo y de llamar a ningún caso de uso: nada se escribe. Ver
 * `docs/decisiones/0133-autenticacion-por-defecto-y-modo-anonimo.md`.
 */

/**
 * Operación, documentación y la página del panel (sus datos sí piden clave): lo único que se sirve sin clave
 * (los balanceadores y Prometheus no tienen una).
 */
const RUTAS_PUBLICAS = new Set(['/health', '/health/ready', '/metrics', '/docs', '/openapi.json', '/panel']);

/** Un fichero directamente bajo `prefijo` (`/docs/swagger-ui.css`, `/panel/panel.js`), sin subcarpetas. */
const esRecursoDe = (prefijo: string, ruta: string) => ruta.startsWith(prefijo) && !ruta.slice(prefijo.length).includes('/');

export function esRutaPublica(ruta: string): boolean {
  // La app no es estricta con la barra final (`/health/` es `/health`).
  const sinBarra = ruta.length > 1 && ruta.endsWith('/') ? ruta.slice(0, -1) : ruta;
  return RUTAS_PUBLICAS.has(sinBarra) || esRecursoDe('/docs/', sinBarra) || esRecursoDe('/panel/', sinBarra);
}

export const REINO = 'aeropartners-pagos';

export type RechazoAutenticacion =
  | { readonly tipo: 'clave-ausente' }
  | { readonly tipo: 'cabecera-mal-formada'; readonly detalle: string }
  | { readonly tipo: 'clave-desconocida' }
  | { readonly tipo: 'clave-revocada' }
  | { readonly tipo: 'clave-expirada' }
  | { readonly tipo: 'socio-suspendido' };

export interface OpcionesAutenticacion {
  readonly autenticador: AutenticadorDeClaves;
  /** Modo anónimo: las peticiones SIN `Authorization` actúan como este socio. Sin él, se rechazan. */
  readonly idSocioAnonimo?: string | undefined;
  readonly ahora: () => Date;
}

// RFC 6750 §2.1 (b68token), acotado: una clave real es mucho más corta.
const CABECERA_BEARER = /^Bearer +([A-Za-z0-9\-._~+/]{1,256}=*) *$/i;

export function autenticacion(opciones: OpcionesAutenticacion): MiddlewareHandler<EnvApp> {
  const { autenticador, idSocioAnonimo, ahora } = opciones;

  return async (c, next) => {
    if (esRutaPublica(c.req.path)) return next();
    const cabecera = c.req.header('authorization');
    let credencial: CredencialAutenticada;
    if (cabecera === undefined) {
      if (idSocioAnonimo === undefined) return rechazarAutenticacion(c, { tipo: 'clave-ausente' });
      // El autenticador la guarda en caché (y la olvida al suspender): no es una consulta por petición.
      credencial = await autenticador.socioAnonimo(idSocioAnonimo);
    } else {
      const clave = CABECERA_BEARER.exec(cabecera)?.[1];
      if (clave === undefined) {
        return rechazarAutenticacion(c, {
          tipo: 'cabecera-mal-formada',
          detalle: 'La cabecera Authorization debe ser «Bearer <clave>», con la clave de API del socio (ap_live_… o ap_test_…).',
        });
      }
      const resultado = await autenticador.autenticar(clave, ahora());
      switch (resultado.tipo) {
        case 'desconocida':
          return rechazarAutenticacion(c, { tipo: 'clave-desconocida' });
        case 'rechazada':
          return rechazarAutenticacion(c, { tipo: resultado.motivo });
        case 'autenticada':
          credencial = resultado.credencial;
          break;
        default:
          return resultado satisfies never;
      }
    }
    // La clave se juzga antes que el socio (el autenticador ya lo hace); en el modo anónimo solo queda el socio.
    if (credencial.socio.estado !== 'activo') return rechazarAutenticacion(c, { tipo: 'socio-suspendido' });
    c.set('socio', socioAutenticadoDe(credencial));
    await next();
  };
}

export function socioAutenticadoDe(credencial: CredencialAutenticada): SocioAutenticado {
  return {
    idSocio: credencial.socio.id,
    modo: credencial.modo,
    idClave: credencial.idClave,
    prefijoClave: credencial.prefijoClave,
    firma: { obligatoria: credencial.socio.firmaObligatoria, secretos: credencial.secretosFirma },
    limiteRps: credencial.socio.limiteRps,
  };
}

/** El reto de RFC 6750 §3 (sin `error_description`: su gramática no admite el español). */
export function retoBearer(error?: 'invalid_request' | 'invalid_token'): string {
  return error === undefined ? `Bearer realm="${REINO}"` : `Bearer realm="${REINO}", error="${error}"`;
}

/** Un rechazo de la autenticación como problem+json: 401 con `WWW-Authenticate`, o 403 si el socio está suspendido. */
export function rechazarAutenticacion(c: Ctx, rechazo: RechazoAutenticacion): Response {
  const contexto = contextoDe(c);
  switch (rechazo.tipo) {
    case 'clave-ausente':
      return responderProblema(
        c,
        crearProblema(
          'clave-ausente',
          'Falta la cabecera Authorization: envíe «Authorization: Bearer <clave>» con la clave de API del socio.',
          contexto,
        ),
        { 'WWW-Authenticate': retoBearer() },
      );
    case 'cabecera-mal-formada':
      return responderProblema(c, crearProblema('clave-invalida', rechazo.detalle, contexto, { motivo: rechazo.tipo }), {
        'WWW-Authenticate': retoBearer('invalid_request'),
      });
    case 'clave-desconocida':
    case 'clave-revocada':
    case 'clave-expirada':
      return responderProblema(c, crearProblema('clave-invalida', DETALLE_CLAVE[rechazo.tipo], contexto, { motivo: rechazo.tipo }), {
        'WWW-Authenticate': retoBearer('invalid_token'),
      });
    case 'socio-suspendido':
      return responderProblema(
        c,
        crearProblema('socio-suspendido', 'El socio de esta clave está suspendido: no puede operar hasta que se le reactive.', contexto),
      );
    default:
      return rechazo satisfies never;
  }
}

const DETALLE_CLAVE = {
  'clave-desconocida': 'La clave de API no corresponde a ningún socio.',
  'clave-revocada': 'La clave de API fue revocada: use la clave vigente del socio.',
  'clave-expirada': 'La clave de API expiró: use la clave vigente del socio.',
} as const;
