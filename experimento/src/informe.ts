import { percentiles } from '@aeropartners/kit-pruebas';
import type { MedidaCapacidad } from './capacidad.js';
import { acumularContador, cubetas, type Cubeta } from './estadistica.js';
import type { MuestraContadores, MuestraEstados } from './muestreo.js';
import type { Veredicto } from './veredicto.js';

/** El informe del experimento, como un experimento de arquitectura: hipótesis, montaje, medidas, resultado, conclusión. */

export interface MarcaFallo {
  readonly segundo: number;
  readonly tipo: string;
  readonly detalle: string;
  readonly recuperacionMs?: number;
  /** Relay líder matado: cuánto tardó el de reserva en tomar el cerrojo. */
  readonly relevoMs?: number;
  readonly error?: string;
}

export type Etapa = 'entrada' | 'relay' | 'broker' | 'consumidor' | 'pasarela';

export const ETAPAS: Readonly<Record<Etapa, string>> = {
  entrada: 'Entrada HTTP (Idempotent-Replayed)',
  relay: 'Relay → broker (secuencia repetida descartada)',
  broker: 'Duplicados inyectados por el broker',
  consumidor: 'Broker → consumidor (inbox)',
  pasarela: 'Consumidor → pasarela (turno de cobro ocupado o clave ya decidida)',
};

/** De dónde sale cada etapa: servicio y contadores de su `/health`. */
const FUENTES: Readonly<
  Record<Exclude<Etapa, 'entrada'>, { readonly servicio: 'outbox' | 'consumer'; readonly claves: readonly string[] }>
> = {
  relay: { servicio: 'outbox', claves: ['broker_descartados_por_duplicado'] },
  broker: { servicio: 'outbox', claves: ['broker_duplicados_inyectados'] },
  consumidor: { servicio: 'consumer', claves: ['duplicados', 'obsoletos'] },
  // Una segunda entrega que llega al paso de la pasarela: la para el turno de cobro (otro consumidor lo
  // tiene) o, si lo toma, la clave ya decidida en el libro. Las consultas tras una respuesta incierta no cuentan.
  pasarela: { servicio: 'consumer', claves: ['ocupados', 'pasarela_repeticionesAbsorbidas'] },
};

export interface PuntoDuplicados {
  readonly segundo: number;
  readonly valores: Readonly<Record<Etapa, number>>;
}

export interface Informe {
  readonly titulo: string;
  readonly corrida: string;
  readonly fecha: string;
  readonly resultado: 'APROBADO' | 'SUSPENDIDO';
  readonly hipotesis: string;
  readonly montaje: Readonly<Record<string, string | number | boolean>>;
  readonly medidas: Readonly<Record<string, string | number>>;
  /** La rampa que midió la capacidad (si no se dio un ritmo fijo). */
  readonly capacidad?: MedidaCapacidad;
  readonly duplicadosPorEtapa: Readonly<Record<Etapa, number>>;
  readonly veredicto: Veredicto;
  readonly conclusion: string;
  readonly series: {
    readonly respuestas: readonly Cubeta[];
    readonly estados: readonly MuestraEstados[];
    readonly duplicados: readonly PuntoDuplicados[];
    readonly fallos: readonly MarcaFallo[];
    /** Segundo en que terminó la rampa que midió la capacidad (si la hubo). */
    readonly finRampa?: number;
    /** Segundos en que terminó la carga principal y el drenaje. */
    readonly finCarga: number;
    readonly finDrenaje: number;
  };
}

/** Suma de unos contadores de `/health` de un servicio (todas sus instancias y vidas) hasta `hasta` segundos. */
export function totalContadores(
  muestras: readonly MuestraContadores[],
  servicio: 'outbox' | 'consumer',
  claves: readonly string[],
  hasta = Infinity,
): number {
  const delServicio = muestras.filter((m) => m.servicio === servicio && m.segundo <= hasta);
  return claves.reduce((t, clave) => t + acumularContador(delServicio.map((m) => ({ vida: m.pid, valor: m.contadores[clave] ?? 0 }))), 0);
}

export function totalContador(muestras: readonly MuestraContadores[], servicio: 'outbox' | 'consumer', clave: string): number {
  return totalContadores(muestras, servicio, [clave]);
}

/** Duplicados absorbidos por etapa en total (los de la entrada los cuenta el cliente). */
export function duplicadosPorEtapa(muestras: readonly MuestraContadores[], replays: number): Record<Etapa, number> {
  const etapa = (e: Exclude<Etapa, 'entrada'>) => totalContadores(muestras, FUENTES[e].servicio, FUENTES[e].claves);
  return { entrada: replays, relay: etapa('relay'), broker: etapa('broker'), consumidor: etapa('consumidor'), pasarela: etapa('pasarela') };
}

/** Duplicados absorbidos por etapa hasta cada instante de muestreo (los contadores de /health, por vida). */
export function duplicadosEnElTiempo(muestras: readonly MuestraContadores[], replaysPorSegundo: (s: number) => number): PuntoDuplicados[] {
  const instantes = [...new Set(muestras.filter((m) => m.servicio === 'consumer').map((m) => Math.floor(m.segundo / 5) * 5))];
  const hasta = (e: Exclude<Etapa, 'entrada'>, s: number) => totalContadores(muestras, FUENTES[e].servicio, FUENTES[e].claves, s);
  // Submuestreo a una muestra cada 5 s: el coste es cuadrático y la gráfica no necesita más.
  return instantes.map((s) => ({
    segundo: s,
    valores: {
      entrada: replaysPorSegundo(s),
      relay: hasta('relay', s),
      broker: hasta('broker', s),
      consumidor: hasta('consumidor', s),
      pasarela: hasta('pasarela', s),
    },
  }));
}

export function resumenLatencias(muestras: readonly (readonly [number, number])[]) {
  const l = muestras.map(([, x]) => x);
  const r = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(1)} ms`);
  const [p50, p95, p99, max] = percentiles(l, [50, 95, 99, 100]);
  return { p50: r(p50), p95: r(p95), p99: r(p99), max: r(max) };
}

export { cubetas };

const fmt = (n: number) => n.toLocaleString('es-ES');

/** El informe como tablas de texto para la terminal. */
export function tablaTexto(inf: Informe): string {
  const filas: [string, string][] = [];
  const seccion = (t: string) => filas.push([`── ${t}`, '']);
  seccion('Hipótesis');
  filas.push(['', inf.hipotesis]);
  seccion('Montaje');
  for (const [k, v] of Object.entries(inf.montaje)) filas.push([k, String(v)]);
  seccion('Medidas');
  for (const [k, v] of Object.entries(inf.medidas)) filas.push([k, typeof v === 'number' ? fmt(v) : v]);
  if (inf.capacidad) {
    seccion('Capacidad de extremo a extremo (rampa)');
    for (const e of inf.capacidad.escalones) {
      filas.push([
        `${fmt(e.ritmoPedido)} pet/s pedidas (t=${e.desde.toFixed(0)}–${e.hasta.toFixed(0)} s)`,
        `${fmt(Math.round(e.peticionesPorSegundo))} pet/s enviadas · ${fmt(Math.round(e.aceptadosPorSegundo))} aceptados/s · ${fmt(Math.round(e.terminadosPorSegundo))} terminados/s · atraso ${fmt(e.atrasoInicial)} → ${fmt(e.atrasoFinal)}`,
      ]);
    }
    filas.push(['Resultado de la rampa', inf.capacidad.motivo]);
    filas.push([
      'Capacidad medida / ritmo mantenido',
      `${fmt(Math.round(inf.capacidad.pagosPorSegundo))} pagos/s (${fmt(Math.round(inf.capacidad.peticionesPorSegundo))} pet/s del plan) / ${fmt(inf.capacidad.ritmoMantenido)} pet/s (${Math.round(inf.capacidad.fraccion * 100)} %)`,
    ]);
  }
  seccion('Duplicados absorbidos por etapa');
  for (const [k, v] of Object.entries(inf.duplicadosPorEtapa) as [Etapa, number][]) filas.push([ETAPAS[k], fmt(v)]);
  seccion('Fallos de procesos');
  for (const f of inf.series.fallos) {
    filas.push([
      `t=${f.segundo.toFixed(0)} s ${f.tipo}`,
      f.error
        ? `ERROR: ${f.error}`
        : f.recuperacionMs === undefined
          ? f.detalle
          : `${f.detalle}; recuperado en ${fmt(f.recuperacionMs)} ms`,
    ]);
  }
  seccion('Veredicto (reglas)');
  for (const r of inf.veredicto.reglas) {
    const marca = r.violaciones === undefined ? 'n/a' : r.violaciones === 0 ? 'OK' : `FALLA (${fmt(r.violaciones)})`;
    filas.push([r.descripcion, `${marca}${r.nota ? ` — ${r.nota}` : ''}`]);
  }
  seccion('Resultado');
  filas.push(['Resultado', inf.resultado]);
  filas.push(['Conclusión', inf.conclusion]);
  const ancho = Math.min(70, Math.max(...filas.map(([k]) => k.length)));
  const lineas = filas.map(([k, v]) => (v === '' ? `\n${k}` : `${k.padEnd(ancho)}  ${v}`));
  for (const v of inf.veredicto.violaciones) {
    lineas.push(`\nVIOLACIÓN ${v.regla} (${fmt(v.total)}): ${v.descripcion}`);
    for (const id of v.ids) lineas.push(`  - ${id}`);
    if (v.total > v.ids.length) lineas.push(`  … y ${fmt(v.total - v.ids.length)} más`);
  }
  return lineas.join('\n');
}
