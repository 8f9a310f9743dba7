import { describe, expect, it } from 'vitest';
import { idsSecuenciales, relojFijo } from '../testing/dobles.js';
import { crearBarrendero, type OpcionesBarrendero } from './barrendero.js';
import type { PagoAtascado, PagosAtascados } from './puertos-barrido.js';
import { PagosAtascadosEnMemoria } from '../testing/pagos-atascados-en-memoria.js';

const UMBRALES = { PENDIENTE: 60_000, PROCESANDO: 120_000 };
const MIN = 60_000;

function preparar() {
  const reloj = relojFijo(new Date('2026-03-01T12:00:00.000Z'));
  const almacen = new PagosAtascadosEnMemoria(reloj);
  const nuevoId = idsSecuenciales(3);
  const hace = (ms: number) => new Date(reloj.ahora().getTime() - ms);
  /** Un pago en `estado` desde hace `haceMs`, con su PagoPendiente publicado entonces. */
  const plantar = (
    estado: 'PENDIENTE' | 'PROCESANDO' | 'EXITOSO',
    haceMs: number,
    extra: { turnoHasta?: Date; sinPublicar?: boolean } = {},
  ) => {
    const idPago = nuevoId();
    almacen.plantar({
      idPago,
      estado,
      desde: hace(haceMs),
      turnoHasta: extra.turnoHasta ?? null,
      evento: { publicadoEn: extra.sinPublicar ? null : hace(haceMs), reimpulsos: 0 },
    });
    return idPago;
  };
  const vistos: PagoAtascado[] = [];
  const barrendero = (opciones: Partial<OpcionesBarrendero> = {}) =>
    crearBarrendero({ atascados: almacen, umbrales: UMBRALES, periodoMs: 1000, alReimpulsar: (p) => vistos.push(p), ...opciones });
  const reimpulsos = (id: string) => almacen.ver(id)?.evento?.reimpulsos ?? 0;
  return { reloj, almacen, plantar, barrendero, vistos, reimpulsos, hace };
}

describe('barrendero: qué re-impulsa', () => {
  it('re-impulsa los atascados de cada estado según su umbral y traza id, estado y edad', async () => {
    const { plantar, barrendero, vistos } = preparar();
    const pendienteViejo = plantar('PENDIENTE', 2 * MIN);
    plantar('PENDIENTE', 30_000);
    const procesandoViejo = plantar('PROCESANDO', 3 * MIN);
    plantar('PROCESANDO', 90_000); // más que el umbral de PENDIENTE, menos que el suyo
    plantar('EXITOSO', 60 * MIN);
    const b = barrendero();
    const hechos = await b.barrer();
    expect(hechos.map((p) => p.idPago)).toEqual([pendienteViejo, procesandoViejo]);
    expect(vistos.map((p) => ({ id: p.idPago, estado: p.estado, edadMs: p.edadMs, veces: p.evento?.reimpulsos }))).toEqual([
      { id: pendienteViejo, estado: 'PENDIENTE', edadMs: 2 * MIN, veces: 1 },
      { id: procesandoViejo, estado: 'PROCESANDO', edadMs: 3 * MIN, veces: 1 },
    ]);
    expect(b.contadores()).toEqual({ pasadas: 1, fallos: 0, reimpulsados: { PENDIENTE: 1, PROCESANDO: 1 } });
  });

  it('no toca un PROCESANDO con turno de cobro vigente, ni un PENDIENTE cuyo evento aún no se publicó', async () => {
    const { plantar, barrendero, reloj, reimpulsos } = preparar();
    const conTurno = plantar('PROCESANDO', 10 * MIN, { turnoHasta: new Date(reloj.ahora().getTime() + 5_000) });
    const sinPublicar = plantar('PENDIENTE', 10 * MIN, { sinPublicar: true });
    const b = barrendero();
    expect(await b.barrer()).toEqual([]);
    // El turno vence (su consumidor murió): ahora sí.
    reloj.avanzar(5_000);
    expect((await b.barrer()).map((p) => p.idPago)).toEqual([conTurno]);
    expect(reimpulsos(sinPublicar)).toBe(0);
  });

  it('idempotente: una pasada tras otra no repite; tras publicarse, solo vuelve a re-impulsar pasado el umbral', async () => {
    const { plantar, barrendero, almacen, reloj, reimpulsos } = preparar();
    const id = plantar('PROCESANDO', 10 * MIN);
    const b = barrendero();
    expect(await b.barrer()).toHaveLength(1);
    expect(await b.barrer()).toHaveLength(0);
    expect(await b.barrer()).toHaveLength(0);
    almacen.publicar(); // el relay lo publica; el consumidor no logra acabarlo (pasarela caída)
    reloj.avanzar(UMBRALES.PROCESANDO - 1);
    expect(await b.barrer()).toHaveLength(0);
    reloj.avanzar(1);
    expect((await b.barrer()).map((p) => p.idPago)).toEqual([id]);
    expect(reimpulsos(id)).toBe(2);
  });

  it('un pago que terminó entre dos pasadas no se re-impulsa más', async () => {
    const { plantar, barrendero, almacen, reloj, reimpulsos } = preparar();
    const id = plantar('PENDIENTE', 10 * MIN);
    const b = barrendero();
    await b.barrer();
    almacen.publicar();
    almacen.pasarA(id, 'EXITOSO');
    reloj.avanzar(60 * MIN);
    expect(await b.barrer()).toEqual([]);
    expect(reimpulsos(id)).toBe(1);
  });

  it('dos barrenderos sobre el mismo almacén (dos consumidores): cada pago una sola vez', async () => {
    const { plantar, barrendero, reimpulsos } = preparar();
    const ids = Array.from({ length: 40 }, (_, i) => plantar(i % 3 === 0 ? 'PROCESANDO' : 'PENDIENTE', 10 * MIN));
    const [a, b] = [barrendero({ lote: 7, ventana: 11 }), barrendero({ lote: 5, ventana: 13 })];
    for (let i = 0; i < 12; i += 1) await Promise.all([a.barrer(), b.barrer()]);
    for (const id of ids) expect(reimpulsos(id)).toBe(1);
    const total = (x: typeof a) => x.contadores().reimpulsados.PENDIENTE + x.contadores().reimpulsados.PROCESANDO;
    expect(total(a) + total(b)).toBe(40);
  });
});

describe('barrendero: acotado', () => {
  it('lote y ventana acotan cada pasada; el cursor sigue donde se quedó y todos acaban re-impulsados una vez', async () => {
    const { plantar, barrendero, reimpulsos } = preparar();
    const ids = Array.from({ length: 25 }, () => plantar('PENDIENTE', 10 * MIN));
    const b = barrendero({ lote: 4, ventana: 6 });
    const porPasada: number[] = [];
    for (let i = 0; i < 8; i += 1) porPasada.push((await b.barrer()).length);
    expect(Math.max(...porPasada)).toBeLessThanOrEqual(4);
    expect(porPasada.reduce((x, y) => x + y, 0)).toBe(25);
    for (const id of ids) expect(reimpulsos(id)).toBe(1);
  });

  it('lo que no se puede re-impulsar al principio del estado no tapa a los atascados de detrás', async () => {
    const { plantar, barrendero, reimpulsos } = preparar();
    for (let i = 0; i < 10; i += 1) plantar('PENDIENTE', 30 * MIN, { sinPublicar: true });
    const detras = plantar('PENDIENTE', 10 * MIN);
    const b = barrendero({ lote: 2, ventana: 4 });
    for (let i = 0; i < 3; i += 1) await b.barrer();
    expect(reimpulsos(detras)).toBe(1);
  });
});

describe('barrendero: ciclo de vida', () => {
  it('iniciar barre cada periodo; detener espera la pasada en curso y no empieza otra', async () => {
    const { plantar, almacen } = preparar();
    plantar('PENDIENTE', 10 * MIN);
    const esperas: number[] = [];
    let soltarPasada: (() => void) | undefined;
    let pasadasEmpezadas = 0;
    const lento: PagosAtascados = {
      listar: (c) => almacen.listar(c),
      medir: (u, v) => almacen.medir(u, v),
      async reimpulsar(c) {
        if (c.estado === 'PENDIENTE') {
          pasadasEmpezadas += 1;
          if (pasadasEmpezadas === 3) await new Promise<void>((r) => (soltarPasada = r));
        }
        return almacen.reimpulsar(c);
      },
    };
    const b = crearBarrendero({
      atascados: lento,
      umbrales: UMBRALES,
      periodoMs: 250,
      dormir: async (ms) => {
        esperas.push(ms);
        await new Promise((r) => setImmediate(r));
      },
    });
    b.iniciar();
    b.iniciar(); // idempotente: un solo bucle
    while (soltarPasada === undefined) await new Promise((r) => setImmediate(r));
    const detenido = b.detener();
    let terminado = false;
    void detenido.then(() => (terminado = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(terminado).toBe(false); // la tercera pasada sigue en curso
    soltarPasada();
    await detenido;
    expect(b.contadores().pasadas).toBe(3);
    expect(esperas.every((ms) => ms === 250)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(pasadasEmpezadas).toBe(3);
    await b.detener(); // idempotente
  });

  it('una pasada que falla se cuenta y se avisa; la siguiente vuelve a intentarlo', async () => {
    const { plantar, almacen, reimpulsos } = preparar();
    const id = plantar('PENDIENTE', 10 * MIN);
    let fallar = true;
    const errores: unknown[] = [];
    const inestable: PagosAtascados = {
      listar: (c) => almacen.listar(c),
      medir: (u, v) => almacen.medir(u, v),
      async reimpulsar(c) {
        if (fallar) {
          fallar = false;
          throw new Error('la base no responde');
        }
        return almacen.reimpulsar(c);
      },
    };
    let vueltas = 0;
    const b = crearBarrendero({
      atascados: inestable,
      umbrales: UMBRALES,
      periodoMs: 1,
      alFallar: (e) => errores.push(e),
      dormir: async () => {
        vueltas += 1;
        await new Promise((r) => setImmediate(r));
      },
    });
    b.iniciar();
    while (vueltas < 4) await new Promise((r) => setImmediate(r));
    await b.detener();
    expect(errores).toHaveLength(1);
    expect((errores[0] as Error).message).toBe('la base no responde');
    expect(b.contadores().fallos).toBe(1);
    expect(reimpulsos(id)).toBe(1);
  });

  it('opciones inválidas: error claro al crearlo', () => {
    const { almacen } = preparar();
    expect(() => crearBarrendero({ atascados: almacen, umbrales: UMBRALES, periodoMs: 0 })).toThrow(/periodoMs.*0/);
    expect(() => crearBarrendero({ atascados: almacen, umbrales: UMBRALES, periodoMs: 10, lote: 0 })).toThrow(/lote/);
    expect(() => crearBarrendero({ atascados: almacen, umbrales: { PENDIENTE: -1, PROCESANDO: 1 }, periodoMs: 10 })).toThrow(/PENDIENTE/);
  });
});
