import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { borrarProcesos, escribirProcesos, type Procesos } from './archivo-procesos.js';
import { leerConfiguracionSupervisor, type ConfiguracionSupervisor, type NombreServicio } from './configuracion.js';
import { InstanciaSupervisada } from './instancia.js';
import { PostgresSupervisado, type IniciarPostgres } from './postgres-supervisado.js';
import { crearRegistro } from './registro.js';

/** Lo que el supervisor necesita de `@aeropartners/adaptadores` (compilado): se lo da `scripts/start.mjs`. */
export interface PiezasPostgres {
  readonly iniciarPostgresEmbebido: IniciarPostgres;
  /** Lleva el esquema a la última versión; devuelve cuántas migraciones aplicó. */
  readonly migrarUrl: (url: string) => Promise<number>;
  /** Tras migrar, los datos de la instalación local (el socio de demostración): líneas que decir. */
  readonly prepararDatos?: (url: string) => Promise<readonly string[]>;
}

export interface DependenciasSupervisor {
  /** Carpeta del repositorio: de ella cuelgan `services/*\/dist` y `.data/`. */
  readonly raiz: string;
  readonly entorno: NodeJS.ProcessEnv;
  /** Se llama solo en el proceso supervisor (no en el envoltorio). */
  readonly cargarPostgres: () => Promise<PiezasPostgres>;
}

/** Tiempo que tiene cada servicio para terminar lo que tiene entre manos al parar. */
const GRACIA_PARADA_MS = 20_000;

/**
 * `pnpm start`. Dos procesos:
 * - el **envoltorio** (este, la primera vez): Ctrl-C manda SIGINT a todo el grupo de procesos del
 *   terminal, también a PostgreSQL, que haría una parada rápida mientras los servicios aún terminan su
 *   trabajo. Por eso lanza el supervisor en su propio grupo y solo le reenvía las señales;
 * - el **supervisor** (`AEROPARTNERS_SUPERVISOR=1`): PostgreSQL embebido vigilado (o `DATABASE_URL`),
 *   migraciones, N instancias de api, outbox y consumer con su salida prefijada, reinicio de lo que
 *   muere, `.data/procesos.json`, y parada ordenada: servicios primero, PostgreSQL después.
 */
export async function iniciarSupervisor(dependencias: DependenciasSupervisor): Promise<void> {
  if (!dependencias.entorno['AEROPARTNERS_SUPERVISOR']) return envolver(dependencias.entorno);
  return supervisar(dependencias);
}

function envolver(entorno: NodeJS.ProcessEnv): Promise<never> {
  const supervisor = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: 'inherit',
    env: { ...entorno, AEROPARTNERS_SUPERVISOR: '1' },
  });
  for (const senal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(senal, () => supervisor.kill('SIGTERM'));
  process.on('SIGUSR2', () => supervisor.kill('SIGUSR2'));
  supervisor.on('exit', (codigo, senal) => process.exit(codigo ?? (senal ? 1 : 0)));
  return new Promise<never>(() => undefined);
}

async function supervisar({ raiz, entorno, cargarPostgres }: DependenciasSupervisor): Promise<void> {
  const lectura = leerConfiguracionSupervisor(entorno, raiz, process.stdout.isTTY === true);
  if (!lectura.ok) {
    process.stderr.write(`${lectura.mensaje}\n`);
    process.exit(1);
  }
  const config = lectura.config;
  const registro = crearRegistro(config.colores);
  const piezas = await cargarPostgres();

  let parando = false;
  let postgres: PostgresSupervisado | undefined;
  let databaseUrl: string | undefined;
  const instancias: InstanciaSupervisada[] = [];
  const anotar = () => {
    if (parando || databaseUrl === undefined) return;
    escribirProcesos(config.archivoProcesos, procesosAnotados(config, databaseUrl, instancias, postgres));
  };

  async function parar(motivo: string, codigo: number): Promise<void> {
    if (parando) return;
    parando = true;
    registro.decir(`${motivo}: parando ${instancias.map((i) => i.etiqueta).join(', ') || 'nada'}…`);
    await Promise.all(instancias.map((i) => i.parar(GRACIA_PARADA_MS)));
    if (postgres) {
      registro.decir('parando PostgreSQL embebido…');
      await postgres.detener();
    }
    borrarProcesos(config.archivoProcesos);
    registro.decir('todo parado');
    process.exit(codigo);
  }

  // Desde el principio: una señal durante el arranque de PostgreSQL también lo para en orden.
  process.on('SIGINT', () => void parar('recibida SIGINT', 0));
  process.on('SIGTERM', () => void parar('recibida SIGTERM', 0));
  process.on('SIGHUP', () => void parar('recibida SIGHUP', 0));
  process.on('SIGUSR2', () => {
    if (parando) return;
    if (!postgres) registro.decir('SIGUSR2 ignorada: PostgreSQL no es el embebido (DATABASE_URL externa)');
    else if (!postgres.reiniciar()) registro.decir('SIGUSR2 ignorada: PostgreSQL ya se está reiniciando');
  });

  if (config.postgres.tipo === 'embebido') {
    const { directorio, puerto, registrar } = config.postgres;
    registro.decir(`iniciando PostgreSQL embebido en ${path.relative(raiz, directorio) || directorio} (puerto ${puerto})…`);
    postgres = new PostgresSupervisado({
      iniciar: piezas.iniciarPostgresEmbebido,
      directorio,
      puerto,
      registro,
      mostrarSalida: registrar,
      alCambiar: () => anotar(),
      // Lo que esperaba para reiniciarse porque la base no estaba, que no espere más.
      alVolver: () => instancias.forEach((i) => i.adelantarReinicio()),
      alRendirse: (error) => {
        registro.error(error.message);
        void parar('PostgreSQL no se pudo recuperar', 1);
      },
    });
    try {
      await postgres.arrancar();
    } catch (error) {
      registro.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    }
    if (parando) return;
    databaseUrl = postgres.url;
    registro.decir(
      `PostgreSQL listo en ${databaseUrl.replace(/:[^:@/]*@/, ':***@')} (PID ${postgres.pid ?? '?'}); vigilado: si cae, se recupera solo`,
    );
  } else {
    databaseUrl = config.postgres.url;
    registro.decir('usando la base de datos de DATABASE_URL');
  }

  try {
    const migradas = await piezas.migrarUrl(databaseUrl);
    registro.decir(`migraciones aplicadas (${migradas} nuevas)`);
  } catch (error) {
    registro.error(`No se pudieron aplicar las migraciones: ${error instanceof Error ? error.message : String(error)}`);
    await parar('migraciones fallidas', 1);
    return;
  }

  if (piezas.prepararDatos) {
    try {
      for (const linea of await piezas.prepararDatos(databaseUrl)) registro.decir(linea);
    } catch (error) {
      // Sin socio de demostración los servicios funcionan igual: se dice y se sigue.
      registro.error(`No se pudo preparar el socio de demostración: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  if (parando) return;

  // Un fallo inesperado del propio supervisor no deja servicios huérfanos: se dice y se para en orden.
  process.on('unhandledRejection', (error) => {
    registro.error(`error inesperado del supervisor: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void parar('error inesperado', 1);
  });

  const { AEROPARTNERS_SUPERVISOR: _, ...heredado } = entorno;
  const entornoServicios = { ...heredado, DATABASE_URL: databaseUrl };
  for (const servicio of config.servicios) {
    if (servicio.instancias === 0) continue;
    if (!existsSync(path.join(raiz, servicio.script))) {
      registro.error(`falta ${servicio.script}: ${servicio.nombre} no se arranca (ejecute pnpm build)`);
      continue;
    }
    for (let numero = 1; numero <= servicio.instancias; numero += 1) {
      instancias.push(new InstanciaSupervisada({ servicio, numero, raiz, entorno: entornoServicios, registro, alCambiar: anotar }));
    }
  }
  if (instancias.length === 0) {
    registro.error(
      'no hay servicios que arrancar: ejecute `pnpm build` primero (o revise API_INSTANCIAS, RELAY_INSTANCIAS, CONSUMIDOR_INSTANCIAS)',
    );
    await parar('sin servicios', 1);
    return;
  }
  for (const instancia of instancias) instancia.arrancar();
  anotar();
  registro.decir(`en marcha: ${resumen(config, instancias)} — Ctrl-C para parar`);
}

function resumen(config: ConfiguracionSupervisor, instancias: readonly InstanciaSupervisada[]): string {
  return config.servicios
    .filter((s) => instancias.some((i) => i.etiqueta.split('#')[0] === s.nombre))
    .map((s) => {
      const puertos = [...new Set(s.puertos)].map((p) => (p === 0 ? 'libre' : String(p))).join(', ');
      const que = s.nombre === 'api' ? (s.cluster ? `puerto ${puertos}, compartido (cluster)` : `puerto ${puertos}`) : `salud ${puertos}`;
      return `${s.nombre}×${s.instancias} (${que})`;
    })
    .join(', ');
}

function procesosAnotados(
  config: ConfiguracionSupervisor,
  databaseUrl: string,
  instancias: readonly InstanciaSupervisada[],
  postgres: PostgresSupervisado | undefined,
): Procesos {
  const porServicio = (nombre: NombreServicio) =>
    instancias.filter((i) => i.etiqueta === nombre || i.etiqueta.startsWith(`${nombre}#`)).map((i) => i.anotacion());
  const todas = { api: porServicio('api'), outbox: porServicio('outbox'), consumer: porServicio('consumer') };
  const primera = (nombre: NombreServicio) => todas[nombre][0];
  return {
    supervisor: process.pid,
    databaseUrl,
    api: primera('api')?.pid ?? null,
    outbox: primera('outbox')?.pid ?? null,
    consumer: primera('consumer')?.pid ?? null,
    puertos: {
      api: primera('api')?.puerto ?? null,
      outbox: primera('outbox')?.puerto ?? null,
      consumer: primera('consumer')?.puerto ?? null,
    },
    instancias: todas,
    postgresEmbebido: config.postgres.tipo === 'embebido',
    postgresPid: postgres?.pid ?? null,
    postgresDatos: config.postgres.tipo === 'embebido' ? config.postgres.directorio : null,
    postgresReinicios: postgres?.reinicios ?? 0,
    postgresCaidas: postgres?.caidas ?? 0,
  };
}
