import type { Ambito } from '@aeropartners/dominio';

/**
 * El socio de una petición. Lo pone el middleware de autenticación (`autenticacion.ts`) a partir de la
 * clave y de nada más (ni cabeceras ni cuerpo); cada ruta lo lee con `c.get('socio')` y pasa su ámbito a
 * cada comando y consulta.
 */
export interface SocioAutenticado extends Ambito {
  /** La clave con la que llegó la petición; `null` en el modo anónimo (`API_ANONIMA_SOCIO`). */
  readonly idClave: string | null;
  /** Su parte pública (`ap_live_3kT9…`), para los registros; `null` en el modo anónimo. */
  readonly prefijoClave: string | null;
  /** Si sus peticiones que escriben deben ir firmadas (Standard Webhooks) y con qué secretos vigentes. */
  readonly firma: { readonly obligatoria: boolean; readonly secretos: readonly string[] };
  /** Su límite propio de peticiones por segundo; `null`: el de la instancia (`API_LIMITE_RPS`). */
  readonly limiteRps: number | null;
}
