import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { EnvApp } from '../contexto.js';

/**
 * La página en vivo `/panel` (issue 13): HTML, JS y CSS propios servidos por la API, sin CDN ni framework
 * (funciona sin red). La página y sus recursos se sirven sin clave; los datos no: la página pide la clave
 * y lee la API con `fetch` y `Authorization` como cualquier cliente. Ver `docs/decisiones/0180-…`.
 */

export const RECURSOS_PANEL = {
  'panel.js': 'text/javascript; charset=utf-8',
  'panel.css': 'text/css; charset=utf-8',
} as const;
export type RecursoPanel = keyof typeof RECURSOS_PANEL;

export function esRecursoPanel(nombre: string): nombre is RecursoPanel {
  return Object.hasOwn(RECURSOS_PANEL, nombre);
}

/**
 * Sin `'unsafe-inline'` ni orígenes ajenos: solo scripts, estilos y conexiones de la propia API. Una
 * inyección en un dato mostrado no puede ejecutar nada (la página además escribe con `textContent`).
 */
export const CSP_PANEL = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CABECERAS_SEGURIDAD = {
  'Content-Security-Policy': CSP_PANEL,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
} as const;

/**
 * Dónde están los ficheros: junto a este módulo en el código fuente (`src/panel/estaticos`) o, compilado
 * en un solo `dist/main.js`, en `dist/panel` (los copia tsup).
 */
export function directorioPanel(): string {
  const candidatos = [fileURLToPath(new URL('./estaticos/', import.meta.url)), fileURLToPath(new URL('./panel/', import.meta.url))];
  return candidatos.find((d) => existsSync(path.join(d, 'panel.html'))) ?? candidatos[0]!;
}

type Fichero = RecursoPanel | 'panel.html';

/** Monta `GET /panel` y `GET /panel/:recurso`. Los ficheros se leen la primera vez y quedan en memoria. */
export function rutasPanel(app: Hono<EnvApp>, opciones: { readonly directorio?: string } = {}): void {
  const directorio = opciones.directorio ?? directorioPanel();
  const cache = new Map<Fichero, Promise<Uint8Array<ArrayBuffer>>>();
  const leer = (nombre: Fichero) => {
    let contenido = cache.get(nombre);
    if (!contenido) {
      contenido = readFile(path.join(directorio, nombre)).then((b) => new Uint8Array(b));
      contenido.catch(() => cache.delete(nombre));
      cache.set(nombre, contenido);
    }
    return contenido;
  };

  app.get('/panel', async (c) =>
    c.body(await leer('panel.html'), 200, {
      ...CABECERAS_SEGURIDAD,
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
    }),
  );

  app.get('/panel/:recurso', async (c) => {
    const nombre = c.req.param('recurso');
    if (!esRecursoPanel(nombre)) return c.notFound();
    return c.body(await leer(nombre), 200, {
      ...CABECERAS_SEGURIDAD,
      'Content-Type': RECURSOS_PANEL[nombre],
      // La página y sus recursos cambian juntos con cada versión: sin caché larga que los desacople.
      'Cache-Control': 'no-cache',
    });
  });
}
