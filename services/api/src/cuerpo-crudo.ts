import type { Context } from 'hono';

/**
 * Los bytes crudos del cuerpo, leídos una sola vez por petición y sin pasar de un límite: los necesitan
 * la verificación de la firma (sobre los bytes exactos) y la validación del JSON, y la segunda recibe los
 * mismos bytes que la primera. `null`: el cuerpo supera el límite (no se lee entero).
 */

const lecturas = new WeakMap<Context, Promise<Uint8Array | null>>();

export function leerCuerpoAcotado(c: Context, limiteBytes: number): Promise<Uint8Array | null> {
  let lectura = lecturas.get(c);
  if (lectura === undefined) {
    lectura = leer(c, limiteBytes);
    lecturas.set(c, lectura);
  }
  return lectura;
}

async function leer(c: Context, limiteBytes: number): Promise<Uint8Array | null> {
  // Con Content-Length (el servidor HTTP de Node garantiza que el cuerpo mide eso) se juzga por la cabecera,
  // sin pedir `c.req.raw.body`: en @hono/node-server eso construye un Request completo y saca la lectura
  // de su camino rápido (ver la decisión 0090).
  const largo = c.req.header('content-length');
  if (largo !== undefined && c.req.header('transfer-encoding') === undefined) {
    return Number(largo) > limiteBytes ? null : new Uint8Array(await c.req.arrayBuffer());
  }
  // Por trozos: se cuenta al leer y se deja de leer al pasar el límite.
  const cuerpo = c.req.raw.body;
  if (cuerpo === null) return new Uint8Array(0);
  const lector = cuerpo.getReader();
  const trozos: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await lector.read();
    if (done) break;
    total += value.byteLength;
    if (total > limiteBytes) return null;
    trozos.push(value);
  }
  return Buffer.concat(trozos);
}
