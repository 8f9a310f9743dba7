import { randomUUID } from 'node:crypto';
import {
  KyselyInboxPagos,
  PostgresTurnosCobro,
  crearLogger,
  crearPersistenciaPostgres,
  crearRegistroMetricas,
  disponibleSi,
  exponerMetricas,
  iniciarServidorSalud,
  medirManejador,
  medirPasarela,
  registrarMetricasConsumidor,
  saludDelBroker,
  uuidv7,
} from '@aeropartners/adaptadores';
import { crearManejadorEventos } from '@aeropartners/aplicacion';
import { comprobarEsquema, crearBroker, crearPasarela } from './adaptadores.js';
import { crearConsumidorPagos } from './app.js';
import { leerConfiguracion } from './config.js';

const SERVICIO = 'aeropartners-pagos-consumer';
const lectura = leerConfiguracion(process.env);
if (!lectura.ok) {
  process.stderr.write(`${lectura.mensaje}\n`);
  process.exit(1);
}
const config = lectura.config;
const logger = crearLogger({ servicio: SERVICIO, nivel: config.LOG_LEVEL });
const persistencia = crearPersistenciaPostgres({ url: config.DATABASE_URL, tamanoPool: config.PG_POOL_SIZE, nombreAplicacion: SERVICIO,
  // Con el broker embebido todo vive en la misma base: el WAL lineal hace seguro el commit asíncrono (ver la opción).
  commitAsincrono: config.PULSAR_URL === undefined,
});

const arranque = await (async () => {
  await comprobarEsquema(persistencia.pool);
  const broker = await crearBroker(config, (error) => logger.error({ err: error }, 'fallo de fondo del broker embebido'));
  const suscripcion = await broker.suscribir({
    suscripcion: config.CONSUMIDOR_SUSCRIPCION,
    maximoEntregas: config.BROKER_MAXIMO_ENTREGAS,
    retrasoReentregaMs: config.BROKER_RETRASO_REENTREGA_MS,
  });
  const { pasarela, contadores: contadoresPasarela } = await crearPasarela(config, persistencia.pool);
  const metricas = crearRegistroMetricas({ servicio: SERVICIO });
  const inbox = new KyselyInboxPagos(persistencia.pool);
  const consumidor = crearConsumidorPagos({
    suscripcion,
    enVuelo: config.CONSUMIDOR_EN_VUELO,
    logger,
    crearManejador: ({ alReintentar }) =>
      medirManejador(metricas, crearManejadorEventos({
        suscripcion: config.CONSUMIDOR_SUSCRIPCION,
        repositorio: persistencia.repositorio,
        inbox,
        pasarela: medirPasarela(metricas, pasarela),
        turnos: new PostgresTurnosCobro(persistencia.pool),
        titular: randomUUID(),
        duracionTurnoMs: config.CONSUMIDOR_TURNO_COBRO_MS,
        reloj: { ahora: () => new Date() },
        nuevoId: uuidv7,
        intentosPasarela: config.PASARELA_INTENTOS,
        backoffPasarelaMs: config.PASARELA_BACKOFF_MS,
        alReintentar,
      })),
  });
  registrarMetricasConsumidor(metricas, {
    consumidor: consumidor.contadores,
    repeticionesPasarela: config.PASARELA === 'simulada' ? () => contadoresPasarela()['pasarela_repeticionesAbsorbidas'] ?? 0 : undefined,
  });
  const salud = await iniciarServidorSalud({
    servicio: SERVICIO,
    puerto: config.PUERTO_SALUD,
    comprobarDisponible: disponibleSi(() => persistencia.comprobarSalud(), saludDelBroker(broker)),
    contadores: () => ({ ...consumidor.contadores(), ...contadoresPasarela() }),
    metricas: () => exponerMetricas(metricas),
  });
  return { broker, consumidor, salud };
})().catch(async (error: unknown) => {
  logger.fatal({ err: error }, 'el consumidor no pudo arrancar');
  await persistencia.cerrar().catch(() => undefined);
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 2000).unref();
  return undefined;
});

if (arranque) {
  const { broker, consumidor, salud } = arranque;
  consumidor.iniciar();
  const { CONSUMIDOR_SUSCRIPCION: suscripcion, CONSUMIDOR_EN_VUELO: en_vuelo, PASARELA: pasarela } = config;
  logger.info({ suscripcion, en_vuelo, pasarela, broker: config.PULSAR_URL ? 'pulsar' : 'embebido', puerto_salud: salud.puerto }, 'consumidor iniciado');

  let apagando = false;
  const apagar = async (motivo: string, codigo: number) => {
    if (apagando) return;
    apagando = true;
    logger.info({ motivo, retenidos: consumidor.retenidos() }, 'apagando: no se toman mensajes nuevos; se terminan los retenidos');
    await consumidor.detener({ tiempoMaximoMs: config.SHUTDOWN_TIMEOUT_MS });
    await broker.cerrar().catch((error: unknown) => logger.error({ err: error }, 'error al cerrar el broker'));
    await salud.cerrar();
    await persistencia.cerrar().catch((error: unknown) => logger.error({ err: error }, 'error al cerrar el pool'));
    logger.info({ ...consumidor.contadores() }, 'consumidor detenido');
    process.exitCode = codigo;
    setTimeout(() => process.exit(codigo), 2000).unref();
  };
  void consumidor.terminado().then(() => apagar('la suscripción se cerró sin que se pidiera', 1));
  process.once('SIGTERM', () => void apagar('SIGTERM', 0));
  process.once('SIGINT', () => void apagar('SIGINT', 0));
}
