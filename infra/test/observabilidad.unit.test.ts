import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  crearMetricasHttp,
  crearRegistroMetricas,
  medirManejador,
  medirPasarela,
  registrarMetricasAtascos,
  registrarMetricasConsumidor,
  registrarMetricasRelay,
  registrarMetricasRetencion,
  registrarMetricasWebhooks,
  registrarOutbox,
  registrarPagosEnCurso,
  leerConfiguracionTelemetria,
  TABLAS_PURGADAS,
  type FilasPurgadas,
  type RegistroMetricas,
} from '@aeropartners/adaptadores';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * La observabilidad de infra/docker-compose.yml (Prometheus, Grafana, Jaeger): los ficheros de
 * configuración se leen y se cruzan entre sí y con la topología, y cada métrica que usan las reglas de
 * alerta y los paneles del dashboard existe en los registros Prometheus de los servicios, construidos con
 * las mismas funciones de adaptadores con que cada servicio registra las suyas (nada de listas a mano).
 * Con `promtool` (Debian: `apt-get install prometheus`) se validan también las reglas y cada consulta
 * de los paneles. En CI es obligatorio (`.ci/run` lo instala y define PROMTOOL_OBLIGATORIO=1: si falta,
 * el test falla); en una máquina de desarrollo sin él esa parte se salta, para que `pnpm test` funcione
 * con solo Node y npm (PROMTOOL apunta a otro binario).
 */

const raiz = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const leer = (relativa: string) => readFileSync(path.join(raiz, relativa), 'utf8');
const yaml = <T>(relativa: string) => parse(leer(relativa), { merge: true }) as T;

interface Servicio {
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  command?: string[];
}
const compose = yaml<{ services: Record<string, Servicio> }>('infra/docker-compose.yml');
const servicio = (nombre: string): Servicio => {
  const s = compose.services[nombre];
  if (!s) throw new Error(`falta el servicio ${nombre} en docker-compose.yml`);
  return s;
};
/** Destino de montaje en el contenedor del fichero o carpeta `origen` (relativo a infra/). */
const montaje = (nombre: string, origen: string) =>
  servicio(nombre)
    .volumes?.map((v) => v.split(':'))
    .find(([o]) => o === origen)?.[1];

interface Regla {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const reglas = yaml<{ groups: { name: string; rules: Regla[] }[] }>('infra/observabilidad/reglas-alerta.yml');
const prometheus = yaml<{
  rule_files: string[];
  scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[];
}>('infra/observabilidad/prometheus.yml');
const fuentes = yaml<{ datasources: { uid: string; type: string; url: string }[] }>(
  'infra/observabilidad/grafana/provisioning/datasources/fuentes.yml',
);
const proveedores = yaml<{ providers: { options: { path: string } }[] }>(
  'infra/observabilidad/grafana/provisioning/dashboards/dashboards.yml',
);
interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}
const dashboard = JSON.parse(leer('infra/observabilidad/grafana/dashboards/aeropartners-pagos.json')) as { uid: string; panels: Panel[] };
const consultasPaneles = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

// ── Los registros reales: lo que cada servicio registra (ver su main.ts y componentes.ts) ──────────────
const nada = () => 0;
const poolSinUso = {} as Parameters<typeof registrarOutbox>[1]; // las consultas solo corren al raspar
function registros(): Record<'api' | 'outbox' | 'consumer', RegistroMetricas> {
  const api = crearRegistroMetricas({ servicio: 'api' });
  registrarPagosEnCurso(api, poolSinUso);
  crearMetricasHttp(api);

  const outbox = crearRegistroMetricas({ servicio: 'outbox' });
  registrarOutbox(outbox, poolSinUso);
  const relay = { publicados: 0, lotes: 0, fallos: 0, republicados: 0, secuenciasDescartadas: 0, renumeradas: 0, alarma: 0 };
  registrarMetricasRelay(outbox, { relay: () => relay, broker: { descartadosPorDuplicado: 0, duplicadosInyectados: 0 } });
  registrarMetricasRetencion(outbox, {
    contadores: () => ({
      filas: Object.fromEntries(TABLAS_PURGADAS.map((t) => [t, 0])) as FilasPurgadas,
      fallos: 0,
      ultimaPurga: 0,
    }),
  });
  registrarMetricasWebhooks(outbox, {
    contadores: () => ({ intentos: { exitoso: 0, error_http: 0, tiempo_agotado: 0, error_red: 0 }, desactivados: 0 }),
  });

  const consumer = crearRegistroMetricas({ servicio: 'consumer' });
  const c = {
    recibidos: 0,
    exitosos: 0,
    fallidos: 0,
    duplicados: 0,
    muertos: 0,
    rechazados: 0,
    reintentosPasarela: 0,
    inciertos: 0,
    ocupados: 0,
    abandonados: 0,
    errores: 0,
  };
  registrarMetricasConsumidor(consumer, {
    consumidor: () => c,
    repeticionesPasarela: nada,
    broker: { leasesPerdidos: 0, operacionesSinLease: 0 },
  });
  medirManejador(consumer, async () => ({ tipo: 'registrado' }) as const);
  medirPasarela(consumer, {} as Parameters<typeof medirPasarela>[1]);
  registrarMetricasAtascos(consumer, {
    atascados: {} as Parameters<typeof registrarMetricasAtascos>[1]['atascados'],
    umbrales: { PENDIENTE: 60_000, PROCESANDO: 60_000 },
    barrendero: () => ({ pasadas: 0, fallos: 0, reimpulsados: { PENDIENTE: 0, PROCESANDO: 0 } }),
  });
  return { api, outbox, consumer };
}

/** Los nombres que aparecen en `/metrics`: un histograma expone `_bucket`, `_sum` y `_count`. */
function nombresExpuestos(registro: RegistroMetricas): Set<string> {
  const nombres = new Set<string>();
  for (const m of registro.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string };
    nombres.add(name);
    if (type === 'histogram' || type === 'summary') for (const s of ['_bucket', '_sum', '_count']) nombres.add(`${name}${s}`);
  }
  return nombres;
}

/** Series que Prometheus fabrica él mismo por cada objetivo raspado (no las exporta ningún servicio). */
const DE_PROMETHEUS = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/**
 * Métricas que usan paneles o reglas y que todavía no exporta nadie: cada una debe estar documentada en
 * la decisión 0152 (nombre y etiquetas que deberá tener).
 */
const PENDIENTES = new Set<string>();

const PALABRAS_PROMQL = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** Los nombres de métrica de una expresión PromQL (sin etiquetas, funciones, rangos ni cadenas). */
export function metricasDe(expr: string): string[] {
  const limpia = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // cadenas
    .replace(/\{[^}]*\}/g, ' ') // selectores de etiquetas
    .replace(/\[[^\]]*\]/g, ' ') // rangos
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // listas de etiquetas
  const nombres = new Set<string>();
  for (const m of limpia.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const nombre = m[0];
    const resto = limpia.slice((m.index ?? 0) + nombre.length);
    if (/^\s*\(/.test(resto)) continue; // función o agregación
    if (PALABRAS_PROMQL.has(nombre.toLowerCase())) continue;
    if (/^\d/.test(nombre)) continue;
    nombres.add(nombre);
  }
  return [...nombres];
}

const todasLasConsultas = [
  ...reglas.groups.flatMap((g) => g.rules.map((r) => ({ donde: `regla ${r.alert}`, expr: r.expr }))),
  ...consultasPaneles.map((c) => ({ donde: `panel «${c.panel}»`, expr: c.expr })),
];

describe('observabilidad en infra/docker-compose.yml', () => {
  it('Prometheus raspa /metrics de los tres servicios en sus puertos de la topología y carga las reglas montadas', () => {
    const puertos = {
      api: servicio('api').environment?.PORT,
      outbox: servicio('outbox').environment?.PUERTO_SALUD,
      consumer: servicio('consumer').environment?.PUERTO_SALUD,
    };
    const trabajos = Object.fromEntries(prometheus.scrape_configs.map((s) => [s.job_name, s]));
    expect(Object.keys(trabajos).sort()).toEqual(['api', 'consumer', 'outbox']);
    for (const [nombre, puerto] of Object.entries(puertos)) {
      expect(puerto, nombre).toMatch(/^\d+$/);
      expect(trabajos[nombre]?.metrics_path).toBe('/metrics');
      expect(trabajos[nombre]?.static_configs.flatMap((s) => s.targets)).toEqual([`${nombre}:${puerto}`]);
    }
    expect(montaje('prometheus', './observabilidad/prometheus.yml')).toBe('/etc/prometheus/prometheus.yml');
    expect(servicio('prometheus').command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(prometheus.rule_files.map((f) => montaje('prometheus', `./observabilidad/${path.basename(f)}`))).toEqual(prometheus.rule_files);
    expect(servicio('prometheus').image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
  });

  it('Grafana aprovisiona sus fuentes (Prometheus y Jaeger de la topología) y el dashboard montado', () => {
    expect(montaje('grafana', './observabilidad/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    expect(montaje('grafana', './observabilidad/grafana/dashboards')).toBe(proveedores.providers[0]?.options.path);
    const porUid = Object.fromEntries(fuentes.datasources.map((f) => [f.uid, f]));
    expect(porUid.prometheus).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    expect(servicio('prometheus').ports).toContain('9090:9090');
    expect(porUid.jaeger).toMatchObject({ type: 'jaeger', url: 'http://jaeger:16686' });
    // Cada panel y cada consulta usan una fuente aprovisionada.
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      expect(porUid[p.datasource?.uid ?? ''], p.title).toBeDefined();
      for (const t of p.targets ?? []) expect(porUid[t.datasource?.uid ?? ''], p.title).toBeDefined();
    }
    expect(dashboard.uid).toBe('aeropartners-pagos');
  });

  it('Jaeger all-in-one recibe OTLP (gRPC 4317, HTTP 4318) y sirve su interfaz en 16686', () => {
    const jaeger = servicio('jaeger');
    expect(jaeger.image).toMatch(/^jaegertracing\/all-in-one:\d+\.\d+\.\d+$/);
    expect(jaeger.environment?.COLLECTOR_OTLP_ENABLED).toBe('true');
    expect(jaeger.ports).toEqual(expect.arrayContaining(['4317:4317', '4318:4318', '16686:16686']));
  });

  it('los tres servicios exportan sus trazas a Jaeger por OTLP/HTTP, cada uno con su nombre', () => {
    const nombres = new Set<string>();
    for (const nombre of ['api', 'outbox', 'consumer']) {
      const lectura = leerConfiguracionTelemetria(servicio(nombre).environment ?? {}, nombre);
      expect(lectura, nombre).toMatchObject({
        ok: true,
        valor: { activa: true, exportadores: ['otlp'], urlOtlp: 'http://jaeger:4318/v1/traces' },
      });
      if (lectura.ok && lectura.valor.activa) nombres.add(lectura.valor.nombreServicio);
    }
    expect([...nombres].sort()).toEqual(['aeropartners-pagos-api', 'aeropartners-pagos-consumer', 'aeropartners-pagos-outbox']);
    expect(servicio('jaeger').ports).toContain('4318:4318');
  });

  it('el dashboard cubre ingesta, retraso, duplicados por etapa, inciertos, atascados, muertos y webhooks; hay reglas para lo grave', () => {
    const usadas = new Set(consultasPaneles.flatMap((c) => metricasDe(c.expr)));
    for (const m of [
      'aeropartners_pagos_http_peticiones_total',
      'aeropartners_pagos_outbox_retraso_seconds',
      'aeropartners_pagos_duplicados_absorbidos_total',
      'aeropartners_pagos_consumidor_inciertos_total',
      'aeropartners_pagos_atascados',
      'aeropartners_pagos_mensajes_muertos_total',
      'aeropartners_pagos_webhooks_intentos_total',
    ]) {
      expect(usadas.has(m), m).toBe(true);
    }
    expect(consultasPaneles.some((c) => c.expr.includes('by (etapa)'))).toBe(true);
    const alertas = reglas.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alertas).toEqual(
      expect.arrayContaining(['RelayEnAlarma', 'OutboxRetrasado', 'PagosAtascados', 'MensajesMuertos', 'PagosInciertos']),
    );
    for (const r of reglas.groups.flatMap((g) => g.rules)) {
      expect(r.labels?.severidad, r.alert).toMatch(/^(critica|aviso)$/);
      expect(r.annotations?.resumen, r.alert).toBeTruthy();
    }
  });

  it('cada métrica de las reglas y los paneles existe en el registro de algún servicio (o es de Prometheus, o está pendiente y documentada)', () => {
    const porServicio = Object.entries(registros()).map(([s, r]) => [s, nombresExpuestos(r)] as const);
    const existentes = new Set(porServicio.flatMap(([, n]) => [...n]));
    // Los registros no están vacíos ni son el mismo: cada servicio aporta lo suyo.
    expect(porServicio.find(([s]) => s === 'api')?.[1].has('aeropartners_pagos_http_peticiones_total')).toBe(true);
    expect(porServicio.find(([s]) => s === 'outbox')?.[1].has('aeropartners_pagos_relay_alarma')).toBe(true);
    expect(porServicio.find(([s]) => s === 'consumer')?.[1].has('aeropartners_pagos_mensajes_muertos_total')).toBe(true);

    const desconocidas = todasLasConsultas.flatMap(({ donde, expr }) =>
      metricasDe(expr)
        .filter((m) => !existentes.has(m) && !DE_PROMETHEUS.has(m) && !PENDIENTES.has(m))
        .map((m) => `${donde}: ${m}`),
    );
    expect(desconocidas).toEqual([]);
    const decision = leer('docs/decisiones/0152-observabilidad-en-compose.md');
    for (const m of PENDIENTES) expect(decision, m).toContain(m);
  });

  it('el extractor de nombres ve la métrica mal escrita y no confunde etiquetas, funciones ni rangos', () => {
    expect(metricasDe('sum by (etapa) (rate(aeropartners_pagos_duplicado_total{etapa="inbox"}[5m]))')).toEqual([
      'aeropartners_pagos_duplicado_total',
    ]);
    expect(metricasDe('time() - max(a_seconds) > 3 * 3600 and on (job) up == 0')).toEqual(['a_seconds', 'up']);
    expect(metricasDe('histogram_quantile(0.99, sum by (le) (rate(x_bucket{ruta="/pagos"}[$__rate_interval])))')).toEqual(['x_bucket']);
  });
});

const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
const PROMTOOL_OBLIGATORIO = process.env.PROMTOOL_OBLIGATORIO === '1';

describe.skipIf(!existsSync(PROMTOOL) && !PROMTOOL_OBLIGATORIO)('promtool', () => {
  it('valida las reglas de alerta', () => {
    const salida = execFileSync(PROMTOOL, ['check', 'rules', path.join(raiz, 'infra/observabilidad/reglas-alerta.yml')], {
      encoding: 'utf8',
    });
    expect(salida).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('valida la configuración de Prometheus (con las reglas que carga)', () => {
    // promtool resuelve rule_files desde el fichero: se copian los dos a una carpeta con la ruta montada.
    const carpeta = mkdtempSync(path.join(tmpdir(), 'promtool-'));
    try {
      const reglasMontadas = path.join(carpeta, 'reglas-alerta.yml');
      writeFileSync(reglasMontadas, leer('infra/observabilidad/reglas-alerta.yml'));
      const config = leer('infra/observabilidad/prometheus.yml').replace('/etc/prometheus/reglas-alerta.yml', reglasMontadas);
      const fichero = path.join(carpeta, 'prometheus.yml');
      writeFileSync(fichero, config);
      const salida = execFileSync(PROMTOOL, ['check', 'config', fichero], { encoding: 'utf8' });
      expect(salida).toMatch(/SUCCESS/);
    } finally {
      rmSync(carpeta, { recursive: true, force: true });
    }
  });

  it('cada consulta de los paneles es PromQL válido (como regla de grabación, con $__rate_interval = 5m)', () => {
    const carpeta = mkdtempSync(path.join(tmpdir(), 'promtool-'));
    try {
      const fichero = path.join(carpeta, 'paneles.yml');
      const grabaciones = consultasPaneles.map((c, i) => ({
        record: `panel:consulta_${i}`,
        expr: c.expr.replaceAll('$__rate_interval', '5m'),
      }));
      writeFileSync(fichero, JSON.stringify({ groups: [{ name: 'paneles', rules: grabaciones }] }));
      const salida = execFileSync(PROMTOOL, ['check', 'rules', fichero], { encoding: 'utf8' });
      expect(salida).toContain(`SUCCESS: ${grabaciones.length} rules found`);
    } finally {
      rmSync(carpeta, { recursive: true, force: true });
    }
  });
});
