import { describe, expect, it } from 'vitest';
import { morirTrasPublicar } from './inyeccion-fallos.js';

describe('morirTrasPublicar', () => {
  it('con 0 no engancha nada; con n, mata (una vez avisado) a partir del lote n', () => {
    const avisos: object[] = [];
    const logger = { warn: (campos: object) => void avisos.push(campos) };
    expect(morirTrasPublicar(0, logger)).toBeUndefined();
    let muertes = 0;
    const gancho = morirTrasPublicar(2, logger, () => (muertes += 1));
    gancho?.([1, 2, 3], 1);
    expect(muertes).toBe(0);
    gancho?.([1, 2, 3], 2);
    expect(muertes).toBe(1);
    expect(avisos).toEqual([{ lote: 2, filas: 3 }]);
  });
});
