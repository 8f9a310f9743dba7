import { Dinero, crearPago, iniciarProcesamiento, registrarExito, type CambioPago } from '@aeropartners/dominio';
import { afterAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../ids/uuidv7.js';
import { crearBaseDePrueba } from '../testing/index.js';
import { crearPersistenciaPostgres } from './persistencia-postgres.js';
import { PostgresTurnosCobro } from './postgres-turnos-cobro.js';

// Turnos de cobro contra PostgreSQL real: procesos distintos (aquí, pools e instancias distintas) que
// piden a la vez el turno del mismo pago; solo uno lo obtiene.

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

const traza = { idCorrelacion: 'corr-turnos' };
const ctx = () => ({ ahora: new Date(), nuevoId: uuidv7 });

async function preparar() {
  const base = await crearBaseDePrueba();
  const persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 4 });
  cierres.push(async () => {
    await persistencia.cerrar();
    await base.cerrar();
  });
  return persistencia;
}

async function pagoEnProcesando(p: Awaited<ReturnType<typeof preparar>>): Promise<CambioPago> {
  const monto = Dinero.deUnidadesMenores(1000, 'USD');
  if (!monto.ok) throw new Error();
  const creado = crearPago({ id: uuidv7(), idSocio: 's', idAfiliado: 'a', monto: monto.valor, referenciaPago: `r-${uuidv7()}` }, ctx());
  if (!creado.ok) throw new Error();
  await p.repositorio.crear(creado.valor, { idSocio: 's', clave: creado.valor.pago.id }, traza);
  const procesando = iniciarProcesamiento(creado.valor.pago, ctx());
  if (!procesando.ok) throw new Error();
  const r = await p.repositorio.guardar(procesando.valor, 1, traza);
  if (!r.ok) throw new Error('no se guardó');
  return procesando.valor;
}

describe('PostgresTurnosCobro', () => {
  it('20 consumidores (5 instancias × 4) piden a la vez el turno del mismo pago: exactamente uno lo toma', async () => {
    const p = await preparar();
    const { pago } = await pagoEnProcesando(p);
    const instancias = Array.from({ length: 5 }, () => new PostgresTurnosCobro(p.pool, p.repositorio));
    const pedidos = instancias.flatMap((t, i) => Array.from({ length: 4 }, (_, j) => t.tomar(pago.id, `c-${i}-${j}`, 10_000)));
    const resultados = await Promise.all(pedidos);
    expect(resultados.filter((r) => r.tomado)).toHaveLength(1);
    for (const r of resultados.filter((x) => !x.tomado)) {
      expect(r).toMatchObject({ tomado: false, motivo: 'ocupado' });
      if (!r.tomado && r.motivo === 'ocupado') expect(r.restanteMs).toBeGreaterThan(9_000);
    }
  });

  it('el titular lo renueva; otro lo toma cuando vence; soltar solo suelta el propio', async () => {
    const p = await preparar();
    const { pago } = await pagoEnProcesando(p);
    const turnos = new PostgresTurnosCobro(p.pool, p.repositorio);
    expect(await turnos.tomar(pago.id, 'a', 200)).toEqual({ tomado: true });
    expect(await turnos.tomar(pago.id, 'a', 200)).toEqual({ tomado: true });
    expect(await turnos.tomar(pago.id, 'b', 200)).toMatchObject({ tomado: false, motivo: 'ocupado' });
    await new Promise((r) => setTimeout(r, 250));
    expect(await turnos.tomar(pago.id, 'b', 10_000)).toEqual({ tomado: true });
    await turnos.soltar(pago.id, 'a');
    expect(await turnos.tomar(pago.id, 'c', 10_000)).toMatchObject({ tomado: false, motivo: 'ocupado' });
    await turnos.soltar(pago.id, 'b');
    expect(await turnos.tomar(pago.id, 'c', 10_000)).toEqual({ tomado: true });
  });

  it('sin PROCESANDO no hay turno, y el desenlace final lo suelta en la misma sentencia', async () => {
    const p = await preparar();
    const procesando = await pagoEnProcesando(p);
    const turnos = new PostgresTurnosCobro(p.pool, p.repositorio);
    expect(await turnos.tomar(uuidv7(), 'a', 1000)).toEqual({ tomado: false, motivo: 'noProcesando' });
    expect(await turnos.tomar(procesando.pago.id, 'a', 60_000)).toEqual({ tomado: true });
    const exito = registrarExito(procesando.pago, 'tr_1', ctx());
    if (!exito.ok) throw new Error();
    expect((await p.repositorio.guardar(exito.valor, procesando.pago.version, traza)).ok).toBe(true);
    const { rows } = await p.pool.query<{ turno_titular: string | null; turno_hasta: Date | null }>(
      'SELECT turno_titular, turno_hasta FROM pagos WHERE id = $1',
      [procesando.pago.id],
    );
    expect(rows[0]).toEqual({ turno_titular: null, turno_hasta: null });
    expect(await turnos.tomar(procesando.pago.id, 'b', 1000)).toEqual({ tomado: false, motivo: 'noProcesando' });
  });
});
