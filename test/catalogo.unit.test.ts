/**
 * Versiones declaradas una vez: toda dependencia externa de cada package.json del workspace se pide con
 * `catalog:` y su versión, exacta, está una sola vez en el catálogo de `pnpm-workspace.yaml`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const RAIZ = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CAMPOS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;
const EXACTA = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

/** Las entradas `nombre: versión` del bloque `catalog:` (dos espacios de sangría, sin anidar). */
function catalogo(yaml: string): Map<string, string> {
  const lineas = yaml.split('\n');
  const inicio = lineas.indexOf('catalog:');
  const entradas = new Map<string, string>();
  if (inicio < 0) return entradas;
  for (const linea of lineas.slice(inicio + 1)) {
    if (linea.trim() === '' || linea.trimStart().startsWith('#')) continue;
    const m = /^ {2}(?:'([^']+)'|"([^"]+)"|([^\s:'"]+)):\s*(\S+)\s*$/.exec(linea);
    if (!m) break;
    const nombre = m[1] ?? m[2] ?? m[3] ?? '';
    expect(entradas.has(nombre), `${nombre} dos veces en el catálogo`).toBe(false);
    entradas.set(nombre, m[4]!.replace(/^['"]|['"]$/g, ''));
  }
  return entradas;
}

function manifiestos(): string[] {
  const yaml = readFileSync(path.join(RAIZ, 'pnpm-workspace.yaml'), 'utf8');
  const patrones = [...yaml.matchAll(/^ {2}- (\S+)$/gm)].map((m) => m[1]!);
  const carpetas = patrones.flatMap((p) =>
    p.endsWith('/*')
      ? readdirSync(path.join(RAIZ, p.slice(0, -2)), { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => `${p.slice(0, -2)}/${e.name}`)
      : [p],
  );
  return ['package.json', ...carpetas.map((c) => `${c}/package.json`)].filter((f) => existsSync(path.join(RAIZ, f)));
}

describe('catálogo de versiones (pnpm-workspace.yaml)', () => {
  const entradas = catalogo(readFileSync(path.join(RAIZ, 'pnpm-workspace.yaml'), 'utf8'));
  const archivos = manifiestos();

  it('lo encuentra, con versiones exactas', () => {
    expect(entradas.size).toBeGreaterThan(10);
    expect(entradas.get('typescript')).toMatch(EXACTA);
    for (const [nombre, version] of entradas) expect(version, nombre).toMatch(EXACTA);
  });

  it('cada dependencia externa de cada package.json es `catalog:` y está en el catálogo; cada entrada se usa', () => {
    expect(archivos).toContain('packages/adaptadores/package.json');
    const usadas = new Set<string>();
    const malas: string[] = [];
    for (const archivo of archivos) {
      const manifiesto = JSON.parse(readFileSync(path.join(RAIZ, archivo), 'utf8')) as Partial<
        Record<(typeof CAMPOS)[number], Record<string, string>>
      >;
      for (const campo of CAMPOS) {
        for (const [nombre, version] of Object.entries(manifiesto[campo] ?? {})) {
          if (version.startsWith('workspace:')) continue;
          usadas.add(nombre);
          if (version !== 'catalog:') malas.push(`${archivo} ${campo}.${nombre} = ${version} (debe ser "catalog:")`);
          else if (!entradas.has(nombre)) malas.push(`${archivo} ${campo}.${nombre}: no está en el catálogo`);
        }
      }
    }
    expect(malas).toEqual([]);
    expect(
      [...entradas.keys()].filter((n) => !usadas.has(n)),
      'entradas del catálogo que nadie usa',
    ).toEqual([]);
  });
});
