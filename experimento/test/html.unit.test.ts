import { describe, expect, it } from 'vitest';
import { paginaHtml } from '../src/html.js';
import { tablaTexto } from '../src/informe.js';
import { informeDeEjemplo } from './informe-de-ejemplo.js';

describe('informe', () => {
  it('la página es autocontenida: SVG en línea, sin scripts ni recursos externos', () => {
    const html = paginaHtml(informeDeEjemplo());
    expect(html.match(/<svg /g)).toHaveLength(5);
    expect(html).not.toMatch(/<script|<link|<img|src=|@import|url\(/i);
    expect(html.match(/https?:\/\//g)?.every((u) => u === 'http://')).toBe(true); // solo el xmlns de SVG
    expect(html).toContain('xmlns="http://www.w3.org/2000/svg"');
  });

  it('tiene las cinco partes del experimento, las marcas de los fallos y escapa el texto', () => {
    const html = paginaHtml(informeDeEjemplo());
    for (const t of ['Hipótesis', 'Montaje', 'Medidas', 'Resultado', 'Conclusión']) expect(html).toContain(t);
    expect(html).toContain('Experimento &lt;de ejemplo&gt;');
    expect(html).toContain('matar-consumidor (t=20 s)');
    expect(html).toContain('reiniciar-postgres (t=50 s)');
    expect(html).toContain('matar-relay-lider (t=80 s)');
    expect(html).toContain('matar-postgres (t=95 s)');
    expect(html).toContain('>PG✕</text>');
    expect(html).toContain('fin de la rampa');
    expect(html).toContain('class="resultado APROBADO"');
  });

  it('la rampa que midió la capacidad aparece escalón a escalón, con la capacidad y el ritmo mantenido', () => {
    const inf = informeDeEjemplo();
    const html = paginaHtml(inf);
    expect(html).toContain('Capacidad de extremo a extremo (rampa)');
    expect(html).toContain('300 pet/s pedidas (t=10–15 s)');
    expect(html).toContain('130 pagos/s (208 pet/s del plan) / 166 pet/s (80 %)');
    expect(tablaTexto(inf)).toContain('dejan de seguir a los aceptados');
  });

  it('la suspensión del socio es una marca sin recuperación (S en las gráficas), no «recuperado en 0 ms»', () => {
    const inf = informeDeEjemplo();
    const conSuspension = {
      ...inf,
      series: { ...inf.series, fallos: [...inf.series.fallos, { segundo: 60, tipo: 'suspender-socio', detalle: 'socio s4 suspendido' }] },
    };
    const texto = tablaTexto(conSuspension);
    expect(texto).toMatch(/t=60 s suspender-socio +socio s4 suspendido\n/);
    expect(texto).not.toContain('socio s4 suspendido; recuperado');
    const html = paginaHtml(conSuspension);
    expect(html).toContain('>S</text>');
    expect(html).not.toContain('socio s4 suspendido; recuperado');
  });

  it('una corrida suspendida nombra las violaciones y sus ids, en la página y en la tabla de texto', () => {
    const inf = informeDeEjemplo(true);
    expect(paginaHtml(inf)).toContain('0190a1b2-0000-7000-8000-000000000001');
    const texto = tablaTexto(inf);
    expect(texto).toMatch(/SUSPENDIDO/);
    expect(texto).toMatch(/VIOLACIÓN cargo-unico \(1\)/);
    expect(texto).toContain('0190a1b2-0000-7000-8000-000000000001');
  });
});
