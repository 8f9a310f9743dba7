import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrarHastaLaUltima } from '../postgres/migrar.js';
import { iniciarPostgresEmbebido } from '../postgres/postgres-embebido.js';
import { validarUrlPostgres } from '../postgres/url-postgres.js';
import { urlConBase } from './url-con-base.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL de un superusuario (o un usuario con CREATEDB) del PostgreSQL de los tests. */
    urlPostgresAdmin: string;
    /** Base de datos ya migrada que sirve de plantilla para `crearBaseDePrueba`. */
    plantillaPostgres: string;
  }
}

/**
 * `globalSetup` de vitest para los tests de integración: usa `DATABASE_URL` si está definida (el
 * usuario necesita CREATEDB) o arranca un PostgreSQL embebido en una carpeta temporal y un puerto
 * libre (sin fsync: es desechable; con `PGDATA_TEST` se guarda en esa carpeta y se reutiliza).
 * Crea una base plantilla migrada y publica `urlPostgresAdmin` y `plantillaPostgres` para
 * `crearBaseDePrueba`. Devuelve el desmontaje (borra la plantilla y para el servidor).
 *
 * ```ts
 * // test/global-setup.ts
 * import type { TestProject } from 'vitest/node';
 * import { iniciarPostgresParaTests } from '@aeropartners/adaptadores/testing';
 * export default (project: TestProject) => iniciarPostgresParaTests(project);
 * ```
 */
export async function iniciarPostgresParaTests(project: TestProject): Promise<() => Promise<void>> {
  const tareasDeCierre: (() => Promise<void>)[] = [];
  const cerrarTodo = async () => {
    for (const tarea of tareasDeCierre.reverse()) await tarea().catch(() => undefined);
  };
  try {
    const urlAdmin = await obtenerServidor(tareasDeCierre);
    const plantilla = `plantilla_pagos_${process.pid}_${randomBytes(4).toString('hex')}`;
    await crearPlantilla(urlAdmin, plantilla);
    tareasDeCierre.push(() => ejecutarComoAdmin(urlAdmin, `DROP DATABASE IF EXISTS "${plantilla}" WITH (FORCE)`));
    project.provide('urlPostgresAdmin', urlAdmin);
    project.provide('plantillaPostgres', plantilla);
    return cerrarTodo;
  } catch (error) {
    await cerrarTodo();
    throw error;
  }
}

async function obtenerServidor(tareasDeCierre: (() => Promise<void>)[]): Promise<string> {
  const externa = process.env.DATABASE_URL;
  if (externa !== undefined && externa !== '') {
    const url = validarUrlPostgres(externa);
    if (!url.ok) throw new Error(`DATABASE_URL inválida: ${url.error}`);
    return url.valor;
  }
  const guardada = process.env.PGDATA_TEST;
  let carpeta: string;
  if (guardada) {
    carpeta = resolve(guardada);
    await mkdir(carpeta, { recursive: true });
  } else {
    carpeta = await mkdtemp(join(tmpdir(), 'aeropartners-pg-'));
    // Como root, el servidor corre como el usuario `postgres`, que debe poder entrar en la carpeta.
    await chmod(carpeta, 0o755);
    tareasDeCierre.push(() => rm(carpeta, { recursive: true, force: true }));
  }
  for (let intento = 1; ; intento += 1) {
    const puerto = await puertoLibre();
    try {
      const servidor = await iniciarPostgresEmbebido({
        directorio: join(carpeta, 'datos'),
        puerto,
        sinDurabilidad: true,
      });
      tareasDeCierre.push(() => servidor.detener());
      return servidor.url;
    } catch (error) {
      // Otro proceso pudo tomar el puerto entre la comprobación y el arranque.
      if (intento < 3 && error instanceof Error && error.message.includes('ya está en uso')) continue;
      throw error;
    }
  }
}

async function crearPlantilla(urlAdmin: string, plantilla: string): Promise<void> {
  await ejecutarComoAdmin(urlAdmin, `CREATE DATABASE "${plantilla}"`);
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: urlConBase(urlAdmin, plantilla), max: 1 }) }),
  });
  try {
    await migrarHastaLaUltima(db);
  } finally {
    await db.destroy();
  }
}

export async function ejecutarComoAdmin(urlAdmin: string, sentencia: string): Promise<void> {
  const cliente = new pg.Client({ connectionString: urlAdmin });
  await cliente.connect();
  try {
    await cliente.query(sentencia);
  } finally {
    await cliente.end();
  }
}

function puertoLibre(): Promise<number> {
  return new Promise((resolver, rechazar) => {
    const servidor = createServer();
    servidor.unref();
    servidor.on('error', rechazar);
    servidor.listen(0, '127.0.0.1', () => {
      const direccion = servidor.address();
      const puerto = typeof direccion === 'object' && direccion ? direccion.port : 0;
      servidor.close(() => resolver(puerto));
    });
  });
}
