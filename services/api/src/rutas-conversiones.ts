import type { ConsultasComisiones, ErrorRegistrarHecho, RegistrarHecho, VistaConversion } from '@aeropartners/aplicacion';
import { Dinero, EstadoConversion, HechoConversion, Moneda, type Ambito, type CredencialEscritura } from '@aeropartners/dominio';
import type { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import * as v from 'valibot';
import { contextoDe, responderProblema, type Ctx, type EnvApp } from './contexto.js';
import type { crearEntrada } from './entrada.js';
import { EsquemaProblema } from './esquemas.js';
import { COMUN_A_PAGOS, esquemaDocumentado, respuesta, respuestaJson } from './openapi.js';
import { TIPO_CONTENIDO_PROBLEMA, crearProblema, problemaSolicitudInvalida, type ErrorCampo } from './problemas.js';
import { traceparentDe } from './traza.js';

/**
 * Las rutas de conversiones y comisiones (issue 12): registrar hechos de conversión y consultar
 * conversiones, saldos de afiliados y liquidaciones. Todo dentro del ámbito del socio autenticado
 * (`c.get('socio')`): lo de otro socio o de otro modo no existe (404).
 */

export interface DependenciasRutasConversiones {
  readonly registrarHecho: RegistrarHecho;
  readonly consultas: ConsultasComisiones;
  readonly validar: ReturnType<typeof crearEntrada<EnvApp>>['validar'];
}

const MAXIMO_ID = 255;
const id = (descripcion: string, ejemplo: string) =>
  v.pipe(
    v.string('debe ser texto'),
    v.minLength(1, 'no puede estar vacío'),
    v.maxLength(MAXIMO_ID, `admite como máximo ${MAXIMO_ID} caracteres`),
    v.description(descripcion),
    v.examples([ejemplo]),
  );

/** Cuerpo de `POST /conversiones/eventos`. Los campos desconocidos se ignoran; lo que depende del tipo lo valida el dominio. */
export const EsquemaHechoConversion = v.pipe(
  v.object(
    {
      id_evento: id('Clave de idempotencia del hecho: única por socio y modo, para siempre.', 'evt-123'),
      tipo: v.pipe(
        v.picklist(
          HechoConversion.tipos.map((t) => `conversion.${t}` as const),
          `debe ser uno de: ${HechoConversion.tipos.map((t) => `conversion.${t}`).join(', ')}`,
        ),
        v.description('Qué pasó con la conversión.'),
      ),
      id_conversion: id('La conversión (venta) en el sistema del socio.', 'venta-42'),
      id_afiliado: v.optional(id('El afiliado que trajo la venta (obligatorio en conversion.creada).', 'afiliado-7')),
      monto: v.optional(
        v.pipe(
          v.number('debe ser un número JSON'),
          v.gtValue(0, 'debe ser mayor que 0'),
          v.description('Importe de la venta en unidades de la moneda (obligatorio en creada; en ajustada, el nuevo importe ABSOLUTO).'),
        ),
      ),
      moneda: v.optional(v.picklist(Moneda.todas, `debe ser una de: ${Moneda.todas.join(', ')}`)),
      ocurrido_en: v.pipe(
        v.string('debe ser texto'),
        v.isoTimestamp('debe ser una fecha ISO 8601 con zona'),
        v.description('Cuándo ocurrió, según el socio.'),
      ),
      version: v.optional(
        v.pipe(
          v.number('debe ser un número'),
          v.safeInteger('debe ser un entero'),
          v.minValue(0, 'debe ser ≥ 0'),
          v.description('Versión creciente por conversión (opcional).'),
        ),
      ),
      motivo: v.optional(v.pipe(v.string('debe ser texto'), v.maxLength(1000, 'admite como máximo 1000 caracteres'))),
    },
    'el cuerpo debe ser un objeto JSON',
  ),
  v.title('HechoConversion'),
);

const EsquemaHechoAceptado = v.pipe(
  v.object({ id_evento: v.string(), id_conversion: v.string(), estado_evento: v.literal('ACEPTADO') }),
  v.title('HechoAceptado'),
);

const importe = v.pipe(v.number(), v.minValue(0), v.description('Importe como número JSON (150.75).'));
const EsquemaComisionDeConversion = v.nullable(
  v.object({
    monto: importe,
    moneda: v.picklist(Moneda.todas),
    estado: v.picklist(['PENDIENTE', 'APROBADA', 'EN_LIQUIDACION', 'PAGADA', 'REVERTIDA']),
  }),
);
const camposConversion = {
  id_conversion: v.string(),
  estado: v.picklist(EstadoConversion.todos),
  bloqueada: v.pipe(
    v.boolean(),
    v.description('Un conflicto entre hechos (p. ej. dos creaciones distintas) la bloquea hasta que intervenga un operador.'),
  ),
  huerfana: v.pipe(v.boolean(), v.description('Sus hechos esperan una creación que no llegó en el plazo.')),
  id_afiliado: v.nullable(v.string()),
  monto: v.nullable(importe),
  moneda: v.nullable(v.picklist(Moneda.todas)),
  comision: EsquemaComisionDeConversion,
};
const EsquemaConversion = v.pipe(
  v.object({
    ...camposConversion,
    hechos: v.array(
      v.object({
        id_evento: v.string(),
        tipo: v.string(),
        ocurrido_en: v.string(),
        recibido_en: v.string(),
        aplicado: v.boolean(),
        version: v.nullable(v.number()),
        monto: v.nullable(importe),
        moneda: v.nullable(v.picklist(Moneda.todas)),
      }),
    ),
  }),
  v.title('Conversion'),
  v.description(
    'Estado y venta son función del conjunto de hechos recibidos; la comisión, la guardada al aplicarlos. Hechos en orden de llegada.',
  ),
);
const EsquemaPaginaConversiones = v.pipe(
  v.object({ conversiones: v.array(v.object(camposConversion)), siguiente_cursor: v.nullable(v.string()) }),
  v.title('PaginaConversiones'),
);
const EsquemaHistorialConversion = v.pipe(
  v.object({
    id_conversion: v.string(),
    historial: v.array(
      v.object({
        tipo: v.string(),
        id_evento: v.nullable(v.string()),
        estado: v.nullable(v.string()),
        detalle: v.record(v.string(), v.unknown()),
        ocurrido_en: v.string(),
        id_correlacion: v.string(),
      }),
    ),
  }),
  v.title('HistorialConversion'),
);
const EsquemaSaldos = v.pipe(
  v.object({
    saldos: v.array(
      v.object({
        moneda: v.picklist(Moneda.todas),
        pendiente: importe,
        aprobado: importe,
        en_liquidacion: importe,
        pagado: importe,
        por_recuperar: importe,
      }),
    ),
  }),
  v.title('SaldosAfiliado'),
);
const EsquemaLiquidacion = v.pipe(
  v.object({
    id: v.string(),
    id_afiliado: v.string(),
    moneda: v.picklist(Moneda.todas),
    monto: importe,
    estado: v.picklist(['EN_CURSO', 'PAGADA', 'ANULADA']),
    id_ejecucion: v.string(),
    creada_en: v.string(),
    partidas: v.array(v.object({ tipo: v.string(), id: v.string(), id_conversion: v.string(), monto: importe })),
    id_pago: v.string(),
    estado_pago: v.nullable(v.string()),
  }),
  v.title('Liquidacion'),
);

const EsquemaConsultaConversiones = v.object({
  estado: v.optional(v.picklist(EstadoConversion.todos, `debe ser uno de: ${EstadoConversion.todos.join(', ')}`)),
  id_afiliado: v.optional(id('Filtra por afiliado.', 'afiliado-7')),
  cursor: v.optional(id('El siguiente_cursor de la página anterior.', 'venta-42')),
  limite: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, 'debe ser un entero entre 1 y 200'),
      v.transform(Number),
      v.minValue(1, 'debe ser un entero entre 1 y 200'),
      v.maxValue(200, 'debe ser un entero entre 1 y 200'),
    ),
  ),
});
const EsquemaRutaId = v.object({ id: id('Identificador.', 'venta-42') });

const noEncontrado = {
  description: 'No existe en el ámbito del socio (otro socio u otro modo: tampoco existe).',
  content: { [TIPO_CONTENIDO_PROBLEMA]: { schema: esquemaDocumentado(EsquemaProblema) } },
};

/** Unidades menores → número JSON en unidades de la moneda (exacto: se arma desde los dígitos). */
function aNumero(unidades: number, moneda: string): number {
  const decimales = Moneda.esMoneda(moneda) ? Moneda.decimales(moneda) : 2;
  const texto = String(unidades).padStart(decimales + 1, '0');
  return Number(decimales === 0 ? texto : `${texto.slice(0, -decimales)}.${texto.slice(-decimales)}`);
}

function vistaConversion(c: VistaConversion) {
  return {
    id_conversion: c.idConversion,
    estado: c.estado,
    bloqueada: c.bloqueada,
    huerfana: c.huerfana,
    id_afiliado: c.idAfiliado,
    monto: c.venta ? aNumero(c.venta.unidadesMenores, c.venta.moneda) : null,
    moneda: c.venta?.moneda ?? null,
    comision: c.comision
      ? { monto: aNumero(c.comision.unidadesMenores, c.comision.moneda), moneda: c.comision.moneda, estado: c.comision.estado }
      : null,
  };
}

/** Un error de validación del dominio como el campo del cuerpo que falló. */
function campoDeError(error: Extract<ErrorRegistrarHecho, { tipo: 'HechoInvalido' }>): ErrorCampo {
  const e = error.error;
  switch (e.tipo) {
    case 'DatoInvalido':
      return { campo: e.campo, mensaje: e.motivo };
    case 'CampoObligatorio':
      return { campo: e.campo, mensaje: `es obligatorio en conversion.${e.tipoHecho}` };
    case 'CampoNoAdmitido':
      return { campo: e.campo, mensaje: `no se admite en conversion.${e.tipoHecho}` };
    case 'TipoDeHechoDesconocido':
      return { campo: 'tipo', mensaje: 'tipo desconocido' };
    default:
      return { campo: 'monto', mensaje: `importe no válido (${e.tipo})` };
  }
}

/** La credencial de la petición, para que la sentencia que escribe compruebe que sigue valiendo. */
const credencialDe = (c: Ctx): CredencialEscritura => ({ idClave: c.get('socio').idClave });

const ambitoDe = (c: Ctx): Ambito => {
  const socio = c.get('socio');
  return { idSocio: socio.idSocio, modo: socio.modo };
};

export function rutasConversiones(app: Hono<EnvApp>, deps: DependenciasRutasConversiones): void {
  const { validar, consultas } = deps;
  const comun = { ...COMUN_A_PAGOS, tags: ['conversiones'] };

  app.post(
    '/conversiones/eventos',
    describeRoute({
      ...comun,
      operationId: 'registrarHechoConversion',
      summary: 'Registrar un hecho de una conversión (idempotente por id_evento)',
      description:
        'Guarda el hecho y su evento en una sola escritura durable y responde 202: el consumidor lo aplica (en cualquier orden y ' +
        'con cualquier número de copias, el estado es función del conjunto de hechos). El mismo evento otra vez devuelve la ' +
        'misma respuesta con Idempotent-Replayed: true; el mismo id_evento con otro contenido, 422.',
      responses: {
        ...comun.responses,
        '202': respuestaJson(EsquemaHechoAceptado, 'Hecho aceptado (o repetición idempotente de uno ya aceptado).', {
          'Idempotent-Replayed': {
            description: 'true si repite la respuesta de una petición anterior con el mismo id_evento.',
            schema: { type: 'string', enum: ['true'] },
          },
        }),
        '400': respuesta('SolicitudInvalida'),
        '413': respuesta('CuerpoDemasiadoGrande'),
        '415': respuesta('TipoNoSoportado'),
        '422': respuesta('ClaveReutilizada'),
      },
    }),
    validar('json', EsquemaHechoConversion),
    async (c) => {
      const s = c.req.valid('json');
      const contexto = contextoDe(c);
      let monto: { unidadesMenores: number; moneda: string } | null = null;
      if (s.monto !== undefined) {
        if (s.moneda === undefined)
          return responderProblema(c, problemaSolicitudInvalida([{ campo: 'moneda', mensaje: 'es obligatoria con monto' }], contexto));
        const d = Dinero.de(s.monto, s.moneda);
        if (!d.ok)
          return responderProblema(
            c,
            problemaSolicitudInvalida([{ campo: 'monto', mensaje: `importe no válido (${d.error.tipo})` }], contexto),
          );
        monto = { unidadesMenores: d.valor.unidadesMenores, moneda: d.valor.moneda };
      }
      const r = await deps.registrarHecho(
        ambitoDe(c),
        {
          idEvento: s.id_evento,
          tipo: s.tipo.slice('conversion.'.length),
          idConversion: s.id_conversion,
          idAfiliado: s.id_afiliado ?? null,
          monto,
          ocurridoEn: new Date(s.ocurrido_en),
          version: s.version ?? null,
          motivo: s.motivo ?? null,
        },
        {
          idCorrelacion: contexto.idCorrelacion,
          traceparent: traceparentDe(c.req.header('traceparent')),
          idSolicitud: c.get('idSolicitud'),
        },
        credencialDe(c),
      );
      if (!r.ok) {
        if (r.error.tipo === 'EventoReutilizado') {
          return responderProblema(
            c,
            crearProblema(
              'clave-idempotencia-reutilizada',
              `El id_evento ${r.error.idEvento} ya se usó con otro contenido: un hecho nuevo necesita un id_evento nuevo.`,
              contexto,
            ),
          );
        }
        if (r.error.tipo === 'CredencialDenegada') {
          // La credencial dejó de valer entre la autenticación y la escritura (revocada, expirada, socio suspendido).
          return responderProblema(
            c,
            r.error.motivo === 'socio-suspendido'
              ? crearProblema('socio-suspendido', 'El socio está suspendido: no se registró nada.', contexto)
              : crearProblema(
                  'clave-invalida',
                  'La clave de API dejó de valer mientras se atendía la petición: no se registró nada.',
                  contexto,
                  {
                    motivo: r.error.motivo,
                  },
                ),
          );
        }
        return responderProblema(c, problemaSolicitudInvalida([campoDeError(r.error)], contexto));
      }
      if (r.valor.repetido) c.header('Idempotent-Replayed', 'true');
      return c.json({ id_evento: r.valor.idEvento, id_conversion: r.valor.idConversion, estado_evento: 'ACEPTADO' as const }, 202);
    },
  );

  app.get(
    '/conversiones',
    describeRoute({
      ...comun,
      operationId: 'listarConversiones',
      summary: 'Listar conversiones (por id, paginado por cursor)',
      responses: {
        ...comun.responses,
        '200': respuestaJson(EsquemaPaginaConversiones, 'Una página de conversiones.'),
        '400': respuesta('SolicitudInvalida'),
      },
    }),
    validar('query', EsquemaConsultaConversiones),
    async (c) => {
      const q = c.req.valid('query');
      const limite = q.limite ?? 50;
      const filas = await consultas.conversiones(ambitoDe(c), {
        estado: q.estado,
        idAfiliado: q.id_afiliado,
        despuesDe: q.cursor,
        limite: limite + 1,
      });
      const pagina = filas.slice(0, limite);
      return c.json({
        conversiones: pagina.map(vistaConversion),
        siguiente_cursor: filas.length > limite ? (pagina.at(-1)?.idConversion ?? null) : null,
      });
    },
  );

  app.get(
    '/conversiones/:id',
    describeRoute({
      ...comun,
      operationId: 'obtenerConversion',
      summary: 'Estado, venta, comisión y hechos de una conversión',
      responses: { ...comun.responses, '200': respuestaJson(EsquemaConversion, 'La conversión.'), '404': noEncontrado },
    }),
    validar('param', EsquemaRutaId),
    async (c) => {
      const idConversion = c.req.valid('param').id;
      const vista = await consultas.conversion(ambitoDe(c), idConversion);
      if (!vista) {
        return responderProblema(c, crearProblema('recurso-no-encontrado', `No existe la conversión ${idConversion}.`, contextoDe(c)));
      }
      return c.json({
        ...vistaConversion(vista),
        hechos: vista.hechos.map((h) => ({
          id_evento: h.idEvento,
          tipo: `conversion.${h.tipo}`,
          ocurrido_en: h.ocurridoEn.toISOString(),
          recibido_en: h.recibidoEn.toISOString(),
          aplicado: h.aplicado,
          version: h.version,
          monto: h.monto ? aNumero(h.monto.unidadesMenores, h.monto.moneda) : null,
          moneda: h.monto?.moneda ?? null,
        })),
      });
    },
  );

  app.get(
    '/conversiones/:id/historial',
    describeRoute({
      ...comun,
      operationId: 'obtenerHistorialConversion',
      summary: 'Historial de una conversión: cada hecho recibido y aplicado, y su comisión pagada o liberada',
      responses: {
        ...comun.responses,
        '200': respuestaJson(EsquemaHistorialConversion, 'Cada paso, en orden, con su id de correlación.'),
        '404': noEncontrado,
      },
    }),
    validar('param', EsquemaRutaId),
    async (c) => {
      const idConversion = c.req.valid('param').id;
      const historial = await consultas.historial(ambitoDe(c), idConversion);
      if (historial.length === 0) {
        return responderProblema(c, crearProblema('recurso-no-encontrado', `No existe la conversión ${idConversion}.`, contextoDe(c)));
      }
      return c.json({
        id_conversion: idConversion,
        historial: historial.map((h) => ({
          tipo: h.tipo,
          id_evento: h.idEvento,
          estado: h.estado,
          detalle: h.detalle,
          ocurrido_en: h.ocurridoEn.toISOString(),
          id_correlacion: h.idCorrelacion,
        })),
      });
    },
  );

  app.get(
    '/afiliados/:id/saldo',
    describeRoute({
      ...comun,
      operationId: 'obtenerSaldoAfiliado',
      summary: 'Saldo de comisiones de un afiliado, por moneda (del libro mayor)',
      responses: { ...comun.responses, '200': respuestaJson(EsquemaSaldos, 'Los saldos (vacío si el afiliado no tiene movimientos).') },
    }),
    validar('param', EsquemaRutaId),
    async (c) => {
      const saldos = await consultas.saldos(ambitoDe(c), c.req.valid('param').id);
      return c.json({
        saldos: saldos.map(({ moneda, saldos: s }) => ({
          moneda,
          pendiente: aNumero(s.pendiente, moneda),
          aprobado: aNumero(s.aprobado, moneda),
          en_liquidacion: aNumero(s.en_liquidacion, moneda),
          pagado: aNumero(s.pagado, moneda),
          por_recuperar: aNumero(s.por_recuperar, moneda),
        })),
      });
    },
  );

  app.get(
    '/liquidaciones/:id',
    describeRoute({
      ...comun,
      operationId: 'obtenerLiquidacion',
      summary: 'Una liquidación: afiliado, moneda, importe, partidas y su pago',
      responses: { ...comun.responses, '200': respuestaJson(EsquemaLiquidacion, 'La liquidación.'), '404': noEncontrado },
    }),
    validar('param', EsquemaRutaId),
    async (c) => {
      const idLiquidacion = c.req.valid('param').id;
      const l = await consultas.liquidacion(ambitoDe(c), idLiquidacion);
      if (!l)
        return responderProblema(c, crearProblema('recurso-no-encontrado', `No existe la liquidación ${idLiquidacion}.`, contextoDe(c)));
      return c.json({
        id: l.id,
        id_afiliado: l.idAfiliado,
        moneda: l.moneda,
        monto: aNumero(l.netoUnidadesMenores, l.moneda),
        estado: l.estado,
        id_ejecucion: l.idEjecucion,
        creada_en: l.creadaEn.toISOString(),
        partidas: l.partidas.map((p) => ({
          tipo: p.tipo,
          id: p.id,
          id_conversion: p.idConversion,
          monto: aNumero(p.unidadesMenores, l.moneda),
        })),
        id_pago: l.idPago,
        estado_pago: l.estadoPago,
      });
    },
  );
}
