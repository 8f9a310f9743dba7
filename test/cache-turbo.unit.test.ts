/**
 * La caché de turbo no puede devolver un resultado de tests viejo: se comprueba con la propia turbo
 * (`--dry=json`, sin ejecutar nada) que la clave de una tarea cambia cuando cambia lo que la decide.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const RAIZ = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TURBO = path.join(RAIZ, 'node_modules', '.bin', 'turbo');

interface TareaEnSeco {
  readonly taskId: string;
  readonly hash: string;
}

function claves(tarea: string, filtro: string, entorno: Record<string, string | undefined> = {}): Map<string, string> {
  const salida = execFileSync(TURBO, ['run', tarea, `--filter=${filtro}`, '--dry=json'], {
    cwd: RAIZ,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', ...entorno },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { tasks } = JSON.parse(salida.slice(salida.indexOf('{'))) as { tasks: TareaEnSeco[] };
  return new Map(tasks.map((t) => [t.taskId, t.hash]));
}

describe('la caché de turbo', { timeout: 120_000 }, () => {
  it('cambiar un fichero de dominio/src cambia la clave de los tests de quien lo lee (aplicacion, adaptadores, la API)', () => {
    const filtro = '@aeropartners/api...';
    const antes = claves('test:unit', filtro);
    // Un fichero nuevo (sin seguimiento y no ignorado) cuenta como cambio de la fuente, igual que editar uno.
    const sonda = path.join(RAIZ, 'packages', 'dominio', 'src', `.sonda-cache-${process.pid}.ts`);
    writeFileSync(sonda, `export const sonda = ${Date.now()};\n`);
    let despues: Map<string, string>;
    try {
      despues = claves('test:unit', filtro);
    } finally {
      rmSync(sonda, { force: true });
    }
    for (const tarea of ['@aeropartners/aplicacion#test:unit', '@aeropartners/adaptadores#test:unit', '@aeropartners/api#test:unit']) {
      expect(antes.get(tarea), tarea).toBeDefined();
      expect(despues.get(tarea), `${tarea} debe volver a ejecutarse`).not.toBe(antes.get(tarea));
    }
  });

  it('PULSAR_URL y DATABASE_URL (cambian qué tests de integración corren y contra qué) forman parte de la clave', () => {
    const filtro = '@aeropartners/adaptadores';
    const tarea = '@aeropartners/adaptadores#test:int';
    const base = claves('test:int', filtro, { PULSAR_URL: undefined, DATABASE_URL: undefined }).get(tarea);
    expect(base).toBeDefined();
    expect(claves('test:int', filtro, { PULSAR_URL: 'pulsar://localhost:6650' }).get(tarea)).not.toBe(base);
    expect(claves('test:int', filtro, { DATABASE_URL: 'postgres://otra/base' }).get(tarea)).not.toBe(base);
  });

  it('la configuración común de la raíz (tsconfig.base.json, vitest.shared.ts) entra en la clave de todas las tareas', () => {
    const salida = execFileSync(TURBO, ['run', 'test:unit', '--filter=@aeropartners/dominio', '--dry=json'], {
      cwd: RAIZ,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
      encoding: 'utf8',
    });
    const { globalCacheInputs } = JSON.parse(salida.slice(salida.indexOf('{'))) as { globalCacheInputs: { files: Record<string, string> } };
    expect(Object.keys(globalCacheInputs.files)).toEqual(
      expect.arrayContaining(['tsconfig.base.json', 'vitest.shared.ts', 'vitest.config.ts']),
    );
  });
});
