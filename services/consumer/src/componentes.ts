import { randomUUID } from 'node:crypto';
import {
  PostgresInboxPagos,
  PostgresTurnosCobro,
  crearBrokerEmbebido,
  crearPasarelaSimulada,
  disponibleSi,
  exponerMetricas,
  iniciarServidorSalud,
  medirManejador,
  medirPasarela,
  prepararPasarelaSimulada,
  registrarMetricasConsumidor,
  saludDelBroker,
  duplicadoEnLaConsultaPrevia,
  duplicadoEnLaPasarela,
  uuidv7,
  type DuplicadoAbsorbido,
  type PersistenciaPostgres,
  type PoolPostgres,
  type RegistroMetricas,
} from '@aeropartners/adaptadores';
import { crearBrokerPulsar } from '@aeropartners/adaptadores/pulsar';
import { StripePasarelaDePagos } from '@aeropartners/adaptadores/stripe';
import {
  crearManejadorEventos,
  crearPasarelaPorModo,
  type AlReintentarPasarela,
  type Broker,
  type Consumidor,
  type ManejarEvento,
} from '@aeropartners/aplicacion';
import type { Pago, PasarelaDePagos, SolicitudCobro, Trazabilidad } from '@aeropartners/dominio';
import { perfilPasarelaSimulada, type Configuracion } from './config.js';

/**
 * Elección de adaptadores según la configuración (lo que `main.ts` no necesita ver en detalle).
 * Sin `PULSAR_URL` nada de aquí toca `pulsar-client`: el adaptador de Pulsar lo carga al crearse.
 */

/** Pulsar si hay `PULSAR_URL`; si no, el broker embebido sobre la misma base, con la suscripción ya creada. */
export function crearBroker(config: Configuracion, alError: (error: Error) => void): Promise<Broker> {
  if (config.PULSAR_URL !== undefined) return crearBrokerPulsar({ url: config.PULSAR_URL, topico: config.BROKER_TOPICO });
  return crearBrokerEmbebido({
    url: config.DATABASE_URL,
    topico: config.BROKER_TOPICO,
    suscripciones: [config.CONSUMIDOR_SUSCRIPCION],
    duplicarEntregas: config.BROKER_DUPLICAR_ENTREGAS,
    nombreAplicacion: 'aeropartners-consumer:broker',
    alError,
  });
}

export interface PasarelaElegida {
  readonly pasarela: PasarelaDePagos;
  /**
   * Contadores de la etapa de la pasarela, con prefijo `pasarela_`: los de la simulada (p. ej. las
   * repeticiones absorbidas por su clave de idempotencia), que con Stripe cobra solo los pagos de prueba.
   */
  contadores(): Record<string, number>;
  /**
   * Duplicados de la etapa pasarela: repeticiones absorbidas por la clave de idempotencia (simulada y Stripe) y
   * cobros que una reentrega encontró ya decididos al preguntar antes de cobrar.
   */
  readonly repeticionesAbsorbidas?: () => number;
  /** Para el manejador (`alCobroYaDecidido`): lo cuenta y lo anota en el registro de eventos del socio. */
  readonly cobroYaDecidido: (pago: Pago, traza: Trazabilidad) => void;
  /** Al apagar: la simulada espera los cobros que dejó completándose en segundo plano. */
  detener(): Promise<void>;
}

/**
 * La pasarela simulada (con su libro de cargos, que se crea si falta) o Stripe para los pagos reales; los
 * de prueba (`test`) van SIEMPRE a la simulada, también con Stripe configurado (decisión 0123).
 */
export async function crearPasarela(
  config: Configuracion,
  pool: PoolPostgres,
  alDuplicado?: (duplicado: DuplicadoAbsorbido) => void,
): Promise<PasarelaElegida> {
  // Cada repetición absorbida, al registro de eventos del socio (decisión 0153).
  const alRepeticionAbsorbida = alDuplicado && ((solicitud: SolicitudCobro) => alDuplicado(duplicadoEnLaPasarela(solicitud)));
  let yaDecididos = 0;
  let real: StripePasarelaDePagos | undefined;
  if (config.PASARELA === 'stripe') {
    if (config.STRIPE_API_KEY === undefined || config.STRIPE_CUENTAS_AFILIADOS === undefined) {
      throw new Error('PASARELA=stripe necesita STRIPE_API_KEY y STRIPE_CUENTAS_AFILIADOS');
    }
    const api = config.STRIPE_URL_API === undefined ? undefined : new URL(config.STRIPE_URL_API);
    real = new StripePasarelaDePagos({
      apiKey: config.STRIPE_API_KEY,
      cuentasAfiliados: config.STRIPE_CUENTAS_AFILIADOS,
      ...(alRepeticionAbsorbida && { alRepeticionAbsorbida }),
      ...(api && {
        host: api.hostname,
        protocol: api.protocol === 'http:' ? 'http' : 'https',
        ...(api.port !== '' && { port: Number(api.port) }),
      }),
    });
  }
  await prepararPasarelaSimulada(pool);
  const simulada = crearPasarelaSimulada({
    pool,
    ...perfilPasarelaSimulada(config),
    ...(config.PASARELA_SEMILLA !== undefined && { semilla: config.PASARELA_SEMILLA }),
    ...(alRepeticionAbsorbida && { alRepeticionAbsorbida }),
  });
  return {
    pasarela: real === undefined ? simulada : crearPasarelaPorModo({ real, prueba: simulada }),
    contadores: () => ({
      ...Object.fromEntries(Object.entries(simulada.contadores()).map(([k, n]) => [`pasarela_${k}`, n])),
      pasarela_cobrosYaDecididos: yaDecididos,
    }),
    repeticionesAbsorbidas: () => simulada.contadores().repeticionesAbsorbidas + (real?.repeticionesAbsorbidas ?? 0) + yaDecididos,
    cobroYaDecidido: (pago, traza) => {
      yaDecididos += 1;
      alDuplicado?.(duplicadoEnLaConsultaPrevia(pago, traza));
    },
    detener: () => simulada.esperarEnSegundoPlano(),
  };
}

/** Falla con un mensaje claro si la base no tiene el esquema del consumidor (migración 0002: `inbox`). */
export async function comprobarEsquema(pool: PoolPostgres): Promise<void> {
  const { rows } = await pool.query<{ existe: boolean }>(`SELECT to_regclass('inbox') IS NOT NULL AS existe`);
  if (rows[0]?.existe !== true) {
    throw new Error('La base de datos no está migrada (falta la tabla inbox): ejecute `pnpm migrate` o arranque con `pnpm start`.');
  }
}

/** El manejador de eventos de pago sobre PostgreSQL, medido, con la pasarela elegida y un titular de turnos propio del proceso. */
export function crearManejadorDePagos(
  config: Configuracion,
  persistencia: PersistenciaPostgres,
  pasarela: PasarelaDePagos,
  metricas: RegistroMetricas,
  alCobroYaDecidido?: (pago: Pago, traza: Trazabilidad) => void,
): (ganchos: { readonly alReintentar: AlReintentarPasarela }) => ManejarEvento {
  return ({ alReintentar }) =>
    medirManejador(
      metricas,
      crearManejadorEventos({
        suscripcion: config.CONSUMIDOR_SUSCRIPCION,
        repositorio: persistencia.repositorio,
        inbox: new PostgresInboxPagos(persistencia.pool),
        pasarela: medirPasarela(metricas, pasarela),
        turnos: new PostgresTurnosCobro(persistencia.pool, persistencia.repositorio),
        titular: randomUUID(),
        duracionTurnoMs: config.CONSUMIDOR_TURNO_COBRO_MS,
        reloj: { ahora: () => new Date() },
        nuevoId: uuidv7,
        intentosPasarela: config.PASARELA_INTENTOS,
        backoffPasarelaMs: config.PASARELA_BACKOFF_MS,
        alReintentar,
        ...(alCobroYaDecidido && { alCobroYaDecidido }),
      }),
    );
}

/** Métricas del consumidor y su servidor de salud (`/health`, `/health/ready`, `/metrics`). */
export function iniciarSaludConsumidor(
  servicio: string,
  config: Configuracion,
  dependencias: {
    readonly persistencia: PersistenciaPostgres;
    readonly broker: Broker;
    readonly consumidor: Consumidor;
    readonly pasarela: PasarelaElegida;
    readonly metricas: RegistroMetricas;
  },
) {
  const { persistencia, broker, consumidor, pasarela, metricas } = dependencias;
  const contadoresBroker =
    'contadores' in broker ? (broker.contadores as { leasesPerdidos: number; operacionesSinLease: number }) : undefined;
  registrarMetricasConsumidor(metricas, {
    consumidor: consumidor.contadores,
    repeticionesPasarela: pasarela.repeticionesAbsorbidas,
    broker: contadoresBroker,
    hechosConversion: () => {
      const c = consumidor.contadores();
      return {
        aplicados: c.hechosAplicados,
        duplicados: c.hechosDuplicados,
        bloqueados: c.hechosBloqueados,
        rechazados: c.hechosRechazados,
      };
    },
  });
  return iniciarServidorSalud({
    servicio,
    puerto: config.PUERTO_SALUD,
    metricas: () => exponerMetricas(metricas),
    comprobarDisponible: disponibleSi(() => persistencia.comprobarSalud(), saludDelBroker(broker)),
    contadores: () => ({
      ...consumidor.contadores(),
      ...pasarela.contadores(),
      broker_leases_perdidos: contadoresBroker?.leasesPerdidos ?? 0,
    }),
  });
}
