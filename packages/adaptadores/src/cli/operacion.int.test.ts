import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crearBrokerEmbebido } from '../broker-embebido/index-broker-embebido.js';
import { crearPersistenciaPostgres, type PersistenciaPostgres } from '../postgres/persistencia-postgres.js';
import { crearBaseDePrueba, type BaseDePrueba } from '../testing/index.js';
import { plantarPagosAtascados, reimpulsosDe } from '../../test/plantar-pagos-atascados.js';

/**
 * `pnpm operacion` como proceso real contra PostgreSQL real. El CLI se empaqueta desde el código fuente
 * (tsup, con la condición `@aeropartners/source`) en una carpeta de caché del paquete y se ejecuta con
 * Node, como lo hace `pnpm operacion` con `dist/`.
 */

const PAQUETE = fileURLToPath(new URL('../..', import.meta.url));
const SALIDA = path.join(PAQUETE, 'node_modules', '.cache', `cli-operacion-${process.pid}`);
const HORA = 3_600_000;

let base: BaseDePrueba;
let persistencia: PersistenciaPostgres;
const temporales: string[] = [];

beforeAll(async () => {
  await build({
    entry: { operacion: path.join(PAQUETE, 'src/cli/operacion.ts') },
    outDir: SALIDA,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    noExternal: [/^@aeropartners\//],
    esbuildOptions(opciones) {
      opciones.conditions = ['@aeropartners/source'];
    },
    dts: false,
    silent: true,
    config: false,
  });
  base = await crearBaseDePrueba();
  persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 3 });
});

afterAll(async () => {
  await persistencia?.cerrar();
  await base?.cerrar();
  rmSync(SALIDA, { recursive: true, force: true });
  for (const t of temporales) rmSync(t, { recursive: true, force: true });
});

async function cli(argumentos: string[], env: Record<string, string> = { DATABASE_URL: base.url }, cwd = PAQUETE) {
  const hijo = spawn(process.execPath, [path.join(SALIDA, 'operacion.js'), ...argumentos], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let salida = '';
  let errores = '';
  hijo.stdout.setEncoding('utf8').on('data', (t: string) => (salida += t));
  hijo.stderr.setEncoding('utf8').on('data', (t: string) => (errores += t));
  const [codigo] = (await once(hijo, 'exit')) as [number | null];
  return { codigo, salida: salida.split('\n').filter((l) => l !== ''), errores: errores.split('\n').filter((l) => l !== '') };
}

describe('pnpm operacion atascados (proceso real)', () => {
  it('lista los atascados (tabla y JSON por línea) y con --reimpulsar los re-impulsa una vez', async () => {
    const [procesando, conTurno, pendiente, sinPublicar, joven] = await plantarPagosAtascados(persistencia.repositorio, persistencia.pool, [
      { estado: 'PROCESANDO', haceMs: 2 * HORA, evento: { publicadoHaceMs: 2 * HORA } },
      { estado: 'PROCESANDO', haceMs: 2 * HORA, turno: 'vigente', evento: { publicadoHaceMs: 2 * HORA } },
      { estado: 'PENDIENTE', haceMs: HORA, evento: { publicadoHaceMs: HORA } },
      { estado: 'PENDIENTE', haceMs: HORA, evento: 'sinPublicar' },
      { estado: 'PENDIENTE', haceMs: 60_000, evento: { publicadoHaceMs: 60_000 } },
    ]);

    const json = await cli(['atascados', '--json']);
    expect(json.codigo).toBe(0);
    const filas = json.salida.map(
      (l) => JSON.parse(l) as { id_pago: string; estado: string; edad_s: number; reimpulsable: boolean; motivo?: string },
    );
    expect(filas.map((f) => [f.id_pago, f.estado, f.reimpulsable, f.motivo ?? null])).toEqual([
      [pendiente, 'PENDIENTE', true, null],
      [sinPublicar, 'PENDIENTE', false, 'eventoSinPublicar'],
      [procesando, 'PROCESANDO', true, null],
    ]);
    expect(filas[2]!.edad_s).toBeGreaterThanOrEqual(7200);
    expect(json.errores).toEqual([
      expect.stringMatching(
        /^3 pago\(s\) atascado\(s\) \(PENDIENTE: 2, PROCESANDO: 1\) con umbral PENDIENTE 2 min 00 s, PROCESANDO 5 min 00 s\.$/,
      ),
    ]);
    expect(json.salida.join('\n')).not.toContain(conTurno!);
    expect(json.salida.join('\n')).not.toContain(joven!);

    const legible = await cli(['atascados', '--estado', 'procesando']);
    expect(legible.codigo).toBe(0);
    expect(legible.salida[0]).toMatch(/^ID PAGO\s+ESTADO\s+EDAD\s+EVENTO\s+RE-IMPULSOS\s+RE-IMPULSABLE$/);
    expect(legible.salida[1]).toMatch(new RegExp(`^${procesando}\\s+PROCESANDO\\s+2 h 00 min\\s+publicado hace 2 h 00 min\\s+0\\s+sí$`));
    expect(legible.salida.at(-1)).toMatch(/^1 pago\(s\) atascado\(s\) \(PROCESANDO: 1\)/);

    const reimpulso = await cli(['atascados', '--mas-de', '30m', '--reimpulsar', '--json']);
    expect(reimpulso.codigo).toBe(0);
    expect(reimpulso.salida.map((l) => (JSON.parse(l) as { id_pago: string }).id_pago).sort()).toEqual([pendiente, procesando].sort());
    expect((await cli(['atascados', '--mas-de', '30m', '--reimpulsar'])).salida).toEqual([
      'Ningún pago atascado que re-impulsar (umbral: PENDIENTE 30 min 00 s, PROCESANDO 30 min 00 s).',
    ]);
    for (const [id, veces] of [
      [procesando, 1],
      [pendiente, 1],
      [conTurno, 0],
      [sinPublicar, 0],
      [joven, 0],
    ] as const) {
      expect({ id, veces: await reimpulsosDe(persistencia.pool, id!) }).toEqual({ id, veces });
    }
  });

  it('sin DATABASE_URL usa la base del pnpm start en marcha (.data/procesos.json); si su supervisor murió, lo dice', async () => {
    const raiz = mkdtempSync(path.join(tmpdir(), 'operacion-'));
    temporales.push(raiz);
    mkdirSync(path.join(raiz, '.data'));
    const archivo = path.join(raiz, '.data', 'procesos.json');
    writeFileSync(archivo, JSON.stringify({ supervisor: process.pid, databaseUrl: base.url }));
    const vivo = await cli(['atascados', '--estado', 'PENDIENTE', '--mas-de', '1h'], {}, raiz);
    expect(vivo.codigo).toBe(0);
    expect(vivo.salida.at(-1)).toMatch(/pago\(s\) atascado\(s\) \(PENDIENTE: \d+\)/);
    const muerto = spawn(process.execPath, ['-e', '']);
    await once(muerto, 'exit');
    writeFileSync(archivo, JSON.stringify({ supervisor: muerto.pid, databaseUrl: base.url }));
    const sinSupervisor = await cli(['atascados'], {}, raiz);
    expect(sinSupervisor.codigo).toBe(1);
    expect(sinSupervisor.errores).toEqual([expect.stringMatching(/ya no está en marcha: exporte DATABASE_URL o arranque `pnpm start`/)]);
  });
});

describe('pnpm operacion muertos (proceso real, broker embebido)', () => {
  it('lista, reenvía uno (el segundo intento dice que no está pendiente, código 1) y reenvía todos', async () => {
    const broker = await crearBrokerEmbebido({
      url: base.url,
      topico: 'pagos',
      suscripciones: ['consumidor-pagos'],
      escuchar: false,
      alError: () => undefined,
    });
    try {
      const s = await broker.suscribir({ suscripcion: 'consumidor-pagos', maximoEntregas: 3, retrasoReentregaMs: 10 });
      const p = await broker.crearPublicador('relay-cli');
      for (const [i, clave] of ['pago-x', 'pago-y', 'pago-z'].entries()) {
        await p.publicar([
          {
            clave,
            secuencia: i + 1,
            cuerpo: `{"n":${i}}`,
            propiedades: { id_evento: `e${i}`, tipo: 'PagoPendiente', version: '1', id_correlacion: `c${i}` },
          },
        ]);
        const m = await s.recibir();
        await s.aMensajesMuertos(m!, `Mensaje inválido: veneno ${i}`);
      }
      const listado = await cli(['muertos', 'listar']);
      expect(listado.codigo).toBe(0);
      expect(listado.salida[0]).toMatch(/^ID\s+CLAVE \(PAGO\)\s+TIPO\s+ENTREGAS\s+MUERTO EN\s+MOTIVO$/);
      expect(listado.salida.slice(1, 4).map((l) => l.split(/\s+/)[1])).toEqual(['pago-x', 'pago-y', 'pago-z']);
      expect(listado.salida.at(-1)).toBe('3 mensaje(s) muerto(s) pendiente(s) en la suscripción «consumidor-pagos».');
      const id = listado.salida[1]!.split(/\s+/)[0]!;

      expect(await cli(['muertos', 'reenviar', id])).toMatchObject({
        codigo: 0,
        salida: [`reenviado ${id}`, expect.stringContaining('1 mensaje(s) reenviado(s)')],
      });
      const otraVez = await cli(['muertos', 'reenviar', id]);
      expect(otraVez.codigo).toBe(1);
      expect(otraVez.errores).toEqual([
        expect.stringMatching(new RegExp(`^El mensaje ${id} no está entre los mensajes muertos pendientes`)),
      ]);
      const todos = await cli(['muertos', 'reenviar', '--todos', '--json']);
      expect(todos.codigo).toBe(0);
      expect(todos.salida.map((l) => (JSON.parse(l) as { accion: string }).accion)).toEqual(['reenviado', 'reenviado']);
      expect((await cli(['muertos', 'listar', '--json'])).salida).toEqual([]);
      const cuerpos: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const m = await s.recibir();
        cuerpos.push(m!.cuerpo);
        await s.confirmar(m!);
      }
      expect(cuerpos.sort()).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
      await s.cerrar();
    } finally {
      await broker.cerrar();
    }
  });
});
