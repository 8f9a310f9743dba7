import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dinero } from './dinero.js';
import { EstadoPago } from './estado-pago.js';
import type { EventoPago } from './eventos.js';
import {
  Pago,
  crearPago,
  iniciarProcesamiento,
  registrarExito,
  registrarFallo,
  type CambioPago,
  type Contexto,
  type DatosNuevoPago,
  type ErrorDePago,
} from './pago.js';
import type { Resultado } from './resultado.js';

// ── Utilidades ───────────────────────────────────────────────────────────────

/** Contexto determinista: la hora avanza un segundo y los ids son correlativos en cada llamada. */
function contexto(): Contexto & { avanzar(): void } {
  let instante = Date.parse('2025-01-01T00:00:00.000Z');
  let siguiente = 0;
  return {
    get ahora() {
      return new Date(instante);
    },
    avanzar() {
      instante += 1_000;
    },
    nuevoId: () => `evt-${++siguiente}`,
  };
}

function ok(resultado: Resultado<CambioPago, ErrorDePago>): CambioPago {
  if (!resultado.ok) throw new Error(`se esperaba un cambio válido y llegó ${JSON.stringify(resultado.error)}`);
  return resultado.valor;
}

function fallo(resultado: Resultado<CambioPago, ErrorDePago>): ErrorDePago {
  if (resultado.ok) throw new Error(`se esperaba un error y llegó un pago en ${resultado.valor.pago.estado}`);
  return resultado.error;
}

const monto = (() => {
  const r = Dinero.de('150.75', 'USD');
  if (!r.ok) throw new Error('monto de prueba inválido');
  return r.valor;
})();

const datos: DatosNuevoPago = {
  id: 'pago-1',
  idSocio: 'socio-1',
  idAfiliado: 'afiliado-1',
  monto,
  referenciaPago: 'ref-socio-1',
};

function pagoEn(estado: EstadoPago, ctx: Contexto = contexto()): Pago {
  let pago = ok(crearPago(datos, ctx)).pago;
  if (estado === 'PENDIENTE') return pago;
  pago = ok(iniciarProcesamiento(pago, ctx)).pago;
  if (estado === 'PROCESANDO') return pago;
  if (estado === 'EXITOSO') return ok(registrarExito(pago, 'tx-1', ctx)).pago;
  return ok(registrarFallo(pago, 'fondos insuficientes', ctx)).pago;
}

/** ¿Contiene la cadena un sustituto UTF-16 suelto (que PostgreSQL rechaza en jsonb y text)? */
function tieneSustitutoSuelto(texto: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(texto);
}

// ── Casos concretos (given / when / then) ───────────────────────────────────

describe('crearPago', () => {
  it('dados datos válidos, cuando se crea, entonces queda PENDIENTE en versión 1 y levanta PagoPendiente', () => {
    const ctx = contexto();
    const { pago, eventos } = ok(crearPago(datos, ctx));

    expect(pago).toEqual({
      id: 'pago-1',
      idSocio: 'socio-1',
      modo: 'live',
      idAfiliado: 'afiliado-1',
      monto,
      referenciaPago: 'ref-socio-1',
      estado: 'PENDIENTE',
      version: 1,
      fechaCreacion: ctx.ahora,
      fechaActualizacion: ctx.ahora,
      fechaProcesamiento: null,
      referenciaTransaccion: null,
      mensajeError: null,
    });
    expect(Object.isFrozen(pago)).toBe(true);
    expect(eventos).toEqual([
      {
        tipo: 'PagoPendiente',
        idEvento: 'evt-1',
        idPago: 'pago-1',
        version: 1,
        ocurridoEn: ctx.ahora,
        datos: {
          idSocio: 'socio-1',
          modo: 'live',
          idAfiliado: 'afiliado-1',
          unidadesMenores: 15_075,
          moneda: 'USD',
          referenciaPago: 'ref-socio-1',
        },
      },
    ]);
  });

  it('dado el modo de prueba, el pago y su PagoPendiente lo llevan; un modo que no es live ni test es DatoInvalido', () => {
    const { pago, eventos } = ok(crearPago({ ...datos, modo: 'test' }, contexto()));
    expect(pago.modo).toBe('test');
    expect(eventos[0]).toMatchObject({ tipo: 'PagoPendiente', datos: { modo: 'test' } });
    const error = fallo(crearPago({ ...datos, modo: 'sandbox' as unknown as 'test' }, contexto()));
    expect(error).toMatchObject({ tipo: 'DatoInvalido', campo: 'modo' });
  });

  it('Pago.crear es la misma regla que crearPago', () => {
    expect(Pago.crear).toBe(crearPago);
    expect(Pago.iniciarProcesamiento).toBe(iniciarProcesamiento);
    expect(Pago.registrarExito).toBe(registrarExito);
    expect(Pago.registrarFallo).toBe(registrarFallo);
  });

  it.each([
    ['id', { id: '' }],
    ['id_socio', { idSocio: '   ' }],
    ['id_afiliado', { idAfiliado: 'x'.repeat(256) }],
    ['referencia_pago', { referenciaPago: '' }],
  ] as const)('dado un %s vacío o demasiado largo, entonces DatoInvalido sobre ese campo', (campo, cambio) => {
    const error = fallo(crearPago({ ...datos, ...cambio }, contexto()));
    expect(error).toMatchObject({ tipo: 'DatoInvalido', campo });
  });

  it('dado un texto de exactamente 255 caracteres, entonces se acepta', () => {
    expect(crearPago({ ...datos, referenciaPago: 'r'.repeat(255) }, contexto()).ok).toBe(true);
  });

  it.each([
    [{ unidadesMenores: 0, moneda: 'USD' }, 'MontoNoPositivo'],
    [{ unidadesMenores: 1.5, moneda: 'USD' }, 'MontoMalFormado'],
    [{ unidadesMenores: Dinero.MAXIMO_UNIDADES_MENORES + 1, moneda: 'USD' }, 'MontoExcedeMaximo'],
    [{ unidadesMenores: 100, moneda: 'GBP' }, 'MonedaNoSoportada'],
  ] as const)('dado un monto que no salió de Dinero (%j), entonces se rechaza con %s', (montoFalso, tipo) => {
    const error = fallo(crearPago({ ...datos, monto: montoFalso as unknown as Dinero }, contexto()));
    expect(error.tipo).toBe(tipo);
  });
});

describe('iniciarProcesamiento', () => {
  it('dado un pago PENDIENTE, cuando se inicia, entonces pasa a PROCESANDO en versión 2 y levanta PagoProcesando', () => {
    const ctx = contexto();
    const pendiente = pagoEn('PENDIENTE', ctx);
    ctx.avanzar();
    const { pago, eventos } = ok(iniciarProcesamiento(pendiente, ctx));

    expect(pago.estado).toBe('PROCESANDO');
    expect(pago.version).toBe(2);
    expect(pago.fechaActualizacion).toEqual(ctx.ahora);
    expect(pago.fechaCreacion).toEqual(pendiente.fechaCreacion);
    expect(pago.fechaProcesamiento).toBeNull();
    expect(eventos).toEqual([
      { tipo: 'PagoProcesando', idEvento: 'evt-2', idPago: 'pago-1', version: 2, ocurridoEn: ctx.ahora, datos: {} },
    ]);
    // El pago original no cambia: las reglas devuelven un pago nuevo.
    expect(pendiente.estado).toBe('PENDIENTE');
    expect(pendiente.version).toBe(1);
  });

  it('dado un pago ya PROCESANDO (reentrega), entonces no cambia nada y no levanta eventos', () => {
    const procesando = pagoEn('PROCESANDO');
    const cambio = ok(iniciarProcesamiento(procesando, contexto()));
    expect(cambio.pago).toBe(procesando);
    expect(cambio.eventos).toEqual([]);
  });

  it.each(['EXITOSO', 'FALLIDO'] as const)('dado un pago %s, entonces TransicionInvalida: un pago se procesa una sola vez', (estado) => {
    expect(fallo(iniciarProcesamiento(pagoEn(estado), contexto()))).toEqual({
      tipo: 'TransicionInvalida',
      idPago: 'pago-1',
      desde: estado,
      hacia: 'PROCESANDO',
    });
  });
});

describe('registrarExito', () => {
  it('dado un pago PROCESANDO, cuando la pasarela confirma, entonces EXITOSO con la referencia y PagoExitoso', () => {
    const ctx = contexto();
    const procesando = pagoEn('PROCESANDO', ctx);
    ctx.avanzar();
    const { pago, eventos } = ok(registrarExito(procesando, 'tx-42', ctx));

    expect(pago).toMatchObject({
      estado: 'EXITOSO',
      version: 3,
      referenciaTransaccion: 'tx-42',
      mensajeError: null,
      fechaProcesamiento: ctx.ahora,
      fechaActualizacion: ctx.ahora,
    });
    expect(eventos).toEqual([
      {
        tipo: 'PagoExitoso',
        idEvento: 'evt-3',
        idPago: 'pago-1',
        version: 3,
        ocurridoEn: ctx.ahora,
        datos: { referenciaTransaccion: 'tx-42' },
      },
    ]);
  });

  it('dado un pago EXITOSO con la misma referencia (reentrega), entonces es un no-op sin eventos', () => {
    const exitoso = pagoEn('EXITOSO');
    const cambio = ok(registrarExito(exitoso, 'tx-1', contexto()));
    expect(cambio.pago).toBe(exitoso);
    expect(cambio.eventos).toEqual([]);
  });

  it('dado un pago EXITOSO con otra referencia, entonces ResultadoEnConflicto', () => {
    expect(fallo(registrarExito(pagoEn('EXITOSO'), 'tx-otra', contexto()))).toEqual({
      tipo: 'ResultadoEnConflicto',
      idPago: 'pago-1',
      estadoActual: 'EXITOSO',
      estadoPedido: 'EXITOSO',
    });
  });

  it('dado un pago FALLIDO, entonces ResultadoEnConflicto', () => {
    expect(fallo(registrarExito(pagoEn('FALLIDO'), 'tx-1', contexto()))).toMatchObject({
      tipo: 'ResultadoEnConflicto',
      estadoActual: 'FALLIDO',
      estadoPedido: 'EXITOSO',
    });
  });

  it('dado un pago PENDIENTE, entonces TransicionInvalida: no se salta PROCESANDO', () => {
    expect(fallo(registrarExito(pagoEn('PENDIENTE'), 'tx-1', contexto()))).toEqual({
      tipo: 'TransicionInvalida',
      idPago: 'pago-1',
      desde: 'PENDIENTE',
      hacia: 'EXITOSO',
    });
  });

  it.each(['', '   ', 't'.repeat(256)])('dada una referencia de transacción inválida (%j), entonces DatoInvalido', (referencia) => {
    expect(fallo(registrarExito(pagoEn('PROCESANDO'), referencia, contexto()))).toMatchObject({
      tipo: 'DatoInvalido',
      campo: 'referencia_transaccion',
    });
  });
});

describe('registrarFallo', () => {
  it('dado un pago PROCESANDO, cuando la pasarela rechaza, entonces FALLIDO con el mensaje y PagoFallido', () => {
    const ctx = contexto();
    const procesando = pagoEn('PROCESANDO', ctx);
    ctx.avanzar();
    const { pago, eventos } = ok(registrarFallo(procesando, 'fondos insuficientes', ctx));

    expect(pago).toMatchObject({
      estado: 'FALLIDO',
      version: 3,
      mensajeError: 'fondos insuficientes',
      referenciaTransaccion: null,
      fechaProcesamiento: ctx.ahora,
    });
    expect(eventos).toEqual([
      {
        tipo: 'PagoFallido',
        idEvento: 'evt-3',
        idPago: 'pago-1',
        version: 3,
        ocurridoEn: ctx.ahora,
        datos: { mensajeError: 'fondos insuficientes' },
      },
    ]);
  });

  it.each(['', '   '])('dado un mensaje vacío (%j), entonces el mensaje es "Pago rechazado"', (mensaje) => {
    expect(ok(registrarFallo(pagoEn('PROCESANDO'), mensaje, contexto())).pago.mensajeError).toBe('Pago rechazado');
  });

  it('dado un mensaje muy largo, entonces se guarda truncado a 1000 caracteres', () => {
    const { pago, eventos } = ok(registrarFallo(pagoEn('PROCESANDO'), 'x'.repeat(5_000), contexto()));
    expect(pago.mensajeError).toHaveLength(1_000);
    expect(eventos[0]).toMatchObject({ datos: { mensajeError: 'x'.repeat(1_000) } });
  });

  it('dado un mensaje largo cuyo carácter 1000 es un emoji, entonces el truncado no parte el par sustituto', () => {
    const mensaje = `${'x'.repeat(999)}💳 tarjeta rechazada`;
    const { pago } = ok(registrarFallo(pagoEn('PROCESANDO'), mensaje, contexto()));
    expect(tieneSustitutoSuelto(pago.mensajeError ?? '')).toBe(false);
    expect(pago.mensajeError).toBe('x'.repeat(999));
  });

  it('todo mensaje truncado es un prefijo bien formado del original, de a lo sumo 1000 unidades', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 400, maxLength: 1_100 }), (mensaje) => {
        fc.pre(mensaje.trim().length > 0 && !tieneSustitutoSuelto(mensaje));
        const guardado = ok(registrarFallo(pagoEn('PROCESANDO'), mensaje, contexto())).pago.mensajeError ?? '';
        expect(guardado.length).toBeLessThanOrEqual(1_000);
        expect(guardado.length).toBeGreaterThanOrEqual(Math.min(mensaje.length, 999));
        expect(mensaje.startsWith(guardado)).toBe(true);
        expect(tieneSustitutoSuelto(guardado)).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('dado un pago ya FALLIDO (reentrega), entonces es un no-op sin eventos, aunque el mensaje difiera', () => {
    const fallido = pagoEn('FALLIDO');
    for (const mensaje of ['fondos insuficientes', 'otro motivo']) {
      const cambio = ok(registrarFallo(fallido, mensaje, contexto()));
      expect(cambio.pago).toBe(fallido);
      expect(cambio.eventos).toEqual([]);
    }
  });

  it('dado un pago EXITOSO, entonces ResultadoEnConflicto', () => {
    expect(fallo(registrarFallo(pagoEn('EXITOSO'), 'tarde', contexto()))).toEqual({
      tipo: 'ResultadoEnConflicto',
      idPago: 'pago-1',
      estadoActual: 'EXITOSO',
      estadoPedido: 'FALLIDO',
    });
  });

  it('dado un pago PENDIENTE, entonces TransicionInvalida: no se salta PROCESANDO', () => {
    expect(fallo(registrarFallo(pagoEn('PENDIENTE'), 'rechazado', contexto()))).toMatchObject({
      tipo: 'TransicionInvalida',
      desde: 'PENDIENTE',
      hacia: 'FALLIDO',
    });
  });
});

// ── Propiedades de la máquina de estados ─────────────────────────────────────

type Operacion =
  | { readonly tipo: 'iniciarProcesamiento' }
  | { readonly tipo: 'registrarExito'; readonly referencia: string }
  | { readonly tipo: 'registrarFallo'; readonly mensaje: string };

/** Pocas referencias y mensajes, para que las repeticiones (reentregas) sean frecuentes. */
const operacion: fc.Arbitrary<Operacion> = fc.oneof(
  fc.constant({ tipo: 'iniciarProcesamiento' as const }),
  fc.record({
    tipo: fc.constant('registrarExito' as const),
    referencia: fc.oneof(fc.constantFrom('tx-1', 'tx-2', '', ' '), fc.string({ maxLength: 3 })),
  }),
  fc.record({
    tipo: fc.constant('registrarFallo' as const),
    mensaje: fc.oneof(fc.constantFrom('fondos insuficientes', 'tarjeta rechazada', '', ' '), fc.string({ maxLength: 3 })),
  }),
);

const operaciones = fc.array(operacion, { maxLength: 25 });

function aplicar(pago: Pago, op: Operacion, ctx: Contexto): Resultado<CambioPago, ErrorDePago> {
  switch (op.tipo) {
    case 'iniciarProcesamiento':
      return iniciarProcesamiento(pago, ctx);
    case 'registrarExito':
      return registrarExito(pago, op.referencia, ctx);
    case 'registrarFallo':
      return registrarFallo(pago, op.mensaje, ctx);
  }
}

const EVENTO_DE_ESTADO: Readonly<Record<EstadoPago, EventoPago['tipo']>> = {
  PENDIENTE: 'PagoPendiente',
  PROCESANDO: 'PagoProcesando',
  EXITOSO: 'PagoExitoso',
  FALLIDO: 'PagoFallido',
};

interface Paso {
  readonly antes: Pago;
  readonly op: Operacion;
  readonly resultado: Resultado<CambioPago, ErrorDePago>;
  /** El pago tras el paso: el nuevo si la regla lo aceptó, el mismo si lo rechazó. */
  readonly despues: Pago;
}

/** Crea un pago y le aplica la secuencia; devuelve cada paso y todos los eventos levantados en orden. */
function ejecutar(ops: readonly Operacion[]): { inicial: CambioPago; pasos: Paso[]; eventos: EventoPago[]; final: Pago } {
  const ctx = contexto();
  const inicial = ok(crearPago(datos, ctx));
  const eventos: EventoPago[] = [...inicial.eventos];
  const pasos: Paso[] = [];
  let pago = inicial.pago;
  for (const op of ops) {
    ctx.avanzar();
    const resultado = aplicar(pago, op, ctx);
    const despues = resultado.ok ? resultado.valor.pago : pago;
    if (resultado.ok) eventos.push(...resultado.valor.eventos);
    pasos.push({ antes: pago, op, resultado, despues });
    pago = despues;
  }
  return { inicial, pasos, eventos, final: pago };
}

describe('Pago: propiedades de la máquina de estados', () => {
  it('ninguna secuencia de operaciones saca a un pago de un estado final', () => {
    fc.assert(
      fc.property(operaciones, (ops) => {
        const { pasos } = ejecutar(ops);
        for (const { antes, despues, resultado } of pasos) {
          if (!EstadoPago.esFinal(antes.estado)) continue;
          expect(despues.estado).toBe(antes.estado);
          if (resultado.ok) expect(resultado.valor.eventos).toEqual([]);
        }
      }),
    );
  });

  it('ningún estado se salta: todo cambio de estado es un paso permitido por EstadoPago.puedePasar', () => {
    fc.assert(
      fc.property(operaciones, (ops) => {
        const { pasos, inicial } = ejecutar(ops);
        expect(inicial.pago.estado).toBe('PENDIENTE');
        for (const { antes, despues } of pasos) {
          if (despues.estado !== antes.estado) expect(EstadoPago.puedePasar(antes.estado, despues.estado)).toBe(true);
        }
      }),
    );
  });

  it('la versión sube exactamente 1 por evento levantado y cada evento lleva la versión nueva', () => {
    fc.assert(
      fc.property(operaciones, (ops) => {
        const { pasos, eventos, final, inicial } = ejecutar(ops);
        expect(inicial.pago.version).toBe(1);
        expect(inicial.eventos.map((e) => e.version)).toEqual([1]);
        for (const { antes, despues, resultado } of pasos) {
          const levantados = resultado.ok ? resultado.valor.eventos : [];
          expect(levantados.length).toBeLessThanOrEqual(1);
          expect(despues.version).toBe(antes.version + levantados.length);
          for (const evento of levantados) {
            expect(evento.version).toBe(despues.version);
            expect(evento.idPago).toBe(despues.id);
            expect(evento.ocurridoEn).toEqual(despues.fechaActualizacion);
            expect(evento.tipo).toBe(EVENTO_DE_ESTADO[despues.estado]);
          }
          // Un cambio de estado siempre levanta su evento, y sin cambio de estado no hay evento.
          expect(levantados.length).toBe(despues.estado === antes.estado ? 0 : 1);
        }
        // Versiones de los eventos: 1, 2, 3… sin huecos ni repeticiones; la última es la del pago.
        expect(eventos.map((e) => e.version)).toEqual(eventos.map((_, i) => i + 1));
        expect(final.version).toBe(eventos.length);
        expect(new Set(eventos.map((e) => e.idEvento)).size).toBe(eventos.length);
      }),
    );
  });

  it('el mismo evento de desenlace nunca se levanta dos veces, y hay a lo sumo un desenlace por pago', () => {
    fc.assert(
      fc.property(operaciones, (ops) => {
        const { eventos, final } = ejecutar(ops);
        const exitosos = eventos.filter((e) => e.tipo === 'PagoExitoso').length;
        const fallidos = eventos.filter((e) => e.tipo === 'PagoFallido').length;
        expect(exitosos).toBeLessThanOrEqual(1);
        expect(fallidos).toBeLessThanOrEqual(1);
        expect(exitosos + fallidos).toBeLessThanOrEqual(1);
        expect(exitosos + fallidos).toBe(EstadoPago.esFinal(final.estado) ? 1 : 0);
        expect(eventos.filter((e) => e.tipo === 'PagoPendiente')).toHaveLength(1);
        expect(eventos.filter((e) => e.tipo === 'PagoProcesando').length).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('un rechazo nunca cambia el pago, y los errores son los de la regla que se incumplió', () => {
    fc.assert(
      fc.property(operaciones, (ops) => {
        for (const { antes, despues, resultado, op } of ejecutar(ops).pasos) {
          if (resultado.ok) continue;
          expect(despues).toBe(antes);
          const tipo = resultado.error.tipo;
          if (op.tipo === 'iniciarProcesamiento') expect(tipo).toBe('TransicionInvalida');
          else expect(['TransicionInvalida', 'ResultadoEnConflicto', 'DatoInvalido']).toContain(tipo);
          if (tipo === 'TransicionInvalida') expect(EstadoPago.esFinal(antes.estado) || antes.estado === 'PENDIENTE').toBe(true);
          if (tipo === 'ResultadoEnConflicto') expect(EstadoPago.esFinal(antes.estado)).toBe(true);
        }
      }),
    );
  });

  it('los campos del desenlace son coherentes con el estado', () => {
    fc.assert(
      fc.property(operaciones, (ops) => {
        for (const { despues } of ejecutar(ops).pasos) {
          expect(Object.isFrozen(despues)).toBe(true);
          expect(despues.referenciaTransaccion !== null).toBe(despues.estado === 'EXITOSO');
          expect(despues.mensajeError !== null).toBe(despues.estado === 'FALLIDO');
          expect(despues.fechaProcesamiento !== null).toBe(EstadoPago.esFinal(despues.estado));
          if (despues.mensajeError !== null) expect(tieneSustitutoSuelto(despues.mensajeError)).toBe(false);
        }
      }),
    );
  });

  it('reaplicar el desenlace que ya tiene es un no-op sin eventos, tantas veces como llegue', () => {
    const desenlace = fc.oneof(
      fc.record({ tipo: fc.constant('registrarExito' as const), referencia: fc.string({ minLength: 1, maxLength: 20 }) }),
      fc.record({ tipo: fc.constant('registrarFallo' as const), mensaje: fc.string({ maxLength: 20 }) }),
    );
    fc.assert(
      fc.property(desenlace, fc.integer({ min: 1, max: 5 }), (op, repeticiones) => {
        fc.pre(op.tipo === 'registrarFallo' || op.referencia.trim().length > 0);
        const ctx = contexto();
        const procesando = ok(iniciarProcesamiento(ok(crearPago(datos, ctx)).pago, ctx)).pago;
        const terminado = ok(aplicar(procesando, op, ctx));
        expect(terminado.eventos).toHaveLength(1);
        for (let i = 0; i < repeticiones; i++) {
          const otra = ok(aplicar(terminado.pago, op, ctx));
          expect(otra.pago).toBe(terminado.pago);
          expect(otra.eventos).toEqual([]);
        }
        // Y volver a iniciar el procesamiento de un pago terminado no lo reabre.
        expect(fallo(iniciarProcesamiento(terminado.pago, ctx)).tipo).toBe('TransicionInvalida');
      }),
    );
  });

  it('el desenlace contrario al que ya tiene es ResultadoEnConflicto y no levanta eventos', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.string({ maxLength: 10 }), (exitoPrimero, texto) => {
        const terminado = pagoEn(exitoPrimero ? 'EXITOSO' : 'FALLIDO');
        const r = exitoPrimero ? registrarFallo(terminado, texto, contexto()) : registrarExito(terminado, `tx-${texto}`, contexto());
        expect(fallo(r).tipo).toBe('ResultadoEnConflicto');
      }),
    );
  });
});
