import { describe, expect, it } from 'vitest';
import { RepositorioPagosEnMemoria, idsSecuenciales, relojFijo } from '../testing/dobles.js';
import { crearManejadorRegistrarPago, type RegistrarPago } from './registrar-pago.js';

function preparar() {
  const repositorio = new RepositorioPagosEnMemoria();
  const registrarPago = crearManejadorRegistrarPago({ repositorio, reloj: relojFijo(), nuevoId: idsSecuenciales() });
  return { repositorio, registrarPago };
}

const comando = (cambios: Partial<RegistrarPago> = {}): RegistrarPago => ({
  tipo: 'RegistrarPago',
  ambito: { idSocio: 'socio-1', modo: 'live' },
  credencial: { idClave: 'clave-1' },
  idAfiliado: 'afiliado-1',
  monto: 150.75,
  moneda: 'USD',
  referenciaPago: 'ref-1',
  traza: { idCorrelacion: 'corr-1' },
  ...cambios,
});

describe('RegistrarPago', () => {
  it('dado un pago nuevo, cuando se procesa, entonces queda PENDIENTE con un PagoPendiente en el outbox', async () => {
    const { repositorio, registrarPago } = preparar();
    const r = await registrarPago(comando());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.valor.repetido).toBe(false);
    expect(r.valor.pago).toMatchObject({ estado: 'PENDIENTE', version: 1, monto: { unidadesMenores: 15075, moneda: 'USD' } });
    expect(repositorio.outbox.map((f) => f.evento.tipo)).toEqual(['PagoPendiente']);
    expect(repositorio.outbox[0]?.traza.idCorrelacion).toBe('corr-1');
  });

  it('dado un monto con más decimales de los permitidos, entonces no escribe nada', async () => {
    const { repositorio, registrarPago } = preparar();
    const r = await registrarPago(comando({ monto: 0.001 }));
    expect(r).toMatchObject({ ok: false, error: { tipo: 'DemasiadosDecimales' } });
    expect(repositorio.pagos.size).toBe(0);
    expect(repositorio.outbox).toHaveLength(0);
  });

  it('dada una moneda desconocida, entonces MonedaNoSoportada', async () => {
    const { registrarPago } = preparar();
    expect(await registrarPago(comando({ moneda: 'XYZ' }))).toMatchObject({ ok: false, error: { tipo: 'MonedaNoSoportada' } });
  });

  it('dada la misma referencia y el mismo cuerpo, entonces devuelve el original marcado como repetido', async () => {
    const { repositorio, registrarPago } = preparar();
    const primero = await registrarPago(comando());
    const segundo = await registrarPago(comando({ monto: '150.750' }));
    expect(segundo).toEqual({ ok: true, valor: { pago: primero.ok ? primero.valor.pago : null, repetido: true } });
    expect(repositorio.outbox).toHaveLength(1);
  });

  it('dada la misma clave con otro cuerpo, entonces ClaveReutilizada nombrando el pago y los campos', async () => {
    const { repositorio, registrarPago } = preparar();
    const primero = await registrarPago(comando({ claveIdempotencia: 'k-1' }));
    const otro = await registrarPago(comando({ claveIdempotencia: 'k-1', monto: 10, referenciaPago: 'ref-2' }));
    expect(otro).toEqual({
      ok: false,
      error: {
        tipo: 'ClaveReutilizada',
        idPagoExistente: primero.ok ? primero.valor.pago.id : '',
        camposDistintos: ['monto', 'referencia_pago'],
      },
    });
    expect(repositorio.pagos.size).toBe(1);
  });

  it('con Idempotency-Key, la clave es la cabecera y no la referencia', async () => {
    const { repositorio, registrarPago } = preparar();
    await registrarPago(comando({ claveIdempotencia: 'k-a' }));
    const r = await registrarPago(comando({ claveIdempotencia: 'k-b' }));
    expect(r.ok && r.valor.repetido).toBe(false);
    expect(repositorio.pagos.size).toBe(2);
  });

  it('50 peticiones concurrentes idénticas: un pago y 50 respuestas con el mismo id', async () => {
    const { repositorio, registrarPago } = preparar();
    const respuestas = await Promise.all(Array.from({ length: 50 }, () => registrarPago(comando())));
    const ids = new Set(respuestas.map((r) => (r.ok ? r.valor.pago.id : 'error')));
    expect(ids.size).toBe(1);
    expect(ids.has('error')).toBe(false);
    expect(respuestas.filter((r) => r.ok && !r.valor.repetido)).toHaveLength(1);
    expect(repositorio.pagos.size).toBe(1);
  });

  it('el mismo socio con la misma referencia en modo de prueba y en modo real: dos pagos, cada uno con su modo', async () => {
    const { repositorio, registrarPago } = preparar();
    const real = await registrarPago(comando());
    const prueba = await registrarPago(comando({ ambito: { idSocio: 'socio-1', modo: 'test' } }));
    const otroSocio = await registrarPago(comando({ ambito: { idSocio: 'socio-2', modo: 'live' } }));
    expect([real, prueba, otroSocio].map((r) => (r.ok ? [r.valor.pago.modo, r.valor.repetido] : 'error'))).toEqual([
      ['live', false],
      ['test', false],
      ['live', false],
    ]);
    expect(repositorio.pagos.size).toBe(3);
  });

  it('con la traza de la petición, el historial y el outbox llevan su idSolicitud', async () => {
    const { repositorio, registrarPago } = preparar();
    const r = await registrarPago(comando({ traza: { idCorrelacion: 'corr-1', idSolicitud: 'req_1' } }));
    if (!r.ok) throw new Error('no se registró');
    expect(repositorio.outbox[0]?.traza.idSolicitud).toBe('req_1');
    expect((await repositorio.historial({ idSocio: 'socio-1', modo: 'live' }, r.valor.pago.id))?.map((h) => h.idSolicitud)).toEqual([
      'req_1',
    ]);
  });

  it('dada una clave revocada (o un socio suspendido) al escribir, entonces CredencialDenegada y nada escrito', async () => {
    const { repositorio, registrarPago } = preparar();
    repositorio.credencialesDenegadas.set('clave-1', 'clave-revocada');
    expect(await registrarPago(comando())).toEqual({ ok: false, error: { tipo: 'CredencialDenegada', motivo: 'clave-revocada' } });
    repositorio.credencialesDenegadas.clear();
    repositorio.credencialesDenegadas.set('socio-1', 'socio-suspendido');
    expect(await registrarPago(comando({ credencial: { idClave: null } }))).toEqual({
      ok: false,
      error: { tipo: 'CredencialDenegada', motivo: 'socio-suspendido' },
    });
    expect(repositorio.pagos.size).toBe(0);
    expect(repositorio.outbox).toHaveLength(0);
  });
});
