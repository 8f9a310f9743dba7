import type { EstadoPago, Reloj } from '@aeropartners/dominio';
import { ESTADOS_ATASCABLES, enCurso, evaluarAtasco, type EstadoAtascable, type VistaPagoAtascable } from '../barrido/atascos.js';
import type { ConsultaAtascados, MedidaAtascos, PagoAtascado, PaginaAtascados, PagosAtascados } from '../barrido/puertos-barrido.js';

interface PagoEnMemoria {
  idPago: string;
  estado: EstadoPago;
  desde: Date;
  turnoHasta: Date | null;
  evento: { publicadoEn: Date | null; reimpulsos: number } | null;
}

/**
 * `PagosAtascados` en memoria, con el criterio de `evaluarAtasco` tal cual y el reloj que le den. Para
 * probar la política del barrendero sin base de datos; pasa la misma suite de contrato que el de
 * PostgreSQL. `publicar` hace lo que haría el relay con los eventos re-encolados.
 */
export class PagosAtascadosEnMemoria implements PagosAtascados {
  readonly #pagos = new Map<string, PagoEnMemoria>();

  constructor(readonly reloj: Reloj) {}

  /** Planta (o sustituye) un pago. */
  plantar(pago: VistaPagoAtascable): void {
    this.#pagos.set(pago.idPago, {
      idPago: pago.idPago,
      estado: pago.estado,
      desde: pago.desde,
      turnoHasta: pago.turnoHasta,
      evento: pago.evento ? { ...pago.evento } : null,
    });
  }

  /** El estado actual de un pago plantado (o `undefined`). */
  ver(idPago: string): VistaPagoAtascable | undefined {
    const p = this.#pagos.get(idPago);
    return p ? { ...p, evento: p.evento ? { ...p.evento } : null } : undefined;
  }

  /** Cambia el estado de un pago (como haría el consumidor). */
  pasarA(idPago: string, estado: EstadoPago): void {
    const p = this.#pagos.get(idPago);
    if (!p) throw new Error(`Pago desconocido: ${idPago}`);
    p.estado = estado;
    p.desde = this.reloj.ahora();
    p.turnoHasta = null;
  }

  /** Lo que hace el relay: publica los `PagoPendiente` en cola (fecha de publicación = ahora). Devuelve cuántos. */
  publicar(): number {
    let n = 0;
    for (const p of this.#pagos.values()) {
      if (p.evento && p.evento.publicadoEn === null) {
        p.evento.publicadoEn = this.reloj.ahora();
        n += 1;
      }
    }
    return n;
  }

  async listar(consulta: ConsultaAtascados): Promise<PaginaAtascados> {
    const ahora = this.reloj.ahora();
    const { ventana, siguiente } = this.#ventana(consulta);
    return { pagos: ventana.flatMap((p) => atascado(p, ahora, consulta.umbralMs) ?? []), siguiente };
  }

  async reimpulsar(consulta: ConsultaAtascados & { readonly lote: number }): Promise<PaginaAtascados> {
    const ahora = this.reloj.ahora();
    const { ventana, siguiente } = this.#ventana(consulta);
    const hechos: PagoAtascado[] = [];
    for (const p of ventana) {
      if (hechos.length >= consulta.lote) break;
      const visto = atascado(p, ahora, consulta.umbralMs);
      if (!visto?.atasco.reimpulsable || !p.evento) continue;
      p.evento.publicadoEn = null;
      p.evento.reimpulsos += 1;
      hechos.push({ ...visto, evento: { ...p.evento } });
    }
    const ultimo = hechos.at(-1);
    return { pagos: hechos, siguiente: hechos.length >= consulta.lote && ultimo ? ultimo.idPago : siguiente };
  }

  async medir(umbrales: Readonly<Record<EstadoAtascable, number>>, ventana: number): Promise<readonly MedidaAtascos[]> {
    const ahora = this.reloj.ahora();
    return ESTADOS_ATASCABLES.map((estado) => {
      const todos = this.#ordenados(estado, null);
      const vistos = todos.slice(0, ventana);
      const umbralesEstado = { PENDIENTE: umbrales[estado], PROCESANDO: umbrales[estado] };
      const atascados = vistos.filter((p) => evaluarAtasco(p, ahora, umbralesEstado).atascado).length;
      const libres = vistos.filter((p) => !enCurso(p, ahora)).map((p) => ahora.getTime() - p.desde.getTime());
      return { estado, atascados, masViejoMs: libres.length > 0 ? Math.max(0, ...libres) : 0, completa: todos.length < ventana };
    });
  }

  #ordenados(estado: EstadoAtascable, despuesDe: string | null): PagoEnMemoria[] {
    return [...this.#pagos.values()]
      .filter((p) => p.estado === estado && (despuesDe === null || p.idPago > despuesDe))
      .sort((a, b) => (a.idPago < b.idPago ? -1 : a.idPago > b.idPago ? 1 : 0));
  }

  #ventana(consulta: ConsultaAtascados): { ventana: PagoEnMemoria[]; siguiente: string | null } {
    const ventana = this.#ordenados(consulta.estado, consulta.despuesDe).slice(0, consulta.ventana);
    const ultimo = ventana.at(-1);
    return { ventana, siguiente: ventana.length >= consulta.ventana && ultimo ? ultimo.idPago : null };
  }
}

function atascado(p: PagoEnMemoria, ahora: Date, umbralMs: number): PagoAtascado | undefined {
  if (p.estado !== 'PENDIENTE' && p.estado !== 'PROCESANDO') return undefined;
  const atasco = evaluarAtasco(p, ahora, { PENDIENTE: umbralMs, PROCESANDO: umbralMs });
  if (!atasco.atascado) return undefined;
  return {
    idPago: p.idPago,
    estado: p.estado,
    desde: p.desde,
    edadMs: atasco.edadMs,
    turnoHasta: p.turnoHasta,
    evento: p.evento ? { ...p.evento } : null,
    atasco,
  };
}
