import type { ConsultaEventos, EventoSocio, PaginaEventos } from '@aeropartners/adaptadores';
import type { Ambito } from '@aeropartners/dominio';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { crearAppDePrueba, SOCIO_ANONIMO } from '../test/app-de-prueba.js';
import type { FuenteEventos } from './rutas-eventos.js';

// Las rutas de eventos sobre un registro en memoria: el documento OpenAPI sigue siendo válido con ellas, el
// feed pasa el ámbito del socio y los filtros, y el stream empieza con `retry:` y sigue tras Last-Event-ID.
// (Lo que depende de PostgreSQL, de dos instancias y de sockets reales está en `eventos.int.test.ts`.)

function registroEnMemoria(eventos: (EventoSocio & { readonly idSocio: string })[]) {
  const consultas: { ambito: Ambito; consulta: ConsultaEventos }[] = [];
  const fuente: FuenteEventos = {
    async leer(ambito, consulta): Promise<PaginaEventos> {
      consultas.push({ ambito, consulta });
      const todos = eventos.filter((e) => e.idSocio === ambito.idSocio && e.secuencia > consulta.despuesDe);
      const pagina = todos.slice(0, consulta.limite);
      return { eventos: pagina, siguiente: pagina.at(-1)?.secuencia ?? consulta.despuesDe, hayMas: todos.length > consulta.limite };
    },
    ultima: async (ambito) => eventos.filter((e) => e.idSocio === ambito.idSocio).length,
    suscribir: () => () => undefined,
  };
  return { fuente, consultas };
}

const evento = (secuencia: number, idSocio = SOCIO_ANONIMO) => ({
  idSocio,
  secuencia,
  tipo: 'pago.pendiente',
  sujeto: `pago-${secuencia}`,
  ocurridoEn: new Date('2026-12-05T00:00:00Z'),
  registradoEn: new Date('2026-12-05T00:00:01Z'),
  idSolicitud: `req_${secuencia}`,
  idTraza: null,
  idCorrelacion: 'c',
  datos: { estado: 'PENDIENTE' },
});

describe('rutas de eventos', () => {
  it('el documento OpenAPI con /eventos y /eventos/stream es válido', async () => {
    const { fuente } = registroEnMemoria([]);
    const { app } = crearAppDePrueba({ eventos: { fuente } });
    const documento = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(documento.paths)).toEqual(expect.arrayContaining(['/eventos', '/eventos/stream']));
    const resultado = await new Validator().validate(documento as unknown as Parameters<Validator['validate']>[0]);
    expect(resultado.errors ?? []).toEqual([]);
  });

  it('el feed lee con el ámbito del socio autenticado y responde con la forma del issue', async () => {
    const { fuente, consultas } = registroEnMemoria([evento(1), evento(2), evento(3), evento(1, 'otro')]);
    const { app } = crearAppDePrueba({ eventos: { fuente } });
    const r = await app.request('/eventos?despues_de=1&limite=1&tipo=pago.*&sujeto=pago-2');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      eventos: [
        {
          secuencia: 2,
          tipo: 'pago.pendiente',
          sujeto: 'pago-2',
          ocurrido_en: '2026-12-05T00:00:00.000Z',
          registrado_en: '2026-12-05T00:00:01.000Z',
          id_solicitud: 'req_2',
          id_traza: null,
          id_correlacion: 'c',
          datos: { estado: 'PENDIENTE' },
        },
      ],
      siguiente: 2,
      hay_mas: true,
    });
    expect(consultas).toEqual([
      { ambito: { idSocio: SOCIO_ANONIMO, modo: 'live' }, consulta: { despuesDe: 1, tipo: 'pago.*', sujeto: 'pago-2', limite: 1 } },
    ]);
  });

  it('el stream anuncia retry y sigue justo después de Last-Event-ID', async () => {
    const { fuente } = registroEnMemoria([evento(1), evento(2), evento(3)]);
    const { app } = crearAppDePrueba({ eventos: { fuente, stream: { reintentoMs: 1234 } } });
    const r = await app.request('/eventos/stream', { headers: { 'Last-Event-ID': '1' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const lector = r.body?.getReader();
    if (!lector) throw new Error('sin cuerpo');
    let texto = '';
    const decodificador = new TextDecoder();
    while (!texto.includes('id: 3\n')) {
      const { value, done } = await lector.read();
      if (done) break;
      texto += decodificador.decode(value);
    }
    await lector.cancel();
    expect(texto.startsWith('retry: 1234\n')).toBe(true);
    expect([...texto.matchAll(/^id: (\d+)$/gm)].map((m) => m[1])).toEqual(['2', '3']);
    expect([...texto.matchAll(/^event: (.+)$/gm)].map((m) => m[1])).toEqual(['pago.pendiente', 'pago.pendiente']);
  });

  it('sin ningún aviso (NOTIFY perdido), el stream se pone al día con el latido', async () => {
    const eventos = [evento(1)];
    const { fuente } = registroEnMemoria(eventos);
    const { app } = crearAppDePrueba({ eventos: { fuente, stream: { latidoMs: 50 } } });
    const r = await app.request('/eventos/stream?despues_de=0');
    const lector = r.body?.getReader();
    if (!lector) throw new Error('sin cuerpo');
    const decodificador = new TextDecoder();
    let texto = '';
    while (!texto.includes('id: 1\n')) texto += decodificador.decode((await lector.read()).value);
    // Llega un evento nuevo y nadie avisa (`suscribir` del registro en memoria nunca llama).
    eventos.push(evento(2));
    while (!texto.includes('id: 2\n')) texto += decodificador.decode((await lector.read()).value);
    await lector.cancel();
    expect([...texto.matchAll(/^id: (\d+)$/gm)].map((m) => m[1])).toEqual(['1', '2']);
    expect(texto).toContain(': latido\n\n');
  });

  it('una ráfaga de avisos se agrupa (una suscripción por ámbito, pocas lecturas) y cada cliente recibe todo una sola vez', async () => {
    const eventos = [evento(1)];
    const { fuente: base, consultas } = registroEnMemoria(eventos);
    const avisos: (() => void)[] = [];
    let bajas = 0;
    const fuente: FuenteEventos = {
      ...base,
      suscribir: (_ambito, alAvisar) => {
        avisos.push(alAvisar);
        return () => {
          bajas += 1;
        };
      },
    };
    // Sin latido durante el test: solo los avisos despiertan.
    const { app } = crearAppDePrueba({ eventos: { fuente, stream: { latidoMs: 600_000, agruparMs: 1000 } } });
    const decodificador = new TextDecoder();
    const clientes = await Promise.all(
      [0, 1, 2].map(async () => {
        const r = await app.request('/eventos/stream?despues_de=0');
        const lector = r.body?.getReader();
        if (!lector) throw new Error('sin cuerpo');
        return { lector, texto: '' };
      }),
    );
    const leerHasta = async (cliente: (typeof clientes)[number], id: number) => {
      while (!cliente.texto.includes(`id: ${id}\n`)) {
        const { value, done } = await cliente.lector.read();
        if (done) throw new Error(`el stream terminó antes del evento ${id}`);
        cliente.texto += decodificador.decode(value);
      }
    };
    for (const cliente of clientes) await leerHasta(cliente, 1);
    // Tres clientes del mismo ámbito: una sola suscripción a la fuente.
    expect(avisos).toHaveLength(1);
    const avisar = avisos[0];
    if (!avisar) throw new Error('sin suscripción');
    const lecturasAntes = consultas.length;
    // 50 lotes numerados seguidos, un aviso por lote.
    // Cada lote llega cuando la lectura del anterior ya terminó (sin agrupar, cada aviso sería una lectura).
    for (let s = 2; s <= 51; s += 1) {
      eventos.push(evento(s));
      avisar();
      await new Promise((listo) => setImmediate(listo));
    }
    for (const cliente of clientes) await leerHasta(cliente, 51);
    // Cada despertar es una lectura compartida por los tres; 50 avisos en ráfaga son el primero y uno al final de
    // la ventana (y como mucho otra vuelta por un aviso durante una lectura), no 50 × 3 lecturas.
    expect(consultas.length - lecturasAntes).toBeLessThanOrEqual(3 * 3);
    for (const cliente of clientes)
      expect([...cliente.texto.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    for (const cliente of clientes) await cliente.lector.cancel();
    // El último que se va da de baja la suscripción del ámbito.
    expect(bajas).toBe(1);
  });
});
