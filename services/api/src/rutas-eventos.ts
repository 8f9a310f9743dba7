import type { ConsultaEventos, EventoSocio, PaginaEventos } from '@aeropartners/adaptadores';
import type { Ambito } from '@aeropartners/dominio';
import type { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import * as v from 'valibot';
import type { Ctx, EnvApp } from './contexto.js';
import type { crearEntrada } from './entrada.js';
import { respuestaJson } from './openapi.js';

/**
 * El registro de eventos del socio autenticado (issue 13): el feed `GET /eventos` y el stream SSE
 * `GET /eventos/stream`. Los dos leen lo mismo (eventos ya numerados, decisión 0160) y muestran el mismo
 * objeto JSON; el ámbito es siempre el del socio autenticado (socio y modo), nunca uno de la URL.
 */

/** Lo que las rutas necesitan del registro (producción: `PostgresRegistroEventos` + `EscuchaEventos`). */
export interface FuenteEventos {
  leer(ambito: Ambito, consulta: ConsultaEventos): Promise<PaginaEventos>;
  /** La última secuencia del ámbito: donde empieza un stream sin `Last-Event-ID` ni `despues_de`. */
  ultima(ambito: Ambito): Promise<number>;
  /** `alAvisar` cada vez que el ámbito tiene eventos nuevos (de cualquier instancia). Devuelve la baja. */
  suscribir(ambito: Ambito, alAvisar: () => void): () => void;
}

export interface OpcionesStream {
  /** Bytes en cola por cliente antes de desconectarlo por lento. Por defecto 256 KiB. */
  readonly bufferBytes?: number;
  /** Latido (comentario SSE) cada tanto. Por defecto 15 000 ms. */
  readonly latidoMs?: number;
  /** Lo que se anuncia en `retry:` (ms). Por defecto 2 000. */
  readonly reintentoMs?: number;
  /** Eventos por lectura de la base. Por defecto 200. */
  readonly pagina?: number;
  /**
   * Ventana para agrupar los avisos de un ámbito (ms): tras despertar a sus streams, los avisos que llegan
   * durante la ventana se juntan en un solo despertar al final de ella. 0: cada aviso despierta. Por defecto 200.
   */
  readonly agruparMs?: number;
}

export interface DependenciasRutasEventos {
  readonly fuente: FuenteEventos;
  readonly validar: ReturnType<typeof crearEntrada<EnvApp>>['validar'];
  readonly stream?: OpcionesStream;
  /** Un cliente desconectado por lento (métricas). */
  readonly alDesconectarLento?: () => void;
}

/** Lo que se puede observar de los streams abiertos en esta instancia (métricas y tests). */
export interface EstadoStreams {
  /** Bytes en cola de cada conexión abierta. */
  enCola(): number[];
  readonly desconectadosPorLentitud: number;
  readonly abiertos: number;
  /** Cierra todos los streams (al apagarse la instancia): los clientes reconectan a otra con su Last-Event-ID. */
  cerrarTodos(): void;
}

const MAXIMA_SECUENCIA = Number.MAX_SAFE_INTEGER;
const secuencia = (descripcion: string) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,16}$/, 'debe ser un entero ≥ 0 (una secuencia del registro)'),
    v.transform(Number),
    v.number(),
    v.maxValue(MAXIMA_SECUENCIA, 'debe ser un entero ≥ 0 (una secuencia del registro)'),
    v.description(descripcion),
  );
const tipo = v.pipe(
  v.string(),
  v.regex(/^[a-z_]{1,40}\.(?:[a-z_]{1,60}|\*)$/, 'debe ser un tipo de evento (pago.exitoso) o una familia (pago.*)'),
  v.description('Solo los de este tipo (pago.exitoso) o familia (pago.*).'),
);
const sujeto = v.pipe(
  v.string(),
  v.regex(/^[\x21-\x7E]{1,255}$/, 'debe tener entre 1 y 255 caracteres ASCII imprimibles'),
  v.description('Solo los de este sujeto (el id del pago, de la conversión…).'),
);

/** Parámetros de `GET /eventos`. */
export const EsquemaConsultaEventos = v.object({
  despues_de: v.optional(secuencia('Solo los de secuencia mayor (por defecto 0: desde el principio).')),
  tipo: v.optional(tipo),
  sujeto: v.optional(sujeto),
  limite: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, 'debe ser un entero entre 1 y 500'),
      v.transform(Number),
      v.number(),
      v.minValue(1, 'debe ser un entero entre 1 y 500'),
      v.maxValue(500, 'debe ser un entero entre 1 y 500'),
      v.description('Tamaño de la página (1–500; por defecto 100).'),
    ),
  ),
});

/** Parámetros de `GET /eventos/stream`. */
export const EsquemaConsultaStream = v.object({
  despues_de: v.optional(secuencia('Desde dónde empezar si no hay Last-Event-ID (por defecto: solo los nuevos).')),
  tipo: v.optional(tipo),
  sujeto: v.optional(sujeto),
});

/** Cabecera `Last-Event-ID` del stream (la pone el navegador al reconectar). */
export const EsquemaCabecerasStream = v.object({
  'Last-Event-ID': v.optional(secuencia('La última secuencia recibida: el stream sigue justo después, sin perder ni repetir.')),
});

const EsquemaEvento = v.pipe(
  v.object({
    secuencia: v.pipe(v.number(), v.description('Por socio y modo: desde 1, creciente y sin huecos.')),
    tipo: v.pipe(
      v.string(),
      v.description(
        'pago.<estado>, conversion.<estado>, conversion.recibida, conversion.huerfana, comision.pagada, comision.liberada, ' +
          'duplicado.absorbido (datos: etapa entrada|broker|inbox|pasarela, clave, veces) o webhook.desactivado ' +
          '(sujeto: el webhook; datos: url, motivo, ultimo_intento).',
      ),
      v.examples(['pago.exitoso', 'conversion.aprobada', 'duplicado.absorbido', 'webhook.desactivado']),
    ),
    sujeto: v.pipe(v.string(), v.description('El pago, la conversión o el webhook del que habla.')),
    ocurrido_en: v.pipe(v.string(), v.isoTimestamp()),
    registrado_en: v.pipe(v.string(), v.isoTimestamp(), v.description('Cuándo entró en el registro (recibió su secuencia).')),
    id_solicitud: v.nullable(v.string()),
    id_traza: v.nullable(v.string()),
    id_correlacion: v.nullable(v.string()),
    datos: v.record(v.string(), v.unknown()),
  }),
  v.title('Evento'),
);

const EsquemaPaginaEventos = v.pipe(
  v.object({
    eventos: v.array(EsquemaEvento),
    siguiente: v.pipe(v.number(), v.description('Pásela como despues_de para la página siguiente.')),
    hay_mas: v.boolean(),
  }),
  v.title('PaginaEventos'),
);

export function eventoJson(e: EventoSocio) {
  return {
    secuencia: e.secuencia,
    tipo: e.tipo,
    sujeto: e.sujeto,
    ocurrido_en: e.ocurridoEn.toISOString(),
    registrado_en: e.registradoEn.toISOString(),
    id_solicitud: e.idSolicitud,
    id_traza: e.idTraza,
    id_correlacion: e.idCorrelacion,
    datos: e.datos,
  };
}

const ambitoDe = (c: Ctx): Ambito => {
  const socio = c.get('socio');
  return { idSocio: socio.idSocio, modo: socio.modo };
};

const codificador = new TextEncoder();
const LATIDO = codificador.encode(': latido\n\n');

export function rutasEventos(app: Hono<EnvApp>, deps: DependenciasRutasEventos): EstadoStreams {
  const { fuente, validar } = deps;
  const bufferBytes = deps.stream?.bufferBytes ?? 256 * 1024;
  const latidoMs = deps.stream?.latidoMs ?? 15_000;
  const reintentoMs = deps.stream?.reintentoMs ?? 2_000;
  const tamPagina = deps.stream?.pagina ?? 200;
  const agruparMs = deps.stream?.agruparMs ?? 200;
  /** Cada conexión abierta: cómo cerrarla (apagado) y su latido. */
  const abiertas = new Map<ReadableStreamDefaultController<Uint8Array>, { readonly cerrar: () => void; readonly latir: () => void }>();
  let desconectadosPorLentitud = 0;

  // Un solo temporizador de latido para todas las conexiones de la instancia (no uno por cliente); vive
  // mientras haya alguna abierta.
  let latido: NodeJS.Timeout | undefined;
  const abrir = (controlador: ReadableStreamDefaultController<Uint8Array>, conexion: { cerrar: () => void; latir: () => void }) => {
    abiertas.set(controlador, conexion);
    if (!latido) {
      latido = setInterval(() => {
        for (const c of [...abiertas.values()]) c.latir();
      }, latidoMs);
      latido.unref();
    }
  };
  const soltar = (controlador: ReadableStreamDefaultController<Uint8Array>) => {
    abiertas.delete(controlador);
    if (abiertas.size === 0) {
      clearInterval(latido);
      latido = undefined;
    }
  };

  // Una suscripción a la fuente por ámbito (no una por cliente) y los avisos agrupados: el asignador avisa una
  // vez por lote, y cada despertar es una lectura y una escritura al socket de CADA cliente del ámbito. El
  // primer aviso tras una pausa despierta en el acto; los que llegan dentro de la ventana se juntan en uno al
  // final de ella. Nada se pierde: cada despertar lee de la base desde la última secuencia de cada cliente.
  interface Grupo {
    readonly despertadores: Set<() => void>;
    baja: () => void;
    pendiente: NodeJS.Timeout | undefined;
    ultimoDespertar: number;
  }
  const grupos = new Map<string, Grupo>();
  const despertarGrupo = (grupo: Grupo) => {
    grupo.pendiente = undefined;
    grupo.ultimoDespertar = performance.now();
    for (const despertar of [...grupo.despertadores]) despertar();
  };
  const avisoDelGrupo = (grupo: Grupo) => {
    if (grupo.pendiente) return;
    const espera = grupo.ultimoDespertar + agruparMs - performance.now();
    if (espera <= 0) despertarGrupo(grupo);
    else grupo.pendiente = setTimeout(() => despertarGrupo(grupo), espera);
  };
  const unirse = (ambito: Ambito, despertar: () => void): (() => void) => {
    const clave = `${ambito.idSocio} ${ambito.modo}`;
    let grupo = grupos.get(clave);
    if (!grupo) {
      const nuevo: Grupo = {
        despertadores: new Set(),
        baja: () => undefined,
        pendiente: undefined,
        ultimoDespertar: Number.NEGATIVE_INFINITY,
      };
      grupos.set(clave, nuevo);
      nuevo.baja = fuente.suscribir(ambito, () => avisoDelGrupo(nuevo));
      grupo = nuevo;
    }
    const propio = grupo;
    propio.despertadores.add(despertar);
    return () => {
      propio.despertadores.delete(despertar);
      if (propio.despertadores.size > 0 || grupos.get(clave) !== propio) return;
      grupos.delete(clave);
      clearTimeout(propio.pendiente);
      propio.baja();
    };
  };

  // Lecturas en vuelo por (ámbito, posición, filtros): un aviso despierta a todos los clientes de un ámbito,
  // que suelen estar en la misma secuencia; leen UNA vez de la base y comparten los bytes ya codificados.
  const enVuelo = new Map<string, Promise<{ readonly pagina: PaginaEventos; readonly bytes: Uint8Array }>>();
  const leerCompartido = (ambito: Ambito, consulta: ConsultaEventos) => {
    const clave = JSON.stringify([ambito.idSocio, ambito.modo, consulta.despuesDe, consulta.tipo, consulta.sujeto, consulta.limite]);
    let lectura = enVuelo.get(clave);
    if (!lectura) {
      lectura = fuente.leer(ambito, consulta).then((pagina) => {
        let texto = '';
        for (const e of pagina.eventos) texto += `id: ${e.secuencia}\nevent: ${e.tipo}\ndata: ${JSON.stringify(eventoJson(e))}\n\n`;
        return { pagina, bytes: codificador.encode(texto) };
      });
      enVuelo.set(clave, lectura);
      const soltar = () => enVuelo.delete(clave);
      lectura.then(soltar, soltar);
    }
    return lectura;
  };

  app.get(
    '/eventos',
    describeRoute({
      operationId: 'listarEventos',
      tags: ['eventos'],
      summary: 'El registro de eventos del socio, en orden de secuencia (paginado por despues_de)',
      responses: { '200': respuestaJson(EsquemaPaginaEventos, 'Una página de eventos.') },
    }),
    validar('query', EsquemaConsultaEventos),
    async (c) => {
      const q = c.req.valid('query');
      const pagina = await fuente.leer(ambitoDe(c), {
        despuesDe: q.despues_de ?? 0,
        tipo: q.tipo,
        sujeto: q.sujeto,
        limite: q.limite ?? 100,
      });
      return c.json({ eventos: pagina.eventos.map(eventoJson), siguiente: pagina.siguiente, hay_mas: pagina.hayMas });
    },
  );

  app.get(
    '/eventos/stream',
    describeRoute({
      operationId: 'streamEventos',
      tags: ['eventos'],
      summary: 'Los eventos del socio en vivo (Server-Sent Events); se reanuda con Last-Event-ID',
      description:
        'Cada evento: `id:` = secuencia, `event:` = tipo, `data:` = el mismo objeto JSON que en GET /eventos. Un comentario de ' +
        'latido cada 15 s. Un cliente que no lee a tiempo se desconecta (su cola está acotada): al reconectar con Last-Event-ID ' +
        'sigue justo después del último evento recibido.',
      responses: { '200': { description: 'Stream text/event-stream.', content: { 'text/event-stream': {} } } },
    }),
    validar('header', EsquemaCabecerasStream),
    validar('query', EsquemaConsultaStream),
    async (c) => {
      const ambito = ambitoDe(c);
      const q = c.req.valid('query');
      // El socket de la petición cuando la sirve @hono/node-server (`c.env.incoming`).
      const socket = (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming?.socket;
      const desdeCabecera = c.req.valid('header')['Last-Event-ID'];
      let ultima = desdeCabecera ?? q.despues_de ?? (await fuente.ultima(ambito));
      let baja: (() => void) | undefined;
      let leyendo = false;
      let otraVez = false;
      let cerrado = false;
      let propio: ReadableStreamDefaultController<Uint8Array> | undefined;

      const terminar = (controlador: ReadableStreamDefaultController<Uint8Array>) => {
        cerrado = true;
        soltar(controlador);
        baja?.();
      };

      const bombear = async (controlador: ReadableStreamDefaultController<Uint8Array>) => {
        if (leyendo) {
          otraVez = true;
          return;
        }
        leyendo = true;
        try {
          do {
            otraVez = false;
            for (let hayMas = true; hayMas && !cerrado; ) {
              const { pagina, bytes } = await leerCompartido(ambito, {
                despuesDe: ultima,
                tipo: q.tipo,
                sujeto: q.sujeto,
                limite: tamPagina,
              });
              if (cerrado || pagina.eventos.length === 0) break;
              // Cola llena con eventos por enviar: el cliente no lee a tiempo. Se corta (la memoria no crece) y
              // reanudará con su Last-Event-ID.
              if ((controlador.desiredSize ?? 0) <= 0) {
                desconectadosPorLentitud += 1;
                deps.alDesconectarLento?.();
                terminar(controlador);
                // En Node se cierra el socket (libera ya sus búferes, sin esperar a un drain que no llegará).
                if (socket) socket.destroy();
                else controlador.error(new Error('Cliente de stream demasiado lento: desconectado'));
                return;
              }
              controlador.enqueue(bytes);
              ultima = pagina.siguiente;
              hayMas = pagina.hayMas;
            }
          } while (otraVez && !cerrado);
        } catch (error) {
          if (!cerrado) {
            terminar(controlador);
            controlador.error(error);
          }
        } finally {
          leyendo = false;
        }
      };

      const cuerpo = new ReadableStream<Uint8Array>(
        {
          start(controlador) {
            propio = controlador;
            abrir(controlador, {
              cerrar: () => {
                terminar(controlador);
                controlador.close();
              },
              // Con el latido, también una lectura: si un aviso se perdió (p. ej. tras un PgBouncer que no
              // entrega NOTIFY), el stream se pone al día en un latido como mucho.
              latir: () => {
                if (!cerrado && (controlador.desiredSize ?? 0) > 0) controlador.enqueue(LATIDO);
                if (!cerrado) void bombear(controlador);
              },
            });
            controlador.enqueue(codificador.encode(`retry: ${reintentoMs}\n: eventos desde la secuencia ${ultima}\n\n`));
            // Suscrito antes de la primera lectura: un aviso que llegue mientras tanto provoca otra vuelta.
            baja = unirse(ambito, () => void bombear(controlador));
            void bombear(controlador);
          },
          // El cliente se fue (node-server cancela el cuerpo al cerrarse el socket).
          cancel() {
            if (propio) terminar(propio);
          },
        },
        new ByteLengthQueuingStrategy({ highWaterMark: bufferBytes }),
      );
      return c.body(cuerpo, 200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        'X-Accel-Buffering': 'no',
      });
    },
  );

  return {
    enCola: () => [...abiertas.keys()].map((ctl) => Math.max(0, bufferBytes - (ctl.desiredSize ?? bufferBytes))),
    get desconectadosPorLentitud() {
      return desconectadosPorLentitud;
    },
    get abiertos() {
      return abiertas.size;
    },
    cerrarTodos() {
      for (const { cerrar } of [...abiertas.values()]) cerrar();
    },
  };
}
