import { afterAll, describe, expect, it } from 'vitest';
import { PostgresAlmacenComisiones } from '../postgres/conversiones/postgres-almacen-comisiones.js';
import { crearPoolPostgres } from '../postgres/pool-postgres.js';
import { crearBaseDePrueba } from '../testing/index.js';
import { entornoDePrueba } from './entorno-de-prueba.js';
import { comandoSociosComision, puntosBasicosDe } from './socios-comision.js';

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

async function ejecutar(url: string, ...argumentos: string[]) {
  const { entorno, salida, errores } = entornoDePrueba(url, argumentos);
  const codigo = await comandoSociosComision(entorno);
  return { codigo, salida: salida.join('\n'), errores: errores.join('\n') };
}

describe('pnpm socios comision', () => {
  it('guarda versiones sucesivas de la regla del socio, vigentes desde ahora, con sus valores por defecto', async () => {
    const base = await crearBaseDePrueba();
    const pool = crearPoolPostgres({ url: base.url, tamano: 2, nombreAplicacion: 'test-socios-comision' });
    cierres.push(async () => {
      await pool.end();
      await base.cerrar();
    });
    const desconocido = await ejecutar(base.url, 'socio-1', '--porcentaje', '10');
    expect(desconocido).toMatchObject({ codigo: 1, errores: 'El socio socio-1 no existe (pnpm socios listar)' });
    await pool.query("INSERT INTO socios (id, nombre) VALUES ('socio-1', 'Socio 1')");
    const r1 = await ejecutar(base.url, 'socio-1', '--porcentaje', '12.5', '--tope', '50', '--moneda', 'USD');
    expect(r1).toMatchObject({ codigo: 0, errores: '' });
    expect(r1.salida).toMatch(/Regla de comisión v1 del socio socio-1.*12\.5 %, tope 50\.00 USD, bloqueo de 30 días\./);
    const r2 = await ejecutar(
      base.url,
      'socio-1',
      '--fijo',
      '2.50',
      '--moneda',
      'EUR',
      '--dias-bloqueo',
      '0',
      '--minimo-liquidacion',
      '10',
      '--json',
    );
    expect(r2.codigo).toBe(0);
    expect(JSON.parse(r2.salida)).toMatchObject({ id_socio: 'socio-1', version: 2 });
    const reglas = await new PostgresAlmacenComisiones(pool).reglas();
    expect(reglas.map((r) => [r.version, r.calculo.tipo, r.diasBloqueo, r.minimoLiquidacion?.unidadesMenores ?? 0])).toEqual([
      [1, 'porcentaje', 30, 0],
      [2, 'fijo', 0, 1000],
    ]);
    // Con --desde, vigente desde ese instante (recuperar conversiones creadas antes de tener regla).
    const r3 = await ejecutar(base.url, 'socio-1', '--porcentaje', '5', '--desde', '2026-01-01T00:00:00Z', '--json');
    expect(JSON.parse(r3.salida)).toMatchObject({ version: 3, vigente_desde: '2026-01-01T00:00:00.000Z' });
    expect((await ejecutar(base.url, 'socio-1', '--porcentaje', '5', '--desde', 'ayer')).codigo).toBe(2);
    // Una regla que el dominio rechaza (porcentaje 0) no escribe nada.
    const mala = await ejecutar(base.url, 'socio-1', '--porcentaje', '0');
    expect(mala.codigo).toBe(2);
    expect(mala.errores).toMatch(/^Regla inválida: porcentaje/);
    expect(await new PostgresAlmacenComisiones(pool).reglas()).toHaveLength(3);
  });

  it('uso incorrecto: código 2 y una línea que dice qué falta, sin tocar la base', async () => {
    const url = 'postgres://nadie@127.0.0.1:1/x';
    expect((await ejecutar(url, 'socio-1')).errores).toMatch(/--porcentaje P o --fijo M --moneda C/);
    expect((await ejecutar(url, 'socio-1', '--porcentaje', '5', '--fijo', '1', '--moneda', 'USD')).codigo).toBe(2);
    expect((await ejecutar(url, 'socio-1', '--fijo', '1')).errores).toBe('--fijo necesita --moneda');
    expect((await ejecutar(url, 'socio-1', '--porcentaje', '5', '--tope', '1')).errores).toBe('--tope necesita --moneda');
    expect((await ejecutar(url, 'socio-1', '--porcentaje', 'diez')).codigo).toBe(2);
    expect((await ejecutar(url, '--porcentaje', '5')).errores).toMatch(/Falta el id del socio/);
    expect(puntosBasicosDe('0.01')).toBe(1);
    expect(puntosBasicosDe('100')).toBe(10_000);
    expect(puntosBasicosDe('7,5')).toBe(750);
    expect(puntosBasicosDe('1.234')).toBeUndefined();
  });
});
