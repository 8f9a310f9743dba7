import {
  PostgresAlmacenOutbox,
  RegistradorDuplicados,
  configuracionRepartidor,
  configuracionRetencion,
  crearLogger,
  crearPersistenciaPostgres,
  crearRegistroMetricas,
  ejecutarServicio,
  iniciarPurgaRetencion,
  iniciarRepartidorWebhooks,
  destinoMensajeria,
  iniciarTelemetriaOSalir,
  leerConfiguracionOSalir,
  morirTrasPublicar,
  publicadorTrazado,
  sobreDeFila,
} from '@aeropartners/adaptadores';
import { crearServicioRelay } from './app.js';
import { crearBroker, esperarLiderazgo, iniciarSaludRelay, ritmoRelay } from './componentes.js';
import { EsquemaConfiguracionRelay } from './config.js';

const SERVICIO = 'aeropartners-pagos-outbox';
const config = leerConfiguracionOSalir(EsquemaConfiguracionRelay);
const logger = crearLogger({ servicio: SERVICIO, nivel: config.LOG_LEVEL });
// Trazas solo si las variables OTEL_* lo piden (apagadas, ni se carga el SDK).
const telemetria = await iniciarTelemetriaOSalir({ servicio: SERVICIO, alAvisar: (aviso) => logger.warn({}, aviso) });
const persistencia = crearPersistenciaPostgres({
  url: config.DATABASE_URL,
  tamanoPool: config.PG_POOL_SIZE,
  nombreAplicacion: 'aeropartners-outbox',
});

await ejecutarServicio({
  logger,
  alFallarArranque: () => persistencia.cerrar().finally(() => telemetria.cerrar()),
  async arrancar() {
    const broker = await crearBroker(config);
    let perdido: () => void = () => undefined;
    const liderazgoPerdido = new Promise<void>((resolver) => (perdido = resolver));
    // Las republicaciones que el broker descarta, al registro de eventos del socio (por lotes, sin esperar a la base).
    const duplicados = new RegistradorDuplicados({
      pool: persistencia.pool,
      alError: (err) => logger.warn({ err }, 'eventos: no se pudieron registrar los duplicados absorbidos (se reintentan)'),
    });
    const relay = crearServicioRelay({
      almacen: new PostgresAlmacenOutbox(persistencia.pool),
      // Solo tras ganar el liderazgo: un relay en reserva no ocupa el nombre del productor.
      crearPublicador: async () => {
        const publicador = await broker.crearPublicador(config.RELAY_PRODUCTOR);
        return telemetria.activa ? publicadorTrazado(publicador, destinoMensajeria(config)) : publicador;
      },
      aMensaje: sobreDeFila,
      esperarLiderazgo: esperarLiderazgo(config, logger, () => perdido()),
      antesDeMarcar: morirTrasPublicar(config.RELAY_MORIR_TRAS_PUBLICAR, logger),
      alDuplicado: (duplicado) => duplicados.anotar(duplicado),
      logger,
      ...ritmoRelay(config),
    });
    const metricas = crearRegistroMetricas({ servicio: SERVICIO });
    const salud = await iniciarSaludRelay(SERVICIO, config, { persistencia, broker, relay, metricas });
    // La purga por retención vive con el relay (decisión 0150): cada instancia la intenta, trabaja la del cerrojo.
    const purga = iniciarPurgaRetencion({ pool: persistencia.pool, logger, metricas, ...configuracionRetencion(config) });
    // El repartidor de webhooks también (decisión 0170): en todas las instancias, líder o en reserva; se
    // reparten las entregas con FOR UPDATE SKIP LOCKED.
    const webhooks = iniciarRepartidorWebhooks({ pool: persistencia.pool, logger, metricas, ...configuracionRepartidor(config) });
    // En alarma el relay sigue vivo y no disponible (503) hasta que un operador actúe; si otro relay tiene la
    // época, o se pierde el liderazgo, termina (el supervisor lo relanza en reserva).
    const ejecucion = relay.ejecutar();
    const fin = ejecucion.then((f) => {
      if (f?.tipo === 'sinLiderazgo') logger.error({}, 'otro relay tiene la época de liderazgo: este deja de publicar y se detiene');
      return f?.tipo === 'alarma' ? new Promise<never>(() => {}) : f;
    });
    return {
      campos: { productor: config.RELAY_PRODUCTOR, broker: config.PULSAR_URL ? 'pulsar' : 'embebido', puerto_salud: salud.puerto },
      terminado: Promise.race([liderazgoPerdido, fin]),
      async detener() {
        await relay.detener(ejecucion);
        await purga.detener();
        await webhooks.detener();
        await duplicados.cerrar();
        await broker.cerrar().catch(() => undefined);
        await salud.cerrar();
        await persistencia.cerrar();
        await telemetria.cerrar();
        logger.info({ ...relay.contadores() }, 'relay detenido');
      },
    };
  },
});
