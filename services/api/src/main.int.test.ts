import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { crearBaseDePrueba, type BaseDePrueba } from '@aeropartners/adaptadores/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `src/main.ts` como proceso real (Node + tsx, contra el código fuente de los paquetes del workspace):
 * configuración inválida → una línea y código 1; configuración válida → sirve, y SIGTERM → código 0.
 */

const DIRECTORIO_API = fileURLToPath(new URL('..', import.meta.url));
const CARGADOR_TSX = createRequire(import.meta.url).resolve('tsx');

interface Proceso {
  readonly hijo: ChildProcess;
  readonly salida: () => string;
  readonly errores: () => string;
  /** Mensajes recibidos por el canal IPC (el anuncio del puerto). */
  readonly mensajes: unknown[];
  readonly fin: Promise<number | null>;
}

function arrancar(entorno: Record<string, string>): Proceso {
  const hijo = spawn(process.execPath, ['--conditions=@aeropartners/source', '--import', CARGADOR_TSX, 'src/main.ts'], {
    cwd: DIRECTORIO_API,
    env: { PATH: process.env.PATH ?? '', ...entorno },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let salida = '';
  let errores = '';
  const mensajes: unknown[] = [];
  hijo.stdout!.setEncoding('utf8').on('data', (t: string) => (salida += t));
  hijo.stderr!.setEncoding('utf8').on('data', (t: string) => (errores += t));
  hijo.on('message', (m) => mensajes.push(m));
  const fin = once(hijo, 'exit').then(([codigo]) => codigo as number | null);
  return { hijo, salida: () => salida, errores: () => errores, mensajes, fin };
}

const lineasJson = (texto: string) =>
  texto
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function esperar<T>(condicion: () => T | undefined, ms = 20_000): Promise<T> {
  const limite = Date.now() + ms;
  for (;;) {
    const valor = condicion();
    if (valor !== undefined) return valor;
    if (Date.now() > limite) throw new Error('tiempo agotado esperando al proceso');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.concurrent('main: configuración inválida', () => {
  it.each([
    [{}, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://u:c@127.0.0.1:5432/db', PORT: 'ochenta' }, 'PORT'],
    [{ DATABASE_URL: 'postgres://u:c@127.0.0.1:5432/db', LOG_LEVEL: 'verboso' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'mysql://u@h/db' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://u:c@127.0.0.1:5432/db', API_ANONIMA_SOCIO: 'socio con espacios' }, 'API_ANONIMA_SOCIO'],
    [{ DATABASE_URL: 'postgres://u:c@127.0.0.1:5432/db', API_LIMITE_RPS: '0' }, 'API_LIMITE_RPS'],
  ])(
    'con %j: UNA línea en stderr que nombra %s, nada en stdout, código 1',
    async (entorno, variable) => {
      const proceso = arrancar(entorno);
      expect(await proceso.fin).toBe(1);
      const lineas = proceso
        .errores()
        .split('\n')
        .filter((l) => l !== '');
      expect(lineas).toHaveLength(1);
      expect(lineas[0]).toMatch(/^Configuración no válida: /);
      expect(lineas[0]).toContain(variable);
      expect(proceso.salida()).toBe('');
    },
    30_000,
  );
});

describe.concurrent('main: variables OTEL_* inválidas', () => {
  it.each([
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'jaeger:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_SDK_DISABLED: 'quizá', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, 'OTEL_SDK_DISABLED'],
  ])(
    'con %j: UNA línea en stderr que nombra %s, nada en stdout, código 1',
    async (otel, variable) => {
      const proceso = arrancar({ DATABASE_URL: 'postgres://u:c@127.0.0.1:5432/db', ...otel });
      expect(await proceso.fin).toBe(1);
      const lineas = proceso
        .errores()
        .split('\n')
        .filter((l) => l !== '');
      expect(lineas).toHaveLength(1);
      expect(lineas[0]).toMatch(/^Configuración de trazas no válida: /);
      expect(lineas[0]).toContain(variable);
      expect(proceso.salida()).toBe('');
    },
    30_000,
  );
});

describe('main: puerto ocupado', () => {
  it('no puede escuchar: una línea fatal que lo dice y código 1', async () => {
    const ocupante = createServer();
    await new Promise<void>((listo) => ocupante.listen(0, '127.0.0.1', listo));
    try {
      const { port } = ocupante.address() as AddressInfo;
      const proceso = arrancar({ DATABASE_URL: 'postgres://u:c@127.0.0.1:1/db', PORT: String(port), HOST: '127.0.0.1' });
      expect(await proceso.fin).toBe(1);
      const fatal = lineasJson(proceso.salida()).find((l) => l['msg'] === 'el servicio no pudo arrancar');
      expect(fatal).toMatchObject({ level: 'fatal', err: { code: 'EADDRINUSE' } });
      expect(proceso.mensajes).toEqual([]);
    } finally {
      ocupante.close();
    }
  }, 30_000);
});

describe('main: arranque, servicio y apagado', () => {
  let base: BaseDePrueba;
  beforeAll(async () => {
    base = await crearBaseDePrueba();
  });
  afterAll(async () => {
    await base?.cerrar();
  });

  it('sirve con la configuración del entorno, registra en JSON y termina con código 0 al recibir SIGTERM', async () => {
    const proceso = arrancar({
      DATABASE_URL: base.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      API_ANONIMA_SOCIO: 'main-anonimo',
    });
    try {
      const escuchando = await esperar(() => lineasJson(proceso.salida()).find((l) => l['msg'] === 'servicio iniciado'));
      // El modo anónimo se dice en voz alta al arrancar.
      expect(lineasJson(proceso.salida()).find((l) => String(l['msg']).startsWith('MODO ANÓNIMO'))).toMatchObject({
        level: 'warn',
        id_socio: 'main-anonimo',
      });
      expect(escuchando).toMatchObject({ level: 'info', servicio: 'aeropartners-pagos-api', host: '127.0.0.1' });
      // El puerto también llega por IPC, el canal que usan el supervisor y los e2e.
      expect(proceso.mensajes).toEqual([{ tipo: 'escuchando', servicio: 'aeropartners-pagos-api', puerto: escuchando['puerto'] }]);
      const url = `http://127.0.0.1:${String(escuchando['puerto'])}`;

      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
      const r = await fetch(`${url}/pagos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-correlation-id': 'main-1' },
        body: JSON.stringify({ id_afiliado: 'a-main', monto: 10, moneda: 'EUR', referencia_pago: 'MAIN-1' }),
      });
      expect(r.status).toBe(200);
      const { id_pago } = (await r.json()) as { id_pago: string };

      // Una petición en curso al llegar SIGTERM (cuerpo a medio enviar) termina con su respuesta.
      const cuerpo = JSON.stringify({ id_afiliado: 'a-main', monto: 20, moneda: 'EUR', referencia_pago: 'MAIN-2' });
      const socket = connect(Number(escuchando['puerto']), '127.0.0.1');
      await once(socket, 'connect');
      let respuesta = '';
      socket.setEncoding('utf8').on('data', (t: string) => (respuesta += t));
      socket.write(
        `POST /pagos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(cuerpo)}\r\n\r\n${cuerpo.slice(0, 10)}`,
      );
      await new Promise((r) => setTimeout(r, 300));
      proceso.hijo.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      expect(proceso.hijo.exitCode).toBeNull();
      socket.write(cuerpo.slice(10));
      await esperar(() => (respuesta.includes('MAIN-2') ? true : undefined), 10_000);
      socket.end();
      expect(respuesta).toMatch(/^HTTP\/1\.1 200 /);
      expect(respuesta).toContain('MAIN-2');
      expect(await proceso.fin).toBe(0);

      const lineas = lineasJson(proceso.salida());
      expect(lineas.find((l) => l['ruta'] === '/pagos' && l['metodo'] === 'POST')).toMatchObject({
        estado_http: 200,
        id_correlacion: 'main-1',
        id_solicitud: r.headers.get('request-id'),
        id_socio: 'main-anonimo',
        id_pago,
        duracion_ms: expect.any(Number),
      });
      expect(lineas.map((l) => l['msg']).slice(-2)).toEqual(['API detenida', 'servicio detenido']);
      expect(proceso.errores()).toBe('');
    } finally {
      if (proceso.hijo.exitCode === null) proceso.hijo.kill('SIGKILL');
    }
  }, 60_000);
});

describe('main: trazas por OTLP', () => {
  let base: BaseDePrueba;
  beforeAll(async () => {
    base = await crearBaseDePrueba();
  });
  afterAll(async () => {
    await base?.cerrar();
  });

  it('con OTEL_EXPORTER_OTLP_ENDPOINT el proceso real exporta el span de POST /pagos (con sus consultas) al apagarse', async () => {
    // Un receptor OTLP/HTTP mínimo: guarda cada envío (protobuf; las cadenas van tal cual en los bytes).
    const envios: { ruta: string; tipo: string; cuerpo: Buffer }[] = [];
    const receptor = http.createServer((peticion, respuesta) => {
      const trozos: Buffer[] = [];
      peticion.on('data', (t: Buffer) => trozos.push(t));
      peticion.on('end', () => {
        envios.push({ ruta: peticion.url ?? '', tipo: String(peticion.headers['content-type']), cuerpo: Buffer.concat(trozos) });
        respuesta.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((listo) => receptor.listen(0, '127.0.0.1', listo));
    const { port } = receptor.address() as AddressInfo;
    const traza = '4bf92f3577b34da6a3ce929d0e0e4736';
    const proceso = arrancar({
      DATABASE_URL: base.url,
      PORT: '0',
      HOST: '127.0.0.1',
      API_ANONIMA_SOCIO: 'main-trazas',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    });
    try {
      const escuchando = await esperar(() => lineasJson(proceso.salida()).find((l) => l['msg'] === 'servicio iniciado'));
      const r = await fetch(`http://127.0.0.1:${String(escuchando['puerto'])}/pagos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traza}-00f067aa0ba902b7-01` },
        body: JSON.stringify({ id_afiliado: 'a-main', monto: 10, moneda: 'EUR', referencia_pago: 'MAIN-TRAZAS' }),
      });
      expect(r.status).toBe(200);
      proceso.hijo.kill('SIGTERM');
      expect(await proceso.fin).toBe(0);
      // Al apagarse exporta lo pendiente: el span servidor con su ruta, en la traza del cliente, y sus consultas.
      expect(envios.length).toBeGreaterThanOrEqual(1);
      expect(envios.every((e) => e.ruta === '/v1/traces' && e.tipo === 'application/x-protobuf')).toBe(true);
      const todo = Buffer.concat(envios.map((e) => e.cuerpo));
      expect(todo.includes('aeropartners-pagos-api')).toBe(true);
      expect(todo.includes('POST /pagos')).toBe(true);
      expect(todo.includes(Buffer.from(traza, 'hex'))).toBe(true);
      expect(todo.includes('postgresql')).toBe(true);
      expect(proceso.errores()).toBe('');
    } finally {
      if (proceso.hijo.exitCode === null) proceso.hijo.kill('SIGKILL');
      receptor.close();
    }
  }, 60_000);
});

describe('main: apagado con SHUTDOWN_DELAY_MS', () => {
  let base: BaseDePrueba;
  beforeAll(async () => {
    base = await crearBaseDePrueba();
  });
  afterAll(async () => {
    await base?.cerrar();
  });

  it('tras SIGTERM, /health/ready responde 503 mientras drena; el resto sigue atendiendo (sin modo anónimo: 401 sin clave); luego sale con 0', async () => {
    const proceso = arrancar({ DATABASE_URL: base.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_DELAY_MS: '3000' });
    try {
      const escuchando = await esperar(() => lineasJson(proceso.salida()).find((l) => l['msg'] === 'servicio iniciado'));
      const url = `http://127.0.0.1:${String(escuchando['puerto'])}`;
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
      expect(lineasJson(proceso.salida()).some((l) => String(l['msg']).startsWith('MODO ANÓNIMO'))).toBe(false);

      proceso.hijo.kill('SIGTERM');
      await esperar(() => lineasJson(proceso.salida()).find((l) => String(l['msg']).startsWith('apagando')));
      const listo = await fetch(`${url}/health/ready`);
      expect(listo.status).toBe(503);
      expect(listo.headers.get('content-type')).toBe('application/problem+json');
      expect(await listo.json()).toMatchObject({ status: 503, type: 'urn:aeropartners:pagos:problema:servicio-no-disponible' });
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const r = await fetch(`${url}/pagos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id_afiliado: 'a-main', monto: 5, moneda: 'EUR', referencia_pago: 'MAIN-DRENANDO' }),
      });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="aeropartners-pagos"');
      expect(proceso.hijo.exitCode).toBeNull();

      expect(await proceso.fin).toBe(0);
      expect(
        lineasJson(proceso.salida())
          .map((l) => l['msg'])
          .slice(-2),
      ).toEqual(['API detenida', 'servicio detenido']);
    } finally {
      if (proceso.hijo.exitCode === null) proceso.hijo.kill('SIGKILL');
    }
  }, 60_000);
});
