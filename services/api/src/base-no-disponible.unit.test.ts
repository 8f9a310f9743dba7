import { describe, expect, it } from 'vitest';
import { motivoBaseNoDisponible } from './base-no-disponible.js';

const con = (mensaje: string, propiedades: Record<string, unknown> = {}) => Object.assign(new Error(mensaje), propiedades);

describe('motivoBaseNoDisponible', () => {
  it.each([
    ['ECONNREFUSED', con('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED', syscall: 'connect' })],
    ['ECONNRESET', con('read ECONNRESET', { code: 'ECONNRESET', syscall: 'read' })],
    ['ENOENT', con('connect ENOENT /tmp/.s.PGSQL.5432', { code: 'ENOENT', syscall: 'connect' })],
    ['57P01', con('terminating connection due to administrator command', { code: '57P01' })],
    ['57P02', con('terminating connection because of crash of another server process', { code: '57P02' })],
    ['57P03', con('the database system is starting up', { code: '57P03' })],
    ['53300', con('sorry, too many clients already', { code: '53300' })],
    ['53100', con('could not extend file: No space left on device', { code: '53100' })],
    ['08006', con('connection failure', { code: '08006' })],
    ['Connection terminated unexpectedly', new Error('Connection terminated unexpectedly')],
    ['Connection terminated due to connection timeout', new Error('Connection terminated due to connection timeout')],
    ['timeout exceeded when trying to connect', new Error('timeout exceeded when trying to connect')],
    ['Client has encountered a connection error', new Error('Client has encountered a connection error and is not queryable')],
  ])('%s → lo reconoce, también envuelto en cause a dos niveles y dentro de un AggregateError', (esperado, error) => {
    expect(motivoBaseNoDisponible(error)).toContain(esperado);
    const envuelto = new Error('No se pudo registrar el pago', { cause: new Error('lote', { cause: error }) });
    expect(motivoBaseNoDisponible(envuelto)).toContain(esperado);
    expect(motivoBaseNoDisponible(new AggregateError([new Error('otro'), error]))).toContain(esperado);
  });

  it.each([
    ['22P02 (dato)', con('invalid input syntax', { code: '22P02' })],
    ['22021 (NUL)', con('invalid byte sequence for encoding "UTF8": 0x00', { code: '22021' })],
    ['23505 (unicidad)', con('duplicate key', { code: '23505' })],
    ['40P01 (interbloqueo)', con('deadlock detected', { code: '40P01' })],
    ['42P01 (tabla que no existe)', con('relation "pagos" does not exist', { code: '42P01' })],
    ['ENOENT de un fichero', con('ENOENT: no such file or directory', { code: 'ENOENT', syscall: 'open' })],
    ['un Error sin más', new Error('boom')],
    ['algo que no es un Error', 'texto'],
    ['undefined', undefined],
  ])('%s → no es una caída', (_caso, error) => {
    expect(motivoBaseNoDisponible(error)).toBeUndefined();
    expect(motivoBaseNoDisponible(new Error('envoltorio', { cause: error }))).toBeUndefined();
  });

  it('una cadena de causas circular no lo cuelga', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(motivoBaseNoDisponible(a)).toBeUndefined();
  });
});
