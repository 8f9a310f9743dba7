import { describe, expect, it } from 'vitest';
import { BrokerEnMemoria } from './broker-en-memoria.js';

// El contrato de Broker contra este doble corre en @aeropartners/contratos (en-memoria/).

describe('BrokerEnMemoria', () => {
  const mensaje = (clave: string, secuencia: number) => ({
    clave,
    secuencia,
    cuerpo: '{}',
    propiedades: { id_evento: `e${secuencia}`, tipo: 'PagoPendiente', version: '1', id_correlacion: 'c' },
  });

  it('con duplicarEntregas encola cada mensaje aceptado dos veces y lo cuenta', async () => {
    const broker = new BrokerEnMemoria({ duplicarEntregas: true });
    const s = await broker.suscribir({ suscripcion: 's', maximoEntregas: 3, retrasoReentregaMs: 10 });
    const p = await broker.crearPublicador('relay');
    await p.publicar([mensaje('k', 1), mensaje('k', 2)]);
    await p.publicar([mensaje('k', 2)]);
    const vistos: number[] = [];
    for (let i = 0; i < 4; i++) {
      const m = (await s.recibir())!;
      vistos.push(m.secuencia);
      await s.confirmar(m);
    }
    expect(vistos).toEqual([1, 1, 2, 2]);
    expect(broker.duplicadosInyectados).toBe(2);
    expect(broker.descartadosPorDuplicado).toBe(1);
    expect(broker.publicados.map((m) => m.secuencia)).toEqual([1, 2]);
    expect(broker.pendientes('s')).toBe(0);
    await broker.cerrar();
  });

  it('un mensaje publicado antes de existir la suscripción no le llega (empieza en el último)', async () => {
    const broker = new BrokerEnMemoria();
    const p = await broker.crearPublicador('relay');
    await p.publicar([mensaje('k', 1)]);
    const s = await broker.suscribir({ suscripcion: 's', maximoEntregas: 3, retrasoReentregaMs: 10 });
    await p.publicar([mensaje('k', 2)]);
    expect((await s.recibir())?.secuencia).toBe(2);
    await broker.cerrar();
  });

  it('un rechazado bloquea su clave hasta reentregarse; las demás claves siguen', async () => {
    const broker = new BrokerEnMemoria();
    const s = await broker.suscribir({ suscripcion: 's', maximoEntregas: 3, retrasoReentregaMs: 50 });
    const p = await broker.crearPublicador('relay');
    await p.publicar([mensaje('a', 1), mensaje('a', 2), mensaje('b', 3)]);
    const primero = (await s.recibir())!;
    expect(primero.secuencia).toBe(1);
    await s.rechazar(primero);
    const orden: number[] = [];
    for (let i = 0; i < 3; i++) {
      const m = (await s.recibir())!;
      orden.push(m.secuencia);
      await s.confirmar(m);
    }
    expect(orden).toEqual([3, 1, 2]);
    await broker.cerrar();
  });
});
