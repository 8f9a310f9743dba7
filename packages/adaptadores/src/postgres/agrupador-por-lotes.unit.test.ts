import { describe, expect, it } from 'vitest';
import { AgrupadorPorLotes, type Pendiente } from './agrupador-por-lotes.js';

/** Un ejecutor que el test controla: cada lote queda en espera hasta que el test lo suelta. */
function ejecutorControlado() {
  const lotes: { entradas: number[]; soltar: () => void; fallar: (e: unknown) => void }[] = [];
  const ejecutar = (lote: readonly Pendiente<number, string>[]) =>
    new Promise<void>((resolve, reject) => {
      lotes.push({
        entradas: lote.map((p) => p.entrada),
        soltar: () => {
          for (const p of lote) p.resolver(`ok-${p.entrada}`);
          resolve();
        },
        fallar: reject,
      });
    });
  return { lotes, ejecutar };
}

const tic = () => new Promise((r) => setImmediate(r));

describe('AgrupadorPorLotes', () => {
  it('una solicitud sola sale enseguida, sin esperar a otras', async () => {
    const { lotes, ejecutar } = ejecutorControlado();
    const agrupador = new AgrupadorPorLotes({ enVueloMaximo: 2, loteMaximo: 10 }, ejecutar);
    const respuesta = agrupador.enviar(1);
    expect(lotes.map((l) => l.entradas)).toEqual([[1]]);
    lotes[0]?.soltar();
    await expect(respuesta).resolves.toBe('ok-1');
  });

  it('con todos los huecos ocupados, las que llegan se juntan en el siguiente lote', async () => {
    const { lotes, ejecutar } = ejecutorControlado();
    const agrupador = new AgrupadorPorLotes({ enVueloMaximo: 2, loteMaximo: 10 }, ejecutar);
    const respuestas = [1, 2, 3, 4, 5, 6].map((n) => agrupador.enviar(n));
    expect(lotes.map((l) => l.entradas)).toEqual([[1], [2]]);
    expect(agrupador.metricas()).toMatchObject({ enVuelo: 2, enCola: 4 });
    lotes[0]?.soltar();
    await tic();
    expect(lotes.map((l) => l.entradas)).toEqual([[1], [2], [3, 4, 5, 6]]);
    lotes[1]?.soltar();
    lotes[2]?.soltar();
    await expect(Promise.all(respuestas)).resolves.toEqual(['ok-1', 'ok-2', 'ok-3', 'ok-4', 'ok-5', 'ok-6']);
    expect(agrupador.metricas()).toEqual({ solicitudes: 6, lotes: 3, mayorLote: 4, enVuelo: 0, enCola: 0 });
  });

  it('respeta el tamaño máximo de lote', async () => {
    const { lotes, ejecutar } = ejecutorControlado();
    const agrupador = new AgrupadorPorLotes({ enVueloMaximo: 1, loteMaximo: 3 }, ejecutar);
    const respuestas = Array.from({ length: 8 }, (_, i) => agrupador.enviar(i));
    for (let i = 0; i < 4; i += 1) {
      lotes[i]?.soltar();
      await tic();
    }
    await Promise.all(respuestas);
    expect(lotes.map((l) => l.entradas)).toEqual([[0], [1, 2, 3], [4, 5, 6], [7]]);
  });

  it('si el lote lanza, rechaza a quienes no respondió con un Error que lleva la causa', async () => {
    const { lotes, ejecutar } = ejecutorControlado();
    const agrupador = new AgrupadorPorLotes({ enVueloMaximo: 1, loteMaximo: 10 }, ejecutar);
    const primera = agrupador.enviar(1);
    const resto = [2, 3].map((n) => agrupador.enviar(n));
    lotes[0]?.soltar();
    await tic();
    const causa = new Error('conexión perdida');
    lotes[1]?.fallar(causa);
    await expect(primera).resolves.toBe('ok-1');
    for (const r of resto) {
      await expect(r).rejects.toSatisfy((e: unknown) => e instanceof Error && e.cause === causa);
    }
    // Sigue funcionando después.
    const despues = agrupador.enviar(4);
    lotes[2]?.soltar();
    await expect(despues).resolves.toBe('ok-4');
  });

  it('vaciar espera a que no quede nada en cola ni en vuelo', async () => {
    const { lotes, ejecutar } = ejecutorControlado();
    const agrupador = new AgrupadorPorLotes({ enVueloMaximo: 1, loteMaximo: 10 }, ejecutar);
    void agrupador.enviar(1);
    void agrupador.enviar(2);
    let vacio = false;
    const vaciado = agrupador.vaciar().then(() => {
      vacio = true;
    });
    lotes[0]?.soltar();
    await tic();
    expect(vacio).toBe(false);
    lotes[1]?.soltar();
    await vaciado;
    expect(vacio).toBe(true);
  });

  it('rechaza opciones sin sentido', () => {
    expect(() => new AgrupadorPorLotes({ enVueloMaximo: 0, loteMaximo: 1 }, async () => {})).toThrow(RangeError);
    expect(() => new AgrupadorPorLotes({ enVueloMaximo: 1, loteMaximo: 0.5 }, async () => {})).toThrow(RangeError);
  });
});
