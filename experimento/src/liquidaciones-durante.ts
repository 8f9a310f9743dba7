import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ConsultorPostgres } from '@aeropartners/kit-pruebas';

/**
 * Liquidaciones durante la corrida (issue 12): además de las periódicas de los consumidores
 * (`LIQUIDACIONES_CADA` corto en la topología del experimento), ejecuciones a demanda con la orden de los
 * operadores (`pnpm liquidaciones ejecutar`, ya compilada) cada pocos segundos mientras dura la carga,
 * algunas a la vez que otra (con otro id o con el mismo), todo encima de los fallos. Al final, ejecuciones
 * hasta que no queda nada que liquidar: la pasarela simulada rechaza al azar, así que un pago de
 * liquidación FALLIDO libera sus comisiones y la ronda siguiente las vuelve a intentar.
 */

/** Lo que imprime `liquidaciones ejecutar --json` (una línea por modo). */
export interface ResumenEjecucion {
  readonly idEjecucion: string;
  readonly cerradas: number;
  readonly creadas: number;
  readonly omitidas: number;
  readonly sinLiquidar: number;
}

export interface EjecucionObservada {
  readonly id: string;
  readonly fase: 'carga' | 'final';
  /** ¿Salió a la vez que otra ejecución a demanda? */
  readonly concurrente: boolean;
  readonly resumen?: ResumenEjecucion;
  /** Si la orden falló (p. ej. con PostgreSQL caído): no es una violación, la siguiente lo recoge. */
  readonly error?: string;
}

export type EjecutarLiquidaciones = (id: string) => Promise<ResumenEjecucion>;

/** Lee la línea JSON de `liquidaciones ejecutar --json --modo live`. */
export function leerResumen(salida: string): ResumenEjecucion {
  const linea = salida
    .trim()
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .at(-1);
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(linea ?? '') as Record<string, unknown>;
  } catch {
    throw new Error(`«liquidaciones ejecutar» no imprimió una línea JSON: ${salida.slice(0, 300)}`);
  }
  if (typeof o['idEjecucion'] !== 'string' || !Array.isArray(o['creadas']) || typeof o['cerradas'] !== 'number') {
    throw new Error(`«liquidaciones ejecutar» devolvió algo inesperado: ${linea}`);
  }
  return {
    idEjecucion: o['idEjecucion'],
    cerradas: o['cerradas'],
    creadas: o['creadas'].length,
    omitidas: typeof o['omitidas'] === 'number' ? o['omitidas'] : 0,
    sinLiquidar: Array.isArray(o['sinLiquidar']) ? o['sinLiquidar'].length : 0,
  };
}

/** La orden de los operadores, compilada (`pnpm experimento` compila antes), contra `databaseUrl`. */
export function liquidacionesPorCli(raiz: string, databaseUrl: string): EjecutarLiquidaciones {
  const script = path.join(raiz, 'packages/adaptadores/dist/cli/liquidaciones.js');
  const ejecutar = promisify(execFile);
  return async (id) => {
    if (!existsSync(script)) throw new Error(`no está la orden de liquidaciones compilada (${path.relative(raiz, script)}): pnpm build`);
    try {
      const { stdout } = await ejecutar(process.execPath, [script, 'ejecutar', '--id', id, '--modo', 'live', '--json'], {
        cwd: raiz,
        env: { ...process.env, DATABASE_URL: databaseUrl },
        timeout: 120_000,
      });
      return leerResumen(stdout);
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`liquidaciones ejecutar ${id}: ${(e.stderr ?? '').trim().split('\n')[0] || e.message}`, { cause: error });
    }
  };
}

const esperar = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const mensaje = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Ejecuciones a demanda cada `cadaS` segundos hasta `terminada()`: una de cada tres sale a la vez que
 * otra con otro id, y una de cada cinco a la vez que otra con el MISMO id (la base escribe cada
 * liquidación una vez).
 */
export async function liquidarDuranteLaCarga(o: {
  readonly ejecutar: EjecutarLiquidaciones;
  readonly corrida: string;
  readonly cadaS: number;
  readonly terminada: () => boolean;
  readonly empezar: () => boolean;
  readonly anotar: (e: EjecucionObservada) => void;
}): Promise<void> {
  while (!o.terminada() && !o.empezar()) await esperar(200);
  for (let n = 1; !o.terminada(); n += 1) {
    const id = `experimento-${o.corrida}-${n}`;
    const ids = n % 5 === 0 ? [id, id] : n % 3 === 0 ? [id, `${id}-b`] : [id];
    await Promise.all(
      ids.map(async (x) => {
        try {
          o.anotar({ id: x, fase: 'carga', concurrente: ids.length > 1, resumen: await o.ejecutar(x) });
        } catch (error) {
          o.anotar({ id: x, fase: 'carga', concurrente: ids.length > 1, error: mensaje(error) });
        }
      }),
    );
    for (let t = 0; t < o.cadaS * 5 && !o.terminada(); t += 1) await esperar(200);
  }
}

export interface ResultadoFinal {
  readonly rondas: number;
  readonly estable: boolean;
}

/**
 * Liquidaciones finales hasta que no queda nada que liquidar (como mucho `maxRondas`): antes de cada
 * ronda, que los hechos aceptados estén aplicados y se envían las reversiones cuya comisión ya se pagó;
 * tras cada ronda, se espera a que los pagos de las liquidaciones terminen (el cierre los asienta o los
 * anula). Estable = una ronda sin liquidaciones nuevas, ninguna en curso y ninguna reversión esperando.
 */
export async function liquidarHastaEstabilizar(o: {
  readonly bd: ConsultorPostgres;
  readonly socios: readonly string[];
  readonly ejecutar: EjecutarLiquidaciones;
  readonly corrida: string;
  readonly maxRondas: number;
  /** Envía las reversiones con la comisión ya pagada; devuelve cuántas siguen esperando. */
  readonly revertirLasPagadas: () => Promise<number>;
  /** Envía las reversiones que nunca vieron su comisión pagada. */
  readonly revertirLasDemas: () => Promise<void>;
  readonly anotar: (e: EjecucionObservada) => void;
  readonly decir: (t: string) => void;
}): Promise<ResultadoFinal> {
  const contar = async (sql: string): Promise<number> => {
    const { rows } = await o.bd.query(sql, [o.socios]);
    return Number((rows[0] as { n: number | string } | undefined)?.n ?? 0);
  };
  const hastaQue = async (cero: () => Promise<number>, maxS: number) => {
    const limite = Date.now() + maxS * 1000;
    while (Date.now() < limite) {
      if ((await cero().catch(() => 1)) === 0) return true;
      await esperar(500);
    }
    return false;
  };
  const sinAplicar = () =>
    contar(`SELECT count(*)::int AS n FROM hechos_conversion WHERE id_socio = ANY($1::text[]) AND aplicado_en IS NULL`);
  const pagosEnVuelo = () =>
    contar(
      `SELECT count(*)::int AS n FROM liquidaciones l JOIN pagos p ON p.id = l.id_pago
       WHERE l.id_socio = ANY($1::text[]) AND l.estado = 'EN_CURSO' AND p.estado NOT IN ('EXITOSO', 'FALLIDO')`,
    );
  const enCurso = () => contar(`SELECT count(*)::int AS n FROM liquidaciones WHERE id_socio = ANY($1::text[]) AND estado = 'EN_CURSO'`);
  let sinPagarEnviadas = false;
  for (let ronda = 1; ronda <= o.maxRondas; ronda += 1) {
    await hastaQue(sinAplicar, 180);
    const esperando = await o.revertirLasPagadas();
    if (esperando === 0 || sinPagarEnviadas) await hastaQue(sinAplicar, 180);
    const id = `final-${o.corrida}-${ronda}`;
    let resumen: ResumenEjecucion | undefined;
    for (let intento = 1; intento <= 5 && !resumen; intento += 1) {
      try {
        resumen = await o.ejecutar(id);
        o.anotar({ id, fase: 'final', concurrente: false, resumen });
      } catch (error) {
        o.anotar({ id, fase: 'final', concurrente: false, error: mensaje(error) });
        await esperar(3000);
      }
    }
    await hastaQue(pagosEnVuelo, 300);
    const quedan = await enCurso().catch(() => 1);
    o.decir(
      `liquidación final ${ronda}: ${resumen ? `${resumen.creadas} creadas, ${resumen.cerradas} cerradas` : 'no se pudo ejecutar'}; ` +
        `${quedan} en curso; ${esperando} reversiones esperando su pago`,
    );
    if (resumen && resumen.creadas === 0 && quedan === 0) {
      if (esperando === 0) return { rondas: ronda, estable: true };
      // Nada más que liquidar y aún hay reversiones sin su pago: ya no se pagarán; se envían igual.
      await o.revertirLasDemas();
      sinPagarEnviadas = true;
    }
  }
  return { rondas: o.maxRondas, estable: false };
}

/**
 * La regla de comisión de cada socio con la administración de los operadores (`pnpm socios comision`,
 * ya compilada), contra `databaseUrl`: vigente desde ahora, así que va antes de la primera conversión.
 */
export async function configurarReglasPorCli(
  raiz: string,
  databaseUrl: string,
  reglas: readonly { readonly idSocio: string; readonly argumentos: readonly string[] }[],
): Promise<void> {
  const script = path.join(raiz, 'packages/adaptadores/dist/cli/socios.js');
  const ejecutar = promisify(execFile);
  for (const r of reglas) {
    try {
      await ejecutar(process.execPath, [script, 'comision', r.idSocio, ...r.argumentos], {
        cwd: raiz,
        env: { ...process.env, DATABASE_URL: databaseUrl },
        timeout: 60_000,
      });
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`socios comision ${r.idSocio}: ${(e.stderr ?? '').trim() || e.message}`, { cause: error });
    }
  }
}
