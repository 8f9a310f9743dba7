import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { administradorPorCli, crearSociosDeLaCorrida, LIMITE_RPS_CORRIDA } from '../src/socios.js';

/**
 * Los socios de una corrida con la administración de socios de verdad (`pnpm socios`, compilada) contra
 * un PostgreSQL real: se crean con su clave (solo su hash en la base), el que firma con su secreto, todos
 * con el límite de la corrida; y la suspensión queda en la base cuando la orden vuelve.
 */
const RAIZ = fileURLToPath(new URL('../../', import.meta.url));

let base: BaseDePrueba;
let pool: pg.Pool;

beforeAll(async () => {
  if (!existsSync(path.join(RAIZ, 'packages/adaptadores/dist/cli/socios.js')))
    throw new Error('Falta la administración de socios: pnpm build');
  base = await crearBaseDePrueba();
  pool = new pg.Pool({ connectionString: base.url, max: 2 });
});
afterAll(async () => {
  await pool?.end();
  await base?.cerrar();
});

describe('socios de la corrida con pnpm socios', () => {
  it('crea los cuatro con sus papeles y suspende al cuarto', async () => {
    const admin = administradorPorCli(RAIZ, base.url);
    const socios = await crearSociosDeLaCorrida(admin, 'prueba', 4);
    expect(socios.map((s) => s.papel)).toEqual(['normal', 'normal', 'firma', 'suspendido']);
    expect(new Set(socios.map((s) => s.id)).size).toBe(4);
    for (const s of socios) expect(s.clave).toMatch(/^ap_live_/);
    expect(socios[2]?.secretoFirma).toMatch(/^whsec_/);
    const { rows } = await pool.query<{ id: string; estado: string; firma_obligatoria: boolean; limite_rps: number }>(
      'SELECT id, estado, firma_obligatoria, limite_rps FROM socios WHERE id = ANY($1::text[]) ORDER BY id',
      [socios.map((s) => s.id)],
    );
    expect(rows).toHaveLength(4);
    expect(rows.every((f) => f.estado === 'activo' && f.limite_rps === LIMITE_RPS_CORRIDA)).toBe(true);
    expect(rows.filter((f) => f.firma_obligatoria).map((f) => f.id)).toEqual([socios[2]?.id]);
    // La clave nunca se guarda en claro.
    const claves = await pool.query(`SELECT count(*)::int AS n FROM claves_api WHERE prefijo = ANY($1::text[])`, [
      socios.map((s) => s.clave),
    ]);
    expect(claves.rows[0]).toEqual({ n: 0 });

    const cuarto = socios[3]?.id as string;
    await admin.suspender(cuarto);
    const despues = await pool.query('SELECT estado FROM socios WHERE id = $1', [cuarto]);
    expect(despues.rows).toEqual([{ estado: 'suspendido' }]);
  }, 120_000);

  it('un error de la administración llega con su mensaje', async () => {
    const admin = administradorPorCli(RAIZ, base.url);
    await expect(admin.suspender('no-existe')).rejects.toThrow(/socios suspender: .+/);
  }, 60_000);
});
