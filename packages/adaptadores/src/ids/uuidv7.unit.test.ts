import { afterEach, describe, expect, it, vi } from 'vitest';
import { esUuid, instanteDeUuidv7, uuidv7 } from './uuidv7.js';

const FORMA_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('tiene la forma de RFC 9562: versión 7, variante 10xx, en minúsculas', () => {
    for (let i = 0; i < 1000; i += 1) expect(uuidv7()).toMatch(FORMA_V7);
  });

  it('lleva la marca de tiempo en milisegundos Unix en los 48 bits altos', () => {
    const antes = Date.now();
    const id = uuidv7();
    const despues = Date.now();
    const instante = instanteDeUuidv7(id).getTime();
    expect(instante).toBeGreaterThanOrEqual(antes);
    expect(instante).toBeLessThanOrEqual(despues + 1);
  });

  it('es estrictamente creciente (como texto) dentro del mismo milisegundo y sin repetidos', () => {
    const ids = Array.from({ length: 50_000 }, () => uuidv7());
    const desordenados = ids.filter((id, i) => i > 0 && !(id > ids[i - 1]!));
    expect(desordenados).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sigue creciendo con el reloj parado y cuando el reloj retrocede', () => {
    const fijo = Date.now() + 60_000;
    const reloj = vi.spyOn(Date, 'now').mockReturnValue(fijo);
    const mismoMs = Array.from({ length: 10_000 }, () => uuidv7());
    reloj.mockReturnValue(fijo - 5_000);
    const trasRetroceso = Array.from({ length: 100 }, () => uuidv7());
    const todos = [...mismoMs, ...trasRetroceso];
    expect(todos.filter((id, i) => i > 0 && !(id > todos[i - 1]!))).toEqual([]);
    // No se inventa una marca de tiempo menor que la ya emitida.
    expect(instanteDeUuidv7(trasRetroceso.at(-1)!).getTime()).toBeGreaterThanOrEqual(fijo);
  });

  it('los 32 bits finales son aleatorios', () => {
    const colas = new Set(Array.from({ length: 1000 }, () => uuidv7().slice(-8)));
    expect(colas.size).toBeGreaterThan(990);
  });

  it('esUuid reconoce la forma canónica y rechaza lo demás', () => {
    expect(esUuid(uuidv7())).toBe(true);
    expect(esUuid('0190F3A2-0000-7000-8000-000000000001')).toBe(true);
    for (const malo of ['', 'no-es-uuid', `${uuidv7()}x`, 42, null, '0190f3a2000070008000000000000001']) {
      expect(esUuid(malo)).toBe(false);
    }
  });
});
