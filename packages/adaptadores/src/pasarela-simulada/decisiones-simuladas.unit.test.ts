import { describe, expect, it } from 'vitest';
import { desenlaceDefinitivo, esTransitorio, falloTrasEnviar, latenciaSimulada, uniforme } from './decisiones-simuladas.js';
import {
  MENSAJES_RECHAZO_SEMILLA,
  PERFIL_LOCAL,
  PERFIL_SEMILLA,
  PERFIL_SIN_LATENCIA,
  validarPerfilPasarelaSimulada,
  type PerfilPasarelaSimulada,
} from './perfiles-pasarela-simulada.js';

const claves = (n: number, prefijo = 'clave') => Array.from({ length: n }, (_, i) => `${prefijo}-${i}`);
const perfil = (cambios: Partial<PerfilPasarelaSimulada>): PerfilPasarelaSimulada => ({ ...PERFIL_LOCAL, ...cambios });

describe('uniforme', () => {
  it('es determinista y está en [0, 1)', () => {
    for (const clave of claves(1_000)) {
      const u = uniforme(7, clave, 'rechazo');
      expect(u).toBe(uniforme(7, clave, 'rechazo'));
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });

  it('cambia con la semilla, la clave, el tema y el intento; 42 y "42" son la misma semilla', () => {
    const base = uniforme(42, 'k', 'rechazo', 1);
    expect(uniforme('42', 'k', 'rechazo', 1)).toBe(base);
    for (const otro of [
      uniforme(43, 'k', 'rechazo', 1),
      uniforme(42, 'k2', 'rechazo', 1),
      uniforme(42, 'k', 'mensaje', 1),
      uniforme(42, 'k', 'rechazo', 2),
    ]) {
      expect(otro).not.toBe(base);
    }
  });

  it('no confunde campos aunque la clave contenga separadores', () => {
    expect(uniforme('a', 'b\u0000c', 't')).not.toBe(uniforme('a\u0000b', 'c', 't'));
  });

  it('se reparte de forma uniforme (10 franjas, 10 000 muestras)', () => {
    const franjas = new Array<number>(10).fill(0);
    for (const clave of claves(10_000)) franjas[Math.floor(uniforme(1, clave, 'x') * 10)]! += 1;
    for (const n of franjas) expect(n).toBeGreaterThan(850); // esperado 1 000, σ ≈ 30
  });
});

describe('latenciaSimulada', () => {
  it('0–0 ms: siempre 0', () => {
    for (const clave of claves(100)) expect(latenciaSimulada(PERFIL_SIN_LATENCIA, 1, clave, 1)).toBe(0);
  });

  it('se queda en el rango, alcanza ambos extremos y depende del intento', () => {
    const p = perfil({ latenciaMinMs: 3, latenciaMaxMs: 6 });
    const vistas = new Set<number>();
    for (const clave of claves(500)) {
      const l = latenciaSimulada(p, 1, clave, 1);
      expect(l).toBeGreaterThanOrEqual(3);
      expect(l).toBeLessThanOrEqual(6);
      expect(Number.isInteger(l)).toBe(true);
      vistas.add(l);
    }
    expect([...vistas].sort()).toEqual([3, 4, 5, 6]);
    const porIntento = new Set([1, 2, 3, 4, 5, 6].map((i) => latenciaSimulada(p, 1, 'k', i)));
    expect(porIntento.size).toBeGreaterThan(1);
  });

  it('perfil semilla: entre 2 y 8 s', () => {
    for (const clave of claves(500)) {
      const l = latenciaSimulada(PERFIL_SEMILLA, 1, clave, 1);
      expect(l).toBeGreaterThanOrEqual(2_000);
      expect(l).toBeLessThanOrEqual(8_000);
    }
  });
});

describe('esTransitorio', () => {
  it('tasa 0: nunca; tasa 1: siempre', () => {
    for (const clave of claves(200)) {
      expect(esTransitorio(perfil({ tasaTransitorio: 0 }), 1, clave, 1)).toBe(false);
      expect(esTransitorio(perfil({ tasaTransitorio: 1 }), 1, clave, 1)).toBe(true);
    }
  });

  it('un transitorio no se repite para siempre: otro intento de la misma clave vuelve a tirar el dado', () => {
    const p = perfil({ tasaTransitorio: 0.5 });
    for (const clave of claves(50)) {
      const intentos = Array.from({ length: 30 }, (_, i) => esTransitorio(p, 1, clave, i + 1));
      expect(intentos).toContain(false);
    }
  });

  it('respeta la tasa (10 000 intentos, 2 %)', () => {
    const n = claves(10_000).filter((c) => esTransitorio(PERFIL_LOCAL, 1, c, 1)).length;
    expect(n / 10_000).toBeGreaterThan(0.014); // σ ≈ 0,0014
    expect(n / 10_000).toBeLessThan(0.026);
  });
});

describe('falloTrasEnviar', () => {
  const sinFallos = { tasaEnCurso: 0, tasaSinRespuesta: 0, tasa500TrasCobro: 0 };

  it('sin tasas: nunca falla; con una tasa en 1: siempre ese fallo', () => {
    for (const clave of claves(200)) {
      expect(falloTrasEnviar(perfil(sinFallos), 1, clave, 1)).toBeUndefined();
      expect(falloTrasEnviar(perfil({ ...sinFallos, tasaEnCurso: 1 }), 1, clave, 1)).toBe('enCurso');
      expect(falloTrasEnviar(perfil({ ...sinFallos, tasaSinRespuesta: 1 }), 1, clave, 1)).toBe('sinRespuesta');
      expect(falloTrasEnviar(perfil({ ...sinFallos, tasa500TrasCobro: 1 }), 1, clave, 1)).toBe('error500');
    }
  });

  it('determinista por (semilla, clave, intento), y otro intento vuelve a tirar el dado', () => {
    const p = perfil({ tasaEnCurso: 0.2, tasaSinRespuesta: 0.2, tasa500TrasCobro: 0.2 });
    for (const clave of claves(100)) {
      expect(falloTrasEnviar(p, 7, clave, 1)).toBe(falloTrasEnviar(p, 7, clave, 1));
      expect(Array.from({ length: 30 }, (_, i) => falloTrasEnviar(p, 7, clave, i + 1))).toContain(undefined);
    }
  });

  it('reparte un solo dado: cada tasa se cumple (20 000 intentos: 4 % en curso, 5 % sin respuesta, 3 % de 500)', () => {
    const p = perfil({ tasaEnCurso: 0.04, tasaSinRespuesta: 0.05, tasa500TrasCobro: 0.03 });
    const cuenta = { enCurso: 0, sinRespuesta: 0, error500: 0 };
    for (const clave of claves(20_000)) {
      const f = falloTrasEnviar(p, 3, clave, 1);
      if (f !== undefined) cuenta[f] += 1;
    }
    // σ ≈ 0,0014 para 4 %; cotas de ±4σ.
    expect(cuenta.enCurso / 20_000).toBeGreaterThan(0.034);
    expect(cuenta.enCurso / 20_000).toBeLessThan(0.046);
    expect(cuenta.sinRespuesta / 20_000).toBeGreaterThan(0.044);
    expect(cuenta.sinRespuesta / 20_000).toBeLessThan(0.056);
    expect(cuenta.error500 / 20_000).toBeGreaterThan(0.025);
    expect(cuenta.error500 / 20_000).toBeLessThan(0.035);
  });

  it('las tres tasas sumando 1: todo intento falla de alguna de las tres maneras', () => {
    const p = perfil({ tasaEnCurso: 0.5, tasaSinRespuesta: 0.25, tasa500TrasCobro: 0.25 });
    for (const clave of claves(500)) expect(falloTrasEnviar(p, 1, clave, 1)).toBeDefined();
  });
});

describe('desenlaceDefinitivo', () => {
  it('determinista: misma semilla y clave, mismo desenlace; la referencia cambia con la semilla', () => {
    for (const clave of claves(200)) {
      expect(desenlaceDefinitivo(PERFIL_SEMILLA, 5, clave, MENSAJES_RECHAZO_SEMILLA, 'ch_sim_')).toEqual(
        desenlaceDefinitivo(PERFIL_SEMILLA, 5, clave, MENSAJES_RECHAZO_SEMILLA, 'ch_sim_'),
      );
    }
    const a = desenlaceDefinitivo(perfil({ tasaRechazo: 0 }), 5, 'k', MENSAJES_RECHAZO_SEMILLA, 'ch_sim_');
    const b = desenlaceDefinitivo(perfil({ tasaRechazo: 0 }), 6, 'k', MENSAJES_RECHAZO_SEMILLA, 'ch_sim_');
    expect(a).not.toEqual(b);
  });

  it('perfil semilla: la mitad rechazados, con los tres mensajes de la semilla', () => {
    const resultados = claves(4_000).map((c) => desenlaceDefinitivo(PERFIL_SEMILLA, 1, c, MENSAJES_RECHAZO_SEMILLA, 'ch_sim_'));
    const rechazos = resultados.flatMap((r) => (r.tipo === 'rechazado' ? [r.mensaje] : []));
    expect(rechazos.length / 4_000).toBeGreaterThan(0.46); // σ ≈ 0,008
    expect(rechazos.length / 4_000).toBeLessThan(0.54);
    expect(new Set(rechazos)).toEqual(new Set(MENSAJES_RECHAZO_SEMILLA));
  });

  it('referencias únicas entre claves, con el prefijo', () => {
    const referencias = claves(10_000).map((c) => {
      const r = desenlaceDefinitivo(perfil({ tasaRechazo: 0 }), 1, c, MENSAJES_RECHAZO_SEMILLA, 'ch_sim_');
      if (r.tipo !== 'exitoso') throw new Error('se esperaba exitoso');
      return r.referenciaTransaccion;
    });
    expect(new Set(referencias).size).toBe(10_000);
    for (const r of referencias) expect(r).toMatch(/^ch_sim_[0-9a-f]{24}$/);
  });

  it('el tipo forzado manda; el detalle sigue siendo determinista', () => {
    const p = perfil({ tasaRechazo: 0 });
    const r = desenlaceDefinitivo(p, 1, 'k', MENSAJES_RECHAZO_SEMILLA, 'ch_sim_', 'rechazado');
    expect(r.tipo).toBe('rechazado');
    expect(r).toEqual(desenlaceDefinitivo(p, 1, 'k', MENSAJES_RECHAZO_SEMILLA, 'ch_sim_', 'rechazado'));
    expect(desenlaceDefinitivo(perfil({ tasaRechazo: 1 }), 1, 'k', MENSAJES_RECHAZO_SEMILLA, 'ch_sim_', 'exitoso').tipo).toBe('exitoso');
  });
});

describe('validarPerfilPasarelaSimulada', () => {
  it('acepta los perfiles con nombre', () => {
    for (const p of [PERFIL_LOCAL, PERFIL_SEMILLA, PERFIL_SIN_LATENCIA]) expect(validarPerfilPasarelaSimulada(p)).toEqual(p);
  });

  it('el perfil local lleva un poco de los fallos (sin «en curso»); el de la semilla, ninguno; sin-latencia es el local sin latencia', () => {
    expect(PERFIL_LOCAL).toMatchObject({ tasaTransitorio: 0.02, tasaSinRespuesta: 0.01, tasa500TrasCobro: 0.005, tasaEnCurso: 0 });
    expect(PERFIL_SEMILLA).toMatchObject({ tasaTransitorio: 0, tasaSinRespuesta: 0, tasa500TrasCobro: 0, tasaEnCurso: 0 });
    expect(PERFIL_SIN_LATENCIA).toEqual({ ...PERFIL_LOCAL, latenciaMinMs: 0, latenciaMaxMs: 0 });
  });

  it.each([
    [{ latenciaMinMs: -1 }, /latenciaMinMs debe ser un entero ≥ 0/],
    [{ latenciaMaxMs: 1.5 }, /latenciaMaxMs debe ser un entero ≥ 0/],
    [{ latenciaMinMs: 30, latenciaMaxMs: 20 }, /latenciaMinMs \(30\) no puede superar a latenciaMaxMs \(20\)/],
    [{ tasaRechazo: 1.1 }, /tasaRechazo debe estar entre 0 y 1/],
    [{ tasaTransitorio: Number.NaN }, /tasaTransitorio debe estar entre 0 y 1/],
    [{ tasaSinRespuesta: 2 }, /tasaSinRespuesta debe estar entre 0 y 1/],
    [{ tasa500TrasCobro: -0.5 }, /tasa500TrasCobro debe estar entre 0 y 1/],
    [{ tasaEnCurso: Number.POSITIVE_INFINITY }, /tasaEnCurso debe estar entre 0 y 1/],
    [{ tasaEnCurso: 0.6, tasaSinRespuesta: 0.3, tasa500TrasCobro: 0.2 }, /no puede superar 1 \(suman 1\.1/],
  ])('rechaza %o', (cambios, mensaje) => {
    expect(() => validarPerfilPasarelaSimulada(perfil(cambios))).toThrow(mensaje);
  });
});
