import { describe, expect, it } from 'vitest';
import { CATALOGO_PROBLEMAS, problemaDeError, type ErrorAplicacion, type TipoProblema } from './problemas.js';

const contexto = { instancia: '/pagos', idCorrelacion: 'c-1' };

/** Un caso por `tipo` de la unión de errores de la aplicación: si falta uno, `satisfies` no compila. */
const casos = {
  MonedaNoSoportada: [{ tipo: 'MonedaNoSoportada', moneda: 'GBP' }, 400, [{ campo: 'moneda', mensaje: '"GBP" no es una moneda admitida' }]],
  MontoMalFormado: [{ tipo: 'MontoMalFormado', valor: 'x' }, 400, [{ campo: 'monto', mensaje: 'no es un importe válido' }]],
  MontoNoPositivo: [{ tipo: 'MontoNoPositivo', valor: '0' }, 400, [{ campo: 'monto', mensaje: 'debe ser mayor que 0' }]],
  DemasiadosDecimales: [
    { tipo: 'DemasiadosDecimales', valor: '0.001', decimalesPermitidos: 2 },
    400,
    [{ campo: 'monto', mensaje: 'admite como máximo 2 decimales en esta moneda' }],
  ],
  MontoExcedeMaximo: [
    { tipo: 'MontoExcedeMaximo', valor: '1e20', maximo: '999999999.99' },
    400,
    [{ campo: 'monto', mensaje: 'no puede superar 999999999.99' }],
  ],
  DatoInvalido: [
    { tipo: 'DatoInvalido', campo: 'id_afiliado', motivo: 'no puede estar vacío' },
    400,
    [{ campo: 'id_afiliado', mensaje: 'no puede estar vacío' }],
  ],
  ClaveReutilizada: [
    { tipo: 'ClaveReutilizada', idPagoExistente: 'p-1', camposDistintos: ['monto'] },
    422,
    [{ campo: 'monto', mensaje: 'no coincide con el pago existente' }],
  ],
  CredencialDenegada: [{ tipo: 'CredencialDenegada', motivo: 'clave-revocada' }, 401, undefined],
  PagoNoEncontrado: [{ tipo: 'PagoNoEncontrado', idPago: 'p-1' }, 404, undefined],
  TransicionInvalida: [{ tipo: 'TransicionInvalida', idPago: 'p-1', desde: 'EXITOSO', hacia: 'PROCESANDO' }, 409, undefined],
  ResultadoEnConflicto: [{ tipo: 'ResultadoEnConflicto', idPago: 'p-1', estadoActual: 'EXITOSO', estadoPedido: 'FALLIDO' }, 409, undefined],
  ConflictoDeVersion: [{ tipo: 'ConflictoDeVersion', idPago: 'p-1', versionEsperada: 2 }, 409, undefined],
} as const satisfies { [T in ErrorAplicacion['tipo']]: readonly [Extract<ErrorAplicacion, { tipo: T }>, number, unknown] };

describe('problemaDeError: la traducción exhaustiva de errores de aplicación a problem+json', () => {
  it.each(Object.entries(casos))('%s', (_tipo, [error, estado, errores]) => {
    const problema = problemaDeError(error as ErrorAplicacion, contexto);
    expect(problema.status).toBe(estado);
    expect(problema.type).toMatch(/^urn:aeropartners:pagos:problema:[a-z-]+$/);
    expect(problema.title).toBe(CATALOGO_PROBLEMAS[tipoDe(problema.type)].title);
    expect(problema).toMatchObject({ instance: '/pagos', id_correlacion: 'c-1', detail: expect.any(String) });
    expect(problema.errores).toEqual(errores);
  });

  it('ClaveReutilizada nombra el pago existente y los campos distintos', () => {
    const problema = problemaDeError({ tipo: 'ClaveReutilizada', idPagoExistente: 'p-9', camposDistintos: ['monto', 'moneda'] }, contexto);
    expect(problema).toMatchObject({ id_pago_existente: 'p-9', campos_distintos: ['monto', 'moneda'] });
    expect(problema.detail).toContain('p-9');
  });

  it('CredencialDenegada: clave revocada o expirada es 401 con su motivo; socio suspendido, 403', () => {
    expect(problemaDeError({ tipo: 'CredencialDenegada', motivo: 'clave-expirada' }, contexto)).toMatchObject({
      status: 401,
      motivo: 'clave-expirada',
    });
    expect(problemaDeError({ tipo: 'CredencialDenegada', motivo: 'socio-suspendido' }, contexto).status).toBe(403);
  });

  it('un tipo desconocido (solo posible saltándose el compilador) lanza en vez de responder algo inventado', () => {
    expect(() => problemaDeError({ tipo: 'Inventado' } as unknown as ErrorAplicacion, contexto)).toThrow(/sin traducción/);
  });

  it('el catálogo solo usa códigos 4xx y 5xx', () => {
    for (const { status } of Object.values(CATALOGO_PROBLEMAS)) expect(status).toBeGreaterThanOrEqual(400);
  });
});

function tipoDe(uri: string): TipoProblema {
  const tipo = uri.slice(uri.lastIndexOf(':') + 1);
  if (!Object.hasOwn(CATALOGO_PROBLEMAS, tipo)) throw new Error(`tipo fuera del catálogo: ${uri}`);
  return tipo as TipoProblema;
}
