import { randomUUID } from 'node:crypto';
import {
  PostgresInboxPagos, PostgresTurnosCobro, configuracionBarrendero, crearLogger, crearPersistenciaPostgres, crearRegistroMetricas,
  disponibleSi, ejecutarServicio, exponerMetricas, iniciarBarrendero, iniciarServidorSalud, leerConfiguracionOSalir, medirManejador,
  medirPasarela, registrarMetricasConsumidor, saludDelBroker, uuidv7,
} from '@aeropartners/adaptadores';
import { crearManejadorEventos } from '@aeropartners/aplicacion';
import { comprobarEsquema, crearBroker, crearPasarela } from './broker-y-pasarela.js';
import { crearConsumidorPagos } from './app.js';
import { EsquemaConfiguracion, reglasCruzadas } from './config.js';

const SERVICIO = 'aeropartners-pagos-consumer';
const config = leerConfiguracionOSalir(EsquemaConfiguracion, reglasCruzadas);
const logger = crearLogger({ servicio: SERVICIO, nivel: config.LOG_LEVEL });
// Con el broker embebido todo vive en la misma base: el WAL lineal hace seguro el commit asíncrono (ver la opción).
const persistencia = crearPersistenciaPostgres({ url: config.DATABASE_URL, tamanoPool: config.PG_POOL_SIZE, nombreAplicacion: SERVICIO, commitAsincrono: config.PULSAR_URL === undefined });

await ejecutarServicio({
  logger,
  alFallarArranque: () => persistencia.cerrar(),
  async arrancar() {
    await comprobarEsquema(persistencia.pool);
    const broker = await crearBroker(config, (error) => logger.error({ err: error }, 'fallo de fondo del broker embebido'));
    const suscripcion = await broker.suscribir({ suscripcion: config.CONSUMIDOR_SUSCRIPCION, maximoEntregas: config.BROKER_MAXIMO_ENTREGAS, retrasoReentregaMs: config.BROKER_RETRASO_REENTREGA_MS });
    const pasarela = await crearPasarela(config, persistencia.pool);
    const metricas = crearRegistroMetricas({ servicio: SERVICIO });
    const consumidor = crearConsumidorPagos({
      suscripcion, enVuelo: config.CONSUMIDOR_EN_VUELO, logger,
      crearManejador: ({ alReintentar }) => medirManejador(metricas, crearManejadorEventos({
        suscripcion: config.CONSUMIDOR_SUSCRIPCION, repositorio: persistencia.repositorio, inbox: new PostgresInboxPagos(persistencia.pool),
        pasarela: medirPasarela(metricas, pasarela.pasarela), turnos: new PostgresTurnosCobro(persistencia.pool, persistencia.repositorio), titular: randomUUID(),
        duracionTurnoMs: config.CONSUMIDOR_TURNO_COBRO_MS, reloj: { ahora: () => new Date() }, nuevoId: uuidv7,
        intentosPasarela: config.PASARELA_INTENTOS, backoffPasarelaMs: config.PASARELA_BACKOFF_MS, alReintentar,
      })),
    });
    const contadoresBroker = 'contadores' in broker ? (broker.contadores as { leasesPerdidos: number; operacionesSinLease: number }) : undefined;
    registrarMetricasConsumidor(metricas, { consumidor: consumidor.contadores, repeticionesPasarela: pasarela.repeticionesAbsorbidas, broker: contadoresBroker });
    const barrido = configuracionBarrendero(config);
    const barrendero = barrido.activo ? iniciarBarrendero({ pool: persistencia.pool, logger: logger.child({ componente: 'barrendero' }), ...barrido, metricas }) : undefined;
    const salud = await iniciarServidorSalud({
      servicio: SERVICIO, puerto: config.PUERTO_SALUD, metricas: () => exponerMetricas(metricas),
      comprobarDisponible: disponibleSi(() => persistencia.comprobarSalud(), saludDelBroker(broker)),
      contadores: () => ({ ...consumidor.contadores(), ...pasarela.contadores(), broker_leases_perdidos: contadoresBroker?.leasesPerdidos ?? 0 }),
    });
    consumidor.iniciar();
    return {
      campos: { suscripcion: config.CONSUMIDOR_SUSCRIPCION, en_vuelo: config.CONSUMIDOR_EN_VUELO, pasarela: config.PASARELA, broker: config.PULSAR_URL ? 'pulsar' : 'embebido', puerto_salud: salud.puerto },
      terminado: consumidor.terminado(),
      async detener() {
        logger.info({ retenidos: consumidor.retenidos() }, 'apagando: no se toman mensajes nuevos; se terminan los retenidos');
        await consumidor.detener({ tiempoMaximoMs: config.SHUTDOWN_TIMEOUT_MS });
        await Promise.all([barrendero?.detener(), pasarela.detener()]);
        await broker.cerrar().catch((error: unknown) => logger.error({ err: error }, 'error al cerrar el broker'));
        await salud.cerrar();
        await persistencia.cerrar();
        logger.info({ ...consumidor.contadores() }, 'consumidor detenido');
      },
    };
  },
});
