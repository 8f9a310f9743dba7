import { crearBrokerPulsar } from '@aeropartners/adaptadores';
import { PulsarFalso } from '@aeropartners/adaptadores/testing';
import {
  crearManejadorEventos,
  crearManejadorProcesarPago,
  type Broker,
  type DesenlaceEvento,
  type MensajeSaliente,
  type Publicador,
} from '@aeropartners/aplicacion';
import {
  BrokerEnMemoria,
  PasarelaEnMemoria,
  RepositorioPagosEnMemoria,
  idsSecuenciales,
  relojFijo,
} from '@aeropartners/aplicacion/testing';
import type { EventoPago, PasarelaDePagos } from '@aeropartners/dominio';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SuscripcionGuionada,
  entrante,
  esperarHasta,
  eventoSintetico,
  mensajeDe,
  registroEnMemoria,
  uuid,
} from '../test/apoyo.js';
import { crearConsumidor, type Consumidor, type ManejarEvento } from './app.js';

const SUSCRIPCION = 'consumidor-pagos';
const abiertos: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cerrar of abiertos.splice(0).reverse()) await cerrar();
});

interface Escenario {
  readonly broker: Broker;
  readonly publicador: Publicador;
  readonly repo: RepositorioPagosEnMemoria;
  readonly pasarela: PasarelaEnMemoria;
  readonly registro: ReturnType<typeof registroEnMemoria>;
  /** Crea `n` pagos y publica su PagoPendiente con el sobre del relay. Devuelve sus ids. */
  crearYPublicar(n: number): Promise<string[]>;
  /** Publica lo que el consumidor dejó en el outbox (PagoProcesando, PagoExitoso…), como el relay. */
  publicarOutbox(): Promise<number>;
  publicar(...mensajes: MensajeSaliente[]): Promise<void>;
  siguienteSecuencia(): number;
  /** Un consumidor nuevo sobre una suscripción nueva del mismo broker. */
  consumidor(opciones?: { enVuelo?: number; pasarela?: PasarelaDePagos }): Promise<Consumidor>;
}

async function escenario(
  opciones: { broker?: Broker; duplicarEntregas?: boolean; pasarela?: PasarelaEnMemoria; maximoEntregas?: number } = {},
): Promise<Escenario> {
  const broker = opciones.broker ?? new BrokerEnMemoria({ duplicarEntregas: opciones.duplicarEntregas ?? false });
  abiertos.push(() => broker.cerrar());
  // La suscripción existe antes de publicar (como `suscripciones` del broker embebido).
  const primera = await broker.suscribir({ suscripcion: SUSCRIPCION, maximoEntregas: opciones.maximoEntregas ?? 5, retrasoReentregaMs: 10 });
  const publicador = await broker.crearPublicador('relay-prueba');
  const repo = new RepositorioPagosEnMemoria();
  const reloj = relojFijo();
  const nuevoId = idsSecuenciales(1);
  const pasarela = opciones.pasarela ?? new PasarelaEnMemoria();
  const registro = registroEnMemoria();
  const crearPago = crearManejadorProcesarPago({ repositorio: repo, reloj, nuevoId });
  let secuencia = 0;
  let pagos = 0;
  let suscripcionLibre: typeof primera | undefined = primera;

  const publicarFilas = async (filas: typeof repo.outbox) => {
    for (const f of filas) f.publicado = true;
    if (filas.length > 0) await publicador.publicar(filas.map((f) => mensajeDe(f.evento, f.traza, ++secuencia)));
    return filas.length;
  };

  return {
    broker,
    publicador,
    repo,
    pasarela,
    registro,
    async crearYPublicar(n) {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        pagos += 1;
        const r = await crearPago({
          tipo: 'ProcesarPago',
          idSocio: 'socio-1',
          idAfiliado: `afiliado-${pagos % 3}`,
          monto: `${10 + pagos}.50`,
          moneda: 'EUR',
          referenciaPago: `ref-${pagos}`,
          traza: { idCorrelacion: `corr-${pagos}` },
        });
        if (!r.ok) throw new Error('no se creó el pago');
        ids.push(r.valor.pago.id);
      }
      await publicarFilas(repo.outbox.filter((f) => !f.publicado && f.evento.tipo === 'PagoPendiente'));
      return ids;
    },
    publicarOutbox: () => publicarFilas(repo.outbox.filter((f) => !f.publicado)),
    publicar: (...mensajes) => publicador.publicar(mensajes),
    siguienteSecuencia: () => ++secuencia,
    async consumidor(o = {}) {
      const suscripcion =
        suscripcionLibre ?? (await broker.suscribir({ suscripcion: SUSCRIPCION, maximoEntregas: opciones.maximoEntregas ?? 5, retrasoReentregaMs: 10 }));
      suscripcionLibre = undefined;
      const c = crearConsumidor({
        suscripcion,
        enVuelo: o.enVuelo ?? 8,
        logger: registro.logger,
        crearManejador: ({ alReintentar }) =>
          crearManejadorEventos({
            suscripcion: SUSCRIPCION,
            repositorio: repo,
            inbox: repo,
            pasarela: o.pasarela ?? pasarela,
            turnos: repo,
            titular: 'consumidor-prueba',
            duracionTurnoMs: 15_000,
            reloj,
            nuevoId,
            intentosPasarela: 3,
            backoffPasarelaMs: 1,
            dormir: async () => {},
            alReintentar,
          }),
      });
      abiertos.push(() => c.detener());
      c.iniciar();
      return c;
    },
  };
}

const estados = (repo: RepositorioPagosEnMemoria, ids: readonly string[]) => ids.map((id) => repo.pagos.get(id)?.estado);
const finales = (repo: RepositorioPagosEnMemoria, ids: readonly string[]) =>
  estados(repo, ids).every((e) => e === 'EXITOSO' || e === 'FALLIDO');

describe('consumidor: flujo normal', () => {
  it('dados pagos publicados, entonces cada uno termina EXITOSO con un cobro y el mensaje confirmado', async () => {
    const e = await escenario();
    const consumidor = await e.consumidor();
    const ids = await e.crearYPublicar(20);
    await esperarHasta(() => finales(e.repo, ids), 5_000, 'pagos finales');
    await esperarHasta(() => (e.broker as BrokerEnMemoria).pendientes(SUSCRIPCION) === 0, 5_000, 'confirmaciones');
    expect(estados(e.repo, ids)).toEqual(ids.map(() => 'EXITOSO'));
    for (const id of ids) expect(e.pasarela.contarCargos(id)).toBe(1);
    expect(consumidor.contadores()).toMatchObject({ recibidos: 20, procesados: 20, duplicados: 0, muertos: 0, errores: 0 });
  });

  it('dados los eventos de desenlace publicados por el relay, entonces se registran (trazabilidad) sin efectos', async () => {
    const e = await escenario();
    const consumidor = await e.consumidor();
    const ids = await e.crearYPublicar(3);
    await esperarHasta(() => finales(e.repo, ids));
    expect(await e.publicarOutbox()).toBe(3); // el PagoExitoso de cada pago (PagoProcesando no sale por el outbox)
    await esperarHasta(() => consumidor.contadores().registrados === 3, 5_000, 'registrados');
    expect(consumidor.contadores()).toMatchObject({ recibidos: 6, procesados: 3, registrados: 3, errores: 0 });
    expect(e.pasarela.cargos).toHaveLength(3);
  });

  it('cada línea de registro de un mensaje lleva id_correlacion, id_pago, id_evento y tipo', async () => {
    const e = await escenario({ pasarela: new PasarelaEnMemoria() });
    const consumidor = await e.consumidor();
    const [id] = await e.crearYPublicar(1);
    e.pasarela.programar(id!, 'incierto', 'exitoso');
    await esperarHasta(() => finales(e.repo, [id!]));
    await esperarHasta(() => e.registro.lineas.some((l) => l.nivel === 'info'));
    const info = e.registro.lineas.find((l) => l.nivel === 'info')!;
    expect(info.campos).toMatchObject({
      id_correlacion: 'corr-1',
      id_pago: id,
      tipo: 'PagoPendiente',
      desenlace: 'procesado',
      estado: 'EXITOSO',
      intentos_pasarela: 2,
    });
    expect(info.campos['id_evento']).toEqual(expect.any(String));
    expect(info.campos['duracion_ms']).toEqual(expect.any(Number));
    const reintento = e.registro.lineas.find((l) => l.nivel === 'warn')!;
    expect(reintento.campos).toMatchObject({ id_correlacion: 'corr-1', id_pago: id, tipo: 'PagoPendiente', intento: 1 });
    expect(consumidor.contadores().reintentosPasarela).toBe(1);
  });
});

describe('consumidor: duplicados', () => {
  it('dado un broker que entrega cada mensaje dos veces, entonces un cobro por pago y los duplicados contados en el inbox', async () => {
    const e = await escenario({ duplicarEntregas: true });
    const consumidor = await e.consumidor({ enVuelo: 16 });
    const ids = await e.crearYPublicar(25);
    await esperarHasta(() => consumidor.contadores().recibidos === 50, 5_000, 'las 50 entregas');
    await esperarHasta(() => (e.broker as BrokerEnMemoria).pendientes(SUSCRIPCION) === 0, 5_000, 'confirmaciones');
    expect(finales(e.repo, ids)).toBe(true);
    for (const id of ids) expect(e.pasarela.contarCargos(id)).toBe(1);
    expect(e.repo.outbox.filter((f) => f.evento.tipo === 'PagoExitoso')).toHaveLength(25);
    expect(consumidor.contadores()).toMatchObject({ recibidos: 50, procesados: 25, duplicados: 25, errores: 0 });
  });

  it('con Pulsar (cliente falso) que duplica y reordena entre claves, entonces un cobro por pago', async () => {
    const falso = new PulsarFalso({ semilla: 11, duplicar: 0.5, reordenar: 0.3 });
    const broker = await crearBrokerPulsar({ url: 'pulsar://falso:6650', topico: 'pagos-prueba', crearCliente: falso.crearCliente });
    const e = await escenario({ broker });
    const consumidor = await e.consumidor({ enVuelo: 8 });
    const ids = await e.crearYPublicar(30);
    await esperarHasta(() => finales(e.repo, ids), 10_000, 'pagos finales');
    await esperarHasta(() => {
      const c = consumidor.contadores();
      return c.recibidos === c.procesados + c.duplicados + c.obsoletos && c.recibidos > 30;
    }, 10_000, 'duplicados absorbidos');
    for (const id of ids) expect(e.pasarela.contarCargos(id)).toBe(1);
    const c = consumidor.contadores();
    expect(c.procesados).toBe(30);
    expect(c.duplicados + c.obsoletos).toBeGreaterThan(0);
    expect(c.errores).toBe(0);
  });
});

describe('consumidor: orden por pago con concurrencia', () => {
  /** Manejador que anota el orden y el solapamiento; cada evento tarda un poco (determinista). */
  function manejadorGrabador() {
    const orden = new Map<string, number[]>();
    const activosPorPago = new Map<string, number>();
    let activos = 0;
    let maximoActivos = 0;
    let solapamientosPorPago = 0;
    const manejar: ManejarEvento = async (evento: EventoPago): Promise<DesenlaceEvento> => {
      const enPago = (activosPorPago.get(evento.idPago) ?? 0) + 1;
      activosPorPago.set(evento.idPago, enPago);
      if (enPago > 1) solapamientosPorPago += 1;
      activos += 1;
      maximoActivos = Math.max(maximoActivos, activos);
      orden.set(evento.idPago, [...(orden.get(evento.idPago) ?? []), evento.version]);
      await new Promise((r) => setTimeout(r, 1 + ((evento.version * 7 + evento.idPago.charCodeAt(35)) % 5)));
      activos -= 1;
      activosPorPago.set(evento.idPago, enPago - 1);
      return { tipo: 'registrado' };
    };
    return { manejar, orden, maximo: () => maximoActivos, solapamientos: () => solapamientosPorPago };
  }

  const PAGOS = 6;
  const VERSIONES = 5;
  /** Intercalados: v1 de cada pago, luego v2 de cada pago… */
  function mensajesIntercalados(secuencia: () => number): MensajeSaliente[] {
    const mensajes: MensajeSaliente[] = [];
    for (let v = 1; v <= VERSIONES; v++) {
      for (let p = 0; p < PAGOS; p++) {
        mensajes.push(mensajeDe(eventoSintetico(uuid(1, p), v, uuid(2, p * 100 + v)), { idCorrelacion: `corr-${p}` }, secuencia()));
      }
    }
    return mensajes;
  }

  it('dados mensajes de varios pagos entregados sin esperar confirmaciones, entonces paraleliza entre pagos y nunca dentro de uno', async () => {
    const suscripcion = new SuscripcionGuionada();
    const grabador = manejadorGrabador();
    const consumidor = crearConsumidor({ suscripcion, enVuelo: 4, logger: registroEnMemoria().logger, crearManejador: () => grabador.manejar });
    abiertos.push(() => consumidor.detener());
    let s = 0;
    suscripcion.entregar(...mensajesIntercalados(() => ++s).map((m, i) => entrante(m, String(i + 1))));
    consumidor.iniciar();
    await esperarHasta(() => suscripcion.confirmados.length === PAGOS * VERSIONES, 5_000, 'confirmaciones');
    for (let p = 0; p < PAGOS; p++) expect(grabador.orden.get(uuid(1, p))).toEqual([1, 2, 3, 4, 5]);
    expect(grabador.solapamientos()).toBe(0);
    expect(grabador.maximo()).toBeGreaterThan(1);
    expect(grabador.maximo()).toBeLessThanOrEqual(4);
  });

  it('dado un mismo pago con muchos mensajes retenidos, entonces respeta el límite en vuelo y no se atasca', async () => {
    const suscripcion = new SuscripcionGuionada();
    const grabador = manejadorGrabador();
    const consumidor = crearConsumidor({ suscripcion, enVuelo: 3, logger: registroEnMemoria().logger, crearManejador: () => grabador.manejar });
    abiertos.push(() => consumidor.detener());
    const mensajes = Array.from({ length: 12 }, (_, i) =>
      entrante(mensajeDe(eventoSintetico(uuid(1, 0), i + 1, uuid(3, i)), { idCorrelacion: 'c' }, i + 1), String(i + 1)),
    );
    suscripcion.entregar(...mensajes);
    consumidor.iniciar();
    await esperarHasta(() => suscripcion.confirmados.length === 12);
    expect(grabador.orden.get(uuid(1, 0))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(grabador.maximo()).toBe(1);
    expect(consumidor.retenidos()).toBe(0);
  });

  it('con Pulsar (cliente falso, Key_Shared con cola de recepción) y varios eventos por pago, entonces el orden de cada pago se conserva', async () => {
    const falso = new PulsarFalso({ semilla: 5, reordenar: 0.5 });
    const broker = await crearBrokerPulsar({ url: 'pulsar://falso:6650', topico: 'orden-prueba', crearCliente: falso.crearCliente });
    abiertos.push(() => broker.cerrar());
    const suscripcion = await broker.suscribir({ suscripcion: SUSCRIPCION, maximoEntregas: 5, retrasoReentregaMs: 10 });
    const publicador = await broker.crearPublicador('relay-prueba');
    const grabador = manejadorGrabador();
    const consumidor = crearConsumidor({ suscripcion, enVuelo: 6, logger: registroEnMemoria().logger, crearManejador: () => grabador.manejar });
    abiertos.push(() => consumidor.detener());
    let s = 0;
    await publicador.publicar(mensajesIntercalados(() => ++s));
    consumidor.iniciar();
    await esperarHasta(() => consumidor.contadores().registrados === PAGOS * VERSIONES, 5_000, 'registrados');
    for (let p = 0; p < PAGOS; p++) expect(grabador.orden.get(uuid(1, p))).toEqual([1, 2, 3, 4, 5]);
    expect(grabador.solapamientos()).toBe(0);
  });
});

describe('consumidor: mensajes inválidos', () => {
  it('dados mensajes mal formados, entonces van a mensajes muertos con su motivo, contados, y los de detrás siguen fluyendo', async () => {
    const e = await escenario();
    const consumidor = await e.consumidor();
    // Un pago real cuyo PagoPendiente llegará DETRÁS de tres mensajes malos de su misma clave.
    const crearPago = crearManejadorProcesarPago({ repositorio: e.repo, reloj: relojFijo(), nuevoId: idsSecuenciales(9) });
    const r = await crearPago({
      tipo: 'ProcesarPago',
      idSocio: 's',
      idAfiliado: 'a',
      monto: '5.00',
      moneda: 'USD',
      referenciaPago: 'ref-x',
      traza: { idCorrelacion: 'corr-x' },
    });
    if (!r.ok) throw new Error('no se creó');
    const id = r.valor.pago.id;
    const fila = e.repo.outbox.find((f) => f.evento.idPago === id)!;
    fila.publicado = true;
    const bueno = mensajeDe(fila.evento, fila.traza, 0);
    const sobre = JSON.parse(bueno.cuerpo) as { payload: Record<string, unknown> };
    const { id_correlacion: _sinCorrelacion, ...sinCorrelacion } = bueno.propiedades;
    await e.publicar(
      { ...bueno, secuencia: e.siguienteSecuencia(), cuerpo: '{"id_evento": ' },
      { ...bueno, secuencia: e.siguienteSecuencia(), cuerpo: JSON.stringify({ ...sobre, payload: { ...sobre.payload, monto_unidades_menores: 1.5 } }) },
      { ...bueno, secuencia: e.siguienteSecuencia(), propiedades: { ...bueno.propiedades, version: '2' } },
      { ...bueno, secuencia: e.siguienteSecuencia(), propiedades: sinCorrelacion as typeof bueno.propiedades },
      { ...bueno, secuencia: e.siguienteSecuencia(), clave: uuid(7, 7) },
      { ...bueno, secuencia: e.siguienteSecuencia() },
    );
    await esperarHasta(() => finales(e.repo, [id]), 5_000, 'el pago de detrás');
    await esperarHasta(() => (e.broker as BrokerEnMemoria).pendientes(SUSCRIPCION) === 0);
    const muertos = await e.broker.mensajesMuertos(SUSCRIPCION);
    expect(muertos).toHaveLength(5);
    expect(muertos.map((m) => m.motivo)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Mensaje inválido: el cuerpo no es JSON válido/),
        expect.stringMatching(/^Mensaje inválido: sobre inválido: payload\.monto_unidades_menores: /),
        'Mensaje inválido: el mensaje no coincide con su cuerpo: la propiedad version «2» ≠ «1» del cuerpo',
        'Mensaje inválido: falta la propiedad id_correlacion del mensaje',
        expect.stringMatching(/^Mensaje inválido: el mensaje no coincide con su cuerpo: la clave «00000007-0000-7000-8000-000000000007» ≠ /),
      ]),
    );
    expect(e.repo.pagos.get(id)?.estado).toBe('EXITOSO');
    expect(consumidor.contadores()).toMatchObject({ recibidos: 6, muertos: 5, procesados: 1, errores: 0 });
    const avisos = e.registro.lineas.filter((l) => l.nivel === 'warn');
    expect(avisos).toHaveLength(5);
    for (const a of avisos) expect(a.campos).toMatchObject({ id_pago: expect.any(String), id_evento: fila.evento.idEvento, tipo: 'PagoPendiente' });
    expect(avisos.filter((a) => a.campos['id_correlacion'] === 'corr-x')).toHaveLength(4); // el quinto no la traía
  });

  it('dado un evento de un pago que no existe, entonces va a mensajes muertos', async () => {
    const e = await escenario();
    const consumidor = await e.consumidor();
    const evento: EventoPago = {
      tipo: 'PagoPendiente',
      idEvento: uuid(5, 1),
      idPago: uuid(5, 2),
      version: 1,
      ocurridoEn: new Date(),
      datos: { idSocio: 's', idAfiliado: 'a', unidadesMenores: 100, moneda: 'EUR', referenciaPago: 'r' },
    };
    await e.publicar(mensajeDe(evento, { idCorrelacion: 'corr-fantasma' }, e.siguienteSecuencia()));
    await esperarHasta(() => consumidor.contadores().muertos === 1);
    const [muerto] = await e.broker.mensajesMuertos(SUSCRIPCION);
    expect(muerto?.motivo).toBe(`El pago ${uuid(5, 2)} no existe: el evento ${uuid(5, 1)} no se puede aplicar.`);
    expect(e.pasarela.llamadas).toHaveLength(0);
  });
});

describe('consumidor: fallos de infraestructura', () => {
  it('dado un fallo de infraestructura en la pasarela, entonces rechaza, el broker reentrega y el pago termina con un cobro', async () => {
    const e = await escenario();
    const consumidor = await e.consumidor();
    const [id] = await e.crearYPublicar(1);
    e.pasarela.programar(id!, new Error('connect ECONNREFUSED 10.0.0.9:443'));
    await esperarHasta(() => finales(e.repo, [id!]), 5_000, 'el pago reentregado');
    await esperarHasta(() => (e.broker as BrokerEnMemoria).pendientes(SUSCRIPCION) === 0);
    expect(e.repo.pagos.get(id!)?.estado).toBe('EXITOSO');
    expect(e.pasarela.contarCargos(id!)).toBe(1);
    expect(consumidor.contadores()).toMatchObject({ recibidos: 2, errores: 1, rechazados: 1, procesados: 1 });
    const error = e.registro.lineas.find((l) => l.nivel === 'error')!;
    expect(error.campos).toMatchObject({ id_correlacion: 'corr-1', id_pago: id, tipo: 'PagoPendiente', desenlace: 'error', entregas: 1 });
    const info = e.registro.lineas.find((l) => l.nivel === 'info')!;
    expect(info.campos).toMatchObject({ desenlace: 'procesado', entregas: 2 });
  });

  it('dado un rechazo, entonces los que esperaban detrás en su clave vuelven al broker con él (no se adelantan)', async () => {
    const suscripcion = new SuscripcionGuionada();
    const vistos: number[] = [];
    const consumidor = crearConsumidor({
      suscripcion,
      enVuelo: 8,
      logger: registroEnMemoria().logger,
      crearManejador: () => async (evento) => {
        vistos.push(evento.version);
        await new Promise((r) => setTimeout(r, 10));
        if (evento.version === 1) throw new Error('PostgreSQL no responde');
        return { tipo: 'registrado' };
      },
    });
    abiertos.push(() => consumidor.detener());
    const pago = uuid(1, 1);
    suscripcion.entregar(
      ...[1, 2, 3].map((v) => entrante(mensajeDe(eventoSintetico(pago, v, uuid(2, v)), { idCorrelacion: 'c' }, v), `m${v}`)),
      entrante(mensajeDe(eventoSintetico(uuid(1, 2), 2, uuid(3, 1)), { idCorrelacion: 'c' }, 4), 'otro'),
    );
    consumidor.iniciar();
    await esperarHasta(() => suscripcion.rechazados.length === 3 && suscripcion.confirmados.length === 1);
    expect(suscripcion.rechazados).toEqual(['m1', 'm2', 'm3']);
    expect(suscripcion.confirmados).toEqual(['otro']); // el otro pago no espera a este
    expect(vistos).toEqual([1, 2]); // m2 y m3 nunca llegaron al manejador
    expect(consumidor.contadores()).toMatchObject({ recibidos: 4, errores: 1, rechazados: 3, registrados: 1 });
  });

  it('dado un fallo al recibir, entonces lo cuenta, espera y sigue', async () => {
    const suscripcion = new SuscripcionGuionada();
    suscripcion.fallosRecibir = 2;
    const consumidor = crearConsumidor({
      suscripcion,
      enVuelo: 2,
      logger: registroEnMemoria().logger,
      pausaTrasFalloMs: 5,
      crearManejador: () => async () => ({ tipo: 'registrado' }),
    });
    abiertos.push(() => consumidor.detener());
    consumidor.iniciar();
    suscripcion.entregar(entrante(mensajeDe(eventoSintetico(uuid(1, 1), 1, uuid(2, 1)), { idCorrelacion: 'c' }, 1), 'm1'));
    await esperarHasta(() => suscripcion.confirmados.length === 1);
    expect(consumidor.contadores()).toMatchObject({ errores: 2, registrados: 1 });
  });
});

describe('consumidor: parada limpia', () => {
  it('al detener, deja de tomar mensajes, termina y confirma lo que retiene, y entonces cierra; otro consumidor sigue con el resto', async () => {
    let soltar!: () => void;
    const compuerta = new Promise<void>((r) => (soltar = r));
    const pasarela = new PasarelaEnMemoria({ espera: () => compuerta });
    const e = await escenario({ pasarela });
    const consumidor = await e.consumidor({ enVuelo: 2 });
    const ids = await e.crearYPublicar(5);
    await esperarHasta(() => estados(e.repo, ids).filter((x) => x === 'PROCESANDO').length === 2, 5_000, 'dos cobros en curso');
    expect(consumidor.retenidos()).toBe(2);

    let detenido = false;
    const detencion = consumidor.detener().then(() => {
      detenido = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(detenido).toBe(false); // espera a los cobros en curso
    expect(consumidor.contadores().recibidos).toBe(2); // y no toma más

    soltar();
    await detencion;
    const tomados = ids.filter((id) => e.repo.pagos.get(id)?.estado !== 'PENDIENTE');
    expect(tomados).toHaveLength(2);
    expect(estados(e.repo, tomados)).toEqual(['EXITOSO', 'EXITOSO']);
    expect(consumidor.contadores()).toMatchObject({ recibidos: 2, procesados: 2, errores: 0 });
    expect((e.broker as BrokerEnMemoria).pendientes(SUSCRIPCION)).toBe(3); // los dos tomados se confirmaron

    const siguiente = await e.consumidor();
    await esperarHasta(() => finales(e.repo, ids), 5_000, 'el resto');
    expect(siguiente.contadores().procesados).toBe(3);
    for (const id of ids) expect(pasarela.contarCargos(id)).toBe(1);
  });

  it('detener es idempotente y vale sin haber iniciado', async () => {
    const suscripcion = new SuscripcionGuionada();
    const consumidor = crearConsumidor({ suscripcion, enVuelo: 1, logger: registroEnMemoria().logger, crearManejador: () => async () => ({ tipo: 'registrado' }) });
    await Promise.all([consumidor.detener(), consumidor.detener()]);
    expect(suscripcion.cerrada).toBe(true);
    await consumidor.terminado();
  });

  it('con tiempo máximo vencido, cierra igualmente y lo no confirmado queda para reentregarse', async () => {
    const suscripcion = new SuscripcionGuionada();
    const consumidor = crearConsumidor({
      suscripcion,
      enVuelo: 1,
      logger: registroEnMemoria().logger,
      crearManejador: () => () => new Promise<DesenlaceEvento>(() => {}), // un cobro que nunca responde
    });
    suscripcion.entregar(entrante(mensajeDe(eventoSintetico(uuid(1, 1), 1, uuid(2, 1)), { idCorrelacion: 'c' }, 1), 'm1'));
    consumidor.iniciar();
    await esperarHasta(() => consumidor.retenidos() === 1);
    await consumidor.detener({ tiempoMaximoMs: 20 });
    expect(suscripcion.cerrada).toBe(true);
    expect(suscripcion.confirmados).toEqual([]);
  });

  it('rechaza un límite en vuelo imposible', () => {
    expect(() =>
      crearConsumidor({ suscripcion: new SuscripcionGuionada(), enVuelo: 0, logger: registroEnMemoria().logger, crearManejador: () => async () => ({ tipo: 'registrado' }) }),
    ).toThrow(/enVuelo/);
  });
});
