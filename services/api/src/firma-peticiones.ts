import { CABECERAS_STANDARD_WEBHOOKS, verificarStandardWebhooks } from '@aeropartners/adaptadores';
import type { MiddlewareHandler } from 'hono';
import { retoBearer } from './autenticacion.js';
import { contextoDe, responderProblema, type Ctx, type EnvApp } from './contexto.js';
import { leerCuerpoAcotado } from './cuerpo-crudo.js';
import { crearProblema } from './problemas.js';

/**
 * Peticiones firmadas (Standard Webhooks en sentido petición) para los socios que las exigen: las que
 * escriben (todo método salvo GET, HEAD y OPTIONS) deben traer `webhook-id`, `webhook-timestamp` y
 * `webhook-signature` sobre los bytes crudos del cuerpo, con uno de sus secretos vigentes. Se comprueba
 * tras la clave y el límite de ritmo y antes de validar nada: una firma que falta, caducada o que no
 * coincide es un 401 que dice por qué, y no se escribe nada. Ver
 * `docs/decisiones/0130-firma-de-peticiones-entrantes.md`.
 */

export interface OpcionesFirma {
  /** Segundos Unix del servidor. */
  readonly ahoraSegundos: () => number;
  readonly limiteCuerpoBytes: number;
  /** El 413 de la app (el mismo que da la validación del cuerpo). */
  readonly demasiadoGrande: (c: Ctx) => Response;
}

const METODOS_SIN_FIRMA = new Set(['GET', 'HEAD', 'OPTIONS']);

export function firmaDePeticiones(opciones: OpcionesFirma): MiddlewareHandler<EnvApp> {
  return async (c, next) => {
    const socio = c.get('socio');
    if (socio === undefined || !socio.firma.obligatoria || METODOS_SIN_FIRMA.has(c.req.method)) return next();
    const cuerpo = await leerCuerpoAcotado(c, opciones.limiteCuerpoBytes);
    if (cuerpo === null) return opciones.demasiadoGrande(c);
    const verificacion = verificarStandardWebhooks({
      secretos: socio.firma.secretos,
      cabeceras: {
        id: c.req.header(CABECERAS_STANDARD_WEBHOOKS.id),
        marcaTiempo: c.req.header(CABECERAS_STANDARD_WEBHOOKS.marcaTiempo),
        firma: c.req.header(CABECERAS_STANDARD_WEBHOOKS.firma),
      },
      cuerpo,
      ahoraSegundos: opciones.ahoraSegundos(),
    });
    if (verificacion.ok) return next();
    if (verificacion.motivo === 'sin_secreto' || verificacion.motivo === 'secreto_mal_formado') {
      // El socio no puede arreglarlo: es un fallo de configuración nuestro (500, al registro).
      throw new Error(`No se puede verificar la firma del socio ${socio.idSocio}: ${verificacion.detalle}`);
    }
    return responderProblema(
      c,
      crearProblema('firma-invalida', `La petición debe ir firmada y su firma no vale: ${verificacion.detalle}.`, contextoDe(c), {
        motivo: verificacion.motivo,
      }),
      { 'WWW-Authenticate': retoBearer('invalid_request') },
    );
  };
}
