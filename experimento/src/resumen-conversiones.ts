import type { ContadoresConversiones } from './carga-conversiones.js';
import type { PlanConversiones } from './conversiones-plan.js';
import type { EjecucionObservada, ResultadoFinal } from './liquidaciones-durante.js';
import type { Veredicto } from './veredicto.js';
import type { CifrasConversiones, VeredictoConversiones } from './veredicto-conversiones.js';

/** El veredicto de pagos con las reglas de conversiones sumadas: una violación de cualquiera suspende. */
export function conConversiones(v: Veredicto, c: VeredictoConversiones): Veredicto {
  const violaciones = [...v.violaciones, ...c.violaciones];
  return { ...v, aprobado: violaciones.length === 0, violaciones, reglas: [...v.reglas, ...c.reglas] };
}

const fmt = (n: number) => Math.round(n).toLocaleString('es-ES');
const importe = (unidades: number) => (unidades / 100).toLocaleString('es-ES', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Las cifras de conversiones y liquidaciones para las medidas del informe (texto y HTML). */
export function medidasConversiones(d: {
  readonly plan: PlanConversiones;
  readonly contadores: ContadoresConversiones;
  readonly ejecuciones: readonly EjecucionObservada[];
  readonly final: ResultadoFinal;
  readonly cifras: CifrasConversiones;
}): Record<string, string> {
  const { plan, contadores: c, cifras } = d;
  const durante = d.ejecuciones.filter((e) => e.fase === 'carga');
  const finales = d.ejecuciones.filter((e) => e.fase === 'final');
  const creadas = (xs: readonly EjecucionObservada[]) => xs.reduce((t, e) => t + (e.resumen?.creadas ?? 0), 0);
  const estados = (r: Readonly<Record<string, number>>) =>
    Object.entries(r)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ') || '—';
  return {
    'Conversiones: hechos planeados / peticiones enviadas (repiten un hecho)': `${fmt(plan.hechos)} / ${fmt(c.peticiones)} (${fmt(c.peticiones - plan.hechos)})`,
    'Conversiones: hechos con copias simultáneas / réplicas tardías': `${fmt(c.simultaneos)} / ${fmt(c.tardias)}`,
    'Conversiones: respuestas 202 (Idempotent-Replayed) / 403 / transitorios reintentados / otras': `${fmt(c.r202)} (${fmt(c.replays)}) / ${fmt(c.r403)} / ${fmt(c.transitorios)} / ${JSON.stringify(c.otros)}`,
    'Conversiones en la base, por estado': `${fmt(cifras.conversiones)} (${estados(cifras.porEstado)})`,
    'Reversiones tras el pago: con la comisión PAGADA / sin llegar a pagarse': `${fmt(c.revertidasTrasPago)} / ${fmt(c.revertidasSinPago)}`,
    'Ejecuciones de liquidaciones durante la carga (a la vez que otra / fallidas) → liquidaciones creadas': `${fmt(durante.length)} (${fmt(durante.filter((e) => e.concurrente).length)} / ${fmt(durante.filter((e) => e.error).length)}) → ${fmt(creadas(durante))}`,
    'Liquidaciones finales: rondas → liquidaciones creadas': `${fmt(d.final.rondas)}${d.final.estable ? '' : ' (sin estabilizarse)'} → ${fmt(creadas(finales))}`,
    'Liquidaciones en la base, por estado': `${fmt(cifras.liquidaciones)} (${estados(cifras.liquidacionesPorEstado)})`,
    'Pagos de liquidación EXITOSO / FALLIDO (pagado)': `${fmt(cifras.pagosExitosos)} / ${fmt(cifras.pagosFallidos)} (${importe(cifras.pagadoUnidades)})`,
    'Recuperaciones (recuperadas en una liquidación pagada) / complementos': `${fmt(cifras.recuperaciones)} (${fmt(cifras.recuperacionesRecuperadas)}) / ${fmt(cifras.complementos)}`,
  };
}
