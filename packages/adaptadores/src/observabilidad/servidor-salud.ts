import { createServer, type Server } from 'node:http';

export interface OpcionesServidorSalud {
  readonly servicio: string;
  readonly puerto: number;
  readonly host?: string;
  /** Disponibilidad: base de datos (y broker) alcanzables. */
  readonly comprobarDisponible: () => Promise<boolean>;
  /** Contadores que se muestran en /health (duplicados absorbidos, publicados…). */
  readonly contadores?: () => Record<string, number>;
  /** Texto de exposición Prometheus para `GET /metrics` (ver `exponerMetricas`); sin él, 404. */
  readonly metricas?: () => Promise<{ readonly tipo: string; readonly cuerpo: string }>;
}

/**
 * Servidor HTTP mínimo de salud para los procesos sin API (relay, consumidor):
 * `GET /health` (vida, con contadores), `GET /health/ready` (200 o 503) y `GET /metrics` (Prometheus).
 */
export function iniciarServidorSalud(opciones: OpcionesServidorSalud): Promise<{ servidor: Server; puerto: number; cerrar(): Promise<void> }> {
  const servidor = createServer((peticion, respuesta) => {
    const enviar = (estado: number, cuerpo: unknown, tipo = 'application/json') => {
      respuesta.writeHead(estado, { 'content-type': tipo, 'cache-control': 'no-store' });
      respuesta.end(JSON.stringify(cuerpo));
    };
    const ruta = (peticion.url ?? '/').split('?')[0];
    if (peticion.method !== 'GET') return enviar(405, { title: 'Método no permitido', status: 405 }, 'application/problem+json');
    if (ruta === '/health') {
      return enviar(200, { status: 'healthy', service: opciones.servicio, contadores: opciones.contadores?.() ?? {} });
    }
    if (ruta === '/health/ready') {
      opciones.comprobarDisponible().then(
        (ok) =>
          ok
            ? enviar(200, { status: 'ready', service: opciones.servicio })
            : enviar(503, { title: 'Servicio no disponible', status: 503, detail: 'La base de datos o el broker no responden.' }, 'application/problem+json'),
        () => enviar(503, { title: 'Servicio no disponible', status: 503 }, 'application/problem+json'),
      );
      return undefined;
    }
    if (ruta === '/metrics' && opciones.metricas) {
      opciones.metricas().then(
        ({ tipo, cuerpo }) => {
          respuesta.writeHead(200, { 'content-type': tipo, 'cache-control': 'no-store' });
          respuesta.end(cuerpo);
        },
        () => enviar(500, { title: 'Error interno', status: 500, detail: 'No se pudieron recoger las métricas.' }, 'application/problem+json'),
      );
      return undefined;
    }
    return enviar(404, { title: 'Recurso no encontrado', status: 404 }, 'application/problem+json');
  });
  return new Promise((resolver, rechazar) => {
    servidor.once('error', rechazar);
    servidor.listen(opciones.puerto, opciones.host ?? '0.0.0.0', () => {
      const direccion = servidor.address();
      const puerto = typeof direccion === 'object' && direccion ? direccion.port : opciones.puerto;
      // El puerto, por IPC a quien lanzó el proceso (supervisor, e2e): el anuncio de @aeropartners/procesos.
      process.send?.({ tipo: 'escuchando', servicio: opciones.servicio, puerto }, undefined, {}, () => undefined);
      resolver({
        servidor,
        puerto,
        cerrar: () =>
          new Promise<void>((fin) => {
            servidor.close(() => fin());
            servidor.closeAllConnections();
          }),
      });
    });
  });
}
