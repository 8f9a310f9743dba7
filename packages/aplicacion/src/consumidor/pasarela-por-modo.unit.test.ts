import { Dinero, type Modo } from '@aeropartners/dominio';
import { describe, expect, it } from 'vitest';
import { PasarelaEnMemoria } from '../testing/pasarela-en-memoria.js';
import { crearPasarelaPorModo } from './pasarela-por-modo.js';

const monto = (() => {
  const d = Dinero.deUnidadesMenores(1_000, 'USD');
  if (!d.ok) throw new Error('monto');
  return d.valor;
})();

const solicitud = (idPago: string, modo: Modo) => ({
  idPago,
  modo,
  idAfiliado: 'afiliado-1',
  monto,
  referenciaPago: `REF-${idPago}`,
  claveIdempotencia: idPago,
  traza: { idCorrelacion: 'c' },
});

describe('crearPasarelaPorModo', () => {
  it('los pagos de prueba se cobran y se consultan solo en la de prueba; los reales, solo en la real', async () => {
    const real = new PasarelaEnMemoria();
    const prueba = new PasarelaEnMemoria();
    const pasarela = crearPasarelaPorModo({ real, prueba });
    await pasarela.cobrar(solicitud('p-test', 'test'));
    await pasarela.consultar({ idPago: 'p-test', modo: 'test', claveIdempotencia: 'p-test', traza: { idCorrelacion: 'c' } });
    await pasarela.cobrar(solicitud('p-live', 'live'));
    expect(real.llamadas.map((l) => l.solicitud.idPago)).toEqual(['p-live']);
    expect(real.consultas).toEqual([]);
    expect(prueba.llamadas.map((l) => l.solicitud.idPago)).toEqual(['p-test']);
    expect(prueba.consultas.map((c) => c.idPago)).toEqual(['p-test']);
  });
});
