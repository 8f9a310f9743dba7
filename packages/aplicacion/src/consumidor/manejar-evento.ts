import {
  iniciarProcesamiento,
  registrarExito,
  registrarFallo,
  type Contexto,
  type EventoPago,
  type PasarelaDePagos,
  type Pago,
  type Reloj,
  type RepositorioPagos,
  type ResultadoPago,
  type Trazabilidad,
} from '@aeropartners/dominio';
import type { GeneradorIds } from '../puertos.js';
import type { AnotacionInbox, InboxPagos } from './puertos-consumidor.js';

/** Cómo terminó el manejo de un evento. `error` no se confirma al broker: se reentrega. */
export type DesenlaceEvento =
  | { readonly tipo: 'procesado'; readonly pago: Pago; readonly intentosPasarela: number }
  | { readonly tipo: 'registrado' }
  | { readonly tipo: 'duplicado' }
  | { readonly tipo: 'obsoleto'; readonly estadoActual: string; readonly versionActual: number }
  | { readonly tipo: 'pagoInexistente' };

export interface OpcionesManejador {
  readonly suscripcion: string;
  readonly repositorio: RepositorioPagos;
  readonly inbox: InboxPagos;
  readonly pasarela: PasarelaDePagos;
  readonly reloj: Reloj;
  readonly nuevoId: GeneradorIds;
  /** Intentos ante fallos transitorios de la pasarela antes de declarar el pago FALLIDO. */
  readonly intentosPasarela: number;
  readonly backoffPasarelaMs: number;
  readonly dormir?: (ms: number) => Promise<void>;
  readonly alReintentar?: (evento: EventoPago, intento: number, mensaje: string) => void;
}

const dormirPorDefecto = (ms: number) => new Promise<void>((resolver) => setTimeout(resolver, ms));
const MAXIMO_CONFLICTOS = 5;

/**
 * Maneja un evento de pago recibido del broker, exactamente una vez por suscripción:
 * - `PagoPendiente`: en dos fases confirmadas alrededor de la llamada externa. (1) PENDIENTE →
 *   PROCESANDO; (2) cobro en la pasarela con clave de idempotencia = id del pago; (3) EXITOSO/FALLIDO
 *   con su evento en el outbox y el evento anotado en el inbox, en una sola transacción. Una reentrega
 *   que encuentra el pago en PROCESANDO vuelve a llamar a la pasarela con la misma clave y obtiene la
 *   misma respuesta.
 * - Los demás eventos se anotan (trazabilidad).
 * Los eventos de un pago que llegan desordenados se juzgan por versión, no por orden de llegada.
 */
export function crearManejadorEventos(opciones: OpcionesManejador) {
  const dormir = opciones.dormir ?? dormirPorDefecto;
  const contexto = (): Contexto => ({ ahora: opciones.reloj.ahora(), nuevoId: opciones.nuevoId });

  async function cobrar(evento: EventoPago, pago: Pago, traza: Trazabilidad): Promise<{ resultado: ResultadoPago; intentos: number }> {
    let ultimo: ResultadoPago = { tipo: 'transitorio', mensaje: 'sin intentos' };
    for (let intento = 1; intento <= opciones.intentosPasarela; intento += 1) {
      ultimo = await opciones.pasarela.cobrar({
        idPago: pago.id,
        idAfiliado: pago.idAfiliado,
        monto: pago.monto,
        referenciaPago: pago.referenciaPago,
        claveIdempotencia: pago.id,
        traza,
      });
      if (ultimo.tipo !== 'transitorio') return { resultado: ultimo, intentos: intento };
      opciones.alReintentar?.(evento, intento, ultimo.mensaje);
      if (intento < opciones.intentosPasarela) await dormir(opciones.backoffPasarelaMs * 2 ** (intento - 1));
    }
    return {
      resultado: {
        tipo: 'rechazado',
        mensaje: `La pasarela no respondió tras ${opciones.intentosPasarela} intentos: ${ultimo.mensaje}`,
      },
      intentos: opciones.intentosPasarela,
    };
  }

  async function manejarPendiente(evento: EventoPago, traza: Trazabilidad, anotacion: AnotacionInbox): Promise<DesenlaceEvento> {
    for (let vuelta = 0; vuelta < MAXIMO_CONFLICTOS; vuelta += 1) {
      let pago = await opciones.repositorio.obtener(evento.idPago);
      if (!pago) return { tipo: 'pagoInexistente' };
      if (pago.estado === 'EXITOSO' || pago.estado === 'FALLIDO') {
        // Ya terminó (otra entrega lo terminó): el evento es obsoleto, se anota y no se cobra.
        const r = await opciones.inbox.anotar(anotacion);
        return r === 'duplicado' ? { tipo: 'duplicado' } : { tipo: 'obsoleto', estadoActual: pago.estado, versionActual: pago.version };
      }
      if (pago.estado === 'PENDIENTE') {
        const inicio = iniciarProcesamiento(pago, contexto());
        if (!inicio.ok) throw new Error(`Transición imposible para ${pago.id}: ${inicio.error.tipo}`);
        const guardado = await opciones.repositorio.guardar(inicio.valor, pago.version, traza);
        if (!guardado.ok) continue; // otro lo movió: releer y decidir de nuevo
        pago = guardado.valor;
      }
      // PROCESANDO: fase 2, la llamada externa, fuera de toda transacción.
      const { resultado, intentos } = await cobrar(evento, pago, traza);
      const cambio =
        resultado.tipo === 'exitoso'
          ? registrarExito(pago, resultado.referenciaTransaccion, contexto())
          : registrarFallo(pago, resultado.mensaje, contexto());
      if (!cambio.ok) throw new Error(`Desenlace imposible para ${pago.id}: ${cambio.error.tipo}`);
      const r = await opciones.inbox.guardarYAnotar(cambio.valor, pago.version, traza, anotacion);
      if (r === 'aplicado') return { tipo: 'procesado', pago: cambio.valor.pago, intentosPasarela: intentos };
      if (r === 'duplicado') return { tipo: 'duplicado' };
      // conflicto: otra entrega concurrente terminó el pago; la siguiente vuelta lo verá final.
    }
    throw new Error(`Demasiados conflictos de versión procesando el pago ${evento.idPago}`);
  }

  return async function manejarEvento(evento: EventoPago, traza: Trazabilidad): Promise<DesenlaceEvento> {
    const anotacion: AnotacionInbox = {
      suscripcion: opciones.suscripcion,
      idEvento: evento.idEvento,
      idPago: evento.idPago,
      tipoEvento: evento.tipo,
      version: evento.version,
    };
    // Sin consulta previa al inbox: un PagoPendiente repetido encuentra el pago ya final (y su anotación,
    // que lo marca duplicado) y los demás eventos se deduplican en el propio INSERT del inbox.
    switch (evento.tipo) {
      case 'PagoPendiente':
        return manejarPendiente(evento, traza, anotacion);
      case 'PagoProcesando':
      case 'PagoExitoso':
      case 'PagoFallido': {
        const r = await opciones.inbox.anotar(anotacion);
        return r === 'duplicado' ? { tipo: 'duplicado' } : { tipo: 'registrado' };
      }
      default: {
        const imposible: never = evento;
        throw new Error(`Evento desconocido: ${JSON.stringify(imposible)}`);
      }
    }
  };
}

export type ManejadorEventos = ReturnType<typeof crearManejadorEventos>;
