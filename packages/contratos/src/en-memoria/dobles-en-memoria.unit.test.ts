/**
 * Los dobles en memoria de `@aeropartners/aplicacion/testing` cumplen los mismos contratos que los
 * adaptadores reales: lo que un test de aplicación o de un servicio da por hecho de un doble, lo hace
 * también PostgreSQL, el broker embebido, Pulsar o Stripe.
 */
import { Dinero } from '@aeropartners/dominio';
import { BrokerEnMemoria, PasarelaEnMemoria, RepositorioPagosEnMemoria, idsSecuenciales } from '@aeropartners/aplicacion/testing';
import { describe, expect, it } from 'vitest';
import { probarContratoBroker } from '../contrato-broker.js';
import { probarContratoPagosAtascados } from '../contrato-pagos-atascados.js';
import { esMensajeEnEspanol, probarContratoPasarela } from '../contrato-pasarela.js';
import { probarContratoRepositorioPagos } from '../contrato-repositorio-pagos.js';
import { pagosAtascadosEnMemoriaBajoPrueba } from './pagos-atascados-bajo-prueba.js';

probarContratoRepositorioPagos('en memoria', async () => {
  const repo = new RepositorioPagosEnMemoria();
  return { repositorio: repo, consultas: repo, nuevoId: idsSecuenciales() };
});

probarContratoBroker(
  'en memoria',
  async () => {
    const broker = new BrokerEnMemoria();
    return { broker, vencerLeases: async (_s, nombre) => broker.vencerLeases(nombre) };
  },
  { leases: true },
);

probarContratoPasarela('en memoria', () => {
  const pasarela = new PasarelaEnMemoria();
  return {
    pasarela,
    contarCargos: async (idPago) => pasarela.contarCargos(idPago),
    configurar: (idPago, desenlace) => void pasarela.programar(idPago, desenlace),
  };
});

// Con una espera antes de decidir, las llamadas simultáneas se solapan de verdad.
probarContratoPasarela('en memoria, con espera', () => {
  const pasarela = new PasarelaEnMemoria({ espera: () => new Promise((r) => setTimeout(r, 2)) });
  return {
    pasarela,
    contarCargos: async (idPago) => pasarela.contarCargos(idPago),
    configurar: (idPago, desenlace) => void pasarela.programar(idPago, desenlace),
  };
});

probarContratoPagosAtascados('en memoria', async () => pagosAtascadosEnMemoriaBajoPrueba());

describe('PasarelaEnMemoria', () => {
  it('los mensajes por defecto (incierto y rechazado) están en español', async () => {
    const monto = Dinero.deUnidadesMenores(1_000, 'USD');
    if (!monto.ok) throw new Error('monto inválido');
    const solicitud = {
      idPago: 'pago-1',
      modo: 'live' as const,
      idAfiliado: 'afiliado-1',
      monto: monto.valor,
      referenciaPago: 'REF-1',
      claveIdempotencia: 'pago-1',
      traza: { idCorrelacion: 'corr-1' },
    };
    const pasarela = new PasarelaEnMemoria().programar('pago-1', 'incierto', 'rechazado');
    const incierto = await pasarela.cobrar(solicitud);
    const rechazado = await pasarela.cobrar(solicitud);
    expect([incierto.tipo, rechazado.tipo]).toEqual(['incierto', 'rechazado']);
    for (const r of [incierto, rechazado]) expect(r.tipo !== 'exitoso' && esMensajeEnEspanol(r.mensaje), JSON.stringify(r)).toBe(true);
  });
});
