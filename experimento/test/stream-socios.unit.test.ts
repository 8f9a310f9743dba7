import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SocioCorrida } from '../src/socios.js';
import { crearLectorSse, iniciarStreams, leerEventoSse, type Streams } from '../src/stream-socios.js';

const socio = (id: string): SocioCorrida => ({ numero: 1, id, papel: 'normal', clave: `ap_live_${id}`, secretoFirma: undefined });

describe('lector de Server-Sent Events', () => {
  it('entrega cada evento con su id y tipo aunque llegue partido en trozos, con \\r\\n, comentarios y data de varias líneas', () => {
    const eventos: { id: string | undefined; evento: string; datos: string }[] = [];
    const reintentos: number[] = [];
    const leer = crearLectorSse(
      (e) => eventos.push(e),
      (ms) => reintentos.push(ms),
    );
    const texto =
      'retry: 2000\n: eventos desde la secuencia 0\n\nid: 1\nevent: pago.pendiente\ndata: {"a":1}\n\n: latido\r\n\r\nid: 2\r\nevent: pago.exitoso\r\ndata: uno\r\ndata: dos\r\n\r\n';
    // Trozos de 3 caracteres: cortan líneas, campos y el \r\n por la mitad.
    for (let i = 0; i < texto.length; i += 3) leer(texto.slice(i, i + 3));
    expect(eventos).toEqual([
      { id: '1', evento: 'pago.pendiente', datos: '{"a":1}' },
      { id: '2', evento: 'pago.exitoso', datos: 'uno\ndos' },
    ]);
    expect(reintentos).toEqual([2000]);
  });

  it('un evento sin línea vacía final no se entrega (llegó a medias)', () => {
    const eventos: unknown[] = [];
    const leer = crearLectorSse((e) => eventos.push(e));
    leer('id: 7\nevent: x\ndata: {}\n');
    expect(eventos).toEqual([]);
  });

  it('lee el JSON del evento y rechaza uno incompleto', () => {
    expect(leerEventoSse('{"secuencia":3,"tipo":"pago.exitoso","sujeto":"p","registrado_en":"2026-12-05T05:00:00.000Z"}')).toEqual({
      secuencia: 3,
      tipo: 'pago.exitoso',
      sujeto: 'p',
      registradoEn: Date.parse('2026-12-05T05:00:00.000Z'),
    });
    expect(leerEventoSse('{"secuencia":3}')).toMatch(/le falta/);
    expect(leerEventoSse('no')).toBe('no es JSON');
  });
});

/**
 * Un servidor SSE mínimo con la semántica de `GET /eventos/stream`: empieza tras `Last-Event-ID` (o
 * `despues_de`) y envía los eventos a medida que se «registran»; a la clave `ap_live_suspendido`, 403.
 */
async function servidorSse() {
  const eventos: number[] = [];
  const abiertas = new Set<http.ServerResponse>();
  const ultimosPedidos: (string | undefined)[] = [];
  const linea = (n: number) =>
    `id: ${n}\nevent: pago.exitoso\ndata: ${JSON.stringify({ secuencia: n, tipo: 'pago.exitoso', sujeto: `p${n}`, registrado_en: new Date().toISOString() })}\n\n`;
  const servidor = http.createServer((peticion, respuesta) => {
    if (peticion.headers.authorization === 'Bearer ap_live_suspendido') {
      respuesta.writeHead(403).end();
      return;
    }
    const cabecera = peticion.headers['last-event-id'];
    ultimosPedidos.push(typeof cabecera === 'string' ? cabecera : undefined);
    const desde = Number(cabecera ?? new URL(peticion.url ?? '/', 'http://x').searchParams.get('despues_de') ?? eventos.length);
    respuesta.writeHead(200, { 'content-type': 'text/event-stream' });
    respuesta.write('retry: 10\n\n');
    for (const n of eventos) if (n > desde) respuesta.write(linea(n));
    abiertas.add(respuesta);
    respuesta.on('close', () => abiertas.delete(respuesta));
  });
  await new Promise<void>((r) => servidor.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(servidor.address() as AddressInfo).port}`,
    ultimosPedidos,
    registrar() {
      const n = eventos.length + 1;
      eventos.push(n);
      for (const r of abiertas) r.write(linea(n));
    },
    cerrar: () =>
      new Promise<void>((r) => {
        servidor.closeAllConnections();
        servidor.close(() => r());
      }),
  };
}

const hasta = async (condicion: () => boolean) => {
  while (!condicion()) await new Promise((r) => setTimeout(r, 5));
};

describe('streams de los socios', () => {
  let streams: Streams | undefined;
  let cerrar: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await streams?.parar();
    await cerrar?.();
  });

  it('cortado a mitad, reconecta con Last-Event-ID (a la otra instancia) y recibe cada evento una sola vez', async () => {
    const a = await servidorSse();
    const b = await servidorSse();
    cerrar = async () => {
      await a.cerrar();
      await b.cerrar();
    };
    // Las dos «instancias» comparten registro: cada evento se registra en las dos.
    const registrar = () => {
      a.registrar();
      b.registrar();
    };
    streams = iniciarStreams({ socios: [socio('uno')], urlsApi: () => [a.url, b.url] });
    const s = streams.porSocio.get('uno');
    if (!s) throw new Error('sin stream');
    await hasta(() => s.conexiones === 1 && a.ultimosPedidos.length === 1);
    for (let i = 0; i < 20; i += 1) registrar();
    await hasta(() => s.ultimo === 20);
    expect(streams.cortar()).toBe(1);
    // Mientras está cortado se registran más: deben llegar tras reconectar.
    for (let i = 0; i < 20; i += 1) registrar();
    await hasta(() => s.ultimo === 40);
    expect(s.recibidos.map((r) => r.id)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(s.cortesProvocados).toBe(1);
    expect(s.reconexiones).toBe(1);
    expect(a.ultimosPedidos).toEqual([undefined]);
    expect(b.ultimosPedidos).toEqual(['20']);
    expect(new Set(s.recibidos.filter((r) => r.id > 20).map((r) => r.conexion))).toEqual(new Set([2]));
  });

  it('al socio al que la API le niega el stream (403) lo marca denegado y no insiste', async () => {
    const a = await servidorSse();
    cerrar = () => a.cerrar();
    streams = iniciarStreams({ socios: [socio('suspendido')], urlsApi: () => [a.url] });
    const s = streams.porSocio.get('suspendido');
    await hasta(() => s?.denegado === true);
    expect(s?.rechazos).toEqual({ '403': 1 });
    expect(s?.conexiones).toBe(1);
  });
});
