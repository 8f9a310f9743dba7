import { acumularContador, cubetas, percentil, type Cubeta } from './estadistica.js';
import type { Contadores } from './carga.js';
import type { MuestraContadores, MuestraEstados } from './muestreo.js';
import type { Veredicto } from './veredicto.js';

/** El informe del experimento, como un experimento de arquitectura: hipótesis, montaje, medidas, resultado, conclusión. */

export interface MarcaFallo {
  readonly segundo: number;
  readonly tipo: string;
  readonly detalle: string;
  readonly recuperacionMs?: number;
  readonly error?: string;
}

export type Etapa = 'entrada' | 'relay' | 'broker' | 'consumidor' | 'pasarela';

export const ETAPAS: Readonly<Record<Etapa, string>> = {
  entrada: 'Entrada HTTP (Idempotent-Replayed)',
  relay: 'Relay → broker (secuencia repetida descartada)',
  broker: 'Duplicados inyectados por el broker',
  consumidor: 'Broker → consumidor (inbox)',
  pasarela: 'Consumidor → pasarela (clave de idempotencia)',
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
  readonly duplicadosPorEtapa: Readonly<Record<Etapa, number>>;
  readonly veredicto: Veredicto;
  readonly conclusion: string;
  readonly series: {
    readonly respuestas: readonly Cubeta[];
    readonly estados: readonly MuestraEstados[];
    readonly duplicados: readonly PuntoDuplicados[];
    readonly fallos: readonly MarcaFallo[];
    /** Segundos en que terminó la carga principal y el drenaje. */
    readonly finCarga: number;
    readonly finDrenaje: number;
  };
}

/** Duplicados absorbidos por etapa hasta cada instante de muestreo (los contadores de /health, por vida). */
export function duplicadosEnElTiempo(muestras: readonly MuestraContadores[], replaysPorSegundo: (s: number) => number): PuntoDuplicados[] {
  const suma = (servicio: 'outbox' | 'consumer', claves: readonly string[], hasta: number) =>
    claves.reduce(
      (t, clave) =>
        t +
        acumularContador(
          muestras.filter((m) => m.servicio === servicio && m.segundo <= hasta).map((m) => ({ vida: m.pid, valor: m.contadores[clave] ?? 0 })),
        ),
      0,
    );
  const instantes = [...new Set(muestras.filter((m) => m.servicio === 'consumer').map((m) => Math.floor(m.segundo / 5) * 5))];
  // Submuestreo a una muestra cada 5 s: el coste es cuadrático y la gráfica no necesita más.
  return instantes.map((s) => ({
    segundo: s,
    valores: {
      entrada: replaysPorSegundo(s),
      relay: suma('outbox', ['broker_descartados_por_duplicado'], s),
      broker: suma('outbox', ['broker_duplicados_inyectados'], s),
      consumidor: suma('consumer', ['duplicados', 'obsoletos'], s),
      pasarela: suma('consumer', ['pasarela_repeticionesAbsorbidas', 'pasarela_carrerasPerdidas'], s),
    },
  }));
}

export function totalContador(muestras: readonly MuestraContadores[], servicio: 'outbox' | 'consumer', clave: string): number {
  return acumularContador(muestras.filter((m) => m.servicio === servicio).map((m) => ({ vida: m.pid, valor: m.contadores[clave] ?? 0 })));
}

export function resumenLatencias(muestras: readonly (readonly [number, number])[]) {
  const l = muestras.map(([, x]) => x);
  const r = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(1)} ms`);
  return { p50: r(percentil(l, 50)), p95: r(percentil(l, 95)), p99: r(percentil(l, 99)), max: r(percentil(l, 100)) };
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
  seccion('Duplicados absorbidos por etapa');
  for (const [k, v] of Object.entries(inf.duplicadosPorEtapa) as [Etapa, number][]) filas.push([ETAPAS[k], fmt(v)]);
  seccion('Fallos de procesos');
  for (const f of inf.series.fallos) {
    filas.push([`t=${f.segundo.toFixed(0)} s ${f.tipo}`, f.error ? `ERROR: ${f.error}` : `${f.detalle}; recuperado en ${fmt(f.recuperacionMs ?? 0)} ms`]);
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
