import type { Ambito } from '@aeropartners/dominio';
import type { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import { contextoDe, responderProblema, type Ctx, type EnvApp } from './contexto.js';
import type { crearEntrada } from './entrada.js';
import {
  EsquemaCabecerasRegistro,
  EsquemaConsultaListado,
  EsquemaEstadisticasOutbox,
  EsquemaHistorialPago,
  EsquemaPaginaPagos,
  EsquemaPago,
  EsquemaPagoRegistrado,
  EsquemaRutaPago,
  EsquemaSolicitudPago,
} from './esquemas.js';
import type { Manejadores } from './manejadores.js';
import { COMUN_A_PAGOS, PARAMETROS_FIRMA, respuesta, respuestaJson } from './openapi.js';
import { problemaDeError } from './problemas.js';
import { lineaDeTiempoJson, type LeerLineaDeTiempo } from './linea-de-tiempo.js';
import { estadisticasOutbox, historialPago, paginaPagos, pagoDetalle, pagoRegistrado } from './presentacion.js';
import type { CacheRespuestasIdempotentes } from './respuestas-idempotentes.js';
import type { SocioAutenticado } from './socio-autenticado.js';
import { traceparentDe } from './traza.js';

export interface DependenciasRutasPagos {
  readonly manejadores: Manejadores;
  readonly replicas: CacheRespuestasIdempotentes;
  /** Una réplica de `POST /pagos` respondida sin crear nada: el duplicado absorbido en la entrada (su ámbito y su clave). */
  readonly replicaAbsorbida: (replica: ReplicaAbsorbida) => void;
  readonly validar: ReturnType<typeof crearEntrada<EnvApp>>['validar'];
  /** La línea de tiempo entre procesos (issue 13, punto 5): con ella, el historial la incluye. */
  readonly lineaDeTiempo?: LeerLineaDeTiempo | undefined;
}

/** Un duplicado absorbido en la entrada: qué socio, qué clave, qué pago y qué petición lo trajo. */
export interface ReplicaAbsorbida {
  readonly ambito: Ambito;
  readonly clave: string;
  readonly idPago: string;
  readonly idSolicitud: string;
}

/** El ámbito de todo lo que hace la petición: el del socio autenticado, y solo ese (nada del cuerpo ni de la URL). */
const ambitoDe = (socio: SocioAutenticado): Ambito => ({ idSocio: socio.idSocio, modo: socio.modo });

/** Las rutas de negocio: registrar un pago y consultarlos. Cada una con su entrada validada y documentada. */
export function rutasPagos(app: Hono<EnvApp>, deps: DependenciasRutasPagos): void {
  const { manejadores, replicas, validar } = deps;

  /** La respuesta 200 de `POST /pagos`: la misma, byte a byte, venga de la base de datos o de la caché de réplicas. */
  const responderRegistro = (c: Ctx, idPago: string, cuerpoJson: string, repetido: boolean, clave: string) => {
    c.set('idPago', idPago);
    if (repetido) {
      c.header('Idempotent-Replayed', 'true');
      deps.replicaAbsorbida({ ambito: ambitoDe(c.get('socio')), clave, idPago, idSolicitud: c.get('idSolicitud') });
    }
    return c.body(cuerpoJson, 200, { 'Content-Type': 'application/json' });
  };

  app.use('/pagos/*', describeRoute(COMUN_A_PAGOS));

  app.post(
    '/pagos',
    describeRoute({
      operationId: 'registrarPago',
      tags: ['pagos'],
      parameters: PARAMETROS_FIRMA,
      summary: 'Registrar un pago (idempotente)',
      description:
        'Crea un pago en PENDIENTE con su evento PagoPendiente. La clave de idempotencia es la cabecera ' +
        'Idempotency-Key o, si falta, referencia_pago (por socio). Repetir la misma clave con el mismo cuerpo ' +
        'devuelve la respuesta original con Idempotent-Replayed: true; con otro cuerpo, 422.',
      responses: {
        '200': respuestaJson(EsquemaPagoRegistrado, 'Pago registrado (o repetición idempotente de uno ya registrado).', {
          'Idempotent-Replayed': {
            description: 'true si la respuesta repite la de una petición anterior con la misma clave.',
            schema: { type: 'string', enum: ['true'] },
          },
        }),
        '413': respuesta('CuerpoDemasiadoGrande'),
        '415': respuesta('TipoNoSoportado'),
        '422': respuesta('ClaveReutilizada'),
      },
    }),
    // El cuerpo primero: si no vale, el 400 nombra también la cabecera (ver `entrada.ts`).
    validar('json', EsquemaSolicitudPago),
    validar('header', EsquemaCabecerasRegistro),
    async (c) => {
      const solicitud = c.req.valid('json');
      const claveCabecera = c.req.valid('header')['Idempotency-Key'];
      const socio = c.get('socio');
      const claveIdempotencia = claveCabecera ?? solicitud.referencia_pago;
      const registrada = {
        idAfiliado: solicitud.id_afiliado,
        monto: solicitud.monto,
        moneda: solicitud.moneda,
        referenciaPago: solicitud.referencia_pago,
      };
      const guardada = replicas.buscar(socio, claveIdempotencia, registrada);
      if (guardada) return responderRegistro(c, guardada.idPago, guardada.cuerpo, true, claveIdempotencia);

      const contexto = contextoDe(c);
      const resultado = await manejadores.registrarPago({
        tipo: 'RegistrarPago',
        ambito: ambitoDe(socio),
        credencial: { idClave: socio.idClave },
        claveIdempotencia: claveCabecera,
        ...registrada,
        traza: {
          idCorrelacion: contexto.idCorrelacion,
          traceparent: traceparentDe(c.req.header('traceparent')),
          idSolicitud: c.get('idSolicitud'),
        },
      });
      if (!resultado.ok) return responderProblema(c, problemaDeError(resultado.error, contexto));
      const { pago, repetido } = resultado.valor;
      const texto = JSON.stringify(pagoRegistrado(pago));
      // Confirmado por la base de datos (creado y durable, o leído de ella): ya puede servir réplicas.
      replicas.guardar(socio, claveIdempotencia, registrada, { idPago: pago.id, cuerpo: texto });
      return responderRegistro(c, pago.id, texto, repetido, claveIdempotencia);
    },
  );

  app.get(
    '/pagos',
    describeRoute({
      operationId: 'listarPagos',
      tags: ['pagos'],
      summary: 'Listar pagos (del más nuevo al más viejo, paginado por cursor)',
      responses: { '200': respuestaJson(EsquemaPaginaPagos, 'Una página de pagos.') },
    }),
    validar('query', EsquemaConsultaListado),
    async (c) => {
      const { estado, id_afiliado, referencia_pago, cursor, limite } = c.req.valid('query');
      const pagina = await manejadores.listarPagos({
        tipo: 'ListarPagos',
        ambito: ambitoDe(c.get('socio')),
        estado,
        idAfiliado: id_afiliado,
        referenciaPago: referencia_pago,
        cursor: cursor?.toLowerCase(),
        limite,
      });
      return c.json(paginaPagos(pagina));
    },
  );

  app.get(
    '/pagos/outbox/estadisticas',
    describeRoute({
      operationId: 'estadisticasOutbox',
      tags: ['operación'],
      summary: 'Eventos del outbox: total, publicados y pendientes',
      responses: { '200': respuestaJson(EsquemaEstadisticasOutbox, 'Recuento de eventos.') },
    }),
    async (c) =>
      c.json(
        estadisticasOutbox(
          await manejadores.obtenerEstadisticasOutbox({ tipo: 'ObtenerEstadisticasOutbox', ambito: ambitoDe(c.get('socio')) }),
        ),
      ),
  );

  /** El `{id}` de la ruta, ya validado, en minúsculas (y en el registro de la petición). */
  const idDeRuta = (c: Ctx, id: string) => {
    const normalizado = id.toLowerCase();
    c.set('idPago', normalizado);
    return normalizado;
  };

  app.get(
    '/pagos/:id',
    describeRoute({
      operationId: 'obtenerPago',
      tags: ['pagos'],
      summary: 'Estado de un pago',
      responses: { '200': respuestaJson(EsquemaPago, 'El pago.'), '404': respuesta('PagoNoEncontrado') },
    }),
    validar('param', EsquemaRutaPago),
    async (c) => {
      const resultado = await manejadores.obtenerPago({
        tipo: 'ObtenerPago',
        ambito: ambitoDe(c.get('socio')),
        idPago: idDeRuta(c, c.req.valid('param').id),
      });
      if (!resultado.ok) return responderProblema(c, problemaDeError(resultado.error, contextoDe(c)));
      return c.json(pagoDetalle(resultado.valor));
    },
  );

  app.get(
    '/pagos/:id/historial',
    describeRoute({
      operationId: 'obtenerHistorialPago',
      tags: ['pagos'],
      summary: 'Historial de estados de un pago',
      responses: {
        '200': respuestaJson(EsquemaHistorialPago, 'Cada cambio de estado, con su evento y su correlación.'),
        '404': respuesta('PagoNoEncontrado'),
      },
    }),
    validar('param', EsquemaRutaPago),
    async (c) => {
      const id = idDeRuta(c, c.req.valid('param').id);
      const resultado = await manejadores.obtenerHistorialPago({
        tipo: 'ObtenerHistorialPago',
        ambito: ambitoDe(c.get('socio')),
        idPago: id,
      });
      if (!resultado.ok) return responderProblema(c, problemaDeError(resultado.error, contextoDe(c)));
      const pasos = deps.lineaDeTiempo ? await deps.lineaDeTiempo(ambitoDe(c.get('socio')), id) : undefined;
      return c.json({ ...historialPago(id, resultado.valor), ...(pasos ? { linea_de_tiempo: lineaDeTiempoJson(pasos) } : {}) });
    },
  );
}
