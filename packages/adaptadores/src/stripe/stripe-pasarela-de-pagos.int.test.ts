import { Dinero, type Moneda, type SolicitudCobro } from '@aeropartners/dominio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StripePasarelaDePagos, type OpcionesStripePasarelaDePagos } from './index.js';
import { iniciarServidorStripeFalso, type ServidorStripeFalso } from '@aeropartners/contratos/stripe';

const CUENTA_ANA = 'acct_1AnaAfiliada';

function dinero(valor: string, moneda: Moneda): Dinero {
  const d = Dinero.de(valor, moneda);
  if (!d.ok) throw new Error(`monto de prueba inválido: ${valor} ${moneda}`);
  return d.valor;
}

function solicitud(cambios: Partial<SolicitudCobro> = {}): SolicitudCobro {
  return {
    idPago: '0190f5a2-0000-7000-8000-000000000001',
    modo: 'live',
    idAfiliado: 'afiliado-ana',
    monto: dinero('150.75', 'USD'),
    referenciaPago: 'REF-2026-0001',
    claveIdempotencia: '0190f5a2-0000-7000-8000-000000000001',
    traza: { idCorrelacion: 'corr-123', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    ...cambios,
  };
}

function consulta(idPago = '0190f5a2-0000-7000-8000-000000000001') {
  return { idPago, modo: 'live' as const, claveIdempotencia: idPago, traza: { idCorrelacion: 'corr-consulta' } };
}

describe('StripePasarelaDePagos contra un Stripe falso', () => {
  let stripe: ServidorStripeFalso;

  beforeEach(async () => {
    stripe = await iniciarServidorStripeFalso({ cuentasConectadas: [CUENTA_ANA] });
  });
  afterEach(async () => {
    await stripe.cerrar();
  });

  function pasarela(opciones: Partial<OpcionesStripePasarelaDePagos> = {}) {
    return new StripePasarelaDePagos({
      apiKey: stripe.apiKey,
      cuentasAfiliados: { 'afiliado-ana': CUENTA_ANA, 'afiliado-sin-stripe': 'no-es-una-cuenta' },
      host: stripe.host,
      port: stripe.port,
      protocol: stripe.protocol,
      maxNetworkRetries: 0,
      timeout: 5_000,
      ...opciones,
    });
  }

  it('transfiere a la cuenta conectada del afiliado y devuelve el id de la transferencia', async () => {
    const resultado = await pasarela().cobrar(solicitud());

    expect(stripe.transferencias).toHaveLength(1);
    const transferencia = stripe.transferencias[0];
    expect(resultado).toEqual({ tipo: 'exitoso', referenciaTransaccion: transferencia?.id });
    expect(transferencia).toMatchObject({
      amount: 15075,
      currency: 'usd',
      destination: CUENTA_ANA,
      transfer_group: '0190f5a2-0000-7000-8000-000000000001',
      metadata: {
        id_pago: '0190f5a2-0000-7000-8000-000000000001',
        referencia_pago: 'REF-2026-0001',
      },
    });
    expect(stripe.solicitudes).toHaveLength(1);
    expect(stripe.solicitudes[0]).toMatchObject({
      metodo: 'POST',
      ruta: '/v1/transfers',
      claveIdempotencia: '0190f5a2-0000-7000-8000-000000000001',
      autorizacion: `Bearer ${stripe.apiKey}`,
    });
  });

  it('envía transfer_group = id del pago, y consultar encuentra la transferencia por él', async () => {
    const p = pasarela();
    const s = solicitud();
    expect(await p.consultar({ idPago: s.idPago, modo: 'live', claveIdempotencia: s.claveIdempotencia, traza: s.traza })).toEqual({
      tipo: 'sinCobro',
    });
    const hecho = await p.cobrar(s);
    expect(stripe.transferencias[0]?.transfer_group).toBe('0190f5a2-0000-7000-8000-000000000001');
    expect(await p.consultar({ idPago: s.idPago, modo: 'live', claveIdempotencia: s.claveIdempotencia, traza: s.traza })).toEqual(hecho);
  });

  it('cobrar dos veces con la misma clave devuelve la misma transferencia y transfiere una sola vez', async () => {
    const p = pasarela();
    const primero = await p.cobrar(solicitud());
    const segundo = await p.cobrar(solicitud());

    expect(segundo).toEqual(primero);
    expect(stripe.solicitudes).toHaveLength(2);
    expect(stripe.transferencias).toHaveLength(1);
  });

  it('la respuesta guardada de una clave ya usada (Idempotent-Replayed) es una repetición absorbida: se avisa y se cuenta, la primera no', async () => {
    const avisadas: SolicitudCobro[] = [];
    const p = pasarela({ alRepeticionAbsorbida: (s) => avisadas.push(s) });
    await p.cobrar(solicitud());
    expect(avisadas).toEqual([]);
    await p.cobrar(solicitud());
    await p.cobrar(solicitud());
    expect(avisadas).toEqual([solicitud(), solicitud()]);
    expect(p.repeticionesAbsorbidas).toBe(2);
    expect(stripe.transferencias).toHaveLength(1);
  });

  it('un rechazo de tarjeta (402 card_error) es rechazado con el mensaje de Stripe', async () => {
    stripe.programar({
      tipo: 'error',
      estado: 402,
      guardarConLaClave: true,
      error: {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
      },
    });

    const resultado = await pasarela().cobrar(solicitud());

    expect(resultado.tipo).toBe('rechazado');
    expect(resultado).toHaveProperty('mensaje', expect.stringContaining('Your card has insufficient funds.'));
    expect(resultado).toHaveProperty('mensaje', expect.stringContaining('card_declined'));
    expect(stripe.transferencias).toHaveLength(0);
    // Stripe guardó el rechazo con la clave: repetir la solicitud da el mismo rechazo y no transfiere.
    expect(await pasarela().cobrar(solicitud())).toMatchObject({
      tipo: 'rechazado',
      mensaje: expect.stringContaining('Your card has insufficient funds.'),
    });
    expect(stripe.solicitudes).toHaveLength(2);
    expect(stripe.transferencias).toHaveLength(0);
  });

  it('una petición inválida (400 invalid_request_error) es rechazado con el mensaje de Stripe', async () => {
    const resultado = await pasarela({ cuentasAfiliados: { 'afiliado-ana': 'acct_1NoExiste' } }).cobrar(solicitud());

    expect(resultado.tipo).toBe('rechazado');
    expect(resultado).toHaveProperty('mensaje', expect.stringContaining("No such destination: 'acct_1NoExiste'"));
    expect(stripe.transferencias).toHaveLength(0);
  });

  it('un saldo insuficiente (400 balance_insufficient) es rechazado', async () => {
    stripe.programar({
      tipo: 'error',
      estado: 400,
      error: {
        type: 'invalid_request_error',
        code: 'balance_insufficient',
        message: 'You have insufficient available funds in your Stripe account.',
      },
    });
    const resultado = await pasarela().cobrar(solicitud());
    expect(resultado).toMatchObject({ tipo: 'rechazado', mensaje: expect.stringContaining('insufficient available funds') });
  });

  it('un 500 seguido de éxito: el SDK reintenta con la misma Idempotency-Key y se transfiere una sola vez', async () => {
    stripe.programar({ tipo: 'error', estado: 500, error: { type: 'api_error', message: 'An unknown error occurred' } });

    const resultado = await pasarela({ maxNetworkRetries: 2 }).cobrar(solicitud());

    expect(resultado).toEqual({ tipo: 'exitoso', referenciaTransaccion: stripe.transferencias[0]?.id });
    expect(stripe.solicitudes.map((s) => s.claveIdempotencia)).toEqual([
      '0190f5a2-0000-7000-8000-000000000001',
      '0190f5a2-0000-7000-8000-000000000001',
    ]);
    expect(stripe.transferencias).toHaveLength(1);
  });

  it('un 500 sin reintentos que queden es transitorio', async () => {
    stripe.programar({ tipo: 'error', estado: 500, error: { type: 'api_error', message: 'An unknown error occurred' } });
    const resultado = await pasarela({ maxNetworkRetries: 0 }).cobrar(solicitud());
    expect(resultado).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('An unknown error occurred') });
    expect(stripe.transferencias).toHaveLength(0);
  });

  it('un 429 es transitorio', async () => {
    stripe.programar({
      tipo: 'error',
      estado: 429,
      error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly.' },
    });
    const resultado = await pasarela().cobrar(solicitud());
    expect(resultado).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('Too many requests') });
  });

  it('si Stripe tarda más que el timeout es transitorio, y reintentar con la misma clave no transfiere otra vez', async () => {
    stripe.programar({ tipo: 'retraso', ms: 500 });

    const resultado = await pasarela({ timeout: 100 }).cobrar(solicitud());

    expect(resultado).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('timeout') });
    // Stripe sí ejecutó la transferencia; el cliente solo se quedó sin la respuesta.
    expect(stripe.transferencias).toHaveLength(1);
    // Mientras la primera petición sigue en curso, la misma clave recibe 409: transitorio, no rechazo.
    expect(await pasarela().cobrar(solicitud())).toMatchObject({
      tipo: 'incierto',
      mensaje: expect.stringContaining('idempotency_key_in_use'),
    });
    await new Promise((r) => setTimeout(r, 600));
    const reintento = await pasarela().cobrar(solicitud());
    expect(reintento).toEqual({ tipo: 'exitoso', referenciaTransaccion: stripe.transferencias[0]?.id });
    expect(stripe.transferencias).toHaveLength(1);
  });

  // Defecto: se traducía a rechazado (y el pago acababa FALLIDO) aunque la primera petición con la clave
  // hubiera transferido.
  it('la misma clave con otros parámetros (idempotency_error) es incierto, y consultar encuentra la transferencia', async () => {
    const p = pasarela();
    const primero = await p.cobrar(solicitud());

    const resultado = await p.cobrar(solicitud({ monto: dinero('99.00', 'USD') }));

    expect(resultado).toMatchObject({
      tipo: 'incierto',
      mensaje: expect.stringContaining('la clave de idempotencia 0190f5a2-0000-7000-8000-000000000001 ya se usó con otros parámetros'),
    });
    expect(stripe.transferencias).toHaveLength(1);
    expect(await p.consultar(consulta())).toEqual(primero);
  });

  it('un 401 (clave de API inválida) lanza un Error con causa: es configuración, no un resultado', async () => {
    const error = await pasarela({ apiKey: 'sk_test_revocada' })
      .cobrar(solicitud())
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('401');
    expect((error as Error).cause).toMatchObject({ type: 'StripeAuthenticationError', statusCode: 401 });
    expect(stripe.transferencias).toHaveLength(0);
  });

  it('COP: transfiere pesos enteros codificados con dos decimales', async () => {
    const resultado = await pasarela().cobrar(solicitud({ monto: dinero('25000', 'COP') }));

    expect(resultado.tipo).toBe('exitoso');
    expect(stripe.transferencias[0]).toMatchObject({ amount: 2_500_000, currency: 'cop' });
  });

  it('COP: rechaza 10.50 COP (no se puede transferir medio peso) sin redondear ni llamar a Stripe', async () => {
    const resultado = await pasarela().cobrar(solicitud({ monto: dinero('10.50', 'COP') }));

    expect(resultado).toEqual({
      tipo: 'rechazado',
      mensaje:
        'Stripe no admite transferir 10.50 COP: las transferencias en COP deben ser de unidades enteras, ' +
        'sin decimales. No se redondea el monto; no se transfirió nada.',
    });
    expect(stripe.solicitudes).toHaveLength(0);
  });

  it('COP con exponente 0 configurado: amount en pesos, y 10.50 COP sigue rechazado', async () => {
    const p = pasarela({ monedas: { COP: { exponente: 0, decimalesAdmitidos: 0 } } });

    expect((await p.cobrar(solicitud({ monto: dinero('10.50', 'COP') }))).tipo).toBe('rechazado');
    expect(stripe.solicitudes).toHaveLength(0);
    expect((await p.cobrar(solicitud({ monto: dinero('25000', 'COP') }))).tipo).toBe('exitoso');
    expect(stripe.transferencias[0]).toMatchObject({ amount: 25_000, currency: 'cop' });
  });

  it('un afiliado sin cuenta conectada es rechazado sin llamar a Stripe', async () => {
    const resultado = await pasarela().cobrar(solicitud({ idAfiliado: 'afiliado-desconocido' }));

    expect(resultado).toEqual({
      tipo: 'rechazado',
      mensaje: 'El afiliado afiliado-desconocido no tiene una cuenta conectada de Stripe configurada: no se transfirió nada.',
    });
    expect(stripe.solicitudes).toHaveLength(0);
  });

  it('una cuenta configurada que no es un acct_… es rechazado sin llamar a Stripe', async () => {
    const resultado = await pasarela().cobrar(solicitud({ idAfiliado: 'afiliado-sin-stripe' }));
    expect(resultado).toMatchObject({ tipo: 'rechazado', mensaje: expect.stringContaining('no es un identificador') });
    expect(stripe.solicitudes).toHaveLength(0);
  });

  it('acepta una función asíncrona como tabla de cuentas', async () => {
    const p = pasarela({ cuentasAfiliados: async (id) => (id === 'afiliado-ana' ? CUENTA_ANA : undefined) });
    expect((await p.cobrar(solicitud())).tipo).toBe('exitoso');
    expect((await p.cobrar(solicitud({ idAfiliado: 'otro', claveIdempotencia: 'otra' }))).tipo).toBe('rechazado');
    expect(stripe.transferencias).toHaveLength(1);
  });

  describe('consultar: busca la transferencia del pago por transfer_group y metadata[id_pago]', () => {
    it('un 500 después de transferir: cobrar es incierto (y lo sigue siendo al repetir), consultar da la transferencia', async () => {
      stripe.programar({ tipo: 'errorTrasTransferir', estado: 500, error: { type: 'api_error', message: 'An unknown error occurred' } });
      const p = pasarela({ maxNetworkRetries: 1 });

      expect(await p.cobrar(solicitud())).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('HTTP 500') });
      // Stripe guardó el 500 con la clave: repetir no dice nada nuevo, y tampoco transfiere otra vez.
      expect(await p.cobrar(solicitud())).toMatchObject({ tipo: 'incierto' });
      expect(stripe.transferencias).toHaveLength(1);
      expect(await p.consultar(consulta())).toEqual({ tipo: 'exitoso', referenciaTransaccion: stripe.transferencias[0]?.id });
      expect(stripe.solicitudes.at(-1)).toMatchObject({ metodo: 'GET', ruta: '/v1/transfers' });
    });

    it('sin transferencias en el grupo (también tras un rechazo, que Stripe no guarda): sinCobro', async () => {
      const p = pasarela();
      await p.cobrar(solicitud({ idPago: 'otro-pago', modo: 'live', claveIdempotencia: 'otro-pago' }));
      expect(await p.consultar(consulta())).toEqual({ tipo: 'sinCobro' });
      stripe.programar({
        tipo: 'error',
        estado: 402,
        guardarConLaClave: true,
        error: { type: 'card_error', code: 'card_declined', message: 'Declined' },
      });
      expect((await p.cobrar(solicitud())).tipo).toBe('rechazado');
      expect(await p.consultar(consulta())).toEqual({ tipo: 'sinCobro' });
    });

    it('una transferencia revertida del todo: incierto (ni otra transferencia ni darla por pagada); en parte: exitoso', async () => {
      const p = pasarela();
      const hecho = await p.cobrar(solicitud());
      const id = stripe.transferencias[0]!.id;

      stripe.revertir(id, 5_000);
      expect(await p.consultar(consulta()), 'revertida en parte: el dinero sigue movido').toEqual(hecho);

      stripe.revertir(id);
      expect(await p.consultar(consulta())).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining(`${id}) fue revertida`) });
    });

    it('transferencias del grupo con otro metadata[id_pago]: incierto (ni sinCobro ni la ajena); con la del pago, exitoso', async () => {
      const p = pasarela();
      // Como un grupo reutilizado a mano desde el panel de Stripe: el grupo del pago, otro id_pago.
      const aMano = await fetch(`http://${stripe.host}:${stripe.port}/v1/transfers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stripe.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          amount: '100',
          currency: 'usd',
          destination: CUENTA_ANA,
          transfer_group: '0190f5a2-0000-7000-8000-000000000001',
          'metadata[id_pago]': 'otro-pago',
        }),
      });
      expect(aMano.status).toBe(200);
      const ajena = stripe.transferencias[0]!.id;
      expect(await p.consultar(consulta())).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining(ajena) });

      const hecho = await p.cobrar(solicitud());
      expect(hecho).toMatchObject({ tipo: 'exitoso' });
      expect(hecho).not.toEqual({ tipo: 'exitoso', referenciaTransaccion: ajena });
      expect(await p.consultar(consulta())).toEqual(hecho);
    });

    it('un fallo al preguntar (500, tiempo agotado) es incierto, nunca sinCobro; un 401 lanza', async () => {
      const p = pasarela({ timeout: 100 });
      await p.cobrar(solicitud());
      stripe.programarListado({ tipo: 'error', estado: 500, error: { type: 'api_error', message: 'An unknown error occurred' } });
      expect(await p.consultar(consulta())).toMatchObject({
        tipo: 'incierto',
        mensaje: expect.stringContaining('No se pudo preguntar a Stripe'),
      });
      stripe.programarListado({ tipo: 'retraso', ms: 500 });
      expect(await p.consultar(consulta())).toMatchObject({ tipo: 'incierto', mensaje: expect.stringContaining('timeout') });
      expect(await p.consultar(consulta())).toMatchObject({ tipo: 'exitoso' });

      const error = await pasarela({ apiKey: 'sk_test_revocada' })
        .consultar(consulta())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain('401');
    });
  });

  describe('el Stripe falso al reiniciarse', () => {
    it('con las claves olvidadas conserva las transferencias: la misma clave transfiere otra vez, y consultar ve la primera', async () => {
      const p = pasarela();
      const primero = await p.cobrar(solicitud());
      await stripe.reiniciar({ olvidarClaves: true });

      expect(stripe.transferencias).toHaveLength(1);
      expect(await p.consultar(consulta())).toEqual(primero);
      // Lo que hace Stripe pasadas 24 h: la clave ya no protege (por eso se pregunta antes de cobrar).
      const segundo = await p.cobrar(solicitud());
      expect(segundo).toMatchObject({ tipo: 'exitoso' });
      expect(segundo).not.toEqual(primero);
      expect(stripe.transferencias).toHaveLength(2);
    });

    it('sin olvidar las claves corta la petición en curso, y el reintento del SDK recibe la respuesta guardada', async () => {
      const p = pasarela({ timeout: 2_000 });
      stripe.programar({ tipo: 'retraso', ms: 60_000 });
      const enCurso = p.cobrar(solicitud());
      await esperarHasta(() => stripe.transferencias.length === 1);
      await stripe.reiniciar({ olvidarClaves: false });

      // El SDK reintenta una vez una conexión cortada (aun con maxNetworkRetries 0), con la misma clave.
      const esperado = { tipo: 'exitoso', referenciaTransaccion: stripe.transferencias[0]?.id };
      expect(await enCurso).toEqual(esperado);
      expect(stripe.solicitudes.filter((s) => s.metodo === 'POST')).toHaveLength(2);
      expect(await p.cobrar(solicitud())).toEqual(esperado);
      expect(stripe.transferencias).toHaveLength(1);
    });
  });
});

async function esperarHasta(condicion: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condicion(); i += 1) await new Promise((r) => setTimeout(r, 10));
  if (!condicion()) throw new Error('la condición no se cumplió a tiempo');
}
