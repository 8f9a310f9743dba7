import { describe, expect, it } from 'vitest';
import { comandoMigrar } from './comando-migrar.js';

async function ejecutar(env: Record<string, string | undefined>) {
  const salida: string[] = [];
  const errores: string[] = [];
  const codigo = await comandoMigrar({ env, escribir: (l) => salida.push(l), escribirError: (l) => errores.push(l) });
  return { codigo, salida, errores };
}

describe('comando migrar: DATABASE_URL', () => {
  it.each([
    [undefined, 'DATABASE_URL inválida: falta'],
    ['', 'DATABASE_URL inválida: falta'],
    ['no es una url', 'DATABASE_URL inválida: no es una URL válida'],
    ['mysql://u:p@localhost/db', 'DATABASE_URL inválida: protocolo «mysql» no admitido'],
    ['postgres://u:p@localhost:5432/', 'DATABASE_URL inválida: falta el nombre de la base de datos'],
  ])('%s → una línea clara y código 1', async (valor, esperado) => {
    const { codigo, salida, errores } = await ejecutar({ DATABASE_URL: valor });
    expect(codigo).toBe(1);
    expect(salida).toEqual([]);
    expect(errores).toHaveLength(1);
    expect(errores[0]).toContain(esperado);
    expect(errores[0]).not.toContain('\n');
  });

  it('un servidor inalcanzable: una línea, sin la contraseña, y código 1', async () => {
    const { codigo, errores } = await ejecutar({ DATABASE_URL: 'postgres://yo:secreta@127.0.0.1:1/pagos' });
    expect(codigo).toBe(1);
    expect(errores).toHaveLength(1);
    expect(errores[0]).toMatch(/^No se pudo migrar la base de datos: .*ECONNREFUSED.* \(postgres:\/\/yo:\*\*\*@127\.0\.0\.1:1\/pagos\)$/);
    expect(errores[0]).not.toContain('secreta');
  });
});
