import { anotarSpanHttp, crearLimitadorDeRitmo, manejadoresSalud, type DuplicadoAbsorbido } from '@aeropartners/adaptadores';
import type { AutenticadorDeClaves } from '@aeropartners/aplicacion';
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import { routePath } from 'hono/route';
import { autenticacion } from './autenticacion.js';
import { motivoBaseNoDisponible } from './base-no-disponible.js';
import { contextoDe, responderProblema, type Ctx, type EnvApp } from './contexto.js';
import { LIMITE_CUERPO_BYTES } from './cuerpo.js';
import { crearLectorRecursos, esRecursoSwaggerUi, paginaDocumentacion, RECURSOS_SWAGGER_UI } from './documentacion.js';
import { crearEntrada, type Rechazo } from './entrada.js';
import { EsquemaSalud } from './esquemas.js';
import { firmaDePeticiones } from './firma-peticiones.js';
import { LIMITE_RPS_POR_DEFECTO, limiteDeRitmoPorSocio } from './limite-socio.js';
import type { Manejadores } from './manejadores.js';
import { crearDocumentoOpenApi, NOMBRE_SERVICIO, respuesta, respuestaJson, SIN_CLAVE } from './openapi.js';
import { crearProblema, problemaSolicitudInvalida } from './problemas.js';
import { rutasPanel } from './panel/panel.js';
import { CacheRespuestasIdempotentes } from './respuestas-idempotentes.js';
import { rutasEventos, type DependenciasRutasEventos, type EstadoStreams } from './rutas-eventos.js';
import { rutasPagos } from './rutas-pagos.js';
import { rutasConversiones, type DependenciasRutasConversiones } from './rutas-conversiones.js';
import { rutasWebhooks, type DependenciasRutasWebhooks } from './rutas-webhooks.js';
import { rutasLineaDeTiempo, type LeerLineaDeTiempo } from './linea-de-tiempo.js';
import { CABECERA_ID_SOLICITUD } from './solicitud.js';
import { idCorrelacionDe } from './traza.js';

type FuncionLog = (campos: object, mensaje?: string) => void;

/** Lo que la API necesita de un logger (el de `@aeropartners/adaptadores` lo cumple). */
export interface LoggerApi {
  readonly info: FuncionLog;
  readonly warn: FuncionLog;
  readonly error: FuncionLog;
}

/** Lo que la API necesita para sus métricas (`crearMetricasHttp` y `exponerMetricas` de adaptadores lo cumplen). */
export interface MetricasApi {
  /** Una petición atendida, con el patrón de su ruta (`/pagos/:id`), nunca la ruta real. */
  observar(metodo: string, ruta: string, estado: number, segundos: number): void;
  /** Una réplica de `POST /pagos` respondida sin crear nada: duplicado absorbido en la entrada. */
  replicaAbsorbida(): void;
  /** Texto de exposición Prometheus para `GET /metrics`. */
  exponer(): Promise<{ readonly tipo: string; readonly cuerpo: string }>;
}

export interface DependenciasApp {
  /** Conversiones y comisiones (issue 12): sin ellas, sus rutas no se montan. */
  readonly conversiones?: Omit<DependenciasRutasConversiones, 'validar'>;
  readonly manejadores: Manejadores;
  /** ¿Responde la base de datos? Para `GET /health/ready`. */
  readonly comprobarSalud: () => Promise<boolean>;
  readonly logger: LoggerApi;
  /** Quién es el dueño de cada clave de API (producción: PostgreSQL; tests: en memoria). */
  readonly autenticador: AutenticadorDeClaves;
  /**
   * Modo anónimo (`API_ANONIMA_SOCIO`): las peticiones sin `Authorization` actúan como este socio. Sin él
   * (lo normal), toda petición a una ruta de datos necesita su clave.
   */
  readonly idSocioAnonimo?: string | undefined;
  /** Genera el id de correlación cuando la petición no trae uno válido. */
  readonly nuevoIdCorrelacion: () => string;
  /** Genera el `Request-Id` de cada respuesta (`nuevoIdSolicitud` de `solicitud.ts`). */
  readonly nuevoIdSolicitud: () => string;
  /** Peticiones por segundo de un socio sin límite propio (`API_LIMITE_RPS`). Por defecto 1000. */
  readonly limiteRps?: number;
  /** Instancias de la API que se reparten el límite de cada socio (`API_INSTANCIAS`). Por defecto 1. */
  readonly instancias?: number;
  /** La hora (autenticación y firmas). Por defecto la del sistema. */
  readonly ahora?: () => Date;
  /** Milisegundos de un reloj monótono (límite de ritmo). Por defecto `performance.now()`. */
  readonly relojMonotono?: () => number;
  /** Por defecto 64 KiB. */
  readonly limiteCuerpoBytes?: number;
  /** Tiempo máximo de `comprobarSalud` antes de dar la base por caída. Por defecto 2 s. */
  readonly tiempoMaximoSaludMs?: number;
  /** Carpeta de `swagger-ui-dist`; por defecto la del paquete instalado. */
  readonly directorioSwaggerUi?: string;
  /** Versión publicada en el documento OpenAPI. */
  readonly version?: string;
  /**
   * Respuestas de `POST /pagos` ya confirmadas que se guardan en memoria para responder réplicas sin ir
   * a la base de datos (ver `respuestas-idempotentes.ts`). Por defecto 0: sin caché.
   */
  readonly capacidadCacheReplicas?: number;
  /** Métricas Prometheus: con ellas, cada petición se mide y `GET /metrics` las expone. */
  readonly metricas?: MetricasApi;
  /**
   * ¿Se está apagando la instancia (SIGTERM recibido)? Mientras tanto `GET /health/ready` responde 503
   * para que el balanceador deje de enviarle tráfico; las demás rutas siguen atendiendo.
   */
  readonly drenando?: () => boolean;
  /**
   * Líneas de tiempo entre procesos (issue 13, punto 5): con ella, `GET /pagos/{id}/historial` incluye
   * `linea_de_tiempo` y existe `GET /conversiones/{id}/linea-de-tiempo`.
   */
  readonly lineaDeTiempo?: LeerLineaDeTiempo;
  /** Los webhooks del socio (`/webhooks…`, issue 13); sin ellos, esas rutas no existen. */
  readonly webhooks?: Omit<DependenciasRutasWebhooks, 'validar'>;
  /** El registro de eventos del socio (`GET /eventos`, `GET /eventos/stream`); sin él, esas rutas no existen. */
  readonly eventos?: Omit<DependenciasRutasEventos, 'validar'> & {
    readonly alMontar?: (estado: EstadoStreams) => void;
    /** Cada duplicado absorbido en la entrada, al registro de eventos (por lotes asíncronos: no espera a la base). */
    readonly duplicadoAbsorbido?: (duplicado: DuplicadoAbsorbido) => void;
  };
}

/** Segundos de `Retry-After` cuando la base de datos no está disponible: lo que tarda en volver tras un reinicio. */
const SEGUNDOS_REINTENTO = '5';

/** Un patrón que no es una ruta (el middleware de todas, `/pagos/*`): la petición no encontró ninguna. */
const esComodin = (ruta: string) => ruta.endsWith('*');

/** La entrada rechazada, como problem+json. */
function rechazar(c: Ctx, rechazo: Rechazo): Response {
  const contexto = contextoDe(c);
  switch (rechazo.tipo) {
    case 'solicitud-invalida':
      return responderProblema(c, problemaSolicitudInvalida(rechazo.errores, contexto));
    case 'cuerpo-demasiado-grande':
      return responderProblema(
        c,
        crearProblema('cuerpo-demasiado-grande', `El cuerpo no puede superar ${rechazo.limiteBytes} bytes.`, contexto),
      );
    case 'tipo-de-contenido-no-soportado':
      return responderProblema(c, crearProblema('tipo-de-contenido-no-soportado', rechazo.detalle, contexto), {
        'Accept-Post': 'application/json',
      });
    default:
      return rechazo satisfies never;
  }
}

/** La API HTTP, construida solo a partir de sus dependencias (los tests la usan con `app.request()`). */
export function crearApp(deps: DependenciasApp) {
  const { logger } = deps;
  const tiempoMaximoSalud = deps.tiempoMaximoSaludMs ?? 2000;
  const leerRecurso = crearLectorRecursos(deps.directorioSwaggerUi);
  const pagina = paginaDocumentacion('/openapi.json');

  const ahora = deps.ahora ?? (() => new Date());
  const relojMonotono = deps.relojMonotono ?? (() => performance.now());
  const limiteCuerpoBytes = deps.limiteCuerpoBytes ?? LIMITE_CUERPO_BYTES;

  const app = new Hono<EnvApp>({ strict: false });

  // Request-Id, correlación y una línea de registro por petición.
  app.use(async (c, next) => {
    const inicio = performance.now();
    const idSolicitud = deps.nuevoIdSolicitud();
    c.set('idSolicitud', idSolicitud);
    c.header(CABECERA_ID_SOLICITUD, idSolicitud);
    const idCorrelacion = idCorrelacionDe(c.req.header('x-correlation-id'), deps.nuevoIdCorrelacion);
    c.set('idCorrelacion', idCorrelacion);
    c.header('X-Correlation-Id', idCorrelacion);
    await next();
    const ruta = routePath(c, -1);
    const estado = c.res.status;
    if (!esComodin(ruta)) anotarSpanHttp(c.req.method, ruta, c.get('idPago'));
    deps.metricas?.observar(c.req.method, esComodin(ruta) ? 'sin_ruta' : ruta, estado, (performance.now() - inicio) / 1000);
    const campos = {
      metodo: c.req.method,
      ruta: esComodin(ruta) ? null : ruta,
      estado_http: estado,
      duracion_ms: Math.round((performance.now() - inicio) * 100) / 100,
      id_solicitud: idSolicitud,
      id_correlacion: idCorrelacion,
      id_socio: c.get('socio')?.idSocio,
      prefijo_clave: c.get('socio')?.prefijoClave ?? undefined,
      id_pago: c.get('idPago'),
    };
    if (estado === 500) logger.error({ ...campos, err: c.get('error') }, 'solicitud fallida');
    else if (estado > 500) logger.warn({ ...campos, causa: c.get('causa') }, 'solicitud no atendida');
    else logger.info(campos, 'solicitud atendida');
  });

  // Todo lo que sigue está autenticado salvo las rutas de `esRutaPublica`: una ruta nueva nace protegida.
  // Después de la clave, el límite del socio (antes de la firma, que cuesta un HMAC) y su firma.
  app.use(autenticacion({ autenticador: deps.autenticador, idSocioAnonimo: deps.idSocioAnonimo, ahora }));
  app.use(
    limiteDeRitmoPorSocio({
      limitador: crearLimitadorDeRitmo({ reloj: relojMonotono }),
      limiteRps: deps.limiteRps ?? LIMITE_RPS_POR_DEFECTO,
      instancias: deps.instancias ?? 1,
    }),
  );
  const demasiadoGrande = (c: Ctx) => rechazar(c, { tipo: 'cuerpo-demasiado-grande', limiteBytes: limiteCuerpoBytes });
  app.use(firmaDePeticiones({ ahoraSegundos: () => ahora().getTime() / 1000, limiteCuerpoBytes, demasiadoGrande }));

  rutasPagos(app, {
    manejadores: deps.manejadores,
    replicas: new CacheRespuestasIdempotentes(deps.capacidadCacheReplicas ?? 0),
    replicaAbsorbida: (replica) => {
      deps.metricas?.replicaAbsorbida();
      deps.eventos?.duplicadoAbsorbido?.({
        idSocio: replica.ambito.idSocio,
        modo: replica.ambito.modo,
        etapa: 'entrada',
        clave: replica.clave,
        sujeto: replica.idPago,
        idSolicitud: replica.idSolicitud,
      });
    },
    validar: crearEntrada<EnvApp>({ limiteCuerpoBytes, rechazar }).validar,
    lineaDeTiempo: deps.lineaDeTiempo,
  });

  if (deps.eventos) {
    const estado = rutasEventos(app, { ...deps.eventos, validar: crearEntrada<EnvApp>({ limiteCuerpoBytes, rechazar }).validar });
    deps.eventos.alMontar?.(estado);
  }
  if (deps.conversiones) {
    rutasConversiones(app, { ...deps.conversiones, validar: crearEntrada<EnvApp>({ limiteCuerpoBytes, rechazar }).validar });
  }
  if (deps.lineaDeTiempo) {
    rutasLineaDeTiempo(app, { leer: deps.lineaDeTiempo, validar: crearEntrada<EnvApp>({ limiteCuerpoBytes, rechazar }).validar });
  }
  if (deps.webhooks) {
    rutasWebhooks(app, { ...deps.webhooks, validar: crearEntrada<EnvApp>({ limiteCuerpoBytes, rechazar }).validar });
  }

  // Las respuestas de salud y métricas son las comunes de los procesos (adaptadores); aquí se documentan y
  // se dice el «no disponible» con el catálogo de problemas de la API.
  const salud = manejadoresSalud(
    {
      servicio: NOMBRE_SERVICIO,
      comprobarDisponible: deps.comprobarSalud,
      tiempoMaximoMs: tiempoMaximoSalud,
      ...(deps.drenando ? { drenando: deps.drenando } : {}),
      ...(deps.metricas ? { metricas: deps.metricas.exponer } : {}),
    },
    (c, estado) => {
      const ctx = c as Ctx;
      if (estado.motivo === 'apagando') {
        ctx.set('causa', 'apagando');
        return responderProblema(
          ctx,
          crearProblema(
            'servicio-no-disponible',
            'La instancia se está apagando: termina lo que tiene en curso y no acepta tráfico nuevo.',
            contextoDe(ctx),
          ),
        );
      }
      logger.warn(
        { id_solicitud: ctx.get('idSolicitud'), id_correlacion: ctx.get('idCorrelacion'), err: estado.causa },
        'la base de datos no responde',
      );
      return responderProblema(ctx, crearProblema('servicio-no-disponible', 'La base de datos no responde.', contextoDe(ctx)), {
        'Retry-After': SEGUNDOS_REINTENTO,
      });
    },
  );

  app.get(
    '/health',
    describeRoute({
      ...SIN_CLAVE,
      operationId: 'salud',
      tags: ['operación'],
      summary: 'Vida (liveness): el proceso responde',
      responses: { '200': respuestaJson(EsquemaSalud, 'El proceso está vivo.') },
    }),
    salud.vida,
  );

  app.get(
    '/health/ready',
    describeRoute({
      ...SIN_CLAVE,
      operationId: 'preparado',
      tags: ['operación'],
      summary: 'Disponibilidad (readiness): la base de datos responde',
      responses: { '200': respuestaJson(EsquemaSalud, 'Listo para atender.'), '503': respuesta('NoDisponible') },
    }),
    salud.disponibilidad,
  );

  // Operación y documentación, no API de negocio: sin `describeRoute`, fuera del documento OpenAPI.
  if (deps.metricas) app.get('/metrics', salud.metricas);

  // Se genera de las rutas la primera vez que se pide (ya están todas declaradas) y se guarda; un fallo, no.
  let documentoOpenApi: Promise<string> | undefined;
  app.get('/openapi.json', async (c) => {
    if (!documentoOpenApi) {
      documentoOpenApi = crearDocumentoOpenApi(app, deps.version).then((documento) => JSON.stringify(documento));
      documentoOpenApi.catch(() => (documentoOpenApi = undefined));
    }
    return c.body(await documentoOpenApi, 200, { 'Content-Type': 'application/json; charset=utf-8' });
  });

  // La página en vivo (sin clave; sus datos la piden: la página lee la API con la clave del socio).
  rutasPanel(app);

  app.get('/docs', (c) => c.html(pagina));

  app.get('/docs/:recurso', async (c) => {
    const nombre = c.req.param('recurso');
    if (!esRecursoSwaggerUi(nombre)) return c.notFound();
    const contenido = await leerRecurso(nombre);
    return c.body(contenido, 200, {
      'Content-Type': RECURSOS_SWAGGER_UI[nombre],
      'Cache-Control': 'public, max-age=86400',
    });
  });

  app.notFound((c) =>
    responderProblema(c, crearProblema('recurso-no-encontrado', `No existe la ruta ${c.req.method} ${c.req.path}.`, contextoDe(c))),
  );

  app.onError((error, c) => {
    const contexto = contextoDe(c);
    const causa = motivoBaseNoDisponible(error);
    if (causa !== undefined) {
      // Una caída, no un fallo de esta petición: el cliente debe reintentar, no darla por perdida.
      c.set('causa', causa);
      return responderProblema(
        c,
        crearProblema(
          'servicio-no-disponible',
          'La base de datos no está disponible en este momento. Repita la petición pasados los segundos de Retry-After, ' +
            'con la misma clave de idempotencia: si el pago llegó a registrarse, recibirá el mismo pago y no otro.',
          contexto,
        ),
        { 'Retry-After': SEGUNDOS_REINTENTO },
      );
    }
    c.set('error', error);
    return responderProblema(
      c,
      crearProblema(
        'error-interno',
        `Ocurrió un error inesperado. Si persiste, informe el id de correlación ${contexto.idCorrelacion}.`,
        contexto,
      ),
    );
  });

  return app;
}

export type App = ReturnType<typeof crearApp>;
