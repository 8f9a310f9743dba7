import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iniciarPostgresEmbebido, type PostgresEmbebido } from './postgres-embebido.js';

let carpeta: string;
const abiertos: PostgresEmbebido[] = [];

beforeAll(async () => {
  carpeta = await mkdtemp(join(tmpdir(), 'aeropartners-embebido-'));
  await chmod(carpeta, 0o755); // como root, el servidor corre como `postgres`
});

afterAll(async () => {
  for (const servidor of abiertos) await servidor.detener().catch(() => undefined);
  await rm(carpeta, { recursive: true, force: true });
});

async function puertoLibre(): Promise<number> {
  const servidor = createServer();
  await new Promise<void>((r) => servidor.listen(0, '127.0.0.1', r));
  const direccion = servidor.address();
  await new Promise((r) => servidor.close(r));
  return typeof direccion === 'object' && direccion ? direccion.port : 0;
}

async function iniciar(directorio: string, log: string[] = []) {
  const servidor = await iniciarPostgresEmbebido({ directorio, puerto: await puertoLibre(), onLog: (m) => log.push(m) });
  abiertos.push(servidor);
  return servidor;
}

async function consultar<F>(url: string, texto: string): Promise<F[]> {
  const cliente = new pg.Client({ connectionString: url });
  await cliente.connect();
  try {
    return (await cliente.query(texto)).rows as F[];
  } finally {
    await cliente.end();
  }
}

function vivo(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function esperarMuerte(pid: number) {
  for (let i = 0; i < 200 && vivo(pid); i += 1) await new Promise((r) => setTimeout(r, 50));
  expect(vivo(pid)).toBe(false);
}

async function pidDelPostmaster(directorio: string): Promise<number> {
  return Number.parseInt((await readFile(join(directorio, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '', 10);
}

describe('iniciarPostgresEmbebido', () => {
  it('inicializa una vez y conserva los datos entre arranques', async () => {
    const datos = join(carpeta, 'persistente');
    const primerLog: string[] = [];
    const primero = await iniciar(datos, primerLog);
    expect(primerLog.join('\n')).toContain('Inicializando un clúster nuevo');
    await consultar(primero.url, 'CREATE TABLE recuerdo (valor text); INSERT INTO recuerdo VALUES ($$sigue aquí$$)');
    await primero.detener();
    await primero.detener(); // idempotente

    const segundoLog: string[] = [];
    const segundo = await iniciar(datos, segundoLog);
    expect(segundoLog.join('\n')).not.toContain('Inicializando');
    expect(await consultar(segundo.url, 'SELECT valor FROM recuerdo')).toEqual([{ valor: 'sigue aquí' }]);
    const [ajustes] = await consultar<Record<string, string>>(
      segundo.url,
      "SELECT current_setting('max_connections') AS max_connections, current_setting('shared_buffers') AS shared_buffers, current_setting('fsync') AS fsync",
    );
    expect(ajustes).toEqual({ max_connections: '200', shared_buffers: '256MB', fsync: 'on' });
    await segundo.detener();
  });

  it('arranca tras un kill -9 del postmaster (postmaster.pid obsoleto) sin perder lo confirmado', async () => {
    const datos = join(carpeta, 'persistente');
    const servidor = await iniciar(datos);
    await consultar(servidor.url, "INSERT INTO recuerdo VALUES ('antes del kill')");
    const pid = await pidDelPostmaster(datos);
    process.kill(pid, 'SIGKILL');
    await esperarMuerte(pid);

    const otra = await iniciar(datos);
    expect(await consultar(otra.url, 'SELECT valor FROM recuerdo ORDER BY valor')).toEqual([
      { valor: 'antes del kill' },
      { valor: 'sigue aquí' },
    ]);
    await otra.detener();
  });

  it('para un PostgreSQL huérfano sobre la misma carpeta (su proceso padre murió) y arranca', async () => {
    const datos = join(carpeta, 'persistente');
    const servidor = await iniciar(datos);
    const pid = await pidDelPostmaster(datos);
    const binario = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0]!;
    await servidor.detener();
    // Un postmaster lanzado por un shell que termina enseguida: queda huérfano, como tras matar al Node que lo lanzó.
    const puertoHuerfano = await puertoLibre();
    const root = userInfo().uid === 0;
    const comando = `'${binario}' -D '${datos}' -p ${puertoHuerfano} -c listen_addresses=127.0.0.1 >/dev/null 2>&1 &`;
    const shell = root ? spawn('su', ['postgres', '-s', '/bin/sh', '-c', comando]) : spawn('/bin/sh', ['-c', comando]);
    await new Promise((r) => shell.on('exit', r));
    let huerfano = 0;
    for (let i = 0; i < 100 && !huerfano; i += 1) {
      await new Promise((r) => setTimeout(r, 50));
      huerfano = await pidDelPostmaster(datos).catch(() => 0);
    }
    expect(vivo(huerfano)).toBe(true);

    const log: string[] = [];
    const nuevo = await iniciar(datos, log);
    expect(log.join('\n')).toContain(`PostgreSQL huérfano (PID ${huerfano})`);
    expect(vivo(huerfano)).toBe(false);
    expect((await consultar<{ n: string }>(nuevo.url, 'SELECT count(*) AS n FROM recuerdo'))[0]?.n).toBe('2');
    await nuevo.detener();
  });

  it('con el puerto ocupado: un solo error claro en español', async () => {
    const ocupante: Server = createServer();
    await new Promise<void>((r) => ocupante.listen(0, '127.0.0.1', r));
    const puerto = (ocupante.address() as { port: number }).port;
    try {
      const datos = join(carpeta, 'persistente');
      await expect(iniciarPostgresEmbebido({ directorio: datos, puerto })).rejects.toThrow(
        `No se pudo iniciar PostgreSQL embebido (datos en ${datos}, puerto ${puerto}): el puerto ${puerto} ya está en uso`,
      );
    } finally {
      await new Promise((r) => ocupante.close(r));
    }
  });

  it('una carpeta con otros ficheros y sin clúster: no la toca y lo dice', async () => {
    const datos = join(carpeta, 'ajena');
    await mkdir(datos, { recursive: true });
    await writeFile(join(datos, 'importante.txt'), 'no borrar');
    await expect(iniciarPostgresEmbebido({ directorio: datos, puerto: await puertoLibre() })).rejects.toThrow(
      /^No se pudo iniciar PostgreSQL embebido \(datos en .*ajena, puerto \d+\): la carpeta no está vacía y no contiene un clúster/,
    );
    expect(await readFile(join(datos, 'importante.txt'), 'utf8')).toBe('no borrar');
  });
});
