import { PagosAtascadosEnMemoria, idsSecuenciales, relojFijo } from '@aeropartners/aplicacion/testing';
import type { PagosAtascadosBajoPrueba, PlantaPago } from '../contrato-pagos-atascados.js';

/** El doble en memoria preparado para la suite de contrato (reloj fijo, ids crecientes). */
export function pagosAtascadosEnMemoriaBajoPrueba(): PagosAtascadosBajoPrueba & { readonly doble: PagosAtascadosEnMemoria } {
  const reloj = relojFijo(new Date('2026-03-01T12:00:00.000Z'));
  const doble = new PagosAtascadosEnMemoria(reloj);
  const nuevoId = idsSecuenciales(7);
  const hace = (ms: number) => new Date(reloj.ahora().getTime() - ms);
  return {
    doble,
    atascados: doble,
    async plantar(pagos: readonly PlantaPago[]) {
      return pagos.map((p) => {
        const idPago = nuevoId();
        const turnoHasta = p.turno === 'vigente' ? hace(-3_600_000) : p.turno === 'vencido' ? hace(1_000) : null;
        const evento =
          p.evento === 'ninguno'
            ? null
            : { publicadoEn: p.evento === 'sinPublicar' ? null : hace(p.evento.publicadoHaceMs), reimpulsos: 0 };
        doble.plantar({ idPago, estado: p.estado, desde: hace(p.haceMs), turnoHasta, evento });
        return idPago;
      });
    },
    async publicar() {
      doble.publicar();
    },
    async reimpulsos(idPago: string) {
      return doble.ver(idPago)?.evento?.reimpulsos ?? 0;
    },
  };
}
