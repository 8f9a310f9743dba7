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
import { Dinero, crearPago, type Modo } from '@aeropartners/dominio';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crearPasarela, type PasarelaElegida } from '../src/componentes.js';
import { leerConfiguracion } from '../src/config.js';

const CUENTA = 'acct_1ModoPrueba';
let base: BaseDePrueba;
let persistencia: PersistenciaPostgres;
/** Lo que llega a «Stripe»: un servidor local que anota cada petición y responde 503 (no hace falta más). */
let stripe: Server;
const solicitudesAStripe: string[] = [];
let pasarela: PasarelaElegida;

beforeAll(async () => {
  base = await crearBaseDePrueba();
  persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 4 });
  stripe = createServer((req, res) => {
    solicitudesAStripe.push(`${req.method} ${req.url}`);
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"type":"api_error","message":"no disponible"}}');
  });
  await new Promise<void>((listo) => stripe.listen(0, '127.0.0.1', listo));
  const config = leerConfiguracion({
    DATABASE_URL: base.url,
    PASARELA: 'stripe',
    PASARELA_PERFIL: 'sin-latencia',
    // Sin rechazos ni fallos simulados: el desenlace del pago de prueba es siempre EXITOSO (el perfil rechaza
    // al azar una parte, y el test fallaba de vez en cuando con un FALLIDO legítimo).
    PASARELA_TASA_RECHAZO: '0',
    PASARELA_TASA_TRANSITORIO: '0',
    PASARELA_TASA_SIN_RESPUESTA: '0',
    PASARELA_TASA_500_TRAS_COBRO: '0',
    PASARELA_TASA_EN_CURSO: '0',
    STRIPE_API_KEY: 'sk_test_modo_prueba',
    STRIPE_CUENTAS_AFILIADOS: JSON.stringify({ 'afiliado-1': CUENTA }),
    STRIPE_URL_API: `http://127.0.0.1:${(stripe.address() as AddressInfo).port}`,
  });
  if (!config.ok) throw new Error(config.mensaje);
  pasarela = await crearPasarela(config.config, persistencia.pool);
});
afterAll(async () => {
  await pasarela?.detener();
  await new Promise((cerrado) => stripe?.close(cerrado));
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
  it('un pago de prueba se cobra en la simulada y nunca llega a Stripe, ni al cobrar ni al preguntar por él; uno real, sí', async () => {
    const prueba = await crearYProcesar('test');
    expect(prueba.desenlace).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO', modo: 'test' } });
    expect((await cargosDe(persistencia.pool, prueba.idPago)).map((c) => c.resultado)).toEqual(['exitoso']);
    // Preguntar por él (lo que hace el consumidor ante un desenlace incierto) tampoco sale hacia Stripe.
    const consulta = { idPago: prueba.idPago, modo: 'test', claveIdempotencia: prueba.idPago, traza: { idCorrelacion: 'c' } } as const;
    expect(await pasarela.pasarela.consultar(consulta)).toMatchObject({ tipo: 'exitoso' });
    expect(solicitudesAStripe, 'peticiones a Stripe por un pago de prueba').toEqual([]);

    // Uno real va a Stripe (que aquí no responde bien: el desenlace queda incierto, sin tocar la simulada).
    const monto = Dinero.deUnidadesMenores(2_500, 'USD');
    if (!monto.ok) throw new Error('monto');
    const idReal = uuidv7();
    const real = await pasarela.pasarela.cobrar({
      idPago: idReal,
      modo: 'live',
      idAfiliado: 'afiliado-1',
      monto: monto.valor,
      referenciaPago: 'REF-REAL',
      claveIdempotencia: idReal,
      traza: { idCorrelacion: 'c' },
    });
    expect(real.tipo).toBe('incierto');
    expect(solicitudesAStripe.length).toBeGreaterThan(0);
    expect(solicitudesAStripe.every((s) => s.startsWith('POST /v1/transfers') || s.startsWith('GET /v1/transfers'))).toBe(true);
    expect(await cargosDe(persistencia.pool, idReal)).toEqual([]);
  });
});
