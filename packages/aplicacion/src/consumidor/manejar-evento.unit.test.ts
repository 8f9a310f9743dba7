import { describe, expect, it } from 'vitest';
import {
  iniciarProcesamiento,
  registrarExito,
  type EventoPago,
  type PasarelaDePagos,
  type ResultadoPago,
  type SolicitudCobro,
} from '@aeropartners/dominio';
import { crearManejadorProcesarPago } from '../comandos/procesar-pago.js';
import { RepositorioPagosEnMemoria, idsSecuenciales, relojFijo } from '../testing/dobles.js';
import { crearManejadorEventos } from './manejar-evento.js';

/** Pasarela idempotente por clave que responde según un guion y cuenta cobros reales. */
function pasarelaConGuion(guion: ResultadoPago[] = []) {
  const llamadas: SolicitudCobro[] = [];
  const resultados = new Map<string, ResultadoPago>();
  const pasarela: PasarelaDePagos = {
    async cobrar(solicitud) {
      llamadas.push(solicitud);
      const previo = resultados.get(solicitud.claveIdempotencia);
      if (previo) return previo;
      await new Promise((r) => setTimeout(r, 1));
      const siguiente = guion.shift() ?? { tipo: 'exitoso', referenciaTransaccion: `tr_${solicitud.idPago}` };
      if (siguiente.tipo !== 'transitorio') resultados.set(solicitud.claveIdempotencia, siguiente);
      return siguiente;
    },
  };
  return { pasarela, llamadas, cobros: () => [...resultados.values()].filter((r) => r.tipo === 'exitoso').length };
}

async function preparar(guion?: ResultadoPago[]) {
  const repo = new RepositorioPagosEnMemoria();
  const reloj = relojFijo();
  const nuevoId = idsSecuenciales();
  const { pasarela, llamadas, cobros } = pasarelaConGuion(guion);
  const esperas: number[] = [];
  const manejar = crearManejadorEventos({
    suscripcion: 'consumidor-pagos',
    repositorio: repo,
    inbox: repo,
    pasarela,
    reloj,
    nuevoId,
    intentosPasarela: 3,
    backoffPasarelaMs: 100,
    dormir: async (ms) => {
      esperas.push(ms);
    },
  });
  const creado = await crearManejadorProcesarPago({ repositorio: repo, reloj, nuevoId })({
    tipo: 'ProcesarPago',
    idSocio: 'socio-1',
    idAfiliado: 'afiliado-1',
    monto: '99.90',
    moneda: 'EUR',
    referenciaPago: 'ref-1',
    traza: { idCorrelacion: 'corr-1' },
  });
  if (!creado.ok) throw new Error('no se creó el pago');
  const pendiente = repo.outbox[0]?.evento as EventoPago;
  return { repo, manejar, pendiente, llamadas, cobros, esperas, reloj, nuevoId, idPago: creado.valor.pago.id };
}

const traza = { idCorrelacion: 'corr-1' };
const tipos = (repo: RepositorioPagosEnMemoria) => repo.outbox.map((f) => f.evento.tipo);

describe('manejar eventos de pago', () => {
  it('dado un PagoPendiente, entonces PROCESANDO, cobro con clave = id del pago, y EXITOSO con su evento', async () => {
    const { repo, manejar, pendiente, llamadas, idPago } = await preparar();
    const r = await manejar(pendiente, traza);
    expect(r).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO', version: 3, mensajeError: null }, intentosPasarela: 1 });
    expect(llamadas.map((l) => l.claveIdempotencia)).toEqual([idPago]);
    expect(tipos(repo)).toEqual(['PagoPendiente', 'PagoExitoso']);
    expect((await repo.historial(idPago))?.map((h) => h.tipoEvento)).toEqual(['PagoPendiente', 'PagoProcesando', 'PagoExitoso']);
    expect(await repo.yaProcesado('consumidor-pagos', pendiente.idEvento)).toBe(true);
  });

  it('dada una reentrega del mismo evento, entonces duplicado: ni cobro ni evento nuevos', async () => {
    const { repo, manejar, pendiente, llamadas } = await preparar();
    await manejar(pendiente, traza);
    expect(await manejar(pendiente, traza)).toEqual({ tipo: 'duplicado' });
    expect(llamadas).toHaveLength(1);
    expect(tipos(repo)).toHaveLength(2);
  });

  it('dada una caída entre fases (pago en PROCESANDO sin inbox), entonces reintenta con la misma clave y termina una vez', async () => {
    const { repo, manejar, pendiente, llamadas, cobros, reloj, nuevoId, idPago } = await preparar();
    // Simula la primera entrega: fase 1 confirmada y cobro hecho, caída antes de confirmar el desenlace.
    const pago = (await repo.obtener(idPago))!;
    const procesando = iniciarProcesamiento(pago, { ahora: reloj.ahora(), nuevoId });
    if (!procesando.ok) throw new Error();
    await repo.guardar(procesando.valor, 1, traza);
    await manejar(pendiente, traza).catch(() => {}); // no importa: volvemos a entregar
    const r = await manejar(pendiente, traza);
    expect(['duplicado', 'procesado']).toContain(r.tipo);
    expect(cobros()).toBe(1);
    expect(new Set(llamadas.map((l) => l.claveIdempotencia))).toEqual(new Set([idPago]));
    expect(tipos(repo).filter((t) => t === 'PagoExitoso')).toHaveLength(1);
  });

  it('dados fallos transitorios, entonces reintenta con backoff y luego cobra', async () => {
    const { manejar, pendiente, esperas } = await preparar([
      { tipo: 'transitorio', mensaje: 'timeout' },
      { tipo: 'transitorio', mensaje: 'timeout' },
    ]);
    expect(await manejar(pendiente, traza)).toMatchObject({ tipo: 'procesado', intentosPasarela: 3, pago: { estado: 'EXITOSO' } });
    expect(esperas).toEqual([100, 200]);
  });

  it('dados fallos transitorios sin fin, entonces FALLIDO con un mensaje claro tras el tope de intentos', async () => {
    const transitorio: ResultadoPago = { tipo: 'transitorio', mensaje: 'pasarela caída' };
    const { manejar, pendiente } = await preparar([transitorio, transitorio, transitorio]);
    const r = await manejar(pendiente, traza);
    expect(r).toMatchObject({
      tipo: 'procesado',
      pago: { estado: 'FALLIDO', mensajeError: 'La pasarela no respondió tras 3 intentos: pasarela caída' },
    });
  });

  it('dado un rechazo, entonces FALLIDO con el mensaje de la pasarela y sin referencia de transacción', async () => {
    const { repo, manejar, pendiente } = await preparar([{ tipo: 'rechazado', mensaje: 'Fondos insuficientes' }]);
    const r = await manejar(pendiente, traza);
    expect(r).toMatchObject({ tipo: 'procesado', pago: { estado: 'FALLIDO', mensajeError: 'Fondos insuficientes', referenciaTransaccion: null } });
    expect(tipos(repo)).toEqual(['PagoPendiente', 'PagoFallido']);
  });

  it('dado un PagoPendiente que llega después de que el pago terminó, entonces se juzga por versión: obsoleto y sin cobro', async () => {
    const { repo, manejar, pendiente, llamadas, reloj, nuevoId, idPago } = await preparar();
    const ctx = { ahora: reloj.ahora(), nuevoId };
    const p1 = iniciarProcesamiento((await repo.obtener(idPago))!, ctx);
    if (!p1.ok) throw new Error();
    await repo.guardar(p1.valor, 1, traza);
    const p2 = registrarExito(p1.valor.pago, 'tr_otro', ctx);
    if (!p2.ok) throw new Error();
    await repo.guardar(p2.valor, 2, traza);
    expect(await manejar(pendiente, traza)).toEqual({ tipo: 'obsoleto', estadoActual: 'EXITOSO', versionActual: 3 });
    expect(llamadas).toHaveLength(0);
  });

  it('dadas dos entregas concurrentes del mismo evento, entonces un cobro y un solo desenlace', async () => {
    const { repo, manejar, pendiente, cobros, idPago } = await preparar();
    const resultados = await Promise.all([manejar(pendiente, traza), manejar(pendiente, traza), manejar(pendiente, traza)]);
    expect(resultados.filter((r) => r.tipo === 'procesado')).toHaveLength(1);
    expect(cobros()).toBe(1);
    expect(tipos(repo).filter((t) => t === 'PagoExitoso')).toHaveLength(1);
    expect((await repo.historial(idPago))?.filter((h) => h.tipoEvento === 'PagoProcesando')).toHaveLength(1);
  });

  it('dado un evento de un pago inexistente, entonces pagoInexistente', async () => {
    const { manejar, pendiente } = await preparar();
    expect(await manejar({ ...pendiente, idEvento: 'otro', idPago: 'no-existe' }, traza)).toEqual({ tipo: 'pagoInexistente' });
  });

  it('los eventos de desenlace se registran una vez', async () => {
    const { repo, manejar, pendiente } = await preparar();
    await manejar(pendiente, traza);
    const exito = repo.outbox.find((f) => f.evento.tipo === 'PagoExitoso')!.evento;
    expect(await manejar(exito, traza)).toEqual({ tipo: 'registrado' });
    expect(await manejar(exito, traza)).toEqual({ tipo: 'duplicado' });
  });
});
