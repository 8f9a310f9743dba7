import { describe, expect, it } from 'vitest';
import { AutenticadorEnMemoria } from './autenticador-en-memoria.js';

const AHORA = new Date('2026-06-01T00:00:00Z');

describe('AutenticadorEnMemoria', () => {
  it('una clave vigente da su socio, su modo y (si exige firma) sus secretos; una desconocida, desconocida', async () => {
    const autenticador = new AutenticadorEnMemoria();
    autenticador.crearSocio('firmante', { firmaObligatoria: true, secretosFirma: ['whsec_a'], limiteRps: 5 });
    const clave = autenticador.emitirClave('firmante', 'test');
    expect(clave).toMatch(/^ap_test_/);
    const r = await autenticador.autenticar(clave, AHORA);
    expect(r).toMatchObject({
      tipo: 'autenticada',
      credencial: {
        modo: 'test',
        idClave: autenticador.idClave(clave),
        secretosFirma: ['whsec_a'],
        socio: { id: 'firmante', limiteRps: 5 },
      },
    });
    expect(await autenticador.autenticar('ap_live_nada', AHORA)).toEqual({ tipo: 'desconocida' });
  });

  it('las reglas del dominio: revocada pesa más que expirada, y la clave se juzga antes que el socio', async () => {
    const autenticador = new AutenticadorEnMemoria();
    const revocada = autenticador.emitirClave('a', 'live', new Date('2026-01-01T00:00:00Z'));
    autenticador.revocar(revocada);
    const expirada = autenticador.emitirClave('a', 'live', new Date('2026-01-01T00:00:00Z'));
    const vigente = autenticador.emitirClave('a');
    autenticador.suspender('a');
    expect(await autenticador.autenticar(revocada, AHORA)).toMatchObject({ tipo: 'rechazada', motivo: 'clave-revocada', idSocio: 'a' });
    expect(await autenticador.autenticar(expirada, AHORA)).toMatchObject({ tipo: 'rechazada', motivo: 'clave-expirada' });
    expect(await autenticador.autenticar(vigente, AHORA)).toMatchObject({ tipo: 'rechazada', motivo: 'socio-suspendido' });
  });

  it('el modo anónimo crea el socio si falta y da una credencial sin clave, en live', async () => {
    const autenticador = new AutenticadorEnMemoria();
    const credencial = await autenticador.socioAnonimo('semilla');
    expect(credencial).toMatchObject({ idClave: null, prefijoClave: null, modo: 'live', socio: { id: 'semilla', estado: 'activo' } });
    expect(autenticador.socios.has('semilla')).toBe(true);
  });
});
