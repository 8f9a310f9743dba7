import { Hono, type Context } from 'hono';
import { routePath } from 'hono/route';
import * as v from 'valibot';
import { motivoBaseNoDisponible } from './base-no-disponible.js';
import { leerConsulta } from './consulta.js';
import { leerCuerpoJson, LIMITE_CUERPO_BYTES } from './cuerpo.js';
import { crearLectorRecursos, esRecursoSwaggerUi, paginaDocumentacion, RECURSOS_SWAGGER_UI } from './documentacion.js';
import {
  EsquemaClaveIdempotencia,
  EsquemaConsultaListado,
  EsquemaIdPago,
  EsquemaSolicitudPago,
  MENSAJE_NO_ES_OBJETO,
} from './esquemas.js';
import type { Manejadores } from './manejadores.js';
import { crearDocumentoOpenApi, NOMBRE_SERVICIO } from './openapi.js';
import {
  crearProblema,
  problemaDeError,
  problemaSolicitudInvalida,
  TIPO_CONTENIDO_PROBLEMA,
  type ContextoProblema,
  type ErrorCampo,
  type Problema,
} from './problemas.js';
import { estadisticasOutbox, historialPago, paginaPagos, pagoDetalle, pagoRegistrado } from './presentacion.js';
import { CacheRespuestasIdempotentes } from './respuestas-idempotentes.js';
import { idCorrelacionDe, traceparentDe } from './traza.js';

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
  readonly manejadores: Manejadores;
  /** ¿Responde la base de datos? Para `GET /health/ready`. */
  readonly comprobarSalud: () => Promise<boolean>;
  readonly logger: LoggerApi;
  /** Socio al que pertenecen las claves de idempotencia mientras los socios no se autentiquen. */
  readonly idSocioPorDefecto: string;
  /** Genera el id de correlación cuando la petición no trae uno válido. */
  readonly nuevoIdCorrelacion: () => string;
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
}

type Variables = {
  idCorrelacion: string;
  idPago: string | undefined;
  error: unknown;
  /** Por qué la base de datos no estaba disponible (respuesta 503), para el registro. */
  causa: string | undefined;
};
type Ctx = Context<{ Variables: Variables }>;

const RUTAS_COMODIN = new Set(['*', '/*']);
/** Segundos de `Retry-After` cuando la base de datos no está disponible: lo que tarda en volver tras un reinicio. */
const SEGUNDOS_REINTENTO = '5';
const PARAMETROS_LISTADO: ReadonlySet<string> = new Set(Object.keys(EsquemaConsultaListado.entries));

function erroresDeValidacion(issues: readonly v.BaseIssue<unknown>[], prefijo?: string): ErrorCampo[] {
  const errores: ErrorCampo[] = [];
  const vistos = new Set<string>();
  for (const issue of issues) {
    const ruta = v.getDotPath(issue);
    const campo = prefijo ?? ruta ?? 'cuerpo';
    if (vistos.has(campo)) continue;
    vistos.add(campo);
    const falta = ruta !== null && issue.input === undefined;
    errores.push({ campo, mensaje: falta ? 'es obligatorio' : issue.message });
  }
  return errores;
}

const contextoDe = (c: Ctx): ContextoProblema => ({ instancia: c.req.path, idCorrelacion: c.get('idCorrelacion') });

function responderProblema(c: Ctx, problema: Problema, cabeceras: Record<string, string> = {}) {
  return c.body(JSON.stringify(problema), problema.status, { 'Content-Type': TIPO_CONTENIDO_PROBLEMA, ...cabeceras });
}

async function conTope(comprobar: () => Promise<boolean>, ms: number): Promise<{ ok: boolean; causa?: unknown }> {
  let temporizador: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      comprobar().then(
        (ok) => ({ ok }),
        (causa: unknown) => ({ ok: false, causa }),
      ),
      new Promise<{ ok: boolean; causa: unknown }>((resolver) => {
        temporizador = setTimeout(() => resolver({ ok: false, causa: `sin respuesta en ${ms} ms` }), ms);
      }),
    ]);
  } finally {
    clearTimeout(temporizador);
  }
}

/** La API HTTP, construida solo a partir de sus dependencias (los tests la usan con `app.request()`). */
export function crearApp(deps: DependenciasApp) {
  const { manejadores, logger } = deps;
  const limiteCuerpo = deps.limiteCuerpoBytes ?? LIMITE_CUERPO_BYTES;
  const tiempoMaximoSalud = deps.tiempoMaximoSaludMs ?? 2000;
  const documentoOpenApi = JSON.stringify(crearDocumentoOpenApi(deps.version));
  const leerRecurso = crearLectorRecursos(deps.directorioSwaggerUi);
  const pagina = paginaDocumentacion('/openapi.json');
  const replicas = new CacheRespuestasIdempotentes(deps.capacidadCacheReplicas ?? 0);

  const app = new Hono<{ Variables: Variables }>({ strict: false });

  // Correlación y una línea de registro por petición.
  app.use(async (c, next) => {
    const inicio = performance.now();
    const idCorrelacion = idCorrelacionDe(c.req.header('x-correlation-id'), deps.nuevoIdCorrelacion);
    c.set('idCorrelacion', idCorrelacion);
    c.header('X-Correlation-Id', idCorrelacion);
    await next();
    const ruta = routePath(c, -1);
    const estado = c.res.status;
    deps.metricas?.observar(c.req.method, RUTAS_COMODIN.has(ruta) ? 'sin_ruta' : ruta, estado, (performance.now() - inicio) / 1000);
    const campos = {
      metodo: c.req.method,
      ruta: RUTAS_COMODIN.has(ruta) ? null : ruta,
      estado_http: estado,
      duracion_ms: Math.round((performance.now() - inicio) * 100) / 100,
      id_correlacion: idCorrelacion,
      id_pago: c.get('idPago'),
    };
    if (estado === 500) logger.error({ ...campos, err: c.get('error') }, 'solicitud fallida');
    else if (estado > 500) logger.warn({ ...campos, causa: c.get('causa') }, 'solicitud no atendida');
    else logger.info(campos, 'solicitud atendida');
  });

  const registrarPago = async (c: Ctx) => {
    const contexto = contextoDe(c);
    const lectura = await leerCuerpoJson(c.req, limiteCuerpo);
    switch (lectura.tipo) {
      case 'tipo-no-soportado':
        return responderProblema(c, crearProblema('tipo-de-contenido-no-soportado', lectura.detalle, contexto), {
          'Accept-Post': 'application/json',
        });
      case 'demasiado-grande':
        return responderProblema(
          c,
          crearProblema('cuerpo-demasiado-grande', `El cuerpo no puede superar ${limiteCuerpo} bytes.`, contexto),
        );
      case 'invalido':
        return responderProblema(c, problemaSolicitudInvalida([{ campo: lectura.campo, mensaje: lectura.mensaje }], contexto));
      case 'ok':
        break;
    }
    if (Array.isArray(lectura.valor)) {
      // valibot acepta un array como objeto (sin claves); JSON Schema no: se rechaza igual que en el documento.
      return responderProblema(c, problemaSolicitudInvalida([{ campo: 'cuerpo', mensaje: MENSAJE_NO_ES_OBJETO }], contexto));
    }
    const claveCabecera = c.req.header('idempotency-key');
    const clave = claveCabecera === undefined ? undefined : v.safeParse(EsquemaClaveIdempotencia, claveCabecera);
    const cuerpo = v.safeParse(EsquemaSolicitudPago, lectura.valor);
    if (!cuerpo.success || (clave && !clave.success)) {
      const errores = [
        ...(clave && !clave.success ? erroresDeValidacion(clave.issues, 'Idempotency-Key') : []),
        ...(cuerpo.success ? [] : erroresDeValidacion(cuerpo.issues)),
      ];
      return responderProblema(c, problemaSolicitudInvalida(errores, contexto));
    }
    const solicitud = cuerpo.output;
    const idSocio = deps.idSocioPorDefecto;
    const claveIdempotencia = claveCabecera ?? solicitud.referencia_pago;
    const registrada = {
      idAfiliado: solicitud.id_afiliado,
      monto: solicitud.monto,
      moneda: solicitud.moneda,
      referenciaPago: solicitud.referencia_pago,
    };
    const guardada = replicas.buscar(idSocio, claveIdempotencia, registrada);
    if (guardada) return responderRegistro(c, guardada.idPago, guardada.cuerpo, true);

    const resultado = await manejadores.registrarPago({
      tipo: 'RegistrarPago',
      idSocio,
      claveIdempotencia: claveCabecera,
      idAfiliado: solicitud.id_afiliado,
      monto: solicitud.monto,
      moneda: solicitud.moneda,
      referenciaPago: solicitud.referencia_pago,
      traza: { idCorrelacion: contexto.idCorrelacion, traceparent: traceparentDe(c.req.header('traceparent')) },
    });
    if (!resultado.ok) return responderProblema(c, problemaDeError(resultado.error, contexto));
    const { pago, repetido } = resultado.valor;
    const texto = JSON.stringify(pagoRegistrado(pago));
    // Confirmado por la base de datos (creado y durable, o leído de ella): ya puede servir réplicas.
    replicas.guardar(idSocio, claveIdempotencia, registrada, { idPago: pago.id, cuerpo: texto });
    return responderRegistro(c, pago.id, texto, repetido);
  };

  /** La respuesta 200 de `POST /pagos`: la misma, byte a byte, venga de la base de datos o de la caché de réplicas. */
  const responderRegistro = (c: Ctx, idPago: string, cuerpoJson: string, repetido: boolean) => {
    c.set('idPago', idPago);
    if (repetido) {
      c.header('Idempotent-Replayed', 'true');
      deps.metricas?.replicaAbsorbida();
    }
    return c.body(cuerpoJson, 200, { 'Content-Type': 'application/json' });
  };

  /** El `{id}` de la ruta, validado y en minúsculas; o la respuesta 400. */
  const idDeRuta = (c: Ctx): string | Response => {
    const id = v.safeParse(EsquemaIdPago, c.req.param('id'));
    if (!id.success) return responderProblema(c, problemaSolicitudInvalida(erroresDeValidacion(id.issues, 'id'), contextoDe(c)));
    const normalizado = id.output.toLowerCase();
    c.set('idPago', normalizado);
    return normalizado;
  };

  app.post('/pagos', registrarPago);

  app.get('/pagos', async (c) => {
    const lectura = leerConsulta(c.req.url, PARAMETROS_LISTADO);
    if (!lectura.ok) return responderProblema(c, problemaSolicitudInvalida(lectura.errores, contextoDe(c)));
    const consulta = v.safeParse(EsquemaConsultaListado, lectura.valores);
    if (!consulta.success) {
      return responderProblema(c, problemaSolicitudInvalida(erroresDeValidacion(consulta.issues), contextoDe(c)));
    }
    const { estado, id_afiliado, referencia_pago, cursor, limite } = consulta.output;
    const pagina = await manejadores.listarPagos({
      tipo: 'ListarPagos',
      estado,
      idAfiliado: id_afiliado,
      referenciaPago: referencia_pago,
      cursor: cursor?.toLowerCase(),
      limite,
    });
    return c.json(paginaPagos(pagina));
  });

  app.get('/pagos/outbox/estadisticas', async (c) => c.json(estadisticasOutbox(await manejadores.obtenerEstadisticasOutbox())));

  app.get('/pagos/:id', async (c) => {
    const id = idDeRuta(c);
    if (typeof id !== 'string') return id;
    const resultado = await manejadores.obtenerPago({ tipo: 'ObtenerPago', idPago: id });
    if (!resultado.ok) return responderProblema(c, problemaDeError(resultado.error, contextoDe(c)));
    return c.json(pagoDetalle(resultado.valor));
  });

  app.get('/pagos/:id/historial', async (c) => {
    const id = idDeRuta(c);
    if (typeof id !== 'string') return id;
    const resultado = await manejadores.obtenerHistorialPago({ tipo: 'ObtenerHistorialPago', idPago: id });
    if (!resultado.ok) return responderProblema(c, problemaDeError(resultado.error, contextoDe(c)));
    return c.json(historialPago(id, resultado.valor));
  });

  app.get('/health', (c) => c.json({ status: 'healthy', service: NOMBRE_SERVICIO }));

  app.get('/health/ready', async (c) => {
    if (deps.drenando?.()) {
      c.set('causa', 'apagando');
      return responderProblema(
        c,
        crearProblema('servicio-no-disponible', 'La instancia se está apagando: termina lo que tiene en curso y no acepta tráfico nuevo.', contextoDe(c)),
      );
    }
    const salud = await conTope(deps.comprobarSalud, tiempoMaximoSalud);
    if (salud.ok) return c.json({ status: 'ready', service: NOMBRE_SERVICIO });
    logger.warn({ id_correlacion: c.get('idCorrelacion'), err: salud.causa }, 'la base de datos no responde');
    return responderProblema(c, crearProblema('servicio-no-disponible', 'La base de datos no responde.', contextoDe(c)), {
      'Retry-After': SEGUNDOS_REINTENTO,
    });
  });

  const metricas = deps.metricas;
  if (metricas) {
    // Operación, no API de negocio: fuera del documento OpenAPI, como /docs.
    app.get('/metrics', async (c) => {
      const { tipo, cuerpo } = await metricas.exponer();
      return c.body(cuerpo, 200, { 'Content-Type': tipo, 'Cache-Control': 'no-store' });
    });
  }

  app.get('/openapi.json', (c) => c.body(documentoOpenApi, 200, { 'Content-Type': 'application/json; charset=utf-8' }));

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
    responderProblema(
      c,
      crearProblema('recurso-no-encontrado', `No existe la ruta ${c.req.method} ${c.req.path}.`, contextoDe(c)),
    ),
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
