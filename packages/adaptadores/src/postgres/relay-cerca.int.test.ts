import { sobreDeFila } from '../mensajeria/sobre-evento.js';
import { crearRelay, LiderazgoPerdido, type FinRelay, type MensajeSaliente, type Publicador } from '@aeropartners/aplicacion';
import { Dinero, crearPago, type CambioPago } from '@aeropartners/dominio';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { crearBrokerEmbebido } from '../broker-embebido/index-broker-embebido.js';
import { uuidv7 } from '../ids/uuidv7.js';
import { crearBaseDePrueba } from '../testing/index.js';
import { PostgresAlmacenOutbox } from './postgres-almacen-outbox.js';
import { LiderRelay, type OpcionesLiderRelay } from './lider-relay.js';
import { crearPersistenciaPostgres } from './persistencia-postgres.js';

/**
 * La cerca del relay y la alarma de secuencias, contra PostgreSQL real y el broker embebido: dos
 * relays compiten de verdad por el cerrojo (dos conexiones de líder), al líder se le corta la sesión o
 * se le roba la época mientras sigue vivo, y una base «restaurada desde una copia» deja la marca del
 * broker por delante de la secuencia del relay.
 */

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

async function preparar() {
  const base = await crearBaseDePrueba();
  const persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 6 });
  cierres.push(async () => {
    await persistencia.cerrar();
    await base.cerrar();
  });
  return { ...persistencia, url: base.url };
}
type Entorno = Awaited<ReturnType<typeof preparar>>;

const ctx = () => ({ ahora: new Date(), nuevoId: uuidv7 });

function nuevoPago(): CambioPago {
  const monto = Dinero.deUnidadesMenores(1000, 'USD');
  if (!monto.ok) throw new Error('monto inválido');
  const r = crearPago({ id: uuidv7(), idSocio: 's', idAfiliado: 'a', monto: monto.valor, referenciaPago: `r-${uuidv7()}` }, ctx());
  if (!r.ok) throw new Error('pago inválido');
  return r.valor;
}

async function crearPagos(p: Entorno, n: number): Promise<void> {
  const cambios = Array.from({ length: n }, nuevoPago);
  await Promise.all(
    cambios.map((c) => p.repositorio.crear(c, { idSocio: 's', clave: c.pago.referenciaPago }, { idCorrelacion: 'corr-cerca' })),
  );
}

/** Crea pagos en tandas mientras el test no lo pare: el outbox crece mientras los relays compiten. */
function insertarSinParar(p: Entorno) {
  let parar = false;
  const hecho = (async () => {
    while (!parar) {
      await crearPagos(p, 5);
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  const detener = async () => {
    parar = true;
    await hecho;
  };
  cierres.push(detener);
  return detener;
}

const opcionesLider = (p: Entorno, claveCerrojo: number, alPerder: (e: Error) => void = () => {}): OpcionesLiderRelay => ({
  url: p.url,
  claveCerrojo,
  canal: 'outbox_nuevo',
  intervaloEsperaMs: 20,
  intervaloLatidoMs: 100,
  alPerder,
});

async function esperarLider(opciones: OpcionesLiderRelay): Promise<LiderRelay> {
  const lider = await LiderRelay.esperar(opciones, new AbortController().signal);
  if (!lider) throw new Error('sin liderazgo');
  cierres.push(() => lider.cerrar());
  return lider;
}

/** Un publicador que anota cada secuencia que le pasan (lo que el relay intentó publicar). */
function registrando(publicador: Publicador) {
  const secuencias: number[] = [];
  const envuelto: Publicador = {
    nombreProductor: publicador.nombreProductor,
    ultimaSecuenciaAceptada: () => publicador.ultimaSecuenciaAceptada(),
    publicar: (mensajes: readonly MensajeSaliente[]) => {
      secuencias.push(...mensajes.map((m) => m.secuencia));
      return publicador.publicar(mensajes);
    },
    cerrar: () => publicador.cerrar(),
  };
  return { secuencias, publicador: envuelto };
}

function relayDe(p: Entorno, lider: LiderRelay, publicador: Publicador) {
  return crearRelay({
    almacen: new PostgresAlmacenOutbox(p.pool),
    publicador,
    aMensaje: sobreDeFila,
    cerca: lider.cerca,
    tamanoLote: 10,
    esperarAviso: (ms) => lider.esperarAviso(ms),
    intervaloSondeoMs: 20,
    backoffBaseMs: 5,
    backoffMaximoMs: 20,
  });
}

async function ultimaSecuencia(p: Entorno, productor: string): Promise<number> {
  const { rows } = await p.pool.query<{ n: string }>({
    text: 'SELECT ultima_secuencia::text AS n FROM outbox_productores WHERE productor = $1',
    values: [productor],
  });
  return Number(rows[0]?.n ?? 0);
}

async function esperarQue(condicion: () => Promise<boolean>, que: string, ms = 30_000): Promise<void> {
  const hasta = Date.now() + ms;
  while (!(await condicion())) {
    if (Date.now() > hasta) throw new Error(`Tiempo agotado esperando ${que}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Cada evento del outbox está en el broker exactamente una vez, y el outbox está todo marcado. */
async function comprobarUnaVezEnElBroker(p: Entorno, topico: string): Promise<number> {
  const { rows: outbox } = await p.pool.query<{ id_evento: string; publicado: boolean }>({
    text: 'SELECT id_evento::text AS id_evento, fecha_publicacion IS NOT NULL AS publicado FROM outbox ORDER BY id',
  });
  const { rows: enBroker } = await p.pool.query<{ id_evento: string }>({
    text: `SELECT m.propiedades->>'id_evento' AS id_evento FROM broker.mensajes m
           JOIN broker.suscripciones s ON s.id = m.id_suscripcion WHERE s.topico = $1 AND s.nombre = 'consumidor'`,
    values: [topico],
  });
  expect(outbox.every((f) => f.publicado)).toBe(true);
  expect(enBroker.map((m) => m.id_evento).sort()).toEqual(outbox.map((f) => f.id_evento).sort());
  return outbox.length;
}

/** El pid del backend que tiene el cerrojo consultivo `clave`. */
async function pidDelLider(p: Entorno, clave: number): Promise<number> {
  const { rows } = await p.pool.query<{ pid: number }>({
    text: `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1`,
    values: [clave],
  });
  if (rows.length !== 1) throw new Error(`Se esperaba un titular del cerrojo ${clave}: ${rows.length}`);
  return rows[0]!.pid;
}

describe('PostgresAlmacenOutbox cercado por la época de liderazgo', () => {
  it('con una época vieja no reclama, no numera ni marca nada; el nuevo líder retoma lo ya numerado', async () => {
    const p = await preparar();
    await crearPagos(p, 6);
    const almacen = new PostgresAlmacenOutbox(p.pool);
    const primero = await esperarLider(opcionesLider(p, 5001));
    const lote = await almacen.reclamar('relay-a', 3, primero.cerca);
    expect(lote.map((f) => [f.secuencia, f.yaNumerada])).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ]);
    await primero.cerrar();
    const segundo = await esperarLider(opcionesLider(p, 5001));
    expect(segundo.cerca).toEqual({ cerrojo: 5001, epoca: primero.cerca.epoca + 1 });

    await expect(almacen.reclamar('relay-a', 10, primero.cerca)).rejects.toBeInstanceOf(LiderazgoPerdido);
    await expect(
      almacen.marcarPublicadas(
        lote.map((f) => f.id),
        primero.cerca,
      ),
    ).rejects.toBeInstanceOf(LiderazgoPerdido);
    await expect(almacen.registrarAlarma('relay-a', 'no', primero.cerca)).rejects.toBeInstanceOf(LiderazgoPerdido);
    await expect(almacen.renumerarHuerfanas('relay-b', primero.cerca)).rejects.toBeInstanceOf(LiderazgoPerdido);
    const { rows } = await p.pool.query<{ numeradas: number; marcadas: number }>({
      text: 'SELECT count(secuencia)::int AS numeradas, count(fecha_publicacion)::int AS marcadas FROM outbox',
    });
    expect(rows[0]).toEqual({ numeradas: 3, marcadas: 0 });
    expect(await almacen.estadoProductor('relay-a')).toEqual({ ultimaSecuencia: 3, alarma: null });

    const retoma = await almacen.reclamar('relay-a', 10, segundo.cerca);
    expect(retoma.map((f) => [f.secuencia, f.yaNumerada])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
      [5, false],
      [6, false],
    ]);
    await almacen.marcarPublicadas(
      retoma.map((f) => f.id),
      segundo.cerca,
    );
  });

  it('ganar la época espera a que termine el reclamo en curso (FOR SHARE): nunca reclaman los dos', async () => {
    const p = await preparar();
    const primero = await esperarLider(opcionesLider(p, 5002));
    await primero.cerrar();
    // Una sentencia de reclamo «en vuelo» del primero: tiene la fila de la época con FOR SHARE.
    const enVuelo = new pg.Client({ connectionString: p.url });
    await enVuelo.connect();
    cierres.push(() => enVuelo.end());
    await enVuelo.query('BEGIN');
    const { rows } = await enVuelo.query('SELECT 1 FROM outbox_liderazgo WHERE cerrojo = $1 AND epoca = $2 FOR SHARE', [
      5002,
      primero.cerca.epoca,
    ]);
    expect(rows).toHaveLength(1);
    let gano = false;
    const segundo = LiderRelay.esperar(opcionesLider(p, 5002), new AbortController().signal).then((l) => {
      gano = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(gano).toBe(false);
    await enVuelo.query('COMMIT');
    const lider = await segundo;
    cierres.push(() => lider!.cerrar());
    expect(lider!.cerca.epoca).toBe(primero.cerca.epoca + 1);
  });

  it('renumera con el productor nuevo las filas que otro nombre numeró y nunca marcó', async () => {
    const p = await preparar();
    await crearPagos(p, 5);
    const almacen = new PostgresAlmacenOutbox(p.pool);
    const lider = await esperarLider(opcionesLider(p, 5003));
    const viejas = await almacen.reclamar('relay-viejo', 3, lider.cerca);
    await almacen.marcarPublicadas([viejas[0]!.id], lider.cerca);
    expect(await almacen.renumerarHuerfanas('relay-nuevo', lider.cerca)).toBe(2);
    expect(await almacen.renumerarHuerfanas('relay-nuevo', lider.cerca)).toBe(0);
    const lote = await almacen.reclamar('relay-nuevo', 10, lider.cerca);
    expect(lote.map((f) => [f.id, f.secuencia, f.yaNumerada])).toEqual([
      [viejas[1]!.id, 1, true],
      [viejas[2]!.id, 2, true],
      [expect.any(String), 3, false],
      [expect.any(String), 4, false],
    ]);
  });
});

describe('relay: la marca del broker por delante (base restaurada desde una copia)', () => {
  it('se niega a funcionar por detrás de la marca, da la alarma si el broker descarta filas nuevas y no marca nada; renombrar el productor lo resuelve', async () => {
    const p = await preparar();
    await crearPagos(p, 20);
    const broker = await crearBrokerEmbebido({ url: p.url, topico: 'pagos', suscripciones: ['consumidor'], tamanoPool: 2 });
    cierres.push(() => broker.cerrar());
    const almacen = new PostgresAlmacenOutbox(p.pool);
    const antes = await esperarLider(opcionesLider(p, 5004));
    const relayAntes = relayDe(p, antes, await broker.crearPublicador('relay-0'));
    expect(await relayAntes.preparar()).toEqual({ tipo: 'listo', renumeradas: 0 });
    while ((await relayAntes.publicarUnLote()).tipo === 'publicado');
    await antes.cerrar();

    // La copia se hizo cuando el relay iba por la secuencia 10: se restaura la parte del relay (el
    // broker sigue en 20) y llegan pagos nuevos.
    await p.pool.query({ text: 'UPDATE outbox SET secuencia = NULL, productor = NULL, fecha_publicacion = NULL WHERE secuencia > 10' });
    await p.pool.query({ text: "UPDATE outbox_productores SET ultima_secuencia = 10 WHERE productor = 'relay-0'" });
    await crearPagos(p, 5);
    const publicadosAntes = broker.contadores.publicados;

    const despues = await esperarLider(opcionesLider(p, 5004));
    const fin = await relayDe(p, despues, await broker.crearPublicador('relay-0')).ejecutar({ pedido: false });
    expect(fin).toEqual({
      tipo: 'alarma',
      alarma: { tipo: 'porDetrasDelBroker', productor: 'relay-0', secuenciaRelay: 10, marcaBroker: 20 },
    });
    expect(await ultimaSecuencia(p, 'relay-0')).toBe(10);

    // Sin la comprobación al arrancar (la que no hay con Pulsar), la detección por envío: el broker
    // descarta 11–20 y el relay no marca nada del lote, guarda la alarma y se para.
    const lote = await relayDe(p, despues, await broker.crearPublicador('relay-0')).publicarUnLote();
    expect(lote).toMatchObject({
      tipo: 'alarma',
      alarma: { tipo: 'secuenciasDescartadas', secuencias: [11, 12, 13, 14, 15, 16, 17, 18, 19, 20] },
    });
    expect(broker.contadores.publicados).toBe(publicadosAntes);
    const { rows } = await p.pool.query<{ n: number }>({ text: 'SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL' });
    expect(rows[0]?.n).toBe(15);
    const { alarma } = await almacen.estadoProductor('relay-0');
    expect(alarma).toMatch(/descartó como duplicadas 10 secuencias \(de 11 a 20\)/);

    // Un reinicio no lo olvida.
    expect(await relayDe(p, despues, await broker.crearPublicador('relay-0')).ejecutar({ pedido: false })).toEqual({
      tipo: 'alarma',
      alarma: { tipo: 'alarmaGuardada', productor: 'relay-0', motivo: alarma },
    });

    // El arreglo documentado: otro nombre de productor. Las filas numeradas con el anterior se
    // renumeran y todo llega al broker (10 de ellas por segunda vez: el inbox lo absorbe).
    const parada = { pedido: false };
    const renombrado = crearRelay({
      almacen,
      publicador: await broker.crearPublicador('relay-1'),
      aMensaje: sobreDeFila,
      cerca: despues.cerca,
      tamanoLote: 10,
      esperarAviso: async () => {
        parada.pedido = true;
      },
      intervaloSondeoMs: 1,
      backoffBaseMs: 1,
      backoffMaximoMs: 1,
    });
    expect(await renombrado.ejecutar(parada)).toEqual({ tipo: 'parada' });
    const { rows: pendientes } = await p.pool.query<{ n: number }>({
      text: 'SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL',
    });
    expect(pendientes[0]?.n).toBe(0);
    const { rows: enBroker } = await p.pool.query<{ distintos: number; total: number }>({
      text: `SELECT count(DISTINCT propiedades->>'id_evento')::int AS distintos, count(*)::int AS total FROM broker.mensajes`,
    });
    expect(enBroker[0]).toEqual({ distintos: 25, total: 35 });
  });
});

describe('dos relays compiten por el liderazgo (PostgreSQL real)', () => {
  it('al líder se le corta la sesión (pg_terminate_backend) y no se entera: no publica ni un lote más; el otro toma el relevo sin pérdidas ni duplicados', async () => {
    const p = await preparar();
    const CLAVE = 5005;
    const brokerUno = await crearBrokerEmbebido({ url: p.url, topico: 'pagos', suscripciones: ['consumidor'], tamanoPool: 2 });
    const brokerDos = await crearBrokerEmbebido({ url: p.url, topico: 'pagos', suscripciones: ['consumidor'], tamanoPool: 2 });
    cierres.push(
      () => brokerUno.cerrar(),
      () => brokerDos.cerrar(),
    );
    const detenerInsercion = insertarSinParar(p);

    const perdidas: Error[] = [];
    // El primer relay ignora el aviso de pérdida: solo la cerca puede pararlo.
    const uno = await esperarLider(opcionesLider(p, CLAVE, (e) => void perdidas.push(e)));
    const delUno = registrando(await brokerUno.crearPublicador('relay-0'));
    const ejecucionUno = relayDe(p, uno, delUno.publicador).ejecutar({ pedido: false });
    const reserva = esperarLider(opcionesLider(p, CLAVE));
    await esperarQue(async () => delUno.secuencias.length >= 30, 'que el primer relay publique varios lotes');

    await p.pool.query({ text: 'SELECT pg_terminate_backend($1)', values: [await pidDelLider(p, CLAVE)] });
    const dos = await reserva;
    // Lo que el primero numeró antes de perder la época: el relevo esperó a su último reclamo en vuelo.
    const alRelevo = await ultimaSecuencia(p, 'relay-0');
    const delDos = registrando(await brokerDos.crearPublicador('relay-0'));
    const paradaDos = { pedido: false };
    const ejecucionDos = relayDe(p, dos, delDos.publicador).ejecutar(paradaDos);
    // Pagos nuevos tras el relevo: solo el segundo puede publicarlos (la inserción de fondo puede no
    // haber añadido ninguno antes de pararse).
    await crearPagos(p, 5);

    const finUno: FinRelay = await ejecucionUno;
    expect(finUno).toEqual({ tipo: 'sinLiderazgo' });
    expect(perdidas.length).toBeGreaterThan(0);
    expect(Math.max(...delUno.secuencias)).toBeLessThanOrEqual(alRelevo);

    await detenerInsercion();
    await esperarQue(async () => {
      const { rows } = await p.pool.query<{ n: number }>({ text: 'SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL' });
      return rows[0]?.n === 0;
    }, 'que el segundo relay publique todo');
    paradaDos.pedido = true;
    expect(await ejecucionDos).toEqual({ tipo: 'parada' });
    expect(delDos.secuencias.length).toBeGreaterThan(0);
    expect(await comprobarUnaVezEnElBroker(p, 'pagos')).toBeGreaterThan(30);
  });

  it('al líder le roban la época mientras sigue vivo: se detiene al siguiente reclamo, suelta el cerrojo y el otro sigue sin pérdidas ni duplicados', async () => {
    const p = await preparar();
    const CLAVE = 5006;
    const brokerUno = await crearBrokerEmbebido({ url: p.url, topico: 'pagos', suscripciones: ['consumidor'], tamanoPool: 2 });
    const brokerDos = await crearBrokerEmbebido({ url: p.url, topico: 'pagos', suscripciones: ['consumidor'], tamanoPool: 2 });
    cierres.push(
      () => brokerUno.cerrar(),
      () => brokerDos.cerrar(),
    );
    const detenerInsercion = insertarSinParar(p);

    const perdidas: Error[] = [];
    const uno = await esperarLider(opcionesLider(p, CLAVE, (e) => void perdidas.push(e)));
    const delUno = registrando(await brokerUno.crearPublicador('relay-0'));
    const ejecucionUno = relayDe(p, uno, delUno.publicador).ejecutar({ pedido: false });
    const reserva = esperarLider(opcionesLider(p, CLAVE));
    await esperarQue(async () => delUno.secuencias.length >= 30, 'que el primer relay publique varios lotes');

    // Otro proceso sube la época (como haría un líder que ganó el cerrojo por su cuenta).
    await p.pool.query({ text: 'UPDATE outbox_liderazgo SET epoca = epoca + 1 WHERE cerrojo = $1', values: [CLAVE] });
    const alRobo = await ultimaSecuencia(p, 'relay-0');
    expect(await ejecucionUno).toEqual({ tipo: 'sinLiderazgo' });
    expect(Math.max(...delUno.secuencias)).toBeLessThanOrEqual(alRobo);
    // El latido también lo ve: la época guardada ya no es la suya.
    await esperarQue(async () => perdidas.some((e) => /Otro relay tiene la época/.test(e.message)), 'el aviso del latido');

    // El servicio, al verlo, suelta el cerrojo: el de reserva gana y sigue.
    await uno.cerrar();
    const dos = await reserva;
    const delDos = registrando(await brokerDos.crearPublicador('relay-0'));
    const paradaDos = { pedido: false };
    const ejecucionDos = relayDe(p, dos, delDos.publicador).ejecutar(paradaDos);
    await detenerInsercion();
    await esperarQue(async () => {
      const { rows } = await p.pool.query<{ n: number }>({ text: 'SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL' });
      return rows[0]?.n === 0;
    }, 'que el segundo relay publique todo');
    paradaDos.pedido = true;
    expect(await ejecucionDos).toEqual({ tipo: 'parada' });
    expect(delDos.secuencias.length).toBeGreaterThan(0);
    expect(await comprobarUnaVezEnElBroker(p, 'pagos')).toBeGreaterThan(30);
  });
});
