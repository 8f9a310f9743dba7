import { afterEach, describe, expect, it } from 'vitest';
import { Resultado, type EventoPago, type PasarelaDePagos, type Trazabilidad } from '@aeropartners/dominio';
import { crearManejadorRegistrarPago } from '../comandos/registrar-pago.js';
import type { MensajeEntrante, MensajeSaliente, Publicador } from '../mensajeria/puertos-broker.js';
import { BrokerEnMemoria } from '../testing/broker-en-memoria.js';
import { RepositorioPagosEnMemoria, idsSecuenciales, relojFijo } from '../testing/dobles.js';
import { PasarelaEnMemoria } from '../testing/pasarela-en-memoria.js';
import { SuscripcionGuionada } from '../testing/suscripcion-guionada.js';
import { crearConsumidor, type Consumidor, type ManejarEvento, type ObservadorConsumidor, type SobreLeido } from './consumidor.js';
import type { HechoMensaje } from './decidir-mensaje.js';
import { crearManejadorEventos, type DesenlaceEvento } from './manejar-evento.js';

// El consumidor (despacho + política) con los dobles en memoria de nuestros puertos. El sobre es uno de
// prueba (`{evento, traza}` en JSON): el sobre real del relay y su validación se prueban en adaptadores
// y en el servicio consumer.

const SUSCRIPCION = 'consumidor-pagos';
const abiertos: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cerrar of abiertos.splice(0).reverse()) await cerrar();
});

function sobreDePrueba(evento: EventoPago, traza: Trazabilidad, secuencia: number): MensajeSaliente {
  return {
    clave: evento.idPago,
    secuencia,
    cuerpo: JSON.stringify({ evento, traza }),
    propiedades: { id_evento: evento.idEvento, tipo: evento.tipo, version: String(evento.version), id_correlacion: traza.idCorrelacion },
  };
}

function leerSobreDePrueba(mensaje: MensajeEntrante): Resultado<SobreLeido, string> {
  try {
    const { evento, traza } = JSON.parse(mensaje.cuerpo) as { evento: EventoPago & { ocurridoEn: string }; traza: Trazabilidad };
    if (typeof evento?.idPago !== 'string') return Resultado.fallo('el sobre no trae evento');
    return Resultado.ok({ evento: { ...evento, ocurridoEn: new Date(evento.ocurridoEn) }, traza });
  } catch (error) {
    return Resultado.fallo(`el cuerpo no es JSON válido: ${(error as Error).message}`);
  }
}

function entrante(m: MensajeSaliente, idMensaje: string, extra: Partial<MensajeEntrante> = {}): MensajeEntrante {
  const propiedades: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.propiedades)) if (v !== undefined) propiedades[k] = v;
  return {
    idMensaje,
    clave: m.clave,
    cuerpo: m.cuerpo,
    propiedades,
    entregas: 1,
    productor: 'relay-prueba',
    secuencia: m.secuencia,
    ...extra,
  };
}

function uuid(grupo: number, n: number): string {
  return `${grupo.toString(16).padStart(8, '0')}-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

function eventoSintetico(idPago: string, version: number, idEvento: string): EventoPago {
  return { tipo: 'PagoProcesando', idEvento, idPago, version, ocurridoEn: new Date('2026-01-01T00:00:00Z'), datos: {} };
}

async function esperarHasta(condicion: () => boolean, tiempoMs = 5_000, que = 'la condición'): Promise<void> {
  const limite = Date.now() + tiempoMs;
  while (!condicion()) {
    if (Date.now() > limite) throw new Error(`Tiempo agotado esperando ${que}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Un observador que guarda cada mensaje terminado y cada reintento de la pasarela. */
function observadorGrabador() {
  const terminados: { idMensaje: string; hecho: HechoMensaje; accion: string }[] = [];
  const reintentos: { idPago: string; intento: number }[] = [];
  const fallosBroker: string[] = [];
  const observador: ObservadorConsumidor = {
    terminado: ({ mensaje, hecho, decision }) => terminados.push({ idMensaje: mensaje.idMensaje, hecho, accion: decision.accion }),
    reintentoPasarela: ({ evento, intento }) => reintentos.push({ idPago: evento.idPago, intento }),
    falloBroker: ({ operacion }) => fallosBroker.push(operacion),
  };
  return { observador, terminados, reintentos, fallosBroker };
}

interface Escenario {
  readonly broker: BrokerEnMemoria;
  readonly publicador: Publicador;
  readonly repo: RepositorioPagosEnMemoria;
  readonly pasarela: PasarelaEnMemoria;
  crearYPublicar(n: number): Promise<string[]>;
  publicarOutbox(): Promise<number>;
  consumidor(opciones?: { enVuelo?: number; pasarela?: PasarelaDePagos; observador?: ObservadorConsumidor }): Promise<Consumidor>;
}

async function escenario(
  opciones: { duplicarEntregas?: boolean; pasarela?: PasarelaEnMemoria; maximoEntregas?: number } = {},
): Promise<Escenario> {
  const broker = new BrokerEnMemoria({ duplicarEntregas: opciones.duplicarEntregas ?? false });
  abiertos.push(() => broker.cerrar());
  const primera = await broker.suscribir({
    suscripcion: SUSCRIPCION,
    maximoEntregas: opciones.maximoEntregas ?? 5,
    retrasoReentregaMs: 10,
  });
  const publicador = await broker.crearPublicador('relay-prueba');
  const repo = new RepositorioPagosEnMemoria();
  const reloj = relojFijo();
  const nuevoId = idsSecuenciales(1);
  const pasarela = opciones.pasarela ?? new PasarelaEnMemoria();
  const crearPago = crearManejadorRegistrarPago({ repositorio: repo, reloj, nuevoId });
  let secuencia = 0;
  let pagos = 0;
  let suscripcionLibre: typeof primera | undefined = primera;
  const publicarFilas = async (filas: typeof repo.outbox) => {
    for (const f of filas) f.publicado = true;
    if (filas.length > 0) await publicador.publicar(filas.map((f) => sobreDePrueba(f.evento, f.traza, ++secuencia)));
    return filas.length;
  };
  return {
    broker,
    publicador,
    repo,
    pasarela,
    async crearYPublicar(n) {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        pagos += 1;
        const r = await crearPago({
          tipo: 'RegistrarPago',
          ambito: { idSocio: 'socio-1', modo: 'live' },
          credencial: { idClave: null },
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
    async consumidor(o = {}) {
      const suscripcion =
        suscripcionLibre ??
        (await broker.suscribir({ suscripcion: SUSCRIPCION, maximoEntregas: opciones.maximoEntregas ?? 5, retrasoReentregaMs: 10 }));
      suscripcionLibre = undefined;
      const c = crearConsumidor({
        suscripcion,
        enVuelo: o.enVuelo ?? 8,
        leerSobre: leerSobreDePrueba,
        ...(o.observador ? { observador: o.observador } : {}),
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

/** Un consumidor sobre una suscripción guionada y un manejador cualquiera. */
function consumidorGuionado(
  manejar: ManejarEvento,
  enVuelo = 4,
  extra: { pausaTrasFalloMs?: number; observador?: ObservadorConsumidor } = {},
) {
  const suscripcion = new SuscripcionGuionada();
  const consumidor = crearConsumidor({ suscripcion, enVuelo, leerSobre: leerSobreDePrueba, crearManejador: () => manejar, ...extra });
  abiertos.push(() => consumidor.detener());
  return { suscripcion, consumidor };
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
    await esperarHasta(() => e.broker.pendientes(SUSCRIPCION) === 0, 5_000, 'confirmaciones');
    expect(estados(e.repo, ids)).toEqual(ids.map(() => 'EXITOSO'));
    for (const id of ids) expect(e.pasarela.contarCargos(id)).toBe(1);
    expect(consumidor.contadores()).toMatchObject({ recibidos: 20, procesados: 20, duplicados: 0, muertos: 0, errores: 0 });
  });

  it('dados los eventos de desenlace publicados por el relay, entonces se registran (trazabilidad) sin efectos', async () => {
    const e = await escenario();
    const consumidor = await e.consumidor();
    const ids = await e.crearYPublicar(3);
    await esperarHasta(() => finales(e.repo, ids));
    expect(await e.publicarOutbox()).toBe(3);
    await esperarHasta(() => consumidor.contadores().registrados === 3, 5_000, 'registrados');
    expect(consumidor.contadores()).toMatchObject({ recibidos: 6, procesados: 3, registrados: 3, errores: 0 });
    expect(e.pasarela.cargos).toHaveLength(3);
  });

  it('el observador ve cada mensaje terminado con su hecho y su decisión, y cada reintento de la pasarela', async () => {
    const e = await escenario();
    const grabador = observadorGrabador();
    const consumidor = await e.consumidor({ observador: grabador.observador });
    const [id] = await e.crearYPublicar(1);
    e.pasarela.programar(id!, 'incierto', 'exitoso');
    await esperarHasta(() => grabador.terminados.length === 1);
    const [t] = grabador.terminados;
    expect(t).toMatchObject({ accion: 'confirmar', hecho: { tipo: 'manejado', desenlace: { tipo: 'procesado', intentosPasarela: 2 } } });
    expect(grabador.reintentos).toEqual([{ idPago: id, intento: 1 }]);
    expect(consumidor.contadores().reintentosPasarela).toBe(1);
  });
});

describe('consumidor: duplicados', () => {
  it('dado un broker que entrega cada mensaje dos veces, entonces un cobro por pago y los duplicados contados en el inbox', async () => {
    const e = await escenario({ duplicarEntregas: true });
    const consumidor = await e.consumidor({ enVuelo: 16 });
    const ids = await e.crearYPublicar(25);
    await esperarHasta(() => consumidor.contadores().recibidos === 50, 5_000, 'las 50 entregas');
    await esperarHasta(() => e.broker.pendientes(SUSCRIPCION) === 0, 5_000, 'confirmaciones');
    expect(finales(e.repo, ids)).toBe(true);
    for (const id of ids) expect(e.pasarela.contarCargos(id)).toBe(1);
    expect(e.repo.outbox.filter((f) => f.evento.tipo === 'PagoExitoso')).toHaveLength(25);
    expect(consumidor.contadores()).toMatchObject({ recibidos: 50, procesados: 25, duplicados: 25, errores: 0 });
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
    const manejar: ManejarEvento = async (evento) => {
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

  it('dados mensajes de varios pagos entregados sin esperar confirmaciones, entonces paraleliza entre pagos y nunca dentro de uno', async () => {
    const grabador = manejadorGrabador();
    const { suscripcion, consumidor } = consumidorGuionado(grabador.manejar, 4);
    const mensajes: MensajeEntrante[] = [];
    let s = 0;
    for (let v = 1; v <= 5; v++) {
      for (let p = 0; p < 6; p++) {
        s += 1;
        mensajes.push(
          entrante(sobreDePrueba(eventoSintetico(uuid(1, p), v, uuid(2, p * 100 + v)), { idCorrelacion: `corr-${p}` }, s), String(s)),
        );
      }
    }
    suscripcion.entregar(...mensajes);
    consumidor.iniciar();
    await esperarHasta(() => suscripcion.confirmados.length === 30, 5_000, 'confirmaciones');
    for (let p = 0; p < 6; p++) expect(grabador.orden.get(uuid(1, p))).toEqual([1, 2, 3, 4, 5]);
    expect(grabador.solapamientos()).toBe(0);
    expect(grabador.maximo()).toBeGreaterThan(1);
    expect(grabador.maximo()).toBeLessThanOrEqual(4);
  });

  it('dado un mismo pago con muchos mensajes retenidos, entonces respeta el límite en vuelo y no se atasca', async () => {
    const grabador = manejadorGrabador();
    const { suscripcion, consumidor } = consumidorGuionado(grabador.manejar, 3);
    suscripcion.entregar(
      ...Array.from({ length: 12 }, (_, i) =>
        entrante(sobreDePrueba(eventoSintetico(uuid(1, 0), i + 1, uuid(3, i)), { idCorrelacion: 'c' }, i + 1), String(i + 1)),
      ),
    );
    consumidor.iniciar();
    await esperarHasta(() => suscripcion.confirmados.length === 12);
    expect(grabador.orden.get(uuid(1, 0))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(grabador.maximo()).toBe(1);
    expect(consumidor.retenidos()).toBe(0);
  });
});

describe('consumidor: mensajes inválidos', () => {
  it('dado un sobre ilegible, entonces va a mensajes muertos con su motivo, contado, y los de detrás de su clave siguen', async () => {
    const grabador = observadorGrabador();
    const vistos: string[] = [];
    const { suscripcion, consumidor } = consumidorGuionado(
      async (evento) => {
        vistos.push(evento.idEvento);
        return { tipo: 'registrado' };
      },
      4,
      { observador: grabador.observador },
    );
    const bueno = sobreDePrueba(eventoSintetico(uuid(1, 1), 1, uuid(2, 1)), { idCorrelacion: 'c' }, 2);
    suscripcion.entregar(entrante({ ...bueno, cuerpo: '{"evento": ' }, 'malo'), entrante(bueno, 'bueno'));
    consumidor.iniciar();
    await esperarHasta(() => suscripcion.confirmados.length === 1);
    expect(suscripcion.muertos).toEqual([
      { idMensaje: 'malo', motivo: expect.stringMatching(/^Mensaje inválido: el cuerpo no es JSON válido/) },
    ]);
    expect(vistos).toEqual([uuid(2, 1)]);
    expect(consumidor.contadores()).toMatchObject({ recibidos: 2, muertos: 1, registrados: 1, errores: 0 });
  });

  it('dado un evento de un pago que no existe, entonces va a mensajes muertos sin tocar la pasarela', async () => {
    const e = await escenario();
    const consumidor = await e.consumidor();
    const evento: EventoPago = {
      tipo: 'PagoPendiente',
      idEvento: uuid(5, 1),
      idPago: uuid(5, 2),
      version: 1,
      ocurridoEn: new Date(),
      datos: { idSocio: 's', modo: 'live', idAfiliado: 'a', unidadesMenores: 100, moneda: 'EUR', referenciaPago: 'r' },
    };
    await e.publicador.publicar([sobreDePrueba(evento, { idCorrelacion: 'corr-fantasma' }, 1_000)]);
    await esperarHasta(() => consumidor.contadores().muertos === 1);
    const [muerto] = await e.broker.mensajesMuertos(SUSCRIPCION);
    expect(muerto?.motivo).toBe(`El pago ${uuid(5, 2)} no existe: el evento ${uuid(5, 1)} no se puede aplicar.`);
    expect(e.pasarela.llamadas).toHaveLength(0);
  });
});

describe('consumidor: la pasarela no aclara el desenlace', () => {
  it('dadas respuestas inciertas en toda una entrega, entonces el mensaje vuelve al broker, el pago sigue en PROCESANDO y la reentrega pregunta y lo termina con un cargo', async () => {
    const e = await escenario();
    const [id] = await e.crearYPublicar(1);
    // Los tres intentos de la primera entrega son inciertos (sin cobro); la reentrega pregunta y cobra.
    e.pasarela.programar(id!, 'incierto', 'incierto', 'incierto');
    const consumidor = await e.consumidor();
    await esperarHasta(() => finales(e.repo, [id!]), 5_000, 'el pago terminado en la reentrega');
    expect(e.repo.pagos.get(id!)?.estado).toBe('EXITOSO');
    expect(e.pasarela.contarCargos(id!)).toBe(1);
    expect(e.pasarela.consultas.length).toBeGreaterThan(0);
    expect(consumidor.contadores()).toMatchObject({ inciertos: 1, rechazados: 1, procesados: 1, errores: 0 });
  });

  it('dado un turno de cobro ajeno, entonces rechaza con el retraso que le queda al turno, sin tocar la pasarela', async () => {
    const { suscripcion, consumidor } = consumidorGuionado(async () => ({ tipo: 'ocupado', reintentarEnMs: 4_321 }));
    suscripcion.entregar(entrante(sobreDePrueba(eventoSintetico(uuid(1, 1), 1, uuid(2, 1)), { idCorrelacion: 'c' }, 1), 'm1'));
    consumidor.iniciar();
    await esperarHasta(() => suscripcion.rechazados.length === 1);
    expect(suscripcion.retrasos).toEqual([4_321]);
    expect(consumidor.contadores()).toMatchObject({ ocupados: 1, rechazados: 1, errores: 0 });
  });

  it('dado un mensaje abandonado (lease perdido), entonces ni se confirma ni se rechaza, y los de detrás de su clave vuelven al broker', async () => {
    const controlador = new AbortController();
    const { suscripcion, consumidor } = consumidorGuionado(async (evento, _traza, senal): Promise<DesenlaceEvento> => {
      if (evento.version === 1) {
        controlador.abort(new Error('lease perdido'));
        return senal?.aborted ? { tipo: 'abandonado', motivo: 'lease perdido' } : { tipo: 'registrado' };
      }
      return { tipo: 'registrado' };
    });
    const pago = uuid(1, 1);
    suscripcion.entregar(
      entrante(sobreDePrueba(eventoSintetico(pago, 1, uuid(2, 1)), { idCorrelacion: 'c' }, 1), 'm1', { senal: controlador.signal }),
      entrante(sobreDePrueba(eventoSintetico(pago, 2, uuid(2, 2)), { idCorrelacion: 'c' }, 2), 'm2'),
    );
    consumidor.iniciar();
    await esperarHasta(() => consumidor.contadores().abandonados === 1 && suscripcion.rechazados.length === 1);
    expect(suscripcion.confirmados).toEqual([]);
    expect(suscripcion.rechazados).toEqual(['m2']);
  });
});

describe('consumidor: fallos de infraestructura', () => {
  it('dado un fallo de infraestructura en la pasarela, entonces rechaza, el broker reentrega y el pago termina con un cobro', async () => {
    const e = await escenario();
    const grabador = observadorGrabador();
    const consumidor = await e.consumidor({ observador: grabador.observador });
    const [id] = await e.crearYPublicar(1);
    e.pasarela.programar(id!, new Error('connect ECONNREFUSED 10.0.0.9:443'));
    await esperarHasta(() => finales(e.repo, [id!]), 5_000, 'el pago reentregado');
    await esperarHasta(() => e.broker.pendientes(SUSCRIPCION) === 0);
    expect(e.repo.pagos.get(id!)?.estado).toBe('EXITOSO');
    expect(e.pasarela.contarCargos(id!)).toBe(1);
    expect(consumidor.contadores()).toMatchObject({ recibidos: 2, errores: 1, rechazados: 1, procesados: 1 });
    expect(grabador.terminados.map((t) => t.accion)).toEqual(['rechazar', 'confirmar']);
  });

  it('dado un rechazo, entonces los que esperaban detrás en su clave vuelven al broker con él (no se adelantan)', async () => {
    const vistos: number[] = [];
    const { suscripcion, consumidor } = consumidorGuionado(async (evento) => {
      vistos.push(evento.version);
      await new Promise((r) => setTimeout(r, 10));
      if (evento.version === 1) throw new Error('PostgreSQL no responde');
      return { tipo: 'registrado' };
    }, 8);
    const pago = uuid(1, 1);
    suscripcion.entregar(
      ...[1, 2, 3].map((v) => entrante(sobreDePrueba(eventoSintetico(pago, v, uuid(2, v)), { idCorrelacion: 'c' }, v), `m${v}`)),
      entrante(sobreDePrueba(eventoSintetico(uuid(1, 2), 2, uuid(3, 1)), { idCorrelacion: 'c' }, 4), 'otro'),
    );
    consumidor.iniciar();
    await esperarHasta(() => suscripcion.rechazados.length === 3 && suscripcion.confirmados.length === 1);
    expect(suscripcion.rechazados).toEqual(['m1', 'm2', 'm3']);
    expect(suscripcion.confirmados).toEqual(['otro']);
    expect(vistos).toEqual([1, 2]);
    expect(consumidor.contadores()).toMatchObject({ recibidos: 4, errores: 1, rechazados: 3, registrados: 1 });
  });

  it('dado un fallo al recibir, entonces lo cuenta, espera y sigue', async () => {
    const grabador = observadorGrabador();
    const { suscripcion, consumidor } = consumidorGuionado(async () => ({ tipo: 'registrado' }), 2, {
      pausaTrasFalloMs: 5,
      observador: grabador.observador,
    });
    suscripcion.fallosRecibir = 2;
    consumidor.iniciar();
    suscripcion.entregar(entrante(sobreDePrueba(eventoSintetico(uuid(1, 1), 1, uuid(2, 1)), { idCorrelacion: 'c' }, 1), 'm1'));
    await esperarHasta(() => suscripcion.confirmados.length === 1);
    expect(consumidor.contadores()).toMatchObject({ errores: 2, registrados: 1 });
    expect(grabador.fallosBroker).toEqual(['recibir', 'recibir']);
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
    expect(detenido).toBe(false);
    expect(consumidor.contadores().recibidos).toBe(2);
    soltar();
    await detencion;
    const tomados = ids.filter((id) => e.repo.pagos.get(id)?.estado !== 'PENDIENTE');
    expect(estados(e.repo, tomados)).toEqual(['EXITOSO', 'EXITOSO']);
    expect(e.broker.pendientes(SUSCRIPCION)).toBe(3);
    const siguiente = await e.consumidor();
    await esperarHasta(() => finales(e.repo, ids), 5_000, 'el resto');
    expect(siguiente.contadores().procesados).toBe(3);
    for (const id of ids) expect(pasarela.contarCargos(id)).toBe(1);
  });

  it('detener es idempotente y vale sin haber iniciado', async () => {
    const { suscripcion, consumidor } = consumidorGuionado(async () => ({ tipo: 'registrado' }), 1);
    await Promise.all([consumidor.detener(), consumidor.detener()]);
    expect(suscripcion.cerrada).toBe(true);
    await consumidor.terminado();
  });

  it('con tiempo máximo vencido, cierra igualmente y lo no confirmado queda para reentregarse', async () => {
    const paradas: number[] = [];
    const { suscripcion, consumidor } = consumidorGuionado(() => new Promise<DesenlaceEvento>(() => {}), 1, {
      observador: { paradaIncompleta: ({ retenidos }) => paradas.push(retenidos) },
    });
    suscripcion.entregar(entrante(sobreDePrueba(eventoSintetico(uuid(1, 1), 1, uuid(2, 1)), { idCorrelacion: 'c' }, 1), 'm1'));
    consumidor.iniciar();
    await esperarHasta(() => consumidor.retenidos() === 1);
    await consumidor.detener({ tiempoMaximoMs: 20 });
    expect(suscripcion.cerrada).toBe(true);
    expect(suscripcion.confirmados).toEqual([]);
    expect(paradas).toEqual([1]);
  });

  it('rechaza un límite en vuelo imposible', () => {
    expect(() =>
      crearConsumidor({
        suscripcion: new SuscripcionGuionada(),
        enVuelo: 0,
        leerSobre: leerSobreDePrueba,
        crearManejador: () => async () => ({ tipo: 'registrado' }),
      }),
    ).toThrow(/enVuelo/);
  });
});

describe('consumidor: envolverAtencion (el span de proceso de la traza)', () => {
  it('envuelve la atención de cada mensaje: el manejador corre dentro y lo que devuelve el envoltorio es el hecho que se decide', async () => {
    const suscripcion = new SuscripcionGuionada();
    const envueltos: { idMensaje: string; tipo: HechoMensaje['tipo'] }[] = [];
    let dentro = false;
    const consumidor = crearConsumidor({
      suscripcion,
      enVuelo: 2,
      leerSobre: leerSobreDePrueba,
      crearManejador: () => async () => {
        expect(dentro).toBe(true);
        return { tipo: 'registrado' };
      },
      async envolverAtencion(mensaje, atender) {
        dentro = true;
        try {
          const hecho = await atender();
          envueltos.push({ idMensaje: mensaje.idMensaje, tipo: hecho.tipo });
          return hecho;
        } finally {
          dentro = false;
        }
      },
    });
    abiertos.push(() => consumidor.detener());
    suscripcion.entregar(
      entrante(sobreDePrueba(eventoSintetico(uuid(7, 1), 1, uuid(8, 1)), { idCorrelacion: 'corr-e' }, 1), 'm-1'),
      entrante(sobreDePrueba(eventoSintetico(uuid(7, 1), 2, uuid(8, 2)), { idCorrelacion: 'corr-e' }, 2), 'm-2'),
    );
    consumidor.iniciar();
    await esperarHasta(() => suscripcion.confirmados.length === 2, 5_000, 'confirmaciones');
    expect(envueltos).toEqual([
      { idMensaje: 'm-1', tipo: 'manejado' },
      { idMensaje: 'm-2', tipo: 'manejado' },
    ]);
    expect(consumidor.contadores().registrados).toBe(2);
  });
});
