import type { PasoLineaDeTiempo } from '@aeropartners/adaptadores';
import type { Ambito } from '@aeropartners/dominio';
import type { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import * as v from 'valibot';
import { contextoDe, responderProblema, type EnvApp } from './contexto.js';
import type { crearEntrada } from './entrada.js';
import { EsquemaProblema } from './esquemas.js';
import { COMUN_A_PAGOS, esquemaDocumentado, respuestaJson } from './openapi.js';
import { TIPO_CONTENIDO_PROBLEMA, crearProblema } from './problemas.js';
import { EsquemaPasoLineaDeTiempo } from './esquema-linea-de-tiempo.js';

/**
 * Líneas de tiempo entre procesos (issue 13, punto 5; decisión 0177): cada paso de un pago o de una
 * conversión en el registro de eventos del socio, con sus ids de solicitud, correlación y traza, cuándo
 * lo publicó el relay y cada intento de entrega a los webhooks del socio. `GET /pagos/{id}/historial` la
 * añade como `linea_de_tiempo`; `GET /conversiones/{id}/linea-de-tiempo` la devuelve sola.
 */

/** Lo que las rutas necesitan (producción: `PostgresLineaDeTiempo.de`). */
export type LeerLineaDeTiempo = (ambito: Ambito, sujeto: string) => Promise<readonly PasoLineaDeTiempo[]>;

export function lineaDeTiempoJson(pasos: readonly PasoLineaDeTiempo[]): v.InferOutput<typeof EsquemaPasoLineaDeTiempo>[] {
  return pasos.map((p) => ({
    secuencia: p.secuencia,
    tipo: p.tipo,
    ocurrido_en: p.ocurridoEn.toISOString(),
    registrado_en: p.registradoEn.toISOString(),
    id_solicitud: p.idSolicitud,
    id_correlacion: p.idCorrelacion,
    id_traza: p.idTraza,
    id_evento: p.idEvento,
    publicado_en: p.publicadoEn?.toISOString() ?? null,
    id_evento_webhook: p.idEventoWebhook,
    intentos_webhook: p.intentosWebhook.map((i) => ({
      id_webhook: i.idWebhook,
      intento: i.numero,
      ocurrido_en: i.ocurridoEn.toISOString(),
      codigo_estado: i.codigoEstado,
      duracion_ms: i.duracionMs,
      resultado: i.resultado,
      error: i.error,
      proximo_intento: i.proximoIntento?.toISOString() ?? null,
    })),
  }));
}

const EsquemaRutaId = v.object({ id: v.pipe(v.string(), v.minLength(1), v.maxLength(255), v.description('La conversión.')) });

/** `GET /conversiones/{id}/linea-de-tiempo`. */
export function rutasLineaDeTiempo(
  app: Hono<EnvApp>,
  deps: { readonly leer: LeerLineaDeTiempo; readonly validar: ReturnType<typeof crearEntrada<EnvApp>>['validar'] },
): void {
  app.get(
    '/conversiones/:id/linea-de-tiempo',
    describeRoute({
      ...COMUN_A_PAGOS,
      tags: ['conversiones'],
      operationId: 'obtenerLineaDeTiempoConversion',
      summary: 'Línea de tiempo de una conversión entre procesos, con los intentos de webhook de cada paso',
      responses: {
        ...COMUN_A_PAGOS.responses,
        '200': respuestaJson(
          v.pipe(
            v.object({ id_conversion: v.string(), linea_de_tiempo: v.array(EsquemaPasoLineaDeTiempo) }),
            v.title('LineaDeTiempoConversion'),
          ),
          'Cada paso en orden de secuencia.',
        ),
        '404': {
          description: 'No existe en el ámbito del socio (otro socio u otro modo: tampoco existe).',
          content: { [TIPO_CONTENIDO_PROBLEMA]: { schema: esquemaDocumentado(EsquemaProblema) } },
        },
      },
    }),
    deps.validar('param', EsquemaRutaId),
    async (c) => {
      const { id } = c.req.valid('param');
      const socio = c.get('socio');
      const pasos = await deps.leer({ idSocio: socio.idSocio, modo: socio.modo }, id);
      if (pasos.length === 0) {
        return responderProblema(c, crearProblema('recurso-no-encontrado', `No existe la conversión ${id}.`, contextoDe(c)));
      }
      return c.json({ id_conversion: id, linea_de_tiempo: lineaDeTiempoJson(pasos) });
    },
  );
}
