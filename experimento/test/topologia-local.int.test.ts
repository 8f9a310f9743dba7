import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { esperarQue } from '@aeropartners/procesos';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopologiaLocal } from '../src/topologia-local.js';

/**
 * La topología local de verdad (el supervisor de `pnpm start` con su PostgreSQL embebido, 2 relays y un
 * consumidor): el relay líder se reconoce por quién publica, no por su número; matarlo pasa el cerrojo
 * al de reserva, que sigue publicando; y una caída de PostgreSQL (SIGKILL al postmaster) se recupera.
 */
const RAIZ = fileURLToPath(new URL('../../', import.meta.url));

let carpeta: string;
let t: TopologiaLocal | undefined;
let pool: pg.Pool;

beforeAll(async () => {
  for (const script of ['scripts/start.mjs', 'packages/procesos/dist/supervisor/index.js', 'services/outbox/dist/main.js']) {
    if (!existsSync(path.join(RAIZ, script))) throw new Error(`Falta ${script}: pnpm build`);
  }
  carpeta = mkdtempSync(path.join(tmpdir(), 'experimento-topologia-'));
  chmodSync(carpeta, 0o755); // como root, PostgreSQL corre como el usuario «postgres»
  t = await TopologiaLocal.arrancar(RAIZ, {
    carpeta,
    registro: path.join(carpeta, 'servicios.log'),
    decir: () => undefined,
    // Esta prueba es de relays y de PostgreSQL, no de claves: la API en el modo anónimo explícito.
    entorno: {
      LOG_LEVEL: 'warn',
      API_INSTANCIAS: '1',
      RELAY_INSTANCIAS: '2',
      CONSUMIDOR_INSTANCIAS: '1',
      RELAY_SONDEO_MS: '100',
      API_ANONIMA_SOCIO: 'experimento-topologia',
    },
  });
  pool = new pg.Pool({ connectionString: t.databaseUrl, max: 2 });
  pool.on('error', () => undefined);
}, 180_000);

afterAll(async () => {
  await pool?.end();
  await t?.parar();
  if (carpeta) rmSync(carpeta, { recursive: true, force: true });
}, 90_000);

const publicados = async (numero: number) => (await t?.contadores('outbox', numero))?.contadores['publicados'] ?? 0;

async function crearPagos(n: number, prefijo: string): Promise<void> {
  const url = t?.urlApi;
  for (let i = 0; i < n; i += 1) {
    const r = await fetch(`${url}/pagos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id_afiliado: 'afiliado-1', monto: 10.5, moneda: 'USD', referencia_pago: `${prefijo}-${i}` }),
    });
    await r.arrayBuffer();
    expect(r.status).toBe(200);
  }
}

describe('topología local del experimento', () => {
  it('reconoce al relay líder por el cerrojo, lo mata y el de reserva toma el relevo y publica', async () => {
    const topologia = t as TopologiaLocal;
    expect(topologia.instancias('outbox').map((i) => i.numero)).toEqual([1, 2]);
    const lider = await topologia.liderRelay(pool);
    expect(lider).toBeDefined();
    const reserva = lider?.numero === 1 ? 2 : 1;

    // El reconocido como líder es el que publica; el otro no publica nada.
    await crearPagos(10, 'antes');
    await esperarQue(async () => (await publicados(lider?.numero ?? 0)) >= 10, {
      tiempoMs: 30_000,
      descripcion: 'el líder publica los 10 PagoPendiente',
    });
    expect(await publicados(reserva)).toBe(0);

    const relevo = await topologia.matarLiderRelay(pool);
    expect(relevo.instancia).toBe(lider?.numero);
    expect(relevo.pid).toBe(lider?.pid);
    expect(relevo.relevo).toBe(reserva);
    expect((await topologia.liderRelay(pool))?.numero).toBe(reserva);
    await crearPagos(10, 'despues');
    await esperarQue(async () => (await publicados(reserva)) >= 10, {
      tiempoMs: 30_000,
      descripcion: 'el relevo publica los 10 PagoPendiente nuevos',
    });
    // El muerto volvió (otro pid), en reserva.
    const relanzado = topologia.instancias('outbox').find((i) => i.numero === lider?.numero);
    expect(relanzado?.pid).not.toBe(lider?.pid);
  }, 120_000);

  it('SIGKILL al postmaster: el supervisor anota la caída, arranca otro y todo vuelve a estar listo', async () => {
    const topologia = t as TopologiaLocal;
    const antes = topologia.procesos();
    const r = await topologia.matarPostgres();
    expect(r.pid).toBe(antes.postgresPid);
    const despues = topologia.procesos();
    expect(despues.postgresCaidas).toBe(antes.postgresCaidas + 1);
    expect(despues.postgresPid).not.toBe(antes.postgresPid);
    expect(await topologia.todasListas()).toBe(true);
    await crearPagos(3, 'tras-la-caida');
  }, 240_000);
});
