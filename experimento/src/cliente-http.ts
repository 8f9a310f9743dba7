import http from 'node:http';
import https from 'node:https';

export interface Respuesta {
  /** 0 = error de red o respuesta perdida a propósito. */
  readonly estado: number;
  readonly replay: boolean;
  readonly idPago: string | undefined;
  readonly cuerpo: string;
  readonly latenciaMs: number;
  /** La respuesta llegó pero el cliente la descartó (simulación de timeout tras el éxito). */
  readonly perdida: boolean;
}

export interface OpcionesEnvio {
  readonly perderRespuesta?: boolean;
  readonly idCorrelacion?: string;
  /** Cabeceras de la credencial (Authorization y, si el socio firma, las de Standard Webhooks). */
  readonly cabeceras?: Readonly<Record<string, string>>;
}

export interface ClienteHttp {
  /** POST /pagos con el cuerpo dado. Con `perderRespuesta`, corta la conexión en cuanto llega la respuesta. */
  enviarPago(cuerpo: string, opciones?: OpcionesEnvio): Promise<Respuesta>;
  /** GET de `ruta` (relativa a la URL base, p. ej. `/pagos/{id}`); el cuerpo se devuelve entero. */
  obtener(ruta: string, opciones?: Pick<OpcionesEnvio, 'cabeceras'>): Promise<Respuesta>;
  cerrar(): void;
}

/** Cliente HTTP/1.1 keep-alive mínimo (sin `fetch`: en 2 núcleos compartidos cada µs de CPU del cliente cuenta). */
export function crearClienteHttp(urlBase: string, conexiones: number, tiempoMaximoMs = 30_000): ClienteHttp {
  const base = urlBase.replace(/\/+$/, '');
  const destino = new URL(`${base}/pagos`);
  const modulo = destino.protocol === 'https:' ? https : http;
  const agente = new modulo.Agent({ keepAlive: true, maxSockets: conexiones, maxFreeSockets: conexiones });
  const cliente: ClienteHttp = {
    obtener(ruta, opciones = {}) {
      const inicio = performance.now();
      return new Promise<Respuesta>((resolver) => {
        const fin = (estado: number, cuerpo: string) =>
          resolver({ estado, replay: false, idPago: undefined, cuerpo, perdida: false, latenciaMs: performance.now() - inicio });
        const peticion = modulo.request(
          new URL(`${base}${ruta}`),
          { agent: agente, method: 'GET', headers: { ...opciones.cabeceras }, timeout: tiempoMaximoMs },
          (respuesta) => {
            let datos = '';
            respuesta.setEncoding('utf8');
            respuesta.on('data', (d: string) => (datos += d));
            respuesta.on('error', () => fin(0, datos));
            respuesta.on('end', () => fin(respuesta.statusCode ?? 0, datos));
          },
        );
        peticion.on('timeout', () => peticion.destroy(new Error('tiempo agotado')));
        peticion.on('error', () => fin(0, ''));
        peticion.end();
      });
    },
    enviarPago(cuerpo, opciones = {}) {
      const inicio = performance.now();
      return new Promise<Respuesta>((resolver) => {
        let hecho = false;
        const fin = (r: Omit<Respuesta, 'latenciaMs'>) => {
          if (hecho) return;
          hecho = true;
          resolver({ ...r, latenciaMs: performance.now() - inicio });
        };
        const cabeceras: Record<string, string | number> = {
          ...opciones.cabeceras,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(cuerpo),
        };
        if (opciones.idCorrelacion) cabeceras['x-correlation-id'] = opciones.idCorrelacion;
        const peticion = modulo.request(
          {
            agent: agente,
            protocol: destino.protocol,
            hostname: destino.hostname,
            port: destino.port,
            path: destino.pathname,
            method: 'POST',
            headers: cabeceras,
            timeout: tiempoMaximoMs,
          },
          (respuesta) => {
            if (opciones.perderRespuesta) {
              // El servidor ya respondió (y confirmó), pero el cliente «no se entera»: corta sin leer.
              const estado = respuesta.statusCode ?? 0;
              respuesta.destroy();
              peticion.destroy();
              fin({ estado, replay: false, idPago: undefined, cuerpo: '', perdida: true });
              return;
            }
            let datos = '';
            respuesta.setEncoding('utf8');
            respuesta.on('data', (d: string) => (datos += d));
            respuesta.on('error', () => fin({ estado: 0, replay: false, idPago: undefined, cuerpo: datos, perdida: false }));
            respuesta.on('end', () => {
              let idPago: string | undefined;
              if (respuesta.statusCode === 200) {
                try {
                  const json = JSON.parse(datos) as { id_pago?: unknown };
                  if (typeof json.id_pago === 'string') idPago = json.id_pago;
                } catch {
                  // cuerpo no JSON: se queda sin id y el veredicto lo señala
                }
              }
              fin({
                estado: respuesta.statusCode ?? 0,
                replay: respuesta.headers['idempotent-replayed'] === 'true',
                idPago,
                cuerpo: datos,
                perdida: false,
              });
            });
          },
        );
        peticion.on('timeout', () => peticion.destroy(new Error('tiempo agotado')));
        peticion.on('error', () => fin({ estado: 0, replay: false, idPago: undefined, cuerpo: '', perdida: false }));
        peticion.end(cuerpo);
      });
    },
    cerrar() {
      agente.destroy();
    },
  };
  return cliente;
}
