import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { esAnuncioEscuchando } from './anuncio.js';
import { conTope, dormir, esperarQue } from './esperas.js';
import { leerPidPostmaster, pidVivo } from './postmaster.js';
import { puertoLibre } from './puertos.js';
import { conManejadoresPropios } from './senales.js';

describe('puertoLibre', () => {
  it('da un puerto en el que se puede escuchar', async () => {
    const puerto = await puertoLibre();
    const servidor = createServer();
    await new Promise<void>((resolver, rechazar) => servidor.once('error', rechazar).listen(puerto, '127.0.0.1', resolver));
    expect((servidor.address() as { port: number }).port).toBe(puerto);
    await new Promise((r) => servidor.close(r));
  });
});

describe('esAnuncioEscuchando', () => {
  it('acepta solo { tipo: "escuchando", servicio, puerto } con un puerto TCP válido', () => {
    expect(esAnuncioEscuchando({ tipo: 'escuchando', servicio: 'api', puerto: 8000 })).toBe(true);
    for (const malo of [
      null,
      'escuchando',
      { tipo: 'otro', servicio: 'api', puerto: 8000 },
      { tipo: 'escuchando', puerto: 8000 },
      { tipo: 'escuchando', servicio: 'api', puerto: 0 },
      { tipo: 'escuchando', servicio: 'api', puerto: 70_000 },
      { tipo: 'escuchando', servicio: 'api', puerto: 80.5 },
      { tipo: 'escuchando', servicio: 'api', puerto: '8000' },
    ]) {
      expect(esAnuncioEscuchando(malo), JSON.stringify(malo)).toBe(false);
    }
  });
});

describe('conManejadoresPropios', () => {
  it('retira los oyentes de señales, message y beforeExit que se añadieron durante la acción, y deja los de antes', async () => {
    const propio = () => undefined;
    process.on('SIGTERM', propio);
    const ajenos = { SIGTERM: () => undefined, SIGINT: () => undefined, message: () => undefined, beforeExit: () => undefined };
    try {
      const resultado = await conManejadoresPropios(async () => {
        for (const [evento, oyente] of Object.entries(ajenos)) process.on(evento as 'SIGTERM', oyente);
        return 42;
      });
      expect(resultado).toBe(42);
      expect(process.listeners('SIGTERM')).toContain(propio);
      for (const [evento, oyente] of Object.entries(ajenos)) expect(process.listeners(evento as 'SIGTERM'), evento).not.toContain(oyente);
    } finally {
      process.removeListener('SIGTERM', propio);
    }
  });

  it('también si la acción falla', async () => {
    const ajeno = () => undefined;
    await expect(
      conManejadoresPropios(async () => {
        process.on('SIGHUP', ajeno);
        throw new Error('falló');
      }),
    ).rejects.toThrow('falló');
    expect(process.listeners('SIGHUP')).not.toContain(ajeno);
  });
});

describe('esperas', () => {
  it('dormir termina antes, sin error, si se aborta', async () => {
    const control = new AbortController();
    const espera = dormir(60_000, control.signal);
    control.abort();
    await expect(espera).resolves.toBeUndefined();
  });

  it('conTope falla con el mensaje dado si la promesa no termina', async () => {
    await expect(conTope(new Promise(() => undefined), 20, 'no llegó')).rejects.toThrow('no llegó');
    await expect(conTope(Promise.resolve(7), 1000, 'no llegó')).resolves.toBe(7);
  });

  it('esperarQue: vence con la descripción y el detalle; el error de la condición se propaga', async () => {
    await expect(esperarQue(() => false, { tiempoMs: 30, intervaloMs: 5, descripcion: 'nada', detalle: () => 'contexto' })).rejects.toThrow(
      /Tiempo agotado \(30 ms\) esperando: nada\ncontexto/,
    );
    await expect(
      esperarQue(
        () => {
          throw new Error('murió');
        },
        { tiempoMs: 1000, descripcion: 'x' },
      ),
    ).rejects.toThrow('murió');
    let n = 0;
    await esperarQue(() => ++n === 3, { tiempoMs: 1000, intervaloMs: 1, descripcion: 'tres' });
    expect(n).toBe(3);
  });
});

describe('pidVivo y leerPidPostmaster', () => {
  it('pidVivo: el propio proceso sí; pids imposibles no', () => {
    expect(pidVivo(process.pid)).toBe(true);
    expect(pidVivo(0)).toBe(false);
    expect(pidVivo(-1)).toBe(false);
    expect(pidVivo(2 ** 31)).toBe(false);
  });

  it('leerPidPostmaster lee la primera línea de postmaster.pid; sin fichero o con basura, nada', async () => {
    const carpeta = mkdtempSync(path.join(tmpdir(), 'procesos-pid-'));
    try {
      expect(await leerPidPostmaster(carpeta)).toBeUndefined();
      writeFileSync(path.join(carpeta, 'postmaster.pid'), `12345\n${carpeta}\n1700000000\n5432\n`);
      expect(await leerPidPostmaster(carpeta)).toBe(12345);
      writeFileSync(path.join(carpeta, 'postmaster.pid'), 'basura\n');
      expect(await leerPidPostmaster(carpeta)).toBeUndefined();
    } finally {
      rmSync(carpeta, { recursive: true, force: true });
    }
  });
});
