import { crearManejadorEventos, crearManejadorRegistrarPago, type InboxPagos, type OpcionesManejador } from '@aeropartners/aplicacion';
import { RepositorioPagosEnMemoria, idsSecuenciales, relojFijo } from '@aeropartners/aplicacion/testing';
import type { EventoPago, RepositorioPagos } from '@aeropartners/dominio';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PostgresInboxPagos } from '../postgres/postgres-inbox-pagos.js';
import { crearPersistenciaPostgres, type PersistenciaPostgres } from '../postgres/persistencia-postgres.js';
import { PostgresTurnosCobro } from '../postgres/postgres-turnos-cobro.js';
import { filaAEvento, type FilaEventoOutboxLeida } from '../postgres/serializacion-eventos.js';
import { crearBaseDePrueba, type BaseDePrueba } from '../testing/index.js';
import { StripePasarelaDePagos } from './index.js';
import { iniciarServidorStripeFalso, type ServidorStripeFalso } from '@aeropartners/contratos/stripe';

/**
 * «Ninguna segunda transferencia, ni a las 24 h»: el manejador real del consumidor y la pasarela de
 * Stripe contra su servidor falso. Un cobro se hace pero su desenlace no llega a escribirse (el pago se
 * queda en PROCESANDO); Stripe olvida las claves de idempotencia (se reinicia con ellas olvidadas, como a
 * las 24 h) y el evento se reentrega. La clave ya no protege: solo preguntar por la transferencia del
 * pago antes de cobrar evita la segunda.
 */

const CUENTA = 'acct_1AfiliadoUnico';
const SUSCRIPCION = 'consumidor-pagos';

interface Persistencia {
  readonly repositorio: RepositorioPagos;
  readonly inbox: InboxPagos;
  readonly turnos: OpcionesManejador['turnos'];
  readonly nuevoId: () => string;
  /** El evento `PagoPendiente` del pago recién creado, como lo entregaría el broker. */
  pendiente(idPago: string): Promise<EventoPago>;
}

const enMemoria = async (): Promise<Persistencia> => {
  const repo = new RepositorioPagosEnMemoria();
  return {
    repositorio: repo,
    inbox: repo,
    turnos: repo,
    nuevoId: idsSecuenciales(),
    pendiente: async (idPago) => repo.outbox.find((f) => f.evento.idPago === idPago && f.evento.tipo === 'PagoPendiente')!.evento,
  };
};

let base: BaseDePrueba;
let postgres: PersistenciaPostgres;

const enPostgres = async (): Promise<Persistencia> => ({
  repositorio: postgres.repositorio,
  inbox: new PostgresInboxPagos(postgres.pool),
  turnos: new PostgresTurnosCobro(postgres.pool, postgres.repositorio),
  nuevoId: () => crypto.randomUUID(),
  pendiente: async (idPago) => {
    const { rows } = await postgres.pool.query<FilaEventoOutboxLeida>(
      `SELECT id_evento, id_agregado, version_agregado, tipo, payload, metadatos FROM outbox
        WHERE id_agregado = $1 AND tipo = 'PagoPendiente'`,
      [idPago],
    );
    const leido = rows[0] === undefined ? undefined : filaAEvento(rows[0]);
    if (!leido?.ok) throw new Error(`sin PagoPendiente válido en el outbox para ${idPago}`);
    return leido.valor.evento;
  },
});

beforeAll(async () => {
  base = await crearBaseDePrueba();
  postgres = crearPersistenciaPostgres({ url: base.url, tamanoPool: 4 });
  // El socio del pago (la creación comprueba que exista y esté activo).
  await postgres.pool.query("INSERT INTO socios (id, nombre) VALUES ('socio-1', 'socio-1')");
});
afterAll(async () => {
  await postgres?.cerrar();
  await base?.cerrar();
});

describe.each([
  ['repositorio en memoria', enMemoria],
  ['persistencia PostgreSQL', enPostgres],
])('ninguna segunda transferencia tras olvidar Stripe las claves (%s)', (_, crearPersistencia) => {
  let stripe: ServidorStripeFalso;
  let persistencia: Persistencia;

  beforeEach(async () => {
    stripe = await iniciarServidorStripeFalso({ cuentasConectadas: [CUENTA] });
    persistencia = await crearPersistencia();
  });
  afterEach(async () => {
    await stripe.cerrar();
  });

  const traza = { idCorrelacion: 'corr-24h' };

  function pasarela(timeout = 5_000) {
    return new StripePasarelaDePagos({
      apiKey: stripe.apiKey,
      cuentasAfiliados: { 'afiliado-1': CUENTA },
      host: stripe.host,
      port: stripe.port,
      protocol: stripe.protocol,
      maxNetworkRetries: 0,
      timeout,
    });
  }

  function manejador(cambios: Partial<OpcionesManejador> = {}) {
    return crearManejadorEventos({
      suscripcion: SUSCRIPCION,
      repositorio: persistencia.repositorio,
      inbox: persistencia.inbox,
      pasarela: pasarela(),
      turnos: persistencia.turnos,
      titular: `consumidor-${crypto.randomUUID()}`,
      duracionTurnoMs: 30_000,
      reloj: relojFijo(new Date()),
      nuevoId: persistencia.nuevoId,
      intentosPasarela: 3,
      backoffPasarelaMs: 10,
      ...cambios,
    });
  }

  async function crearPago(): Promise<{ idPago: string; pendiente: EventoPago }> {
    const creado = await crearManejadorRegistrarPago({
      repositorio: persistencia.repositorio,
      reloj: relojFijo(new Date()),
      nuevoId: persistencia.nuevoId,
    })({
      tipo: 'RegistrarPago',
      ambito: { idSocio: 'socio-1', modo: 'live' },
      credencial: { idClave: null },
      idAfiliado: 'afiliado-1',
      monto: '150.75',
      moneda: 'USD',
      referenciaPago: `REF-${crypto.randomUUID()}`,
      traza,
    });
    if (!creado.ok) throw new Error(`no se creó el pago: ${creado.error.tipo}`);
    const idPago = creado.valor.pago.id;
    return { idPago, pendiente: await persistencia.pendiente(idPago) };
  }

  async function reentregarTrasOlvidarLasClaves(idPago: string, pendiente: EventoPago) {
    expect((await persistencia.repositorio.obtener(idPago))?.estado, 'el desenlace no llegó a escribirse').toBe('PROCESANDO');
    expect(stripe.transferencias).toHaveLength(1);
    await stripe.reiniciar({ olvidarClaves: true });

    const desenlace = await manejador()(pendiente, traza);

    const [transferencia, ...otras] = stripe.transferencias;
    expect(otras, 'una sola transferencia aunque Stripe ya no recuerde la clave').toEqual([]);
    expect(desenlace).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO', referenciaTransaccion: transferencia?.id } });
    expect(await persistencia.repositorio.obtener(idPago)).toMatchObject({ estado: 'EXITOSO', referenciaTransaccion: transferencia?.id });
    // Preguntó (GET /v1/transfers?transfer_group=…) y no volvió a transferir.
    const despues = stripe.solicitudes.slice(stripe.solicitudes.findLastIndex((s) => s.metodo === 'POST') + 1);
    expect(despues.map((s) => s.metodo)).toEqual(['GET']);
    // Y una reentrega más ya no hace nada.
    expect(await manejador()(pendiente, traza)).toEqual({ tipo: 'duplicado' });
    expect(stripe.transferencias).toHaveLength(1);
  }

  it('la respuesta del cobro se pierde (tiempo agotado): el pago queda PROCESANDO; la reentrega pregunta y termina EXITOSO', async () => {
    const { idPago, pendiente } = await crearPago();
    // Stripe transfiere pero no responde a tiempo; el único intento de esta entrega agota la espera.
    stripe.programar({ tipo: 'retraso', ms: 60_000 });
    const primera = manejador({ pasarela: pasarela(300), intentosPasarela: 1 });

    expect(await primera(pendiente, traza)).toMatchObject({ tipo: 'incierto' });

    await reentregarTrasOlvidarLasClaves(idPago, pendiente);
  });

  it('el cobro responde pero la escritura final falla: el pago queda PROCESANDO; la reentrega pregunta y termina EXITOSO', async () => {
    const { idPago, pendiente } = await crearPago();
    const caida = new Error('la conexión con PostgreSQL se cortó al escribir el desenlace');
    const inboxQueCae: InboxPagos = {
      yaProcesado: (s, e) => persistencia.inbox.yaProcesado(s, e),
      anotar: (a) => persistencia.inbox.anotar(a),
      guardarYAnotar: async () => {
        throw caida;
      },
    };

    await expect(manejador({ inbox: inboxQueCae })(pendiente, traza)).rejects.toBe(caida);

    await reentregarTrasOlvidarLasClaves(idPago, pendiente);
  });
});
