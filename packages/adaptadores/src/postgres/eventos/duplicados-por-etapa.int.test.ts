import { randomUUID } from 'node:crypto';
import { setTimeout as esperar } from 'node:timers/promises';
import { crearConsumidor, crearManejadorEventos, crearManejadorRegistrarHecho, crearRelay, type Broker } from '@aeropartners/aplicacion';
import { Dinero, ReglaComision, crearPago, type Ambito, type CambioPago, type SolicitudCobro } from '@aeropartners/dominio';
import { PulsarFalso } from '@aeropartners/contratos/pulsar';
import { afterAll, describe, expect, it } from 'vitest';
import { crearBrokerEmbebido } from '../../broker-embebido/index-broker-embebido.js';
import { uuidv7 } from '../../ids/uuidv7.js';
import { leerSobre, sobreDeFila } from '../../mensajeria/sobre-evento.js';
import { crearPasarelaSimulada, prepararPasarelaSimulada } from '../../pasarela-simulada/index-pasarela-simulada.js';
import { crearBrokerPulsar } from '../../pulsar/pulsar-broker.js';
import { crearBaseDePrueba } from '../../testing/index.js';
import { crearAtencionConversiones } from '../conversiones/atencion-conversiones.js';
import { PostgresAlmacenComisiones } from '../conversiones/postgres-almacen-comisiones.js';
import { LiderRelay } from '../lider-relay.js';
import { crearPersistenciaPostgres } from '../persistencia-postgres.js';
import { PostgresAlmacenOutbox } from '../postgres-almacen-outbox.js';
import { PostgresInboxPagos } from '../postgres-inbox-pagos.js';
import { PostgresTurnosCobro } from '../postgres-turnos-cobro.js';
import { filaAEvento, type FilaEventoOutboxLeida } from '../serializacion-eventos.js';
import { PostgresAsignadorEventos } from './asignador-eventos.js';
import { duplicadoEnElInbox, duplicadoEnLaConsultaPrevia, duplicadoEnLaPasarela, duplicadosEnElBroker } from './duplicados-por-etapa.js';
import { RegistradorDuplicados } from './registrador-duplicados.js';
import { PostgresRegistroEventos, type EventoSocio } from './registro-eventos.js';

// Cada etapa duplica de verdad, con PostgreSQL, el broker embebido, el relay, el consumidor y la pasarela
// simulada reales: un relay que muere entre publicar y marcar (el broker descarta lo republicado), un
// broker que entrega cada mensaje dos veces (el inbox absorbe la copia de cada evento de pago y de cada hecho
// de conversión) y un cobro repetido con la misma clave (la pasarela devuelve lo guardado). Cada duplicado
// debe aparecer una vez en el registro de eventos del socio dueño, con su etapa y su clave, nunca en el de
// otro socio, y contar lo mismo que los contadores de cada etapa (de los que salen las métricas).

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

const A: Ambito = { idSocio: 'socio-a', modo: 'live' };
const B: Ambito = { idSocio: 'socio-b', modo: 'live' };
const traza = { idCorrelacion: 'corr-duplicados', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
const PRODUCTOR = 'relay-duplicados';

function nuevoPago(ambito: Ambito): CambioPago {
  const monto = Dinero.deUnidadesMenores(1000, 'USD');
  if (!monto.ok) throw new Error('monto');
  const r = crearPago(
    {
      id: uuidv7(),
      idSocio: ambito.idSocio,
      modo: ambito.modo,
      idAfiliado: 'afiliado-1',
      monto: monto.valor,
      referenciaPago: `r-${uuidv7()}`,
    },
    { ahora: new Date(), nuevoId: uuidv7 },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.valor;
}

/**
 * Un relay líder real (con su cerca) sobre `broker` que anota en `registrador` cada republicación que el broker
 * descartó: la etapa «broker» del registro, como en el servicio outbox.
 */
async function relayQueAnota(o: {
  readonly url: string;
  readonly claveCerrojo: number;
  readonly tamanoLote: number;
  readonly outbox: PostgresAlmacenOutbox;
  readonly broker: Pick<Broker, 'crearPublicador'>;
  readonly registrador: RegistradorDuplicados;
}) {
  const lider = await LiderRelay.esperar(
    { url: o.url, claveCerrojo: o.claveCerrojo, canal: 'outbox_nuevo', intervaloEsperaMs: 50, alPerder: () => {} },
    new AbortController().signal,
  );
  cierres.push(() => lider!.cerrar());
  const relay = crearRelay({
    almacen: o.outbox,
    publicador: await o.broker.crearPublicador(PRODUCTOR),
    aMensaje: sobreDeFila,
    cerca: lider!.cerca,
    tamanoLote: o.tamanoLote,
    esperarAviso: async () => {},
    intervaloSondeoMs: 1,
    backoffBaseMs: 1,
    backoffMaximoMs: 1,
    alPublicar: (filas, resultados) => {
      for (const d of duplicadosEnElBroker(filas, resultados)) o.registrador.anotar(d);
    },
  });
  expect(await relay.preparar()).toEqual({ tipo: 'listo', renumeradas: 0 });
  return relay;
}

async function hasta(comprobar: () => Promise<boolean> | boolean, descripcion: string): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (await comprobar()) return;
    await esperar(20);
  }
  throw new Error(`no se cumplió a tiempo: ${descripcion}`);
}

describe('duplicados absorbidos en cada etapa, en el registro de eventos del socio', () => {
  it('relay → broker, broker → inbox (pagos de cada tipo y hechos de conversión) y pasarela: etapa y clave en el feed de su socio, y lo mismo que cuentan las etapas', async () => {
    const base = await crearBaseDePrueba();
    const p = crearPersistenciaPostgres({ url: base.url, tamanoPool: 8 });
    cierres.push(async () => {
      await p.cerrar();
      await base.cerrar();
    });
    const registrador = new RegistradorDuplicados({ pool: p.pool, intervaloMs: 20 });
    cierres.push(() => registrador.cerrar());

    // Un hecho de conversión del socio A (con su regla) y pagos de los dos socios.
    const almacen = new PostgresAlmacenComisiones(p.pool);
    await almacen.guardarRegla(A.idSocio, (version) => {
      const r = ReglaComision.crear({
        idSocio: A.idSocio,
        version,
        vigenteDesde: new Date(Date.now() - 48 * 3600_000),
        calculo: { tipo: 'porcentaje', puntosBasicos: 1000 },
        diasBloqueo: 0,
        minimoLiquidacion: null,
      });
      return r.ok ? r.valor : new Error(JSON.stringify(r.error));
    });
    const hecho = await crearManejadorRegistrarHecho({ almacen, nuevoId: uuidv7 })(
      A,
      {
        idEvento: 'conv-1:creada',
        tipo: 'creada',
        idConversion: 'conv-1',
        idAfiliado: 'afiliado-1',
        monto: { unidadesMenores: 5000, moneda: 'USD' },
        ocurridoEn: new Date(Date.now() - 3600_000),
      },
      traza,
    );
    expect(hecho.ok).toBe(true);
    const pagos = new Map<string, Ambito>();
    for (const ambito of [A, B, A, B, A, B]) {
      const cambio = nuevoPago(ambito);
      await p.repositorio.crear(cambio, { idSocio: ambito.idSocio, clave: cambio.pago.referenciaPago }, traza);
      pagos.set(cambio.pago.id, ambito);
    }

    // Relay → broker: la primera vida publica un lote (el hecho y pagos de los dos socios) y muere sin marcarlo.
    const broker = await crearBrokerEmbebido({ url: base.url, topico: 'pagos', suscripciones: ['consumidor'], duplicarEntregas: true });
    cierres.push(() => broker.cerrar());
    const outbox = new PostgresAlmacenOutbox(p.pool);
    const primeraVida = await outbox.reclamar(PRODUCTOR, 5);
    await (await broker.crearPublicador(PRODUCTOR)).publicar(primeraVida.map(sobreDeFila));
    const relay = await relayQueAnota({ url: base.url, claveCerrojo: 4242, tamanoLote: 3, outbox, broker, registrador });

    // Broker → consumidor: cada mensaje llega dos veces; la pasarela rechaza el primer pago de cada socio y
    // cobra los demás (hay PagoExitoso y PagoFallido).
    const rechazados = new Set([...pagos.keys()].slice(0, 2));
    await prepararPasarelaSimulada(p.pool);
    const pasarela = crearPasarelaSimulada({
      pool: p.pool,
      latenciaMinMs: 0,
      latenciaMaxMs: 0,
      tasaRechazo: 0,
      tasaTransitorio: 0,
      tasaSinRespuesta: 0,
      tasa500TrasCobro: 0,
      tasaEnCurso: 0,
      desenlaceForzado: (s) => (rechazados.has(s.idPago) ? 'rechazado' : 'exitoso'),
      alRepeticionAbsorbida: (s) => registrador.anotar(duplicadoEnLaPasarela(s)),
    });
    const consumidor = crearConsumidor({
      suscripcion: await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 100 }),
      enVuelo: 4,
      leerSobre,
      crearManejador: () =>
        crearManejadorEventos({
          suscripcion: 'consumidor',
          repositorio: p.repositorio,
          inbox: new PostgresInboxPagos(p.pool),
          pasarela,
          turnos: new PostgresTurnosCobro(p.pool, p.repositorio),
          titular: randomUUID(),
          duracionTurnoMs: 10_000,
          reloj: { ahora: () => new Date() },
          nuevoId: uuidv7,
          intentosPasarela: 3,
          backoffPasarelaMs: 1,
        }),
      atenderOtros: crearAtencionConversiones({ almacen }),
      observador: {
        terminado: ({ mensaje, hecho: h }) => {
          const d = duplicadoEnElInbox(mensaje, h);
          if (d) registrador.anotar(d);
        },
      },
    });
    consumidor.iniciar();
    cierres.push(() => consumidor.detener({ tiempoMaximoMs: 2_000 }));

    // Hasta que cada fila del outbox (también las que escribe el consumidor) se publicó y su copia se absorbió.
    const filasOutbox = async () =>
      (
        await p.pool.query<{ id_evento: string; tipo: string; id_agregado: string; payload: Record<string, unknown>; publicada: boolean }>(
          'SELECT id_evento::text, tipo, id_agregado::text, payload, fecha_publicacion IS NOT NULL AS publicada FROM outbox',
        )
      ).rows;
    await hasta(async () => {
      while ((await relay.publicarUnLote()).tipo === 'publicado');
      const filas = await filasOutbox();
      const c = consumidor.contadores();
      return filas.length === 1 + 6 * 2 && filas.every((f) => f.publicada) && c.duplicados + c.hechosDuplicados === filas.length;
    }, 'todo publicado y cada copia absorbida en el inbox');
    expect(broker.contadores.descartadosPorDuplicado).toBe(primeraVida.length);

    // Consumidor → pasarela: el cobro de un pago ya decidido, repetido con su clave (la reentrega que encuentra
    // el pago sin su desenlace confirmado vuelve a llamar con la misma clave).
    const [idRepetido] = [...pagos].find(([, a]) => a === B)!;
    const monto = Dinero.deUnidadesMenores(1000, 'USD');
    if (!monto.ok) throw new Error('monto');
    const solicitud: SolicitudCobro = {
      idPago: idRepetido,
      modo: 'live',
      idAfiliado: 'afiliado-1',
      monto: monto.valor,
      referenciaPago: (await p.repositorio.obtener(idRepetido))!.referenciaPago,
      claveIdempotencia: idRepetido,
      traza: { ...traza, idSolicitud: 'req_repetido' },
    };
    const antes = pasarela.contadores().cargosNuevos + pasarela.contadores().rechazosNuevos;
    await pasarela.cobrar(solicitud);
    expect(pasarela.contadores().cargosNuevos + pasarela.contadores().rechazosNuevos).toBe(antes);
    expect(pasarela.contadores().repeticionesAbsorbidas).toBe(1);

    await registrador.vaciar();
    expect(registrador.sinAmbito).toBe(0);
    const asignador = new PostgresAsignadorEventos({ pool: p.pool });
    for (let r = await asignador.ronda(); r.tipo !== 'numerados' || r.quedan; r = await asignador.ronda());
    const registro = new PostgresRegistroEventos({ pool: p.pool });
    const duplicadosDe = async (ambito: Ambito) =>
      (await registro.leer(ambito, { despuesDe: 0, limite: 500, tipo: 'duplicado.absorbido' })).eventos.map((e: EventoSocio) => ({
        etapa: (e.datos as { etapa: string }).etapa,
        clave: (e.datos as { clave: string }).clave,
        veces: (e.datos as { veces: number }).veces,
        sujeto: e.sujeto,
      }));
    const feeds = { [A.idSocio]: await duplicadosDe(A), [B.idSocio]: await duplicadosDe(B) };

    // Lo esperado, de las filas reales: la clave de un evento de pago es su id; la de un hecho, el id que mandó el socio.
    const filas = await filasOutbox();
    const esperado = (f: (typeof filas)[number], etapa: string) => {
      if (f.tipo === 'HechoConversionRecibido') {
        return { ambito: A, d: { etapa, clave: String(f.payload['id_evento']), veces: 1, sujeto: 'conv-1' } };
      }
      return { ambito: pagos.get(f.id_agregado)!, d: { etapa, clave: f.id_evento, veces: 1, sujeto: f.id_agregado } };
    };
    const idsPrimeraVida = new Set(primeraVida.map((f) => f.idEvento));
    const todos = [
      ...filas.filter((f) => idsPrimeraVida.has(f.id_evento)).map((f) => esperado(f, 'broker')),
      ...filas.map((f) => esperado(f, 'inbox')),
      { ambito: B, d: { etapa: 'pasarela', clave: idRepetido, veces: 1, sujeto: idRepetido } },
    ];
    const orden = (x: { etapa: string; clave: string }, y: { etapa: string; clave: string }) =>
      `${x.etapa} ${x.clave}`.localeCompare(`${y.etapa} ${y.clave}`);
    for (const ambito of [A, B]) {
      expect([...feeds[ambito.idSocio]!].sort(orden)).toEqual(
        todos
          .filter((t) => t.ambito === ambito)
          .map((t) => t.d)
          .sort(orden),
      );
    }
    // Hubo de todo: en cada feed, duplicados del broker y del inbox de PagoPendiente y de un desenlace.
    const tipos = new Set(filas.map((f) => f.tipo));
    expect(tipos).toEqual(new Set(['HechoConversionRecibido', 'PagoPendiente', 'PagoExitoso', 'PagoFallido']));
    expect(feeds[A.idSocio]!.some((d) => d.etapa === 'broker')).toBe(true);
    expect(feeds[B.idSocio]!.some((d) => d.etapa === 'broker')).toBe(true);

    // El registro cuenta lo mismo que cada etapa (de donde salen las métricas por etapa, decisión 0074).
    const suma = (etapa: string) =>
      [...feeds[A.idSocio]!, ...feeds[B.idSocio]!].filter((d) => d.etapa === etapa).reduce((n, d) => n + d.veces, 0);
    const c = consumidor.contadores();
    expect(suma('broker')).toBe(broker.contadores.descartadosPorDuplicado);
    expect(suma('inbox')).toBe(c.duplicados + c.hechosDuplicados);
    expect(suma('pasarela')).toBe(pasarela.contadores().repeticionesAbsorbidas);

    // El id de solicitud y la traza del duplicado de la pasarela son los de la llamada repetida.
    const { eventos } = await registro.leer(B, { despuesDe: 0, limite: 500, tipo: 'duplicado.absorbido', sujeto: idRepetido });
    expect(eventos.find((e) => (e.datos as { etapa: string }).etapa === 'pasarela')).toMatchObject({
      idSolicitud: 'req_repetido',
      idTraza: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
  });

  it('con Pulsar (su cliente falso fiel): lo republicado que el broker deduplica (id -1:-1) es un duplicado de la etapa broker de su socio', async () => {
    const base = await crearBaseDePrueba();
    const p = crearPersistenciaPostgres({ url: base.url, tamanoPool: 4 });
    cierres.push(async () => {
      await p.cerrar();
      await base.cerrar();
    });
    const registrador = new RegistradorDuplicados({ pool: p.pool, intervaloMs: 1_000_000 });
    const pagos = new Map<string, Ambito>();
    for (const ambito of [A, B, A, B]) {
      const cambio = nuevoPago(ambito);
      await p.repositorio.crear(cambio, { idSocio: ambito.idSocio, clave: cambio.pago.referenciaPago }, traza);
      pagos.set(cambio.pago.id, ambito);
    }
    const falso = new PulsarFalso({ semilla: 3 });
    const broker = await crearBrokerPulsar({
      url: 'pulsar://pulsar-falso:6650',
      topico: 'persistent://public/default/pagos',
      crearCliente: falso.crearCliente,
    });
    cierres.push(() => broker.cerrar());
    const outbox = new PostgresAlmacenOutbox(p.pool);
    // Primera vida: publica tres filas y muere sin marcarlas (su productor se cierra con ella).
    const primeraVida = await outbox.reclamar(PRODUCTOR, 3);
    const muerto = await broker.crearPublicador(PRODUCTOR);
    expect(await muerto.publicar(primeraVida.map(sobreDeFila))).toEqual(['aceptado', 'aceptado', 'aceptado']);
    await muerto.cerrar();
    const relay = await relayQueAnota({ url: base.url, claveCerrojo: 4343, tamanoLote: 10, outbox, broker, registrador });
    while ((await relay.publicarUnLote()).tipo === 'publicado');
    expect(falso.estadisticas.descartadosPorDuplicado).toBe(3);

    await registrador.cerrar();
    const asignador = new PostgresAsignadorEventos({ pool: p.pool });
    for (let r = await asignador.ronda(); r.tipo !== 'numerados' || r.quedan; r = await asignador.ronda());
    const registro = new PostgresRegistroEventos({ pool: p.pool });
    for (const ambito of [A, B]) {
      const { eventos } = await registro.leer(ambito, { despuesDe: 0, limite: 100, tipo: 'duplicado.absorbido' });
      const esperados = primeraVida
        .filter((f) => pagos.get(f.idAgregado) === ambito)
        .map((f) => ({
          sujeto: f.idAgregado,
          datos: { etapa: 'broker', clave: f.idEvento, veces: 1 },
          idTraza: '4bf92f3577b34da6a3ce929d0e0e4736',
        }));
      const porClave = (x: { datos: Readonly<Record<string, unknown>> }, y: { datos: Readonly<Record<string, unknown>> }) =>
        String(x.datos['clave']).localeCompare(String(y.datos['clave']));
      expect(esperados.length).toBeGreaterThan(0);
      expect(eventos.map((e) => ({ sujeto: e.sujeto, datos: e.datos, idTraza: e.idTraza })).sort(porClave)).toEqual(
        esperados.sort(porClave),
      );
    }
  });

  it('consumidor → pasarela: la reentrega que encuentra el cobro de una entrega caída al preguntar antes de cobrar es un duplicado de la pasarela de su socio, y no cobra otra vez', async () => {
    const base = await crearBaseDePrueba();
    const p = crearPersistenciaPostgres({ url: base.url, tamanoPool: 4 });
    cierres.push(async () => {
      await p.cerrar();
      await base.cerrar();
    });
    const registrador = new RegistradorDuplicados({ pool: p.pool, intervaloMs: 1_000_000 });
    await prepararPasarelaSimulada(p.pool);
    const pasarela = crearPasarelaSimulada({
      pool: p.pool,
      latenciaMinMs: 0,
      latenciaMaxMs: 0,
      tasaTransitorio: 0,
      tasaSinRespuesta: 0,
      tasa500TrasCobro: 0,
      tasaEnCurso: 0,
      desenlaceForzado: () => 'exitoso',
      alRepeticionAbsorbida: (s) => registrador.anotar(duplicadoEnLaPasarela(s)),
    });
    const manejador = (pasarelaDeLaEntrega: typeof pasarela | Pick<typeof pasarela, 'cobrar' | 'consultar'>) =>
      crearManejadorEventos({
        suscripcion: 'consumidor',
        repositorio: p.repositorio,
        inbox: new PostgresInboxPagos(p.pool),
        pasarela: pasarelaDeLaEntrega,
        turnos: new PostgresTurnosCobro(p.pool, p.repositorio),
        titular: randomUUID(),
        duracionTurnoMs: 100,
        reloj: { ahora: () => new Date() },
        nuevoId: uuidv7,
        intentosPasarela: 3,
        backoffPasarelaMs: 1,
        alCobroYaDecidido: (pago, t) => registrador.anotar(duplicadoEnLaConsultaPrevia(pago, t)),
      });
    const cambio = nuevoPago(A);
    await p.repositorio.crear(cambio, { idSocio: A.idSocio, clave: cambio.pago.referenciaPago }, traza);
    await p.repositorio.crear(nuevoPago(B), { idSocio: B.idSocio, clave: 'otra' }, traza);
    const { rows } = await p.pool.query<FilaEventoOutboxLeida>(
      `SELECT id_evento::text, id_agregado::text, version_agregado, tipo, payload, metadatos
       FROM outbox WHERE id_agregado = $1 AND version_agregado = 1`,
      [cambio.pago.id],
    );
    const leido = filaAEvento(rows[0]!);
    if (!leido.ok) throw new Error(leido.error.motivo);
    const { evento, traza: trazaEvento } = leido.valor;

    // Primera entrega: la pasarela cobra y el proceso cae antes de confirmar el desenlace (el pago queda en PROCESANDO).
    const cayoTrasCobrar = {
      consultar: pasarela.consultar.bind(pasarela),
      cobrar: async (s: SolicitudCobro) => {
        await pasarela.cobrar(s);
        throw new Error('el consumidor cayó tras cobrar');
      },
    };
    await expect(manejador(cayoTrasCobrar)(evento, trazaEvento)).rejects.toThrow(/cayó tras cobrar/);
    expect((await p.repositorio.obtener(cambio.pago.id))?.estado).toBe('PROCESANDO');
    // La reentrega (cuando vence el turno de la caída) pregunta antes de cobrar y encuentra el cobro.
    let r = await manejador(pasarela)(evento, trazaEvento);
    for (let i = 0; r.tipo === 'ocupado' && i < 100; i++) {
      await esperar(50);
      r = await manejador(pasarela)(evento, trazaEvento);
    }
    expect(r).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO' } });
    expect(pasarela.contadores()).toMatchObject({ cargosNuevos: 1, repeticionesAbsorbidas: 0 });

    await registrador.cerrar();
    const asignador = new PostgresAsignadorEventos({ pool: p.pool });
    for (let x = await asignador.ronda(); x.tipo !== 'numerados' || x.quedan; x = await asignador.ronda());
    const registro = new PostgresRegistroEventos({ pool: p.pool });
    const { eventos } = await registro.leer(A, { despuesDe: 0, limite: 100, tipo: 'duplicado.absorbido' });
    expect(eventos.map((e) => ({ sujeto: e.sujeto, datos: e.datos, idTraza: e.idTraza }))).toEqual([
      {
        sujeto: cambio.pago.id,
        datos: { etapa: 'pasarela', clave: cambio.pago.id, veces: 1 },
        idTraza: '4bf92f3577b34da6a3ce929d0e0e4736',
      },
    ]);
    expect((await registro.leer(B, { despuesDe: 0, limite: 100, tipo: 'duplicado.absorbido' })).eventos).toEqual([]);
  });
});
