import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';

/**
 * Salud y métricas de un proceso, escritas una vez y servidas con Hono: el servidor de salud del relay y
 * del consumidor las monta tal cual ({@link crearAppSalud}); la API registra las mismas respuestas en sus
 * rutas documentadas ({@link manejadoresSalud}).
 *
 * - `GET /health`: vida (el proceso responde), con sus contadores si los tiene;
 * - `GET /health/ready`: disponibilidad: 503 mientras se apaga o si una dependencia no responde;
 * - `GET /metrics`: exposición Prometheus.
 */
export interface OpcionesSalud {
  readonly servicio: string;
  /** Disponibilidad: base de datos (y broker) alcanzables. Lo que tarde más de `tiempoMaximoMs` cuenta como caído. */
  readonly comprobarDisponible: () => Promise<boolean>;
  /** ¿Se está apagando (drenando)? Mientras tanto, no disponible. */
  readonly drenando?: () => boolean;
  /** Contadores que se muestran en /health (duplicados absorbidos, publicados…). */
  readonly contadores?: () => Record<string, number>;
  /** Texto de exposición Prometheus para `GET /metrics` (ver `exponerMetricas`). */
  readonly metricas?: () => Promise<{ readonly tipo: string; readonly cuerpo: string }>;
  /** Tope de `comprobarDisponible`. Por defecto 2 s. */
  readonly tiempoMaximoMs?: number;
}

/** Por qué un proceso no está disponible. */
export type NoDisponible = { readonly motivo: 'apagando' } | { readonly motivo: 'dependencias'; readonly causa?: unknown };

/** Cómo responde un proceso cuando no está disponible (la API, con su catálogo de problemas). */
export type ResponderNoDisponible = (c: Context, estado: NoDisponible) => Response | Promise<Response>;

const problemaSimple: ResponderNoDisponible = (c, estado) =>
  c.body(
    JSON.stringify({
      title: 'Servicio no disponible',
      status: 503,
      detail: estado.motivo === 'apagando' ? 'El proceso se está apagando.' : 'La base de datos o el broker no responden.',
    }),
    503,
    { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' },
  );

/** Los manejadores de las tres rutas, para registrarlos en cualquier app de Hono. */
export function manejadoresSalud(opciones: OpcionesSalud, noDisponible: ResponderNoDisponible = problemaSimple) {
  const tope = opciones.tiempoMaximoMs ?? 2_000;
  return {
    vida: (c: Context) =>
      c.json({ status: 'healthy', service: opciones.servicio, ...(opciones.contadores ? { contadores: opciones.contadores() } : {}) }),
    async disponibilidad(c: Context) {
      if (opciones.drenando?.()) return noDisponible(c, { motivo: 'apagando' });
      const r = await conTope(opciones.comprobarDisponible, tope);
      if (r.ok) return c.json({ status: 'ready', service: opciones.servicio });
      return noDisponible(c, { motivo: 'dependencias', causa: r.causa });
    },
    async metricas(c: Context) {
      if (!opciones.metricas) return c.notFound();
      const { tipo, cuerpo } = await opciones.metricas();
      return c.body(cuerpo, 200, { 'Content-Type': tipo, 'Cache-Control': 'no-store' });
    },
  };
}

/** Una app con solo salud y métricas (procesos sin API: relay, consumidor). */
export function crearAppSalud(opciones: OpcionesSalud): Hono {
  const m = manejadoresSalud(opciones);
  const app = new Hono();
  app.get('/health', m.vida);
  app.get('/health/ready', m.disponibilidad);
  app.get('/metrics', m.metricas);
  app.all('/health', (c) =>
    c.body(JSON.stringify({ title: 'Método no permitido', status: 405 }), 405, { 'Content-Type': 'application/problem+json' }),
  );
  app.notFound((c) =>
    c.body(JSON.stringify({ title: 'Recurso no encontrado', status: 404 }), 404, { 'Content-Type': 'application/problem+json' }),
  );
  app.onError((_e, c) =>
    c.body(JSON.stringify({ title: 'Error interno', status: 500 }), 500, { 'Content-Type': 'application/problem+json' }),
  );
  return app;
}

export interface OpcionesServidorSalud extends OpcionesSalud {
  readonly puerto: number;
  readonly host?: string;
}

/**
 * El servidor HTTP de salud de un proceso sin API. Al escuchar anuncia su puerto por IPC a quien lanzó
 * el proceso (el supervisor, los e2e: ver `@aeropartners/procesos`).
 */
export function iniciarServidorSalud(opciones: OpcionesServidorSalud): Promise<{ puerto: number; cerrar(): Promise<void> }> {
  const app = crearAppSalud(opciones);
  return new Promise((resolver, rechazar) => {
    const servidor = serve({ fetch: app.fetch, port: opciones.puerto, hostname: opciones.host ?? '0.0.0.0' }, (direccion) => {
      const puerto = direccion.port;
      process.send?.({ tipo: 'escuchando', servicio: opciones.servicio, puerto }, undefined, {}, () => undefined);
      resolver({
        puerto,
        cerrar: () =>
          new Promise<void>((fin) => {
            servidor.close(() => fin());
            if ('closeAllConnections' in servidor) servidor.closeAllConnections();
          }),
      });
    });
    servidor.once('error', rechazar);
  });
}

async function conTope(comprobar: () => Promise<boolean>, ms: number): Promise<{ ok: boolean; causa?: unknown }> {
  let temporizador: ReturnType<typeof setTimeout> | undefined;
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
