import type { DestinoComprobado, IntentoWebhook, PostgresWebhooks, VistaWebhook } from '@aeropartners/adaptadores';
import { secuenciaDeIdEvento } from '@aeropartners/adaptadores';
import type { Ambito } from '@aeropartners/dominio';
import type { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import * as v from 'valibot';
import { contextoDe, responderProblema, type Ctx, type EnvApp } from './contexto.js';
import type { crearEntrada } from './entrada.js';
import { EsquemaProblema } from './esquemas.js';
import { COMUN_A_PAGOS, esquemaDocumentado, respuesta, respuestaJson } from './openapi.js';
import { TIPO_CONTENIDO_PROBLEMA, crearProblema, problemaSolicitudInvalida } from './problemas.js';

/**
 * Los webhooks del socio autenticado (issue 13, punto 4): registrarlos, listarlos, borrarlos, rotar su
 * secreto, ver cada intento de entrega y reprogramar entregas. Todo en el ámbito del socio (socio y
 * modo): un webhook de otro socio o de otro modo no existe (404). Las entregas no salen de aquí, nunca
 * en línea con una petición: las hace el repartidor del servicio outbox (decisión 0170).
 */

export interface DependenciasRutasWebhooks {
  readonly almacen: Pick<PostgresWebhooks, 'crear' | 'listar' | 'obtener' | 'eliminar' | 'rotarSecreto' | 'intentos' | 'reenviar'>;
  /** La comprobación SSRF del destino (`comprobarDestino` de adaptadores con `WEBHOOKS_PERMITIR_RED_LOCAL`). */
  readonly comprobarDestino: (url: string) => Promise<DestinoComprobado>;
  /** Tras rotar, cuánto tiempo se firma también con el secreto anterior. */
  readonly graciaSecretoMs: number;
  readonly validar: ReturnType<typeof crearEntrada<EnvApp>>['validar'];
}

const MAXIMO_RANGO_REENVIO = 10_000;

const tipoSuscrito = v.pipe(
  v.string('debe ser texto'),
  v.regex(/^(?:\*|[a-z_]{1,40}\.(?:[a-z_]{1,60}|\*))$/, 'debe ser un tipo de evento (pago.exitoso), una familia (pago.*) o * (todos)'),
);

/** Cuerpo de `POST /webhooks`. */
export const EsquemaWebhookNuevo = v.pipe(
  v.object(
    {
      url: v.pipe(
        v.string('debe ser texto'),
        v.minLength(1, 'no puede estar vacía'),
        v.maxLength(2048, 'admite como máximo 2048 caracteres'),
        v.description('Dónde se entregan los eventos: http(s), en una dirección pública (no privada, loopback ni link-local).'),
        v.examples(['https://socio.example/webhooks/aeropartners']),
      ),
      tipos: v.pipe(
        v.array(tipoSuscrito, 'debe ser una lista de tipos'),
        v.minLength(1, 'debe tener al menos un tipo'),
        v.maxLength(50, 'admite como máximo 50 tipos'),
        v.description('Los tipos que recibe: exactos (pago.exitoso), familias (pago.*) o * para todos.'),
        v.examples([['pago.*', 'conversion.aprobada']]),
      ),
    },
    'el cuerpo debe ser un objeto JSON',
  ),
  v.title('WebhookNuevo'),
);

const entero = (campo: string) =>
  v.pipe(v.number(`${campo} debe ser un número`), v.safeInteger(`${campo} debe ser un entero`), v.minValue(1, `${campo} debe ser ≥ 1`));

/** Cuerpo de `POST /webhooks/{id}/reenviar`: un evento (`id_evento`) o un rango de secuencias (`desde`, `hasta`). */
export const EsquemaReenvio = v.pipe(
  v.object(
    {
      id_evento: v.optional(
        v.pipe(
          v.string('debe ser texto'),
          v.maxLength(300, 'admite como máximo 300 caracteres'),
          v.description('El webhook-id de una entrega (evt_…).'),
        ),
      ),
      desde: v.optional(v.pipe(entero('desde'), v.description('Primera secuencia del rango (incluida).'))),
      hasta: v.optional(v.pipe(entero('hasta'), v.description('Última secuencia del rango (incluida).'))),
    },
    'el cuerpo debe ser un objeto JSON',
  ),
  v.title('Reenvio'),
);

const EsquemaRutaId = v.object({
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(100), v.description('El id del webhook (wh_…).')),
});

const EsquemaConsultaIntentos = v.object({
  antes_de: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,15}$/, 'debe ser el id de un intento'),
      v.transform(Number),
      v.number(),
      v.description('Solo los intentos anteriores a este (el `id` del último de la página anterior).'),
    ),
  ),
  limite: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, 'debe ser un entero entre 1 y 200'),
      v.transform(Number),
      v.number(),
      v.minValue(1, 'debe ser un entero entre 1 y 200'),
      v.maxValue(200, 'debe ser un entero entre 1 y 200'),
      v.description('Tamaño de la página (1–200; por defecto 50).'),
    ),
  ),
});

const fecha = v.pipe(v.string(), v.isoTimestamp());
const EsquemaWebhook = v.pipe(
  v.object({
    id: v.string(),
    url: v.string(),
    tipos: v.array(v.string()),
    activo: v.pipe(v.boolean(), v.description('false tras agotar el calendario de reintentos de una entrega (reenviar lo reactiva).')),
    motivo_desactivacion: v.nullable(v.string()),
    desactivado_en: v.nullable(fecha),
    creado_en: fecha,
    secreto_anterior_vigente_hasta: v.pipe(
      v.nullable(fecha),
      v.description('Tras rotar el secreto: hasta cuándo cada entrega va firmada también con el anterior.'),
    ),
    entregas_pendientes: v.number(),
  }),
  v.title('Webhook'),
);
const EsquemaWebhookCreado = v.pipe(
  v.object({
    ...EsquemaWebhook.entries,
    secreto: v.pipe(
      v.string(),
      v.description('El secreto de firma (whsec_…): solo se muestra ahora. Verifique cada entrega con él (Standard Webhooks).'),
    ),
  }),
  v.title('WebhookCreado'),
);
const EsquemaIntento = v.pipe(
  v.object({
    id: v.number(),
    id_evento: v.pipe(v.string(), v.description('El webhook-id enviado: el mismo en cada reintento del mismo evento.')),
    secuencia: v.number(),
    intento: v.pipe(v.number(), v.description('1 = el primero.')),
    ocurrido_en: fecha,
    codigo_estado: v.nullable(v.number()),
    duracion_ms: v.number(),
    resultado: v.picklist(['exitoso', 'error_http', 'tiempo_agotado', 'error_red']),
    error: v.nullable(v.string()),
    proximo_intento: v.pipe(v.nullable(fecha), v.description('null si fue el último (entregado o agotado).')),
  }),
  v.title('IntentoWebhook'),
);

const noEncontrado = {
  description: 'No existe en el ámbito del socio (otro socio u otro modo: tampoco existe).',
  content: { [TIPO_CONTENIDO_PROBLEMA]: { schema: esquemaDocumentado(EsquemaProblema) } },
};

function webhookJson(w: VistaWebhook) {
  return {
    id: w.id,
    url: w.url,
    tipos: [...w.tipos],
    activo: w.activo,
    motivo_desactivacion: w.motivoDesactivacion,
    desactivado_en: w.desactivadoEn?.toISOString() ?? null,
    creado_en: w.creadoEn.toISOString(),
    secreto_anterior_vigente_hasta: w.secretoAnteriorHasta?.toISOString() ?? null,
    entregas_pendientes: w.pendientes,
  };
}

function intentoJson(i: IntentoWebhook) {
  return {
    id: i.id,
    id_evento: i.idEvento,
    secuencia: i.secuencia,
    intento: i.numero,
    ocurrido_en: i.ocurridoEn.toISOString(),
    codigo_estado: i.codigoEstado,
    duracion_ms: i.duracionMs,
    resultado: i.resultado,
    error: i.error,
    proximo_intento: i.proximoIntento?.toISOString() ?? null,
  };
}

const ambitoDe = (c: Ctx): Ambito => {
  const socio = c.get('socio');
  return { idSocio: socio.idSocio, modo: socio.modo };
};

const webhookNoEncontrado = (c: Ctx, id: string) =>
  responderProblema(c, crearProblema('recurso-no-encontrado', `No existe el webhook ${id}.`, contextoDe(c)));

export function rutasWebhooks(app: Hono<EnvApp>, deps: DependenciasRutasWebhooks): void {
  const { validar, almacen } = deps;
  const comun = { ...COMUN_A_PAGOS, tags: ['webhooks'] };

  app.post(
    '/webhooks',
    describeRoute({
      ...comun,
      operationId: 'crearWebhook',
      summary: 'Registrar un webhook',
      description:
        'Recibirá, firmados con Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), los eventos de su registro ' +
        'que se numeren desde ahora y sean de sus tipos; el cuerpo es el mismo objeto que en GET /eventos. Al menos una vez: ' +
        'deduplique por webhook-id. Reintentos ≈ 5 s, 5 min, 30 min, 2 h, 5 h, 10 h y 24 h; después el webhook se desactiva.',
      responses: {
        ...comun.responses,
        '201': respuestaJson(EsquemaWebhookCreado, 'Registrado. El secreto solo se muestra en esta respuesta.'),
        '400': respuesta('SolicitudInvalida'),
        '413': respuesta('CuerpoDemasiadoGrande'),
        '415': respuesta('TipoNoSoportado'),
      },
    }),
    validar('json', EsquemaWebhookNuevo),
    async (c) => {
      const cuerpo = c.req.valid('json');
      const destino = await deps.comprobarDestino(cuerpo.url);
      if (!destino.ok) {
        return responderProblema(c, problemaSolicitudInvalida([{ campo: 'url', mensaje: destino.motivo }], contextoDe(c)));
      }
      const { webhook, secreto } = await almacen.crear(ambitoDe(c), { url: destino.url.href, tipos: [...new Set(cuerpo.tipos)] });
      c.header('Location', `/webhooks/${webhook.id}`);
      return c.json({ ...webhookJson(webhook), secreto }, 201);
    },
  );

  app.get(
    '/webhooks',
    describeRoute({
      ...comun,
      operationId: 'listarWebhooks',
      summary: 'Listar los webhooks (sin sus secretos)',
      responses: {
        ...comun.responses,
        '200': respuestaJson(v.pipe(v.object({ webhooks: v.array(EsquemaWebhook) }), v.title('ListaWebhooks')), 'Los webhooks del socio.'),
      },
    }),
    async (c) => c.json({ webhooks: (await almacen.listar(ambitoDe(c))).map(webhookJson) }),
  );

  app.get(
    '/webhooks/:id',
    describeRoute({
      ...comun,
      operationId: 'obtenerWebhook',
      summary: 'Un webhook (sin su secreto)',
      responses: { ...comun.responses, '200': respuestaJson(EsquemaWebhook, 'El webhook.'), '404': noEncontrado },
    }),
    validar('param', EsquemaRutaId),
    async (c) => {
      const { id } = c.req.valid('param');
      const w = await almacen.obtener(ambitoDe(c), id);
      return w ? c.json(webhookJson(w)) : webhookNoEncontrado(c, id);
    },
  );

  app.delete(
    '/webhooks/:id',
    describeRoute({
      ...comun,
      operationId: 'borrarWebhook',
      summary: 'Borrar un webhook (sus entregas pendientes no salen)',
      responses: { ...comun.responses, '204': { description: 'Borrado.' }, '404': noEncontrado },
    }),
    validar('param', EsquemaRutaId),
    async (c) => {
      const { id } = c.req.valid('param');
      return (await almacen.eliminar(ambitoDe(c), id)) ? c.body(null, 204) : webhookNoEncontrado(c, id);
    },
  );

  app.post(
    '/webhooks/:id/rotar-secreto',
    describeRoute({
      ...comun,
      operationId: 'rotarSecretoWebhook',
      summary: 'Rotar el secreto de firma',
      description:
        'Devuelve un secreto nuevo (solo ahora). Durante el plazo de gracia cada entrega lleva dos firmas en webhook-signature, ' +
        'con el nuevo y con el anterior: cambie el suyo cuando quiera dentro del plazo sin rechazar ninguna.',
      responses: {
        ...comun.responses,
        '200': respuestaJson(
          v.pipe(v.object({ secreto: v.string(), secreto_anterior_vigente_hasta: fecha }), v.title('SecretoRotado')),
          'El secreto nuevo y hasta cuándo vale también el anterior.',
        ),
        '404': noEncontrado,
      },
    }),
    validar('param', EsquemaRutaId),
    async (c) => {
      const { id } = c.req.valid('param');
      const r = await almacen.rotarSecreto(ambitoDe(c), id, deps.graciaSecretoMs);
      if (!r) return webhookNoEncontrado(c, id);
      return c.json({ secreto: r.secreto, secreto_anterior_vigente_hasta: r.anteriorVigenteHasta.toISOString() });
    },
  );

  app.get(
    '/webhooks/:id/intentos',
    describeRoute({
      ...comun,
      operationId: 'listarIntentosWebhook',
      summary: 'Los intentos de entrega, del más reciente al más antiguo',
      responses: {
        ...comun.responses,
        '200': respuestaJson(
          v.pipe(v.object({ intentos: v.array(EsquemaIntento), hay_mas: v.boolean() }), v.title('PaginaIntentos')),
          'Cada intento: hora, código de estado, duración, resultado, error y próximo intento.',
        ),
        '400': respuesta('SolicitudInvalida'),
        '404': noEncontrado,
      },
    }),
    validar('param', EsquemaRutaId),
    validar('query', EsquemaConsultaIntentos),
    async (c) => {
      const { id } = c.req.valid('param');
      const consulta = c.req.valid('query');
      const r = await almacen.intentos(ambitoDe(c), id, { antesDe: consulta.antes_de, limite: consulta.limite ?? 50 });
      if (!r) return webhookNoEncontrado(c, id);
      return c.json({ intentos: r.intentos.map(intentoJson), hay_mas: r.hayMas });
    },
  );

  app.post(
    '/webhooks/:id/reenviar',
    describeRoute({
      ...comun,
      operationId: 'reenviarWebhook',
      summary: 'Reprogramar la entrega de un evento o de un rango de secuencias',
      description:
        'Con {"id_evento"} (el webhook-id de una entrega) o {"desde", "hasta"} (secuencias del registro, como mucho ' +
        `${MAXIMO_RANGO_REENVIO}): los eventos de sus tipos se entregan otra vez, ya, con el mismo webhook-id. Si el webhook estaba ` +
        'desactivado, se reactiva. Los eventos que la retención ya borró no se pueden reenviar.',
      responses: {
        ...comun.responses,
        '202': respuestaJson(
          v.pipe(v.object({ entregas_programadas: v.number() }), v.title('ReenvioProgramado')),
          'Programado: el repartidor lo entrega en cuanto pueda.',
        ),
        '400': respuesta('SolicitudInvalida'),
        '404': noEncontrado,
      },
    }),
    validar('param', EsquemaRutaId),
    validar('json', EsquemaReenvio),
    async (c) => {
      const { id } = c.req.valid('param');
      const cuerpo = c.req.valid('json');
      const ambito = ambitoDe(c);
      const contexto = contextoDe(c);
      let rango: { desde: number; hasta: number };
      if (cuerpo.id_evento !== undefined) {
        if (cuerpo.desde !== undefined || cuerpo.hasta !== undefined) {
          return responderProblema(
            c,
            problemaSolicitudInvalida([{ campo: 'id_evento', mensaje: 'se envía id_evento o desde/hasta, no los dos' }], contexto),
          );
        }
        const secuencia = secuenciaDeIdEvento(ambito, cuerpo.id_evento);
        if (secuencia === undefined) {
          return responderProblema(
            c,
            crearProblema(
              'recurso-no-encontrado',
              `No existe el evento ${cuerpo.id_evento} en el registro de este socio y modo.`,
              contexto,
            ),
          );
        }
        rango = { desde: secuencia, hasta: secuencia };
      } else {
        if (cuerpo.desde === undefined || cuerpo.hasta === undefined) {
          return responderProblema(
            c,
            problemaSolicitudInvalida(
              [{ campo: cuerpo.desde === undefined ? 'desde' : 'hasta', mensaje: 'se envía id_evento, o desde y hasta' }],
              contexto,
            ),
          );
        }
        if (cuerpo.hasta < cuerpo.desde || cuerpo.hasta - cuerpo.desde >= MAXIMO_RANGO_REENVIO) {
          return responderProblema(
            c,
            problemaSolicitudInvalida(
              [{ campo: 'hasta', mensaje: `debe ser ≥ desde y el rango de como mucho ${MAXIMO_RANGO_REENVIO} secuencias` }],
              contexto,
            ),
          );
        }
        rango = { desde: cuerpo.desde, hasta: cuerpo.hasta };
      }
      const r = await almacen.reenviar(ambito, id, rango);
      if (r.tipo === 'webhook-no-encontrado') return webhookNoEncontrado(c, id);
      if (cuerpo.id_evento !== undefined && r.entregas === 0) {
        return responderProblema(
          c,
          crearProblema(
            'recurso-no-encontrado',
            `No existe el evento ${cuerpo.id_evento} en el registro (o no es de los tipos del webhook, o la retención ya lo borró).`,
            contexto,
          ),
        );
      }
      return c.json({ entregas_programadas: r.entregas }, 202);
    },
  );
}
