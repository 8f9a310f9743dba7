import { sobreDeFila } from '../mensajeria/sobre-evento.js';
import { crearRelay } from '@aeropartners/aplicacion';
import { Dinero, crearPago, iniciarProcesamiento, registrarExito, type CambioPago } from '@aeropartners/dominio';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { crearBrokerEmbebido } from '../broker-embebido/index-broker-embebido.js';
import { uuidv7 } from '../ids/uuidv7.js';
import { crearBaseDePrueba } from '../testing/index.js';
import { PostgresAlmacenOutbox } from './postgres-almacen-outbox.js';
import { PostgresInboxPagos } from './postgres-inbox-pagos.js';
import { LiderRelay } from './lider-relay.js';
import { crearPersistenciaPostgres } from './persistencia-postgres.js';
import { filaAEvento } from './serializacion-eventos.js';

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

async function preparar() {
  const base = await crearBaseDePrueba();
  const persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 4 });
  cierres.push(async () => {
    await persistencia.cerrar();
    await base.cerrar();
  });
  return { ...persistencia, url: base.url };
}

const traza = { idCorrelacion: 'corr-relay' };
const ctx = () => ({ ahora: new Date(), nuevoId: uuidv7 });

function nuevoPago(): CambioPago {
  const monto = Dinero.deUnidadesMenores(1000, 'USD');
  if (!monto.ok) throw new Error();
  const r = crearPago({ id: uuidv7(), idSocio: 's', idAfiliado: 'a', monto: monto.valor, referenciaPago: `r-${uuidv7()}` }, ctx());
  if (!r.ok) throw new Error();
  return r.valor;
}

async function crearPagos(p: Awaited<ReturnType<typeof preparar>>, n: number) {
  const cambios = Array.from({ length: n }, nuevoPago);
  await Promise.all(cambios.map((c) => p.repositorio.crear(c, { idSocio: 's', clave: c.pago.referenciaPago }, traza)));
  return cambios;
}

describe('PostgresAlmacenOutbox', () => {
  it('numera al reclamar con secuencias estrictamente crecientes por productor y reutiliza la secuencia al reintentar', async () => {
    const p = await preparar();
    await crearPagos(p, 10);
    const almacen = new PostgresAlmacenOutbox(p.pool);
    const primero = await almacen.reclamar('relay-a', 4);
    expect(primero.map((f) => f.secuencia)).toEqual([1, 2, 3, 4]);
    // Caída antes de marcar: el siguiente reclamo devuelve las mismas filas con las mismas secuencias.
    const reintento = await almacen.reclamar('relay-a', 6);
    expect(reintento.slice(0, 4).map((f) => [f.id, f.secuencia])).toEqual(primero.map((f) => [f.id, f.secuencia]));
    expect(reintento.slice(4).map((f) => f.secuencia)).toEqual([5, 6]);
    await almacen.marcarPublicadas(reintento.map((f) => f.id));
    const resto = await almacen.reclamar('relay-a', 100);
    expect(resto.map((f) => f.secuencia)).toEqual([7, 8, 9, 10]);
    expect(resto[0]).toMatchObject({ tipo: 'PagoPendiente', versionAgregado: 1, metadatos: { id_correlacion: 'corr-relay' } });
    await almacen.registrarFallo([resto[0]!.id], 'broker caído');
    const { rows } = await p.pool.query<{ intentos: number; ultimo_error: string }>({
      text: 'SELECT intentos, ultimo_error FROM outbox WHERE id = $1',
      values: [resto[0]!.id],
    });
    expect(rows[0]).toEqual({ intentos: 1, ultimo_error: 'broker caído' });
    expect(await almacen.reclamar('relay-a', 0)).toEqual([]);
  });

  it('el relay, muerto entre publicar y marcar y reemplazado, no pierde ni duplica nada en el broker embebido', async () => {
    const p = await preparar();
    const cambios = await crearPagos(p, 30);
    const broker = await crearBrokerEmbebido({ url: p.url, topico: 'pagos', suscripciones: ['consumidor'] });
    cierres.push(() => broker.cerrar());
    const almacen = new PostgresAlmacenOutbox(p.pool);
    const publicador = await broker.crearPublicador('relay-0');
    // Primera vida: publica un lote y "muere" antes de marcarlo.
    const lote = await almacen.reclamar(publicador.nombreProductor, 12);
    await publicador.publicar(lote.map(sobreDeFila));
    // Segunda vida: otro proceso con el mismo nombre de productor gana el liderazgo y retoma.
    const lider = await LiderRelay.esperar(
      { url: p.url, claveCerrojo: 4141, canal: 'outbox_nuevo', intervaloEsperaMs: 50, alPerder: () => {} },
      new AbortController().signal,
    );
    cierres.push(() => lider!.cerrar());
    const relay = crearRelay({
      almacen,
      publicador: await broker.crearPublicador('relay-0'),
      aMensaje: sobreDeFila,
      cerca: lider!.cerca,
      tamanoLote: 8,
      esperarAviso: async () => {},
      intervaloSondeoMs: 1,
      backoffBaseMs: 1,
      backoffMaximoMs: 1,
    });
    expect(await relay.preparar()).toEqual({ tipo: 'listo', renumeradas: 0 });
    while ((await relay.publicarUnLote()).tipo === 'publicado');
    expect(broker.contadores.descartadosPorDuplicado).toBe(12);
    const suscripcion = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 100 });
    const recibidos: string[] = [];
    while (recibidos.length < 30) {
      const m = await suscripcion.recibir();
      if (!m) break;
      const leido = filaAEvento(JSON.parse(m.cuerpo));
      expect(leido.ok).toBe(true);
      if (leido.ok) recibidos.push(leido.valor.evento.idPago);
      await suscripcion.confirmar(m);
    }
    await suscripcion.cerrar();
    expect(recibidos.sort()).toEqual(cambios.map((c) => c.pago.id).sort());
    expect((await p.consultas.estadisticasOutbox({ idSocio: 's', modo: 'live' })).pendientes).toBe(0);
  });
});

describe('PostgresInboxPagos', () => {
  it('guardarYAnotar aplica una vez; repetirlo es duplicado y una versión vieja es conflicto; todo o nada', async () => {
    const p = await preparar();
    const [creado] = await crearPagos(p, 1);
    const inbox = new PostgresInboxPagos(p.pool);
    const proc = iniciarProcesamiento(creado!.pago, ctx());
    if (!proc.ok) throw new Error();
    expect((await p.repositorio.guardar(proc.valor, 1, traza)).ok).toBe(true);
    const exito = registrarExito(proc.valor.pago, 'tr_1', ctx());
    if (!exito.ok) throw new Error();
    const anotacion = {
      suscripcion: 'c',
      idEvento: creado!.eventos[0]!.idEvento,
      idPago: creado!.pago.id,
      tipoEvento: 'PagoPendiente',
      version: 1,
    };
    const [a, b] = await Promise.all([
      inbox.guardarYAnotar(exito.valor, 2, traza, anotacion),
      inbox.guardarYAnotar(exito.valor, 2, traza, anotacion),
    ]);
    expect([a, b].sort()).toEqual(['aplicado', 'duplicado']);
    expect(await inbox.yaProcesado('c', anotacion.idEvento)).toBe(true);
    const otra = { ...anotacion, idEvento: uuidv7() };
    expect(await inbox.guardarYAnotar(exito.valor, 2, traza, otra)).toBe('conflicto');
    expect(await inbox.yaProcesado('c', otra.idEvento)).toBe(false);
    expect((await p.repositorio.obtener(creado!.pago.id))?.estado).toBe('EXITOSO');
    const { rows } = await p.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE tipo = 'PagoExitoso'");
    expect(rows[0]?.n).toBe(1);
    expect(await inbox.anotar(otra)).toBe('anotado');
    expect(await inbox.anotar(otra)).toBe('duplicado');
  });
});

describe('LiderRelay', () => {
  it('un solo líder: el segundo espera hasta que el primero suelta; NOTIFY del outbox despierta al líder', async () => {
    const p = await preparar();
    const opciones = { url: p.url, claveCerrojo: 4242, canal: 'outbox_nuevo', intervaloEsperaMs: 50, alPerder: () => {} };
    const primero = await LiderRelay.esperar(opciones, new AbortController().signal);
    expect(primero).not.toBeNull();
    let segundoEsperando = false;
    const segundo = LiderRelay.esperar(opciones, new AbortController().signal, () => {
      segundoEsperando = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(segundoEsperando).toBe(true);
    const inicio = Date.now();
    const aviso = primero!.esperarAviso(30_000);
    await crearPagos(p, 1);
    await aviso;
    expect(Date.now() - inicio).toBeLessThan(25_000);
    await primero!.cerrar();
    const lider2 = await segundo;
    expect(lider2).not.toBeNull();
    await lider2!.cerrar();
    const abortado = new AbortController();
    const tercero = LiderRelay.esperar(opciones, abortado.signal);
    abortado.abort();
    // Sin líder que lo bloquee, el tercero puede haberlo conseguido antes del aborto; si no, devuelve null.
    const t = await tercero;
    await t?.cerrar();
  });
});

describe('LiderRelay en reserva', () => {
  it('esperando el cerrojo muchas vueltas no acumula oyentes de la señal de aborto', async () => {
    const p = await preparar();
    const opciones = { url: p.url, claveCerrojo: 4343, canal: 'outbox_nuevo', intervaloEsperaMs: 2, alPerder: () => {} };
    const lider = await LiderRelay.esperar(opciones, new AbortController().signal);
    const avisos: Error[] = [];
    const alAviso = (aviso: Error) => void avisos.push(aviso);
    process.on('warning', alAviso);
    try {
      const abortado = new AbortController();
      const reserva = LiderRelay.esperar(opciones, abortado.signal);
      await new Promise((r) => setTimeout(r, 300)); // decenas de vueltas de 2 ms
      abortado.abort();
      expect(await reserva).toBeNull();
      await new Promise((r) => setTimeout(r, 10));
      expect(avisos.filter((a) => a.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', alAviso);
      await lider!.cerrar();
    }
  });
});

describe('aviso outbox_nuevo', () => {
  it('solo notifica cuando la sentencia insertó filas en el outbox (pasar a PROCESANDO no despierta al relay)', async () => {
    const p = await preparar();
    const oyente = new pg.Client({ connectionString: p.url });
    await oyente.connect();
    cierres.push(() => oyente.end());
    const recibidos: string[] = [];
    const esperas = new Map<string, () => void>();
    oyente.on('notification', (n) => {
      recibidos.push(n.payload ?? '');
      esperas.get(n.payload ?? '')?.();
    });
    await oyente.query('LISTEN outbox_nuevo');
    const llega = (carga: string) => new Promise<void>((r) => esperas.set(carga, r));
    // Los avisos llegan en orden de commit: un centinela enviado después prueba que antes no llegó nada.
    const centinela = async (carga: string) => {
      const espera = llega(carga);
      await p.pool.query(`SELECT pg_notify('outbox_nuevo', $1)`, [carga]);
      await espera;
    };

    const [creado] = await crearPagos(p, 1);
    await centinela('tras-crear');
    expect(recibidos).toEqual(['', 'tras-crear']); // crear inserta PagoPendiente en el outbox: aviso

    const procesando = iniciarProcesamiento(creado!.pago, ctx());
    if (!procesando.ok) throw new Error('transición imposible');
    expect((await p.repositorio.guardar(procesando.valor, creado!.pago.version, traza)).ok).toBe(true);
    await centinela('tras-procesando');
    expect(recibidos).toEqual(['', 'tras-crear', 'tras-procesando']); // PagoProcesando no se publica: sin aviso

    const exito = registrarExito(procesando.valor.pago, 'tr_1', ctx());
    if (!exito.ok) throw new Error('transición imposible');
    expect((await p.repositorio.guardar(exito.valor, procesando.valor.pago.version, traza)).ok).toBe(true);
    await centinela('tras-exito');
    expect(recibidos).toEqual(['', 'tras-crear', 'tras-procesando', '', 'tras-exito']);
  });
});
