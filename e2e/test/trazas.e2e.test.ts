import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Topologia } from '../src/topologia.js';

/**
 * Una traza a través de los tres procesos reales (issue 13, punto 7): la API, el relay y el consumidor,
 * cada uno con `OTEL_EXPORTER_OTLP_ENDPOINT` hacia un colector OTLP/HTTP mínimo de este test. No se
 * decodifica el protobuf: los nombres y los atributos viajan como texto y los ids como sus 16 u 8
 * bytes, así que basta con buscarlos en lo que exportó cada proceso.
 */

interface Envio {
  readonly ruta: string;
  readonly tipo: string;
  readonly cuerpo: Buffer;
}

async function colectorOtlp(): Promise<{ url: string; envios: Envio[]; cerrar: () => void }> {
  const envios: Envio[] = [];
  const servidor = http.createServer((peticion, respuesta) => {
    const trozos: Buffer[] = [];
    peticion.on('data', (t: Buffer) => trozos.push(t));
    peticion.on('end', () => {
      envios.push({ ruta: peticion.url ?? '', tipo: String(peticion.headers['content-type']), cuerpo: Buffer.concat(trozos) });
      respuesta.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((listo) => servidor.listen(0, '127.0.0.1', listo));
  const { port } = servidor.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, envios, cerrar: () => servidor.close() };
}

describe('trazas: una traza a través de la API, el relay y el consumidor, tres procesos reales', () => {
  let topologia: Topologia | undefined;
  let cerrarColector: (() => void) | undefined;
  afterEach(async () => {
    await topologia?.cerrar();
    topologia = undefined;
    cerrarColector?.();
  });

  it('el span de la API de un pago llega al colector, y el send del relay y el process del consumidor lo enlazan', async () => {
    const colector = await colectorOtlp();
    cerrarColector = colector.cerrar;
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: colector.url };
    const t = (topologia = await Topologia.iniciar({ entorno: { api: otel, outbox: otel, consumer: otel } }));
    const [pago] = await t.crearPagos(1, { prefijo: 'trazas' });
    await t.esperarFinales([pago!.id], 60_000);

    // El contexto del span de la API, tal como se guardó con la fila del outbox.
    const { rows } = await t.pool.query<{ traceparent: string | null }>({
      text: "SELECT metadatos->>'traceparent' AS traceparent FROM outbox WHERE id_agregado = $1 AND tipo = 'PagoPendiente'",
      values: [pago!.id],
    });
    const [, traza = '', spanApi = ''] = rows[0]?.traceparent?.split('-') ?? [];
    expect(traza).toMatch(/^[0-9a-f]{32}$/);
    expect(spanApi).toMatch(/^[0-9a-f]{16}$/);

    // Al apagarse, cada proceso exporta lo que le queda.
    await t.cerrar();
    topologia = undefined;
    expect(colector.envios.length).toBeGreaterThanOrEqual(3);
    expect(colector.envios.every((e) => e.ruta === '/v1/traces' && e.tipo === 'application/x-protobuf')).toBe(true);
    const de = (servicio: string) => Buffer.concat(colector.envios.filter((e) => e.cuerpo.includes(servicio)).map((e) => e.cuerpo));
    const api = de('aeropartners-pagos-api');
    const relay = de('aeropartners-pagos-outbox');
    const consumidor = de('aeropartners-pagos-consumer');
    const bytesTraza = Buffer.from(traza, 'hex');
    const bytesSpanApi = Buffer.from(spanApi, 'hex');

    // La API: el span servidor de POST /pagos con ese trace id y ese span id (y sus consultas a PostgreSQL).
    expect(api.includes('POST /pagos')).toBe(true);
    expect(api.includes(bytesTraza) && api.includes(bytesSpanApi)).toBe(true);
    expect(api.includes('postgresql')).toBe(true);
    // El relay: un span send con un link al span de la API (su trace id y su span id).
    expect(relay.includes('send pagos')).toBe(true);
    expect(relay.includes(bytesTraza) && relay.includes(bytesSpanApi)).toBe(true);
    // El consumidor: el span process en la misma traza, con el span de la API como padre y como link.
    expect(consumidor.includes('process pagos')).toBe(true);
    expect(consumidor.includes(bytesTraza) && consumidor.includes(bytesSpanApi)).toBe(true);
    expect(consumidor.includes(pago!.id)).toBe(true);
  }, 120_000);
});
