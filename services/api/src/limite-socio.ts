import { cabecerasDeLimite, type LimitadorDeRitmo, type LimiteDeRitmo } from '@aeropartners/adaptadores';
import type { MiddlewareHandler } from 'hono';
import { contextoDe, responderProblema, type EnvApp } from './contexto.js';
import { crearProblema } from './problemas.js';

/**
 * Límite de ritmo por socio: una cubeta de fichas por socio, con su límite propio o el de la instancia,
 * repartido entre las instancias que sirven la API. Cuenta toda petición autenticada, réplicas incluidas
 * (cuestan poco, pero cuentan); las que no se autentican no llegan aquí. Toda respuesta lleva
 * `RateLimit-Policy`/`RateLimit` y, al pasarse, 429 con `Retry-After`. Ver
 * `docs/decisiones/0131-limite-de-ritmo-por-socio-con-varias-instancias.md`.
 */

/** Peticiones por segundo de un socio sin límite propio cuando no se configura otro (`API_LIMITE_RPS`). */
export const LIMITE_RPS_POR_DEFECTO = 1000;

export interface OpcionesLimite {
  readonly limitador: LimitadorDeRitmo;
  /** Peticiones por segundo de un socio sin límite propio (`API_LIMITE_RPS`). */
  readonly limiteRps: number;
  /** Cuántas instancias de la API se reparten el límite (`API_INSTANCIAS`). */
  readonly instancias: number;
}

export function limiteDeRitmoPorSocio(opciones: OpcionesLimite): MiddlewareHandler<EnvApp> {
  const { limitador, instancias } = opciones;
  const limites = new Map<number, LimiteDeRitmo>();
  /** El límite de esta instancia para un límite global: la parte de cada una, con una ráfaga de un segundo. */
  const limiteLocal = (rps: number): LimiteDeRitmo => {
    let limite = limites.get(rps);
    if (limite === undefined) {
      const porSegundo = rps / instancias;
      limite = { rafaga: Math.max(1, Math.ceil(porSegundo)), porSegundo };
      if (limites.size < 10_000) limites.set(rps, limite);
    }
    return limite;
  };

  return async (c, next) => {
    const socio = c.get('socio');
    if (socio === undefined) return next();
    const decision = limitador.consumir(socio.idSocio, limiteLocal(socio.limiteRps ?? opciones.limiteRps));
    const cabeceras = cabecerasDeLimite(decision);
    if (!decision.permitido) {
      const espera = cabeceras['Retry-After'];
      return responderProblema(
        c,
        crearProblema(
          'demasiadas-peticiones',
          `El socio superó su límite de ${decision.limite.porSegundo} peticiones por segundo en esta instancia: ` +
            `repita la petición pasados ${espera} s (Retry-After), con la misma clave de idempotencia.`,
          contextoDe(c),
        ),
        cabeceras,
      );
    }
    for (const nombre in cabeceras) c.header(nombre, cabeceras[nombre]);
    await next();
  };
}
