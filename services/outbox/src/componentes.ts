import {
  LiderRelay,
  crearBrokerEmbebido,
  disponibleSi,
  exponerMetricas,
  iniciarServidorSalud,
  registrarMetricasRelay,
  registrarOutbox,
  saludDelBroker,
  type Logger,
  type PersistenciaPostgres,
  type RegistroMetricas,
} from '@aeropartners/adaptadores';
import { crearBrokerPulsar } from '@aeropartners/adaptadores/pulsar';
import type { Broker } from '@aeropartners/aplicacion';
import type { crearServicioRelay } from './app.js';
import type { ConfiguracionRelay } from './config.js';

/**
 * Los adaptadores del relay elegidos por la configuración (lo que `main.ts` no necesita ver en detalle).
 * Sin `PULSAR_URL` nada de aquí toca `pulsar-client`: el adaptador de Pulsar lo carga al crearse.
 */

/** Pulsar si hay `PULSAR_URL` (con cola de envío ≥ el lote); si no, el broker embebido con sus suscripciones ya creadas. */
export function crearBroker(config: ConfiguracionRelay): Promise<Broker> {
  if (config.PULSAR_URL) {
    return crearBrokerPulsar({
      url: config.PULSAR_URL,
      topico: config.BROKER_TOPICO,
      mensajesPendientesMaximos: Math.max(1_000, config.RELAY_LOTE),
    });
  }
  return crearBrokerEmbebido({
    url: config.DATABASE_URL,
    topico: config.BROKER_TOPICO,
    suscripciones: config.BROKER_SUSCRIPCIONES.split(','),
    duplicarEntregas: config.BROKER_DUPLICAR_ENTREGAS,
    nombreAplicacion: 'aeropartners-outbox:broker',
  });
}

/** El ritmo del relay: tamaño de lote, sondeo, acumulación y backoff. */
export function ritmoRelay(config: ConfiguracionRelay) {
  return {
    tamanoLote: config.RELAY_LOTE,
    intervaloSondeoMs: config.RELAY_SONDEO_MS,
    esperaAcumularMs: config.RELAY_ACUMULAR_MS,
    backoffBaseMs: config.RELAY_BACKOFF_BASE_MS,
    backoffMaximoMs: config.RELAY_BACKOFF_MAX_MS,
  };
}

/** Espera el liderazgo del relay (cerrojo consultivo y época); `alPerder` avisa si se pierde después. */
export function esperarLiderazgo(config: ConfiguracionRelay, logger: Logger, alPerder: () => void) {
  return (senal: AbortSignal) =>
    LiderRelay.esperar(
      {
        url: config.DATABASE_URL,
        claveCerrojo: config.RELAY_CERROJO,
        canal: 'outbox_nuevo',
        intervaloEsperaMs: 1000,
        intervaloLatidoMs: config.RELAY_LATIDO_MS,
        alPerder: (error) => {
          logger.error(
            { err: error },
            'liderazgo del relay perdido (conexión, latido o época): el relay se detiene (el supervisor lo reinicia)',
          );
          alPerder();
        },
      },
      senal,
      () => logger.info({ cerrojo: config.RELAY_CERROJO }, 'otro relay está activo: este espera en reserva'),
    );
}

/** Métricas del relay y su servidor de salud; un relay en alarma no está disponible. */
export function iniciarSaludRelay(
  servicio: string,
  config: ConfiguracionRelay,
  dependencias: {
    readonly persistencia: PersistenciaPostgres;
    readonly broker: Broker;
    readonly relay: ReturnType<typeof crearServicioRelay>;
    readonly metricas: RegistroMetricas;
  },
) {
  const { persistencia, broker, relay, metricas } = dependencias;
  const contadoresBroker =
    'contadores' in broker ? (broker.contadores as { descartadosPorDuplicado: number; duplicadosInyectados: number }) : undefined;
  registrarOutbox(metricas, persistencia.pool);
  registrarMetricasRelay(metricas, { relay: relay.contadores, broker: contadoresBroker });
  return iniciarServidorSalud({
    servicio,
    puerto: config.PUERTO_SALUD,
    metricas: () => exponerMetricas(metricas),
    comprobarDisponible: disponibleSi(
      () => persistencia.comprobarSalud(),
      saludDelBroker(broker),
      async () => !relay.enAlarma(),
    ),
    // Duplicados absorbidos en la etapa outbox → broker: republicaciones descartadas por (productor, secuencia).
    contadores: () => ({
      ...relay.contadores(),
      ...(contadoresBroker
        ? {
            broker_descartados_por_duplicado: contadoresBroker.descartadosPorDuplicado,
            broker_duplicados_inyectados: contadoresBroker.duplicadosInyectados,
          }
        : {}),
    }),
  });
}
