import type { Context } from 'hono';
import { TIPO_CONTENIDO_PROBLEMA, type ContextoProblema, type Problema } from './problemas.js';
import type { SocioAutenticado } from './socio-autenticado.js';

/** Lo que cada petición lleva consigo por la app (lo lee la línea de registro de `app.ts`). */
export type Variables = {
  idCorrelacion: string;
  /** `Request-Id` de la respuesta (`req_` + UUIDv7), generado por el servidor para cada petición. */
  idSolicitud: string;
  /** El socio autenticado (solo de la clave); lo leen todas las rutas de datos. */
  socio: SocioAutenticado;
  idPago: string | undefined;
  error: unknown;
  /** Por qué la base de datos no estaba disponible (respuesta 503), para el registro. */
  causa: string | undefined;
};
export type EnvApp = { Variables: Variables };
export type Ctx = Context<EnvApp>;

export const contextoDe = (c: Ctx): ContextoProblema => ({ instancia: c.req.path, idCorrelacion: c.get('idCorrelacion') });

export function responderProblema(c: Ctx, problema: Problema, cabeceras: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(problema), problema.status, { 'Content-Type': TIPO_CONTENIDO_PROBLEMA, ...cabeceras });
}
