import { crearAplicadorDeHechos, crearManejadorRegistrarHecho } from '@aeropartners/aplicacion';
import { ReglaComision } from '@aeropartners/dominio';
import { afterAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../ids/uuidv7.js';
import { crearBaseDePrueba } from '../../testing/index.js';
import { crearPoolPostgres } from '../pool-postgres.js';
import { idEjecucionPeriodica, iniciarLiquidaciones } from './iniciar-liquidaciones.js';
import { PostgresAlmacenComisiones } from './postgres-almacen-comisiones.js';

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

const silencio = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function esperar(condicion: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const limite = Date.now() + ms;
  while (!(await condicion())) {
    if (Date.now() > limite) throw new Error('tiempo agotado');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('iniciarLiquidaciones (tareas periódicas dentro del consumer)', () => {
  it('el id de la ejecución periódica es el del corte: el mismo en todo el periodo', () => {
    const hora = 3_600_000;
    expect(idEjecucionPeriodica(new Date('2026-12-05T10:59:59Z'), hora)).toBe('periodica-2026-12-05T10:00:00.000Z');
    expect(idEjecucionPeriodica(new Date('2026-12-05T10:00:00Z'), hora)).toBe('periodica-2026-12-05T10:00:00.000Z');
    expect(idEjecucionPeriodica(new Date('2026-12-05T11:00:00Z'), hora)).toBe('periodica-2026-12-05T11:00:00.000Z');
  });

  it('dos procesos a la vez: una liquidación por corte, el pago exitoso la cierra y las huérfanas se marcan', async () => {
    const base = await crearBaseDePrueba();
    const pools = [0, 1].map(() => crearPoolPostgres({ url: base.url, tamano: 4, nombreAplicacion: 'test-periodicas' }));
    cierres.push(async () => {
      await Promise.all(pools.map((p) => p.end()));
      await base.cerrar();
    });
    const [pool] = pools;
    if (!pool) throw new Error();
    const almacen = new PostgresAlmacenComisiones(pool);
    await almacen.guardarRegla('s', (version) => {
      const r = ReglaComision.crear({
        idSocio: 's',
        version,
        vigenteDesde: new Date('2026-01-01T00:00:00Z'),
        calculo: { tipo: 'porcentaje', puntosBasicos: 1000 },
        diasBloqueo: 0,
      });
      return r.ok ? r.valor : new Error('regla');
    });
    const ambito = { idSocio: 's', modo: 'live' as const };
    const registrar = crearManejadorRegistrarHecho({ almacen, nuevoId: uuidv7 });
    const aplicar = crearAplicadorDeHechos({ almacen });
    const ocurridoEn = new Date('2026-02-01T00:00:00Z');
    for (const s of [
      { idEvento: 'c', tipo: 'creada', idConversion: 'v', idAfiliado: 'a', monto: { unidadesMenores: 5000, moneda: 'USD' }, ocurridoEn },
      { idEvento: 'a', tipo: 'aprobada', idConversion: 'v', ocurridoEn },
      { idEvento: 'x', tipo: 'aprobada', idConversion: 'sin-crear', ocurridoEn },
    ]) {
      await registrar(ambito, s, { idCorrelacion: 't' });
      await aplicar(ambito, s.idEvento);
    }
    await pool.query("UPDATE conversiones SET esperando_desde = now() - interval '1 hour' WHERE id_conversion = 'sin-crear'");

    const tareas = pools.map((p) =>
      iniciarLiquidaciones({
        pool: p,
        almacen: new PostgresAlmacenComisiones(p),
        logger: silencio,
        cadaMs: 3_600_000,
        cierreMs: 50,
        esperaMaximaMs: 60_000,
      }),
    );
    try {
      await esperar(async () => (await pool.query('SELECT 1 FROM liquidaciones')).rowCount === 1);
      await esperar(
        async () =>
          (await pool.query("SELECT 1 FROM conversiones WHERE huerfana_en IS NOT NULL AND id_conversion = 'sin-crear'")).rowCount === 1,
      );
      // Muchas pasadas más de los dos procesos en el mismo corte: ninguna crea otra liquidación ni otro pago.
      await new Promise((r) => setTimeout(r, 500));
      expect((await pool.query('SELECT 1 FROM liquidaciones')).rowCount).toBe(1);
      expect((await pool.query('SELECT 1 FROM pagos')).rowCount).toBe(1);
      await pool.query("UPDATE pagos SET estado = 'EXITOSO'");
      await esperar(async () => (await pool.query("SELECT 1 FROM comisiones WHERE estado = 'PAGADA'")).rowCount === 1);
      expect((await pool.query('SELECT estado FROM liquidaciones')).rows).toEqual([{ estado: 'PAGADA' }]);
    } finally {
      await Promise.all(tareas.map((t) => t.detener()));
    }
  });
});
