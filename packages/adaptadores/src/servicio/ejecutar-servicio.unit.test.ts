import { describe, expect, it } from 'vitest';
import { ejecutarServicio, type ProcesoServicio } from './ejecutar-servicio.js';

/** Un `process` de mentira: señales que el test dispara y la salida que el servicio pide. */
function procesoFalso() {
  const oyentes = new Map<string, (...args: unknown[]) => void>();
  const proceso = {
    exitCode: undefined as number | string | null | undefined,
    salidas: [] as number[],
    once(evento: string, oyente: () => void) {
      oyentes.set(evento, oyente);
      return proceso;
    },
    on(evento: string, oyente: (razon: unknown) => void) {
      oyentes.set(evento, oyente as (...args: unknown[]) => void);
      return proceso;
    },
    exit(codigo?: number): never {
      proceso.salidas.push(codigo ?? 0);
      return undefined as never;
    },
    emitir(evento: string, ...args: unknown[]) {
      oyentes.get(evento)?.(...args);
    },
  };
  return proceso;
}

function loggerGrabador() {
  const lineas: { nivel: string; mensaje: string | undefined; campos: object }[] = [];
  const en = (nivel: string) => (campos: object, mensaje?: string) => lineas.push({ nivel, mensaje, campos });
  return { lineas, logger: { fatal: en('fatal'), error: en('error'), info: en('info'), flush: () => undefined } };
}

const esperarTurno = () => new Promise((r) => setTimeout(r, 5));

describe('ejecutarServicio', () => {
  it('arranca, registra «servicio iniciado» con sus campos y con SIGTERM para en orden y sale con 0', async () => {
    const proceso = procesoFalso();
    const { lineas, logger } = loggerGrabador();
    const motivos: string[] = [];
    await ejecutarServicio({
      logger,
      graciaSalidaMs: 1,
      proceso: proceso as unknown as ProcesoServicio,
      arrancar: async () => ({ campos: { puerto: 8000 }, detener: async (motivo) => void motivos.push(motivo) }),
    });
    expect(lineas).toContainEqual({ nivel: 'info', mensaje: 'servicio iniciado', campos: { puerto: 8000 } });
    proceso.emitir('SIGTERM');
    proceso.emitir('SIGINT'); // una segunda señal no vuelve a parar
    await esperarTurno();
    expect(motivos).toEqual(['SIGTERM']);
    expect(proceso.exitCode).toBe(0);
    expect(proceso.salidas).toEqual([0]);
  });

  it('si el arranque falla: una línea fatal, cierra lo abierto y sale con 1', async () => {
    const proceso = procesoFalso();
    const { lineas, logger } = loggerGrabador();
    let cerrado = false;
    await ejecutarServicio({
      logger,
      graciaSalidaMs: 1,
      proceso: proceso as unknown as ProcesoServicio,
      alFallarArranque: async () => {
        cerrado = true;
      },
      arrancar: async () => {
        throw new Error('la base no está migrada');
      },
    });
    await esperarTurno();
    expect(lineas.find((l) => l.nivel === 'fatal')?.mensaje).toBe('el servicio no pudo arrancar');
    expect(cerrado).toBe(true);
    expect(proceso.salidas).toEqual([1]);
  });

  it('si el servicio termina solo, o una promesa se rechaza sin manejar, para y sale con 1', async () => {
    for (const disparar of ['terminado', 'rechazo'] as const) {
      const proceso = procesoFalso();
      const { lineas, logger } = loggerGrabador();
      let terminar!: () => void;
      const motivos: string[] = [];
      await ejecutarServicio({
        logger,
        graciaSalidaMs: 1,
        proceso: proceso as unknown as ProcesoServicio,
        arrancar: async () => ({ terminado: new Promise<void>((r) => (terminar = r)), detener: async (m) => void motivos.push(m) }),
      });
      if (disparar === 'terminado') terminar();
      else proceso.emitir('unhandledRejection', new Error('olvidada'));
      await esperarTurno();
      expect(motivos).toHaveLength(1);
      expect(proceso.salidas).toEqual([1]);
      if (disparar === 'rechazo') expect(lineas.some((l) => l.nivel === 'fatal' && l.mensaje?.startsWith('promesa rechazada'))).toBe(true);
    }
  });
});
