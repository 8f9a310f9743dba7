import { Dinero, type SolicitudCobro } from '@aeropartners/dominio';
import { describe, expect, it } from 'vitest';
import { PasarelaEnMemoria } from './pasarela-en-memoria.js';

function monto(unidades: number): Dinero {
  const d = Dinero.deUnidadesMenores(unidades, 'USD');
  if (!d.ok) throw new Error('monto inválido');
  return d.valor;
}

function solicitud(cambios: Partial<SolicitudCobro> = {}): SolicitudCobro {
  return {
    idPago: 'pago-1',
    modo: 'live',
    idAfiliado: 'afiliado-1',
    monto: monto(1_000),
    referenciaPago: 'REF-1',
    claveIdempotencia: 'pago-1',
    traza: { idCorrelacion: 'corr-1' },
    ...cambios,
  };
}

describe('PasarelaEnMemoria', () => {
  it('por defecto cobra con referencias secuenciales y registra cada cargo', async () => {
    const pasarela = new PasarelaEnMemoria();
    expect(await pasarela.cobrar(solicitud())).toEqual({ tipo: 'exitoso', referenciaTransaccion: 'tr_mem_000001' });
    expect(await pasarela.cobrar(solicitud({ idPago: 'pago-2', claveIdempotencia: 'pago-2' }))).toEqual({
      tipo: 'exitoso',
      referenciaTransaccion: 'tr_mem_000002',
    });
    expect(pasarela.cargos).toEqual([
      {
        idPago: 'pago-1',
        claveIdempotencia: 'pago-1',
        referenciaTransaccion: 'tr_mem_000001',
        monto: monto(1_000),
        idCorrelacion: 'corr-1',
        intento: 1,
      },
      {
        idPago: 'pago-2',
        claveIdempotencia: 'pago-2',
        referenciaTransaccion: 'tr_mem_000002',
        monto: monto(1_000),
        idCorrelacion: 'corr-1',
        intento: 1,
      },
    ]);
  });

  it('los desenlaces programados se consumen uno por intento, en orden; luego rige el de por defecto', async () => {
    const pasarela = new PasarelaEnMemoria().programar('pago-1', 'incierto', 'incierto', 'rechazado');
    const tipos = [];
    for (let i = 0; i < 4; i += 1) tipos.push((await pasarela.cobrar(solicitud())).tipo);
    // El rechazo queda guardado con la clave: el cuarto intento lo repite.
    expect(tipos).toEqual(['incierto', 'incierto', 'rechazado', 'rechazado']);
    expect(pasarela.llamadasDe('pago-1').map((l) => l.tipo)).toEqual(['decidida', 'decidida', 'decidida', 'repetida']);
    expect(pasarela.contarCargos('pago-1')).toBe(0);
    expect(pasarela.desenlaceDe('pago-1')).toMatchObject({ tipo: 'rechazado' });
  });

  it('acepta un ResultadoPago completo y lo devuelve tal cual', async () => {
    const pasarela = new PasarelaEnMemoria().programar('pago-1', { tipo: 'rechazado', mensaje: 'Tarjeta rechazada por el banco emisor' });
    expect(await pasarela.cobrar(solicitud())).toEqual({ tipo: 'rechazado', mensaje: 'Tarjeta rechazada por el banco emisor' });
  });

  it('un Error programado se lanza, no guarda nada, y el reintento vuelve a decidir', async () => {
    const caida = new Error('la pasarela no responde');
    const pasarela = new PasarelaEnMemoria().programar('pago-1', caida);
    await expect(pasarela.cobrar(solicitud())).rejects.toBe(caida);
    expect(pasarela.desenlaceDe('pago-1')).toBeUndefined();
    expect(await pasarela.cobrar(solicitud())).toMatchObject({ tipo: 'exitoso' });
    expect(pasarela.cargos[0]?.intento).toBe(2);
    expect(pasarela.llamadas.map((l) => [l.tipo, l.error === undefined ? l.resultado?.tipo : 'error'])).toEqual([
      ['decidida', 'error'],
      ['decidida', 'exitoso'],
    ]);
  });

  it('la misma clave con otro monto o para otro pago: incierto (conflicto de clave), sin cobrar otra vez', async () => {
    const pasarela = new PasarelaEnMemoria();
    await pasarela.cobrar(solicitud());
    const otroMonto = await pasarela.cobrar(solicitud({ monto: monto(2_000) }));
    const otroPago = await pasarela.cobrar(solicitud({ idPago: 'pago-9' }));
    for (const r of [otroMonto, otroPago]) {
      expect(r).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('ya se usó con otros parámetros') });
    }
    expect(pasarela.cargos).toHaveLength(1);
    expect(pasarela.llamadas.map((l) => l.tipo)).toEqual(['decidida', 'clave-reutilizada', 'clave-reutilizada']);
  });

  it('llamadas simultáneas con la misma clave esperan al intento en curso: un solo cargo', async () => {
    const pasarela = new PasarelaEnMemoria({ espera: () => new Promise((r) => setTimeout(r, 5)) });
    const resultados = await Promise.all(Array.from({ length: 10 }, () => pasarela.cobrar(solicitud())));
    expect(new Set(resultados.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(pasarela.cargos).toHaveLength(1);
    expect(pasarela.llamadas.filter((l) => l.tipo === 'decidida')).toHaveLength(1);
    expect(pasarela.llamadas).toHaveLength(10);
  });
});
