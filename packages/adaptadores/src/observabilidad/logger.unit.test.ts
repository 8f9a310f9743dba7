import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { crearLogger, esNivelLog, NIVELES_LOG } from './logger.js';

function destinoEnMemoria() {
  const lineas: Record<string, unknown>[] = [];
  const destino = new Writable({
    write(trozo: Buffer, _codificacion, listo) {
      for (const linea of trozo.toString('utf8').split('\n')) if (linea) lineas.push(JSON.parse(linea) as Record<string, unknown>);
      listo();
    },
  });
  return { lineas, destino };
}

describe('crearLogger', () => {
  it('dada una entrada, entonces escribe una línea JSON con servicio, nivel como texto, hora ISO, campos y mensaje', () => {
    const { lineas, destino } = destinoEnMemoria();
    const logger = crearLogger({ servicio: 'prueba', destino });
    logger.info({ id_correlacion: 'abc', id_pago: 'p-1' }, 'solicitud atendida');
    expect(lineas).toHaveLength(1);
    const [linea] = lineas;
    expect(linea).toMatchObject({ servicio: 'prueba', level: 'info', id_correlacion: 'abc', id_pago: 'p-1', msg: 'solicitud atendida' });
    expect(new Date(String(linea?.['time'])).toISOString()).toBe(linea?.['time']);
    expect(linea).toMatchObject({ pid: process.pid, hostname: expect.any(String) });
  });

  it('dado un traceparent W3C, entonces la línea lleva también trace_id y span_id; uno mal formado se deja tal cual', () => {
    const { lineas, destino } = destinoEnMemoria();
    const logger = crearLogger({ servicio: 'prueba', destino });
    logger.info({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, 'con traza');
    logger.info({ traceparent: 'no-es-un-traceparent' }, 'sin traza');
    expect(lineas[0]).toMatchObject({ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' });
    expect(lineas[1]).not.toHaveProperty('trace_id');
  });

  it('dado el nivel warn, entonces descarta info y debug y escribe warn y error', () => {
    const { lineas, destino } = destinoEnMemoria();
    const logger = crearLogger({ servicio: 'prueba', nivel: 'warn', destino });
    logger.debug({}, 'no');
    logger.info({}, 'no');
    logger.warn({}, 'sí');
    logger.error({ err: new Error('fallo', { cause: new Error('causa') }) }, 'sí');
    expect(lineas.map((l) => l['level'])).toEqual(['warn', 'error']);
    expect(lineas[1]?.['err']).toMatchObject({ type: 'Error', message: expect.stringContaining('fallo'), stack: expect.any(String) });
  });

  it('dado un hijo, entonces cada línea lleva los campos del hijo', () => {
    const { lineas, destino } = destinoEnMemoria();
    crearLogger({ servicio: 'prueba', destino }).child({ id_correlacion: 'c-1' }).info({ paso: 1 }, 'hola');
    expect(lineas[0]).toMatchObject({ servicio: 'prueba', id_correlacion: 'c-1', paso: 1 });
  });

  it('esNivelLog acepta exactamente los niveles de la lista', () => {
    for (const nivel of NIVELES_LOG) expect(esNivelLog(nivel)).toBe(true);
    for (const otro of ['INFO', 'verbose', '', undefined, 3]) expect(esNivelLog(otro)).toBe(false);
  });
});
