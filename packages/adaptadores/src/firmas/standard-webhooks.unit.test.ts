import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type DatosVerificacion,
  firmarStandardWebhooks,
  generarSecretoFirma,
  type MotivoFirmaRechazada,
  verificarStandardWebhooks,
} from './standard-webhooks.js';

// El paquete oficial `standardwebhooks` es el firmante y verificador independiente de estos tests.

const AHORA = 1_767_225_600; // 2026-01-01T00:00:00Z
const CUERPO = '{"referencia_pago":"ref-1","importe":{"cantidad":1250,"moneda":"EUR"}}';

function secretoAleatorio(bytes = 32): string {
  return `whsec_${randomBytes(bytes).toString('base64')}`;
}

/** Lo que firma el paquete oficial (su `sign` toma un `Date`). */
function firmaOficial(secreto: string, id: string, segundos: number, cuerpo: string | Uint8Array): string {
  return new Webhook(secreto).sign(id, new Date(segundos * 1000), cuerpo);
}

/** ¿Acepta el paquete oficial el mensaje con el reloj en `ahora`? (su `verify` lee `Date.now()`). */
function aceptaOficial(secreto: string, cabeceras: Record<string, string>, cuerpo: string | Uint8Array, ahora: number): boolean {
  vi.useFakeTimers({ toFake: ['Date'], now: ahora * 1000 });
  try {
    new Webhook(secreto).verify(cuerpo, cabeceras, { jsonParse: false });
    return true;
  } catch {
    return false;
  } finally {
    vi.useRealTimers();
  }
}

function verificar(parcial: Partial<DatosVerificacion> & Pick<DatosVerificacion, 'secretos' | 'cabeceras'>) {
  return verificarStandardWebhooks({ cuerpo: CUERPO, ahoraSegundos: AHORA, ...parcial });
}

function motivo(resultado: ReturnType<typeof verificarStandardWebhooks>): MotivoFirmaRechazada | 'ok' {
  return resultado.ok ? 'ok' : resultado.motivo;
}

describe('generarSecretoFirma', () => {
  it('es whsec_ + base64 de 32 bytes aleatorios, distinto cada vez, y lo acepta el paquete oficial', () => {
    const secretos = Array.from({ length: 200 }, () => generarSecretoFirma());
    for (const secreto of secretos) {
      expect(secreto).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(secreto.slice('whsec_'.length), 'base64')).toHaveLength(32);
    }
    expect(new Set(secretos).size).toBe(secretos.length);
    const secreto = secretos[0]!;
    const firma = firmarStandardWebhooks({ secreto, id: 'msg_1', marcaTiempoSegundos: AHORA, cuerpo: CUERPO });
    expect(firma).toBe(firmaOficial(secreto, 'msg_1', AHORA, CUERPO));
  });
});

describe('firmarStandardWebhooks', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('produce exactamente la firma del paquete oficial, con el cuerpo como texto o como bytes', () => {
    const secreto = secretoAleatorio();
    const firma = firmarStandardWebhooks({ secreto, id: 'evt_01', marcaTiempoSegundos: AHORA, cuerpo: CUERPO });
    expect(firma).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(firma).toBe(firmaOficial(secreto, 'evt_01', AHORA, CUERPO));
    expect(firmarStandardWebhooks({ secreto, id: 'evt_01', marcaTiempoSegundos: AHORA, cuerpo: Buffer.from(CUERPO) })).toBe(firma);
  });

  it('lo que firmamos lo verifica el paquete oficial (la dirección de los webhooks salientes)', () => {
    const secreto = generarSecretoFirma();
    const firma = firmarStandardWebhooks({ secreto, id: 'evt_02', marcaTiempoSegundos: AHORA, cuerpo: CUERPO });
    const cabeceras = { 'webhook-id': 'evt_02', 'webhook-timestamp': String(AHORA), 'webhook-signature': firma };
    expect(aceptaOficial(secreto, cabeceras, CUERPO, AHORA)).toBe(true);
    expect(aceptaOficial(secreto, cabeceras, `${CUERPO} `, AHORA)).toBe(false);
  });

  it('coincide con el paquete oficial para cuerpos, ids y marcas de tiempo cualesquiera (propiedad)', () => {
    const secreto = secretoAleatorio(48);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
        fc.integer({ min: 0, max: 4_102_444_800 }),
        (cuerpo, id, segundos) => {
          expect(firmarStandardWebhooks({ secreto, id, marcaTiempoSegundos: segundos, cuerpo })).toBe(
            firmaOficial(secreto, id, segundos, cuerpo),
          );
        },
      ),
    );
  });

  it('rechaza secretos, ids y marcas de tiempo que no sirven (son datos nuestros: lanza)', () => {
    const base = { secreto: secretoAleatorio(), id: 'evt_03', marcaTiempoSegundos: AHORA, cuerpo: CUERPO };
    expect(() => firmarStandardWebhooks({ ...base, secreto: randomBytes(32).toString('base64') })).toThrow(/whsec_/);
    expect(() => firmarStandardWebhooks({ ...base, secreto: 'whsec_no es base64!' })).toThrow(/base64/);
    expect(() => firmarStandardWebhooks({ ...base, secreto: secretoAleatorio(16) })).toThrow(/16 bytes/);
    expect(() => firmarStandardWebhooks({ ...base, id: 'evt.03' })).toThrow(TypeError);
    expect(() => firmarStandardWebhooks({ ...base, id: '' })).toThrow(TypeError);
    expect(() => firmarStandardWebhooks({ ...base, marcaTiempoSegundos: AHORA + 0.5 })).toThrow(RangeError);
    expect(() => firmarStandardWebhooks({ ...base, marcaTiempoSegundos: -1 })).toThrow(RangeError);
  });
});

describe('verificarStandardWebhooks', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const secreto = secretoAleatorio();
  const firmada = (segundos = AHORA, cuerpo: string | Uint8Array = CUERPO, id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W') => ({
    id,
    marcaTiempo: String(segundos),
    firma: firmaOficial(secreto, id, segundos, cuerpo),
  });

  it('acepta lo que firma el paquete oficial, con el cuerpo como texto o como los bytes crudos', () => {
    expect(verificar({ secretos: [secreto], cabeceras: firmada() })).toEqual({ ok: true, indiceSecreto: 0 });
    expect(verificar({ secretos: [secreto], cabeceras: firmada(), cuerpo: new TextEncoder().encode(CUERPO) }).ok).toBe(true);
    // Un cuerpo vacío también se firma (p. ej. un POST sin cuerpo).
    expect(verificar({ secretos: [secreto], cabeceras: firmada(AHORA, ''), cuerpo: new Uint8Array() }).ok).toBe(true);
  });

  it('los límites exactos de la tolerancia de ±300 s coinciden con los del paquete oficial', () => {
    const casos: [number, MotivoFirmaRechazada | 'ok'][] = [
      [-301, 'marca_de_tiempo_antigua'],
      [-300, 'ok'],
      [-299, 'ok'],
      [0, 'ok'],
      [299, 'ok'],
      [300, 'ok'],
      [301, 'marca_de_tiempo_futura'],
    ];
    for (const [desfase, esperado] of casos) {
      const cabeceras = firmada(AHORA + desfase);
      expect(motivo(verificar({ secretos: [secreto], cabeceras })), `desfase ${desfase}`).toBe(esperado);
      const oficiales = { 'webhook-id': cabeceras.id, 'webhook-timestamp': cabeceras.marcaTiempo, 'webhook-signature': cabeceras.firma };
      expect(aceptaOficial(secreto, oficiales, CUERPO, AHORA), `oficial, desfase ${desfase}`).toBe(esperado === 'ok');
    }
  });

  it('la hora del servidor con fracción se trunca (como el paquete oficial) y la tolerancia se puede cambiar', () => {
    expect(verificar({ secretos: [secreto], cabeceras: firmada(AHORA - 300), ahoraSegundos: AHORA + 0.999 }).ok).toBe(true);
    expect(motivo(verificar({ secretos: [secreto], cabeceras: firmada(AHORA - 61), toleranciaSegundos: 60 }))).toBe(
      'marca_de_tiempo_antigua',
    );
    expect(verificar({ secretos: [secreto], cabeceras: firmada(AHORA - 60), toleranciaSegundos: 60 }).ok).toBe(true);
  });

  it('explica cuánto se desvía la marca de tiempo', () => {
    const antigua = verificar({ secretos: [secreto], cabeceras: firmada(AHORA - 301) });
    expect(antigua).toMatchObject({ ok: false, detalle: expect.stringMatching(/301 s anterior.*±300 s/) });
    const futura = verificar({ secretos: [secreto], cabeceras: firmada(AHORA + 900) });
    expect(futura).toMatchObject({ ok: false, detalle: expect.stringMatching(/900 s posterior/) });
  });

  it('un solo byte alterado del cuerpo, del id o de la marca de tiempo invalida la firma', () => {
    const bytes = new TextEncoder().encode(CUERPO);
    const cabeceras = firmada(AHORA, bytes);
    for (const posicion of [0, 17, bytes.length - 1]) {
      const alterado = Uint8Array.from(bytes);
      alterado[posicion]! ^= 0x01;
      expect(motivo(verificar({ secretos: [secreto], cabeceras, cuerpo: alterado })), `byte ${posicion}`).toBe('firma_no_coincide');
    }
    expect(motivo(verificar({ secretos: [secreto], cabeceras, cuerpo: bytes.subarray(0, -1) }))).toBe('firma_no_coincide');
    expect(motivo(verificar({ secretos: [secreto], cabeceras: { ...cabeceras, id: `${cabeceras.id}x` } }))).toBe('firma_no_coincide');
    expect(motivo(verificar({ secretos: [secreto], cabeceras: { ...cabeceras, marcaTiempo: String(AHORA - 1) } }))).toBe(
      'firma_no_coincide',
    );
    expect(verificar({ secretos: [secreto], cabeceras, cuerpo: bytes }).ok).toBe(true);
  });

  it('firma sobre los bytes crudos tal cual: el mismo JSON reserializado no verifica', () => {
    const crudo = ' { "importe": 1250,\n  "moneda": "EUR" }\r\n';
    const cabeceras = firmada(AHORA, crudo);
    expect(verificar({ secretos: [secreto], cabeceras, cuerpo: crudo }).ok).toBe(true);
    expect(motivo(verificar({ secretos: [secreto], cabeceras, cuerpo: JSON.stringify(JSON.parse(crudo)) }))).toBe('firma_no_coincide');
    expect(motivo(verificar({ secretos: [secreto], cabeceras, cuerpo: crudo.trim() }))).toBe('firma_no_coincide');
  });

  it('unicode en el cuerpo: lo firmado como texto por el paquete oficial verifica como texto y como bytes UTF-8', () => {
    const cuerpo = '{"concepto":"Billete Bogotá–Lima ✈ ñandú 🚀","importe":"10 €"}';
    const cabeceras = firmada(AHORA, cuerpo);
    expect(verificar({ secretos: [secreto], cabeceras, cuerpo }).ok).toBe(true);
    expect(verificar({ secretos: [secreto], cabeceras, cuerpo: Buffer.from(cuerpo, 'utf8') }).ok).toBe(true);
    // Los mismos caracteres en otra codificación son otros bytes.
    expect(motivo(verificar({ secretos: [secreto], cabeceras, cuerpo: Buffer.from(cuerpo, 'utf16le') }))).toBe('firma_no_coincide');
    expect(motivo(verificar({ secretos: [secreto], cabeceras, cuerpo: cuerpo.normalize('NFD') }))).toBe('firma_no_coincide');
  });

  describe('rotación', () => {
    const viejo = secretoAleatorio();
    const nuevo = secretoAleatorio();
    const id = 'msg_rotacion';
    const deViejo = firmaOficial(viejo, id, AHORA, CUERPO);
    const deNuevo = firmaOficial(nuevo, id, AHORA, CUERPO);
    const cabeceras = (firma: string) => ({ id, marcaTiempo: String(AHORA), firma });

    it('dos firmas en la cabecera: una vieja que ya no vale y la buena, en cualquier orden', () => {
      expect(verificar({ secretos: [nuevo], cabeceras: cabeceras(`${deViejo} ${deNuevo}`) }).ok).toBe(true);
      expect(verificar({ secretos: [nuevo], cabeceras: cabeceras(`${deNuevo} ${deViejo}`) }).ok).toBe(true);
      expect(motivo(verificar({ secretos: [nuevo], cabeceras: cabeceras(deViejo) }))).toBe('firma_no_coincide');
    });

    it('dos secretos vigentes: vale la firma de cualquiera y se dice cuál verificó', () => {
      expect(verificar({ secretos: [viejo, nuevo], cabeceras: cabeceras(deViejo) })).toEqual({ ok: true, indiceSecreto: 0 });
      expect(verificar({ secretos: [viejo, nuevo], cabeceras: cabeceras(deNuevo) })).toEqual({ ok: true, indiceSecreto: 1 });
      expect(
        motivo(verificar({ secretos: [viejo, nuevo], cabeceras: cabeceras(firmaOficial(secretoAleatorio(), id, AHORA, CUERPO)) })),
      ).toBe('firma_no_coincide');
    });

    it('espacios de más, otras versiones (v1a) y firmas basura alrededor de la buena no estorban', () => {
      const ruido = `  v1a,${randomBytes(64).toString('base64')} v2,abc basura v1,  ${deNuevo}  v1,${randomBytes(32).toString('base64')}`;
      expect(verificar({ secretos: [nuevo], cabeceras: cabeceras(ruido) }).ok).toBe(true);
    });
  });

  it('solo v1: una cabecera sin ninguna firma v1 se rechaza con su propio motivo', () => {
    const cabeceras = firmada();
    for (const firma of [`v1a,${cabeceras.firma.slice(3)}`, cabeceras.firma.slice(3), 'v1;abc', 'V1,abc']) {
      expect(motivo(verificar({ secretos: [secreto], cabeceras: { ...cabeceras, firma } })), firma).toBe('sin_firma_v1');
    }
  });

  it('la firma se compara en su base64 canónico: sin relleno o con caracteres de más no coincide', () => {
    const cabeceras = firmada();
    for (const firma of [
      cabeceras.firma.replace(/=$/, ''),
      `${cabeceras.firma}=`,
      `${cabeceras.firma.slice(0, 10)}\n${cabeceras.firma.slice(10)}`,
    ]) {
      expect(motivo(verificar({ secretos: [secreto], cabeceras: { ...cabeceras, firma } }))).toBe('firma_no_coincide');
    }
  });

  it('cabeceras ausentes o vacías: dice cuál falta', () => {
    const cabeceras = firmada();
    const casos = [
      [{ ...cabeceras, id: undefined }, 'webhook-id'],
      [{ ...cabeceras, marcaTiempo: null }, 'webhook-timestamp'],
      [{ ...cabeceras, firma: '' }, 'webhook-signature'],
      [{ ...cabeceras, firma: '   ' }, 'webhook-signature'],
      [{ id: undefined, marcaTiempo: undefined, firma: undefined }, 'webhook-id'],
    ] as const;
    for (const [parciales, nombre] of casos) {
      const resultado = verificar({ secretos: [secreto], cabeceras: parciales });
      expect(resultado).toMatchObject({
        ok: false,
        motivo: 'falta_cabecera',
        detalle: expect.stringContaining(`falta la cabecera ${nombre}`),
      });
    }
  });

  it('marca de tiempo no numérica', () => {
    const cabeceras = firmada();
    for (const marcaTiempo of ['ayer', `${AHORA}abc`, `${AHORA}.5`, `-${AHORA}`, '1e9', '0x10', '9'.repeat(16)]) {
      const resultado = verificar({ secretos: [secreto], cabeceras: { ...cabeceras, marcaTiempo } });
      expect(motivo(resultado), marcaTiempo).toBe('marca_de_tiempo_no_numerica');
    }
  });

  it('un webhook-id con punto, espacios o demasiado largo no se acepta', () => {
    for (const id of ['msg.1', 'msg 1', 'ñ', 'x'.repeat(257)]) {
      const cabeceras = { ...firmada(), id };
      expect(motivo(verificar({ secretos: [secreto], cabeceras })), id.slice(0, 10)).toBe('id_invalido');
    }
    expect(verificar({ secretos: [secreto], cabeceras: firmada(AHORA, CUERPO, 'x'.repeat(256)) }).ok).toBe(true);
  });

  it('secreto sin prefijo, que no es base64 o de tamaño fuera de 24–64 bytes: fallo del servidor, con su motivo', () => {
    const cabeceras = firmada();
    const sinPrefijo = secreto.slice('whsec_'.length);
    // El paquete oficial admite el secreto sin prefijo; nosotros no: nuestros secretos siempre lo llevan.
    expect(new Webhook(sinPrefijo).sign(cabeceras.id, new Date(AHORA * 1000), CUERPO)).toBe(cabeceras.firma);
    for (const malo of [sinPrefijo, 'whsec_', 'whsec_%%%%', secretoAleatorio(23), secretoAleatorio(65)]) {
      const resultado = verificar({ secretos: [malo], cabeceras });
      expect(motivo(resultado), malo).toBe('secreto_mal_formado');
    }
    // Aunque el otro secreto vigente verificara: un secreto roto es un dato corrupto que hay que ver.
    expect(motivo(verificar({ secretos: [secreto, sinPrefijo], cabeceras }))).toBe('secreto_mal_formado');
    expect(motivo(verificar({ secretos: [], cabeceras }))).toBe('sin_secreto');
  });

  it('los límites de 24 y 64 bytes del secreto se aceptan', () => {
    for (const bytes of [24, 64]) {
      const s = secretoAleatorio(bytes);
      const cabeceras = { id: 'msg_limite', marcaTiempo: String(AHORA), firma: firmaOficial(s, 'msg_limite', AHORA, CUERPO) };
      expect(verificar({ secretos: [s], cabeceras }).ok, `${bytes} bytes`).toBe(true);
    }
  });

  it('el orden de las comprobaciones: secreto, cabeceras, id, marca de tiempo, firma', () => {
    const todoMal = { id: 'a.b', marcaTiempo: 'nunca', firma: 'nada' };
    expect(motivo(verificar({ secretos: ['roto'], cabeceras: { ...todoMal, id: undefined } }))).toBe('secreto_mal_formado');
    expect(motivo(verificar({ secretos: [secreto], cabeceras: { ...todoMal, id: undefined } }))).toBe('falta_cabecera');
    expect(motivo(verificar({ secretos: [secreto], cabeceras: todoMal }))).toBe('id_invalido');
    expect(motivo(verificar({ secretos: [secreto], cabeceras: { ...todoMal, id: 'a' } }))).toBe('marca_de_tiempo_no_numerica');
    expect(motivo(verificar({ secretos: [secreto], cabeceras: { ...todoMal, id: 'a', marcaTiempo: '1' } }))).toBe(
      'marca_de_tiempo_antigua',
    );
    expect(motivo(verificar({ secretos: [secreto], cabeceras: { ...todoMal, id: 'a', marcaTiempo: String(AHORA) } }))).toBe('sin_firma_v1');
  });

  it('lo que acepta o rechaza coincide con el paquete oficial para firmas y desfases cualesquiera (propiedad)', () => {
    const otro = secretoAleatorio();
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 256 }),
        fc.integer({ min: -400, max: 400 }),
        fc.boolean(),
        fc.option(fc.nat({ max: 255 }), { nil: undefined }),
        (cuerpo, desfase, conOtroSecreto, byteAlterado) => {
          const firma = firmaOficial(conOtroSecreto ? otro : secreto, 'msg_prop', AHORA + desfase, cuerpo);
          const recibido = Uint8Array.from(cuerpo);
          if (byteAlterado !== undefined && recibido.length > 0) recibido[byteAlterado % recibido.length]! ^= 0x80;
          const nuestro = verificar({
            secretos: [secreto],
            cabeceras: { id: 'msg_prop', marcaTiempo: String(AHORA + desfase), firma },
            cuerpo: recibido,
          });
          const oficial = aceptaOficial(
            secreto,
            { 'webhook-id': 'msg_prop', 'webhook-timestamp': String(AHORA + desfase), 'webhook-signature': firma },
            recibido,
            AHORA,
          );
          expect(nuestro.ok).toBe(oficial);
        },
      ),
      { numRuns: 300 },
    );
  });
});
