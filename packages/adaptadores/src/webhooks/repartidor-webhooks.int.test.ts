import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as esperar } from 'node:timers/promises';
import type { Ambito } from '@aeropartners/dominio';
import { Webhook } from 'standardwebhooks';
import { build } from 'tsup';
import { afterAll, describe, expect, it } from 'vitest';
import { crearBaseDePrueba } from '../testing/index.js';
import { crearPoolPostgres } from '../postgres/pool-postgres.js';
import { iniciarAsignadorEventos } from '../postgres/eventos/asignador-eventos.js';
import { PostgresRegistroEventos } from '../postgres/eventos/registro-eventos.js';
import { idEventoWebhook, PostgresWebhooks } from './postgres-webhooks.js';
import { iniciarRepartidorWebhooks, type OpcionesRepartidorWebhooks, type RepartidorEnMarcha } from './repartidor-webhooks.js';

// El repartidor contra PostgreSQL real y receptores HTTP reales (servidores en este proceso, en 127.0.0.1:
// por eso los repartidores de estas pruebas admiten la red local salvo en la prueba de SSRF).

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

async function preparar() {
  const base = await crearBaseDePrueba();
  const pool = crearPoolPostgres({ url: base.url, tamano: 8, nombreAplicacion: 'webhooks-prueba' });
  cierres.push(async () => {
    await pool.end();
    await base.cerrar();
  });
  return { pool, webhooks: new PostgresWebhooks({ pool }), url: base.url };
}

interface Recibida {
  readonly cabeceras: Record<string, string>;
  readonly cuerpo: string;
}

/**
 * Un receptor HTTP real. `responder(n)` decide la respuesta de la petición n (desde 1): un estado HTTP, o
 * `'colgar'` (no responde nunca: un receptor muerto que acepta conexiones).
 */
async function receptor(responder: (n: number) => number | 'colgar') {
  const recibidas: Recibida[] = [];
  const colgadas = new Set<http.ServerResponse>();
  let conexiones = 0;
  const servidor = http.createServer((peticion, respuesta) => {
    const trozos: Buffer[] = [];
    peticion.on('data', (t: Buffer) => trozos.push(t));
    peticion.on('end', () => {
      const cabeceras: Record<string, string> = {};
      for (const [k, v] of Object.entries(peticion.headers)) if (typeof v === 'string') cabeceras[k] = v;
      recibidas.push({ cabeceras, cuerpo: Buffer.concat(trozos).toString('utf8') });
      const r = responder(recibidas.length);
      if (r === 'colgar') {
        colgadas.add(respuesta);
        respuesta.on('close', () => colgadas.delete(respuesta));
        return;
      }
      respuesta.writeHead(r).end();
    });
  });
  servidor.on('connection', () => {
    conexiones += 1;
  });
  servidor.listen(0, '127.0.0.1');
  await once(servidor, 'listening');
  const { port } = servidor.address() as AddressInfo;
  const cerrar = async () => {
    servidor.closeAllConnections();
    servidor.close();
  };
  cierres.push(cerrar);
  /** Responde ya las peticiones colgadas, con `estado`. */
  const soltar = (estado: number) => {
    for (const r of colgadas) r.writeHead(estado).end();
  };
  return { url: `http://127.0.0.1:${port}/webhook`, puerto: port, recibidas, colgadas, soltar, conexiones: () => conexiones };
}

let siguienteId = 1;
/** Eventos ya numerados del registro (lo que escribe el asignador de la migración 0009). */
async function insertarEventos(
  pool: ReturnType<typeof crearPoolPostgres>,
  ambito: Ambito,
  desde: number,
  hasta: number,
  tipo = 'pago.exitoso',
) {
  for (let s = desde; s <= hasta; s++) {
    await pool.query(
      `INSERT INTO eventos_socio (id_socio, modo, secuencia, tipo, sujeto, ocurrido_en, id_solicitud, id_correlacion, datos, fuente, id_fuente)
       VALUES ($1, $2, $3, $4, $5, now(), $6, $7, $8, 'pruebas', $9)`,
      [ambito.idSocio, ambito.modo, s, tipo, `pago-${s}`, `req_${s}`, `corr-${s}`, { estado: 'EXITOSO', n: s }, siguienteId++],
    );
  }
  await pool.query(
    `INSERT INTO eventos_contadores (id_socio, modo, ultima) VALUES ($1, $2, $3)
     ON CONFLICT (id_socio, modo) DO UPDATE SET ultima = GREATEST(eventos_contadores.ultima, EXCLUDED.ultima)`,
    [ambito.idSocio, ambito.modo, hasta],
  );
}

function registrador() {
  const lineas: { nivel: string; campos: Record<string, unknown>; mensaje: string | undefined }[] = [];
  const linea = (nivel: string) => (campos: object, mensaje?: string) =>
    lineas.push({ nivel, campos: campos as Record<string, unknown>, mensaje });
  return { lineas, logger: { info: linea('info'), warn: linea('warn'), error: linea('error') } };
}

function arrancar(opciones: Omit<OpcionesRepartidorWebhooks, 'logger'> & { logger?: OpcionesRepartidorWebhooks['logger'] }) {
  const r = iniciarRepartidorWebhooks({ logger: registrador().logger, sondeoMs: 20, aleatoriedad: 0, ...opciones });
  cierres.push(() => r.detener());
  return r;
}

async function hasta<T>(comprobar: () => Promise<T | undefined> | T | undefined, descripcion: string): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const valor = await comprobar();
    if (valor !== undefined && valor !== false) return valor;
    await esperar(20);
  }
  throw new Error(`no se cumplió a tiempo: ${descripcion}`);
}

const verificar = (secreto: string, r: Recibida) =>
  new Webhook(secreto).verify(r.cuerpo, {
    'webhook-id': r.cabeceras['webhook-id'] ?? '',
    'webhook-timestamp': r.cabeceras['webhook-timestamp'] ?? '',
    'webhook-signature': r.cabeceras['webhook-signature'] ?? '',
  });

describe('repartidor de webhooks', () => {
  it('un receptor que falla y luego acepta recibe el evento firmado, con el mismo webhook-id en cada reintento; cada intento queda anotado', async () => {
    const { pool, webhooks } = await preparar();
    const ambito: Ambito = { idSocio: 'socio-a', modo: 'live' };
    const rx = await receptor((n) => (n === 1 ? 500 : n === 2 ? 503 : 200));
    const { webhook, secreto } = await webhooks.crear(ambito, { url: rx.url, tipos: ['pago.*'] });
    await insertarEventos(pool, ambito, 1, 1);
    const repartidor = arrancar({ pool, permitirRedLocal: true, calendarioMs: [30, 30, 30, 30] });

    await hasta(() => rx.recibidas.length >= 3 && repartidor.contadores().intentos.exitoso === 1, 'tres intentos, el último aceptado');
    expect(rx.recibidas).toHaveLength(3);
    const idEvento = idEventoWebhook(ambito, 1);
    for (const r of rx.recibidas) {
      expect(r.cabeceras['webhook-id']).toBe(idEvento);
      expect(r.cabeceras['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      // El paquete oficial verifica la firma (y la marca de tiempo) con el secreto mostrado al crear.
      expect(verificar(secreto, r)).toMatchObject({ secuencia: 1, tipo: 'pago.exitoso', sujeto: 'pago-1' });
      expect(JSON.parse(r.cuerpo)).toEqual({
        secuencia: 1,
        tipo: 'pago.exitoso',
        sujeto: 'pago-1',
        ocurrido_en: expect.any(String),
        registrado_en: expect.any(String),
        id_solicitud: 'req_1',
        id_traza: null,
        id_correlacion: 'corr-1',
        datos: { estado: 'EXITOSO', n: 1 },
      });
    }
    // Otro secreto no verifica.
    expect(() => verificar(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, rx.recibidas[0]!)).toThrow();

    const listado = await webhooks.intentos(ambito, webhook.id, { limite: 10 });
    expect(listado?.intentos.map((i) => [i.numero, i.resultado, i.codigoEstado, i.proximoIntento === null])).toEqual([
      [3, 'exitoso', 200, true],
      [2, 'error_http', 503, false],
      [1, 'error_http', 500, false],
    ]);
    expect(listado?.intentos.every((i) => i.idEvento === idEvento && i.duracionMs >= 0)).toBe(true);
    expect(repartidor.contadores().intentos).toEqual({ exitoso: 1, error_http: 2, tiempo_agotado: 0, error_red: 0 });
    const { rows } = await pool.query('SELECT estado, intentos FROM webhook_entregas');
    expect(rows).toEqual([{ estado: 'entregada', intentos: 3 }]);
  });

  it('un receptor muerto ocupa solo sus huecos por destino: el sano recibe todo mientras el muerto sigue colgado', async () => {
    const { pool, webhooks } = await preparar();
    const ambito: Ambito = { idSocio: 'socio-b', modo: 'live' };
    const muerto = await receptor(() => 'colgar');
    const sano = await receptor(() => 204);
    const wMuerto = await webhooks.crear(ambito, { url: muerto.url, tipos: ['*'] });
    await webhooks.crear(ambito, { url: sano.url, tipos: ['*'] });
    await insertarEventos(pool, ambito, 1, 12);
    // Tres huecos en total, dos por destino: sin el límite por destino, el muerto los ocuparía todos.
    const repartidor = arrancar({ pool, permitirRedLocal: true, concurrencia: 3, porDestino: 2, tiempoMaximoMs: 120_000 });

    await hasta(() => new Set(sano.recibidas.map((r) => r.cabeceras['webhook-id'])).size === 12, 'el sano recibe los 12');
    expect(muerto.colgadas.size).toBe(2);
    expect(muerto.recibidas).toHaveLength(2);
    expect(repartidor.contadores().intentos.exitoso).toBe(12);
    await repartidor.detener();
    // Lo cortado al apagarse no se anota: sigue pendiente y otra instancia lo reintentará al vencer el plazo.
    const { rows } = await pool.query<{ estado: string; n: string }>(
      `SELECT estado, count(*)::text AS n FROM webhook_entregas WHERE id_webhook = $1 GROUP BY estado`,
      [wMuerto.webhook.id],
    );
    expect(rows).toEqual([{ estado: 'pendiente', n: '12' }]);
    expect((await webhooks.intentos(ambito, wMuerto.webhook.id, { limite: 10 }))?.intentos).toEqual([]);
  });

  it('agotado el calendario, el webhook se desactiva con un aviso en el registro y en su estado', async () => {
    const { pool, webhooks } = await preparar();
    const ambito: Ambito = { idSocio: 'socio-c', modo: 'test' };
    const rx = await receptor(() => 500);
    const { webhook } = await webhooks.crear(ambito, { url: rx.url, tipos: ['pago.exitoso'] });
    await insertarEventos(pool, ambito, 1, 1);
    const { lineas, logger } = registrador();
    const repartidor = arrancar({ pool, logger, permitirRedLocal: true, calendarioMs: [20, 20] });

    const vista = await hasta(async () => {
      const w = await webhooks.obtener(ambito, webhook.id);
      return w && !w.activo ? w : undefined;
    }, 'webhook desactivado');
    expect(rx.recibidas).toHaveLength(3);
    expect(vista.motivoDesactivacion).toMatch(/falló 3 veces .*se agotó el calendario/);
    expect(repartidor.contadores().desactivados).toBe(1);
    expect(lineas.filter((l) => l.mensaje === 'webhook: intento de entrega fallido')).toHaveLength(3);
    expect(lineas.find((l) => l.mensaje === 'webhook desactivado')?.campos).toMatchObject({ id_webhook: webhook.id });
    // Desactivado, lo nuevo no sale.
    await insertarEventos(pool, ambito, 2, 2);
    await esperar(200);
    expect(rx.recibidas).toHaveLength(3);

    // Reenviar lo reactiva y reprograma lo pedido (y lo retenido mientras estaba desactivado sigue después).
    const rx2 = await receptor(() => 200);
    await pool.query('UPDATE webhooks SET url = $2 WHERE id = $1', [webhook.id, rx2.url]);
    expect(await webhooks.reenviar(ambito, webhook.id, { desde: 1, hasta: 1 })).toEqual({ tipo: 'programadas', entregas: 1 });
    await hasta(() => rx2.recibidas.length >= 2, 'el reenviado y el retenido');
    expect(rx2.recibidas.map((r) => r.cabeceras['webhook-id']).sort()).toEqual([idEventoWebhook(ambito, 1), idEventoWebhook(ambito, 2)]);
  });

  it('al desactivarse, el socio ve webhook.desactivado en su registro (sujeto el webhook; url, motivo y último intento) y lo recibe otro webhook suyo; otro socio no', async () => {
    const { pool, webhooks } = await preparar();
    const ambito: Ambito = { idSocio: 'socio-aviso', modo: 'live' };
    const otro: Ambito = { idSocio: 'socio-ajeno', modo: 'live' };
    const muerto = await receptor(() => 503);
    const avisado = await receptor(() => 200);
    const { webhook } = await webhooks.crear(ambito, { url: muerto.url, tipos: ['pago.exitoso'] });
    const { webhook: vigia } = await webhooks.crear(ambito, { url: avisado.url, tipos: ['webhook.*'] });
    await webhooks.crear(otro, { url: avisado.url, tipos: ['*'] });
    await insertarEventos(pool, ambito, 1, 1);
    const asignador = iniciarAsignadorEventos({ pool, intervaloMs: 10 });
    cierres.push(() => asignador.detener());
    arrancar({ pool, permitirRedLocal: true, calendarioMs: [20] });

    const registro = new PostgresRegistroEventos({ pool });
    const aviso = await hasta(async () => {
      const { eventos } = await registro.leer(ambito, { despuesDe: 0, limite: 10, tipo: 'webhook.desactivado' });
      return eventos[0];
    }, 'webhook.desactivado en el registro del socio');
    expect(muerto.recibidas).toHaveLength(2);
    const { rows } = await pool.query<{ ocurrido_en: Date; codigo_estado: number; motivo: string }>(
      `SELECT w.motivo_desactivacion AS motivo, i.ocurrido_en, i.codigo_estado FROM webhooks w
       JOIN webhook_intentos i ON i.id_webhook = w.id WHERE w.id = $1 ORDER BY i.numero DESC LIMIT 1`,
      [webhook.id],
    );
    const ultimo = rows[0]!;
    expect(aviso).toMatchObject({ secuencia: 2, tipo: 'webhook.desactivado', sujeto: webhook.id });
    expect(aviso.datos).toEqual({
      id_webhook: webhook.id,
      url: muerto.url,
      motivo: ultimo.motivo,
      ultimo_intento: {
        secuencia: 1,
        numero: 2,
        ocurrido_en: expect.any(String),
        duracion_ms: expect.any(Number),
        codigo_estado: 503,
        resultado: 'error_http',
        error: expect.any(String),
      },
    });
    expect(new Date((aviso.datos as { ultimo_intento: { ocurrido_en: string } }).ultimo_intento.ocurrido_en).getTime()).toBe(
      ultimo.ocurrido_en.getTime(),
    );
    expect(ultimo.motivo).toMatch(/falló 2 veces/);
    // El otro webhook del socio (suscrito a webhook.*) recibe el aviso firmado; el del otro socio, nada.
    await hasta(() => avisado.recibidas.length >= 1, 'el aviso entregado al otro webhook');
    await esperar(200);
    expect(avisado.recibidas).toHaveLength(1);
    expect(avisado.recibidas[0]?.cabeceras['webhook-id']).toBe(idEventoWebhook(ambito, 2));
    expect(JSON.parse(avisado.recibidas[0]!.cuerpo)).toMatchObject({ tipo: 'webhook.desactivado', sujeto: webhook.id });
    expect((await webhooks.obtener(ambito, vigia.id))?.activo).toBe(true);
    expect((await registro.leer(otro, { despuesDe: 0, limite: 10 })).eventos).toEqual([]);
  });

  it('sin WEBHOOKS_PERMITIR_RED_LOCAL no se conecta a loopback aunque el webhook esté guardado: el intento falla como destino no admitido', async () => {
    const { pool, webhooks } = await preparar();
    const ambito: Ambito = { idSocio: 'socio-d', modo: 'live' };
    const rx = await receptor(() => 200);
    const porIp = await webhooks.crear(ambito, { url: rx.url, tipos: ['*'] });
    const porNombre = await webhooks.crear(ambito, { url: `http://localhost:${rx.puerto}/webhook`, tipos: ['*'] });
    await insertarEventos(pool, ambito, 1, 1);
    arrancar({ pool, permitirRedLocal: false, calendarioMs: [60_000] });

    for (const w of [porIp, porNombre]) {
      const intento = await hasta(async () => (await webhooks.intentos(ambito, w.webhook.id, { limite: 5 }))?.intentos[0], 'un intento');
      expect(intento).toMatchObject({ resultado: 'error_red', codigoEstado: null });
      expect(intento.error).toMatch(/destino no admitido: .*loopback/);
    }
    expect(rx.recibidas).toHaveLength(0);
  });

  it('rotar el secreto: durante la gracia cada entrega verifica con el secreto nuevo y con el anterior', async () => {
    const { pool, webhooks } = await preparar();
    const ambito: Ambito = { idSocio: 'socio-e', modo: 'live' };
    const rx = await receptor(() => 200);
    const { webhook, secreto: anterior } = await webhooks.crear(ambito, { url: rx.url, tipos: ['*'] });
    const rotado = await webhooks.rotarSecreto(ambito, webhook.id, 60_000);
    expect(rotado?.secreto).toMatch(/^whsec_/);
    expect(rotado?.secreto).not.toBe(anterior);
    expect(await webhooks.rotarSecreto({ idSocio: 'otro', modo: 'live' }, webhook.id, 60_000)).toBeUndefined();
    await insertarEventos(pool, ambito, 1, 1);
    arrancar({ pool, permitirRedLocal: true });
    await hasta(() => rx.recibidas.length === 1, 'una entrega');
    const r = rx.recibidas[0]!;
    expect(r.cabeceras['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(verificar(rotado!.secreto, r)).toMatchObject({ secuencia: 1 });
    expect(verificar(anterior, r)).toMatchObject({ secuencia: 1 });

    // Sin gracia, solo el nuevo.
    await webhooks.rotarSecreto(ambito, webhook.id, 0);
    const { rows } = await pool.query<{ secreto: string }>('SELECT secreto FROM webhooks WHERE id = $1', [webhook.id]);
    await insertarEventos(pool, ambito, 2, 2);
    await hasta(() => rx.recibidas.length === 2, 'otra entrega');
    expect(rx.recibidas[1]?.cabeceras['webhook-signature']?.split(' ')).toHaveLength(1);
    expect(verificar(rows[0]!.secreto, rx.recibidas[1]!)).toMatchObject({ secuencia: 2 });
  });

  it('dos repartidores a la vez (dos instancias): cada evento sale una vez, a su webhook y según sus tipos', async () => {
    const { pool, webhooks } = await preparar();
    const ambito: Ambito = { idSocio: 'socio-f', modo: 'live' };
    const otro: Ambito = { idSocio: 'socio-g', modo: 'live' };
    const rx = await receptor(() => 200);
    const rxOtro = await receptor(() => 200);
    await webhooks.crear(ambito, { url: rx.url, tipos: ['pago.exitoso', 'conversion.*'] });
    await webhooks.crear(otro, { url: rxOtro.url, tipos: ['*'] });
    const instancias: RepartidorEnMarcha[] = [
      arrancar({ pool, permitirRedLocal: true, lote: 7 }),
      arrancar({ pool, permitirRedLocal: true, lote: 7 }),
    ];
    await insertarEventos(pool, ambito, 1, 20);
    await insertarEventos(pool, ambito, 21, 25, 'pago.fallido');
    await insertarEventos(pool, ambito, 26, 30, 'conversion.aprobada');
    await insertarEventos(pool, otro, 1, 10, 'pago.fallido');
    await hasta(() => rx.recibidas.length >= 25 && rxOtro.recibidas.length >= 10, 'todo entregado');
    await esperar(200);
    const ids = rx.recibidas.map((r) => r.cabeceras['webhook-id']);
    expect(ids).toHaveLength(25);
    expect(new Set(ids)).toEqual(
      new Set([...Array.from({ length: 20 }, (_, i) => i + 1), 26, 27, 28, 29, 30].map((s) => idEventoWebhook(ambito, s))),
    );
    expect(new Set(rxOtro.recibidas.map((r) => r.cabeceras['webhook-id'])).size).toBe(10);
    expect(rxOtro.recibidas).toHaveLength(10);
    // Los dos trabajaron (o al menos, entre los dos, sin repetir nada).
    const total = instancias.reduce((n, r) => n + r.contadores().intentos.exitoso, 0);
    expect(total).toBe(35);
  });

  it('un destino lento no frena a otro rápido: el rápido recibe todo por pocas conexiones mientras el lento tiene sus huecos ocupados; luego el lento recibe todo', async () => {
    const { pool, webhooks } = await preparar();
    const ambito: Ambito = { idSocio: 'socio-h', modo: 'live' };
    let lentoResponde = false;
    const lento = await receptor(() => (lentoResponde ? 200 : 'colgar'));
    const rapido = await receptor(() => 200);
    const wLento = await webhooks.crear(ambito, { url: lento.url, tipos: ['*'] });
    await webhooks.crear(ambito, { url: rapido.url, tipos: ['*'] });
    await insertarEventos(pool, ambito, 1, 40);
    const repartidor = arrancar({ pool, permitirRedLocal: true, concurrencia: 6, porDestino: 3, tiempoMaximoMs: 120_000 });

    await hasta(() => new Set(rapido.recibidas.map((r) => r.cabeceras['webhook-id'])).size === 40, 'el rápido recibe los 40');
    // El lento solo tiene sus tres huecos, sin respuesta todavía; el rápido ha ido por conexiones reutilizadas.
    expect(lento.recibidas).toHaveLength(3);
    expect(lento.colgadas.size).toBe(3);
    expect(rapido.recibidas).toHaveLength(40);
    expect(rapido.conexiones()).toBeLessThanOrEqual(3);

    lentoResponde = true;
    lento.soltar(200);
    await hasta(() => repartidor.contadores().intentos.exitoso === 80, 'el lento también recibe los 40');
    expect(new Set(lento.recibidas.map((r) => r.cabeceras['webhook-id'])).size).toBe(40);
    expect(lento.recibidas).toHaveLength(40);
    const { rows } = await pool.query<{ estado: string; n: string }>(
      `SELECT estado, count(*)::text AS n FROM webhook_entregas WHERE id_webhook = $1 GROUP BY estado`,
      [wLento.webhook.id],
    );
    expect(rows).toEqual([{ estado: 'entregada', n: '40' }]);
    // Cada intento anotado una vez, aunque se anoten por tandas.
    const intentos = await pool.query<{ n: string; distintos: string }>(
      `SELECT count(*)::text AS n, count(DISTINCT (id_webhook, secuencia))::text AS distintos FROM webhook_intentos WHERE resultado = 'exitoso'`,
    );
    expect(intentos.rows).toEqual([{ n: '80', distintos: '80' }]);
  });

  it('sin conexiones persistentes cada envío abre su conexión; con ellas (por defecto) se reutilizan', async () => {
    const { pool, webhooks } = await preparar();
    const sinReutilizar: Ambito = { idSocio: 'socio-i', modo: 'live' };
    const reutilizando: Ambito = { idSocio: 'socio-j', modo: 'live' };
    const rxSin = await receptor(() => 200);
    const rxCon = await receptor(() => 200);
    await webhooks.crear(sinReutilizar, { url: rxSin.url, tipos: ['*'] });
    await webhooks.crear(reutilizando, { url: rxCon.url, tipos: ['*'] });
    const sin = arrancar({ pool, permitirRedLocal: true, porDestino: 2, conexionesPersistentes: false });
    await insertarEventos(pool, sinReutilizar, 1, 30);
    await hasta(() => sin.contadores().intentos.exitoso === 30, 'los 30 sin reutilizar');
    expect(rxSin.recibidas).toHaveLength(30);
    expect(rxSin.conexiones()).toBe(30);
    await sin.detener();

    const r = arrancar({ pool, permitirRedLocal: true, porDestino: 2 });
    await insertarEventos(pool, reutilizando, 1, 30);
    await hasta(() => rxCon.recibidas.length === 30, 'los 30 reutilizando');
    expect(rxCon.conexiones()).toBeLessThanOrEqual(2);
    expect(r.contadores().tiempos.conexiones).toBe(rxCon.conexiones());
  });

  it('la conexión persistente sigue comprobando la dirección al conectar: un nombre que la comprobación previa daba por público y resuelve a loopback no se conecta', async () => {
    const { pool, webhooks } = await preparar();
    const ambito: Ambito = { idSocio: 'socio-k', modo: 'live' };
    const rx = await receptor(() => 200);
    const { webhook } = await webhooks.crear(ambito, { url: `http://localhost:${rx.puerto}/webhook`, tipos: ['*'] });
    await insertarEventos(pool, ambito, 1, 3);
    // La comprobación previa ve una dirección pública (como si el DNS cambiara justo después: rebinding);
    // la conexión del agente resuelve de verdad y ve 127.0.0.1.
    const resoluciones: string[] = [];
    const repartidor = arrancar({
      pool,
      permitirRedLocal: false,
      calendarioMs: [60_000],
      resolverDestino: async (nombre) => {
        resoluciones.push(nombre);
        return ['93.184.215.14'];
      },
    });
    const listado = await hasta(async () => {
      const l = await webhooks.intentos(ambito, webhook.id, { limite: 5 });
      return l && l.intentos.length >= 3 ? l : undefined;
    }, 'tres intentos anotados');
    expect(listado.intentos).toHaveLength(3);
    expect(repartidor.contadores().intentos).toMatchObject({ exitoso: 0, error_red: 3 });
    for (const intento of listado.intentos) {
      expect(intento).toMatchObject({ resultado: 'error_red', codigoEstado: null });
      expect(intento.error).toMatch(/EDESTINOPROHIBIDO: localhost resuelve a .*loopback/);
    }
    expect(resoluciones).toEqual(['localhost', 'localhost', 'localhost']);
    expect(rx.conexiones()).toBe(0);
    expect(rx.recibidas).toHaveLength(0);
  });

  it('WEBHOOKS_POR_DESTINO mayor que WEBHOOKS_CONCURRENCIA: una línea al arrancar que lo dice, y se usa la concurrencia', async () => {
    const { pool, webhooks } = await preparar();
    const ambito: Ambito = { idSocio: 'socio-m', modo: 'live' };
    const rx = await receptor(() => 'colgar');
    await webhooks.crear(ambito, { url: rx.url, tipos: ['*'] });
    await insertarEventos(pool, ambito, 1, 5);
    const { lineas, logger } = registrador();
    arrancar({ pool, logger, permitirRedLocal: true, concurrencia: 2, porDestino: 10, tiempoMaximoMs: 120_000 });
    expect(lineas.filter((l) => l.nivel === 'warn').map((l) => l.mensaje)).toEqual([
      'webhooks: WEBHOOKS_POR_DESTINO (10) es mayor que WEBHOOKS_CONCURRENCIA (2); se usa 2 por destino',
    ]);
    await hasta(() => rx.colgadas.size === 2, 'dos en vuelo');
    await esperar(200);
    expect(rx.recibidas).toHaveLength(2);
  });

  it('un repartidor en otro proceso, matado con SIGKILL con un lote reclamado y enviado: otro lo entrega al vencer el plazo, con el mismo webhook-id', async () => {
    const { pool, webhooks, url } = await preparar();
    const ambito: Ambito = { idSocio: 'socio-l', modo: 'live' };
    let acepta = false;
    const rx = await receptor(() => (acepta ? 200 : 'colgar'));
    const { webhook } = await webhooks.crear(ambito, { url: rx.url, tipos: ['*'] });
    await insertarEventos(pool, ambito, 1, 10);

    const hijo = await repartidorHijo(url);
    // El hijo reclama y envía 6 (sus huecos); el receptor las retiene y el hijo muere a mitad.
    await hasta(() => rx.colgadas.size === 6, 'seis envíos en vuelo del hijo');
    hijo.kill('SIGKILL');
    await once(hijo, 'exit');
    const reclamadas = await pool.query<{ secuencia: string }>(
      `SELECT secuencia::text FROM webhook_entregas WHERE estado = 'pendiente' AND intentos = 0 AND proximo_intento > now() ORDER BY secuencia`,
    );
    expect(reclamadas.rows).toHaveLength(6);
    const idsDelHijo = rx.recibidas.map((r) => r.cabeceras['webhook-id']);
    expect(new Set(idsDelHijo)).toEqual(new Set(reclamadas.rows.map((f) => idEventoWebhook(ambito, Number(f.secuencia)))));

    acepta = true;
    const otro = arrancar({ pool, permitirRedLocal: true, tiempoMaximoMs: 1000 });
    await hasta(() => otro.contadores().intentos.exitoso === 10, 'el otro entrega los 10');
    const ids = rx.recibidas.map((r) => r.cabeceras['webhook-id']);
    expect(new Set(ids)).toEqual(new Set(Array.from({ length: 10 }, (_, i) => idEventoWebhook(ambito, i + 1))));
    // Los 6 del hijo llegaron dos veces (al menos una vez; el receptor deduplica por webhook-id), el resto una.
    expect(ids).toHaveLength(16);
    for (const id of idsDelHijo) expect(ids.filter((x) => x === id)).toHaveLength(2);
    const { rows } = await pool.query<{ estado: string; n: string }>(
      `SELECT estado, count(*)::text AS n FROM webhook_entregas WHERE id_webhook = $1 GROUP BY estado`,
      [webhook.id],
    );
    expect(rows).toEqual([{ estado: 'entregada', n: '10' }]);
  });
});

const PAQUETE = fileURLToPath(new URL('../..', import.meta.url));

/**
 * El repartidor real en OTRO proceso: se empaqueta desde el código fuente (tsup, condición
 * `@aeropartners/source`) y arranca con plazo de reclamo corto (tiempo máximo 1 s), 6 huecos.
 */
async function repartidorHijo(url: string) {
  const salida = path.join(PAQUETE, 'node_modules', '.cache', `repartidor-hijo-${process.pid}`);
  await build({
    entry: {
      repartidor: path.join(PAQUETE, 'src/webhooks/repartidor-webhooks.ts'),
      pool: path.join(PAQUETE, 'src/postgres/pool-postgres.ts'),
    },
    outDir: salida,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    noExternal: [/^@aeropartners\//],
    esbuildOptions(opciones) {
      opciones.conditions = ['@aeropartners/source'];
    },
    dts: false,
    silent: true,
    config: false,
  });
  cierres.push(async () => rmSync(salida, { recursive: true, force: true }));
  const codigo = `
    const { iniciarRepartidorWebhooks } = await import(${JSON.stringify(path.join(salida, 'repartidor.js'))});
    const { crearPoolPostgres } = await import(${JSON.stringify(path.join(salida, 'pool.js'))});
    const pool = crearPoolPostgres({ url: process.env.URL_PRUEBA, tamano: 2, nombreAplicacion: 'repartidor-hijo' });
    const nada = () => undefined;
    iniciarRepartidorWebhooks({ pool, logger: { info: nada, warn: nada, error: nada }, permitirRedLocal: true,
      tiempoMaximoMs: 1000, sondeoMs: 20, concurrencia: 6, porDestino: 6 });
  `;
  const hijo = spawn(process.execPath, ['--input-type=module', '-e', codigo], {
    cwd: PAQUETE,
    env: { ...process.env, URL_PRUEBA: url },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  cierres.push(async () => {
    if (hijo.exitCode === null && hijo.signalCode === null) hijo.kill('SIGKILL');
  });
  return hijo;
}
