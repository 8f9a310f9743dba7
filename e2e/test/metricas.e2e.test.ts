import { afterEach, describe, expect, it } from 'vitest';
import { mensajesEnCola, outboxPorPago } from '../src/consultas.js';
import { leerMuestras, tiposDeclarados, valor, type Muestra } from '../src/prometheus.js';
import { Topologia, type NombreServicio } from '../src/topologia.js';
import { EVENTOS_POR_PAGO, comprobarUnaVez } from './invariantes.js';

const P = 'aeropartners_pagos_';
const DUPLICADOS = `${P}duplicados_absorbidos_total`;
const PAGOS = 20;
const LOTE = 5;

describe('GET /metrics en los tres servicios, con duplicados en cada etapa', () => {
  let topologia: Topologia | undefined;
  afterEach(async () => {
    await topologia?.cerrar();
    topologia = undefined;
  });

  it('los contadores de duplicados absorbidos (entrada, broker, inbox) se mueven cuando llegan duplicados', async () => {
    const t = (topologia = await Topologia.iniciar({
      arrancar: ['api', 'consumer'],
      entorno: { outbox: { RELAY_LOTE: String(LOTE), BROKER_DUPLICAR_ENTREGAS: 'true' } },
    }));
    const raspar = async (s: NombreServicio): Promise<Muestra[]> => leerMuestras(await t.metricas(s));

    // Antes: cada etapa del proceso aparece, a cero.
    const apiAntes = await raspar('api');
    const consumidorAntes = await raspar('consumer');
    expect(valor(apiAntes, DUPLICADOS, { etapa: 'entrada' })).toBe(0);
    expect(valor(consumidorAntes, DUPLICADOS, { etapa: 'inbox' })).toBe(0);
    expect(valor(consumidorAntes, DUPLICADOS, { etapa: 'pasarela' })).toBe(0);
    expect(tiposDeclarados(await t.metricas('api')).get(DUPLICADOS)).toBe('counter');

    // Entrada: cada pago se envía dos veces (la réplica con otro id de correlación).
    const pagos = await t.crearPagos(PAGOS, { concurrencia: 10, prefijo: 'metricas' });
    for (const p of pagos) {
      const r = await fetch(`${t.urlApi}/pagos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-correlation-id': `replica-${p.idCorrelacion}` },
        body: JSON.stringify({ id_afiliado: p.idAfiliado, monto: p.monto, moneda: 'USD', referencia_pago: p.referencia }),
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('idempotent-replayed')).toBe('true');
      expect(((await r.json()) as { id_pago: string }).id_pago).toBe(p.id);
    }
    expect((await t.get(`/pagos/${pagos[0]!.id}`)).status).toBe(200);
    const api = await raspar('api');
    expect(valor(api, DUPLICADOS, { etapa: 'entrada' })).toBe(PAGOS);
    // Peticiones por patrón de ruta, nunca por la ruta real.
    expect(valor(api, `${P}http_peticiones_total`, { metodo: 'POST', ruta: '/pagos', estado: '200' })).toBe(2 * PAGOS);
    expect(valor(api, `${P}http_peticiones_total`, { metodo: 'GET', ruta: '/pagos/:id', estado: '200' })).toBe(1);
    expect(api.some((m) => Object.values(m.etiquetas).some((v) => v.includes(pagos[0]!.id)))).toBe(false);
    expect(valor(api, `${P}http_duracion_seconds_count`, { metodo: 'POST', ruta: '/pagos' })).toBe(2 * PAGOS);
    expect(valor(api, `${P}pagos_en_curso`, { estado: 'PENDIENTE' })).toBe(PAGOS);

    // Broker: el relay muere tras publicar el lote 2 sin marcarlo; su sucesor lo republica y el broker
    // descarta cada copia por (productor, secuencia).
    await t.arrancar('outbox', { RELAY_MORIR_TRAS_PUBLICAR: '2' });
    expect((await t.esperarSalida('outbox', 30_000)).senal).toBe('SIGKILL');
    await t.arrancar('outbox', { RELAY_MORIR_TRAS_PUBLICAR: '0' });

    const finales = await t.esperarFinales(
      pagos.map((p) => p.id),
      60_000,
    );
    expect((await comprobarUnaVez(t, pagos)).comprobados).toBe(PAGOS);
    await t.esperarQue(
      async () => {
        const { rows } = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL');
        return rows[0]?.n === 0 && (await mensajesEnCola(t.pool)) === 0;
      },
      30_000,
      'outbox publicado y cola del broker vacía',
    );
    const totalEventos = [...(await outboxPorPago(t.pool)).values()].reduce((n, e) => n + e.length, 0);
    expect(totalEventos).toBe(EVENTOS_POR_PAGO * PAGOS);

    const relay = await raspar('outbox');
    expect(valor(relay, DUPLICADOS, { etapa: 'broker' })).toBe(LOTE);
    expect(valor(relay, `${P}relay_republicados_total`)).toBe(LOTE);
    expect(valor(relay, `${P}relay_publicados_total`)).toBeGreaterThan(0);
    expect(valor(relay, `${P}outbox_pendientes`)).toBe(0);
    expect(valor(relay, `${P}outbox_retraso_seconds`)).toBe(0);

    // Inbox: cada evento llegó dos veces (BROKER_DUPLICAR_ENTREGAS) y el inbox absorbió cada segunda copia.
    const consumidor = await raspar('consumer');
    const salud = await t.contadores('consumer');
    expect(valor(consumidor, DUPLICADOS, { etapa: 'inbox' })).toBe(totalEventos);
    expect(valor(consumidor, DUPLICADOS, { etapa: 'inbox' })).toBe(salud['duplicados']);
    expect(valor(consumidor, DUPLICADOS, { etapa: 'pasarela' })).toBe(salud['pasarela_repeticionesAbsorbidas']);
    expect(valor(consumidor, `${P}consumidor_duracion_seconds_count`, { desenlace: 'procesado' })).toBe(PAGOS);
    expect(valor(consumidor, `${P}consumidor_duracion_seconds_count`, { desenlace: 'duplicado' })).toBe(totalEventos);
    expect(valor(consumidor, `${P}pasarela_llamadas_total`)).toBe(PAGOS);
    expect(valor(consumidor, `${P}pasarela_duracion_seconds_count`)).toBe(PAGOS);
    expect(valor(consumidor, `${P}mensajes_muertos_total`)).toBe(0);
    expect(valor(consumidor, `${P}consumidor_recibidos_total`)).toBe(2 * totalEventos);

    // Y después de todo, los pagos terminados por estado cuadran con la base, y no queda ninguno en curso.
    const exitosos = [...finales.values()].filter((p) => p.estado === 'EXITOSO').length;
    expect(valor(consumidor, `${P}pagos_finalizados_total`, { estado: 'EXITOSO' })).toBe(exitosos);
    expect(valor(consumidor, `${P}pagos_finalizados_total`, { estado: 'FALLIDO' })).toBe(PAGOS - exitosos);
    const enCurso = leerMuestras(await t.metricas('api'));
    expect(valor(enCurso, `${P}pagos_en_curso`, { estado: 'PENDIENTE' })).toBe(0);
    expect(valor(enCurso, `${P}pagos_en_curso`, { estado: 'PROCESANDO' })).toBe(0);

    // El registro de eventos del socio (GET /eventos) anota los mismos duplicados que cuentan las métricas, por etapa
    // y con la clave de cada uno: las réplicas de la entrada, el lote republicado y cada segunda copia del inbox.
    const porEtapa = async () => {
      const r = await t.get<{ eventos: { sujeto: string; datos: { etapa: string; clave: string; veces: number } }[] }>(
        '/eventos?tipo=duplicado.absorbido&limite=500',
      );
      expect(r.status).toBe(200);
      const suma: Record<string, number> = {};
      for (const e of r.cuerpo.eventos) suma[e.datos.etapa] = (suma[e.datos.etapa] ?? 0) + e.datos.veces;
      return { suma, eventos: r.cuerpo.eventos };
    };
    const esperado = { entrada: PAGOS, broker: LOTE, inbox: totalEventos };
    await t.esperarQue(
      async () => JSON.stringify(Object.entries((await porEtapa()).suma).sort()) === JSON.stringify(Object.entries(esperado).sort()),
      30_000,
      `duplicados del registro por etapa = ${JSON.stringify(esperado)}`,
    );
    const { eventos } = await porEtapa();
    const eventosDe = await outboxPorPago(t.pool);
    const idsEvento = new Set([...eventosDe.values()].flat().map((e) => e.id_evento));
    const deLaEtapa = (etapa: string) => eventos.filter((e) => e.datos.etapa === etapa);
    expect(deLaEtapa('inbox').every((e) => idsEvento.has(e.datos.clave) && eventosDe.has(e.sujeto))).toBe(true);
    expect(deLaEtapa('broker').every((e) => idsEvento.has(e.datos.clave) && eventosDe.has(e.sujeto))).toBe(true);
    expect(new Set(deLaEtapa('entrada').map((e) => e.sujeto))).toEqual(new Set(pagos.map((p) => p.id)));
  }, 150_000);
});
