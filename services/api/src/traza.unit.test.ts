import { describe, expect, it } from 'vitest';
import { esTipoJson } from './cuerpo.js';
import { idCorrelacionDe, leerTraceparent, traceparentDe } from './traza.js';

const VALIDO = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('leerTraceparent (W3C Trace Context)', () => {
  it('dado uno válido, entonces sus partes', () => {
    expect(leerTraceparent(VALIDO)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: '01' });
  });

  it('dada una versión futura con campos extra, entonces se lee la parte conocida', () => {
    expect(leerTraceparent(`cc${VALIDO.slice(2)}-lo-que-sea`)?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it.each([
    ['vacío', ''],
    ['basura', 'hola'],
    ['versión ff', `ff${VALIDO.slice(2)}`],
    ['versión 00 con campos extra', `${VALIDO}-extra`],
    ['versión futura pegada', `cc${VALIDO.slice(2)}x`],
    ['mayúsculas', VALIDO.toUpperCase()],
    ['trace-id nulo', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['parent-id nulo', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['trace-id corto', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
  ])('dado uno %s, entonces null', (_caso, valor) => {
    expect(leerTraceparent(valor)).toBeNull();
  });
});

describe('traceparentDe', () => {
  it('continúa la traza recibida con un tramo nuevo y las mismas banderas', () => {
    const propagado = traceparentDe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00');
    expect(propagado).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
    expect(leerTraceparent(propagado)?.parentId).not.toBe('00f067aa0ba902b7');
  });

  it.each([undefined, 'basura'])('sin uno válido (%s), empieza una traza nueva bien formada', (entrante) => {
    const a = traceparentDe(entrante);
    expect(leerTraceparent(a)).not.toBeNull();
    expect(a).not.toBe(traceparentDe(entrante));
  });
});

describe('idCorrelacionDe', () => {
  it.each(['a', 'pedido-42', 'socio:pedido.1_x', 'x'.repeat(128), '0190a0b0-0000-7000-8000-000000000000'])('acepta %s', (id) => {
    expect(idCorrelacionDe(id, () => 'nuevo')).toBe(id);
  });

  it.each([undefined, '', 'x'.repeat(129), 'con espacio', 'ñ', 'a/b', 'a"b', '{"json":1}'])('reemplaza %j por uno nuevo', (id) => {
    expect(idCorrelacionDe(id, () => 'nuevo')).toBe('nuevo');
  });
});

describe('esTipoJson', () => {
  it.each([
    'application/json',
    'Application/JSON',
    'application/json; charset=utf-8',
    'application/json;charset="UTF-8"',
    ' application/json ',
  ])('acepta %j', (tipo) => expect(esTipoJson(tipo)).toBe(true));
  it.each([
    undefined,
    '',
    'text/plain',
    'application/jsonp',
    'application/json; charset=latin1',
    'application/problem+json',
    'multipart/form-data',
  ])('rechaza %j', (tipo) => expect(esTipoJson(tipo)).toBe(false));
});
