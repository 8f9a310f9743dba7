import { parseArgs } from 'node:util';
import { Dinero, ReglaComision, type CalculoComision, type Dinero as TipoDinero } from '@aeropartners/dominio';
import { PostgresAlmacenComisiones } from '../postgres/conversiones/postgres-almacen-comisiones.js';
import { codigoDeSalida, conPoolDeOperacion } from './con-pool.js';
import { ErrorOperacion, type EntornoOperacion } from './entorno-operacion.js';

export const AYUDA_SOCIOS_COMISION = `Uso: pnpm socios comision <id_socio> (--porcentaje P | --fijo M --moneda C) [--tope M] [--dias-bloqueo D] [--minimo-liquidacion M] [--json]

  Una versión nueva de la regla de comisión del socio, vigente desde ahora (las comisiones ya
  calculadas guardan la regla con que se calcularon y no cambian).
  --porcentaje P          porcentaje de la venta, de 0.01 a 100 (2 decimales como mucho: 12.5 = 1250 pb)
  --fijo M                importe fijo por conversión (en unidades de la moneda: 2.50), con --moneda
  --moneda C              USD, EUR o COP: la de --fijo, --tope y --minimo-liquidacion
  --tope M                máximo por comisión
  --dias-bloqueo D        días desde la creación de la conversión antes de poder pagar (0 a 365; por defecto 30)
  --minimo-liquidacion M  neto mínimo para crear una liquidación (por defecto 0)
  --desde <ISO>           vigente desde ese instante en vez de ahora: solo para recuperar conversiones creadas
                          antes de que el socio tuviera regla (sus hechos esperan en mensajes muertos)
  --json                  la regla guardada como una línea JSON

Base de datos: DATABASE_URL o, si no está, la del \`pnpm start\` en marcha (.data/procesos.json).`;

const OPCIONES = {
  porcentaje: { type: 'string' },
  fijo: { type: 'string' },
  moneda: { type: 'string' },
  tope: { type: 'string' },
  'dias-bloqueo': { type: 'string' },
  'minimo-liquidacion': { type: 'string' },
  desde: { type: 'string' },
  json: { type: 'boolean' },
  ayuda: { type: 'boolean', short: 'h' },
} as const;

/** «12.5» → 1250 puntos básicos; `undefined` si no es un porcentaje con como mucho 2 decimales. */
export function puntosBasicosDe(texto: string): number | undefined {
  const m = /^(\d{1,3})(?:[.,](\d{1,2}))?$/.exec(texto.trim());
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

function importe(opcion: string, texto: string | undefined, moneda: string | undefined): TipoDinero | null {
  if (texto === undefined) return null;
  if (moneda === undefined) throw new ErrorOperacion(`${opcion} necesita --moneda`, 2);
  const d = Dinero.de(texto, moneda);
  if (!d.ok) throw new ErrorOperacion(`${opcion} inválido: «${texto}» ${moneda} (${d.error.tipo})`, 2);
  return d.valor;
}

/** Lo que pide la línea de órdenes, validado: el cálculo y los datos de la regla (sin versión). */
export function leerReglaPedida(argumentos: readonly string[]) {
  let leidos: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPCIONES; allowPositionals: true; strict: true }>>;
  try {
    leidos = parseArgs({ args: [...argumentos], options: OPCIONES, allowPositionals: true, strict: true });
  } catch (error) {
    const mensaje = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ErrorOperacion(`Argumentos inválidos: ${mensaje} (pnpm socios comision --ayuda)`, 2);
  }
  const { values: o, positionals } = leidos;
  if (o.ayuda) return { ayuda: true } as const;
  const [idSocio, ...resto] = positionals;
  if (idSocio === undefined) throw new ErrorOperacion('Falta el id del socio (pnpm socios comision --ayuda)', 2);
  if (resto.length > 0) throw new ErrorOperacion(`Argumentos de más: «${resto.join(' ')}»`, 2);
  if ((o.porcentaje === undefined) === (o.fijo === undefined))
    throw new ErrorOperacion('Indique --porcentaje P o --fijo M --moneda C (uno de los dos)', 2);
  let calculo: CalculoComision;
  if (o.porcentaje !== undefined) {
    const pb = puntosBasicosDe(o.porcentaje);
    if (pb === undefined)
      throw new ErrorOperacion(`--porcentaje inválido: «${o.porcentaje}» (de 0.01 a 100, con 2 decimales como mucho)`, 2);
    calculo = { tipo: 'porcentaje', puntosBasicos: pb };
  } else {
    const fijo = importe('--fijo', o.fijo, o.moneda);
    if (fijo === null) throw new ErrorOperacion('--fijo necesita un importe', 2);
    calculo = { tipo: 'fijo', monto: fijo };
  }
  let diasBloqueo: number | undefined;
  if (o['dias-bloqueo'] !== undefined) {
    if (!/^\d{1,3}$/.test(o['dias-bloqueo'])) throw new ErrorOperacion(`--dias-bloqueo inválido: «${o['dias-bloqueo']}» (0 a 365)`, 2);
    diasBloqueo = Number(o['dias-bloqueo']);
  }
  let desde: Date | null = null;
  if (o.desde !== undefined) {
    desde = new Date(o.desde);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(o.desde) || Number.isNaN(desde.getTime())) {
      throw new ErrorOperacion(`--desde inválido: «${o.desde}» (una fecha ISO 8601, p. ej. 2026-12-01T00:00:00Z)`, 2);
    }
  }
  return {
    ayuda: false,
    json: o.json === true,
    desde,
    idSocio,
    datos: {
      calculo,
      tope: importe('--tope', o.tope, o.moneda),
      minimoLiquidacion: importe('--minimo-liquidacion', o['minimo-liquidacion'], o.moneda),
      ...(diasBloqueo === undefined ? {} : { diasBloqueo }),
    },
  } as const;
}

function describirRegla(r: ReglaComision): string {
  const calculo =
    r.calculo.tipo === 'porcentaje'
      ? `${r.calculo.puntosBasicos / 100} %`
      : `${Dinero.formatear(r.calculo.monto)} ${r.calculo.monto.moneda} fijo`;
  const tope = r.tope ? `, tope ${Dinero.formatear(r.tope)} ${r.tope.moneda}` : '';
  const minimo = r.minimoLiquidacion
    ? `, mínimo por liquidación ${Dinero.formatear(r.minimoLiquidacion)} ${r.minimoLiquidacion.moneda}`
    : '';
  return `Regla de comisión v${r.version} del socio ${r.idSocio}, vigente desde ${r.vigenteDesde.toISOString()}: ${calculo}${tope}, bloqueo de ${r.diasBloqueo} días${minimo}.`;
}

/**
 * `pnpm socios comision …` (la suborden `comision` de `pnpm socios`; recibe los argumentos que van
 * detrás de `comision`). Devuelve el código de salida: 0 bien, 1 fallo, 2 uso incorrecto.
 */
export function comandoSociosComision(entorno: EntornoOperacion): Promise<number> {
  return codigoDeSalida(entorno, async () => {
    const pedida = leerReglaPedida(entorno.argumentos);
    if (pedida.ayuda) {
      entorno.escribir(AYUDA_SOCIOS_COMISION);
      return 0;
    }
    return conPoolDeOperacion(
      entorno,
      'aeropartners-socios',
      async (pool) => {
        const socio = await pool.query('SELECT 1 FROM socios WHERE id = $1', [pedida.idSocio]);
        if (socio.rowCount === 0) throw new ErrorOperacion(`El socio ${pedida.idSocio} no existe (pnpm socios listar)`);
        const almacen = new PostgresAlmacenComisiones(pool);
        const ahora = pedida.desde ?? new Date();
        let rechazo: string | undefined;
        const regla = await almacen
          .guardarRegla(pedida.idSocio, (version) => {
            const r = ReglaComision.crear({ idSocio: pedida.idSocio, version, vigenteDesde: ahora, ...pedida.datos });
            if (r.ok) return r.valor;
            rechazo = 'campo' in r.error ? `${r.error.campo}: ${r.error.motivo}` : r.error.tipo;
            return new Error(rechazo);
          })
          .catch((error: unknown) => {
            if (rechazo !== undefined) throw new ErrorOperacion(`Regla inválida: ${rechazo}`, 2);
            throw error;
          });
        entorno.escribir(
          pedida.json
            ? JSON.stringify({ id_socio: regla.idSocio, version: regla.version, vigente_desde: regla.vigenteDesde.toISOString() })
            : describirRegla(regla),
        );
        return 0;
      },
      1,
    );
  });
}
