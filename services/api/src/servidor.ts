import type { Duplex } from 'node:stream';
import { serve, type ServerType } from '@hono/node-server';
import type { LoggerApi } from './app.js';
import { problemaSolicitudInvalida, TIPO_CONTENIDO_PROBLEMA } from './problemas.js';
import { CABECERA_ID_SOLICITUD, nuevoIdSolicitud } from './solicitud.js';

/**
 * Peticiones que el analizador HTTP de Node rechaza antes de llegar a la app: una cabecera con un
 * carácter de control (NUL, ESC…) o un salto de línea suelto, una ruta con caracteres prohibidos. Por
 * defecto Node contesta `400 Bad Request` sin cuerpo; aquí es el mismo problem+json que el resto de la
 * API, nombrando la cabecera cuando se puede saber. Nada llegó a la app, así que nada se escribió.
 */

interface ErrorDeAnalisis extends Error {
  readonly code?: string;
  /** Bytes de `rawPacket` analizados cuando falló: apunta al carácter culpable. */
  readonly bytesParsed?: number;
  readonly rawPacket?: Buffer;
}

export interface OpcionesErroresDeCliente {
  readonly nuevoIdCorrelacion: () => string;
  /** El `Request-Id` de la respuesta; por defecto `nuevoIdSolicitud` de `solicitud.ts`. */
  readonly nuevoIdSolicitud?: () => string;
  readonly logger?: LoggerApi;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RUTA_LEGIBLE = /^\/[\x21-\x7E]{0,200}$/;

/** Las respuestas por defecto de Node para lo que no es un 400. */
const RESPUESTAS_DE_NODE: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n',
  ERR_HTTP_REQUEST_TIMEOUT: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n',
};

/** Dónde falló: la cabecera (su nombre), la línea de petición (`ruta`) o no se sabe (`cabeceras`). */
function lugarDelFallo(error: ErrorDeAnalisis): { campo: string; mensaje: string; ruta: string } {
  const paquete = error.rawPacket;
  if (!paquete) return { campo: 'cabeceras', mensaje: 'la petición HTTP está mal formada', ruta: '/' };
  const objetivo = paquete.toString('latin1', 0, Math.min(paquete.length, 300)).split(' ', 2)[1]?.split('?', 1)[0] ?? '';
  const ruta = RUTA_LEGIBLE.test(objetivo) ? objetivo : '/';
  const leido = paquete.toString('latin1', 0, Math.min(error.bytesParsed ?? 0, paquete.length));
  const finDeLinea = leido.lastIndexOf('\n');
  if (finDeLinea === -1) return { campo: 'ruta', mensaje: 'la línea de petición contiene caracteres que HTTP no admite', ruta };
  const linea = leido.slice(finDeLinea + 1);
  const nombre = linea.slice(0, Math.max(0, linea.indexOf(':')));
  const mensaje = 'contiene un carácter que HTTP no admite en una cabecera (de control, o un salto de línea suelto)';
  return { campo: TOKEN.test(nombre) ? nombre : 'cabeceras', mensaje, ruta };
}

export function atenderErroresDeCliente(servidor: ServerType, opciones: OpcionesErroresDeCliente): void {
  servidor.on('clientError', (error: ErrorDeAnalisis, socket: Duplex) => {
    const enCurso = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    // Como Node: solo se responde si no hay ya una respuesta a medio escribir en este socket.
    if (!socket.writable || enCurso?.headersSent) {
      socket.destroy();
      return;
    }
    const deNode = error.code === undefined ? undefined : RESPUESTAS_DE_NODE[error.code];
    if (deNode !== undefined || !error.code?.startsWith('HPE_')) {
      socket.write(deNode ?? 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n', () => socket.destroy());
      return;
    }
    const idCorrelacion = opciones.nuevoIdCorrelacion();
    const idSolicitud = (opciones.nuevoIdSolicitud ?? nuevoIdSolicitud)();
    const { campo, mensaje, ruta } = lugarDelFallo(error);
    const cuerpo = JSON.stringify(problemaSolicitudInvalida([{ campo, mensaje }], { instancia: ruta, idCorrelacion }));
    opciones.logger?.info(
      { estado_http: 400, motivo: error.code, campo, id_solicitud: idSolicitud, id_correlacion: idCorrelacion },
      'petición HTTP mal formada rechazada antes de la app',
    );
    socket.write(
      `HTTP/1.1 400 Bad Request\r\nContent-Type: ${TIPO_CONTENIDO_PROBLEMA}\r\nContent-Length: ${Buffer.byteLength(cuerpo)}\r\n` +
        `${CABECERA_ID_SOLICITUD}: ${idSolicitud}\r\nX-Correlation-Id: ${idCorrelacion}\r\nConnection: close\r\n\r\n${cuerpo}`,
      () => socket.destroy(),
    );
  });
}

export interface ServidorHttp {
  readonly puerto: number;
  readonly host: string;
  /** Se rechaza si el servidor falla ya escuchando (p. ej. no puede aceptar conexiones): el proceso debe salir. */
  readonly fallo: Promise<never>;
  /** Deja de aceptar conexiones y espera a las peticiones en curso; pasado `tiempoMaximoMs`, corta las que queden. */
  cerrar(tiempoMaximoMs: number): Promise<void>;
}

export interface OpcionesEscuchar extends OpcionesErroresDeCliente {
  readonly puerto: number;
  readonly host: string;
  readonly logger: LoggerApi;
}

/** Sirve `fetch` (la app) con los 400 problem+json de arriba; se resuelve cuando escucha y rechaza si no puede. */
export function escuchar(fetch: (peticion: Request) => Response | Promise<Response>, opciones: OpcionesEscuchar): Promise<ServidorHttp> {
  const { logger } = opciones;
  return new Promise((resolver, rechazar) => {
    const servidor = serve({ fetch, port: opciones.puerto, hostname: opciones.host }, (direccion) => {
      servidor.off('error', rechazar);
      resolver({
        puerto: direccion.port,
        host: direccion.address,
        fallo: new Promise<never>((_, fallar) => servidor.once('error', fallar)),
        cerrar: (tiempoMaximoMs) =>
          new Promise((cerrado) => {
            logger.info({}, 'no se aceptan conexiones nuevas; se terminan las peticiones en curso');
            const forzar = setTimeout(() => {
              logger.warn({ tiempo_maximo_ms: tiempoMaximoMs }, 'apagado forzado: peticiones sin terminar');
              if ('closeAllConnections' in servidor) servidor.closeAllConnections();
            }, tiempoMaximoMs).unref();
            servidor.close(() => {
              clearTimeout(forzar);
              cerrado();
            });
            if ('closeIdleConnections' in servidor) servidor.closeIdleConnections();
          }),
      });
    });
    atenderErroresDeCliente(servidor, opciones);
    servidor.once('error', rechazar);
  });
}
