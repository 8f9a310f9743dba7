import { crearManejadorEventos, crearManejadorRegistrarPago, type MensajeSaliente } from '@aeropartners/aplicacion';
import {
  BrokerEnMemoria,
  PasarelaEnMemoria,
  RepositorioPagosEnMemoria,
  idsSecuenciales,
  relojFijo,
} from '@aeropartners/aplicacion/testing';
import type { DuplicadoAbsorbido } from '@aeropartners/adaptadores';
import type { EventoPago } from '@aeropartners/dominio';
import { afterEach, describe, expect, it } from 'vitest';
import { esperarHasta, mensajeDe, registroEnMemoria, uuid } from '../test/apoyo.js';
import { crearConsumidorPagos } from './app.js';

// Lo propio del servicio: el sobre EXACTO que publica el relay y una línea de registro por mensaje con
// su trazabilidad. El despacho y la política (orden por pago, ack / nack / muertos, parada) se prueban
// en `@aeropartners/aplicacion` (consumidor.unit.test.ts, decidir-mensaje.unit.test.ts).

const SUSCRIPCION = 'consumidor-pagos';
const abiertos: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cerrar of abiertos.splice(0).reverse()) await cerrar();
});

async function escenario(opciones: { readonly alDuplicado?: (duplicado: DuplicadoAbsorbido) => void } = {}) {
  const broker = new BrokerEnMemoria();
  abiertos.push(() => broker.cerrar());
  const suscripcion = await broker.suscribir({ suscripcion: SUSCRIPCION, maximoEntregas: 5, retrasoReentregaMs: 10 });
  const publicador = await broker.crearPublicador('relay-prueba');
  const repo = new RepositorioPagosEnMemoria();
  const reloj = relojFijo();
  const nuevoId = idsSecuenciales(1);
  const pasarela = new PasarelaEnMemoria();
  const registro = registroEnMemoria();
  let secuencia = 0;
  const consumidor = crearConsumidorPagos({
    suscripcion,
    enVuelo: 8,
    logger: registro.logger,
    ...opciones,
    crearManejador: ({ alReintentar }) =>
      crearManejadorEventos({
        suscripcion: SUSCRIPCION,
        repositorio: repo,
        inbox: repo,
        pasarela,
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
  abiertos.push(() => consumidor.detener());
  async function crearPago(referencia: string) {
    const r = await crearManejadorRegistrarPago({ repositorio: repo, reloj, nuevoId })({
      tipo: 'RegistrarPago',
      ambito: { idSocio: 'socio-1', modo: 'live' },
      credencial: { idClave: null },
      idAfiliado: 'afiliado-1',
      monto: '10.50',
      moneda: 'EUR',
      referenciaPago: referencia,
      traza: { idCorrelacion: `corr-${referencia}` },
    });
    if (!r.ok) throw new Error('no se creó el pago');
    const fila = repo.outbox.find((f) => f.evento.idPago === r.valor.pago.id)!;
    fila.publicado = true;
    return { id: r.valor.pago.id, fila };
  }
  return {
    broker,
    repo,
    pasarela,
    registro,
    consumidor,
    crearPago,
    publicar: (...m: MensajeSaliente[]) => publicador.publicar(m),
    siguienteSecuencia: () => ++secuencia,
  };
}

describe('consumidor de pagos: sobre del relay y registro', () => {
  it('un PagoPendiente entregado dos veces: el segundo es un duplicado absorbido del socio en la etapa inbox', async () => {
    const duplicados: DuplicadoAbsorbido[] = [];
    const e = await escenario({ alDuplicado: (d) => duplicados.push(d) });
    const { id, fila } = await e.crearPago('ref-dup');
    // El mismo evento publicado dos veces (como tras una caída del relay entre publicar y marcar).
    await e.publicar(mensajeDe(fila.evento, fila.traza, e.siguienteSecuencia()));
    await e.publicar(mensajeDe(fila.evento, fila.traza, e.siguienteSecuencia()));
    e.consumidor.iniciar();
    await esperarHasta(() => e.consumidor.contadores().duplicados === 1, 5_000, 'el duplicado absorbido');
    expect(e.consumidor.contadores()).toMatchObject({ procesados: 1, duplicados: 1 });
    expect(duplicados).toEqual([
      { idSocio: 'socio-1', modo: 'live', etapa: 'inbox', clave: fila.evento.idEvento, sujeto: id, idSolicitud: null, idTraza: null },
    ]);
  });

  it('cada línea de registro de un mensaje lleva id_correlacion, id_pago, id_evento, tipo, el desenlace y la duración', async () => {
    const e = await escenario();
    const { id, fila } = await e.crearPago('ref-1');
    e.pasarela.programar(id, 'incierto', 'exitoso');
    await e.publicar(mensajeDe(fila.evento, fila.traza, e.siguienteSecuencia()));
    e.consumidor.iniciar();
    await esperarHasta(() => e.registro.lineas.some((l) => l.nivel === 'info'));
    const info = e.registro.lineas.find((l) => l.nivel === 'info')!;
    expect(info.campos).toMatchObject({
      id_correlacion: 'corr-ref-1',
      id_pago: id,
      id_evento: fila.evento.idEvento,
      tipo: 'PagoPendiente',
      desenlace: 'procesado',
      estado: 'EXITOSO',
      intentos_pasarela: 2,
      entregas: 1,
    });
    expect(info.campos['duracion_ms']).toEqual(expect.any(Number));
    const reintento = e.registro.lineas.find((l) => l.nivel === 'warn')!;
    expect(reintento.campos).toMatchObject({ id_correlacion: 'corr-ref-1', id_pago: id, tipo: 'PagoPendiente', intento: 1 });
    expect(e.consumidor.contadores()).toMatchObject({ procesados: 1, reintentosPasarela: 1 });
  });

  it('dados mensajes cuyo sobre no cuadra, entonces van a mensajes muertos con un motivo legible y el bueno de detrás sigue', async () => {
    const e = await escenario();
    const { id, fila } = await e.crearPago('ref-x');
    const bueno = mensajeDe(fila.evento, fila.traza, 0);
    const sobre = JSON.parse(bueno.cuerpo) as { payload: Record<string, unknown> };
    const { id_correlacion: _sinCorrelacion, ...sinCorrelacion } = bueno.propiedades;
    await e.publicar(
      { ...bueno, secuencia: e.siguienteSecuencia(), cuerpo: '{"id_evento": ' },
      {
        ...bueno,
        secuencia: e.siguienteSecuencia(),
        cuerpo: JSON.stringify({ ...sobre, payload: { ...sobre.payload, monto_unidades_menores: 1.5 } }),
      },
      { ...bueno, secuencia: e.siguienteSecuencia(), propiedades: { ...bueno.propiedades, version: '2' } },
      { ...bueno, secuencia: e.siguienteSecuencia(), propiedades: sinCorrelacion as typeof bueno.propiedades },
      { ...bueno, secuencia: e.siguienteSecuencia(), clave: uuid(7, 7) },
      { ...bueno, secuencia: e.siguienteSecuencia() },
    );
    e.consumidor.iniciar();
    await esperarHasta(() => e.repo.pagos.get(id)?.estado === 'EXITOSO', 5_000, 'el pago de detrás');
    await esperarHasta(() => e.broker.pendientes(SUSCRIPCION) === 0);
    const muertos = await e.broker.mensajesMuertos(SUSCRIPCION);
    expect(muertos.map((m) => m.motivo)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Mensaje inválido: el cuerpo no es JSON válido/),
        expect.stringMatching(/^Mensaje inválido: sobre inválido: payload\.monto_unidades_menores: /),
        'Mensaje inválido: el mensaje no coincide con su cuerpo: la propiedad version «2» ≠ «1» del cuerpo',
        'Mensaje inválido: falta la propiedad id_correlacion del mensaje',
        expect.stringMatching(
          /^Mensaje inválido: el mensaje no coincide con su cuerpo: la clave «00000007-0000-7000-8000-000000000007» ≠ /,
        ),
      ]),
    );
    expect(muertos).toHaveLength(5);
    expect(e.consumidor.contadores()).toMatchObject({ recibidos: 6, muertos: 5, procesados: 1, errores: 0 });
    const avisos = e.registro.lineas.filter((l) => l.nivel === 'warn');
    expect(avisos).toHaveLength(5);
    for (const a of avisos)
      expect(a.campos).toMatchObject({ id_evento: fila.evento.idEvento, tipo: 'PagoPendiente', desenlace: 'invalido' });
    expect(avisos.filter((a) => a.campos['id_correlacion'] === 'corr-ref-x')).toHaveLength(4); // el quinto no la traía
  });

  it('dado un fallo de infraestructura, entonces una línea de error con la trazabilidad del evento y la reentrega lo termina', async () => {
    const e = await escenario();
    const { id, fila } = await e.crearPago('ref-2');
    e.pasarela.programar(id, new Error('connect ECONNREFUSED 10.0.0.9:443'));
    await e.publicar(mensajeDe(fila.evento, fila.traza, e.siguienteSecuencia()));
    e.consumidor.iniciar();
    await esperarHasta(() => e.repo.pagos.get(id)?.estado === 'EXITOSO', 5_000, 'el pago reentregado');
    const error = e.registro.lineas.find((l) => l.nivel === 'error')!;
    expect(error.campos).toMatchObject({
      id_correlacion: 'corr-ref-2',
      id_pago: id,
      tipo: 'PagoPendiente',
      desenlace: 'error',
      entregas: 1,
    });
    const info = e.registro.lineas.find((l) => l.nivel === 'info')!;
    expect(info.campos).toMatchObject({ desenlace: 'procesado', entregas: 2 });
    expect(e.pasarela.contarCargos(id)).toBe(1);
  });

  it('dado un evento de un pago inexistente, entonces mensajes muertos con el motivo en el registro', async () => {
    const e = await escenario();
    const evento: EventoPago = {
      tipo: 'PagoPendiente',
      idEvento: uuid(5, 1),
      idPago: uuid(5, 2),
      version: 1,
      ocurridoEn: new Date(),
      datos: { idSocio: 's', modo: 'live', idAfiliado: 'a', unidadesMenores: 100, moneda: 'EUR', referenciaPago: 'r' },
    };
    await e.publicar(mensajeDe(evento, { idCorrelacion: 'corr-fantasma' }, e.siguienteSecuencia()));
    e.consumidor.iniciar();
    await esperarHasta(() => e.consumidor.contadores().muertos === 1);
    const aviso = e.registro.lineas.find((l) => l.nivel === 'warn')!;
    expect(aviso.campos).toMatchObject({
      id_correlacion: 'corr-fantasma',
      desenlace: 'pagoInexistente',
      motivo: `El pago ${uuid(5, 2)} no existe: el evento ${uuid(5, 1)} no se puede aplicar.`,
    });
  });
});
