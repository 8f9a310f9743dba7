import { describe, expect, it } from 'vitest';
import { huellaJson, type EntregaRecibida } from '../src/receptor-webhooks.js';
import type { EventoRecibido } from '../src/stream-socios.js';
import {
  DESCRIPCION_REGLAS_TRAZABILIDAD,
  claveDeEvento,
  juzgarTrazabilidad,
  type CambioEnBase,
  type CodigoReglaTrazabilidad,
  type DatosTrazabilidad,
  type EventoFeed,
  type ObservadoSocio,
} from '../src/veredicto-trazabilidad.js';

/**
 * Cada regla de la trazabilidad, con una corrida limpia (cero violaciones) y después con la violación
 * plantada: la regla debe fallar y nombrar al culpable, y las demás no.
 */

const T0 = Date.parse('2026-12-05T05:00:00.000Z');

/**
 * Dos socios: A con dos pagos (3 cambios cada uno) y un duplicado absorbido; B con un pago y una conversión
 * (con `liberadas` liberaciones de su comisión, cambios idénticos si sus liquidaciones fallan una tras otra).
 */
function corridaLimpia(liberadas = 0) {
  const cambios: CambioEnBase[] = [];
  const feeds = new Map<string, EventoFeed[]>();
  const duenos = new Map<string, Set<string>>();
  const evento = (socio: string, tipo: string, sujeto: string, datos: Record<string, unknown>): EventoFeed => {
    const feed = feeds.get(socio) ?? [];
    feeds.set(socio, feed);
    const secuencia = feed.length + 1;
    const objeto = { secuencia, tipo, sujeto, registrado_en: new Date(T0 + secuencia).toISOString(), datos };
    const e: EventoFeed = { secuencia, tipo, sujeto, registradoEn: T0 + secuencia, datos, huella: huellaJson(objeto) };
    feed.push(e);
    return e;
  };
  const pago = (socio: string, id: string, final: string) => {
    duenos.set(id, new Set([socio]));
    ['pendiente', 'procesando', final].forEach((estado, i) => {
      const e = evento(socio, `pago.${estado}`, id, { id_pago: id, estado: estado.toUpperCase(), version: i + 1 });
      cambios.push({ socio, sujeto: id, tipo: e.tipo, clave: claveDeEvento(e), orden: i + 1 });
    });
  };
  pago('A', '00000000-0000-4000-8000-00000000000a', 'exitoso');
  pago('A', '00000000-0000-4000-8000-00000000000b', 'fallido');
  evento('A', 'duplicado.absorbido', '00000000-0000-4000-8000-00000000000a', { etapa: 'entrada', clave: 'k', veces: 1 });
  pago('B', '00000000-0000-4000-8000-00000000000c', 'exitoso');
  duenos.set('conv-1', new Set(['B']));
  ['recibida', 'aprobada'].forEach((estado, i) => {
    const e = evento('B', `conversion.${estado}`, 'conv-1', { id_conversion: 'conv-1', id_evento: `h${i}`, estado: estado.toUpperCase() });
    cambios.push({ socio: 'B', sujeto: 'conv-1', tipo: e.tipo, clave: claveDeEvento(e), orden: 100 + i });
  });
  for (let i = 0; i < liberadas; i += 1) {
    const e = evento('B', 'comision.liberada', 'conv-1', { id_conversion: 'conv-1', estado: 'APROBADA' });
    cambios.push({ socio: 'B', sujeto: 'conv-1', tipo: e.tipo, clave: claveDeEvento(e), orden: 200 + i });
  }
  const stream = (socio: string): EventoRecibido[] =>
    (feeds.get(socio) ?? []).map((e) => ({
      id: e.secuencia,
      secuencia: e.secuencia,
      tipo: e.tipo,
      sujeto: e.sujeto,
      registradoEn: e.registradoEn,
      llegada: e.registradoEn + 50,
      conexion: 1,
    }));
  const entregas = (socio: string): EntregaRecibida[] =>
    (feeds.get(socio) ?? []).map((e) => ({
      webhookId: `evt_${socio}_live_${e.secuencia}`,
      socio,
      llegada: e.registradoEn + 100,
      firmaValida: true,
      respuesta: 'ok',
      secuencia: e.secuencia,
      registradoEn: e.registradoEn,
      huella: e.huella,
    }));
  const socios: ObservadoSocio[] = ['A', 'B'].map((id) => ({
    id,
    feed: feeds.get(id),
    stream: { recibidos: stream(id), denegado: false },
    webhooks: { entregas: entregas(id), activo: true },
  }));
  return { socios, cambios, duenos };
}

type Corrida = ReturnType<typeof corridaLimpia>;

/** Juzga y devuelve las violaciones por regla (0 las que pasan). */
function violaciones(d: DatosTrazabilidad) {
  const v = juzgarTrazabilidad(d);
  return {
    cuentas: Object.fromEntries(v.reglas.map((r) => [r.regla, r.violaciones])) as Record<CodigoReglaTrazabilidad, number | undefined>,
    ids: (regla: CodigoReglaTrazabilidad) => v.violaciones.find((x) => x.regla === regla)?.ids ?? [],
  };
}

/** Todas las reglas en 0 menos `regla`, que falla nombrando `culpable`. */
function soloFalla(d: DatosTrazabilidad, regla: CodigoReglaTrazabilidad, culpable: RegExp) {
  const { cuentas, ids } = violaciones(d);
  for (const [r, n] of Object.entries(cuentas)) if (r !== regla) expect(n, r).toBe(0);
  expect(cuentas[regla]).toBeGreaterThan(0);
  expect(ids(regla).join('\n')).toMatch(culpable);
}

const conSocio = (c: Corrida, id: string, cambio: (s: ObservadoSocio) => ObservadoSocio): Corrida => ({
  ...c,
  socios: c.socios.map((s) => (s.id === id ? cambio(s) : s)),
});

describe('veredicto de la trazabilidad', () => {
  it('una corrida limpia: todas las reglas evaluadas y en cero', () => {
    const { cuentas } = violaciones(corridaLimpia());
    expect(Object.keys(cuentas).sort()).toEqual(Object.keys(DESCRIPCION_REGLAS_TRAZABILIDAD).sort());
    for (const n of Object.values(cuentas)) expect(n).toBe(0);
  });

  it('un cambio de la base que no está en el feed → feed-cada-cambio-una-vez', () => {
    const c = corridaLimpia();
    c.cambios.push({
      socio: 'A',
      sujeto: '00000000-0000-4000-8000-00000000000a',
      tipo: 'pago.exitoso',
      clave: 'pago.exitoso v4',
      orden: 4,
    });
    soloFalla(c, 'feed-cada-cambio-una-vez', /A · 00000000-0000-4000-8000-00000000000a pago\.exitoso v4: 0 vez/);
  });

  it('un evento que sale dos veces en el feed (con otra secuencia) → feed-cada-cambio-una-vez', () => {
    const c = corridaLimpia();
    const copia = c.socios[1]?.feed?.[0] as EventoFeed;
    const d = conSocio(c, 'B', (s) => ({
      ...s,
      feed: [...(s.feed ?? []), { ...copia, secuencia: 6 }],
      stream: undefined,
      webhooks: undefined,
    }));
    soloFalla(
      d,
      'feed-cada-cambio-una-vez',
      /B · 00000000-0000-4000-8000-00000000000c pago\.pendiente v1: 2 vez\/veces en el feed \(#1, #6\)/,
    );
  });

  it('un hueco en las secuencias del feed → feed-cada-cambio-una-vez', () => {
    const c = corridaLimpia();
    const d = conSocio(c, 'A', (s) => ({
      ...s,
      feed: (s.feed ?? []).map((e) => (e.secuencia === 7 ? { ...e, secuencia: 8 } : e)),
      stream: undefined,
      webhooks: undefined,
    }));
    soloFalla(d, 'feed-cada-cambio-una-vez', /A: en la posición 7 del feed viene la secuencia 8/);
  });

  it('un evento del feed que no está en la base del socio → feed-cada-cambio-una-vez', () => {
    const c = corridaLimpia();
    c.cambios.splice(
      c.cambios.findIndex((x) => x.socio === 'B' && x.tipo === 'conversion.aprobada'),
      1,
    );
    soloFalla(c, 'feed-cada-cambio-una-vez', /B · conv-1 conversion\.aprobada h1 APROBADA: en el feed \(#5\) y no en la base/);
  });

  it('dos cambios de un pago en orden invertido → feed-orden-por-sujeto', () => {
    const c = corridaLimpia();
    const d = conSocio(c, 'A', (s) => {
      const feed = [...(s.feed ?? [])];
      // procesando (#2) y exitoso (#3) del primer pago intercambian el contenido, no la secuencia.
      const [p, q] = [feed[1] as EventoFeed, feed[2] as EventoFeed];
      feed[1] = { ...q, secuencia: 2 };
      feed[2] = { ...p, secuencia: 3 };
      return { ...s, feed, stream: undefined, webhooks: undefined };
    });
    soloFalla(
      d,
      'feed-orden-por-sujeto',
      /A · 00000000-0000-4000-8000-00000000000a: feed pago\.pendiente v1 → pago\.exitoso v3 → pago\.procesando v2/,
    );
  });

  it('dos liberaciones idénticas de una comisión (dos liquidaciones fallidas), en el mismo orden en el feed y en la base, no son una violación', () => {
    const { cuentas } = violaciones(corridaLimpia(2));
    for (const n of Object.values(cuentas)) expect(n).toBe(0);
  });

  it('un evento del pago de otro socio en el feed → feed-solo-del-socio', () => {
    const c = corridaLimpia();
    c.duenos.set('00000000-0000-4000-8000-00000000000c', new Set(['A', 'B']));
    c.duenos.set('00000000-0000-4000-8000-00000000000b', new Set(['B']));
    c.cambios.forEach((x, i) => {
      if (x.sujeto === '00000000-0000-4000-8000-00000000000b') c.cambios[i] = { ...x, socio: 'A' };
    });
    soloFalla(c, 'feed-solo-del-socio', /A #4 pago\.pendiente 00000000-0000-4000-8000-00000000000b: es de B/);
  });

  it('el stream se salta un evento → stream-igual-al-feed', () => {
    const c = conSocio(corridaLimpia(), 'A', (s) => ({
      ...s,
      stream: { recibidos: (s.stream?.recibidos ?? []).filter((r) => r.id !== 5), denegado: false },
    }));
    soloFalla(c, 'stream-igual-al-feed', /A: 1 eventos del feed no llegaron por el stream \(#5\)/);
  });

  it('el stream repite un evento tras reconectar → stream-igual-al-feed', () => {
    const c = conSocio(corridaLimpia(), 'B', (s) => {
      const r = s.stream?.recibidos ?? [];
      return {
        ...s,
        stream: { recibidos: [...r.slice(0, 3), { ...(r[2] as EventoRecibido), conexion: 2 }, ...r.slice(3)], denegado: false },
      };
    });
    soloFalla(c, 'stream-igual-al-feed', /B: #3 repetido \(2 veces\)/);
  });

  it('el stream da otro sujeto para una secuencia → stream-igual-al-feed', () => {
    const c = conSocio(corridaLimpia(), 'B', (s) => ({
      ...s,
      stream: { recibidos: (s.stream?.recibidos ?? []).map((r) => (r.id === 4 ? { ...r, sujeto: 'otro' } : r)), denegado: false },
    }));
    soloFalla(c, 'stream-igual-al-feed', /B: #4 es conversion\.recibida otro en el stream/);
  });

  it('al socio suspendido se le niega el stream: basta un prefijo del feed, pero sin huecos', () => {
    const prefijo = conSocio(corridaLimpia(), 'A', (s) => ({
      ...s,
      stream: { recibidos: (s.stream?.recibidos ?? []).slice(0, 4), denegado: true },
    }));
    const { cuentas } = violaciones(prefijo);
    expect(cuentas['stream-igual-al-feed']).toBe(0);
    const conHueco = conSocio(corridaLimpia(), 'A', (s) => ({
      ...s,
      stream: { recibidos: (s.stream?.recibidos ?? []).slice(0, 4).filter((r) => r.id !== 2), denegado: true },
    }));
    soloFalla(conHueco, 'stream-igual-al-feed', /A: 1 eventos del feed no llegaron por el stream \(#2\)/);
  });

  it('una entrega con firma no válida → webhooks-firma-valida', () => {
    const c = conSocio(corridaLimpia(), 'A', (s) => ({
      ...s,
      webhooks: {
        activo: true,
        entregas: [
          ...(s.webhooks?.entregas ?? []),
          { ...(s.webhooks?.entregas[0] as EntregaRecibida), firmaValida: false, motivoFirma: 'ninguna firma v1 coincide' },
        ],
      },
    }));
    soloFalla(c, 'webhooks-firma-valida', /A evt_A_live_1: ninguna firma v1 coincide/);
  });

  it('repetidas por webhook-id se deduplican: dos llegadas del mismo evento (una fallida) no son una violación', () => {
    const c = conSocio(corridaLimpia(), 'A', (s) => {
      const primera = s.webhooks?.entregas[0] as EntregaRecibida;
      return {
        ...s,
        webhooks: { activo: true, entregas: [{ ...primera, respuesta: 'error-500' }, ...(s.webhooks?.entregas ?? []), primera] },
      };
    });
    for (const n of Object.values(violaciones(c).cuentas)) expect(n).toBe(0);
  });

  it('un evento sin webhook, uno nunca aceptado, uno con otro cuerpo y otro con dos ids → webhooks-una-vez-por-evento', () => {
    const c = conSocio(corridaLimpia(), 'A', (s) => {
      const e = s.webhooks?.entregas ?? [];
      return {
        ...s,
        webhooks: {
          activo: true,
          entregas: [
            ...e.filter((x) => x.secuencia !== 3 && x.secuencia !== 4 && x.secuencia !== 5),
            { ...(e[3] as EntregaRecibida), respuesta: 'tiempo' },
            { ...(e[4] as EntregaRecibida), huella: 'otra' },
            { ...(e[1] as EntregaRecibida), webhookId: 'evt_otro_2' },
          ],
        },
      };
    });
    const { cuentas, ids } = violaciones(c);
    expect(cuentas['webhooks-una-vez-por-evento']).toBe(4);
    const texto = ids('webhooks-una-vez-por-evento').join('\n');
    expect(texto).toMatch(/A: 1 eventos del feed sin webhook \(#3\)/);
    expect(texto).toMatch(/A evt_A_live_4: nunca se aceptó \(tiempo\)/);
    expect(texto).toMatch(/A evt_A_live_5: el cuerpo no es el evento #5 del feed/);
    expect(texto).toMatch(/A: el evento #2 llegó con dos webhook-id/);
  });

  it('un webhook desactivado al final → webhooks-una-vez-por-evento', () => {
    const c = conSocio(corridaLimpia(), 'B', (s) => ({ ...s, webhooks: { entregas: s.webhooks?.entregas ?? [], activo: false } }));
    soloFalla(c, 'webhooks-una-vez-por-evento', /B: su webhook quedó desactivado/);
  });

  it('sin webhooks en la corrida: sus reglas quedan sin evaluar, con la nota', () => {
    const c = corridaLimpia();
    const v = juzgarTrazabilidad({ ...c, socios: c.socios.map(({ webhooks: _, ...s }) => s), sinWebhooks: 'sin webhooks (remota)' });
    const regla = v.reglas.find((r) => r.regla === 'webhooks-una-vez-por-evento');
    expect(regla?.violaciones).toBeUndefined();
    expect(regla?.nota).toBe('sin webhooks (remota)');
  });
});
