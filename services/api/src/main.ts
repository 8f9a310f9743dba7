import { randomUUID } from 'node:crypto';
import { setTimeout as esperar } from 'node:timers/promises';
import {
  crearLogger,
  crearMetricasHttp,
  crearPersistenciaPostgres,
  EscuchaEventos,
  iniciarAsignadorEventos,
  PostgresRegistroEventos,
  RegistradorDuplicados,
  type AsignadorEnMarcha,
  crearRegistroMetricas,
  ejecutarServicio,
  exponerMetricas,
  leerConfiguracionOSalir,
  iniciarTelemetriaOSalir,
  PostgresAutenticadorDeClaves,
  PostgresAlmacenComisiones,
  PostgresConsultasComisiones,
  registrarPagosEnCurso,
  uuidv7,
  comprobarDestino,
  PostgresLineaDeTiempo,
  PostgresWebhooks,
} from '@aeropartners/adaptadores';
import { crearManejadorRegistrarHecho } from '@aeropartners/aplicacion';
import { crearApp } from './app.js';
import { EsquemaConfiguracion } from './config.js';
import { crearManejadores } from './manejadores.js';
import { NOMBRE_SERVICIO } from './openapi.js';
import { escuchar } from './servidor.js';
import { nuevoIdSolicitud } from './solicitud.js';

const config = leerConfiguracionOSalir(EsquemaConfiguracion);
const logger = crearLogger({ servicio: NOMBRE_SERVICIO, nivel: config.LOG_LEVEL });
// Trazas solo si las variables OTEL_* lo piden (apagadas, ni se carga el SDK).
const telemetria = await iniciarTelemetriaOSalir({ servicio: NOMBRE_SERVICIO, alAvisar: (aviso) => logger.warn({}, aviso) });
const persistencia = crearPersistenciaPostgres({
  url: config.DATABASE_URL,
  tamanoPool: config.PG_POOL_SIZE,
  enVueloMaximo: Math.min(config.PG_CREACIONES_EN_VUELO, config.PG_POOL_SIZE),
});

const autenticador = new PostgresAutenticadorDeClaves({
  pool: persistencia.pool,
  url: config.DATABASE_URL,
  alError: (err) => logger.warn({ err }, 'claves de API: fallo de la escucha de avisos o del último uso (la autenticación sigue)'),
});

// El registro de eventos del socio (issue 13): una conexión LISTEN por instancia y el asignador de
// secuencias (cualquier instancia numera; una a la vez, por el cerrojo de sus cursores).
const registroEventos = new PostgresRegistroEventos({ pool: persistencia.pool });
const lineaDeTiempo = new PostgresLineaDeTiempo({ pool: persistencia.pool });
const escuchaEventos = new EscuchaEventos({
  url: config.DATABASE_URL,
  alError: (err) => logger.warn({ err }, 'eventos: se perdió la escucha de avisos (los streams esperan a reconectar)'),
});
let asignadorEventos: AsignadorEnMarcha | undefined;
const duplicados = new RegistradorDuplicados({
  pool: persistencia.pool,
  alError: (err) => logger.warn({ err }, 'eventos: no se pudieron registrar los duplicados absorbidos (se reintentan)'),
});

await ejecutarServicio({
  logger,
  alFallarArranque: async () => {
    await duplicados.cerrar();
    await asignadorEventos?.detener();
    await escuchaEventos.cerrar();
    await autenticador.cerrar();
    await persistencia.cerrar();
    await telemetria.cerrar();
  },
  async arrancar() {
    await autenticador.iniciar();
    await escuchaEventos.iniciar();
    asignadorEventos = iniciarAsignadorEventos({
      pool: persistencia.pool,
      alError: (err) => logger.warn({ err }, 'eventos: el asignador de secuencias falló (reintenta)'),
    });
    if (config.API_ANONIMA_SOCIO !== undefined) {
      logger.warn(
        { id_socio: config.API_ANONIMA_SOCIO },
        `MODO ANÓNIMO (API_ANONIMA_SOCIO): las peticiones sin clave de API actúan como el socio ${config.API_ANONIMA_SOCIO}; ` +
          'solo para clientes del servicio semilla',
      );
      // Se crea ya si la base responde; si no, el servicio arranca igual (503) y se crea con la primera petición.
      await autenticador
        .socioAnonimo(config.API_ANONIMA_SOCIO)
        .catch((err: unknown) => logger.warn({ err }, 'no se pudo crear todavía el socio anónimo'));
    }
    const metricas = crearRegistroMetricas({ servicio: NOMBRE_SERVICIO });
    registrarPagosEnCurso(metricas, persistencia.pool);
    let drenando = false;
    let streams: { cerrarTodos(): void } | undefined;
    const app = crearApp({
      manejadores: crearManejadores({ ...persistencia, reloj: { ahora: () => new Date() }, nuevoId: uuidv7 }),
      comprobarSalud: persistencia.comprobarSalud,
      logger,
      autenticador,
      idSocioAnonimo: config.API_ANONIMA_SOCIO,
      limiteRps: config.API_LIMITE_RPS,
      instancias: config.API_INSTANCIAS,
      nuevoIdCorrelacion: randomUUID,
      nuevoIdSolicitud,
      metricas: { ...crearMetricasHttp(metricas), exponer: () => exponerMetricas(metricas) },
      capacidadCacheReplicas: config.IDEMPOTENCIA_CACHE_ENTRADAS,
      conversiones: {
        registrarHecho: crearManejadorRegistrarHecho({ almacen: new PostgresAlmacenComisiones(persistencia.pool), nuevoId: uuidv7 }),
        consultas: new PostgresConsultasComisiones(persistencia.pool),
      },
      drenando: () => drenando,
      lineaDeTiempo: (ambito, sujeto) => lineaDeTiempo.de(ambito, sujeto),
      webhooks: {
        almacen: new PostgresWebhooks({ pool: persistencia.pool }),
        comprobarDestino: (url) => comprobarDestino(url, { permitirRedLocal: config.WEBHOOKS_PERMITIR_RED_LOCAL }),
        graciaSecretoMs: config.WEBHOOKS_GRACIA_SECRETO_S * 1000,
      },
      eventos: {
        fuente: {
          leer: (ambito, consulta) => registroEventos.leer(ambito, consulta),
          ultima: (ambito) => registroEventos.ultima(ambito),
          suscribir: (ambito, alAvisar) => escuchaEventos.suscribir(ambito, alAvisar),
        },
        alMontar: (estado) => {
          streams = estado;
        },
        duplicadoAbsorbido: (duplicado) => duplicados.anotar(duplicado),
      },
    });
    const servidor = await escuchar(app.fetch, { puerto: config.PORT, host: config.HOST, nuevoIdCorrelacion: randomUUID, logger });
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
        // Los streams no terminan solos: se cierran y sus clientes reanudan en otra instancia.
        streams?.cerrarTodos();
        await servidor.cerrar(config.SHUTDOWN_TIMEOUT_MS);
        await duplicados.cerrar();
        await asignadorEventos?.detener();
        await escuchaEventos.cerrar();
        await autenticador.cerrar();
        await persistencia.cerrar();
        await telemetria.cerrar();
        logger.info({}, 'API detenida');
      },
    };
  },
});
