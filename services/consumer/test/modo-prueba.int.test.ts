import {
  PostgresInboxPagos,
  PostgresTurnosCobro,
  cargosDe,
  crearPersistenciaPostgres,
  uuidv7,
  type PersistenciaPostgres,
} from '@aeropartners/adaptadores';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import { crearManejadorEventos } from '@aeropartners/aplicacion';
import { relojFijo } from '@aeropartners/aplicacion/testing';
import { iniciarServidorStripeFalso, type ServidorStripeFalso } from '@aeropartners/contratos/stripe';
import { Dinero, crearPago, type Modo } from '@aeropartners/dominio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crearPasarela, type PasarelaElegida } from '../src/componentes.js';
import { leerConfiguracion } from '../src/config.js';

const CUENTA = 'acct_1ModoPrueba';
let base: BaseDePrueba;
let persistencia: PersistenciaPostgres;
let stripe: ServidorStripeFalso;
let pasarela: PasarelaElegida;

beforeAll(async () => {
  base = await crearBaseDePrueba();
  persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 4 });
  stripe = await iniciarServidorStripeFalso({ cuentasConectadas: [CUENTA] });
  const config = leerConfiguracion({
    DATABASE_URL: base.url,
    PASARELA: 'stripe',
    PASARELA_PERFIL: 'sin-latencia',
    STRIPE_API_KEY: stripe.apiKey,
    STRIPE_CUENTAS_AFILIADOS: JSON.stringify({ 'afiliado-1': CUENTA }),
    STRIPE_URL_API: `${stripe.protocol}://${stripe.host}:${stripe.port}`,
  });
  if (!config.ok) throw new Error(config.mensaje);
  pasarela = await crearPasarela(config.config, persistencia.pool);
});
afterAll(async () => {
  await pasarela?.detener();
  await stripe?.cerrar();
  await persistencia?.cerrar();
  await base?.cerrar();
});

/** Un pago creado en la base y su PagoPendiente manejado de principio a fin por el consumidor. */
async function crearYProcesar(modo: Modo) {
  const monto = Dinero.deUnidadesMenores(2_500, 'USD');
  if (!monto.ok) throw new Error('monto');
  const cambio = crearPago(
    { id: uuidv7(), idSocio: 'socio-1', modo, idAfiliado: 'afiliado-1', monto: monto.valor, referenciaPago: `ref-${uuidv7()}` },
    { ahora: new Date(), nuevoId: uuidv7 },
  );
  if (!cambio.ok) throw new Error('cambio');
  await persistencia.repositorio.crear(
    cambio.valor,
    { idSocio: 'socio-1', clave: cambio.valor.pago.referenciaPago },
    { idCorrelacion: 'c' },
  );
  const manejar = crearManejadorEventos({
    suscripcion: 'consumidor-pagos',
    repositorio: persistencia.repositorio,
    inbox: new PostgresInboxPagos(persistencia.pool),
    pasarela: pasarela.pasarela,
    turnos: new PostgresTurnosCobro(persistencia.pool, persistencia.repositorio),
    titular: `consumidor-${uuidv7()}`,
    duracionTurnoMs: 30_000,
    reloj: relojFijo(new Date()),
    nuevoId: uuidv7,
    intentosPasarela: 3,
    backoffPasarelaMs: 10,
  });
  const evento = cambio.valor.eventos[0];
  if (evento === undefined) throw new Error('sin evento');
  const desenlace = await manejar(evento, { idCorrelacion: 'c' });
  return { idPago: cambio.valor.pago.id, desenlace };
}

describe('modo de prueba con Stripe configurado', () => {
  it('un pago de prueba se cobra en la simulada y nunca llega al servidor de Stripe; uno real, sí', async () => {
    const prueba = await crearYProcesar('test');
    expect(prueba.desenlace).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO', modo: 'test' } });
    expect(stripe.solicitudes, 'solicitudes a Stripe por un pago de prueba').toEqual([]);
    expect(stripe.transferencias).toEqual([]);
    expect((await cargosDe(persistencia.pool, prueba.idPago)).map((c) => c.resultado)).toEqual(['exitoso']);
    // Preguntar por él (lo que hace el consumidor ante un desenlace incierto) tampoco sale hacia Stripe.
    expect(
      await pasarela.pasarela.consultar({
        idPago: prueba.idPago,
        modo: 'test',
        claveIdempotencia: prueba.idPago,
        traza: { idCorrelacion: 'c' },
      }),
    ).toMatchObject({
      tipo: 'exitoso',
    });
    expect(stripe.solicitudes).toEqual([]);

    const real = await crearYProcesar('live');
    expect(real.desenlace).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO', modo: 'live' } });
    expect(stripe.transferencias.map((t) => t.transfer_group)).toEqual([real.idPago]);
    expect(await cargosDe(persistencia.pool, real.idPago)).toEqual([]);
  });
});
