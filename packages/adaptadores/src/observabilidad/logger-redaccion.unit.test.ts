import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CENSURA, crearLogger, enmascararTarjetas } from './logger.js';

function destinoEnMemoria() {
  const lineas: string[] = [];
  const destino = new Writable({
    write(trozo: Buffer, _codificacion, listo) {
      for (const linea of trozo.toString('utf8').split('\n')) if (linea) lineas.push(linea);
      listo();
    },
  });
  return { lineas, destino, json: () => lineas.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const TARJETA = '4242424242424242';

describe('crearLogger: sin secretos ni tarjetas en el registro', () => {
  it('dadas cabeceras de autorización y cookies, entonces se escriben censuradas', () => {
    const { destino, json, lineas } = destinoEnMemoria();
    const logger = crearLogger({ servicio: 'prueba', destino });
    logger.info({ headers: { authorization: 'Bearer sk_live_123', cookie: 'sesion=abc', accept: 'application/json' } }, 'petición');
    logger.info({ req: { headers: { authorization: 'Basic dXNlcjpwYXNz' } } }, 'petición anidada');
    logger.info({ authorization: 'Bearer suelto' }, 'suelto');
    const [a, b, c] = json();
    expect(a?.['headers']).toEqual({ authorization: CENSURA, cookie: CENSURA, accept: 'application/json' });
    expect((b?.['req'] as { headers: unknown } | undefined)?.headers).toEqual({ authorization: CENSURA });
    expect(c?.['authorization']).toBe(CENSURA);
    expect(lineas.join('\n')).not.toMatch(/sk_live_123|dXNlcjpwYXNz|sesion=abc|Bearer suelto/);
  });

  it('dada la configuración con STRIPE_API_KEY y DATABASE_URL, entonces la clave se censura y la URL pierde su contraseña', () => {
    const { destino, json, lineas } = destinoEnMemoria();
    const logger = crearLogger({ servicio: 'prueba', destino });
    const config = { STRIPE_API_KEY: 'sk_test_secreto', DATABASE_URL: 'postgres://pagos:muy-secreta@db:5432/pagos', PORT: 8000 };
    logger.info({ config }, 'configuración');
    logger.info({ STRIPE_API_KEY: 'sk_test_secreto', url: 'postgresql://u:otra-secreta@h/db', password: 'x' }, 'plano');
    const [a, b] = json();
    expect(a?.['config']).toEqual({ STRIPE_API_KEY: CENSURA, DATABASE_URL: 'postgres://pagos:***@db:5432/pagos', PORT: 8000 });
    expect(b).toMatchObject({ STRIPE_API_KEY: CENSURA, url: 'postgresql://u:***@h/db', password: CENSURA });
    expect(lineas.join('\n')).not.toMatch(/sk_test_secreto|muy-secreta|otra-secreta/);
  });

  it('dado un número de tarjeta en un campo, en un campo anidado o en un error, entonces solo quedan sus 4 últimos dígitos', () => {
    const { destino, json, lineas } = destinoEnMemoria();
    const logger = crearLogger({ servicio: 'prueba', destino });
    logger.warn({ detalle: `tarjeta ${TARJETA} rechazada`, cuerpo: { nota: '4242 4242 4242 4242' } }, 'rechazo');
    logger.error({ err: new Error(`fallo con 4242-4242-4242-4242`) }, 'error');
    const [a, b] = json();
    expect(a?.['detalle']).toBe('tarjeta ************4242 rechazada');
    expect(a?.['cuerpo']).toEqual({ nota: '************4242' });
    expect((b?.['err'] as { message: string } | undefined)?.message).toBe('fallo con ************4242');
    expect(lineas.join('\n')).not.toMatch(/4242[ -]?4242[ -]?4242[ -]?4242/);
  });

  it('no toca identificadores, montos, fechas ni números que no pasan el control de Luhn', () => {
    const { destino, json } = destinoEnMemoria();
    const logger = crearLogger({ servicio: 'prueba', destino });
    const campos = {
      id_pago: '12345678-1234-1234-1234-123456789012',
      referencia: 'REF-1234567890123',
      monto: 4242424242424242,
      telefono: '1234567890123',
      cuando: new Date('2025-01-02T03:04:05Z'),
    };
    logger.info(campos, 'sin cambios');
    expect(json()[0]).toMatchObject({ ...campos, cuando: '2025-01-02T03:04:05.000Z' });
  });

  it('enmascararTarjetas reconoce 13 a 19 dígitos válidos y deja lo demás', () => {
    expect(enmascararTarjetas('4111111111111111')).toBe('************1111');
    expect(enmascararTarjetas('378282246310005')).toBe('***********0005');
    expect(enmascararTarjetas('4111111111111112')).toBe('4111111111111112');
    expect(enmascararTarjetas('corto 4111')).toBe('corto 4111');
  });
});
