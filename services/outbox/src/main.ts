import {
  PostgresAlmacenOutbox,
  LiderRelay,
  crearBrokerEmbebido,
  crearBrokerPulsar,
  crearLogger,
  crearPersistenciaPostgres,
  crearRegistroMetricas,
  disponibleSi,
  exponerMetricas,
  iniciarServidorSalud,
  leerConfiguracionOSalir,
  registrarMetricasRelay,
  registrarOutbox,
  saludDelBroker,
} from '@aeropartners/adaptadores';
import { crearServicioRelay } from './app.js';
import { EsquemaConfiguracionRelay } from './config.js';

const config = leerConfiguracionOSalir(EsquemaConfiguracionRelay);
const logger = crearLogger({ servicio: 'aeropartners-pagos-outbox', nivel: config.LOG_LEVEL });
const persistencia = crearPersistenciaPostgres({ url: config.DATABASE_URL, tamanoPool: config.PG_POOL_SIZE, nombreAplicacion: 'aeropartners-outbox' });
const broker = config.PULSAR_URL
  ? await crearBrokerPulsar({ url: config.PULSAR_URL, topico: config.BROKER_TOPICO, mensajesPendientesMaximos: Math.max(1_000, config.RELAY_LOTE) })
  : await crearBrokerEmbebido({
      url: config.DATABASE_URL,
      topico: config.BROKER_TOPICO,
      suscripciones: config.BROKER_SUSCRIPCIONES.split(','),
      duplicarEntregas: config.BROKER_DUPLICAR_ENTREGAS,
      nombreAplicacion: 'aeropartners-outbox:broker',
    });

const servicio = crearServicioRelay({
  almacen: new PostgresAlmacenOutbox(persistencia.pool),
  // Solo tras ganar el liderazgo: un relay en reserva no ocupa el nombre del productor.
  crearPublicador: () => broker.crearPublicador(config.RELAY_PRODUCTOR),
  logger,
  tamanoLote: config.RELAY_LOTE,
  intervaloSondeoMs: config.RELAY_SONDEO_MS,
  esperaAcumularMs: config.RELAY_ACUMULAR_MS,
  backoffBaseMs: config.RELAY_BACKOFF_BASE_MS,
  backoffMaximoMs: config.RELAY_BACKOFF_MAX_MS,
  antesDeMarcar: (filas, lote) => {
    if (config.RELAY_MORIR_TRAS_PUBLICAR > 0 && lote >= config.RELAY_MORIR_TRAS_PUBLICAR) {
      logger.warn({ lote, filas: filas.length }, 'inyección de fallos: SIGKILL entre publicar y marcar');
      process.kill(process.pid, 'SIGKILL');
    }
  },
  esperarLiderazgo: (senal) =>
    LiderRelay.esperar(
      {
        url: config.DATABASE_URL,
        claveCerrojo: config.RELAY_CERROJO,
        canal: 'outbox_nuevo',
        intervaloEsperaMs: 1000,
        intervaloLatidoMs: config.RELAY_LATIDO_MS,
        alPerder: (error) => {
          logger.error({ err: error }, 'liderazgo del relay perdido (conexión, latido o época): el relay se detiene (el supervisor lo reinicia)');
          void apagar('liderazgo perdido', 1);
        },
      },
      senal,
      () => logger.info({ cerrojo: config.RELAY_CERROJO }, 'otro relay está activo: este espera en reserva'),
    ),
});

const metricas = crearRegistroMetricas({ servicio: 'aeropartners-pagos-outbox' });
registrarOutbox(metricas, persistencia.pool);
registrarMetricasRelay(metricas, { relay: servicio.contadores, broker: 'contadores' in broker ? broker.contadores : undefined });

const salud = await iniciarServidorSalud({
  servicio: 'aeropartners-pagos-outbox',
  puerto: config.PUERTO_SALUD,
  comprobarDisponible: disponibleSi(() => persistencia.comprobarSalud(), saludDelBroker(broker), async () => !servicio.enAlarma()),
  metricas: () => exponerMetricas(metricas),
  // Duplicados absorbidos en la etapa outbox → broker: republicaciones descartadas por (productor, secuencia).
  contadores: () => ({
    ...servicio.contadores(),
    ...('contadores' in broker ? { broker_descartados_por_duplicado: broker.contadores.descartadosPorDuplicado, broker_duplicados_inyectados: broker.contadores.duplicadosInyectados } : {}),
  }),
});
logger.info({ productor: config.RELAY_PRODUCTOR, broker: config.PULSAR_URL ? 'pulsar' : 'embebido', puerto_salud: salud.puerto }, 'relay del outbox iniciado');

const ejecucion = servicio.ejecutar().then(
  (fin) => {
    // En alarma el proceso sigue vivo y no disponible (503), con la alarma en /metrics, hasta que un operador actúe.
    if (fin?.tipo === 'sinLiderazgo') {
      logger.error({ cerrojo: config.RELAY_CERROJO }, 'otro relay tiene la época de liderazgo: este deja de publicar y se detiene (el supervisor lo relanza en reserva)');
      void apagar('liderazgo perdido', 1);
    }
  },
  (error: unknown) => {
    logger.fatal({ err: error }, 'el relay falló');
    void apagar('error', 1);
  },
);

let apagando = false;
async function apagar(motivo: string, codigo: number) {
  if (apagando) return;
  apagando = true;
  logger.info({ motivo }, 'apagando: se termina el lote en curso');
  await servicio.detener(ejecucion);
  await broker.cerrar().catch(() => undefined);
  await salud.cerrar();
  await persistencia.cerrar();
  logger.info({ ...servicio.contadores() }, 'relay detenido');
  process.exitCode = codigo;
  setTimeout(() => process.exit(codigo), 2000).unref();
}
process.once('SIGTERM', () => void apagar('SIGTERM', 0));
process.once('SIGINT', () => void apagar('SIGINT', 0));
