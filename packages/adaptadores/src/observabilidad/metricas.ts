import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EstadoCobro, PasarelaDePagos, ResultadoPago } from '@aeropartners/dominio';

/**
 * Métricas Prometheus de los servicios (prom-client), con el prefijo `aeropartners_pagos_`, unidades base
 * con sufijo inglés (`_seconds`, `_total`) y la etiqueta `servicio`; las de proceso de Node (CPU, memoria,
 * bucle de eventos) con sus nombres estándar, sin prefijo. Cada proceso tiene su propio {@link Registry} (nada global: los tests crean los
 * que quieran) y lo expone en `GET /metrics` (la API en su puerto; relay y consumidor en el de salud).
 *
 * Los contadores que el código ya lleva como objetos planos (relay, consumidor, broker embebido,
 * pasarela simulada) no se duplican: se leen al raspar ({@link contadorLeido}). Lo que se mide en el
 * momento (latencias, peticiones HTTP) se observa directamente.
 */

/** El registro de métricas de un proceso (el de prom-client), para quien lo recibe sin depender de prom-client. */
export type RegistroMetricas = Registry;

export const PREFIJO_METRICAS = 'aeropartners_pagos_';

/** Etapas en las que se absorbe un duplicado (docs/arquitectura.md §3). */
export const ETAPAS_DUPLICADOS = ['entrada', 'broker', 'inbox', 'pasarela'] as const;
export type EtapaDuplicados = (typeof ETAPAS_DUPLICADOS)[number];

export const NOMBRE_DUPLICADOS = `${PREFIJO_METRICAS}duplicados_absorbidos_total`;

/** Cubetas (s) para latencias de milisegundos a decenas de segundos (la pasarela «semilla» tarda 2–8 s). */
export const CUBETAS_SEGUNDOS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface OpcionesRegistro {
  readonly servicio: string;
  /** Métricas de proceso de Node (CPU, memoria, bucle de eventos, GC). Por defecto `true`. */
  readonly deProceso?: boolean;
}

export function crearRegistroMetricas(opciones: OpcionesRegistro): Registry {
  const registro = new Registry();
  registro.setDefaultLabels({ servicio: opciones.servicio });
  if (opciones.deProceso ?? true) collectDefaultMetrics({ register: registro });
  return registro;
}

/** El texto de exposición y su `Content-Type`, listos para una respuesta HTTP. */
export async function exponerMetricas(registro: Registry): Promise<{ readonly tipo: string; readonly cuerpo: string }> {
  return { tipo: registro.contentType, cuerpo: await registro.metrics() };
}

/**
 * Un contador Prometheus cuyo valor se lee al raspar de un contador monotónico que el proceso ya lleva
 * (p. ej. `consumidor.contadores().muertos`). `leer` devuelve un valor por combinación de etiquetas.
 */
export function contadorLeido<E extends string>(
  registro: Registry,
  nombre: string,
  ayuda: string,
  etiquetas: readonly E[],
  leer: () => readonly (readonly [Partial<Record<E, string>>, number])[],
): Counter<E> {
  return new Counter<E>({
    name: nombre,
    help: ayuda,
    labelNames: etiquetas,
    registers: [registro],
    collect() {
      this.reset();
      for (const [valores, n] of leer()) if (Number.isFinite(n) && n >= 0) this.inc(valores, n);
    },
  });
}

/**
 * `aeropartners_pagos_duplicados_absorbidos_total{etapa}`: los duplicados que cada etapa absorbió en
 * este proceso. Solo aparecen (a 0 desde el arranque) las etapas que el proceso tiene.
 */
export function registrarDuplicados(registro: Registry, fuentes: Partial<Record<EtapaDuplicados, () => number>>): void {
  contadorLeido(
    registro,
    NOMBRE_DUPLICADOS,
    'Duplicados absorbidos por etapa: entrada (réplicas HTTP con la misma clave), broker (republicaciones descartadas por productor y secuencia), inbox (eventos ya anotados), pasarela (cobros repetidos con la misma clave de idempotencia, o ya decididos al preguntar antes de cobrar en una reentrega).',
    ['etapa'],
    () => ETAPAS_DUPLICADOS.flatMap((etapa) => (fuentes[etapa] ? [[{ etapa }, fuentes[etapa]()] as const] : [])),
  );
}

/**
 * Un indicador que se calcula al raspar con una consulta (a la base): si falla o tarda más de
 * `tiempoMaximoMs`, el raspado no se bloquea y esa pasada publica NaN (sin etiquetas) o ninguna serie.
 */
export function indicadorConsultado<E extends string>(
  registro: Registry,
  nombre: string,
  ayuda: string,
  etiquetas: readonly E[],
  consultar: () => Promise<readonly (readonly [Partial<Record<E, string>>, number])[]>,
  tiempoMaximoMs = 1000,
): Gauge<E> {
  return new Gauge<E>({
    name: nombre,
    help: ayuda,
    labelNames: etiquetas,
    registers: [registro],
    async collect() {
      this.reset();
      const valores = await conTope(consultar(), tiempoMaximoMs).catch(() => undefined);
      // Sin respuesta: NaN (un indicador sin etiquetas no puede faltar) o ninguna serie; nunca un 0 engañoso.
      if (!valores && etiquetas.length === 0) this.set(Number.NaN);
      for (const [etiquetado, n] of valores ?? []) this.set(etiquetado, n);
    },
  });
}

// ── API HTTP ─────────────────────────────────────────────────────────────────

export interface MetricasHttp {
  /** Una petición atendida: `ruta` es el patrón (`/pagos/:id`), nunca la ruta real. */
  observar(metodo: string, ruta: string, estado: number, segundos: number): void;
  /** Una réplica de `POST /pagos` respondida sin crear nada (etapa `entrada`). */
  replicaAbsorbida(): void;
}

export function crearMetricasHttp(registro: Registry): MetricasHttp {
  const peticiones = new Counter({
    name: `${PREFIJO_METRICAS}http_peticiones_total`,
    help: 'Peticiones HTTP atendidas, por método, patrón de ruta y estado.',
    labelNames: ['metodo', 'ruta', 'estado'] as const,
    registers: [registro],
  });
  const duracion = new Histogram({
    name: `${PREFIJO_METRICAS}http_duracion_seconds`,
    help: 'Duración de las peticiones HTTP, por método, patrón de ruta y estado.',
    labelNames: ['metodo', 'ruta', 'estado'] as const,
    buckets: CUBETAS_SEGUNDOS,
    registers: [registro],
  });
  let replicas = 0;
  registrarDuplicados(registro, { entrada: () => replicas });
  // Los hijos etiquetados se guardan: en el camino caliente solo hay una búsqueda en un Map.
  const hijos = new Map<string, { contador: { inc(): void }; histograma: { observe(v: number): void } }>();
  return {
    observar(metodo, ruta, estado, segundos) {
      const clave = `${metodo} ${ruta} ${estado}`;
      let hijo = hijos.get(clave);
      if (!hijo) {
        const etiquetas = { metodo, ruta, estado: String(estado) };
        hijo = { contador: peticiones.labels(etiquetas), histograma: duracion.labels(etiquetas) };
        hijos.set(clave, hijo);
      }
      hijo.contador.inc();
      hijo.histograma.observe(segundos);
    },
    replicaAbsorbida() {
      replicas += 1;
    },
  };
}

// ── Consumidor y pasarela ────────────────────────────────────────────────────

/**
 * Envuelve el manejador de eventos del consumidor: `aeropartners_pagos_consumidor_duracion_seconds`
 * (histograma por desenlace: procesado, registrado, duplicado, obsoleto, pagoInexistente, error).
 */
export function medirManejador<A extends unknown[], R extends { readonly tipo: string }>(
  registro: Registry,
  manejar: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  const duracion = new Histogram({
    name: `${PREFIJO_METRICAS}consumidor_duracion_seconds`,
    help: 'Tiempo de proceso de cada mensaje en el consumidor (inbox, pasarela y desenlace), por desenlace.',
    labelNames: ['desenlace'] as const,
    buckets: CUBETAS_SEGUNDOS,
    registers: [registro],
  });
  return async (...args) => {
    const fin = duracion.startTimer();
    try {
      const resultado = await manejar(...args);
      fin({ desenlace: resultado.tipo });
      return resultado;
    } catch (error) {
      fin({ desenlace: 'error' });
      throw error;
    }
  };
}

/**
 * Decora una pasarela: `aeropartners_pagos_pasarela_llamadas_total{resultado}` y
 * `aeropartners_pagos_pasarela_duracion_seconds{resultado}` (exitoso, rechazado, incierto, error).
 */
export function medirPasarela(registro: Registry, pasarela: PasarelaDePagos): PasarelaDePagos {
  const llamadas = new Counter({
    name: `${PREFIJO_METRICAS}pasarela_llamadas_total`,
    help: 'Llamadas a la pasarela de pagos, por resultado (exitoso, rechazado, incierto, error).',
    labelNames: ['resultado'] as const,
    registers: [registro],
  });
  const duracion = new Histogram({
    name: `${PREFIJO_METRICAS}pasarela_duracion_seconds`,
    help: 'Latencia de las llamadas a la pasarela de pagos, por resultado.',
    labelNames: ['resultado'] as const,
    buckets: CUBETAS_SEGUNDOS,
    registers: [registro],
  });
  const consultas = new Counter({
    name: `${PREFIJO_METRICAS}pasarela_consultas_total`,
    help: 'Consultas a la pasarela por el desenlace de un pago tras una respuesta incierta, por resultado (exitoso, rechazado, sinCobro, incierto, error).',
    labelNames: ['resultado'] as const,
    registers: [registro],
  });
  return {
    async cobrar(solicitud) {
      const fin = duracion.startTimer();
      let resultado: ResultadoPago['tipo'] | 'error' = 'error';
      try {
        const r = await pasarela.cobrar(solicitud);
        resultado = r.tipo;
        return r;
      } finally {
        fin({ resultado });
        llamadas.inc({ resultado });
      }
    },
    async consultar(consulta) {
      let resultado: EstadoCobro['tipo'] | 'error' = 'error';
      try {
        const r = await pasarela.consultar(consulta);
        resultado = r.tipo;
        return r;
      } finally {
        consultas.inc({ resultado });
      }
    },
  };
}

function conTope<T>(promesa: Promise<T>, ms: number): Promise<T> {
  let temporizador: NodeJS.Timeout | undefined;
  return Promise.race([
    promesa,
    new Promise<never>((_, rechazar) => {
      temporizador = setTimeout(() => rechazar(new Error(`sin respuesta en ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(temporizador));
}
