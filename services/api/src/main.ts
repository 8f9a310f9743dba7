import { randomUUID } from 'node:crypto';
import {
  crearLogger,
  crearMetricasHttp,
  crearPersistenciaPostgres,
  crearRegistroMetricas,
  exponerMetricas,
  registrarPagosEnCurso,
  uuidv7,
} from '@aeropartners/adaptadores';
import { serve } from '@hono/node-server';
import { crearApp } from './app.js';
import { leerConfiguracion } from './config.js';
import { crearManejadores } from './manejadores.js';
import { NOMBRE_SERVICIO } from './openapi.js';
import { atenderErroresDeCliente } from './servidor.js';

const lectura = leerConfiguracion(process.env);
if (!lectura.ok) {
  process.stderr.write(`${lectura.mensaje}\n`);
  process.exit(1);
}
const config = lectura.config;
const logger = crearLogger({ servicio: NOMBRE_SERVICIO, nivel: config.LOG_LEVEL });
const persistencia = crearPersistenciaPostgres({
  url: config.DATABASE_URL,
  tamanoPool: config.PG_POOL_SIZE,
  enVueloMaximo: Math.min(config.PG_CREACIONES_EN_VUELO, config.PG_POOL_SIZE),
});
const metricas = crearRegistroMetricas({ servicio: NOMBRE_SERVICIO });
registrarPagosEnCurso(metricas, persistencia.pool);

let apagando = false;
const app = crearApp({
  manejadores: crearManejadores({ ...persistencia, reloj: { ahora: () => new Date() }, nuevoId: uuidv7 }),
  comprobarSalud: persistencia.comprobarSalud,
  logger,
  idSocioPorDefecto: config.ID_SOCIO_POR_DEFECTO,
  nuevoIdCorrelacion: randomUUID,
  metricas: { ...crearMetricasHttp(metricas), exponer: () => exponerMetricas(metricas) },
  capacidadCacheReplicas: config.IDEMPOTENCIA_CACHE_ENTRADAS,
  drenando: () => apagando,
});

const servidor = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (direccion) => {
  logger.info({ puerto: direccion.port, host: direccion.address }, 'API de pagos escuchando');
  // El puerto, por IPC a quien lanzó el proceso (supervisor, e2e): el anuncio de @aeropartners/procesos.
  process.send?.({ tipo: 'escuchando', servicio: NOMBRE_SERVICIO, puerto: direccion.port }, undefined, {}, () => undefined);
});
atenderErroresDeCliente(servidor, { nuevoIdCorrelacion: randomUUID, logger });
servidor.on('error', (error) => {
  logger.fatal({ err: error }, 'la API no pudo escuchar');
  void terminar(1);
});

/** Cierra el pool y deja que el proceso salga solo, para que el registro asíncrono termine de escribirse en orden. */
async function terminar(codigo: number) {
  await persistencia.cerrar().catch((causa: unknown) => logger.error({ err: causa }, 'error al cerrar el pool'));
  process.exitCode = codigo;
  setTimeout(() => process.exit(codigo), 2000).unref();
}

function apagar(senal: NodeJS.Signals) {
  if (apagando) return;
  apagando = true;
  logger.info({ senal, espera_ms: config.SHUTDOWN_DELAY_MS }, 'apagando: /health/ready responde 503; luego se cierra el puerto');
  setTimeout(cerrarPuerto, config.SHUTDOWN_DELAY_MS);
}

function cerrarPuerto() {
  logger.info({}, 'no se aceptan conexiones nuevas; se terminan las peticiones en curso');
  const forzar = setTimeout(() => {
    logger.warn({ tiempo_maximo_ms: config.SHUTDOWN_TIMEOUT_MS }, 'apagado forzado: peticiones sin terminar');
    if ('closeAllConnections' in servidor) servidor.closeAllConnections();
  }, config.SHUTDOWN_TIMEOUT_MS).unref();
  servidor.close(() => {
    clearTimeout(forzar);
    void terminar(0).then(() => logger.info({}, 'API detenida'));
  });
  if ('closeIdleConnections' in servidor) servidor.closeIdleConnections();
}
process.once('SIGTERM', apagar);
process.once('SIGINT', apagar);
