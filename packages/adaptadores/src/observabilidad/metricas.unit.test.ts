import { describe, expect, it } from 'vitest';
import { disponibleSi, saludDelBroker } from './disponibilidad.js';
import {
  crearRegistroMetricas,
  exponerMetricas,
  indicadorConsultado,
  medirManejador,
  medirPasarela,
  registrarDuplicados,
} from './metricas.js';
import { registrarMetricasConsumidor, registrarMetricasRelay } from './metricas-servicios.js';
import { iniciarServidorSalud } from './servidor-salud.js';

const registro = () => crearRegistroMetricas({ servicio: 'prueba', deProceso: false });
const muestra = (texto: string, nombre: string, etiquetas = '') =>
  texto
    .split('\n')
    .find((l) => l.startsWith(`${nombre}{`) && l.includes(etiquetas))
    ?.split(' ')
    .at(-1);

describe('métricas', () => {
  it('dadas fuentes por etapa, entonces el contador de duplicados lee su valor al raspar, y solo de esas etapas', async () => {
    const r = registro();
    let inbox = 0;
    registrarDuplicados(r, { inbox: () => inbox, pasarela: () => 2 });
    expect(muestra(await r.metrics(), 'aeropartners_pagos_duplicados_absorbidos_total', 'etapa="inbox"')).toBe('0');
    inbox = 7;
    const texto = await r.metrics();
    expect(muestra(texto, 'aeropartners_pagos_duplicados_absorbidos_total', 'etapa="inbox"')).toBe('7');
    expect(muestra(texto, 'aeropartners_pagos_duplicados_absorbidos_total', 'etapa="pasarela"')).toBe('2');
    expect(texto).not.toContain('etapa="entrada"');
    expect(texto).toContain('# TYPE aeropartners_pagos_duplicados_absorbidos_total counter');
    expect(texto).toContain('servicio="prueba"');
  });

  it('relay: publicados y la etapa broker del broker embebido; sin él (Pulsar), la etapa broker son los republicados', async () => {
    const relay = { publicados: 10, lotes: 2, fallos: 1, republicados: 3, secuenciasDescartadas: 0, renumeradas: 2, alarma: 0 };
    const embebido = registro();
    registrarMetricasRelay(embebido, { relay: () => relay, broker: { descartadosPorDuplicado: 4, duplicadosInyectados: 10 } });
    const a = await embebido.metrics();
    expect(muestra(a, 'aeropartners_pagos_relay_publicados_total')).toBe('10');
    expect(muestra(a, 'aeropartners_pagos_relay_renumeradas_total')).toBe('2');
    expect(muestra(a, 'aeropartners_pagos_relay_alarma')).toBe('0');
    // Una alarma de secuencias: el indicador sube y el contador dice cuántas se descartaron.
    Object.assign(relay, { secuenciasDescartadas: 8, alarma: 1 });
    const conAlarma = await embebido.metrics();
    expect(muestra(conAlarma, 'aeropartners_pagos_relay_secuencias_descartadas_total')).toBe('8');
    expect(muestra(conAlarma, 'aeropartners_pagos_relay_alarma')).toBe('1');
    expect(muestra(a, 'aeropartners_pagos_duplicados_absorbidos_total', 'etapa="broker"')).toBe('4');
    expect(muestra(a, 'aeropartners_pagos_broker_duplicados_inyectados_total')).toBe('10');
    const pulsar = registro();
    registrarMetricasRelay(pulsar, { relay: () => relay });
    expect(muestra(await pulsar.metrics(), 'aeropartners_pagos_duplicados_absorbidos_total', 'etapa="broker"')).toBe('3');
    // Con la cuenta del relay (lo que anota en el registro de eventos), la métrica es esa, con cualquier broker.
    const exacta = registro();
    registrarMetricasRelay(exacta, {
      relay: () => ({ ...relay, absorbidosPorElBroker: 2 }),
      broker: { descartadosPorDuplicado: 4, duplicadosInyectados: 0 },
    });
    expect(muestra(await exacta.metrics(), 'aeropartners_pagos_duplicados_absorbidos_total', 'etapa="broker"')).toBe('2');
  });

  it('consumidor: mensajes muertos y las etapas inbox y pasarela', async () => {
    const r = registro();
    const c = {
      recibidos: 9,
      exitosos: 2,
      fallidos: 1,
      duplicados: 3,
      muertos: 1,
      rechazados: 0,
      reintentosPasarela: 2,
      inciertos: 4,
      ocupados: 6,
      abandonados: 7,
      errores: 0,
    };
    registrarMetricasConsumidor(r, {
      consumidor: () => c,
      repeticionesPasarela: () => 5,
      broker: { leasesPerdidos: 8, operacionesSinLease: 1 },
    });
    const texto = await r.metrics();
    expect(muestra(texto, 'aeropartners_pagos_consumidor_inciertos_total')).toBe('4');
    expect(muestra(texto, 'aeropartners_pagos_pagos_finalizados_total', 'estado="EXITOSO"')).toBe('2');
    expect(muestra(texto, 'aeropartners_pagos_pagos_finalizados_total', 'estado="FALLIDO"')).toBe('1');
    expect(muestra(texto, 'aeropartners_pagos_consumidor_ocupados_total')).toBe('6');
    expect(muestra(texto, 'aeropartners_pagos_consumidor_abandonados_total')).toBe('7');
    expect(muestra(texto, 'aeropartners_pagos_broker_leases_perdidos_total')).toBe('8');
    expect(muestra(texto, 'aeropartners_pagos_mensajes_muertos_total')).toBe('1');
    expect(muestra(texto, 'aeropartners_pagos_duplicados_absorbidos_total', 'etapa="inbox"')).toBe('3');
    expect(muestra(texto, 'aeropartners_pagos_duplicados_absorbidos_total', 'etapa="pasarela"')).toBe('5');
    // Los hechos de conversión ya aplicados también son duplicados del inbox.
    const conHechos = registro();
    registrarMetricasConsumidor(conHechos, {
      consumidor: () => c,
      hechosConversion: () => ({ aplicados: 4, duplicados: 2, bloqueados: 0, rechazados: 0 }),
    });
    expect(muestra(await conHechos.metrics(), 'aeropartners_pagos_duplicados_absorbidos_total', 'etapa="inbox"')).toBe('5');
  });

  it('medirPasarela y medirManejador observan latencia y resultado, también cuando lanzan', async () => {
    const r = registro();
    let falla = false;
    const pasarela = medirPasarela(r, {
      cobrar: async () => {
        if (falla) throw new Error('caída');
        return { tipo: 'exitoso', referenciaTransaccion: 'ch_1' };
      },
      consultar: async () => ({ tipo: 'sinCobro' }),
    });
    const manejar = medirManejador(r, async (x: number) => ({ tipo: x > 0 ? 'procesado' : 'duplicado' }));
    const solicitud = {} as Parameters<typeof pasarela.cobrar>[0];
    await pasarela.cobrar(solicitud);
    falla = true;
    await expect(pasarela.cobrar(solicitud)).rejects.toThrow('caída');
    await manejar(1);
    await manejar(0);
    const texto = await r.metrics();
    expect(muestra(texto, 'aeropartners_pagos_pasarela_llamadas_total', 'resultado="exitoso"')).toBe('1');
    expect(muestra(texto, 'aeropartners_pagos_pasarela_llamadas_total', 'resultado="error"')).toBe('1');
    expect(muestra(texto, 'aeropartners_pagos_pasarela_duracion_seconds_count', 'resultado="exitoso"')).toBe('1');
    expect(muestra(texto, 'aeropartners_pagos_consumidor_duracion_seconds_count', 'desenlace="procesado"')).toBe('1');
    expect(muestra(texto, 'aeropartners_pagos_consumidor_duracion_seconds_count', 'desenlace="duplicado"')).toBe('1');
  });

  it('un indicador consultado que tarda más que su tope no bloquea el raspado: esa pasada da NaN (o ninguna serie, con etiquetas)', async () => {
    const r = registro();
    indicadorConsultado(r, 'aeropartners_pagos_lento', 'lento', [], () => new Promise(() => undefined), 20);
    indicadorConsultado(r, 'aeropartners_pagos_rapido', 'rápido', [], async () => [[{}, 3]]);
    const texto = await r.metrics();
    expect(muestra(texto, 'aeropartners_pagos_rapido')).toBe('3');
    expect(texto).toMatch(/^aeropartners_pagos_lento\{servicio="prueba"\} NaN$/im); // prom-client escribe «Nan»: Prometheus lo lee igual
    indicadorConsultado(r, 'aeropartners_pagos_lento_etiquetado', 'lento', ['estado'], () => Promise.reject(new Error('x')));
    expect(await r.metrics()).not.toMatch(/^aeropartners_pagos_lento_etiquetado\{/m);
  });

  it('las métricas de proceso de Node llevan sus nombres estándar, sin prefijo', async () => {
    const texto = await crearRegistroMetricas({ servicio: 'prueba' }).metrics();
    expect(texto).toMatch(/^process_cpu_seconds_total\{servicio="prueba"\} /m);
    expect(texto).not.toContain('aeropartners_pagos_process_');
  });
});

describe('servidor de salud', () => {
  it('sirve /metrics y /health/ready según la base de datos Y el broker', async () => {
    const r = registro();
    registrarDuplicados(r, { inbox: () => 1 });
    let brokerVivo = true;
    const salud = await iniciarServidorSalud({
      servicio: 'prueba',
      puerto: 0,
      host: '127.0.0.1',
      comprobarDisponible: disponibleSi(async () => true, saludDelBroker({ comprobarSalud: async () => brokerVivo })),
      metricas: () => exponerMetricas(r),
    });
    try {
      const base = `http://127.0.0.1:${salud.puerto}`;
      const m = await fetch(`${base}/metrics`);
      expect(m.status).toBe(200);
      expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await m.text()).toContain('aeropartners_pagos_duplicados_absorbidos_total');
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
      brokerVivo = false;
      expect((await fetch(`${base}/health/ready`)).status).toBe(503);
    } finally {
      await salud.cerrar();
    }
  });

  it('disponibleSi da false si una comprobación rechaza; un broker sin comprobarSalud cuenta como disponible', async () => {
    expect(
      await disponibleSi(
        async () => true,
        async () => Promise.reject(new Error('x')),
      )(),
    ).toBe(false);
    expect(await saludDelBroker({})()).toBe(true);
  });
});
