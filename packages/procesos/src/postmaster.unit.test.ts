import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { esperarSinProcesos, pidVivo, procesosEnCarpeta } from './postmaster.js';

// Procesos de Node que se llaman `postgres` y trabajan en una carpeta: lo que el kit busca de un servidor.
const carpetas: string[] = [];
const hijos: ChildProcess[] = [];
afterEach(() => {
  for (const h of hijos.splice(0)) h.kill('SIGKILL');
  for (const c of carpetas.splice(0)) rmSync(c, { recursive: true, force: true });
});

function carpeta(): string {
  const c = mkdtempSync(path.join(tmpdir(), 'procesos-carpeta-'));
  carpetas.push(c);
  return c;
}

async function falsoPostgres(directorio: string, codigo: string): Promise<number> {
  const hijo = spawn(
    process.execPath,
    ['-e', `process.title = 'postgres'; ${codigo}; process.stdout.write('ya\\n'); setInterval(() => {}, 1 << 30);`],
    {
      cwd: directorio,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  hijos.push(hijo);
  await new Promise((resolver) => hijo.stdout!.once('data', resolver));
  return hijo.pid!;
}

describe('procesosEnCarpeta', () => {
  it('encuentra los procesos «postgres» que trabajan en la carpeta, y solo esos', async () => {
    const a = carpeta();
    const b = carpeta();
    const enA = await falsoPostgres(a, '');
    const enB = await falsoPostgres(b, '');
    expect(await procesosEnCarpeta(a)).toEqual([enA]);
    expect(await procesosEnCarpeta(b)).toEqual([enB]);
    expect(await procesosEnCarpeta(a, 'otro-nombre')).toEqual([]);
    process.kill(enA, 'SIGKILL');
    for (let i = 0; i < 50 && pidVivo(enA); i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(await procesosEnCarpeta(a)).toEqual([]);
  });
});

describe('esperarSinProcesos', () => {
  it('sin procesos en la carpeta vuelve en el acto sin forzar a nadie', async () => {
    expect(await esperarSinProcesos(carpeta(), { graciaMs: 5_000 })).toEqual({ forzados: [] });
  });

  it('espera a que terminen solos dentro de la gracia', async () => {
    const c = carpeta();
    const pid = await falsoPostgres(c, 'setTimeout(() => process.exit(0), 300)');
    expect(await esperarSinProcesos(c, { graciaMs: 5_000 })).toEqual({ forzados: [] });
    expect(pidVivo(pid)).toBe(false);
  });

  it('al que sigue tras la gracia le manda SIGQUIT y, si lo ignora, SIGKILL', async () => {
    const c = carpeta();
    const obediente = await falsoPostgres(c, '');
    const terco = await falsoPostgres(c, "process.on('SIGQUIT', () => {})");
    const { forzados } = await esperarSinProcesos(c, { graciaMs: 100, graciaQuitMs: 200 });
    expect(forzados.sort()).toEqual([obediente, terco].sort());
    expect(pidVivo(obediente)).toBe(false);
    expect(pidVivo(terco)).toBe(false);
    expect(await procesosEnCarpeta(c)).toEqual([]);
  });
});
