import { crearBaseDePrueba } from '@aeropartners/adaptadores/testing';
import pg from 'pg';
import { expect, it } from 'vitest';
import { crearBrokerEmbebido } from '../broker-embebido/index-broker-embebido.js';
import { crearPersistenciaPostgres } from './persistencia-postgres.js';

/**
 * Regresión hallada por `pnpm experimento` al reiniciar PostgreSQL: `pg-pool` solo escucha 'error' en
 * las conexiones ociosas, así que una conexión PRESTADA que el servidor cortaba entre dos sentencias
 * emitía un 'error' sin oyente y tumbaba el proceso (el consumidor salía con código 1).
 */

async function cortar(url: string, pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await admin.end();
  }
}

async function hasta(condicion: () => boolean): Promise<void> {
  const limite = Date.now() + 10_000;
  while (!condicion()) {
    if (Date.now() > limite) throw new Error('tiempo agotado');
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('una conexión prestada que PostgreSQL corta no tumba el proceso: se avisa, se descarta y el pool sigue', async () => {
  const base = await crearBaseDePrueba();
  const errores: Error[] = [];
  const persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 2, alErrorDeConexion: (e) => errores.push(e) });
  try {
    const cliente = await persistencia.pool.connect();
    const { rows } = await cliente.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await cortar(base.url, rows[0]?.pid as number);
    await hasta(() => errores.length > 0);
    await expect(cliente.query('SELECT 1')).rejects.toThrow();
    cliente.release();
    const { rows: despues } = await persistencia.pool.query<{ uno: number }>('SELECT 1 AS uno');
    expect(despues[0]?.uno).toBe(1);
  } finally {
    await persistencia.cerrar();
    await base.cerrar();
  }
});

it('lo mismo en el pool propio del broker embebido', async () => {
  const base = await crearBaseDePrueba();
  const errores: Error[] = [];
  const broker = await crearBrokerEmbebido({
    url: base.url,
    topico: 'pagos',
    suscripciones: ['s'],
    tamanoPool: 2,
    alError: (e) => errores.push(e),
  });
  // El pool es privado del broker: se toma una conexión de él como lo haría una transacción suya.
  const pool = (broker as unknown as { opciones: { pool: pg.Pool } }).opciones.pool;
  try {
    const cliente = await pool.connect();
    const { rows } = await cliente.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await cortar(base.url, rows[0]?.pid as number);
    await hasta(() => errores.some((e) => /en uso/.test(e.message)));
    cliente.release();
    expect((await pool.query<{ uno: number }>('SELECT 1 AS uno')).rows[0]?.uno).toBe(1);
  } finally {
    await broker.cerrar();
    await base.cerrar();
  }
});
