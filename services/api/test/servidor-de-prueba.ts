import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

/** Una app servida de verdad en un puerto libre de 127.0.0.1. */
export interface ServidorDePrueba {
  readonly url: string;
  readonly puerto: number;
  /** Cierra el servidor cortando también las conexiones abiertas (streams SSE, keep-alive). */
  cerrar(): Promise<void>;
}

export async function servirEnPuertoLibre(fetch: Parameters<typeof serve>[0]['fetch']): Promise<ServidorDePrueba> {
  let servidor: ReturnType<typeof serve> | undefined;
  const puerto = await new Promise<number>((resolver) => {
    servidor = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolver(info.port));
  });
  return {
    url: `http://127.0.0.1:${puerto}`,
    puerto,
    cerrar: () =>
      new Promise<void>((fin) => {
        servidor?.close(() => fin());
        if (servidor && 'closeAllConnections' in servidor) servidor.closeAllConnections();
      }),
  };
}
