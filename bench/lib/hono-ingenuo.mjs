// Línea base «ingenua»: un handler Hono que hace BEGIN / INSERT pago / INSERT outbox / COMMIT por
// petición (4 viajes de ida y vuelta y un commit por pago), sin idempotencia (la clave única de la
// tabla sigue ahí, pero no se consulta ni se responde nada con ella), sin historial, sin validación
// más allá de lo mínimo y sin registro. Mismo PostgreSQL, mismo esquema, mismo generador de carga.
// Escucha en un puerto libre y lo anuncia por IPC como los servicios (`anunciarEscuchando` del kit).
// Uso: node hono-ingenuo.mjs DATABASE_URL POOL
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { anunciarEscuchando } from '@aeropartners/procesos';

const aqui = path.dirname(fileURLToPath(import.meta.url));
const requerirApi = createRequire(path.join(aqui, '../../services/api/package.json'));
const { Hono } = await import(requerirApi.resolve('hono'));
const { serve } = await import(requerirApi.resolve('@hono/node-server'));
const pg = (await import(createRequire(path.join(aqui, '../../packages/adaptadores/package.json')).resolve('pg'))).default;

const [url, tamanoPool] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: Number(tamanoPool) });
const app = new Hono();
app.get('/health/ready', (c) => c.json({ status: 'ready' }));
app.post('/pagos', async (c) => {
  const cuerpo = await c.req.json();
  const id = randomUUID();
  const cliente = await pool.connect();
  try {
    await cliente.query('BEGIN');
    await cliente.query(
      `INSERT INTO pagos (id, id_socio, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version, fecha_creacion, fecha_actualizacion)
       VALUES ($1, 'default', $2, $3, $4, $5, $2, 'PENDIENTE', 1, now(), now())`,
      [id, cuerpo.referencia_pago, cuerpo.id_afiliado, Math.round(cuerpo.monto * 100), cuerpo.moneda],
    );
    await cliente.query(
      `INSERT INTO outbox (id_evento, id_agregado, version_agregado, tipo, payload, metadatos) VALUES ($1, $2, 1, 'PagoPendiente', $3, '{}')`,
      [randomUUID(), id, JSON.stringify(cuerpo)],
    );
    await cliente.query('COMMIT');
  } catch (error) {
    await cliente.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    cliente.release();
  }
  return c.json({ id_pago: id, estado: 'PENDIENTE' });
});
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => anunciarEscuchando('hono-ingenuo', info.port));
process.on('SIGTERM', () => pool.end().finally(() => process.exit(0)));
