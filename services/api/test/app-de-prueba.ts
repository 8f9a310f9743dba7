import { AutenticadorEnMemoria, RepositorioPagosEnMemoria, idsSecuenciales, relojFijo } from '@aeropartners/aplicacion/testing';
import { crearApp, type DependenciasApp, type LoggerApi } from '../src/app.js';
import { crearManejadores } from '../src/manejadores.js';

/** Una línea de registro capturada: nivel, mensaje y campos. */
export interface LineaLog {
  readonly nivel: 'info' | 'warn' | 'error';
  readonly mensaje: string | undefined;
  readonly campos: Record<string, unknown>;
}

export function loggerEnMemoria(): LoggerApi & { readonly lineas: LineaLog[] } {
  const lineas: LineaLog[] = [];
  const registrar = (nivel: LineaLog['nivel']) => (campos: object, mensaje?: string) => {
    lineas.push({ nivel, mensaje, campos: { ...campos } });
  };
  return { lineas, info: registrar('info'), warn: registrar('warn'), error: registrar('error') };
}

/** El socio del modo anónimo de {@link crearAppDePrueba} (el de los tests semilla, que no envían clave). */
export const SOCIO_ANONIMO = 'socio-de-prueba';

/**
 * La app sobre los dobles en memoria de `@aeropartners/aplicacion/testing` y del autenticador. Por defecto
 * en el modo anónimo (`SOCIO_ANONIMO`), como la API semilla: `idSocioAnonimo: undefined` lo quita.
 */
export function crearAppDePrueba(
  opciones: Partial<DependenciasApp> & {
    readonly repositorio?: RepositorioPagosEnMemoria;
    readonly prefijoIds?: number;
    readonly autenticador?: AutenticadorEnMemoria;
  } = {},
) {
  const { repositorio = new RepositorioPagosEnMemoria(), prefijoIds = 0, autenticador = new AutenticadorEnMemoria(), ...deps } = opciones;
  const reloj = relojFijo();
  const logger = loggerEnMemoria();
  let correlaciones = 0;
  let solicitudes = 0;
  const app = crearApp({
    manejadores: crearManejadores({ repositorio, consultas: repositorio, reloj, nuevoId: idsSecuenciales(prefijoIds) }),
    comprobarSalud: async () => true,
    logger,
    autenticador,
    idSocioAnonimo: SOCIO_ANONIMO,
    nuevoIdCorrelacion: () => `correlacion-${++correlaciones}`,
    nuevoIdSolicitud: () => `req_solicitud-${++solicitudes}`,
    ...deps,
  });
  return { app, repositorio, reloj, logger, autenticador };
}

export const CUERPO_VALIDO = {
  id_afiliado: 'afiliado-1',
  monto: 150.75,
  moneda: 'USD',
  referencia_pago: 'REF-1',
} as const;

/** Petición `POST /pagos` con cuerpo JSON (o texto tal cual) y cabeceras extra. */
export function postPago(
  app: { request: (ruta: string, init?: RequestInit) => Response | Promise<Response> },
  cuerpo: unknown = CUERPO_VALIDO,
  cabeceras: Record<string, string> = {},
) {
  return app.request('/pagos', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...cabeceras },
    body: typeof cuerpo === 'string' ? cuerpo : JSON.stringify(cuerpo),
  });
}

/** Una función que falla si se llama: para montar rutas de las que solo interesa su documentación. */
const falla = (nombre: string) => () => Promise.reject(new Error(`${nombre} no se usa al generar el documento OpenAPI`));

/** Un objeto cuyos métodos fallan si se llaman (ver `falla`). */
function sinUso<T extends object>(nombre: string): T {
  return new Proxy({} as T, { get: (_, propiedad) => falla(`${nombre}.${String(propiedad)}`) });
}

/**
 * Los grupos de rutas opcionales (conversiones, eventos, webhooks, líneas de tiempo) montados sobre dobles
 * que fallan si se usan: la app que sirve `pnpm start` los monta todos, y el documento OpenAPI y la
 * colección de Postman se comparan con esa app completa, no con la de solo pagos.
 */
export function todasLasRutas(): Pick<DependenciasApp, 'conversiones' | 'eventos' | 'webhooks' | 'lineaDeTiempo'> {
  return {
    conversiones: { registrarHecho: falla('registrarHecho'), consultas: sinUso('consultas') },
    eventos: { fuente: sinUso('fuente') },
    webhooks: {
      almacen: sinUso('almacen'),
      comprobarDestino: falla('comprobarDestino'),
      graciaSecretoMs: 0,
    },
    lineaDeTiempo: falla('lineaDeTiempo'),
  };
}
