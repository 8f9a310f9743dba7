import type { Informe } from '../src/informe.js';
import { DESCRIPCION_REGLAS, type CodigoRegla } from '../src/veredicto.js';

/** Un informe sintético (2 minutos de series) para probar la página sin correr el experimento. */
export function informeDeEjemplo(conViolacion = false): Informe {
  const segundos = Array.from({ length: 120 }, (_, i) => i);
  const reglas = (Object.entries(DESCRIPCION_REGLAS) as [CodigoRegla, string][]).map(([regla, descripcion]) => ({
    regla,
    descripcion,
    violaciones: conViolacion && regla === 'cargo-unico' ? 1 : 0,
  }));
  return {
    titulo: 'Experimento <de ejemplo>',
    corrida: 'ejemplo',
    fecha: '2026-03-01T00:00:00.000Z',
    resultado: conViolacion ? 'SUSPENDIDO' : 'APROBADO',
    hipotesis: 'Cada pago surte efecto exactamente una vez.',
    montaje: { Socios: 4, 'Pagos distintos': 1000 },
    medidas: { 'Peticiones HTTP enviadas': 1620, Latencia: '3 ms' },
    capacidad: {
      escalones: [
        {
          ritmoPedido: 100,
          desde: 0,
          hasta: 5,
          peticionesPorSegundo: 100,
          aceptadosPorSegundo: 60,
          terminadosPorSegundo: 55,
          atrasoInicial: 0,
          atrasoFinal: 25,
        },
        {
          ritmoPedido: 200,
          desde: 5,
          hasta: 10,
          peticionesPorSegundo: 200,
          aceptadosPorSegundo: 120,
          terminadosPorSegundo: 118,
          atrasoInicial: 25,
          atrasoFinal: 35,
        },
        {
          ritmoPedido: 300,
          desde: 10,
          hasta: 15,
          peticionesPorSegundo: 290,
          aceptadosPorSegundo: 180,
          terminadosPorSegundo: 130,
          atrasoInicial: 35,
          atrasoFinal: 285,
        },
      ],
      saturada: true,
      motivo: 'a 300 pet/s los terminados (130/s) dejan de seguir a los aceptados (180/s)',
      pagosPorSegundo: 130,
      peticionesPorSegundo: 208,
      ritmoMantenido: 166,
      fraccion: 0.8,
    },
    duplicadosPorEtapa: { entrada: 600, relay: 3, broker: 2000, consumidor: 1990, pasarela: 12 },
    veredicto: {
      aprobado: !conViolacion,
      violaciones: conViolacion
        ? [
            {
              regla: 'cargo-unico',
              descripcion: DESCRIPCION_REGLAS['cargo-unico'],
              total: 1,
              ids: ['0190a1b2-0000-7000-8000-000000000001'],
            },
          ]
        : [],
      reglas,
      pagos: 1000,
      porEstado: { EXITOSO: 900, FALLIDO: 100 },
      latenciaFinalMs: { p50: 1200, p99: 5000, max: 9000 },
    },
    conclusion: 'Se sostiene la hipótesis.',
    series: {
      respuestas: segundos.map((s) => ({
        segundo: s,
        respuestas: 300 + 50 * Math.sin(s / 5),
        p50: 3 + (s % 7),
        p95: 12 + (s % 11),
        p99: 30 + (s % 13),
      })),
      estados: segundos.map((s) => ({
        segundo: s,
        PENDIENTE: Math.max(0, 200 - s),
        PROCESANDO: 20,
        EXITOSO: s * 7,
        FALLIDO: s,
        outboxPendiente: s % 9,
        cola: 0,
      })),
      duplicados: segundos
        .filter((s) => s % 5 === 0)
        .map((s) => ({
          segundo: s,
          valores: { entrada: s * 5, relay: s > 60 ? 3 : 0, broker: s * 16, consumidor: s * 16, pasarela: s / 10 },
        })),
      fallos: [
        { segundo: 20, tipo: 'matar-consumidor', detalle: 'SIGKILL', recuperacionMs: 3000 },
        { segundo: 50, tipo: 'reiniciar-postgres', detalle: 'SIGUSR2', recuperacionMs: 4000 },
        { segundo: 80, tipo: 'matar-relay-lider', detalle: 'SIGKILL', recuperacionMs: 2000, relevoMs: 900 },
        { segundo: 95, tipo: 'matar-postgres', detalle: 'SIGKILL al postmaster', recuperacionMs: 6000 },
      ],
      finRampa: 15,
      finCarga: 90,
      finDrenaje: 110,
    },
  };
}
