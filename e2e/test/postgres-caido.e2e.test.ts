import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  arrancarProceso,
  consultarEstado,
  esperarQue,
  esperarSinProcesos,
  leerPidPostmaster,
  pidVivo,
  procesosEnCarpeta,
  puertoLibre,
  type ProcesoHijo,
} from '@aeropartners/procesos';
import type { Procesos } from '@aeropartners/procesos/supervisor';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * El supervisor de `pnpm start` de verdad (scripts/start.mjs, con su PostgreSQL embebido en una carpeta
 * temporal) y una caída de verdad: SIGKILL al postmaster (el PID de su `postmaster.pid`).
 */
const RAIZ = fileURLToPath(new URL('../../', import.meta.url));
const START = path.join(RAIZ, 'scripts/start.mjs');
const HEREDADAS = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'];

interface Montaje {
  readonly carpeta: string;
  readonly datos: string;
  readonly archivo: string;
  readonly supervisor: ProcesoHijo;
  readonly salida: string[];
}

describe('pnpm start: PostgreSQL que se cae de golpe', () => {
  let montaje: Montaje | undefined;
  afterEach(async () => {
    if (!montaje) return;
    const { supervisor, datos, carpeta } = montaje;
    montaje = undefined;
    supervisor.matar(); // SIGKILL al grupo entero: supervisor, servicios y PostgreSQL
    await supervisor.salida;
    await esperarSinProcesos(datos, { graciaMs: 2_000 });
    rmSync(carpeta, { recursive: true, force: true });
  });

  it('SIGKILL del postmaster → el supervisor lo recupera sobre los mismos datos, sin reiniciar la API, y lo confirmado sigue ahí', async () => {
    for (const script of ['packages/procesos/dist/supervisor/index.js', 'services/api/dist/main.js']) {
      if (!existsSync(path.join(RAIZ, script))) throw new Error(`Falta ${script}: pnpm build`);
    }
    const carpeta = mkdtempSync(path.join(tmpdir(), 'e2e-supervisor-'));
    chmodSync(carpeta, 0o755); // como root, PostgreSQL corre como el usuario «postgres»
    const datos = path.join(carpeta, 'pg');
    const archivo = path.join(carpeta, 'procesos.json');
    const entorno: Record<string, string> = {};
    for (const nombre of HEREDADAS) if (process.env[nombre] !== undefined) entorno[nombre] = process.env[nombre]!;
    Object.assign(entorno, {
      AEROPARTNERS_SUPERVISOR: '1', // sin el envoltorio: el test manda las señales al supervisor directamente
      PG_DATOS_EMBEBIDO: datos,
      PG_PUERTO_EMBEBIDO: String(await puertoLibre()),
      ARCHIVO_PROCESOS: archivo,
      API_INSTANCIAS: '2',
      PORT: '0',
      HOST: '127.0.0.1',
      PUERTO_SALUD: '0',
      NO_COLOR: '1',
      LOG_LEVEL: 'warn',
      RELAY_SONDEO_MS: '200',
      PASARELA_LATENCIA_MIN_MS: '5',
      PASARELA_LATENCIA_MAX_MS: '30',
      PASARELA_TASA_TRANSITORIO: '0',
    });
    const salida: string[] = [];
    const supervisor = arrancarProceso({
      script: START,
      entorno,
      cwd: RAIZ,
      grupoPropio: true,
      opcionesNode: [],
      alLinea: (l) => salida.push(l),
    });
    montaje = { carpeta, datos, archivo, supervisor, salida };
    const detalle = () => salida.slice(-40).join('\n');
    const leer = (): Procesos | undefined => {
      try {
        return JSON.parse(readFileSync(archivo, 'utf8')) as Procesos;
      } catch {
        return undefined;
      }
    };
    const listos = async (p: Procesos | undefined): Promise<boolean> => {
      if (!p) return false;
      const puertos = [...p.instancias.api, ...p.instancias.outbox, ...p.instancias.consumer].map((i) => i.puerto);
      if (puertos.length !== 4 || puertos.some((x) => x === null)) return false;
      const estados = await Promise.all([...new Set(puertos)].map((x) => consultarEstado(`http://127.0.0.1:${x}/health/ready`)));
      return estados.every((e) => e === 200);
    };

    await esperarQue(async () => listos(leer()), { tiempoMs: 120_000, descripcion: 'supervisor y servicios listos', detalle });
    const antes = leer()!;
    const api = `http://127.0.0.1:${antes.puertos.api}`;
    // El socio de demostración que pnpm start crea la primera vez, junto a procesos.json.
    const { clave } = JSON.parse(readFileSync(path.join(carpeta, 'socio-demo.json'), 'utf8')) as { clave: string };
    /** El código de un GET del socio de demostración, o `undefined` si no hubo respuesta. */
    const estadoDe = async (ruta: string): Promise<number | undefined> => {
      try {
        const r = await fetch(`${api}${ruta}`, { headers: { authorization: `Bearer ${clave}` }, signal: AbortSignal.timeout(2_000) });
        await r.arrayBuffer();
        return r.status;
      } catch {
        return undefined;
      }
    };
    expect(antes.instancias.api).toHaveLength(2);
    expect(new Set(antes.instancias.api.map((i) => i.puerto)).size).toBe(1); // cluster: un solo puerto
    expect(antes.postgresPid).toBe(await leerPidPostmaster(datos));
    expect(antes.postgresCaidas).toBe(0);

    const pool = new pg.Pool({ connectionString: antes.databaseUrl, max: 2 });
    pool.on('error', () => undefined);
    try {
      const crear = async (prefijo: string, n: number): Promise<string[]> => {
        const ids: string[] = [];
        for (let i = 0; i < n; i += 1) {
          const r = await fetch(`${api}/pagos`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${clave}` },
            body: JSON.stringify({ id_afiliado: 'afiliado-1', monto: 10 + i, moneda: 'USD', referencia_pago: `${prefijo}-${i}` }),
          });
          const cuerpo = (await r.json()) as { id_pago?: string };
          expect(r.status, JSON.stringify(cuerpo)).toBe(200);
          ids.push(cuerpo.id_pago!);
        }
        return ids;
      };
      const finales = async (ids: readonly string[]) => {
        const { rows } = await pool.query<{ id: string; estado: string; version: number }>(
          `SELECT id::text AS id, estado, version FROM pagos WHERE id = ANY($1::uuid[]) AND estado IN ('EXITOSO', 'FALLIDO')`,
          [ids],
        );
        return rows;
      };

      const confirmados = await crear('antes-de-la-caida', 20);
      await esperarQue(async () => (await finales(confirmados)).length === confirmados.length, {
        tiempoMs: 60_000,
        descripcion: 'pagos finales antes de la caída',
        detalle,
      });
      const fotoAntes = new Map((await finales(confirmados)).map((f) => [f.id, `${f.estado} v${f.version}`]));

      // La caída: SIGKILL al postmaster, sin aviso.
      const postmaster = antes.postgresPid!;
      process.kill(postmaster, 'SIGKILL');

      await esperarQue(
        () => {
          const p = leer();
          return (
            p?.postgresCaidas === 1 &&
            p.postgresReinicios === 1 &&
            p.postgresPid !== null &&
            p.postgresPid !== postmaster &&
            pidVivo(p.postgresPid)
          );
        },
        { tiempoMs: 60_000, descripcion: 'el supervisor detecta la caída y vuelve a arrancar PostgreSQL', detalle },
      );
      expect(await leerPidPostmaster(datos)).toBe(leer()!.postgresPid);
      expect(salida.some((l) => l.includes(`PostgreSQL (PID ${postmaster}) terminó sin que nadie lo parara`))).toBe(true);

      // La API vuelve a responder 200 sin que nadie la reinicie, y lo confirmado sigue ahí.
      await esperarQue(async () => (await estadoDe(`/pagos/${confirmados[0]}`)) === 200, {
        tiempoMs: 60_000,
        descripcion: 'GET /pagos/{id} responde 200 tras la recuperación',
        detalle,
      });
      const fotoDespues = new Map((await finales(confirmados)).map((f) => [f.id, `${f.estado} v${f.version}`]));
      expect(fotoDespues).toEqual(fotoAntes);
      for (const id of confirmados.slice(0, 5)) expect(await estadoDe(`/pagos/${id}`)).toBe(200);

      // Y el pipeline entero funciona otra vez: pagos nuevos llegan a estado final.
      const nuevos = await crear('despues-de-la-caida', 10);
      await esperarQue(async () => (await finales(nuevos)).length === nuevos.length, {
        tiempoMs: 90_000,
        descripcion: 'pagos nuevos finales tras la caída',
        detalle,
      });

      const despues = leer()!;
      expect(
        despues.instancias.api.map((i) => i.pid),
        'las instancias de la API no se reiniciaron',
      ).toEqual(antes.instancias.api.map((i) => i.pid));
      expect(despues.instancias.api.map((i) => i.reinicios)).toEqual([0, 0]);
      console.info(
        `tras la caída: relay reiniciado ${despues.instancias.outbox[0]?.reinicios} veces (pierde su cerrojo a propósito), ` +
          `consumidor ${despues.instancias.consumer[0]?.reinicios}; ${salida.find((l) => l.includes('PostgreSQL recuperado')) ?? ''}`,
      );
    } finally {
      await pool.end();
    }

    // Parada ordenada: todo se para, el fichero de procesos desaparece y no queda ningún proceso de PostgreSQL.
    supervisor.senal('SIGTERM');
    expect(await supervisor.salida).toEqual({ codigo: 0, senal: null });
    expect(existsSync(archivo)).toBe(false);
    expect(await procesosEnCarpeta(datos)).toEqual([]);
  }, 300_000);
});
