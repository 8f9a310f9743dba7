import {
  PostgresAlmacenComisiones,
  configuracionBarrendero,
  crearAtencionConversiones,
  crearLogger,
  crearPersistenciaPostgres,
  crearRegistroMetricas,
  ejecutarServicio,
  iniciarBarrendero,
  iniciarLiquidaciones,
  leerConfiguracionOSalir,
  atencionTrazada,
  destinoMensajeria,
  iniciarTelemetriaOSalir,
  RegistradorDuplicados,
} from '@aeropartners/adaptadores';
import { crearConsumidorPagos } from './app.js';
import { comprobarEsquema, crearBroker, crearManejadorDePagos, crearPasarela, iniciarSaludConsumidor } from './componentes.js';
import { EsquemaConfiguracion, reglasCruzadas } from './config.js';

const SERVICIO = 'aeropartners-pagos-consumer';
const config = leerConfiguracionOSalir(EsquemaConfiguracion, reglasCruzadas);
const logger = crearLogger({ servicio: SERVICIO, nivel: config.LOG_LEVEL });
// Trazas solo si las variables OTEL_* lo piden (apagadas, ni se carga el SDK).
const telemetria = await iniciarTelemetriaOSalir({ servicio: SERVICIO, alAvisar: (aviso) => logger.warn({}, aviso) });
// Con el broker embebido todo vive en la misma base: el WAL lineal hace seguro el commit asíncrono (ver la opción).
const persistencia = crearPersistenciaPostgres({
  url: config.DATABASE_URL,
  tamanoPool: config.PG_POOL_SIZE,
  nombreAplicacion: SERVICIO,
  commitAsincrono: config.PULSAR_URL === undefined,
});

await ejecutarServicio({
  logger,
  alFallarArranque: () => persistencia.cerrar().finally(() => telemetria.cerrar()),
  async arrancar() {
    await comprobarEsquema(persistencia.pool);
    const broker = await crearBroker(config, (error) => logger.error({ err: error }, 'fallo de fondo del broker embebido'));
    const { CONSUMIDOR_SUSCRIPCION: suscripcion, BROKER_MAXIMO_ENTREGAS: maximoEntregas } = config;
    const entrante = await broker.suscribir({ suscripcion, maximoEntregas, retrasoReentregaMs: config.BROKER_RETRASO_REENTREGA_MS });
    // Los duplicados absorbidos en el inbox y en la pasarela, al registro de eventos del socio (por lotes, sin esperar a la base).
    const duplicados = new RegistradorDuplicados({
      pool: persistencia.pool,
      alError: (err) => logger.warn({ err }, 'eventos: no se pudieron registrar los duplicados absorbidos (se reintentan)'),
    });
    const pasarela = await crearPasarela(config, persistencia.pool, (duplicado) => duplicados.anotar(duplicado));
    const metricas = crearRegistroMetricas({ servicio: SERVICIO });
    const crearManejador = crearManejadorDePagos(config, persistencia, pasarela.pasarela, metricas, pasarela.cobroYaDecidido);
    // Los hechos de conversión llegan por el mismo broker y se aplican con su conversión bloqueada.
    const almacenComisiones = new PostgresAlmacenComisiones(persistencia.pool);
    const atenderOtros = crearAtencionConversiones({ almacen: almacenComisiones });
    const consumidor = crearConsumidorPagos({
      suscripcion: entrante,
      enVuelo: config.CONSUMIDOR_EN_VUELO,
      logger,
      crearManejador,
      atenderOtros,
      alDuplicado: (duplicado) => duplicados.anotar(duplicado),
      ...(telemetria.activa ? { envolverAtencion: atencionTrazada(destinoMensajeria(config), suscripcion) } : {}),
    });
    const barrido = configuracionBarrendero(config);
    const barrendero = barrido.activo
      ? iniciarBarrendero({ pool: persistencia.pool, logger: logger.child({ componente: 'barrendero' }), ...barrido, metricas })
      : undefined;
    const liquidaciones = config.LIQUIDACIONES
      ? iniciarLiquidaciones({
          pool: persistencia.pool,
          almacen: almacenComisiones,
          logger: logger.child({ componente: 'liquidaciones' }),
          cadaMs: config.LIQUIDACIONES_CADA,
          cierreMs: config.LIQUIDACIONES_CIERRE_MS,
          esperaMaximaMs: config.CONVERSIONES_ESPERA_MAXIMA,
        })
      : undefined;
    const salud = await iniciarSaludConsumidor(SERVICIO, config, { persistencia, broker, consumidor, pasarela, metricas });
    consumidor.iniciar();
    const modo = { broker: config.PULSAR_URL ? 'pulsar' : 'embebido', pasarela: config.PASARELA };
    return {
      campos: { suscripcion, en_vuelo: config.CONSUMIDOR_EN_VUELO, ...modo, puerto_salud: salud.puerto },
      terminado: consumidor.terminado(),
      async detener() {
        logger.info({ retenidos: consumidor.retenidos() }, 'apagando: no se toman mensajes nuevos; se terminan los retenidos');
        await consumidor.detener({ tiempoMaximoMs: config.SHUTDOWN_TIMEOUT_MS });
        await Promise.all([barrendero?.detener(), liquidaciones?.detener(), pasarela.detener(), duplicados.cerrar()]);
        await broker.cerrar().catch((error: unknown) => logger.error({ err: error }, 'error al cerrar el broker'));
        await salud.cerrar();
        await persistencia.cerrar();
        await telemetria.cerrar();
        logger.info({ ...consumidor.contadores() }, 'consumidor detenido');
      },
    };
  },
});
