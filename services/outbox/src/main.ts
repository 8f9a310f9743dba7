import {
  LiderRelay, PostgresAlmacenOutbox, crearBrokerEmbebido, crearLogger, crearPersistenciaPostgres, crearRegistroMetricas,
  disponibleSi, ejecutarServicio, exponerMetricas, iniciarServidorSalud, leerConfiguracionOSalir, morirTrasPublicar, registrarMetricasRelay,
  registrarOutbox, saludDelBroker, sobreDeFila,
} from '@aeropartners/adaptadores';
import { crearBrokerPulsar } from '@aeropartners/adaptadores/pulsar';
import { crearServicioRelay } from './app.js';
import { EsquemaConfiguracionRelay } from './config.js';

const SERVICIO = 'aeropartners-pagos-outbox';
const config = leerConfiguracionOSalir(EsquemaConfiguracionRelay);
const logger = crearLogger({ servicio: SERVICIO, nivel: config.LOG_LEVEL });
const persistencia = crearPersistenciaPostgres({ url: config.DATABASE_URL, tamanoPool: config.PG_POOL_SIZE, nombreAplicacion: 'aeropartners-outbox' });

await ejecutarServicio({
  logger,
  alFallarArranque: () => persistencia.cerrar(),
  async arrancar() {
    const broker = config.PULSAR_URL
      ? await crearBrokerPulsar({ url: config.PULSAR_URL, topico: config.BROKER_TOPICO, mensajesPendientesMaximos: Math.max(1_000, config.RELAY_LOTE) })
      : await crearBrokerEmbebido({ url: config.DATABASE_URL, topico: config.BROKER_TOPICO, suscripciones: config.BROKER_SUSCRIPCIONES.split(','), duplicarEntregas: config.BROKER_DUPLICAR_ENTREGAS, nombreAplicacion: 'aeropartners-outbox:broker' });
    let perdido: () => void = () => undefined;
    const liderazgoPerdido = new Promise<void>((resolver) => (perdido = resolver));
    const servicio = crearServicioRelay({
      almacen: new PostgresAlmacenOutbox(persistencia.pool),
      // Solo tras ganar el liderazgo: un relay en reserva no ocupa el nombre del productor.
      crearPublicador: () => broker.crearPublicador(config.RELAY_PRODUCTOR), aMensaje: sobreDeFila,
      logger, tamanoLote: config.RELAY_LOTE, intervaloSondeoMs: config.RELAY_SONDEO_MS, esperaAcumularMs: config.RELAY_ACUMULAR_MS,
      backoffBaseMs: config.RELAY_BACKOFF_BASE_MS, backoffMaximoMs: config.RELAY_BACKOFF_MAX_MS,
      antesDeMarcar: morirTrasPublicar(config.RELAY_MORIR_TRAS_PUBLICAR, logger),
      esperarLiderazgo: (senal) => LiderRelay.esperar(
        { url: config.DATABASE_URL, claveCerrojo: config.RELAY_CERROJO, canal: 'outbox_nuevo', intervaloEsperaMs: 1000, intervaloLatidoMs: config.RELAY_LATIDO_MS,
          alPerder: (error) => {
            logger.error({ err: error }, 'liderazgo del relay perdido (conexión, latido o época): el relay se detiene (el supervisor lo reinicia)');
            perdido();
          } },
        senal, () => logger.info({ cerrojo: config.RELAY_CERROJO }, 'otro relay está activo: este espera en reserva')),
    });
    const contadoresBroker = 'contadores' in broker ? broker.contadores : undefined;
    const metricas = crearRegistroMetricas({ servicio: SERVICIO });
    registrarOutbox(metricas, persistencia.pool);
    registrarMetricasRelay(metricas, { relay: servicio.contadores, broker: contadoresBroker });
    const salud = await iniciarServidorSalud({
      servicio: SERVICIO, puerto: config.PUERTO_SALUD, metricas: () => exponerMetricas(metricas),
      comprobarDisponible: disponibleSi(() => persistencia.comprobarSalud(), saludDelBroker(broker), async () => !servicio.enAlarma()),
      // Duplicados absorbidos en la etapa outbox → broker: republicaciones descartadas por (productor, secuencia).
      contadores: () => ({ ...servicio.contadores(), ...(contadoresBroker ? { broker_descartados_por_duplicado: contadoresBroker.descartadosPorDuplicado, broker_duplicados_inyectados: contadoresBroker.duplicadosInyectados } : {}) }),
    });
    // En alarma el relay sigue vivo y no disponible (503), con la alarma en /metrics, hasta que un operador actúe;
    // si otro relay tiene la época, o se pierde el liderazgo, termina (el supervisor lo relanza en reserva).
    const ejecucion = servicio.ejecutar();
    const fin = ejecucion.then((f) => {
      if (f?.tipo === 'sinLiderazgo') logger.error({ cerrojo: config.RELAY_CERROJO }, 'otro relay tiene la época de liderazgo: este deja de publicar y se detiene');
      return f?.tipo === 'alarma' ? new Promise<never>(() => {}) : f;
    });
    const terminado = Promise.race([liderazgoPerdido, fin]);
    return {
      campos: { productor: config.RELAY_PRODUCTOR, broker: config.PULSAR_URL ? 'pulsar' : 'embebido', puerto_salud: salud.puerto },
      terminado,
      async detener() {
        await servicio.detener(ejecucion);
        await broker.cerrar().catch(() => undefined);
        await salud.cerrar();
        await persistencia.cerrar();
        logger.info({ ...servicio.contadores() }, 'relay detenido');
      },
    };
  },
});
