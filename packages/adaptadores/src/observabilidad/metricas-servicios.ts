import { Gauge, type Registry } from 'prom-client';
import { contadorLeido, PREFIJO_METRICAS, registrarDuplicados } from './metricas.js';

/**
 * Las métricas de los procesos sin API, leídas al raspar de los contadores que ya llevan (sin duplicar
 * la cuenta): así `main.ts` las conecta con una línea.
 */

const simple = (registro: Registry, nombre: string, ayuda: string, leer: () => number) =>
  contadorLeido(registro, `${PREFIJO_METRICAS}${nombre}`, ayuda, [], () => [[{}, leer()]]);

export interface FuentesMetricasRelay {
  readonly relay: () => {
    readonly publicados: number;
    readonly lotes: number;
    readonly fallos: number;
    readonly republicados: number;
    /** Republicaciones que el broker dijo haber descartado (la etapa `broker` del registro de eventos, decisión 0153). */
    readonly absorbidosPorElBroker?: number;
    readonly secuenciasDescartadas: number;
    readonly renumeradas: number;
    /** 1 mientras el relay está detenido por una alarma. */
    readonly alarma: number;
  };
  /** Contadores del broker embebido; sin ellos (Pulsar), la deduplicación del broker se estima con `republicados`. */
  readonly broker?: { readonly descartadosPorDuplicado: number; readonly duplicadosInyectados: number } | undefined;
}

/**
 * Relay del outbox: publicados (su tasa, con `rate()`), lotes, fallos, republicados, duplicados de la
 * etapa broker y la alarma de secuencias (descartadas y el indicador `relay_alarma`, para alertar).
 */
export function registrarMetricasRelay(registro: Registry, fuentes: FuentesMetricasRelay): void {
  simple(
    registro,
    'relay_publicados_total',
    'Eventos del outbox publicados en el broker por este relay.',
    () => fuentes.relay().publicados,
  );
  simple(registro, 'relay_lotes_total', 'Lotes publicados y marcados por este relay.', () => fuentes.relay().lotes);
  simple(registro, 'relay_fallos_total', 'Publicaciones fallidas (se reintentan con las mismas secuencias).', () => fuentes.relay().fallos);
  simple(
    registro,
    'relay_republicados_total',
    'Eventos que una vida anterior del relay publicó sin marcar y este volvió a publicar (el broker los deduplica).',
    () => fuentes.relay().republicados,
  );
  simple(
    registro,
    'relay_secuencias_descartadas_total',
    'Eventos nunca publicados que el broker descartó como duplicados (el estado de las secuencias está mal): no llegaron a nadie.',
    () => fuentes.relay().secuenciasDescartadas,
  );
  simple(
    registro,
    'relay_renumeradas_total',
    'Filas numeradas con otro nombre de productor y nunca publicadas que este relay volvió a numerar al hacerse líder.',
    () => fuentes.relay().renumeradas,
  );
  new Gauge({
    name: `${PREFIJO_METRICAS}relay_alarma`,
    help: '1 si el relay está detenido por una alarma de secuencias (descartadas por el broker, o por detrás de su marca); 0 si no.',
    registers: [registro],
    collect() {
      this.set(fuentes.relay().alarma);
    },
  });
  const broker = fuentes.broker;
  if (broker) {
    simple(
      registro,
      'broker_duplicados_inyectados_total',
      'Copias extra encoladas por la inyección de fallos BROKER_DUPLICAR_ENTREGAS (broker embebido).',
      () => broker.duplicadosInyectados,
    );
  }
  // Lo que el relay anota en el registro de eventos, si lo lleva: así la métrica y el feed cuentan lo mismo.
  registrarDuplicados(registro, {
    broker: () => fuentes.relay().absorbidosPorElBroker ?? (broker ? broker.descartadosPorDuplicado : fuentes.relay().republicados),
  });
}

export interface FuentesMetricasConsumidor {
  readonly consumidor: () => {
    readonly recibidos: number;
    readonly exitosos: number;
    readonly fallidos: number;
    readonly duplicados: number;
    readonly muertos: number;
    readonly rechazados: number;
    readonly reintentosPasarela: number;
    readonly inciertos: number;
    readonly ocupados: number;
    readonly abandonados: number;
    readonly errores: number;
  };
  /** Repeticiones que la pasarela absorbió por su clave de idempotencia (la simulada las cuenta; Stripe no). */
  readonly repeticionesPasarela?: (() => number) | undefined;
  /** Leases del broker embebido que este consumidor perdió (otro reclamó el mensaje); sin él (Pulsar), no se exporta. */
  readonly broker?: { readonly leasesPerdidos: number; readonly operacionesSinLease: number } | undefined;
  /** Hechos de conversión atendidos por desenlace (issue 12); sin él, no se exporta. */
  readonly hechosConversion?:
    | (() => { readonly aplicados: number; readonly duplicados: number; readonly bloqueados: number; readonly rechazados: number })
    | undefined;
}

/** Consumidor: recibidos, mensajes muertos, rechazos, reintentos de la pasarela, errores y duplicados (inbox, pasarela). */
export function registrarMetricasConsumidor(registro: Registry, fuentes: FuentesMetricasConsumidor): void {
  const hechos = fuentes.hechosConversion;
  if (hechos) {
    contadorLeido(
      registro,
      `${PREFIJO_METRICAS}hechos_conversion_total`,
      'Hechos de conversión atendidos por este consumidor, por desenlace (aplicado, duplicado, bloqueada, rechazado: a mensajes muertos).',
      ['desenlace'],
      () => {
        const h = hechos();
        return [
          [{ desenlace: 'aplicado' }, h.aplicados],
          [{ desenlace: 'duplicado' }, h.duplicados],
          [{ desenlace: 'bloqueada' }, h.bloqueados],
          [{ desenlace: 'rechazado' }, h.rechazados],
        ];
      },
    );
  }
  simple(registro, 'consumidor_recibidos_total', 'Mensajes tomados del broker por este consumidor.', () => fuentes.consumidor().recibidos);
  contadorLeido(
    registro,
    `${PREFIJO_METRICAS}pagos_finalizados_total`,
    'Pagos llevados a un estado final por este consumidor, por estado (EXITOSO, FALLIDO).',
    ['estado'],
    () => [
      [{ estado: 'EXITOSO' }, fuentes.consumidor().exitosos],
      [{ estado: 'FALLIDO' }, fuentes.consumidor().fallidos],
    ],
  );
  simple(
    registro,
    'mensajes_muertos_total',
    'Mensajes mandados a la cola de mensajes muertos (sobre inválido o pago inexistente).',
    () => fuentes.consumidor().muertos,
  );
  simple(
    registro,
    'consumidor_rechazados_total',
    'Mensajes devueltos al broker (nack) tras un fallo de infraestructura, o detrás de uno que lo fue.',
    () => fuentes.consumidor().rechazados,
  );
  simple(
    registro,
    'pasarela_reintentos_total',
    'Respuestas inciertas de la pasarela (no dicen si el dinero se movió) tras las que se pregunta y se reintenta con la misma clave.',
    () => fuentes.consumidor().reintentosPasarela,
  );
  simple(
    registro,
    'consumidor_inciertos_total',
    'Mensajes devueltos al broker porque la pasarela no aclaró el desenlace en toda la entrega: el pago sigue en PROCESANDO.',
    () => fuentes.consumidor().inciertos,
  );
  simple(
    registro,
    'consumidor_ocupados_total',
    'Mensajes devueltos al broker porque otro consumidor tenía el turno de cobro del pago.',
    () => fuentes.consumidor().ocupados,
  );
  simple(
    registro,
    'consumidor_abandonados_total',
    'Mensajes abandonados sin confirmar ni rechazar porque dejaron de ser de este consumidor (lease perdido).',
    () => fuentes.consumidor().abandonados,
  );
  const broker = fuentes.broker;
  if (broker) {
    simple(
      registro,
      'broker_leases_perdidos_total',
      'Leases de mensajes que este consumidor perdió (otro consumidor reclamó el mensaje).',
      () => broker.leasesPerdidos,
    );
  }
  simple(
    registro,
    'consumidor_errores_total',
    'Fallos de infraestructura al recibir, manejar, confirmar o rechazar.',
    () => fuentes.consumidor().errores,
  );
  registrarDuplicados(registro, {
    // Eventos de pago y hechos de conversión que el inbox ya tenía: los mismos que el registro de eventos anota.
    inbox: () => fuentes.consumidor().duplicados + (hechos?.().duplicados ?? 0),
    ...(fuentes.repeticionesPasarela && { pasarela: fuentes.repeticionesPasarela }),
  });
}
