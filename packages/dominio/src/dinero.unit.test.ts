import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dinero, type ErrorDinero } from './dinero.js';
import { Moneda } from './moneda.js';
import type { Resultado } from './resultado.js';

const MAXIMO = Dinero.MAXIMO_UNIDADES_MENORES;

/** Desenvuelve un resultado que el test espera correcto; si no lo es, el mensaje muestra el error. */
function valido(resultado: Resultado<Dinero, ErrorDinero>): Dinero {
  if (!resultado.ok) throw new Error(`se esperaba un Dinero válido y llegó ${JSON.stringify(resultado.error)}`);
  return resultado.valor;
}

/** El tipo del error, o `null` si el resultado es correcto. */
function tipoError(resultado: Resultado<Dinero, ErrorDinero>): ErrorDinero['tipo'] | null {
  return resultado.ok ? null : resultado.error.tipo;
}

// ── Generadores ──────────────────────────────────────────────────────────────

const moneda = fc.constantFrom(...Moneda.todas);

/** Unidades menores válidas: sesgadas a importes pequeños y también hasta el máximo exacto. */
const unidadesValidas = fc.oneof(
  fc.integer({ min: 1, max: 100_000 }),
  fc.bigInt({ min: 1n, max: BigInt(MAXIMO) }).map(Number),
  fc.constantFrom(1, 9, 10, 99, 100, 101, MAXIMO - 1, MAXIMO),
);

const dinero = fc.tuple(unidadesValidas, moneda).map(([unidades, m]) => valido(Dinero.deUnidadesMenores(unidades, m)));

/** Cadenas que no son una monto decimal estricto (`123` o `123.45`) ni siquiera tras quitar espacios. */
const cadenaMalFormada = fc
  .oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.stringMatching(/^[0-9.,eE+ _x-]{1,12}$/),
    fc.constantFrom('', ' ', '.', '1.', '.5', '1..2', '1.2.3', '1,50', '1e3', '1E-2', '+1', '0x10', 'NaN', 'Infinity', '١٢٣', '１２'),
  )
  .filter((s) => !/^\d+(?:\.\d+)?$/.test(s.trim()));

/** Textos que no son una de las monedas admitidas (incluidas claves del prototipo de Object). */
const monedaDesconocida = fc
  .oneof(
    fc.string(),
    fc.constantFrom('usd', 'Usd', 'GBP', 'JPY', 'CLP', ' USD', 'USD ', 'toString', '__proto__', 'constructor', 'hasOwnProperty'),
  )
  .filter((s) => !Moneda.esMoneda(s));

/** Quita ceros finales de la parte decimal (y el punto si queda solo): "150.70" → "150.7", "3.00" → "3". */
function sinCerosFinales(decimal: string): string {
  return decimal.includes('.') ? decimal.replace(/0+$/, '').replace(/\.$/, '') : decimal;
}

// ── Casos concretos (given / when / then) ───────────────────────────────────

describe('Dinero.de: casos exactos', () => {
  it.each([
    [150.75, 15_075],
    ['150.75', 15_075],
    [0.1, 10],
    ['0.1', 10],
    [0.01, 1],
    ['0.01', 1],
    [0.29, 29], // 0.29 * 100 === 28.999999999999996 en coma flotante
    [1.15, 115], // 1.15 * 100 === 114.99999999999999
    [19.99, 1_999],
    [100, 10_000],
    ['100', 10_000],
    ['100.5', 10_050],
    ['00150.75', 15_075],
    ['150.7500', 15_075],
    ['  42.00  ', 4_200],
    [999_999_999.99, MAXIMO],
    ['999999999.99', MAXIMO],
  ] as const)('dado %j, cuando se construye en USD, entonces son %i unidades menores', (valor, unidades) => {
    const d = valido(Dinero.de(valor, 'USD'));
    expect(d.unidadesMenores).toBe(unidades);
    expect(d.moneda).toBe('USD');
  });

  it('dado un importe válido, entonces el Dinero resultante está congelado', () => {
    const d = valido(Dinero.de('1.00', 'EUR'));
    expect(Object.isFrozen(d)).toBe(true);
  });

  it('dada una suma en coma flotante (0.1 + 0.2), entonces se rechaza en vez de redondear', () => {
    expect(0.1 + 0.2).toBe(0.30000000000000004);
    expect(tipoError(Dinero.de(0.1 + 0.2, 'USD'))).toBe('DemasiadosDecimales');
    expect(tipoError(Dinero.de(1.1 + 2.2, 'USD'))).toBe('DemasiadosDecimales');
    // La misma suma hecha en unidades menores enteras es exacta.
    const suma = valido(Dinero.de('0.1', 'USD')).unidadesMenores + valido(Dinero.de('0.2', 'USD')).unidadesMenores;
    expect(suma).toBe(30);
    expect(Dinero.formatear(valido(Dinero.deUnidadesMenores(suma, 'USD')))).toBe('0.30');
  });

  it.each([
    [15_075, 'USD', '150.75'],
    [300, 'EUR', '3.00'],
    [1, 'COP', '0.01'],
    [10, 'USD', '0.10'],
    [MAXIMO, 'USD', '999999999.99'],
  ] as const)('dadas %i unidades en %s, cuando se formatea, entonces es %s', (unidades, m, texto) => {
    expect(Dinero.formatear(valido(Dinero.deUnidadesMenores(unidades, m)))).toBe(texto);
  });

  it('dado 150.70, cuando se serializa como número JSON, entonces se escribe 150.7 y vuelve a ser 15070', () => {
    const d = valido(Dinero.de('150.70', 'USD'));
    expect(Dinero.aNumero(d)).toBe(150.7);
    expect(JSON.stringify({ monto: Dinero.aNumero(d) })).toBe('{"monto":150.7}');
    expect(valido(Dinero.de(JSON.parse('150.7') as number, 'USD')).unidadesMenores).toBe(15_070);
  });
});

describe('Dinero.de: rechazos', () => {
  it.each([0, -0, '0', '0.00', '000', '0.0000000'] as const)('dado cero (%j), entonces MontoNoPositivo', (valor) => {
    expect(tipoError(Dinero.de(valor, 'USD'))).toBe('MontoNoPositivo');
  });

  it.each([-1, -0.01, -150.75, '-1', '-0.01', ' -5', '-0'] as const)('dado un negativo (%j), entonces MontoNoPositivo', (valor) => {
    expect(tipoError(Dinero.de(valor, 'USD'))).toBe('MontoNoPositivo');
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('dado %d, entonces MontoMalFormado', (valor) => {
    expect(tipoError(Dinero.de(valor, 'USD'))).toBe('MontoMalFormado');
  });

  it.each([0.001, '0.001', 1.005, '1.005', '150.751', 1e-7, '0.0000001'] as const)(
    'dado más decimales que la moneda (%j), entonces DemasiadosDecimales con los decimales permitidos',
    (valor) => {
      const r = Dinero.de(valor, 'USD');
      expect(r).toEqual({ ok: false, error: { tipo: 'DemasiadosDecimales', valor: String(valor), decimalesPermitidos: 2 } });
    },
  );

  it.each([1e20, '100000000000000000000', 1e12, '1000000000', 1_000_000_000, Number.MAX_VALUE, 1e21])(
    'dado un monto por encima del máximo (%j), entonces MontoExcedeMaximo',
    (valor) => {
      const r = Dinero.de(valor, 'USD');
      expect(r).toEqual({ ok: false, error: { tipo: 'MontoExcedeMaximo', valor: String(valor), maximo: '999999999.99' } });
    },
  );

  it('dado el máximo más un centavo, entonces MontoExcedeMaximo (por cadena, número y unidades menores)', () => {
    expect(tipoError(Dinero.de('1000000000.00', 'USD'))).toBe('MontoExcedeMaximo');
    expect(tipoError(Dinero.de(1_000_000_000, 'USD'))).toBe('MontoExcedeMaximo');
    expect(tipoError(Dinero.deUnidadesMenores(MAXIMO + 1, 'USD'))).toBe('MontoExcedeMaximo');
    expect(tipoError(Dinero.deUnidadesMenores(1e20, 'USD'))).toBe('MontoMalFormado'); // ni siquiera es entero seguro
  });

  it.each(['', ' ', 'abc', '1,50', '1.', '.5', '1e3', '+1', '0x10', '1 000', '1.2.3', 'NaN', 'Infinity', '١٢٣'])(
    'dada la cadena mal formada %j, entonces MontoMalFormado',
    (valor) => {
      expect(tipoError(Dinero.de(valor, 'USD'))).toBe('MontoMalFormado');
    },
  );

  it('dada una cadena de más de 40 caracteres, entonces MontoMalFormado', () => {
    const texto = `1.${'0'.repeat(39)}`;
    expect(texto.length).toBe(41);
    expect(tipoError(Dinero.de(texto, 'USD'))).toBe('MontoMalFormado');
  });

  it.each([null, undefined, true, {}, [], 10n])('dado un valor que no es número ni cadena (%s), entonces MontoMalFormado', (valor) => {
    expect(tipoError(Dinero.de(valor as unknown as string, 'USD'))).toBe('MontoMalFormado');
  });

  it.each(['usd', 'GBP', '', 'toString', '__proto__', 'constructor', null, undefined, 840])(
    'dada la moneda desconocida %j, entonces MonedaNoSoportada',
    (m) => {
      expect(Dinero.de('1.00', m)).toEqual({ ok: false, error: { tipo: 'MonedaNoSoportada', moneda: String(m) } });
      expect(tipoError(Dinero.deUnidadesMenores(100, m))).toBe('MonedaNoSoportada');
    },
  );

  it.each([1.5, 0, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1])(
    'dadas unidades menores no válidas (%d), entonces deUnidadesMenores las rechaza',
    (unidades) => {
      expect(Dinero.deUnidadesMenores(unidades, 'USD').ok).toBe(false);
    },
  );
});

describe('Dinero.igual', () => {
  it('dadas dos construcciones del mismo importe, entonces son iguales; con otra moneda o importe, no', () => {
    const a = valido(Dinero.de('10.50', 'USD'));
    expect(Dinero.igual(a, valido(Dinero.de(10.5, 'USD')))).toBe(true);
    expect(Dinero.igual(a, valido(Dinero.de(10.5, 'EUR')))).toBe(false);
    expect(Dinero.igual(a, valido(Dinero.de(10.51, 'USD')))).toBe(false);
  });
});

// ── Propiedades ──────────────────────────────────────────────────────────────

describe('Dinero: propiedades', () => {
  it('formatear y de son inversas: Dinero.de(Dinero.formatear(d), m) es d', () => {
    fc.assert(
      fc.property(dinero, (d) => {
        const texto = Dinero.formatear(d);
        expect(texto).toMatch(/^(?:0|[1-9]\d*)\.\d{2}$/);
        const vuelta = valido(Dinero.de(texto, d.moneda));
        expect(Dinero.igual(vuelta, d)).toBe(true);
        expect(vuelta).toEqual(d);
      }),
    );
  });

  it('aNumero y de son inversas: Dinero.de(Dinero.aNumero(d), m) es d', () => {
    fc.assert(
      fc.property(dinero, (d) => {
        expect(valido(Dinero.de(Dinero.aNumero(d), d.moneda))).toEqual(d);
      }),
    );
  });

  it('pasar por JSON (stringify de aNumero, parse, de) conserva el importe y escribe el decimal exacto', () => {
    fc.assert(
      fc.property(dinero, (d) => {
        const json = JSON.stringify({ monto: Dinero.aNumero(d), moneda: d.moneda });
        expect(json).toBe(`{"monto":${sinCerosFinales(Dinero.formatear(d))},"moneda":"${d.moneda}"}`);
        const leido = JSON.parse(json) as { monto: number; moneda: unknown };
        expect(valido(Dinero.de(leido.monto, leido.moneda))).toEqual(d);
      }),
    );
  });

  it('deUnidadesMenores y unidadesMenores son inversas', () => {
    fc.assert(
      fc.property(dinero, (d) => {
        expect(valido(Dinero.deUnidadesMenores(d.unidadesMenores, d.moneda))).toEqual(d);
      }),
    );
  });

  it('el número n/100 que escribe un cliente da exactamente n unidades menores, sin aritmética flotante', () => {
    fc.assert(
      fc.property(unidadesValidas, moneda, (n, m) => {
        const d = valido(Dinero.de(n / 100, m));
        expect(d.unidadesMenores).toBe(n);
      }),
    );
  });

  it('una cadena entero.fracción da exactamente entero·100 + fracción (oráculo en BigInt)', () => {
    const entero = fc.oneof(fc.bigInt({ min: 0n, max: 10_000n }), fc.bigInt({ min: 0n, max: 10n ** 12n }));
    const fraccion = fc.stringMatching(/^\d{0,6}$/);
    const cerosIzquierda = fc.nat({ max: 3 });
    fc.assert(
      fc.property(entero, fraccion, cerosIzquierda, moneda, (e, f, ceros, m) => {
        const texto = '0'.repeat(ceros) + e.toString() + (f === '' ? '' : `.${f}`);
        const resultado = Dinero.de(texto, m);
        // Oráculo: valor exacto en millonésimas.
        const millonesimas = e * 1_000_000n + BigInt(f.padEnd(6, '0') || '0');
        let esperado: ErrorDinero['tipo'] | bigint;
        if (millonesimas === 0n) esperado = 'MontoNoPositivo';
        else if (millonesimas % 10_000n !== 0n) esperado = 'DemasiadosDecimales';
        else if (millonesimas / 10_000n > BigInt(MAXIMO)) esperado = 'MontoExcedeMaximo';
        else esperado = millonesimas / 10_000n;

        if (typeof esperado === 'bigint') {
          const d = valido(resultado);
          expect(Number.isSafeInteger(d.unidadesMenores)).toBe(true);
          expect(BigInt(d.unidadesMenores)).toBe(esperado);
        } else {
          expect(tipoError(resultado)).toBe(esperado);
        }
      }),
    );
  });

  it('añadir ceros a la derecha de la parte decimal no cambia el importe', () => {
    fc.assert(
      fc.property(dinero, fc.integer({ min: 1, max: 20 }), (d, ceros) => {
        const texto = Dinero.formatear(d) + '0'.repeat(ceros);
        fc.pre(texto.length <= 40);
        expect(valido(Dinero.de(texto, d.moneda))).toEqual(d);
      }),
    );
  });

  it('cualquier número finito que se acepte vale exactamente lo que el cliente escribió', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), moneda, (x, m) => {
        const r = Dinero.de(x, m);
        if (r.ok) {
          expect(Number.isSafeInteger(r.valor.unidadesMenores)).toBe(true);
          expect(r.valor.unidadesMenores).toBeGreaterThan(0);
          expect(r.valor.unidadesMenores).toBeLessThanOrEqual(MAXIMO);
          expect(Dinero.aNumero(r.valor)).toBe(x);
        } else {
          expect(['MontoNoPositivo', 'MontoMalFormado', 'DemasiadosDecimales', 'MontoExcedeMaximo']).toContain(r.error.tipo);
        }
      }),
    );
  });

  it('todo Dinero construido tiene unidades menores enteras seguras, positivas y acotadas (número o cadena)', () => {
    const entrada = fc.oneof(fc.double(), fc.string(), fc.stringMatching(/^\s?-?\d{0,14}(?:\.\d{0,4})?\s?$/));
    fc.assert(
      fc.property(entrada, moneda, (valor, m) => {
        const r = Dinero.de(valor, m);
        if (!r.ok) return;
        expect(Number.isSafeInteger(r.valor.unidadesMenores)).toBe(true);
        expect(r.valor.unidadesMenores).toBeGreaterThanOrEqual(1);
        expect(r.valor.unidadesMenores).toBeLessThanOrEqual(MAXIMO);
        expect(r.valor.moneda).toBe(m);
      }),
    );
  });

  it('cero y negativos se rechazan siempre como MontoNoPositivo', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ max: 0, noNaN: true }), fc.constant(-0)), moneda, (x, m) => {
        fc.pre(Number.isFinite(x));
        expect(tipoError(Dinero.de(x, m))).toBe('MontoNoPositivo');
      }),
    );
    fc.assert(
      fc.property(dinero, (d) => {
        expect(tipoError(Dinero.de(`-${Dinero.formatear(d)}`, d.moneda))).toBe('MontoNoPositivo');
        expect(tipoError(Dinero.de(-Dinero.aNumero(d), d.moneda))).toBe('MontoNoPositivo');
        expect(tipoError(Dinero.deUnidadesMenores(-d.unidadesMenores, d.moneda))).toBe('MontoNoPositivo');
      }),
    );
  });

  it('un decimal de más distinto de cero se rechaza siempre como DemasiadosDecimales', () => {
    fc.assert(
      fc.property(dinero, fc.integer({ min: 1, max: 9 }), (d, digito) => {
        expect(tipoError(Dinero.de(`${Dinero.formatear(d)}${digito}`, d.moneda))).toBe('DemasiadosDecimales');
      }),
    );
  });

  it('todo importe por encima del máximo se rechaza como MontoExcedeMaximo', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: BigInt(MAXIMO) + 1n, max: 10n ** 30n }), moneda, (unidades, m) => {
        const texto = `${unidades / 100n}.${(unidades % 100n).toString().padStart(2, '0')}`;
        expect(tipoError(Dinero.de(texto, m))).toBe('MontoExcedeMaximo');
        // Como número JSON solo mientras n/100 tenga a lo sumo 15 cifras (exacto en coma flotante).
        if (unidades < 10n ** 15n) expect(tipoError(Dinero.de(Number(unidades) / 100, m))).toBe('MontoExcedeMaximo');
        if (unidades <= BigInt(Number.MAX_SAFE_INTEGER)) {
          expect(tipoError(Dinero.deUnidadesMenores(Number(unidades), m))).toBe('MontoExcedeMaximo');
        }
      }),
    );
  });

  it('toda cadena mal formada se rechaza (nunca se adivina un importe)', () => {
    fc.assert(
      fc.property(cadenaMalFormada, moneda, (texto, m) => {
        const tipo = tipoError(Dinero.de(texto, m));
        // Una cadena que empieza por '-' se informa como no positiva; el resto, como mal formada.
        expect(tipo).toBe(texto.trim().startsWith('-') ? 'MontoNoPositivo' : 'MontoMalFormado');
      }),
    );
  });

  it('toda moneda desconocida se rechaza antes de mirar el importe', () => {
    fc.assert(
      fc.property(monedaDesconocida, fc.oneof(fc.double(), fc.string()), (m, valor) => {
        expect(Dinero.de(valor, m)).toEqual({ ok: false, error: { tipo: 'MonedaNoSoportada', moneda: m } });
      }),
    );
  });

  it('igual es reflexiva y distingue la moneda', () => {
    fc.assert(
      fc.property(dinero, moneda, (d, otra) => {
        expect(Dinero.igual(d, { ...d })).toBe(true);
        expect(Dinero.igual(d, { ...d, moneda: otra })).toBe(otra === d.moneda);
      }),
    );
  });
});
