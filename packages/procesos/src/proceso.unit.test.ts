import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { pidVivo } from './postmaster.js';
import { arrancarProceso, type ProcesoHijo } from './proceso.js';
import { arrancarServicio, consultarEstado } from './servicio.js';

const FALSO = fileURLToPath(new URL('../test/fixtures/servicio-falso.mjs', import.meta.url));
const entorno = (modo: string) => ({ PATH: process.env['PATH'], MODO: modo, PORT: '0' });

const lanzados: ProcesoHijo[] = [];
afterEach(async () => {
  for (const p of lanzados.splice(0)) {
    p.matar();
    await p.salida;
  }
});
const lanzar = (modo: string, grupoPropio = false) => {
  const p = arrancarProceso({ script: FALSO, entorno: entorno(modo), opcionesNode: [], grupoPropio });
  lanzados.push(p);
  return p;
};

describe('arrancarServicio: el puerto llega por IPC y se espera a /health/ready', () => {
  it('devuelve el puerto anunciado por el canal IPC (no está en ninguna línea de la salida) y el servicio responde en él', async () => {
    const lineas: string[] = [];
    const { proceso, puerto } = await arrancarServicio({
      nombre: 'falso',
      script: FALSO,
      entorno: entorno('normal'),
      opcionesNode: [],
      alLinea: (l) => lineas.push(l),
    });
    lanzados.push(proceso);
    expect(puerto).toBeGreaterThan(0);
    expect(proceso.puertoAnunciado).toBe(puerto);
    // La única línea que escribe no lleva el puerto: llegó por el canal IPC.
    expect(lineas.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([{ msg: 'escuchando', pid: proceso.pid }]);
    expect(await consultarEstado(`http://127.0.0.1:${puerto}/health/ready`)).toBe(200);

    expect(await proceso.parar()).toEqual({ codigo: 0, senal: null });
    expect(proceso.vivo).toBe(false);
  });

  it('un proceso que termina sin anunciar su puerto: error que dice por qué, con su stderr', async () => {
    await expect(arrancarServicio({ nombre: 'falso', script: FALSO, entorno: entorno('sin-anuncio'), opcionesNode: [] })).rejects.toThrow(
      /falso no arrancó: el proceso terminó \(código 3\) sin anunciar su puerto\nstderr: fallo de configuración simulado/,
    );
  });

  it('un proceso que nunca está listo: vence el plazo, el error nombra la URL y el proceso queda muerto', async () => {
    const lineas: string[] = [];
    const error = await arrancarServicio({
      nombre: 'falso',
      script: FALSO,
      entorno: entorno('nunca-listo'),
      opcionesNode: [],
      tiempoMs: 800,
      alLinea: (l) => lineas.push(l),
    }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/Tiempo agotado \(800 ms\) esperando: falso listo \(http:\/\/127\.0\.0\.1:\d+\/health\/ready\)/);
    const { pid } = JSON.parse(lineas[0] ?? '{}') as { pid?: number };
    expect(pid).toBeGreaterThan(0);
    expect(pidVivo(pid!)).toBe(false);
  });
});

describe('ProcesoHijo.parar: SIGTERM y, si no sale, SIGKILL', () => {
  it('un proceso que ignora SIGTERM recibe SIGKILL al acabar la gracia', async () => {
    const p = lanzar('ignora-sigterm');
    await p.puerto;
    expect(await p.parar({ graciaMs: 300 })).toEqual({ codigo: null, senal: 'SIGKILL' });
  });

  it('con grupoPropio, el SIGKILL final alcanza también a los nietos', async () => {
    const lineas: string[] = [];
    const p = arrancarProceso({
      script: FALSO,
      entorno: entorno('con-nieto'),
      opcionesNode: [],
      grupoPropio: true,
      alLinea: (l) => lineas.push(l),
    });
    lanzados.push(p);
    await p.puerto;
    const nieto = (JSON.parse(lineas[0] ?? '{}') as { nieto?: number }).nieto;
    expect(nieto).toBeGreaterThan(0);
    expect(pidVivo(nieto!)).toBe(true);
    expect((await p.parar({ graciaMs: 200 })).senal).toBe('SIGKILL');
    for (let i = 0; i < 50 && pidVivo(nieto!); i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(pidVivo(nieto!)).toBe(false);
  });

  it('el canal IPC no retiene al hijo: un servicio que cierra todo sale solo, con código 0', async () => {
    const p = lanzar('termina-solo');
    await p.puerto;
    expect(await p.salida).toEqual({ codigo: 0, senal: null });
  });

  it('el puerto de un proceso que muere antes de anunciarlo falla (y nadie tiene que esperarlo)', async () => {
    const p = lanzar('sin-anuncio');
    await expect(p.puerto).rejects.toThrow('el proceso terminó (código 3) sin anunciar su puerto');
    expect(p.ultimasLineas()).toEqual(['stderr: fallo de configuración simulado']);
  });
});
