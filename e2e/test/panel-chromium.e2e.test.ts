import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { PostgresAdministracionSocios, PostgresAlmacenComisiones } from '@aeropartners/adaptadores';
import { Modo, ReglaComision } from '@aeropartners/dominio';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Topologia } from '../src/topologia.js';

// El panel en vivo (/panel) en un Chromium sin cabeza de verdad, contra los tres procesos reales: la página
// pide la clave, lee el stream SSE con fetch y la muestra; un pago creado por la API pasa por sus estados
// hasta el final en la página, y su línea de tiempo se abre con un clic. La API se reinicia a mitad: la
// página reanuda el stream con Last-Event-ID (la misma dirección: puerto fijo) y sigue viendo los pagos nuevos.
// Sin Chromium el test FALLA (no se salta): `apt-get install -y chromium` (lo hace .ci/run).

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Las capturas quedan como artefactos del test (ignorados por git). */
const ARTEFACTOS = fileURLToPath(new URL('../artefactos/', import.meta.url));
const CAPTURA = `${ARTEFACTOS}panel.png`;
const CAPTURA_LINEA = `${ARTEFACTOS}panel-linea-de-tiempo.png`;
const FINALES = ['EXITOSO', 'FALLIDO'];

/** El elemento en un estado final, como selector CSS (waitForFunction evaluaría código: la CSP del panel no lo deja). */
const enEstadoFinal = (selector: string) => FINALES.map((f) => `${selector}[data-estado="${f}"]`).join(', ');

async function puertoLibre(): Promise<number> {
  return new Promise((resolver, rechazar) => {
    const servidor = createServer();
    servidor.once('error', rechazar);
    servidor.listen(0, '127.0.0.1', () => {
      const direccion = servidor.address();
      servidor.close(() => (typeof direccion === 'object' && direccion ? resolver(direccion.port) : rechazar(new Error('sin puerto'))));
    });
  });
}

describe('el panel en vivo en Chromium sin cabeza', () => {
  let topologia: Topologia | undefined;
  let navegador: Browser | undefined;

  afterAll(async () => {
    await navegador?.close();
    await topologia?.cerrar();
  });

  it('con la clave pegada, un pago aparece, llega a su estado final y su línea de tiempo se abre; tras reiniciar la API el stream se reanuda; una conversión, su comisión y su liquidación llegan a PAGADA', async () => {
    // Falla (no se salta) sin Chromium: en CI lo instala .ci/run.
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `No está Chromium en ${CHROMIUM}: este test lo necesita (apt-get install -y chromium, o CHROMIUM=<ruta del ejecutable>).`,
      );
    }
    const puerto = await puertoLibre();
    const t = (topologia = await Topologia.iniciar({
      entorno: {
        api: { PORT: String(puerto), WEBHOOKS_PERMITIR_RED_LOCAL: 'true' },
        consumer: { PASARELA_TASA_RECHAZO: '0', LIQUIDACIONES_CADA: '2s', LIQUIDACIONES_CIERRE_MS: '300' },
        // Un webhook que nunca responde agota enseguida su calendario: el panel muestra el aviso.
        outbox: { WEBHOOKS_PERMITIR_RED_LOCAL: 'true', WEBHOOKS_CALENDARIO: '50ms', WEBHOOKS_SONDEO_MS: '50' },
      },
    }));
    const creado = await new PostgresAdministracionSocios(t.pool).crear(
      { nombre: 'Socio del panel', firmaObligatoria: false, limiteRps: null, modo: Modo.PRUEBA },
      new Date(),
    );
    if (!creado.ok) throw new Error(`no se pudo crear el socio: ${creado.error.tipo}`);
    const clave = creado.valor.clave.claveEnClaro;
    const idSocio = creado.valor.socio.id;
    // Una comisión del 10 %, sin días de bloqueo: la aprobada entra en la siguiente liquidación.
    await new PostgresAlmacenComisiones(t.pool).guardarRegla(idSocio, (version) => {
      const r = ReglaComision.crear({
        idSocio,
        version,
        vigenteDesde: new Date('2026-01-01T00:00:00Z'),
        calculo: { tipo: 'porcentaje', puntosBasicos: 1000 },
        diasBloqueo: 0,
      });
      return r.ok ? r.valor : new Error('regla');
    });
    const url = `http://127.0.0.1:${puerto}`;

    navegador = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const contexto = await navegador.newContext({ viewport: { width: 1400, height: 900 } });
    // Sin red: todo lo que pida la página debe ser de la propia API.
    const ajenas: string[] = [];
    await contexto.route(
      (u) => u.origin !== url,
      (ruta) => {
        ajenas.push(ruta.request().url());
        return ruta.abort();
      },
    );
    const page: Page = await contexto.newPage();
    const errores: string[] = [];
    page.on('console', (m) => {
      // Un corte del stream al reiniciar la API es esperado; una violación de la CSP o un fallo del script, no.
      if (m.type() === 'error' && !/ERR_(?:CONNECTION_REFUSED|EMPTY_RESPONSE|INCOMPLETE_CHUNKED)|Failed to load resource/.test(m.text())) {
        errores.push(m.text());
      }
    });
    page.on('pageerror', (e) => errores.push(e.message));
    const pedidasStream: (string | null)[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/eventos/stream') pedidasStream.push(r.headers()['last-event-id'] ?? null);
    });

    await page.goto(`${url}/panel`);
    await page.fill('#clave', clave);
    await page.click('#conectar');
    await page.waitForSelector('#conexion[data-estado="conectado"]');
    // La clave queda en sessionStorage (se olvida al cerrar la pestaña).
    expect(await page.evaluate('sessionStorage.getItem("aeropartners.panel.clave")')).toBe(clave);

    // Un pago por la API (con una réplica: un duplicado absorbido en la entrada).
    const postPago = async (referencia: string, idCorrelacion: string) => {
      const r = await fetch(`${url}/pagos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${clave}`, 'x-correlation-id': idCorrelacion },
        body: JSON.stringify({ id_afiliado: 'afiliado-panel', monto: 42.5, moneda: 'USD', referencia_pago: referencia }),
      });
      expect(r.status).toBe(200);
      return ((await r.json()) as { id_pago: string }).id_pago;
    };
    const idPago = await postPago('REF-PANEL-1', 'panel-1');
    expect(await postPago('REF-PANEL-1', 'panel-1-replica')).toBe(idPago);

    const item = `li.elemento[data-tipo="pago"][data-sujeto="${idPago}"]`;
    await page.waitForSelector(item, { timeout: 30_000 });
    await page.waitForSelector(enEstadoFinal(item), { timeout: 60_000 });
    const [final] = [...(await t.esperarFinales([idPago], 30_000)).values()].map((p) => p.estado);
    expect(await page.getAttribute(item, 'data-estado')).toBe(final);
    // Pasó por cada estado, en orden, una vez.
    expect(await page.textContent(`${item} .recorrido`)).toBe(`PENDIENTE → PROCESANDO → ${final}`);
    await page.waitForSelector('#duplicados dd[data-etapa="entrada"][data-veces="1"]', { timeout: 30_000 });

    await page.click(item);
    await page.waitForSelector('#linea-de-tiempo[data-cargada="si"]');
    expect(await page.getAttribute('#linea-de-tiempo', 'data-sujeto')).toBe(idPago);
    const linea = (await page.textContent('#contenido-linea')) ?? '';
    for (const esperado of ['PENDIENTE', 'PROCESANDO', final, 'panel-1', 'pago.pendiente', 'duplicado.absorbido']) {
      expect(linea).toContain(esperado);
    }
    // El historial del pago en la página es el de la API, paso a paso.
    const pasos = await page.$$eval('#contenido-linea .seccion:first-child .paso .titulo', (xs) => xs.map((x) => x.textContent));
    expect(pasos).toEqual(['PENDIENTE', 'PROCESANDO', final]);
    await mkdir(ARTEFACTOS, { recursive: true });
    await page.screenshot({ path: CAPTURA_LINEA, fullPage: true });

    // La API se reinicia (SIGTERM: cierra los streams). La página reanuda con Last-Event-ID y no repite nada.
    const vistosAntes = await page.$$eval('li.elemento', (xs) => xs.length);
    const posicion = Number(((await page.textContent('#posicion')) ?? '').match(/Secuencia: (\d+)/)?.[1]);
    expect(posicion).toBeGreaterThanOrEqual(4);
    await t.reiniciar('api');
    const idPago2 = await postPago('REF-PANEL-2', 'panel-2');
    const item2 = `li.elemento[data-tipo="pago"][data-sujeto="${idPago2}"]`;
    await page.waitForSelector(enEstadoFinal(item2), { timeout: 60_000 });
    expect(await page.textContent(`${item2} .recorrido`)).toMatch(/^PENDIENTE → PROCESANDO → (EXITOSO|FALLIDO)$/);
    expect(await page.textContent(`${item} .recorrido`)).toBe(`PENDIENTE → PROCESANDO → ${final}`);
    expect(await page.$$eval('li.elemento', (xs) => xs.length)).toBe(vistosAntes + 1);
    // La primera conexión sin posición; alguna de las siguientes, desde lo último recibido.
    expect(pedidasStream[0]).toBeNull();
    expect(pedidasStream.slice(1)).toContain(String(posicion));

    // Un webhook a un puerto donde nadie escucha: los eventos siguientes fallan, el calendario se agota y el
    // aviso webhook.desactivado llega a la página.
    const registro = await fetch(`${url}/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${clave}` },
      body: JSON.stringify({ url: `http://127.0.0.1:${await puertoLibre()}/muerto`, tipos: ['conversion.*'] }),
    });
    expect(registro.status).toBe(201);
    const { id: idWebhook } = (await registro.json()) as { id: string };

    // Una conversión creada y aprobada: la conversión, su comisión y la liquidación que la paga, en vivo.
    const hecho = async (idEvento: string, tipo: string, extra: Record<string, unknown>) => {
      const r = await fetch(`${url}/conversiones/eventos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${clave}` },
        body: JSON.stringify({ id_evento: idEvento, tipo, id_conversion: 'conv-panel-1', ocurrido_en: '2026-02-01T00:00:00Z', ...extra }),
      });
      expect(r.status).toBe(202);
    };
    await hecho('conv-panel-1-c', 'conversion.creada', { id_afiliado: 'afiliado-panel', monto: 250, moneda: 'USD' });
    await hecho('conv-panel-1-a', 'conversion.aprobada', {});
    const conversion = 'li.elemento[data-tipo="conversion"][data-sujeto="conv-panel-1"]';
    const comision = 'li.elemento[data-tipo="comision"][data-sujeto="conv-panel-1"]';
    const liquidacion = 'li.elemento[data-tipo="liquidacion"]';
    await page.waitForSelector(`${conversion}[data-estado="APROBADA"]`, { timeout: 30_000 });
    await page.waitForSelector(`${comision}[data-estado="PAGADA"]`, { timeout: 60_000 });
    await page.waitForSelector(`${liquidacion}[data-estado="PAGADA"]`, { timeout: 30_000 });
    expect(await page.textContent(`${comision} .recorrido`)).toMatch(/APROBADA → .*PAGADA$/);
    expect(await page.textContent(`${liquidacion} .recorrido`)).toMatch(/^PAGO_PENDIENTE → PAGO_PROCESANDO → PAGO_EXITOSO → PAGADA$/);
    const idLiquidacion = (await page.getAttribute(liquidacion, 'data-sujeto')) ?? '';
    expect(idLiquidacion).toMatch(new RegExp(`^liquidacion:${idSocio}:afiliado-panel:USD:`));
    await page.click(liquidacion);
    await page.waitForSelector(`#linea-de-tiempo[data-sujeto=${JSON.stringify(idLiquidacion)}][data-cargada="si"]`);
    expect(await page.textContent('#contenido-linea')).toContain('EXITOSO');
    await page.click('#cerrar-linea');
    await page.waitForSelector(`#avisos li[data-tipo="webhook.desactivado"][data-sujeto=${JSON.stringify(idWebhook)}]`, {
      timeout: 30_000,
    });
    expect(await page.textContent('#avisos')).toMatch(/se agotó el calendario de reintentos/);
    await page.screenshot({ path: CAPTURA, fullPage: true });

    expect(errores).toEqual([]);
    expect(ajenas).toEqual([]);
  });
});
