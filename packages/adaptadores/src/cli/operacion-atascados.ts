import {
  ESTADOS_ATASCABLES,
  esEstadoAtascable,
  type ConsultaAtascados,
  type EstadoAtascable,
  type PagoAtascado,
  type PaginaAtascados,
  type PagosAtascados,
  type UmbralesAtasco,
} from '@aeropartners/aplicacion';
import { ErrorOperacion, duracionLegible, tabla } from './entorno-operacion.js';

export interface PeticionAtascados {
  readonly atascados: PagosAtascados;
  readonly estados: readonly EstadoAtascable[];
  readonly umbrales: UmbralesAtasco;
  readonly limite: number;
  readonly reimpulsar: boolean;
  readonly formato: 'tabla' | 'json';
  readonly escribir: (linea: string) => void;
  readonly escribirError: (linea: string) => void;
}

/** Pagos examinados por sentencia: el recorrido va por tramos acotados, como el barrendero. */
const VENTANA = 1000;
const LOTE = 100;

const MOTIVOS = {
  eventoSinPublicar: 'no: su evento está en el outbox sin publicar (mire el relay)',
  publicadoHacePoco: 'no: su evento se publicó hace menos que el umbral',
  sinEvento: 'no: no tiene PagoPendiente en el outbox',
} as const;

export function estadosDe(valor: string | undefined): readonly EstadoAtascable[] {
  if (valor === undefined) return ESTADOS_ATASCABLES;
  const estado = valor.toUpperCase();
  if (!esEstadoAtascable(estado)) throw new ErrorOperacion(`--estado inválido: «${valor}» (PENDIENTE o PROCESANDO)`, 2);
  return [estado];
}

/**
 * `atascados`: lista los pagos atascados (o, con `--reimpulsar`, los re-impulsa ya) recorriendo cada
 * estado por tramos acotados. Devuelve el código de salida.
 */
export async function operacionAtascados(p: PeticionAtascados): Promise<number> {
  const encontrados: PagoAtascado[] = [];
  for (const estado of p.estados) {
    let despuesDe: string | null = null;
    while (encontrados.length < p.limite) {
      const consulta: ConsultaAtascados = { estado, umbralMs: p.umbrales[estado], ventana: VENTANA, despuesDe };
      const pagina: PaginaAtascados = p.reimpulsar
        ? await p.atascados.reimpulsar({ ...consulta, lote: Math.min(LOTE, p.limite - encontrados.length) })
        : await p.atascados.listar(consulta);
      encontrados.push(...pagina.pagos.slice(0, p.limite - encontrados.length));
      if (pagina.siguiente === null) break;
      despuesDe = pagina.siguiente;
    }
  }
  const umbrales = p.estados.map((e) => `${e} ${duracionLegible(p.umbrales[e])}`).join(', ');
  const porEstado = p.estados.map((e) => `${e}: ${encontrados.filter((x) => x.estado === e).length}`).join(', ');
  const resumen = p.reimpulsar
    ? encontrados.length === 0
      ? `Ningún pago atascado que re-impulsar (umbral: ${umbrales}).`
      : `${encontrados.length} pago(s) re-impulsado(s) (${porEstado}); el relay los publicará y el consumidor los manejará como una reentrega. Umbral: ${umbrales}.`
    : `${encontrados.length} pago(s) atascado(s) (${porEstado}) con umbral ${umbrales}.${encontrados.length >= p.limite ? ` Se muestran los ${p.limite} primeros (--limite).` : ''}`;
  if (p.formato === 'json') {
    for (const pago of encontrados) p.escribir(JSON.stringify(aJson(pago, p.reimpulsar)));
    p.escribirError(resumen);
    return 0;
  }
  if (encontrados.length > 0) {
    const filas = encontrados.map((x) => [
      x.idPago,
      x.estado,
      duracionLegible(x.edadMs),
      evento(x),
      String(x.evento?.reimpulsos ?? 0),
      p.reimpulsar ? 're-impulsado' : x.atasco.reimpulsable ? 'sí' : MOTIVOS[x.atasco.motivo],
    ]);
    for (const l of tabla(['ID PAGO', 'ESTADO', 'EDAD', 'EVENTO', 'RE-IMPULSOS', p.reimpulsar ? 'ACCIÓN' : 'RE-IMPULSABLE'], filas))
      p.escribir(l);
  }
  p.escribir(resumen);
  return 0;
}

function evento(x: PagoAtascado): string {
  if (x.evento === null) return 'ninguno';
  if (x.evento.publicadoEn === null) return 'en cola';
  return `publicado hace ${duracionLegible(Date.now() - x.evento.publicadoEn.getTime())}`;
}

function aJson(x: PagoAtascado, reimpulsado: boolean) {
  return {
    id_pago: x.idPago,
    estado: x.estado,
    desde: x.desde.toISOString(),
    edad_s: Math.floor(x.edadMs / 1000),
    turno_hasta: x.turnoHasta?.toISOString() ?? null,
    evento: x.evento === null ? 'ninguno' : x.evento.publicadoEn === null ? 'en_cola' : 'publicado',
    evento_publicado_en: x.evento?.publicadoEn?.toISOString() ?? null,
    reimpulsos: x.evento?.reimpulsos ?? 0,
    reimpulsable: x.atasco.reimpulsable,
    ...(x.atasco.reimpulsable ? {} : { motivo: x.atasco.motivo }),
    ...(reimpulsado ? { accion: 'reimpulsado' } : {}),
  };
}
