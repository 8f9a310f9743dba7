import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as esperar } from 'node:timers/promises';
import { verificarStandardWebhooks } from '@aeropartners/adaptadores';
import { afterEach, describe, expect, it } from 'vitest';
import { Topologia } from '../src/topologia.js';

/**
 * Webhooks con los tres procesos reales: la API registra el webhook, los pagos avanzan por el outbox, el
 * broker y el consumidor, y el repartidor del proceso outbox entrega cada evento del feed al receptor. El
 * outbox muere (SIGKILL) con una entrega en vuelo: al vencer su plazo, la vida siguiente la reenvía con el
 * mismo webhook-id. Al menos una vez, exactamente una vez tras deduplicar por webhook-id.
 */

interface Recibida {
  readonly cabeceras: Record<string, string>;
  readonly cuerpo: string;
  readonly respondida: number | 'colgada';
}

type Json = Record<string, unknown>;

describe('webhooks con procesos reales', () => {
  let topologia: Topologia | undefined;
  let cerrarReceptor: (() => void) | undefined;
  afterEach(async () => {
    cerrarReceptor?.();
    await topologia?.cerrar();
    topologia = undefined;
  });

  it('cada evento del feed llega firmado al menos una vez, también el que estaba en vuelo cuando se mató el outbox', async () => {
    // El receptor: deja colgada la primera petición (el outbox muere con ella en vuelo) y falla una de cada tres.
    const recibidas: Recibida[] = [];
    const colgadas: http.ServerResponse[] = [];
    const servidor = http.createServer((peticion, respuesta) => {
      const trozos: Buffer[] = [];
      peticion.on('data', (t: Buffer) => trozos.push(t));
      peticion.on('end', () => {
        const cabeceras: Record<string, string> = {};
        for (const [k, v] of Object.entries(peticion.headers)) if (typeof v === 'string') cabeceras[k] = v;
        const n = recibidas.length + 1;
        const estado = n === 1 ? 'colgada' : n % 3 === 0 ? 500 : 200;
        recibidas.push({ cabeceras, cuerpo: Buffer.concat(trozos).toString('utf8'), respondida: estado });
        if (estado === 'colgada') colgadas.push(respuesta);
        else respuesta.writeHead(estado).end();
      });
    });
    servidor.listen(0, '127.0.0.1');
    await once(servidor, 'listening');
    cerrarReceptor = () => {
      servidor.closeAllConnections();
      servidor.close();
    };
    const urlReceptor = `http://127.0.0.1:${(servidor.address() as AddressInfo).port}/ganchos`;

    const t = (topologia = await Topologia.iniciar({
      entorno: {
        api: { WEBHOOKS_PERMITIR_RED_LOCAL: 'true' },
        outbox: {
          WEBHOOKS_PERMITIR_RED_LOCAL: 'true',
          WEBHOOKS_CALENDARIO: '100ms,100ms,100ms,100ms,100ms,100ms',
          WEBHOOKS_TIEMPO_MAXIMO_MS: '1000',
          WEBHOOKS_SONDEO_MS: '50',
        },
      },
    }));
    const r = await fetch(`${t.urlApi}/webhooks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: urlReceptor, tipos: ['pago.*'] }),
    });
    expect(r.status).toBe(201);
    const { id, secreto } = (await r.json()) as { id: string; secreto: string };

    const pagos = await t.crearPagos(8, { concurrencia: 4, prefijo: 'webhooks' });
    for (let i = 0; i < 500 && recibidas.length === 0; i++) await esperar(20);
    expect(recibidas[0]?.respondida).toBe('colgada');
    const enVuelo = recibidas[0]?.cabeceras['webhook-id'];
    await t.matar('outbox', 'SIGKILL');
    await t.arrancar('outbox');
    await t.esperarFinales(
      pagos.map((p) => p.id),
      60_000,
    );

    // Todos los eventos de pago del feed del socio (el del modo anónimo de la topología). El asignador numera
    // el último cambio de cada pago un momento después de confirmarse: se espera a verlo en el feed.
    const leerFeed = async () => (await t.get<{ eventos: Json[] }>('/eventos?limite=500&tipo=pago.*')).cuerpo.eventos;
    let esperados = await leerFeed();
    for (let i = 0; i < 250 && esperados.length < pagos.length * 3; i++) {
      await esperar(20);
      esperados = await leerFeed();
    }
    expect(esperados.length).toBeGreaterThanOrEqual(pagos.length * 3);
    const aceptados = () => new Set(recibidas.filter((x) => x.respondida === 200).map((x) => JSON.parse(x.cuerpo).secuencia as number));
    for (let i = 0; i < 1500 && aceptados().size < esperados.length; i++) await esperar(20);
    expect([...aceptados()].sort((a, b) => a - b)).toEqual(esperados.map((e) => e.secuencia));

    // Cada petición, firmada; y el cuerpo aceptado de cada evento es el objeto del feed.
    for (const x of recibidas) {
      const v = verificarStandardWebhooks({
        secretos: [secreto],
        cabeceras: {
          id: x.cabeceras['webhook-id'],
          marcaTiempo: x.cabeceras['webhook-timestamp'],
          firma: x.cabeceras['webhook-signature'],
        },
        cuerpo: x.cuerpo,
        ahoraSegundos: Date.now() / 1000,
      });
      expect(v.ok, JSON.stringify(v)).toBe(true);
    }
    const porSecuencia = new Map(esperados.map((e) => [e.secuencia, e]));
    for (const x of recibidas.filter((y) => y.respondida === 200)) {
      const cuerpo = JSON.parse(x.cuerpo) as Json;
      expect(cuerpo).toEqual(porSecuencia.get(cuerpo.secuencia as number));
    }
    // El que estaba en vuelo al matar el outbox llegó otra vez con el mismo webhook-id; cada id es un solo evento.
    expect(recibidas.filter((x) => x.cabeceras['webhook-id'] === enVuelo).length).toBeGreaterThanOrEqual(2);
    const secuenciaDeId = new Map<string, number>();
    for (const x of recibidas) {
      const s = JSON.parse(x.cuerpo).secuencia as number;
      const idWebhook = x.cabeceras['webhook-id'] ?? '';
      expect(secuenciaDeId.get(idWebhook) ?? s).toBe(s);
      secuenciaDeId.set(idWebhook, s);
    }
    // Los fallos del receptor quedaron anotados como intentos.
    const intentos = await t.get<{ intentos: Json[] }>(`/webhooks/${id}/intentos?limite=200`);
    expect(intentos.cuerpo.intentos.some((i) => i.resultado === 'error_http' && i.codigo_estado === 500)).toBe(true);
    for (const c of colgadas) c.destroy();
  });
});
