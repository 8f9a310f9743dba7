import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paginaHtml } from '../src/html.js';
import { informeDeEjemplo } from './informe-de-ejemplo.js';

/**
 * La página del informe se abre de verdad en Chromium sin cabeza (el `chromium` de Debian) y produce
 * una captura no trivial. En CI es obligatorio (`.ci/run` instala el paquete `chromium` de Debian y
 * define CHROMIUM_OBLIGATORIO=1: si falta, el test falla). En una máquina de desarrollo sin Chromium se
 * salta, para que `pnpm test` funcione con solo Node y npm: `apt-get install -y chromium` lo activa.
 */
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const OBLIGATORIO = process.env.CHROMIUM_OBLIGATORIO === '1';
const ejecutar = promisify(execFile);

async function capturar(carpeta: string, html: string, nombre: string): Promise<{ bytes: number; ancho: number; alto: number }> {
  const pagina = path.join(carpeta, `${nombre}.html`);
  const captura = path.join(carpeta, `${nombre}.png`);
  await writeFile(pagina, html);
  await ejecutar(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--hide-scrollbars',
      `--user-data-dir=${path.join(carpeta, `perfil-${nombre}`)}`,
      '--window-size=1000,2400',
      `--screenshot=${captura}`,
      `file://${pagina}`,
    ],
    { timeout: 90_000 },
  );
  const png = await readFile(captura);
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  // Cabecera IHDR: ancho y alto en los bytes 16–23.
  return { bytes: (await stat(captura)).size, ancho: png.readUInt32BE(16), alto: png.readUInt32BE(20) };
}

describe.skipIf(!existsSync(CHROMIUM) && !OBLIGATORIO)('la página del informe en Chromium sin cabeza', () => {
  let carpeta: string;
  beforeAll(async () => {
    carpeta = await mkdtemp(path.join(tmpdir(), 'experimento-chromium-'));
  });
  afterAll(async () => {
    await rm(carpeta, { recursive: true, force: true });
  });

  it('se renderiza en una captura con contenido (mucho más que una página en blanco)', async () => {
    const blanca = await capturar(carpeta, '<!doctype html><html><body></body></html>', 'blanca');
    const informe = await capturar(carpeta, paginaHtml(informeDeEjemplo(true)), 'informe');
    expect(informe.ancho).toBe(1000);
    expect(informe.alto).toBe(2400);
    // Gráficas, tablas y texto: la captura comprimida pesa muchas veces lo que una en blanco.
    expect(informe.bytes).toBeGreaterThan(30_000);
    expect(informe.bytes).toBeGreaterThan(blanca.bytes * 5);
  });
});
