// Generador del par de bench:e2e: encola exactamente N trabajos desnudos de graphile-worker con C
// clientes concurrentes, un `addJob` (una transacción) por trabajo, en bucle cerrado como las peticiones
// de enviar-pagos.mjs. Al acabar manda su resultado al padre por IPC (`{ tipo: 'encolados', … }`;
// `inicioMs`, reloj del sistema, marca el primer `addJob`) y espera `{ tipo: 'fin' }` para cerrar sus
// conexiones: así el padre puede atribuirle la CPU de sus backends de PostgreSQL antes de que terminen.
// Uso: node graphile-encolar.mjs DATABASE_URL C N POOL
import { Logger, makeWorkerUtils } from 'graphile-worker';

const [url, concurrencia, total, pool] = process.argv.slice(2).map((x, i) => (i === 0 ? x : Number(x)));
const logger = new Logger(() => (nivel, mensaje) => {
  if (nivel === 'error' || nivel === 'warning') process.stderr.write(`[graphile-worker] ${mensaje}\n`);
});
const utils = await makeWorkerUtils({ connectionString: url, maxPoolSize: pool, logger });
let siguiente = 0;
let aceptados = 0;
let errores = 0;
const ejemplos = [];
const cpuInicio = process.cpuUsage();
const inicioMs = Date.now();
const inicio = performance.now();
await Promise.all(
  Array.from({ length: concurrencia }, async () => {
    while (siguiente < total) {
      siguiente += 1;
      const n = siguiente;
      try {
        await utils.addJob('desnudo', { n });
        aceptados += 1;
      } catch (error) {
        errores += 1;
        if (ejemplos.length < 3) ejemplos.push(String(error));
      }
    }
  }),
);
const segundos = (performance.now() - inicio) / 1000;
const cpu = process.cpuUsage(cpuInicio);
const fin = new Promise((resolver) => process.on('message', (m) => m?.tipo === 'fin' && resolver()));
process.send({
  tipo: 'encolados',
  aceptados,
  errores,
  ejemplos,
  segundos,
  porSegundo: aceptados / segundos,
  inicioMs,
  cpuSegundos: (cpu.user + cpu.system) / 1e6,
});
await fin;
await utils.release();
process.disconnect();
