// El par de bench:e2e: un proceso de graphile-worker que ejecuta trabajos desnudos (la tarea `desnudo`
// no hace nada) con sus ajustes para carga continua: N trabajos concurrentes, cola local (`localQueue`:
// toma los trabajos por lotes) y completado por lotes (`completeJobBatchDelay`). Instala o pone al día
// su esquema al arrancar; después dice `{ tipo: 'listo' }` al padre por IPC. SIGTERM: parada ordenada.
// Uso: node graphile-trabajador.mjs DATABASE_URL CONCURRENCIA COLA_LOCAL LOTE_MS POOL
import { Logger, run } from 'graphile-worker';

const [url, concurrencia, colaLocal, loteMs, pool] = process.argv.slice(2).map((x, i) => (i === 0 ? x : Number(x)));
// Sin una línea por trabajo (el registro por defecto escribe cada uno): solo avisos y errores.
const logger = new Logger(() => (nivel, mensaje) => {
  if (nivel === 'error' || nivel === 'warning') process.stderr.write(`[graphile-worker] ${mensaje}\n`);
});
const runner = await run({
  connectionString: url,
  concurrency: concurrencia,
  maxPoolSize: pool,
  noHandleSignals: true,
  logger,
  taskList: { desnudo: async () => undefined },
  preset: {
    worker: {
      localQueue: colaLocal > 1 ? { size: colaLocal } : undefined,
      completeJobBatchDelay: loteMs,
      failJobBatchDelay: loteMs,
    },
  },
});
process.once('SIGTERM', () => {
  runner.stop().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`[graphile-worker] parada: ${error}\n`);
      process.exit(1);
    },
  );
});
process.send?.({ tipo: 'listo' });
await runner.promise;
