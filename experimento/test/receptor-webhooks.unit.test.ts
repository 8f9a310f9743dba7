import { firmarStandardWebhooks } from '@aeropartners/adaptadores';
import { afterEach, describe, expect, it } from 'vitest';
import {
  TASAS_POR_DEFECTO,
  decidirRespuesta,
  huellaJson,
  iniciarReceptor,
  motivoFirmaInvalida,
  type Receptor,
  type TasasFallo,
} from '../src/receptor-webhooks.js';

const SECRETO = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;
const OTRO = `whsec_${Buffer.alloc(24, 3).toString('base64')}`;

describe('verificación de Standard Webhooks del receptor (implementación propia de la especificación)', () => {
  const ahora = Date.parse('2026-12-05T05:00:00Z');
  const marcaTiempo = String(ahora / 1000);
  const cuerpo = '{"secuencia":1}';
  const firma = firmarStandardWebhooks({ secreto: SECRETO, id: 'evt_a_live_1', marcaTiempoSegundos: ahora / 1000, cuerpo });

  it('acepta la firma del repartidor, también entre otras firmas y versiones', () => {
    expect(motivoFirmaInvalida(SECRETO, { id: 'evt_a_live_1', marcaTiempo, firma }, cuerpo, ahora)).toBeUndefined();
    const otra = firmarStandardWebhooks({ secreto: OTRO, id: 'evt_a_live_1', marcaTiempoSegundos: ahora / 1000, cuerpo });
    expect(
      motivoFirmaInvalida(SECRETO, { id: 'evt_a_live_1', marcaTiempo, firma: `v2,abc ${otra} ${firma}` }, cuerpo, ahora),
    ).toBeUndefined();
  });

  it('rechaza otro cuerpo, otro id, otro secreto, una marca de tiempo vieja y cabeceras que faltan', () => {
    expect(motivoFirmaInvalida(SECRETO, { id: 'evt_a_live_1', marcaTiempo, firma }, '{"secuencia":2}', ahora)).toMatch(/ninguna firma/);
    expect(motivoFirmaInvalida(SECRETO, { id: 'evt_a_live_2', marcaTiempo, firma }, cuerpo, ahora)).toMatch(/ninguna firma/);
    expect(motivoFirmaInvalida(OTRO, { id: 'evt_a_live_1', marcaTiempo, firma }, cuerpo, ahora)).toMatch(/ninguna firma/);
    expect(motivoFirmaInvalida(SECRETO, { id: 'evt_a_live_1', marcaTiempo, firma }, cuerpo, ahora + 301_000)).toMatch(/tolerancia/);
    expect(motivoFirmaInvalida(SECRETO, { id: 'evt_a_live_1', marcaTiempo, firma: '' }, cuerpo, ahora)).toMatch(/faltan/);
  });
});

describe('fallos provocados por el receptor', () => {
  const tasas: TasasFallo = { error500: 0.2, tiempo: 0.1, cierre: 0.1, repetir: 0.5, fallosMaximos: 2 };

  it('nunca más de fallosMaximos fallos seguidos de una entrega, y tras un éxito ya no falla', () => {
    const porTipo: Record<string, number> = {};
    for (let i = 0; i < 2000; i += 1) {
      let fallos = 0;
      for (let intento = 1; intento <= 6; intento += 1) {
        const r = decidirRespuesta(1, `evt_${i}`, intento, fallos, tasas);
        porTipo[r] = (porTipo[r] ?? 0) + 1;
        if (r === 'ok') {
          // Una reentrega tras el éxito (el repartidor murió sin anotarlo) también se acepta.
          expect(decidirRespuesta(1, `evt_${i}`, intento + 1, fallos, tasas)).toBe('ok');
          break;
        }
        fallos += 1;
        expect(fallos).toBeLessThanOrEqual(tasas.fallosMaximos);
      }
    }
    // Los tres fallos ocurren (la semilla los reparte) y es la misma decisión en cada corrida.
    expect(porTipo['error-500']).toBeGreaterThan(0);
    expect(porTipo['tiempo']).toBeGreaterThan(0);
    expect(porTipo['cierre']).toBeGreaterThan(0);
    expect(decidirRespuesta(1, 'evt_x', 1, 0, tasas)).toBe(decidirRespuesta(1, 'evt_x', 1, 0, tasas));
  });

  it('las tasas por defecto no agotan el calendario de reintentos (7 plazos): como mucho 2 fallos', () => {
    expect(TASAS_POR_DEFECTO.fallosMaximos).toBeLessThan(7);
  });
});

describe('receptor HTTP', () => {
  let receptor: Receptor | undefined;
  afterEach(async () => receptor?.parar());

  const enviar = async (url: string, id: string, cuerpo: string, secreto = SECRETO) => {
    const marca = Math.floor(Date.now() / 1000);
    const r = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(marca),
        'webhook-signature': firmarStandardWebhooks({ secreto, id, marcaTiempoSegundos: marca, cuerpo }),
      },
      body: cuerpo,
    }).catch(() => undefined);
    return r?.status ?? 0;
  };

  it('guarda cada llegada con su firma verificada, su secuencia y la huella del cuerpo; una firma mala es 400', async () => {
    const sinFallos: TasasFallo = { error500: 0, tiempo: 0, cierre: 0, repetir: 0, fallosMaximos: 0 };
    receptor = await iniciarReceptor({ semilla: 1, tasas: sinFallos, retenerMs: 100 });
    receptor.registrar('soc_a', SECRETO);
    const evento = { secuencia: 4, tipo: 'pago.exitoso', sujeto: 'p', registrado_en: '2026-12-05T05:00:00.000Z', datos: { b: 1, a: 2 } };
    expect(await enviar(receptor.urlDe('soc_a'), 'evt_soc_a_live_4', JSON.stringify(evento))).toBe(204);
    expect(await enviar(receptor.urlDe('soc_a'), 'evt_soc_a_live_4', JSON.stringify(evento), OTRO)).toBe(400);
    expect(receptor.entregas.map((e) => [e.socio, e.webhookId, e.firmaValida, e.respuesta, e.secuencia])).toEqual([
      ['soc_a', 'evt_soc_a_live_4', true, 'ok', 4],
      ['soc_a', 'evt_soc_a_live_4', false, 'error-500', 4],
    ]);
    // La huella no depende del orden de las claves: es la del mismo objeto leído del feed.
    expect(receptor.entregas[0]?.huella).toBe(huellaJson({ ...evento, datos: { a: 2, b: 1 } }));
    expect(receptor.entregas[0]?.registradoEn).toBe(Date.parse(evento.registrado_en));
  });

  it('provoca 500, tiempo agotado y conexión cerrada de verdad', async () => {
    const siempre = (t: 'error500' | 'tiempo' | 'cierre'): TasasFallo => ({
      error500: t === 'error500' ? 1 : 0,
      tiempo: t === 'tiempo' ? 1 : 0,
      cierre: t === 'cierre' ? 1 : 0,
      repetir: 0,
      fallosMaximos: 1,
    });
    for (const [t, esperado] of [
      ['error500', 500],
      ['cierre', 0],
    ] as const) {
      receptor = await iniciarReceptor({ semilla: 1, tasas: siempre(t), retenerMs: 100 });
      receptor.registrar('s', SECRETO);
      expect(await enviar(receptor.urlDe('s'), 'evt_1', '{}')).toBe(esperado);
      // El segundo intento de la misma entrega ya se acepta (fallosMaximos 1).
      expect(await enviar(receptor.urlDe('s'), 'evt_1', '{}')).toBe(204);
      await receptor.parar();
    }
    receptor = await iniciarReceptor({ semilla: 1, tasas: siempre('tiempo'), retenerMs: 5000 });
    receptor.registrar('s', SECRETO);
    const corte = AbortSignal.timeout(200);
    const r = await fetch(receptor.urlDe('s'), { method: 'POST', body: '{}', signal: corte }).catch((e: Error) => e.name);
    // Sin firma: se rechaza al momento (400), nunca se retiene.
    expect(r instanceof Response ? r.status : r).toBe(400);
    const marca = Math.floor(Date.now() / 1000);
    const retenida = await fetch(receptor.urlDe('s'), {
      method: 'POST',
      headers: {
        'webhook-id': 'evt_2',
        'webhook-timestamp': String(marca),
        'webhook-signature': firmarStandardWebhooks({ secreto: SECRETO, id: 'evt_2', marcaTiempoSegundos: marca, cuerpo: '{}' }),
      },
      body: '{}',
      signal: AbortSignal.timeout(300),
    }).catch((e: Error) => e.name);
    expect(retenida).toBe('TimeoutError');
    expect(receptor.entregas.at(-1)?.respuesta).toBe('tiempo');
  });
});
