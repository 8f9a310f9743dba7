/**
 * Los ejemplos de los README de los paquetes publicables compilan: cada bloque ```ts se escribe como un
 * módulo dentro de su paquete (para que resuelva sus dependencias y su propio nombre) y se comprueba con
 * `tsc` y el tsconfig del paquete.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const RAIZ = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TSC = path.join(RAIZ, 'node_modules', '.bin', 'tsc');

function bloquesTs(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

describe('ejemplos de los README', () => {
  it.each(['dominio', 'aplicacion'])(
    'los bloques ts del README de @aeropartners/%s compilan',
    (paquete) => {
      const carpeta = path.join(RAIZ, 'packages', paquete);
      const bloques = bloquesTs(readFileSync(path.join(carpeta, 'README.md'), 'utf8'));
      expect(bloques.length).toBeGreaterThan(0);
      const ejemplos = path.join(carpeta, `.ejemplos-readme-${process.pid}`);
      mkdirSync(ejemplos, { recursive: true });
      try {
        bloques.forEach((codigo, i) => writeFileSync(path.join(ejemplos, `ejemplo-${i + 1}.ts`), `${codigo}\nexport {};\n`));
        writeFileSync(
          path.join(ejemplos, 'tsconfig.json'),
          JSON.stringify({
            extends: '../tsconfig.json',
            compilerOptions: { types: ['node'], lib: ['ES2023', 'DOM'] },
            include: ['./*.ts'],
          }),
        );
        let salida = '';
        try {
          execFileSync(TSC, ['--noEmit', '-p', path.join(ejemplos, 'tsconfig.json')], { cwd: carpeta, encoding: 'utf8' });
        } catch (error) {
          salida = String((error as { stdout?: string }).stdout ?? error);
        }
        expect(salida, 'errores de tsc en los ejemplos del README').toBe('');
      } finally {
        rmSync(ejemplos, { recursive: true, force: true });
      }
      // tsc tarda segundos, más con la máquina cargada: es un límite para no colgarse, no una medida.
    },
    120_000,
  );
});
