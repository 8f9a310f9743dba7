import { randomBytes } from 'node:crypto';
import { probarContratoMensajesMuertos } from '@aeropartners/contratos';
import pg from 'pg';
import { afterAll } from 'vitest';
import { crearBaseDePrueba, type BaseDePrueba } from '../testing/index.js';
import { PostgresAdministracionMuertos } from './administracion-muertos.js';
import { crearBrokerEmbebido } from './index-broker-embebido.js';

// La administración de mensajes muertos del broker embebido contra PostgreSQL real: una base para el
// fichero y un tópico nuevo por caso. Cada administración tiene su propio pool, como otro proceso.

let base: Promise<BaseDePrueba> | undefined;
const pools: pg.Pool[] = [];
afterAll(async () => {
  for (const p of pools) await p.end().catch(() => undefined);
  await (await base)?.cerrar();
});

probarContratoMensajesMuertos('broker embebido (PostgreSQL)', async () => {
  base ??= crearBaseDePrueba();
  const { url } = await base;
  const topico = `muertos-${randomBytes(4).toString('hex')}`;
  const broker = await crearBrokerEmbebido({ url, topico, tamanoPool: 3, intervaloSondeoMs: 20, alError: () => undefined });
  const administracionSobre = async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pools.push(pool);
    return new PostgresAdministracionMuertos({ pool, topico });
  };
  return { broker, administracion: await administracionSobre(), otraAdministracion: administracionSobre };
});
