#!/usr/bin/env node
// `pnpm start`: el supervisor de packages/procesos/src/supervisor (PostgreSQL embebido vigilado, N instancias
// de api, outbox y consumer, reinicios, .data/procesos.json). Aquí solo se le dan, ya compiladas, las
// piezas de PostgreSQL de @aeropartners/adaptadores: el kit de procesos no depende de los adaptadores.
// `kill -USR2 <supervisor>` (pid en .data/procesos.json) reinicia PostgreSQL en caliente.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const raiz = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { iniciarSupervisor } = await import(path.join(raiz, 'packages/procesos/dist/supervisor/index.js'));

await iniciarSupervisor({
  raiz,
  entorno: process.env,
  cargarPostgres: async () => {
    const { iniciarPostgresEmbebido } = await import(path.join(raiz, 'packages/adaptadores/dist/postgres-embebido.js'));
    const { migrarUrl } = await import(path.join(raiz, 'packages/adaptadores/dist/index.js'));
    return { iniciarPostgresEmbebido, migrarUrl };
  },
});
