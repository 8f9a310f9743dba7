import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * El receptor de webhooks de los socios de la corrida: un servidor HTTP local (uno para todos, una ruta
 * por socio) que verifica cada entrega según la especificación de Standard Webhooks, con su propia
 * implementación (no con el código del repositorio que firma), y la guarda con su hora de llegada. Como un receptor real, a veces
 * falla: responde 500, tarda más que el tiempo máximo del repartidor o cierra la conexión sin responder.
 * Nunca falla más de `fallosMaximos` veces seguidas la misma entrega, para que el calendario de reintentos
 * no se agote y el webhook no se desactive en la corrida (eso lo prueban los tests del repartidor).
 */

/** Tolerancia de la marca de tiempo, la de la especificación. */
const TOLERANCIA_S = 300;

/**
 * Verifica una entrega según la especificación de Standard Webhooks: HMAC-SHA256 con la clave del secreto
 * (`whsec_` + base64) sobre `{webhook-id}.{webhook-timestamp}.{cuerpo}`, en base64, entre las firmas `v1,`
 * de `webhook-signature` (separadas por espacios); la marca de tiempo a ±5 min. Devuelve el motivo del
 * rechazo, o `undefined` si vale.
 */
export function motivoFirmaInvalida(
  secreto: string,
  c: { readonly id: string; readonly marcaTiempo: string; readonly firma: string },
  cuerpo: string,
  ahoraMs = Date.now(),
): string | undefined {
  if (!c.id || !c.marcaTiempo || !c.firma) return 'faltan cabeceras webhook-id, webhook-timestamp o webhook-signature';
  if (!/^\d+$/.test(c.marcaTiempo)) return `webhook-timestamp no numérico: ${c.marcaTiempo}`;
  if (Math.abs(Math.floor(ahoraMs / 1000) - Number(c.marcaTiempo)) > TOLERANCIA_S)
    return `webhook-timestamp fuera de tolerancia: ${c.marcaTiempo}`;
  const clave = Buffer.from(secreto.startsWith('whsec_') ? secreto.slice(6) : secreto, 'base64');
  const esperada = createHmac('sha256', clave).update(`${c.id}.${c.marcaTiempo}.${cuerpo}`).digest();
  for (const parte of c.firma.split(' ')) {
    const [version, firma] = parte.split(',', 2);
    if (version !== 'v1' || !firma) continue;
    const dada = Buffer.from(firma, 'base64');
    if (dada.length === esperada.length && timingSafeEqual(dada, esperada)) return undefined;
  }
  return 'ninguna firma v1 coincide';
}

export type Respuesta = 'ok' | 'error-500' | 'tiempo' | 'cierre';

export interface TasasFallo {
  /** Probabilidad de cada fallo en el primer intento de una entrega. */
  readonly error500: number;
  readonly tiempo: number;
  readonly cierre: number;
  /** Probabilidad de volver a fallar un intento tras otro fallido (hasta `fallosMaximos`). */
  readonly repetir: number;
  readonly fallosMaximos: number;
}

export const TASAS_POR_DEFECTO: TasasFallo = { error500: 0.02, tiempo: 0.002, cierre: 0.01, repetir: 0.3, fallosMaximos: 2 };

/** Un número en [0, 1) que solo depende de la semilla, la entrega y el intento (el mismo en cada corrida). */
function dado(semilla: number, webhookId: string, intento: number): number {
  return createHash('sha256').update(`${semilla}:${webhookId}:${intento}`).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Qué responde el receptor a la llegada n.º `intento` (1, 2, …) de una entrega que ya falló `fallosPrevios`
 * veces: el primer intento falla con las tasas dadas; los siguientes, solo si el anterior falló, con
 * probabilidad `repetir`; nunca más de `fallosMaximos` fallos.
 */
export function decidirRespuesta(semilla: number, webhookId: string, intento: number, fallosPrevios: number, t: TasasFallo): Respuesta {
  if (fallosPrevios >= t.fallosMaximos) return 'ok';
  if (intento > 1 && fallosPrevios < intento - 1) return 'ok';
  const x = dado(semilla, webhookId, intento);
  const fallar = intento === 1 ? t.error500 + t.tiempo + t.cierre : t.repetir;
  if (x >= fallar) return 'ok';
  // Repartido según las tasas del primer intento.
  const y = (x / fallar) * (t.error500 + t.tiempo + t.cierre);
  return y < t.error500 ? 'error-500' : y < t.error500 + t.tiempo ? 'tiempo' : 'cierre';
}

/** Una llegada al receptor. */
export interface EntregaRecibida {
  readonly webhookId: string;
  /** El socio de la ruta (`/socios/<id>`). */
  readonly socio: string;
  /** ms Unix. */
  readonly llegada: number;
  readonly firmaValida: boolean;
  readonly motivoFirma?: string;
  readonly respuesta: Respuesta;
  /** Del cuerpo (si es un evento). */
  readonly secuencia: number | undefined;
  readonly registradoEn: number | undefined;
  /** Huella del objeto del cuerpo con las claves ordenadas: se compara con el evento del feed. */
  readonly huella: string | undefined;
}

/** La huella de un objeto JSON independiente del orden de sus claves. */
export function huellaJson(valor: unknown): string {
  const canonico = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonico)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v as Record<string, unknown>)
              .sort()
              .map((k) => [k, canonico((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonico(valor)))
    .digest('base64url')
    .slice(0, 22);
}

export interface OpcionesReceptor {
  readonly semilla: number;
  readonly tasas?: TasasFallo;
  /** Cuánto se retiene la respuesta de un «tiempo»: más que el tiempo máximo del repartidor. */
  readonly retenerMs: number;
}

export interface Receptor {
  /** `http://127.0.0.1:<puerto>`. */
  readonly url: string;
  /** La URL de los webhooks de un socio. */
  urlDe(idSocio: string): string;
  /** El secreto del webhook de un socio (lo devuelve `POST /webhooks`). */
  registrar(idSocio: string, secreto: string): void;
  readonly entregas: readonly EntregaRecibida[];
  parar(): Promise<void>;
}

export async function iniciarReceptor(o: OpcionesReceptor): Promise<Receptor> {
  const tasas = o.tasas ?? TASAS_POR_DEFECTO;
  const secretos = new Map<string, string>();
  const entregas: EntregaRecibida[] = [];
  /** Por socio y webhook-id: llegadas y fallos provocados. */
  const vistas = new Map<string, { llegadas: number; fallos: number }>();
  const retenidas = new Set<NodeJS.Timeout>();

  const servidor = http.createServer((peticion, respuesta) => {
    const trozos: Buffer[] = [];
    peticion.on('data', (t: Buffer) => trozos.push(t));
    peticion.on('end', () => {
      const llegada = Date.now();
      const cuerpo = Buffer.concat(trozos).toString('utf8');
      const socio = decodeURIComponent(/^\/socios\/([^/?]+)/.exec(peticion.url ?? '')?.[1] ?? '');
      const cabecera = (n: string) => {
        const v = peticion.headers[n];
        return Array.isArray(v) ? v.join(',') : (v ?? '');
      };
      const webhookId = cabecera('webhook-id');
      let firmaValida = false;
      let motivoFirma: string | undefined;
      const secreto = secretos.get(socio);
      if (!secreto) motivoFirma = `ruta sin socio registrado: ${peticion.url}`;
      else {
        motivoFirma = motivoFirmaInvalida(
          secreto,
          { id: webhookId, marcaTiempo: cabecera('webhook-timestamp'), firma: cabecera('webhook-signature') },
          cuerpo,
          llegada,
        );
        firmaValida = motivoFirma === undefined;
      }
      let secuencia: number | undefined;
      let registradoEn: number | undefined;
      let huella: string | undefined;
      try {
        const json = JSON.parse(cuerpo) as Record<string, unknown>;
        if (typeof json['secuencia'] === 'number') secuencia = json['secuencia'];
        if (typeof json['registrado_en'] === 'string') registradoEn = Date.parse(json['registrado_en']);
        huella = huellaJson(json);
      } catch {
        // Un cuerpo que no es JSON queda sin huella: el veredicto lo cuenta.
      }
      const clave = `${socio}\n${webhookId}`;
      const visto = vistas.get(clave) ?? { llegadas: 0, fallos: 0 };
      vistas.set(clave, visto);
      visto.llegadas += 1;
      // Una firma mala se rechaza siempre (400), como haría un receptor real; no es un fallo provocado.
      const decision: Respuesta = firmaValida ? decidirRespuesta(o.semilla, clave, visto.llegadas, visto.fallos, tasas) : 'error-500';
      if (decision !== 'ok' && firmaValida) visto.fallos += 1;
      entregas.push({
        webhookId,
        socio,
        llegada,
        firmaValida,
        ...(motivoFirma ? { motivoFirma } : {}),
        respuesta: decision,
        secuencia,
        registradoEn,
        huella,
      });
      if (!firmaValida) {
        respuesta.writeHead(400, { 'content-type': 'text/plain' }).end('firma no válida');
        return;
      }
      switch (decision) {
        case 'ok':
          respuesta.writeHead(204).end();
          return;
        case 'error-500':
          respuesta.writeHead(500, { 'content-type': 'text/plain' }).end('fallo provocado por el experimento');
          return;
        case 'cierre':
          peticion.socket.destroy();
          return;
        case 'tiempo': {
          const t = setTimeout(() => {
            retenidas.delete(t);
            if (!respuesta.destroyed) respuesta.writeHead(204).end();
          }, o.retenerMs);
          retenidas.add(t);
          return;
        }
      }
    });
  });
  servidor.keepAliveTimeout = 5000;
  await new Promise<void>((resolver, rechazar) => {
    servidor.once('error', rechazar);
    servidor.listen(0, '127.0.0.1', () => resolver());
  });
  const url = `http://127.0.0.1:${(servidor.address() as AddressInfo).port}`;
  return {
    url,
    urlDe: (idSocio) => `${url}/socios/${encodeURIComponent(idSocio)}`,
    registrar(idSocio, secreto) {
      secretos.set(idSocio, secreto);
    },
    entregas,
    async parar() {
      for (const t of retenidas) clearTimeout(t);
      servidor.closeAllConnections();
      await new Promise<void>((r) => servidor.close(() => r()));
    },
  };
}
