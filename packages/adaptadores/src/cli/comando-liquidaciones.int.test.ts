import { crearAplicadorDeHechos, crearManejadorRegistrarHecho } from '@aeropartners/aplicacion';
import { ReglaComision, type Ambito } from '@aeropartners/dominio';
import { afterAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../ids/uuidv7.js';
import { PostgresAlmacenComisiones } from '../postgres/conversiones/postgres-almacen-comisiones.js';
import { crearPoolPostgres } from '../postgres/pool-postgres.js';
import { crearBaseDePrueba } from '../testing/index.js';
import { entornoDePrueba } from './entorno-de-prueba.js';
import { comandoLiquidaciones } from './comando-liquidaciones.js';

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

async function ejecutar(url: string, ...argumentos: string[]) {
  const { entorno, salida, errores } = entornoDePrueba(url, argumentos);
  const codigo = await comandoLiquidaciones(entorno);
  return { codigo, salida: salida.join('\n'), errores: errores.join('\n') };
}

describe('pnpm liquidaciones ejecutar', () => {
  it('liquida lo pagable de cada modo (un pago de prueba para lo de prueba), vuelve con todo confirmado y repetir el --id no crea nada', async () => {
    const base = await crearBaseDePrueba();
    const pool = crearPoolPostgres({ url: base.url, tamano: 4, nombreAplicacion: 'test-cli-liquidaciones' });
    cierres.push(async () => {
      await pool.end();
      await base.cerrar();
    });
    const almacen = new PostgresAlmacenComisiones(pool);
    const desde = new Date(Date.now() - 48 * 3600_000);
    await almacen.guardarRegla('s', (version) => {
      const r = ReglaComision.crear({
        idSocio: 's',
        version,
        vigenteDesde: desde,
        calculo: { tipo: 'porcentaje', puntosBasicos: 500 },
        diasBloqueo: 0,
      });
      return r.ok ? r.valor : new Error('regla');
    });
    const registrar = crearManejadorRegistrarHecho({ almacen, nuevoId: uuidv7 });
    const aplicar = crearAplicadorDeHechos({ almacen });
    for (const ambito of [
      { idSocio: 's', modo: 'live' },
      { idSocio: 's', modo: 'test' },
    ] satisfies Ambito[]) {
      const ocurridoEn = new Date(Date.now() - 24 * 3600_000);
      for (const s of [
        {
          idEvento: 'e1',
          tipo: 'creada',
          idConversion: 'c1',
          idAfiliado: 'a',
          monto: { unidadesMenores: 2000, moneda: 'EUR' },
          ocurridoEn,
        },
        { idEvento: 'e2', tipo: 'aprobada', idConversion: 'c1', ocurridoEn },
      ]) {
        expect((await registrar(ambito, s, { idCorrelacion: 't' })).ok).toBe(true);
        expect((await aplicar(ambito, s.idEvento)).tipo).toBe('aplicar');
      }
    }

    const r = await ejecutar(base.url, 'ejecutar', '--id', 'corte-cli');
    expect(r.errores).toBe('');
    expect(r.codigo).toBe(0);
    expect(r.salida).toMatch(/Ejecución corte-cli \(live\): 1 liquidaciones creadas/);
    expect(r.salida).toMatch(/Ejecución corte-cli \(test\): 1 liquidaciones creadas/);
    const pagos = await pool.query<{ modo: string; monto_unidades: string; estado: string }>(
      'SELECT modo, monto_unidades::text AS monto_unidades, estado FROM pagos ORDER BY modo',
    );
    expect(pagos.rows).toEqual([
      { modo: 'live', monto_unidades: '100', estado: 'PENDIENTE' },
      { modo: 'test', monto_unidades: '100', estado: 'PENDIENTE' },
    ]);
    const otra = await ejecutar(base.url, 'ejecutar', '--id', 'corte-cli', '--json', '--modo', 'live');
    expect(otra.codigo).toBe(0);
    expect(JSON.parse(otra.salida)).toMatchObject({ modo: 'live', idEjecucion: 'corte-cli', creadas: [] });
    expect((await pool.query('SELECT 1 FROM pagos')).rowCount).toBe(2);
  });

  it('uso incorrecto: código 2 y una línea clara, sin tocar la base', async () => {
    expect((await ejecutar('postgres://nadie@127.0.0.1:1/x', 'pagar')).codigo).toBe(2);
    const r = await ejecutar('postgres://nadie@127.0.0.1:1/x', 'ejecutar', '--modo', 'real');
    expect(r).toMatchObject({ codigo: 2, errores: '--modo debe ser live, test o todos («real»)' });
    expect((await ejecutar('postgres://nadie@127.0.0.1:1/x', 'ejecutar', '--otra')).codigo).toBe(2);
  });
});
