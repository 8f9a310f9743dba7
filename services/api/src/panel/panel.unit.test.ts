import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crearAppDePrueba } from '../../test/app-de-prueba.js';
import { CSP_PANEL, directorioPanel, RECURSOS_PANEL } from './panel.js';

/** La app sin modo anónimo: lo que se sirve sin clave lo decide la autenticación, no el modo. */
const app = () => crearAppDePrueba({ idSocioAnonimo: undefined }).app;

describe('GET /panel y sus recursos', () => {
  it('la página, su JS y su CSS se sirven sin clave, con su tipo y las cabeceras de seguridad', async () => {
    const a = app();
    for (const [ruta, tipo] of [
      ['/panel', 'text/html; charset=utf-8'],
      ['/panel/', 'text/html; charset=utf-8'],
      ['/panel/panel.js', RECURSOS_PANEL['panel.js']],
      ['/panel/panel.css', RECURSOS_PANEL['panel.css']],
    ] as const) {
      const r = await a.request(ruta);
      expect(r.status, ruta).toBe(200);
      expect(r.headers.get('content-type'), ruta).toBe(tipo);
      expect(r.headers.get('content-security-policy'), ruta).toBe(CSP_PANEL);
      expect(r.headers.get('x-content-type-options'), ruta).toBe('nosniff');
      expect(r.headers.get('x-frame-options'), ruta).toBe('DENY');
      expect(r.headers.get('referrer-policy'), ruta).toBe('no-referrer');
      expect((await r.text()).length, ruta).toBeGreaterThan(100);
    }
  });

  it('lo servido es el fichero del panel, byte a byte', async () => {
    const r = await app().request('/panel/panel.js');
    expect(await r.text()).toBe(await readFile(path.join(directorioPanel(), 'panel.js'), 'utf8'));
  });

  it('la CSP no admite scripts ni estilos en línea ni de otro origen, y la página no los usa', async () => {
    expect(CSP_PANEL).not.toContain('unsafe-inline');
    expect(CSP_PANEL).not.toContain('unsafe-eval');
    expect(CSP_PANEL).toContain("script-src 'self'");
    expect(CSP_PANEL).toContain("connect-src 'self'");
    const html = await (await app().request('/panel')).text();
    // Solo <script src> propios, sin código dentro, ni atributos on*, ni style= ni <style>.
    expect([...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)].map((m) => [m[1]?.includes('src="/panel/'), m[2]?.trim()])).toEqual(
      [[true, '']],
    );
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\sstyle=|<style/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('un recurso que no es del panel da 404 (sin clave no se lee nada más del disco) y una subcarpeta pide la clave', async () => {
    const a = app();
    for (const ruta of ['/panel/panel.html', '/panel/..%2Fpanel.ts', '/panel/otro.js']) {
      const r = await a.request(ruta);
      expect(r.status, ruta).toBe(404);
      expect(r.headers.get('content-type'), ruta).toBe('application/problem+json');
    }
    expect((await a.request('/panel/a/panel.js')).status).toBe(401);
  });

  it('los datos que lee la página siguen pidiendo la clave', async () => {
    const a = app();
    for (const ruta of ['/pagos', '/eventos', '/eventos/stream']) {
      expect((await a.request(ruta)).status, ruta).toBe(401);
    }
  });
});
