import { randomUUID } from 'node:crypto';
import { setTimeout as esperar } from 'node:timers/promises';
import {
  crearLogger,
  crearMetricasHttp,
  crearPersistenciaPostgres,
  crearRegistroMetricas,
  ejecutarServicio,
  exponerMetricas,
  leerConfiguracionOSalir,
  registrarPagosEnCurso,
  uuidv7,
} from '@aeropartners/adaptadores';
import { crearApp } from './app.js';
import { EsquemaConfiguracion } from './config.js';
import { crearManejadores } from './manejadores.js';
import { NOMBRE_SERVICIO } from './openapi.js';
import { escuchar } from './servidor.js';

const config = leerConfiguracionOSalir(EsquemaConfiguracion);
const logger = crearLogger({ servicio: NOMBRE_SERVICIO, nivel: config.LOG_LEVEL });
const persistencia = crearPersistenciaPostgres({
  url: config.DATABASE_URL,
  tamanoPool: config.PG_POOL_SIZE,
  enVueloMaximo: Math.min(config.PG_CREACIONES_EN_VUELO, config.PG_POOL_SIZE),
});

await ejecutarServicio({
  logger,
  alFallarArranque: () => persistencia.cerrar(),
  async arrancar() {
    const metricas = crearRegistroMetricas({ servicio: NOMBRE_SERVICIO });
    registrarPagosEnCurso(metricas, persistencia.pool);
    let drenando = false;
    const app = crearApp({
      manejadores: crearManejadores({ ...persistencia, reloj: { ahora: () => new Date() }, nuevoId: uuidv7 }),
      comprobarSalud: persistencia.comprobarSalud,
      logger,
      idSocioPorDefecto: config.ID_SOCIO_POR_DEFECTO,
      nuevoIdCorrelacion: randomUUID,
      metricas: { ...crearMetricasHttp(metricas), exponer: () => exponerMetricas(metricas) },
      capacidadCacheReplicas: config.IDEMPOTENCIA_CACHE_ENTRADAS,
      drenando: () => drenando,
    });
    const servidor = await escuchar(app.fetch, { puerto: config.PORT, host: config.HOST, nuevoIdCorrelacion: randomUUID, logger });
    // Provisional hasta la autenticación: el socio por defecto debe existir (la creación de pagos lo comprueba).
    // Sin base, el servicio arranca igual (y responde 503 hasta que vuelva).
    await persistencia.pool
      .query('INSERT INTO socios (id, nombre) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [config.ID_SOCIO_POR_DEFECTO])
      .catch((error: unknown) => logger.warn({ err: error }, 'no se pudo asegurar el socio por defecto'));
    // El puerto, por IPC a quien lanzó el proceso (supervisor, e2e): el anuncio de @aeropartners/procesos.
    process.send?.({ tipo: 'escuchando', servicio: NOMBRE_SERVICIO, puerto: servidor.puerto }, undefined, {}, () => undefined);
    return {
      campos: { puerto: servidor.puerto, host: servidor.host },
      terminado: servidor.fallo,
      async detener() {
        // Disponibilidad en 503 mientras el balanceador deja de enviar tráfico; luego se cierra el puerto.
        drenando = true;
        logger.info({ espera_ms: config.SHUTDOWN_DELAY_MS }, 'drenando: /health/ready responde 503 hasta cerrar el puerto');
        await esperar(config.SHUTDOWN_DELAY_MS);
        await servidor.cerrar(config.SHUTDOWN_TIMEOUT_MS);
        await persistencia.cerrar();
        logger.info({}, 'API detenida');
      },
    };
  },
});
