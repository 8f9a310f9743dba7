import { createServer } from 'node:net';

/**
 * Un puerto TCP libre en `host` (el sistema elige uno y se suelta enseguida). Entre la respuesta y su
 * uso otro proceso podría tomarlo: si se puede, mejor que el servicio escuche en el puerto 0 y lo
 * anuncie (ver `anunciarEscuchando`).
 */
export function puertoLibre(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolver, rechazar) => {
    const servidor = createServer();
    servidor.unref();
    servidor.once('error', rechazar);
    servidor.listen(0, host, () => {
      const direccion = servidor.address();
      const puerto = typeof direccion === 'object' && direccion ? direccion.port : 0;
      servidor.close(() => (puerto > 0 ? resolver(puerto) : rechazar(new Error(`No se obtuvo un puerto libre en ${host}`))));
    });
  });
}
