import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crearBaseDePrueba, type BaseDePrueba } from '../../testing/index.js';
import { crearPoolPostgres } from '../pool-postgres.js';
import { asegurarSocioDeDemostracion } from './socio-de-demostracion.js';

const cierres: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cierres) await c().catch(() => undefined);
});

async function preparar(): Promise<{ base: BaseDePrueba; archivo: string }> {
  const base = await crearBaseDePrueba();
  const carpeta = await mkdtemp(path.join(tmpdir(), 'socio-demo-'));
  cierres.push(
    () => base.cerrar(),
    () => rm(carpeta, { recursive: true, force: true }),
  );
  return { base, archivo: path.join(carpeta, '.data', 'socio-demo.json') };
}

describe('socio de demostración de pnpm start', () => {
  it('la primera vez lo crea con una clave ap_test_ y la guarda (solo para el usuario); después la lee y no crea otro', async () => {
    const { base, archivo } = await preparar();
    const primera = await asegurarSocioDeDemostracion({ url: base.url, archivo });
    expect(primera).toMatchObject({ creado: true, clave: expect.stringMatching(/^ap_test_/) });
    expect(JSON.parse(await readFile(archivo, 'utf8'))).toEqual({ id_socio: primera.id_socio, clave: primera.clave });
    expect((await stat(archivo)).mode & 0o777).toBe(0o600);
    const segunda = await asegurarSocioDeDemostracion({ url: base.url, archivo });
    expect(segunda).toEqual({ ...primera, creado: false });
    const pool = crearPoolPostgres({ url: base.url, tamano: 1, nombreAplicacion: 'prueba' });
    cierres.push(() => pool.end());
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM socios');
    expect(rows[0]?.n).toBe('1');
  });

  it('si la clave guardada no vale en esta base (otra base, archivo roto), crea otro y sobrescribe el archivo', async () => {
    const { base, archivo } = await preparar();
    const otraBase = await preparar();
    const deOtra = await asegurarSocioDeDemostracion({ url: otraBase.base.url, archivo });
    const aqui = await asegurarSocioDeDemostracion({ url: base.url, archivo });
    expect(aqui.creado).toBe(true);
    expect(aqui.clave).not.toBe(deOtra.clave);
    await writeFile(archivo, '{roto');
    expect((await asegurarSocioDeDemostracion({ url: base.url, archivo })).creado).toBe(true);
  });
});
