import { parseArgs } from 'node:util';
import { ejecutarLiquidaciones } from '@aeropartners/aplicacion';
import type { Modo } from '@aeropartners/dominio';
import { uuidv7 } from '../ids/uuidv7.js';
import { PostgresAlmacenComisiones } from '../postgres/conversiones/postgres-almacen-comisiones.js';
import { codigoDeSalida, conPoolDeOperacion } from './con-pool.js';
import { ErrorOperacion, tabla, type EntornoOperacion } from './entorno-operacion.js';

export const AYUDA_LIQUIDACIONES = `Uso: pnpm liquidaciones ejecutar [--id ID] [--modo live|test|todos] [--json]

  ejecutar   Una ejecución de liquidaciones ahora: cierra las liquidaciones cuyo pago ya terminó
             (EXITOSO → comisiones PAGADAS; FALLIDO → liberadas) y, por (socio, afiliado, moneda), liquida
             las comisiones aprobadas con el bloqueo cumplido, neteando las recuperaciones pendientes. Cada
             liquidación se crea con su Pago en una sola sentencia; el comando vuelve cuando están
             confirmadas (el consumidor cobra los pagos como cualquier otro).
  --id ID    id de la ejecución (por defecto uno nuevo): repetir el mismo id no crea nada nuevo.
  --json     el resumen como una línea JSON.

  --modo M   live, test o todos (por defecto todos): las liquidaciones de prueba se pagan con pagos de prueba.

Base de datos: DATABASE_URL o, si no está, la del \`pnpm start\` en marcha (.data/procesos.json).`;

const OPCIONES = {
  id: { type: 'string' },
  modo: { type: 'string' },
  json: { type: 'boolean' },
  ayuda: { type: 'boolean', short: 'h' },
} as const;

/** `pnpm liquidaciones …`. Devuelve el código de salida: 0 bien, 1 fallo, 2 uso incorrecto. */
export function comandoLiquidaciones(entorno: EntornoOperacion): Promise<number> {
  return codigoDeSalida(entorno, async () => {
    let leidos: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPCIONES; allowPositionals: true; strict: true }>>;
    try {
      leidos = parseArgs({ args: [...entorno.argumentos], options: OPCIONES, allowPositionals: true, strict: true });
    } catch (error) {
      const mensaje = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new ErrorOperacion(`Argumentos inválidos: ${mensaje} (pnpm liquidaciones --ayuda)`, 2);
    }
    const { values: o, positionals } = leidos;
    const [comando, ...resto] = positionals;
    if (o.ayuda || comando === undefined) {
      entorno.escribir(AYUDA_LIQUIDACIONES);
      return o.ayuda ? 0 : 2;
    }
    if (comando !== 'ejecutar') throw new ErrorOperacion(`Comando desconocido: «${comando}» (pnpm liquidaciones --ayuda)`, 2);
    if (resto.length > 0) throw new ErrorOperacion(`ejecutar no lleva más argumentos («${resto.join(' ')}»)`, 2);
    const idEjecucion = o.id ?? `manual-${uuidv7()}`;
    if (!/^\S{1,200}$/.test(idEjecucion)) throw new ErrorOperacion('--id debe tener de 1 a 200 caracteres sin espacios', 2);
    const modo = o.modo ?? 'todos';
    if (modo !== 'live' && modo !== 'test' && modo !== 'todos')
      throw new ErrorOperacion(`--modo debe ser live, test o todos («${modo}»)`, 2);
    const modos: readonly Modo[] = modo === 'todos' ? ['live', 'test'] : [modo];

    return conPoolDeOperacion(entorno, 'aeropartners-liquidaciones', async (pool) => {
      const almacen = new PostgresAlmacenComisiones(pool);
      for (const m of modos) {
        const resumen = await ejecutarLiquidaciones(
          { almacen, nuevoId: uuidv7, ahora: () => new Date() },
          { modo: m, idEjecucion, traza: { idCorrelacion: idEjecucion } },
        );
        if (o.json) {
          entorno.escribir(JSON.stringify({ modo: m, ...resumen }));
          continue;
        }
        entorno.escribir(
          `Ejecución ${resumen.idEjecucion} (${m}): ${resumen.creadas.length} liquidaciones creadas, ${resumen.cerradas} cerradas, ` +
            `${resumen.omitidas} omitidas (ya existían o cambiaron), ${resumen.sinLiquidar.length} grupos sin liquidar.`,
        );
        if (resumen.creadas.length > 0) {
          for (const linea of tabla(
            ['LIQUIDACION', 'PAGO', 'NETO'],
            resumen.creadas.map((c) => [c.id, c.idPago, `${c.netoUnidadesMenores} ${c.moneda}`]),
          ))
            entorno.escribir(linea);
        }
        for (const g of resumen.sinLiquidar) {
          entorno.escribir(
            `sin liquidar ${g.idSocio}/${g.idAfiliado} ${g.moneda}: neto ${g.netoUnidadesMenores ?? '—'}, mínimo ${g.minimoUnidadesMenores} (${g.motivo})`,
          );
        }
      }
      return 0;
    });
  });
}
