import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EstadoSocio,
  MAXIMO_CLAVES_VIGENTES,
  autorizar,
  cambiarEstado,
  crearSocio,
  estadoClave,
  modoDeClave,
  planificarClaveNueva,
  validarIdSocio,
  validarLimiteRps,
  validarNombreSocio,
  type ClaveApi,
} from './socio.js';

const AHORA = new Date('2026-03-01T12:00:00.000Z');
const antes = (ms: number) => new Date(AHORA.getTime() - ms);
const despues = (ms: number) => new Date(AHORA.getTime() + ms);

function clave(id: string, cambios: Partial<ClaveApi> = {}): ClaveApi {
  return {
    id,
    idSocio: 'socio-1',
    prefijo: `ap_live_${id}`,
    modo: 'live',
    creadaEn: antes(86_400_000),
    expiraEn: null,
    revocadaEn: null,
    ...cambios,
  };
}

describe('estado de una clave', () => {
  it('vigente sin plazo ni revocación; expirada justo al llegar su plazo; revocada aunque tenga plazo futuro', () => {
    expect(estadoClave(clave('a'), AHORA)).toBe('vigente');
    expect(estadoClave(clave('a', { expiraEn: despues(1) }), AHORA)).toBe('vigente');
    expect(estadoClave(clave('a', { expiraEn: AHORA }), AHORA)).toBe('expirada');
    expect(estadoClave(clave('a', { expiraEn: antes(1) }), AHORA)).toBe('expirada');
    expect(estadoClave(clave('a', { revocadaEn: antes(1), expiraEn: despues(60_000) }), AHORA)).toBe('revocada');
    expect(estadoClave(clave('a', { revocadaEn: antes(1), expiraEn: antes(60_000) }), AHORA)).toBe('revocada');
  });
});

describe('autorizar', () => {
  const activo = { estado: EstadoSocio.ACTIVO };
  const suspendido = { estado: EstadoSocio.SUSPENDIDO };

  it('un socio activo con clave vigente (o sin clave, en el modo anónimo) opera', () => {
    expect(autorizar(activo, clave('a'), AHORA)).toEqual({ ok: true, valor: undefined });
    expect(autorizar(activo, null, AHORA)).toEqual({ ok: true, valor: undefined });
  });

  it('la clave se juzga antes que el socio: revocada o expirada aunque el socio esté suspendido', () => {
    expect(autorizar(suspendido, clave('a', { revocadaEn: antes(1) }), AHORA)).toEqual({ ok: false, error: 'clave-revocada' });
    expect(autorizar(suspendido, clave('a', { expiraEn: antes(1) }), AHORA)).toEqual({ ok: false, error: 'clave-expirada' });
    expect(autorizar(suspendido, clave('a'), AHORA)).toEqual({ ok: false, error: 'socio-suspendido' });
    expect(autorizar(suspendido, null, AHORA)).toEqual({ ok: false, error: 'socio-suspendido' });
  });
});

describe('modo de una clave', () => {
  it('ap_live_ y ap_test_ dicen el modo; cualquier otra cosa no es una clave', () => {
    expect(modoDeClave('ap_live_abc')).toBe('live');
    expect(modoDeClave('ap_test_abc')).toBe('test');
    expect(modoDeClave('sk_live_abc')).toBeNull();
    expect(modoDeClave('AP_LIVE_abc')).toBeNull();
    expect(modoDeClave('')).toBeNull();
  });
});

describe('datos de un socio', () => {
  it('id de 1 a 64 caracteres de [A-Za-z0-9._-]', () => {
    expect(validarIdSocio('soc_3kT9.alpes-1').ok).toBe(true);
    expect(validarIdSocio('x'.repeat(64)).ok).toBe(true);
    for (const malo of ['', 'x'.repeat(65), 'con espacio', 'ñandú', 'a/b']) {
      expect(validarIdSocio(malo)).toEqual({ ok: false, error: expect.objectContaining({ campo: 'id_socio' }) });
    }
  });

  it('nombre sin espacios en los extremos, no vacío, sin controles, ≤ 200', () => {
    expect(validarNombreSocio('  Alpes Viajes  ')).toEqual({ ok: true, valor: 'Alpes Viajes' });
    expect(validarNombreSocio('x'.repeat(200)).ok).toBe(true);
    for (const malo of ['', '   ', 'x'.repeat(201), 'dos\nlíneas', 'nulo\u0000']) {
      expect(validarNombreSocio(malo)).toEqual({ ok: false, error: expect.objectContaining({ campo: 'nombre' }) });
    }
  });

  it('límite de ritmo: entero de 1 a 1 000 000', () => {
    expect(validarLimiteRps(1).ok).toBe(true);
    expect(validarLimiteRps(1_000_000).ok).toBe(true);
    for (const malo of [0, -1, 1.5, 1_000_001, Number.NaN, Number.POSITIVE_INFINITY]) expect(validarLimiteRps(malo).ok).toBe(false);
  });

  it('un socio nuevo está activo, sin firma obligatoria ni límite propio salvo que se pidan', () => {
    expect(crearSocio({ id: 'socio-1', nombre: ' Alpes ' })).toEqual({
      ok: true,
      valor: { id: 'socio-1', nombre: 'Alpes', estado: 'activo', firmaObligatoria: false, limiteRps: null },
    });
    expect(crearSocio({ id: 'socio-1', nombre: 'Alpes', firmaObligatoria: true, limiteRps: 50 })).toEqual({
      ok: true,
      valor: { id: 'socio-1', nombre: 'Alpes', estado: 'activo', firmaObligatoria: true, limiteRps: 50 },
    });
    expect(crearSocio({ id: 'socio 1', nombre: 'Alpes' }).ok).toBe(false);
    expect(crearSocio({ id: 'socio-1', nombre: 'Alpes', limiteRps: 0 }).ok).toBe(false);
  });

  it('suspender y reactivar son idempotentes: repetirlo no cambia nada', () => {
    const creado = crearSocio({ id: 's', nombre: 'S' });
    if (!creado.ok) throw new Error('socio de prueba inválido');
    const suspendido = cambiarEstado(creado.valor, EstadoSocio.SUSPENDIDO);
    expect(suspendido).toEqual({ socio: { ...creado.valor, estado: 'suspendido' }, cambiado: true });
    expect(cambiarEstado(suspendido.socio, EstadoSocio.SUSPENDIDO)).toEqual({ socio: suspendido.socio, cambiado: false });
    expect(cambiarEstado(suspendido.socio, EstadoSocio.ACTIVO)).toEqual({ socio: creado.valor, cambiado: true });
  });
});

describe('emitir una clave nueva (rotación)', () => {
  it('con una vigente se emite otra y la anterior sigue valiendo; con dos vigentes, no', () => {
    expect(planificarClaveNueva('socio-1', 'live', [clave('a')], AHORA)).toEqual({ ok: true, valor: { retirar: [], expirarAnterior: [] } });
    expect(planificarClaveNueva('socio-1', 'live', [clave('a'), clave('b')], AHORA)).toEqual({
      ok: false,
      error: { tipo: 'DemasiadasClaves', idSocio: 'socio-1', modo: 'live', vigentes: ['ap_live_a', 'ap_live_b'] },
    });
  });

  it('las revocadas no cuentan; las expiradas se retiran y tampoco cuentan; las de otro modo o socio, tampoco', () => {
    const claves = [
      clave('revocada', { revocadaEn: antes(1) }),
      clave('expirada', { expiraEn: antes(1) }),
      clave('vigente'),
      clave('de-prueba', { modo: 'test', prefijo: 'ap_test_x' }),
      clave('de-otro', { idSocio: 'socio-2' }),
    ];
    expect(planificarClaveNueva('socio-1', 'live', claves, AHORA)).toEqual({
      ok: true,
      valor: { retirar: ['expirada'], expirarAnterior: [] },
    });
  });

  it('con plazo, la anterior vigente expira entonces (o antes, si ya tenía un plazo más corto)', () => {
    const plazo = despues(3_600_000);
    expect(planificarClaveNueva('socio-1', 'live', [clave('a')], AHORA, plazo)).toEqual({
      ok: true,
      valor: { retirar: [], expirarAnterior: [{ id: 'a', expiraEn: plazo }] },
    });
    const corto = despues(60_000);
    expect(planificarClaveNueva('socio-1', 'live', [clave('a', { expiraEn: corto })], AHORA, plazo)).toEqual({
      ok: true,
      valor: { retirar: [], expirarAnterior: [{ id: 'a', expiraEn: corto }] },
    });
  });

  it('un plazo sin clave anterior, o en el pasado, es un error', () => {
    expect(planificarClaveNueva('socio-1', 'live', [], AHORA, despues(1))).toEqual({
      ok: false,
      error: { tipo: 'SinClaveAnterior', idSocio: 'socio-1', modo: 'live' },
    });
    expect(planificarClaveNueva('socio-1', 'live', [clave('a')], AHORA, AHORA)).toEqual({
      ok: false,
      error: expect.objectContaining({ tipo: 'DatoInvalido', campo: 'expira_en' }),
    });
  });

  it('propiedad: emitir claves una tras otra nunca deja más de dos vigentes por socio y modo', () => {
    const paso = fc.oneof(
      fc.constant({ tipo: 'emitir' as const }),
      fc.record({ tipo: fc.constant('revocar' as const), cual: fc.nat(10) }),
      fc.record({ tipo: fc.constant('avanzar' as const), ms: fc.integer({ min: 1, max: 10_000 }) }),
      fc.record({ tipo: fc.constant('emitirConPlazo' as const), ms: fc.integer({ min: 1, max: 10_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(paso, { maxLength: 40 }), (pasos) => {
        let ahora = AHORA.getTime();
        let claves: ClaveApi[] = [];
        let n = 0;
        for (const p of pasos) {
          if (p.tipo === 'avanzar') ahora += p.ms;
          else if (p.tipo === 'revocar') {
            const elegida = claves[p.cual % Math.max(1, claves.length)];
            if (elegida) claves = claves.map((c) => (c.id === elegida.id ? { ...c, revocadaEn: new Date(ahora) } : c));
          } else {
            const plazo = p.tipo === 'emitirConPlazo' ? new Date(ahora + p.ms) : undefined;
            const plan = planificarClaveNueva('socio-1', 'live', claves, new Date(ahora), plazo);
            if (plan.ok) {
              claves = claves.map((c) => {
                const anterior = plan.valor.expirarAnterior.find((e) => e.id === c.id);
                return anterior ? { ...c, expiraEn: anterior.expiraEn } : c;
              });
              n += 1;
              claves.push(clave(`k${n}`, { creadaEn: new Date(ahora) }));
            }
          }
          const vigentes = claves.filter((c) => estadoClave(c, new Date(ahora)) === 'vigente');
          expect(vigentes.length).toBeLessThanOrEqual(MAXIMO_CLAVES_VIGENTES);
        }
      }),
    );
  });
});
