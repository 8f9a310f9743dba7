import { describe, expect, it } from 'vitest';
import { iniciarProcesamiento, registrarExito, type EventoPago } from '@aeropartners/dominio';
import { crearManejadorRegistrarPago } from '../comandos/registrar-pago.js';
import { RepositorioPagosEnMemoria, idsSecuenciales, relojFijo } from '../testing/dobles.js';
import { PasarelaEnMemoria, type DesenlaceProgramado } from '../testing/pasarela-en-memoria.js';
import { crearManejadorEventos, type OpcionesManejador } from './manejar-evento.js';

const DURACION_TURNO_MS = 30_000;

async function preparar(programados: DesenlaceProgramado[] = [], extra: Partial<OpcionesManejador> = {}) {
  const repo = new RepositorioPagosEnMemoria();
  const reloj = relojFijo();
  const nuevoId = idsSecuenciales();
  const pasarela = new PasarelaEnMemoria({ espera: () => new Promise((r) => setTimeout(r, 1)) });
  const esperas: number[] = [];
  const opciones: OpcionesManejador = {
    suscripcion: 'consumidor-pagos',
    repositorio: repo,
    inbox: repo,
    pasarela,
    turnos: repo,
    titular: 'consumidor-a',
    duracionTurnoMs: DURACION_TURNO_MS,
    reloj,
    nuevoId,
    intentosPasarela: 3,
    backoffPasarelaMs: 100,
    dormir: async (ms) => {
      esperas.push(ms);
    },
    ...extra,
  };
  const manejar = crearManejadorEventos(opciones);
  const creado = await crearManejadorRegistrarPago({ repositorio: repo, reloj, nuevoId })({
    tipo: 'RegistrarPago',
    ambito: { idSocio: 'socio-1', modo: 'live' },
    credencial: { idClave: null },
    idAfiliado: 'afiliado-1',
    monto: '99.90',
    moneda: 'EUR',
    referenciaPago: 'ref-1',
    traza: { idCorrelacion: 'corr-1' },
  });
  if (!creado.ok) throw new Error('no se creó el pago');
  const idPago = creado.valor.pago.id;
  pasarela.programar(idPago, ...programados);
  const pendiente = repo.outbox[0]?.evento as EventoPago;
  /** Deja el pago en PROCESANDO, como una entrega anterior que cayó tras la fase 1. */
  const dejarEnProcesando = async () => {
    const pago = (await repo.obtener(idPago))!;
    const procesando = iniciarProcesamiento(pago, { ahora: reloj.ahora(), nuevoId });
    if (!procesando.ok) throw new Error('no se pudo iniciar');
    await repo.guardar(procesando.valor, pago.version, traza);
  };
  return { repo, manejar, pendiente, pasarela, esperas, reloj, nuevoId, idPago, opciones, dejarEnProcesando };
}

const traza = { idCorrelacion: 'corr-1' };
const tipos = (repo: RepositorioPagosEnMemoria) => repo.outbox.map((f) => f.evento.tipo);

describe('manejar eventos de pago', () => {
  it('la traza del mensaje (con el Request-Id de la petición que creó el pago) queda en cada paso que escribe', async () => {
    const { repo, manejar, pendiente, idPago } = await preparar();
    await manejar(pendiente, { idCorrelacion: 'corr-1', idSolicitud: 'req_0190' });
    const historial = await repo.historial({ idSocio: 'socio-1', modo: 'live' }, idPago);
    expect(historial?.map((h) => [h.tipoEvento, h.idSolicitud])).toEqual([
      ['PagoPendiente', null],
      ['PagoProcesando', 'req_0190'],
      ['PagoExitoso', 'req_0190'],
    ]);
    expect(repo.outbox.at(-1)?.traza.idSolicitud).toBe('req_0190');
  });

  it('dado un PagoPendiente, entonces PROCESANDO, cobro con clave = id del pago, y EXITOSO con su evento', async () => {
    const { repo, manejar, pendiente, pasarela, idPago } = await preparar();
    const r = await manejar(pendiente, traza);
    expect(r).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO', version: 3, mensajeError: null }, intentosPasarela: 1 });
    expect(pasarela.llamadas.map((l) => l.solicitud.claveIdempotencia)).toEqual([idPago]);
    expect(pasarela.consultas, 'un pago que llega PENDIENTE no se consulta antes de cobrar').toEqual([]);
    expect(tipos(repo)).toEqual(['PagoPendiente', 'PagoExitoso']);
    expect((await repo.historial({ idSocio: 'socio-1', modo: 'live' }, idPago))?.map((h) => h.tipoEvento)).toEqual([
      'PagoPendiente',
      'PagoProcesando',
      'PagoExitoso',
    ]);
    expect(await repo.yaProcesado('consumidor-pagos', pendiente.idEvento)).toBe(true);
    expect(repo.turnos.has(idPago), 'el desenlace final suelta el turno de cobro').toBe(false);
  });

  it('dada una reentrega del mismo evento, entonces duplicado: ni cobro ni evento nuevos', async () => {
    const { repo, manejar, pendiente, pasarela } = await preparar();
    await manejar(pendiente, traza);
    expect(await manejar(pendiente, traza)).toEqual({ tipo: 'duplicado' });
    expect(pasarela.llamadas).toHaveLength(1);
    expect(tipos(repo)).toHaveLength(2);
  });

  it('dada una caída entre fases (pago en PROCESANDO sin inbox), entonces pregunta a la pasarela antes de cobrar y termina una vez', async () => {
    const { repo, manejar, pendiente, pasarela, idPago, dejarEnProcesando } = await preparar();
    await dejarEnProcesando();
    const r = await manejar(pendiente, traza);
    expect(r).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO' } });
    expect(pasarela.consultas.map((c) => c.idPago)).toEqual([idPago]);
    expect(pasarela.contarCargos(idPago)).toBe(1);
    expect(tipos(repo).filter((t) => t === 'PagoExitoso')).toHaveLength(1);
  });

  it('dado un cobro hecho cuya respuesta se perdió, entonces la consulta lo encuentra: EXITOSO con su referencia y un solo cargo', async () => {
    const { manejar, pendiente, pasarela, idPago } = await preparar(['exitosoSinRespuesta']);
    const r = await manejar(pendiente, traza);
    const [cargo] = pasarela.cargosDe(idPago);
    expect(r).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO', referenciaTransaccion: cargo?.referenciaTransaccion } });
    expect(pasarela.contarCargos(idPago)).toBe(1);
    expect(pasarela.consultas).toHaveLength(1);
  });

  it('dadas respuestas inciertas sin cobro, entonces pregunta, reintenta con la misma clave y backoff, y luego cobra', async () => {
    const { manejar, pendiente, esperas, pasarela, idPago } = await preparar(['incierto', 'incierto']);
    expect(await manejar(pendiente, traza)).toMatchObject({ tipo: 'procesado', intentosPasarela: 3, pago: { estado: 'EXITOSO' } });
    expect(esperas).toEqual([100, 200]);
    expect(new Set(pasarela.llamadas.map((l) => l.solicitud.claveIdempotencia))).toEqual(new Set([idPago]));
    expect(pasarela.contarCargos(idPago)).toBe(1);
  });

  // Defecto: agotar los intentos con respuestas inciertas convertía el pago en FALLIDO, aunque el dinero
  // pudo haberse movido (un cobro hecho con la respuesta perdida acababa FALLIDO con la transferencia hecha).
  it('dadas respuestas inciertas sin fin, entonces el pago sigue en PROCESANDO: incierto, nunca FALLIDO, y el turno se suelta', async () => {
    const { repo, manejar, pendiente, idPago } = await preparar(['incierto', 'incierto', 'incierto', 'incierto', 'incierto', 'incierto']);
    const r = await manejar(pendiente, traza);
    expect(r).toMatchObject({ tipo: 'incierto', intentosPasarela: 3 });
    expect((await repo.obtener(idPago))?.estado).toBe('PROCESANDO');
    expect(tipos(repo)).toEqual(['PagoPendiente']);
    expect(await repo.yaProcesado('consumidor-pagos', pendiente.idEvento), 'sin anotar: la reentrega lo vuelve a intentar').toBe(false);
    expect(repo.turnos.has(idPago)).toBe(false);
  });

  it('dado un cobro que la pasarela hizo aunque olvidó la clave (24 h después), entonces la reentrega no transfiere otra vez', async () => {
    // La primera entrega cobra y pierde la respuesta, y no llega a escribir el desenlace (un solo intento).
    // Sin nada más programado, un cobro nuevo con la clave olvidada transferiría otra vez.
    const { manejar, pendiente, pasarela, idPago, opciones } = await preparar(['exitosoSinRespuesta']);
    const corta = crearManejadorEventos({ ...opciones, intentosPasarela: 1 });
    expect(await corta(pendiente, traza)).toMatchObject({ tipo: 'incierto' });
    expect(pasarela.contarCargos(idPago)).toBe(1);
    pasarela.olvidarClaves();
    const r = await manejar(pendiente, traza);
    expect(r).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO' } });
    expect(pasarela.contarCargos(idPago), 'una sola transferencia aunque la clave ya no proteja').toBe(1);
  });

  it('dada una reentrega que encuentra el pago en PROCESANDO y la pasarela ya tiene su cobro, entonces avisa un duplicado absorbido en la pasarela (una vez); la consulta tras un incierto de la misma entrega no avisa', async () => {
    const avisados: string[] = [];
    const { manejar, pendiente, pasarela, idPago, opciones } = await preparar(['exitosoSinRespuesta'], {
      alCobroYaDecidido: (pago) => avisados.push(pago.id),
    });
    // La primera entrega cobra, pierde la respuesta y pregunta en su segundo intento: no es un duplicado.
    const primera = crearManejadorEventos({ ...opciones, intentosPasarela: 1 });
    expect(await primera(pendiente, traza)).toMatchObject({ tipo: 'incierto' });
    expect(avisados).toEqual([]);
    // La reentrega pregunta antes de cobrar y encuentra el cobro: sin cobrar otra vez, un duplicado.
    expect(await manejar(pendiente, traza)).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO' } });
    expect(avisados).toEqual([idPago]);
    expect(pasarela.contarCargos(idPago)).toBe(1);
    const otra = await preparar(['exitosoSinRespuesta'], { alCobroYaDecidido: (pago) => avisados.push(pago.id) });
    expect(await otra.manejar(otra.pendiente, traza)).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO' } });
    expect(otra.pasarela.consultas).toHaveLength(1);
    expect(avisados).toEqual([idPago]);
  });

  it('dado un rechazo, entonces FALLIDO con el mensaje de la pasarela y sin referencia de transacción', async () => {
    const { repo, manejar, pendiente } = await preparar([{ tipo: 'rechazado', mensaje: 'Fondos insuficientes' }]);
    const r = await manejar(pendiente, traza);
    expect(r).toMatchObject({
      tipo: 'procesado',
      pago: { estado: 'FALLIDO', mensajeError: 'Fondos insuficientes', referenciaTransaccion: null },
    });
    expect(tipos(repo)).toEqual(['PagoPendiente', 'PagoFallido']);
  });

  it('dado un PagoPendiente que llega después de que el pago terminó, entonces se juzga por versión: obsoleto y sin cobro', async () => {
    const { repo, manejar, pendiente, pasarela, reloj, nuevoId, idPago } = await preparar();
    const ctx = { ahora: reloj.ahora(), nuevoId };
    const p1 = iniciarProcesamiento((await repo.obtener(idPago))!, ctx);
    if (!p1.ok) throw new Error();
    await repo.guardar(p1.valor, 1, traza);
    const p2 = registrarExito(p1.valor.pago, 'tr_otro', ctx);
    if (!p2.ok) throw new Error();
    await repo.guardar(p2.valor, 2, traza);
    expect(await manejar(pendiente, traza)).toEqual({ tipo: 'obsoleto', estadoActual: 'EXITOSO', versionActual: 3 });
    expect(pasarela.llamadas).toHaveLength(0);
  });

  it('dadas entregas concurrentes del mismo evento, entonces un solo paso de pasarela a la vez: un cobro y un desenlace; las demás esperan su turno', async () => {
    const { repo, manejar, pendiente, pasarela, idPago } = await preparar();
    const resultados = await Promise.all([manejar(pendiente, traza), manejar(pendiente, traza), manejar(pendiente, traza)]);
    expect(resultados.filter((r) => r.tipo === 'procesado')).toHaveLength(1);
    for (const r of resultados.filter((x) => x.tipo !== 'procesado')) expect(['ocupado', 'duplicado', 'obsoleto']).toContain(r.tipo);
    expect(pasarela.contarCargos(idPago)).toBe(1);
    expect(pasarela.llamadas.filter((l) => l.tipo === 'decidida')).toHaveLength(1);
    expect(tipos(repo).filter((t) => t === 'PagoExitoso')).toHaveLength(1);
    expect(
      (await repo.historial({ idSocio: 'socio-1', modo: 'live' }, idPago))?.filter((h) => h.tipoEvento === 'PagoProcesando'),
    ).toHaveLength(1);
  });

  it('dado un turno de cobro vigente de otro consumidor, entonces ocupado sin llamar a la pasarela, con cuándo reintentar', async () => {
    const { repo, manejar, pendiente, pasarela, idPago, dejarEnProcesando } = await preparar();
    await dejarEnProcesando();
    repo.ahoraMs = () => 1_000;
    expect(await repo.tomar(idPago, 'consumidor-b', 5_000)).toEqual({ tomado: true });
    repo.ahoraMs = () => 2_000;
    expect(await manejar(pendiente, traza)).toEqual({ tipo: 'ocupado', reintentarEnMs: 4_000 });
    expect(pasarela.llamadas).toHaveLength(0);
    expect(pasarela.consultas).toHaveLength(0);
    // Vencido el turno (su titular murió), esta entrega lo toma y termina el pago.
    repo.ahoraMs = () => 7_000;
    expect(await manejar(pendiente, traza)).toMatchObject({ tipo: 'procesado' });
  });

  it('dada la señal del broker abortada (lease perdido), entonces abandona sin llamar a la pasarela ni escribir', async () => {
    const { repo, manejar, pendiente, pasarela, idPago, dejarEnProcesando } = await preparar();
    await dejarEnProcesando();
    const controlador = new AbortController();
    controlador.abort(new Error('lease perdido'));
    expect(await manejar(pendiente, traza, controlador.signal)).toEqual({ tipo: 'abandonado', motivo: 'lease perdido' });
    expect(pasarela.llamadas).toHaveLength(0);
    expect((await repo.obtener(idPago))?.estado).toBe('PROCESANDO');
  });

  it('dada la señal abortada mientras se espera tras un incierto, entonces no se da otro paso de pasarela', async () => {
    const controlador = new AbortController();
    const { manejar, pendiente, pasarela, repo, idPago } = await preparar(['incierto', 'incierto'], {
      dormir: async () => controlador.abort(new Error('lease perdido')),
    });
    expect(await manejar(pendiente, traza, controlador.signal)).toEqual({ tipo: 'abandonado', motivo: 'lease perdido' });
    expect(pasarela.llamadas).toHaveLength(1);
    expect(repo.turnos.has(idPago), 'el turno se suelta al abandonar').toBe(false);
  });

  it('dado que otro consumidor se queda el turno a mitad del paso, entonces la renovación lo detecta y no se da otro paso', async () => {
    const { manejar, pendiente, pasarela, repo, idPago } = await preparar(['incierto', 'incierto'], {
      duracionTurnoMs: 30,
      dormir: async () => {
        // Mientras esperamos, el turno vence y otro lo toma; la renovación periódica lo descubre.
        repo.turnos.set(idPago, { titular: 'consumidor-b', hastaMs: Date.now() + 60_000 });
        await new Promise((r) => setTimeout(r, 40));
      },
    });
    expect(await manejar(pendiente, traza)).toMatchObject({ tipo: 'abandonado' });
    expect(pasarela.llamadas).toHaveLength(1);
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
