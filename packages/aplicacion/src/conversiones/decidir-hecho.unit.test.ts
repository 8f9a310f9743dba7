import { Dinero, HechoConversion, ReglaComision, type HechoConversion as Hecho } from '@aeropartners/dominio';
import { describe, expect, it } from 'vitest';
import { decidirMensaje } from '../consumidor/decidir-mensaje.js';
import { decidirHecho } from './aplicar-hecho.js';
import { huellaDeHecho } from './registrar-hecho.js';

const venta = Dinero.deUnidadesMenores(10_000, 'USD');
if (!venta.ok) throw new Error();
const regla = ReglaComision.crear({
  idSocio: 's',
  version: 1,
  vigenteDesde: new Date('2026-01-01T00:00:00Z'),
  calculo: { tipo: 'porcentaje', puntosBasicos: 1000 },
});
if (!regla.ok) throw new Error();

function hecho(datos: Partial<Parameters<typeof HechoConversion.validar>[0]> & { tipo: string; idEvento: string }): Hecho {
  const r = HechoConversion.validar({ idSocio: 's', idConversion: 'c', ocurridoEn: new Date('2026-02-01T00:00:00Z'), ...datos });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.valor;
}
const creada = hecho({ tipo: 'creada', idEvento: 'e1', idAfiliado: 'a', monto: venta.valor });
const aprobada = hecho({ tipo: 'aprobada', idEvento: 'e2' });

describe('decidirHecho', () => {
  const base = { yaAplicado: false, aplicados: [], comision: null, ajustes: [], reglas: [regla.valor] };

  it('un hecho ya aplicado es un duplicado: nada que escribir', () => {
    expect(decidirHecho({ ...base, hecho: creada, yaAplicado: true })).toEqual({ tipo: 'duplicado' });
  });

  it('la aprobación antes de la creación deja la conversión esperando, sin comisión ni asiento', () => {
    const d = decidirHecho({ ...base, hecho: aprobada });
    expect(d).toMatchObject({ tipo: 'aplicar', comision: null, asiento: null, conversion: { estado: 'ESPERANDO_CONVERSION' } });
  });

  it('la creación con la aprobación ya aplicada da la comisión APROBADA con su asiento', () => {
    const d = decidirHecho({ ...base, hecho: creada, aplicados: [aprobada] });
    expect(d).toMatchObject({ tipo: 'aplicar', comision: { unidadesMenores: 1000, estado: 'APROBADA' } });
    expect(d.tipo === 'aplicar' && d.asiento?.apuntes.length).toBeGreaterThan(0);
  });

  it('sin regla vigente no se aplica: rechazado con un motivo para el operador', () => {
    const d = decidirHecho({ ...base, hecho: creada, reglas: [] });
    expect(d).toMatchObject({ tipo: 'rechazado' });
    expect(d.tipo === 'rechazado' && d.motivo).toMatch(/no tiene regla de comisión vigente/);
  });

  it('dos creaciones distintas bloquean la conversión sin mover dinero', () => {
    const otra = hecho({ tipo: 'creada', idEvento: 'e3', idAfiliado: 'b', monto: venta.valor });
    expect(decidirHecho({ ...base, hecho: otra, aplicados: [creada] })).toMatchObject({
      tipo: 'bloqueada',
      conversion: { bloqueada: true },
    });
  });
});

describe('decidirMensaje con hechos de conversión', () => {
  const c = { tipo: 'conversion', idEvento: 'e1', idConversion: 'c' } as const;
  it('aplicado, duplicado o bloqueada → confirmar; rechazado o inexistente → mensajes muertos con el motivo', () => {
    expect(decidirMensaje({ ...c, desenlace: 'aplicado' })).toEqual({ accion: 'confirmar' });
    expect(decidirMensaje({ ...c, desenlace: 'duplicado' })).toEqual({ accion: 'confirmar' });
    expect(decidirMensaje({ ...c, desenlace: 'bloqueada' })).toEqual({ accion: 'confirmar' });
    expect(decidirMensaje({ ...c, desenlace: 'rechazado', motivo: 'sin regla' })).toEqual({ accion: 'aMuertos', motivo: 'sin regla' });
    expect(decidirMensaje({ ...c, desenlace: 'hechoInexistente' })).toMatchObject({ accion: 'aMuertos' });
  });
});

describe('huellaDeHecho', () => {
  it('el mismo contenido da la misma huella; cualquier campo distinto, otra', () => {
    expect(huellaDeHecho(creada)).toBe(huellaDeHecho(hecho({ tipo: 'creada', idEvento: 'e1', idAfiliado: 'a', monto: venta.valor })));
    const otraVenta = Dinero.deUnidadesMenores(10_001, 'USD');
    if (!otraVenta.ok) throw new Error();
    expect(huellaDeHecho(creada)).not.toBe(
      huellaDeHecho(hecho({ tipo: 'creada', idEvento: 'e1', idAfiliado: 'a', monto: otraVenta.valor })),
    );
    expect(huellaDeHecho(aprobada)).not.toBe(huellaDeHecho(hecho({ tipo: 'aprobada', idEvento: 'e2', motivo: 'x' })));
  });
});
