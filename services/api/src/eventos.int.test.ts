import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as esperar } from 'node:timers/promises';
import {
  EscuchaEventos,
  PostgresAdministracionSocios,
  PostgresAutenticadorDeClaves,
  PostgresRegistroEventos,
  RegistradorDuplicados,
  crearPersistenciaPostgres,
  iniciarAsignadorEventos,
  uuidv7,
  type AsignadorEnMarcha,
  type PersistenciaPostgres,
} from '@aeropartners/adaptadores';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerEnMemoria } from '../test/app-de-prueba.js';
import { crearApp } from './app.js';
import { crearManejadores } from './manejadores.js';
import type { EstadoStreams } from './rutas-eventos.js';
import { nuevoIdSolicitud } from './solicitud.js';
import { servirEnPuertoLibre } from '../test/servidor-de-prueba.js';

/**
 * El feed y el stream de eventos sobre PostgreSQL real y DOS instancias de la API (cada una con su pool,
 * su autenticador, su conexión LISTEN y su asignador): se escribe por una y se sigue el stream por la otra.
 * Las conexiones se cortan de verdad (socket destruido) y el cliente lento es un socket que no lee.
 */

type Json = Record<string, unknown>;

const BUFFER_BYTES = 32 * 1024;

interface Instancia {
  readonly url: string;
  readonly puerto: number;
  readonly persistencia: PersistenciaPostgres;
  readonly escucha: EscuchaEventos;
  estado: EstadoStreams | undefined;
  cerrar(): Promise<void>;
}

let base: BaseDePrueba;
let a: Instancia;
let b: Instancia;

async function levantar(): Promise<Instancia> {
  const persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 8 });
  const autenticador = new PostgresAutenticadorDeClaves({ pool: persistencia.pool, url: base.url });
  await autenticador.iniciar();
  const escucha = new EscuchaEventos({ url: base.url });
  await escucha.iniciar();
  const registro = new PostgresRegistroEventos({ pool: persistencia.pool });
  const asignador: AsignadorEnMarcha = iniciarAsignadorEventos({ pool: persistencia.pool, intervaloMs: 20 });
  const duplicados = new RegistradorDuplicados({ pool: persistencia.pool, intervaloMs: 50 });
  const instancia: { estado: EstadoStreams | undefined } = { estado: undefined };
  const app = crearApp({
    manejadores: crearManejadores({ ...persistencia, reloj: { ahora: () => new Date() }, nuevoId: uuidv7 }),
    comprobarSalud: () => persistencia.comprobarSalud(),
    logger: loggerEnMemoria(),
    autenticador,
    nuevoIdCorrelacion: randomUUID,
    nuevoIdSolicitud,
    limiteRps: 1_000_000,
    eventos: {
      fuente: {
        leer: (ambito, consulta) => registro.leer(ambito, consulta),
        ultima: (ambito) => registro.ultima(ambito),
        suscribir: (ambito, alAvisar) => escucha.suscribir(ambito, alAvisar),
      },
      stream: { bufferBytes: BUFFER_BYTES, latidoMs: 300, reintentoMs: 1500 },
      alMontar: (estado) => {
        instancia.estado = estado;
      },
      duplicadoAbsorbido: (duplicado) => duplicados.anotar(duplicado),
    },
  });
  const servidor = await servirEnPuertoLibre(app.fetch);
  return Object.assign(instancia, {
    url: servidor.url,
    puerto: servidor.puerto,
    persistencia,
    escucha,
    async cerrar() {
      await servidor.cerrar();
      await duplicados.cerrar();
      await asignador.detener();
      await escucha.cerrar();
      await autenticador.cerrar();
      await persistencia.cerrar();
    },
  });
}

beforeAll(async () => {
  base = await crearBaseDePrueba();
  a = await levantar();
  b = await levantar();
});

afterAll(async () => {
  await a?.cerrar();
  await b?.cerrar();
  await base?.cerrar();
});

async function crearSocio() {
  const r = await new PostgresAdministracionSocios(a.persistencia.pool).crear(
    { nombre: `socio ${randomUUID()}`, firmaObligatoria: false, limiteRps: null, modo: 'live' },
    new Date(),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return { id: r.valor.socio.id, clave: r.valor.clave.claveEnClaro };
}

async function crearPago(
  url: string,
  clave: string,
  referencia: string,
  cabeceras: Record<string, string> = {},
): Promise<{ id: string; solicitud: string | null }> {
  const r = await fetch(`${url}/pagos`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${clave}`, ...cabeceras },
    body: JSON.stringify({ id_afiliado: 'afiliado-1', monto: 10.5, moneda: 'USD', referencia_pago: referencia }),
  });
  expect(r.status).toBe(200);
  return { id: ((await r.json()) as Json).id_pago as string, solicitud: r.headers.get('request-id') };
}

async function feed(url: string, clave: string, consulta = ''): Promise<{ status: number; cuerpo: Json; tipo: string | null }> {
  const r = await fetch(`${url}/eventos${consulta}`, { headers: { Authorization: `Bearer ${clave}` } });
  return { status: r.status, cuerpo: (await r.json()) as Json, tipo: r.headers.get('content-type') };
}

interface EventoSse {
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
  readonly retry?: string;
  readonly comentarios: string[];
}

/** Un cliente SSE sobre un socket HTTP real: acumula los bloques recibidos; `cortar()` destruye el socket. */
function abrirStream(url: string, clave: string, cabeceras: Record<string, string> = {}, consulta = '') {
  const recibidos: EventoSse[] = [];
  let resto = '';
  let estadoHttp = 0;
  let fin = false;
  const peticion = http.get(`${url}/eventos/stream${consulta}`, { headers: { Authorization: `Bearer ${clave}`, ...cabeceras } }, (res) => {
    estadoHttp = res.statusCode ?? 0;
    res.setEncoding('utf8');
    res.on('data', (trozo: string) => {
      resto += trozo;
      for (let i = resto.indexOf('\n\n'); i !== -1; i = resto.indexOf('\n\n')) {
        const bloque = resto.slice(0, i);
        resto = resto.slice(i + 2);
        const ev: { id?: string; event?: string; data?: string; retry?: string; comentarios: string[] } = { comentarios: [] };
        for (const linea of bloque.split('\n')) {
          if (linea.startsWith(':')) ev.comentarios.push(linea.slice(1).trim());
          else {
            const [campo, ...valor] = linea.split(': ');
            if (campo === 'id' || campo === 'event' || campo === 'data' || campo === 'retry') ev[campo] = valor.join(': ');
          }
        }
        recibidos.push(ev);
      }
    });
    res.on('end', () => (fin = true));
    res.on('error', () => (fin = true));
  });
  peticion.on('error', () => (fin = true));
  return {
    recibidos,
    eventos: () => recibidos.filter((e) => e.id !== undefined),
    estado: () => estadoHttp,
    terminado: () => fin,
    cortar: () => peticion.destroy(),
  };
}

async function hasta(condicion: () => boolean | Promise<boolean>, queEspera: string, maxMs = 20_000): Promise<void> {
  const limite = Date.now() + maxMs;
  while (!(await condicion())) {
    if (Date.now() > limite) throw new Error(`No llegó a tiempo: ${queEspera}`);
    await esperar(20);
  }
}

describe('GET /eventos', () => {
  it('el socio ve sus eventos en orden, con su Request-Id; otro socio no ve nada', async () => {
    const socioA = await crearSocio();
    const socioB = await crearSocio();
    const pagos = [];
    for (let i = 0; i < 3; i += 1) pagos.push(await crearPago(a.url, socioA.clave, `REF-${i}`));
    await hasta(async () => ((await feed(b.url, socioA.clave)).cuerpo.eventos as Json[]).length === 3, 'los 3 eventos de A');
    const { status, cuerpo } = await feed(b.url, socioA.clave);
    expect(status).toBe(200);
    const eventos = cuerpo.eventos as Json[];
    expect(eventos.map((e) => [e.secuencia, e.tipo, e.sujeto, e.id_solicitud])).toEqual(
      pagos.map((p, i) => [i + 1, 'pago.pendiente', p.id, p.solicitud]),
    );
    expect(cuerpo).toMatchObject({ siguiente: 3, hay_mas: false });
    expect(eventos[0]?.datos).toMatchObject({ monto_unidades: 1050, moneda: 'USD' });
    // B, en cualquier instancia: nada de A.
    for (const url of [a.url, b.url]) expect((await feed(url, socioB.clave)).cuerpo).toEqual({ eventos: [], siguiente: 0, hay_mas: false });
    // Páginas y filtros.
    const pagina = await feed(a.url, socioA.clave, '?limite=2');
    expect(pagina.cuerpo).toMatchObject({ siguiente: 2, hay_mas: true });
    const resto = await feed(a.url, socioA.clave, '?despues_de=2&limite=2');
    expect((resto.cuerpo.eventos as Json[]).map((e) => e.secuencia)).toEqual([3]);
    const deUno = await feed(a.url, socioA.clave, `?sujeto=${pagos[1]?.id}&tipo=pago.*`);
    expect((deUno.cuerpo.eventos as Json[]).map((e) => e.secuencia)).toEqual([2]);
  });

  it('cada réplica absorbida en la entrada es un duplicado.absorbido del socio (etapa, clave, pago, Request-Id)', async () => {
    const socio = await crearSocio();
    const original = await crearPago(a.url, socio.clave, 'DUP-1', { 'Idempotency-Key': 'clave-dup' });
    const replicas = [await crearPago(a.url, socio.clave, 'DUP-1', { 'Idempotency-Key': 'clave-dup' })];
    replicas.push(await crearPago(b.url, socio.clave, 'DUP-1', { 'Idempotency-Key': 'clave-dup' }));
    expect(replicas.map((r) => r.id)).toEqual([original.id, original.id]);
    await hasta(
      async () => ((await feed(a.url, socio.clave, '?tipo=duplicado.absorbido')).cuerpo.eventos as Json[]).length === 2,
      'los dos duplicados absorbidos',
    );
    const { cuerpo } = await feed(a.url, socio.clave);
    const eventos = cuerpo.eventos as Json[];
    expect(eventos.map((e) => e.tipo)).toEqual(['pago.pendiente', 'duplicado.absorbido', 'duplicado.absorbido']);
    // Cada instancia registra los suyos por su lado: el orden entre las dos no está fijado.
    const porSolicitud = (x: unknown[], y: unknown[]) => String(x[1]).localeCompare(String(y[1]));
    expect(
      eventos
        .slice(1)
        .map((e) => [e.sujeto, e.id_solicitud, e.datos])
        .sort(porSolicitud),
    ).toEqual(replicas.map((r) => [original.id, r.solicitud, { etapa: 'entrada', clave: 'clave-dup', veces: 1 }]).sort(porSolicitud));
  });

  it('entrada mala: 400 problem+json que nombra el campo; sin clave, 401', async () => {
    const socio = await crearSocio();
    for (const [consulta, campo] of [
      ['?despues_de=-1', 'despues_de'],
      ['?despues_de=abc', 'despues_de'],
      ['?limite=0', 'limite'],
      ['?limite=501', 'limite'],
      ['?tipo=PAGO', 'tipo'],
      ['?sujeto=', 'sujeto'],
    ] as const) {
      const r = await feed(a.url, socio.clave, consulta);
      expect(r.status, consulta).toBe(400);
      expect(r.tipo).toContain('application/problem+json');
      expect(JSON.stringify(r.cuerpo.errores), consulta).toContain(campo);
    }
    expect((await fetch(`${a.url}/eventos`)).status).toBe(401);
    const malLast = await fetch(`${a.url}/eventos/stream`, { headers: { Authorization: `Bearer ${socio.clave}`, 'Last-Event-ID': 'x' } });
    expect(malLast.status).toBe(400);
    expect(JSON.stringify(await malLast.json())).toContain('Last-Event-ID');
  });
});

describe('GET /eventos/stream', () => {
  it('escribe la instancia A, sirve la B; cortado de verdad, reanuda con Last-Event-ID sin perder ni repetir', async () => {
    const socio = await crearSocio();
    const stream = abrirStream(b.url, socio.clave, {}, '?despues_de=0');
    await hasta(() => stream.recibidos.length > 0, 'la cabecera del stream');
    expect(stream.estado()).toBe(200);
    expect(stream.recibidos[0]?.retry).toBe('1500');
    const ids: string[] = [];
    const escritor = (async () => {
      for (let i = 0; i < 30; i += 1) {
        ids.push((await crearPago(a.url, socio.clave, `S-${i}`)).id);
        await esperar(15);
      }
    })();
    await hasta(() => stream.eventos().length >= 8, 'los primeros eventos por el stream');
    stream.cortar();
    const antes = stream.eventos();
    const ultimo = antes.at(-1)?.id ?? '0';
    await hasta(() => b.estado?.abiertos === 0, 'que la instancia B suelte el stream cortado');
    await esperar(100);
    const segundo = abrirStream(b.url, socio.clave, { 'Last-Event-ID': ultimo });
    await escritor;
    await hasta(() => antes.length + segundo.eventos().length >= 30, 'los 30 eventos entre las dos conexiones');
    await esperar(300);
    const todos = [...antes, ...segundo.eventos()];
    expect(todos.map((e) => Number(e.id))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(todos.map((e) => (JSON.parse(e.data ?? '{}') as Json).sujeto)).toEqual(ids);
    expect(new Set(todos.map((e) => e.event))).toEqual(new Set(['pago.pendiente']));
    // `data:` es el mismo objeto que el feed.
    const { cuerpo } = await feed(a.url, socio.clave, '?limite=500');
    expect(todos.map((e) => JSON.parse(e.data ?? '{}'))).toEqual(cuerpo.eventos);
    // Latido.
    await hasta(() => segundo.recibidos.some((e) => e.comentarios.includes('latido')), 'un latido');
    segundo.cortar();
  });

  it('varios clientes de un socio son una suscripción LISTEN; una ráfaga de lotes les llega entera, en orden y una vez', async () => {
    const socio = await crearSocio();
    // Los streams de los tests anteriores, cortados, ya soltados: la cuenta de suscripciones parte de aquí.
    await hasta(() => b.estado?.abiertos === 0, 'que B suelte los streams de los tests anteriores');
    const suscritosAntes = b.escucha.suscritos;
    const streams = Array.from({ length: 5 }, () => abrirStream(b.url, socio.clave, {}, '?despues_de=0'));
    await hasta(() => streams.every((s) => s.recibidos.length > 0), 'las cabeceras de los 5 streams');
    expect(b.escucha.suscritos - suscritosAntes).toBe(1);
    // 60 pagos de 6 escritores a la vez por la otra instancia: muchos lotes y avisos seguidos, agrupados en B.
    const ids = (
      await Promise.all(
        Array.from({ length: 6 }, async (_, w) => {
          const propios: string[] = [];
          for (let i = 0; i < 10; i += 1) propios.push((await crearPago(a.url, socio.clave, `R-${w}-${i}`)).id);
          return propios;
        }),
      )
    ).flat();
    await hasta(() => streams.every((s) => s.eventos().length >= 60), 'los 60 eventos en los 5 streams');
    await esperar(300);
    for (const s of streams) {
      expect(s.eventos().map((e) => Number(e.id))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(new Set(s.eventos().map((e) => (JSON.parse(e.data ?? '{}') as Json).sujeto))).toEqual(new Set(ids));
    }
    for (const s of streams) s.cortar();
    await hasta(() => b.escucha.suscritos === suscritosAntes, 'la baja de la suscripción del socio');
  });

  it('sin Last-Event-ID ni despues_de empieza por los nuevos', async () => {
    const socio = await crearSocio();
    await crearPago(a.url, socio.clave, 'VIEJO');
    await hasta(async () => ((await feed(a.url, socio.clave)).cuerpo.eventos as Json[]).length === 1, 'el evento viejo');
    const stream = abrirStream(b.url, socio.clave);
    await hasta(() => stream.recibidos.length > 0, 'la cabecera del stream');
    const nuevo = await crearPago(a.url, socio.clave, 'NUEVO');
    await hasta(() => stream.eventos().length === 1, 'el evento nuevo');
    expect(stream.eventos().map((e) => [e.id, (JSON.parse(e.data ?? '{}') as Json).sujeto])).toEqual([['2', nuevo.id]]);
    stream.cortar();
  });

  it('un cliente que no lee se desconecta pasado el búfer: la cola por conexión queda acotada', async () => {
    const socio = await crearSocio();
    const estado = b.estado;
    if (!estado) throw new Error('la instancia B no montó las rutas de eventos');
    const lentosAntes = estado.desconectadosPorLentitud;
    const abiertosAntes = estado.abiertos;
    // Un socket que pide el stream y no lee nunca.
    const socket = net.connect(b.puerto, '127.0.0.1');
    await new Promise<void>((listo) => socket.once('connect', () => listo()));
    socket.write(`GET /eventos/stream?despues_de=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${socio.clave}\r\n\r\n`);
    socket.pause();
    let cerrado = false;
    socket.on('close', () => (cerrado = true));
    socket.on('error', () => undefined);
    await hasta(() => estado.abiertos > abiertosAntes, 'el stream del cliente lento abierto');
    // Muchos más eventos de los que caben en los búferes (decenas de MB de SSE).
    await a.persistencia.pool.query(
      `WITH p AS (
         INSERT INTO pagos (id, id_socio, modo, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version,
                            fecha_creacion, fecha_actualizacion)
         SELECT gen_random_uuid(), $1, 'live', 'lento-' || g, 'afiliado-lento', 1000, 'USD', 'lento-' || g, 'PENDIENTE', 1, now(), now()
         FROM generate_series(1, 40000) g
         RETURNING id)
       INSERT INTO historial_pagos (id_pago, version, estado, tipo_evento, id_evento, ocurrido_en, id_correlacion)
       SELECT id, 1, 'PENDIENTE', 'PagoCreado', gen_random_uuid(), now(), 'lento' FROM p`,
      [socio.id],
    );
    let maxEnCola = 0;
    await hasta(
      () => {
        for (const n of estado.enCola()) maxEnCola = Math.max(maxEnCola, n);
        return estado.desconectadosPorLentitud > lentosAntes;
      },
      'la desconexión del cliente lento',
      60_000,
    );
    // Lo que llegó a estar en cola: como mucho el búfer más una página de lectura (200 eventos de < 1 KiB).
    expect(maxEnCola).toBeLessThanOrEqual(BUFFER_BYTES + 200 * 1024);
    await hasta(() => estado.abiertos === abiertosAntes, 'que la instancia suelte la conexión');
    socket.resume();
    await hasta(() => cerrado, 'el cierre del socket del cliente lento');
    // Y el registro sí tiene todo: 40 000 eventos numerados para ese socio, que un cliente que lee recibe.
    await hasta(async () => {
      const { rows } = await a.persistencia.pool.query<{ n: string }>('SELECT ultima AS n FROM eventos_contadores WHERE id_socio = $1', [
        socio.id,
      ]);
      return Number(rows[0]?.n) === 40_000;
    }, 'la numeración de los 40 000 eventos');
    const rapido = abrirStream(b.url, socio.clave, { 'Last-Event-ID': '39990' });
    await hasta(() => rapido.eventos().length === 10, 'los 10 últimos eventos');
    expect(rapido.eventos().map((e) => Number(e.id))).toEqual(Array.from({ length: 10 }, (_, i) => 39_991 + i));
    rapido.cortar();
  });
});
