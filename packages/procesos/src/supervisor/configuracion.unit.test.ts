import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { leerConfiguracionSupervisor, etiquetaInstancia, type ConfiguracionSupervisor } from './configuracion.js';

const RAIZ = '/repo';
function leer(entorno: Record<string, string>): ConfiguracionSupervisor {
  const lectura = leerConfiguracionSupervisor(entorno, RAIZ, true);
  if (!lectura.ok) throw new Error(lectura.mensaje);
  return lectura.config;
}
function error(entorno: Record<string, string>): string {
  const lectura = leerConfiguracionSupervisor(entorno, RAIZ, true);
  if (lectura.ok) throw new Error('se esperaba un error de configuración');
  return lectura.mensaje;
}
const puertos = (c: ConfiguracionSupervisor) => Object.fromEntries(c.servicios.map((s) => [s.nombre, s.puertos]));

describe('configuración del supervisor', () => {
  it('por defecto: una instancia de cada uno en 8000 / 8001 / 8002, PostgreSQL embebido en .data/postgres:54329', () => {
    const c = leer({});
    expect(puertos(c)).toEqual({ api: [8000], outbox: [8001], consumer: [8002] });
    expect(c.servicios.map((s) => [s.nombre, s.instancias, s.cluster, s.variablePuerto])).toEqual([
      ['api', 1, false, 'PORT'],
      ['outbox', 1, false, 'PUERTO_SALUD'],
      ['consumer', 1, false, 'PUERTO_SALUD'],
    ]);
    expect(c.postgres).toEqual({ tipo: 'embebido', directorio: path.resolve(RAIZ, '.data/postgres'), puerto: 54329, registrar: false });
    expect(c.archivoProcesos).toBe(path.resolve(RAIZ, '.data/procesos.json'));
    expect(c.colores).toBe(true);
  });

  it('varias instancias: la API en cluster sobre un solo puerto; relays y consumidores de 10 en 10', () => {
    const c = leer({ API_INSTANCIAS: '2', RELAY_INSTANCIAS: '2', CONSUMIDOR_INSTANCIAS: '3' });
    expect(puertos(c)).toEqual({ api: [8000, 8000], outbox: [8001, 8011], consumer: [8002, 8012, 8022] });
    expect(c.servicios.find((s) => s.nombre === 'api')?.cluster).toBe(true);
  });

  it('puerto 0 = libres para todas las instancias (no chocan: cada una anuncia el suyo)', () => {
    const c = leer({ PORT: '0', PUERTO_SALUD: '0', API_INSTANCIAS: '3', RELAY_INSTANCIAS: '2', CONSUMIDOR_INSTANCIAS: '3' });
    expect(puertos(c)).toEqual({ api: [0, 0, 0], outbox: [0, 0], consumer: [0, 0, 0] });
  });

  it('0 instancias = ese servicio no se arranca; valores vacíos cuentan como ausentes', () => {
    const c = leer({ CONSUMIDOR_INSTANCIAS: '0', RELAY_INSTANCIAS: ' ', PORT: '' });
    expect(puertos(c)).toEqual({ api: [8000], outbox: [8001], consumer: [] });
  });

  it('DATABASE_URL: PostgreSQL externo; otras rutas relativas a la raíz; NO_COLOR quita el color', () => {
    const c = leer({ DATABASE_URL: 'postgresql://u:p@db:5432/pagos', ARCHIVO_PROCESOS: 'tmp/p.json', NO_COLOR: '1' });
    expect(c.postgres).toEqual({ tipo: 'externo', url: 'postgresql://u:p@db:5432/pagos' });
    expect(c.archivoProcesos).toBe(path.resolve(RAIZ, 'tmp/p.json'));
    expect(c.colores).toBe(false);
    expect(leer({ PG_DATOS_EMBEBIDO: '/datos/pg', PG_PUERTO_EMBEBIDO: '6000', LOG_POSTGRES: '1' }).postgres).toEqual({
      tipo: 'embebido',
      directorio: '/datos/pg',
      puerto: 6000,
      registrar: true,
    });
  });

  it('una entrada mala es UNA línea que nombra la variable', () => {
    expect(error({ API_INSTANCIAS: 'dos' })).toBe(
      'Configuración no válida: API_INSTANCIAS debe ser un entero entre 0 y 16 (recibido "dos").',
    );
    expect(error({ RELAY_INSTANCIAS: '17' })).toContain('RELAY_INSTANCIAS debe ser un entero entre 0 y 16');
    expect(error({ CONSUMIDOR_INSTANCIAS: '-1' })).toContain('CONSUMIDOR_INSTANCIAS debe ser un entero entre 0 y 16');
    expect(error({ PORT: '70000' })).toContain('PORT debe ser un entero entre 0 y 65535');
    expect(error({ PG_PUERTO_EMBEBIDO: '0' })).toContain('PG_PUERTO_EMBEBIDO debe ser un entero entre 1 y 65535');
    expect(error({ DATABASE_URL: 'mysql://x' })).toContain('DATABASE_URL debe ser una URL postgres://');
    for (const e of [{ API_INSTANCIAS: 'dos' }, { DATABASE_URL: 'mysql://x' }] as Record<string, string>[])
      expect(error(e)).not.toContain('\n');
  });

  it('dos procesos en el mismo puerto: error que dice quiénes y cuál', () => {
    expect(error({ PUERTO_SALUD: '9000' })).toBe(
      'Configuración no válida: consumer y outbox usarían el mismo puerto 9000; cambie PORT, PUERTO_SALUD_OUTBOX, PUERTO_SALUD_CONSUMER o PG_PUERTO_EMBEBIDO.',
    );
    expect(error({ PORT: '54329' })).toContain('api y PostgreSQL embebido usarían el mismo puerto 54329');
    // outbox#2 = 8001 + 10 = 8011
    expect(error({ RELAY_INSTANCIAS: '2', PUERTO_SALUD_CONSUMER: '8011' })).toContain('consumer y outbox#2 usarían el mismo puerto 8011');
    expect(error({ RELAY_INSTANCIAS: '2', PUERTO_SALUD_OUTBOX: '65530' })).toContain(
      'PUERTO_SALUD_OUTBOX=65530 con 2 instancias llega al puerto 65540',
    );
  });

  it('etiquetas: sin número con una instancia, con número con varias', () => {
    expect(etiquetaInstancia('api', 1, 1)).toBe('api');
    expect(etiquetaInstancia('outbox', 2, 2)).toBe('outbox#2');
  });
});
