import type { ClienteHttp } from './cliente-http.js';
import type { Observaciones } from './carga.js';
import { cabecerasDe, type SocioCorrida } from './socios.js';
import type { ConsultaObservada } from './veredicto.js';

/**
 * Lecturas de muestreo al final de la corrida, para la regla «ninguna respuesta llevó datos de otro
 * socio»: cada socio activo pide sus pagos (GET /pagos/{id}: 200 con ese pago), los lista por referencia
 * (solo los suyos, aunque los demás socios tengan la misma referencia) y sin filtro, y pide el pago de
 * otro socio con la misma referencia (GET /pagos/{id} y su historial: 404, sin decir que existe).
 */

/** Los ids de pago que trae el cuerpo de una respuesta de lectura (un pago, una página o un historial). */
export function idsDeRespuesta(cuerpo: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(cuerpo);
  } catch {
    return [];
  }
  const o = (json ?? {}) as Record<string, unknown>;
  if (Array.isArray(o['pagos'])) return (o['pagos'] as Record<string, unknown>[]).map((p) => String(p['id']));
  if (typeof o['id'] === 'string') return [o['id']];
  if (typeof o['id_pago'] === 'string') return [o['id_pago']];
  return [];
}

/** El id que cada socio recibió para cada referencia (solo las aceptadas con un único id). */
function idsAceptados(observaciones: Observaciones, socio: string): Map<string, string> {
  const ids = new Map<string, string>();
  for (const [referencia, x] of observaciones.get(socio) ?? []) {
    const [id] = [...x.ids];
    if (x.aceptada && x.ids.size === 1 && id) ids.set(referencia, id);
  }
  return ids;
}

export async function consultarAmbito(
  cliente: ClienteHttp,
  socios: readonly SocioCorrida[],
  observaciones: Observaciones,
  opciones: { readonly muestrasPorSocio: number; readonly suspendido: string | undefined },
): Promise<ConsultaObservada[]> {
  const consultas: ConsultaObservada[] = [];
  const pedir = async (socio: SocioCorrida, ruta: string, esperado: 200 | 404, idPedido?: string) => {
    const r = await cliente.obtener(ruta, { cabeceras: cabecerasDe(socio, '') });
    consultas.push({
      socio: socio.id,
      ruta,
      esperado,
      estado: r.estado,
      ids: r.estado === 200 ? idsDeRespuesta(r.cuerpo) : [],
      ...(idPedido ? { idPedido } : {}),
    });
  };
  const activos = socios.filter((s) => s.id !== opciones.suspendido);
  for (const [i, socio] of activos.entries()) {
    // El pago «ajeno» es el del socio siguiente (el suspendido incluido) con la misma referencia.
    const otro = socios[(socios.indexOf(socio) + 1) % socios.length];
    const propios = idsAceptados(observaciones, socio.id);
    const ajenos = otro && otro.id !== socio.id ? idsAceptados(observaciones, otro.id) : new Map<string, string>();
    const referencias = [...propios.keys()];
    const paso = Math.max(1, Math.floor(referencias.length / opciones.muestrasPorSocio));
    await pedir(socio, '/pagos?limite=100', 200);
    for (let k = i % paso; k < referencias.length && k / paso < opciones.muestrasPorSocio; k += paso) {
      const referencia = referencias[k] as string;
      const id = propios.get(referencia) as string;
      await pedir(socio, `/pagos/${id}`, 200, id);
      await pedir(socio, `/pagos?referencia_pago=${encodeURIComponent(referencia)}`, 200, id);
      const ajeno = ajenos.get(referencia);
      if (ajeno) {
        await pedir(socio, `/pagos/${ajeno}`, 404);
        await pedir(socio, `/pagos/${ajeno}/historial`, 404);
      }
    }
  }
  return consultas;
}
