import { ETAPAS, type Etapa, type Informe, type MarcaFallo } from './informe.js';

/**
 * El informe como UNA página HTML autocontenida: estilos en línea y gráficas SVG generadas aquí, sin
 * scripts ni recursos externos (se abre sin red y se puede adjuntar tal cual).
 */

export const escapar = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Serie {
  readonly nombre: string;
  readonly color: string;
  readonly puntos: readonly (readonly [number, number])[];
}

const COLORES_FALLO: Record<string, string> = {
  'matar-consumidor': '#d62728',
  'matar-relay-lider': '#ff7f0e',
  'reiniciar-postgres': '#9467bd',
  'matar-postgres': '#8c564b',
  'suspender-socio': '#1f77b4',
};

/** La letra de cada fallo en las gráficas. */
const LETRAS_FALLO: Record<string, string> = {
  'matar-consumidor': 'C',
  'matar-relay-lider': 'R',
  'reiniciar-postgres': 'PG',
  'matar-postgres': 'PG✕',
  'suspender-socio': 'S',
};

const redondo = (n: number) => {
  if (n <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 5, 10].map((m) => m * p).find((x) => x >= n) ?? n;
};

/** Gráfica de líneas con ejes, leyenda y marcas verticales de los fallos. */
export function grafica(o: {
  readonly titulo: string;
  readonly unidadY: string;
  readonly series: readonly Serie[];
  readonly marcas: readonly MarcaFallo[];
  readonly xMax: number;
  readonly lineasX?: readonly { readonly x: number; readonly texto: string }[];
}): string {
  const an = 880;
  const al = 280;
  const m = { i: 64, d: 16, s: 30, b: 40 };
  const w = an - m.i - m.d;
  const h = al - m.s - m.b;
  const yMax = redondo(Math.max(1, ...o.series.flatMap((s) => s.puntos.map(([, y]) => y).filter((y) => !Number.isNaN(y)))));
  const xMax = Math.max(1, o.xMax);
  const X = (x: number) => m.i + (x / xMax) * w;
  const Y = (y: number) => m.s + h - (Math.max(0, y) / yMax) * h;
  const partes: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${an} ${al}" width="${an}" height="${al}" role="img" aria-label="${escapar(o.titulo)}">`,
    `<rect x="0" y="0" width="${an}" height="${al}" fill="#fff"/>`,
    `<text x="${m.i}" y="18" font-size="14" font-weight="bold">${escapar(o.titulo)}</text>`,
  ];
  for (let k = 0; k <= 4; k += 1) {
    const y = (yMax * k) / 4;
    partes.push(
      `<line x1="${m.i}" x2="${an - m.d}" y1="${Y(y).toFixed(1)}" y2="${Y(y).toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${m.i - 6}" y="${(Y(y) + 4).toFixed(1)}" font-size="11" text-anchor="end">${Number(y.toPrecision(3)).toLocaleString('es-ES')}</text>`,
    );
  }
  const pasoX = redondo(xMax / 8);
  for (let x = 0; x <= xMax; x += pasoX) {
    partes.push(`<text x="${X(x).toFixed(1)}" y="${al - m.b + 16}" font-size="11" text-anchor="middle">${x}</text>`);
  }
  partes.push(
    `<text x="${m.i + w / 2}" y="${al - 6}" font-size="11" text-anchor="middle">segundos desde el inicio</text>`,
    `<text x="12" y="${m.s + h / 2}" font-size="11" transform="rotate(-90 12 ${m.s + h / 2})" text-anchor="middle">${escapar(o.unidadY)}</text>`,
    `<line x1="${m.i}" x2="${m.i}" y1="${m.s}" y2="${m.s + h}" stroke="#333"/>`,
    `<line x1="${m.i}" x2="${an - m.d}" y1="${m.s + h}" y2="${m.s + h}" stroke="#333"/>`,
  );
  for (const l of o.lineasX ?? []) {
    partes.push(
      `<line x1="${X(l.x).toFixed(1)}" x2="${X(l.x).toFixed(1)}" y1="${m.s}" y2="${m.s + h}" stroke="#999" stroke-dasharray="2 3"/>`,
      `<text x="${(X(l.x) + 3).toFixed(1)}" y="${m.s + h - 4}" font-size="10" fill="#666">${escapar(l.texto)}</text>`,
    );
  }
  for (const f of o.marcas) {
    const color = COLORES_FALLO[f.tipo] ?? '#000';
    partes.push(
      `<line x1="${X(f.segundo).toFixed(1)}" x2="${X(f.segundo).toFixed(1)}" y1="${m.s}" y2="${m.s + h}" stroke="${color}" stroke-width="1.5" stroke-dasharray="5 3"><title>${escapar(`${f.tipo} (t=${f.segundo.toFixed(0)} s): ${f.detalle}`)}</title></line>`,
      `<text x="${X(f.segundo).toFixed(1)}" y="${m.s - 2}" font-size="10" fill="${color}" text-anchor="middle">${LETRAS_FALLO[f.tipo] ?? '?'}</text>`,
    );
  }
  for (const s of o.series) {
    if (s.puntos.length === 0) continue;
    // Un punto sin valor (NaN: un segundo sin respuestas) corta la línea en vez de unir los extremos.
    let nuevo = true;
    const d = s.puntos
      .map(([x, y]) => {
        if (Number.isNaN(y)) {
          nuevo = true;
          return '';
        }
        const tramo = `${nuevo ? 'M' : 'L'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`;
        nuevo = false;
        return tramo;
      })
      .filter(Boolean)
      .join(' ');
    partes.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
  }
  o.series.forEach((s, i) => {
    const x = m.i + 10 + i * 150;
    partes.push(
      `<rect x="${x}" y="${m.s + 4}" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${x + 14}" y="${m.s + 13}" font-size="11">${escapar(s.nombre)}</text>`,
    );
  });
  partes.push('</svg>');
  return partes.join('\n');
}

/** Barras horizontales (duplicados absorbidos por etapa). */
export function barras(titulo: string, datos: readonly (readonly [string, number])[]): string {
  const an = 880;
  const fila = 28;
  const al = 40 + datos.length * fila;
  const max = Math.max(1, ...datos.map(([, v]) => v));
  const izq = 330;
  const partes = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${an} ${al}" width="${an}" height="${al}" role="img" aria-label="${escapar(titulo)}">`,
    `<rect x="0" y="0" width="${an}" height="${al}" fill="#fff"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${escapar(titulo)}</text>`,
  ];
  datos.forEach(([nombre, v], i) => {
    const y = 30 + i * fila;
    const w = ((an - izq - 90) * v) / max;
    partes.push(
      `<text x="${izq - 8}" y="${y + 15}" font-size="12" text-anchor="end">${escapar(nombre)}</text>`,
      `<rect x="${izq}" y="${y + 3}" width="${Math.max(1, w).toFixed(1)}" height="16" fill="#1f77b4"/>`,
      `<text x="${(izq + w + 6).toFixed(1)}" y="${y + 15}" font-size="12">${v.toLocaleString('es-ES')}</text>`,
    );
  });
  partes.push('</svg>');
  return partes.join('\n');
}

const tabla = (filas: readonly (readonly [string, string])[]) =>
  `<table>${filas.map(([k, v]) => `<tr><th>${escapar(k)}</th><td>${escapar(v)}</td></tr>`).join('')}</table>`;

export function paginaHtml(inf: Informe): string {
  const s = inf.series;
  const xMax = Math.max(s.finDrenaje, s.respuestas.length, ...s.estados.map((e) => e.segundo));
  const lineasX = [
    ...(s.finRampa !== undefined ? [{ x: s.finRampa, texto: 'fin de la rampa' }] : []),
    { x: s.finCarga, texto: 'fin de la carga' },
    { x: s.finDrenaje, texto: 'drenado' },
  ];
  const rs = s.respuestas;
  const porCubeta = (f: (c: (typeof rs)[number]) => number | undefined) => rs.map((c) => [c.segundo, f(c) ?? Number.NaN] as const);
  const graficas = [
    grafica({
      titulo: 'Rendimiento: respuestas HTTP por segundo',
      unidadY: 'respuestas/s',
      xMax,
      marcas: s.fallos,
      lineasX,
      series: [{ nombre: 'respuestas/s', color: '#1f77b4', puntos: porCubeta((c) => c.respuestas) }],
    }),
    grafica({
      titulo: 'Latencia de POST /pagos (percentiles por segundo)',
      unidadY: 'ms',
      xMax,
      marcas: s.fallos,
      lineasX,
      series: [
        { nombre: 'p50', color: '#2ca02c', puntos: porCubeta((c) => c.p50) },
        { nombre: 'p95', color: '#ff7f0e', puntos: porCubeta((c) => c.p95) },
        { nombre: 'p99', color: '#d62728', puntos: porCubeta((c) => c.p99) },
      ],
    }),
    grafica({
      titulo: 'Estados de los pagos de la corrida',
      unidadY: 'pagos',
      xMax,
      marcas: s.fallos,
      lineasX,
      series: [
        { nombre: 'PENDIENTE', color: '#7f7f7f', puntos: s.estados.map((e) => [e.segundo, e.PENDIENTE] as const) },
        { nombre: 'PROCESANDO', color: '#ff7f0e', puntos: s.estados.map((e) => [e.segundo, e.PROCESANDO] as const) },
        { nombre: 'EXITOSO', color: '#2ca02c', puntos: s.estados.map((e) => [e.segundo, e.EXITOSO] as const) },
        { nombre: 'FALLIDO', color: '#d62728', puntos: s.estados.map((e) => [e.segundo, e.FALLIDO] as const) },
        { nombre: 'outbox pendiente', color: '#17becf', puntos: s.estados.map((e) => [e.segundo, e.outboxPendiente] as const) },
      ],
    }),
    grafica({
      titulo: 'Duplicados absorbidos por etapa (acumulados)',
      unidadY: 'duplicados',
      xMax,
      marcas: s.fallos,
      lineasX,
      series: (Object.keys(ETAPAS) as Etapa[]).map((etapa, i) => ({
        nombre: etapa,
        color: ['#1f77b4', '#ff7f0e', '#8c564b', '#2ca02c', '#9467bd'][i] as string,
        puntos: s.duplicados.map((p) => [p.segundo, p.valores[etapa]] as const),
      })),
    }),
    barras(
      'Duplicados absorbidos por etapa (total)',
      (Object.entries(inf.duplicadosPorEtapa) as [Etapa, number][]).map(([k, v]) => [ETAPAS[k], v]),
    ),
  ];
  const reglas = inf.veredicto.reglas
    .map((r) => {
      const estado = r.violaciones === undefined ? 'n/a' : r.violaciones === 0 ? 'OK' : `FALLA (${r.violaciones})`;
      const clase = r.violaciones === undefined ? 'na' : r.violaciones === 0 ? 'ok' : 'mal';
      return `<tr><th>${escapar(r.descripcion)}</th><td class="${clase}">${escapar(estado)}${r.nota ? ` — ${escapar(r.nota)}` : ''}</td></tr>`;
    })
    .join('');
  const violaciones = inf.veredicto.violaciones
    .map(
      (v) =>
        `<h3>${escapar(v.regla)} (${v.total})</h3><p>${escapar(v.descripcion)}</p><ul>${v.ids.map((id) => `<li><code>${escapar(id)}</code></li>`).join('')}</ul>`,
    )
    .join('');
  const capacidad = inf.capacidad
    ? `<h2>Capacidad de extremo a extremo (rampa)</h2>${tabla([
        ...inf.capacidad.escalones.map((e): [string, string] => [
          `${e.ritmoPedido} pet/s pedidas (t=${e.desde.toFixed(0)}–${e.hasta.toFixed(0)} s)`,
          `${Math.round(e.peticionesPorSegundo)} pet/s enviadas · ${Math.round(e.aceptadosPorSegundo)} aceptados/s · ${Math.round(e.terminadosPorSegundo)} terminados/s · atraso ${e.atrasoInicial} → ${e.atrasoFinal}`,
        ]),
        ['Resultado de la rampa', inf.capacidad.motivo],
        [
          'Capacidad medida / ritmo mantenido',
          `${Math.round(inf.capacidad.pagosPorSegundo)} pagos/s (${Math.round(inf.capacidad.peticionesPorSegundo)} pet/s del plan) / ${inf.capacidad.ritmoMantenido} pet/s (${Math.round(inf.capacidad.fraccion * 100)} %)`,
        ],
      ])}`
    : '';
  const fallos = s.fallos.map((f): [string, string] => [
    `t=${f.segundo.toFixed(0)} s · ${f.tipo}`,
    f.error ? `ERROR: ${f.error}` : f.recuperacionMs === undefined ? f.detalle : `${f.detalle}; recuperado en ${f.recuperacionMs} ms`,
  ]);
  return `<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>${escapar(inf.titulo)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:920px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top}
th{width:55%;font-weight:normal;color:#444}.ok{color:#1a7f37;font-weight:bold}.mal{color:#c62828;font-weight:bold}.na{color:#888}
.resultado{font-size:20px;font-weight:bold;padding:8px 12px;display:inline-block;border-radius:4px;color:#fff}
.APROBADO{background:#1a7f37}.SUSPENDIDO{background:#c62828}svg{display:block;margin:12px 0;max-width:100%;height:auto}
</style></head><body>
<h1>${escapar(inf.titulo)}</h1>
<p>Corrida <code>${escapar(inf.corrida)}</code> · ${escapar(inf.fecha)}</p>
<p class="resultado ${inf.resultado}">${inf.resultado}</p>
<h2>Hipótesis</h2><p>${escapar(inf.hipotesis)}</p>
<h2>Montaje</h2>${tabla(Object.entries(inf.montaje).map(([k, v]) => [k, String(v)]))}
${capacidad}
<h2>Medidas</h2>${tabla(Object.entries(inf.medidas).map(([k, v]) => [k, typeof v === 'number' ? v.toLocaleString('es-ES') : v]))}
${graficas.join('\n')}
<h2>Fallos de procesos inyectados</h2>${fallos.length ? tabla(fallos) : '<p>Ninguno (despliegue remoto o desactivados).</p>'}
<p>Marcas en las gráficas: <span style="color:#d62728">C</span> consumidor matado, <span style="color:#ff7f0e">R</span> relay líder matado, <span style="color:#9467bd">PG</span> PostgreSQL reiniciado (SIGUSR2), <span style="color:#8c564b">PG✕</span> PostgreSQL caído (SIGKILL).</p>
<h2>Resultado: veredicto regla a regla</h2><table>${reglas}</table>
${violaciones ? `<h2>Violaciones</h2>${violaciones}` : ''}
<h2>Conclusión</h2><p>${escapar(inf.conclusion)}</p>
</body></html>
`;
}
