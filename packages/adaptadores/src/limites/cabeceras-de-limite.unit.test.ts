import { describe, expect, it } from 'vitest';
import { cabecerasDeLimite, segundosEnteros } from './cabeceras-de-limite.js';
import { crearLimitadorDeRitmo, type DecisionDeLimite } from './limitador-de-ritmo.js';

function decision(parcial: Partial<DecisionDeLimite> & Pick<DecisionDeLimite, 'permitido'>): DecisionDeLimite {
  return {
    limite: { rafaga: 10, porSegundo: 5 },
    restantes: 0,
    segundosHastaLlenarse: 0,
    segundosHastaSiguiente: 0,
    ...parcial,
  };
}

describe('cabecerasDeLimite', () => {
  it('admitida: política, estado en las dos formas y sin Retry-After', () => {
    const cabeceras = cabecerasDeLimite(decision({ permitido: true, restantes: 7, segundosHastaLlenarse: 0.6 }));
    expect(cabeceras).toEqual({
      'RateLimit-Policy': '"socio";q=10;w=2',
      RateLimit: '"socio";r=7;t=1',
      'RateLimit-Limit': '10',
      'RateLimit-Remaining': '7',
      'RateLimit-Reset': '1',
    });
  });

  it('rechazada: r=0, t = Retry-After = segundos hasta la siguiente ficha, redondeados hacia arriba', () => {
    const cabeceras = cabecerasDeLimite(
      decision({ permitido: false, restantes: 0, segundosHastaLlenarse: 2, segundosHastaSiguiente: 2.2 }),
    );
    expect(cabeceras['Retry-After']).toBe('3');
    expect(cabeceras.RateLimit).toBe('"socio";r=0;t=3');
    expect(cabeceras['RateLimit-Remaining']).toBe('0');
    expect(cabeceras['RateLimit-Reset']).toBe('3');
  });

  it('Retry-After nunca es 0: esperar de menos solo trae otro 429', () => {
    const cabeceras = cabecerasDeLimite(decision({ permitido: false, segundosHastaSiguiente: 0.01 }));
    expect(cabeceras['Retry-After']).toBe('1');
  });

  it('la ventana es lo que tarda en llenarse la cubeta vacía (al menos 1 s) y q/w el ritmo sostenido', () => {
    const politica = (rafaga: number, porSegundo: number) =>
      cabecerasDeLimite(decision({ permitido: true, limite: { rafaga, porSegundo } }))['RateLimit-Policy'];
    expect(politica(100, 100)).toBe('"socio";q=100;w=1');
    expect(politica(1, 0.5)).toBe('"socio";q=1;w=2');
    expect(politica(100, 1000)).toBe('"socio";q=1000;w=1');
    expect(politica(10, 3)).toBe('"socio";q=12;w=4');
    // Sin el margen de coma flotante, 0,1 × 30 daría una ventana de 31 s.
    expect(politica(3, 0.1)).toBe('"socio";q=3;w=30');
  });

  it('el nombre de la política se puede cambiar, pero solo por un String válido de campos estructurados', () => {
    const d = decision({ permitido: true, restantes: 1 });
    expect(cabecerasDeLimite(d, { politica: 'instancia' }).RateLimit).toBe('"instancia";r=1;t=0');
    expect(() => cabecerasDeLimite(d, { politica: 'con "comillas"' })).toThrow(TypeError);
    expect(() => cabecerasDeLimite(d, { politica: '' })).toThrow(TypeError);
  });

  it('con las decisiones reales del limitador: agotar la ráfaga da el 429 con las cabeceras coherentes', () => {
    let ms = 0;
    const limitador = crearLimitadorDeRitmo({ reloj: () => ms });
    const limite = { rafaga: 2, porSegundo: 1 };
    expect(cabecerasDeLimite(limitador.consumir('a', limite))['RateLimit-Remaining']).toBe('1');
    expect(cabecerasDeLimite(limitador.consumir('a', limite))['RateLimit-Remaining']).toBe('0');
    const rechazo = cabecerasDeLimite(limitador.consumir('a', limite));
    expect(rechazo['Retry-After']).toBe('1');
    expect(rechazo['RateLimit-Policy']).toBe('"socio";q=2;w=2');
    ms += 1000;
    const otraVez = limitador.consumir('a', limite);
    expect(otraVez.permitido).toBe(true);
    expect(cabecerasDeLimite(otraVez)['Retry-After']).toBeUndefined();
  });
});

describe('segundosEnteros', () => {
  it('redondea hacia arriba sin sumar un segundo por ruido de coma flotante, y nunca es negativo', () => {
    expect(segundosEnteros(0)).toBe(0);
    expect(segundosEnteros(0.0001)).toBe(1);
    expect(segundosEnteros(0.1 * 30)).toBe(3);
    expect(segundosEnteros(2.5)).toBe(3);
    expect(segundosEnteros(-4)).toBe(0);
  });
});
