import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { conTope } from '../esperas.js';
import { pidVivo, procesosEnCarpeta } from '../postmaster.js';
import { PostgresSupervisado, type IniciarPostgres } from './postgres-supervisado.js';
import type { Registro } from './registro.js';

/**
 * La vigilancia del supervisor contra un «postgres» falso de verdad (procesos de Node que se llaman
 * `postgres`, trabajan en su carpeta de datos y dejan hijos que sobreviven un rato al padre): se le mata
 * con SIGKILL como en una caída. La caída de un PostgreSQL real bajo `pnpm start` está en
 * e2e/test/postgres-caido.e2e.test.ts.
 */
const FALSO = fileURLToPath(new URL('../../test/fixtures/postgres-falso.mjs', import.meta.url));

interface Arranque {
  readonly instante: number;
  /** Procesos del servidor anterior que seguían vivos cuando se pidió este arranque. */
  readonly quedaban: number[];
}

const carpetas: string[] = [];
const supervisados: PostgresSupervisado[] = [];
afterEach(async () => {
  for (const s of supervisados.splice(0)) await s.detener();
  for (const c of carpetas.splice(0)) {
    for (const pid of await procesosEnCarpeta(c)) process.kill(pid, 'SIGKILL');
    rmSync(c, { recursive: true, force: true });
  }
});

function montar(entorno: Record<string, string>, opciones: { fallarDesde?: number; graciaHuerfanosMs?: number } = {}) {
  const directorio = mkdtempSync(path.join(tmpdir(), 'procesos-pg-falso-'));
  carpetas.push(directorio);
  const arranques: Arranque[] = [];
  const lineas: string[] = [];
  const registro: Registro = { decir: (m) => lineas.push(m), error: (m) => lineas.push(`ERROR ${m}`), linea: () => undefined };
  let volvio: () => void = () => undefined;
  let rendido: (e: Error) => void = () => undefined;
  const vuelta = () => new Promise<void>((r) => (volvio = r));
  const rendicion = new Promise<Error>((r) => (rendido = r));
  const iniciar: IniciarPostgres = async ({ directorio: d }) => {
    arranques.push({ instante: Date.now(), quedaban: await procesosEnCarpeta(d) });
    if (opciones.fallarDesde !== undefined && arranques.length >= opciones.fallarDesde) throw new Error('no arranca (simulado)');
    const hijo = spawn(process.execPath, [FALSO, d], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...entorno } });
    await new Promise((resolver) => hijo.stdout!.once('data', resolver));
    return {
      url: 'postgresql://falso@127.0.0.1:1/postgres',
      detener: async () => {
        if (hijo.exitCode !== null || hijo.signalCode !== null) return;
        const salida = new Promise((r) => hijo.once('exit', r));
        hijo.kill('SIGINT');
        await salida;
      },
    };
  };
  const supervisado = new PostgresSupervisado({
    iniciar,
    directorio,
    puerto: 1,
    registro,
    mostrarSalida: false,
    alCambiar: () => undefined,
    alVolver: () => volvio(),
    alRendirse: (e) => rendido(e),
    intervaloVigilanciaMs: 50,
    graciaHuerfanosMs: opciones.graciaHuerfanosMs ?? 5_000,
    pausaReintentoMs: 10,
  });
  supervisados.push(supervisado);
  return { directorio, supervisado, arranques, lineas, vuelta, rendicion };
}

describe('PostgresSupervisado: caída del servidor', () => {
  it('SIGKILL del postmaster → se detecta y se arranca de nuevo, pero solo cuando sus hijos huérfanos terminaron', async () => {
    const { directorio, supervisado, arranques, lineas, vuelta } = montar({ HIJO_TARDA_MS: '400' });
    await supervisado.arrancar();
    const primero = supervisado.pid!;
    expect(primero).toBeGreaterThan(0);
    expect(await procesosEnCarpeta(directorio)).toHaveLength(2); // el «postmaster» y su hijo

    const volver = vuelta();
    process.kill(primero, 'SIGKILL');
    await conTope(volver, 15_000, 'el servidor no volvió');

    expect(supervisado.caidas).toBe(1);
    expect(supervisado.reinicios).toBe(1);
    expect(supervisado.pid).not.toBe(primero);
    expect(pidVivo(supervisado.pid!)).toBe(true);
    expect(arranques).toHaveLength(2);
    // El hijo huérfano tardó 400 ms en terminar: el segundo arranque esperó a que no quedara nadie.
    expect(arranques[1]?.quedaban).toEqual([]);
    const finHijo = Number(/termina (\d+)/.exec(readFileSync(path.join(directorio, 'eventos.log'), 'utf8'))?.[1]);
    expect(arranques[1]!.instante).toBeGreaterThanOrEqual(finHijo);
    expect(lineas.some((l) => l.startsWith(`ERROR PostgreSQL (PID ${primero}) terminó sin que nadie lo parara`))).toBe(true);
    expect(lineas.some((l) => /^PostgreSQL recuperado en \d+ ms/.test(l))).toBe(true);
  }, 30_000);

  it('un hijo que no termina solo (ignora SIGQUIT) se mata antes de arrancar de nuevo, y se dice', async () => {
    const { supervisado, arranques, lineas, vuelta } = montar({ HIJO_TERCO: '1' }, { graciaHuerfanosMs: 300 });
    await supervisado.arrancar();
    const volver = vuelta();
    process.kill(supervisado.pid!, 'SIGKILL');
    await conTope(volver, 15_000, 'el servidor no volvió');
    expect(arranques[1]?.quedaban).toEqual([]);
    expect(lineas.some((l) => l.startsWith('ERROR procesos del PostgreSQL anterior que no terminaron solos, terminados a la fuerza'))).toBe(
      true,
    );
  }, 30_000);

  it('si no vuelve a arrancar tras los reintentos, avisa para que el supervisor pare', async () => {
    const { supervisado, arranques, rendicion } = montar({}, { fallarDesde: 2 });
    await supervisado.arrancar();
    process.kill(supervisado.pid!, 'SIGKILL');
    const error = await conTope(rendicion, 15_000, 'no se rindió');
    expect(error.message).toBe('PostgreSQL no volvió tras 5 intentos: no arranca (simulado)');
    expect(arranques).toHaveLength(6);
    expect(supervisado.pid).toBeUndefined();
  }, 30_000);
});

describe('PostgresSupervisado: reinicio pedido (SIGUSR2)', () => {
  it('para y arranca sobre la misma carpeta; no cuenta como caída; no se encadenan dos a la vez', async () => {
    const { supervisado, arranques, vuelta } = montar({});
    await supervisado.arrancar();
    const primero = supervisado.pid!;
    const volver = vuelta();
    expect(supervisado.reiniciar()).toBe(true);
    expect(supervisado.reiniciar()).toBe(false);
    await conTope(volver, 15_000, 'el servidor no volvió');
    expect(pidVivo(primero)).toBe(false);
    expect(supervisado.reinicios).toBe(1);
    expect(supervisado.caidas).toBe(0);
    expect(arranques).toHaveLength(2);
  }, 30_000);
});
