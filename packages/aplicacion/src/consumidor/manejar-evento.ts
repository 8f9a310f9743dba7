import {
  iniciarProcesamiento,
  registrarExito,
  registrarFallo,
  type Contexto,
  type EstadoCobro,
  type EventoPago,
  type PasarelaDePagos,
  type Pago,
  type Reloj,
  type RepositorioPagos,
  type ResultadoPago,
  type Trazabilidad,
} from '@aeropartners/dominio';
import type { GeneradorIds } from '../puertos.js';
import type { AnotacionInbox, InboxPagos, TurnosCobro } from './puertos-consumidor.js';

/** Cómo terminó el manejo de un evento. Lo que se hace con el mensaje lo decide `decidirMensaje`. */
export type DesenlaceEvento =
  | { readonly tipo: 'procesado'; readonly pago: Pago; readonly intentosPasarela: number }
  | { readonly tipo: 'registrado' }
  | { readonly tipo: 'duplicado' }
  | { readonly tipo: 'obsoleto'; readonly estadoActual: string; readonly versionActual: number }
  | { readonly tipo: 'pagoInexistente' }
  /** La pasarela no dijo si el dinero se movió: el pago sigue en PROCESANDO y se vuelve a preguntar más tarde. */
  | { readonly tipo: 'incierto'; readonly mensaje: string; readonly intentosPasarela: number }
  /** Otro consumidor tiene el turno de cobro del pago: volver a intentarlo cuando venza. */
  | { readonly tipo: 'ocupado'; readonly reintentarEnMs: number }
  /** El mensaje dejó de ser de este consumidor (lease perdido) o se perdió el turno: no se hizo nada más. */
  | { readonly tipo: 'abandonado'; readonly motivo: string };

export interface OpcionesManejador {
  readonly suscripcion: string;
  readonly repositorio: RepositorioPagos;
  readonly inbox: InboxPagos;
  readonly pasarela: PasarelaDePagos;
  /** Turnos de cobro: un solo consumidor a la vez ejecuta el paso de la pasarela de un pago. */
  readonly turnos: TurnosCobro;
  /**
   * Identidad de este consumidor como titular de turnos (única por proceso). Cada entrega toma el turno
   * como `<titular>/<n>`: dos entregas del mismo pago tampoco se solapan dentro del proceso.
   */
  readonly titular: string;
  /** Vigencia de un turno de cobro; se renueva cada tercio mientras el paso sigue en marcha. */
  readonly duracionTurnoMs: number;
  readonly reloj: Reloj;
  readonly nuevoId: GeneradorIds;
  /**
   * Intentos de la pasarela (cobrar o consultar) en una misma entrega mientras el desenlace sea incierto.
   * Agotados, el pago sigue en PROCESANDO y el evento se reentrega más tarde: nunca se da por fallido.
   */
  readonly intentosPasarela: number;
  readonly backoffPasarelaMs: number;
  readonly dormir?: (ms: number) => Promise<void>;
  /** Se llama tras cada respuesta incierta de la pasarela (cobro o consulta) que se va a reintentar. */
  readonly alReintentar?: (evento: EventoPago, intento: number, mensaje: string, traza: Trazabilidad) => void;
  /**
   * Una entrega encontró el pago en PROCESANDO y, al preguntar antes de cobrar, la pasarela ya tenía su
   * desenlace (lo decidió una entrega anterior): un duplicado absorbido en la etapa de la pasarela, sin cobrar.
   * Las consultas tras una respuesta incierta de la misma entrega no cuentan: no son duplicados.
   */
  readonly alCobroYaDecidido?: (pago: Pago, traza: Trazabilidad) => void;
}

const dormirPorDefecto = (ms: number) => new Promise<void>((resolver) => setTimeout(resolver, ms));
const MAXIMO_CONFLICTOS = 5;

/** Un desenlace definitivo de la pasarela (lo único que puede cerrar un pago). */
type Definitivo = Extract<ResultadoPago, { tipo: 'exitoso' | 'rechazado' }>;
type PasoPasarela =
  | { readonly tipo: 'definitivo'; readonly resultado: Definitivo; readonly intentos: number }
  | { readonly tipo: 'incierto'; readonly mensaje: string; readonly intentos: number }
  | { readonly tipo: 'abandonado'; readonly motivo: string };

/**
 * Maneja un evento de pago recibido del broker, exactamente una vez por suscripción:
 *
 * - `PagoPendiente`, en dos fases confirmadas alrededor de la llamada externa: (1) PENDIENTE →
 *   PROCESANDO; (2) el paso de la pasarela, con el turno de cobro del pago tomado (nadie más lo ejecuta a
 *   la vez) y clave de idempotencia = id del pago; (3) EXITOSO/FALLIDO con su evento en el outbox y el
 *   evento anotado en el inbox, en una sola sentencia, que también suelta el turno.
 * - Solo un rechazo definitivo acaba en FALLIDO. Un desenlace incierto (tiempo agotado, 5xx, «en curso»)
 *   deja el pago en PROCESANDO: se pregunta a la pasarela qué pasó con ese pago (`consultar`) y, si no
 *   tiene rastro de un cobro, se vuelve a cobrar con la misma clave. Si un pago ya estaba en PROCESANDO
 *   al llegar el evento (otra entrega pudo cobrar), se pregunta ANTES de cobrar: las claves de
 *   idempotencia caducan en el proveedor, y preguntar es la primera defensa contra un segundo cobro.
 * - Los demás eventos se anotan (trazabilidad).
 *
 * Los eventos de un pago que llegan desordenados se juzgan por versión, no por orden de llegada.
 * `senal` (del broker) se aborta si el mensaje deja de ser de este consumidor: no se empieza ningún paso
 * de la pasarela más.
 */
export function crearManejadorEventos(opciones: OpcionesManejador) {
  const dormir = opciones.dormir ?? dormirPorDefecto;
  const contexto = (): Contexto => ({ ahora: opciones.reloj.ahora(), nuevoId: opciones.nuevoId });
  let entregas = 0;

  /**
   * El paso de la pasarela hasta un desenlace definitivo, o hasta agotar los intentos con respuestas
   * inciertas. `preguntarAntes`: otra entrega pudo cobrar ya; se consulta antes de cobrar.
   */
  async function pasoPasarela(
    evento: EventoPago,
    pago: Pago,
    traza: Trazabilidad,
    preguntarAntes: boolean,
    cancelado: () => string | undefined,
  ): Promise<PasoPasarela> {
    let preguntar = preguntarAntes;
    let ultimo = 'sin intentos';
    for (let intento = 1; intento <= opciones.intentosPasarela; intento += 1) {
      const motivo = cancelado();
      if (motivo !== undefined) return { tipo: 'abandonado', motivo };
      let respuesta: ResultadoPago | EstadoCobro = { tipo: 'sinCobro' };
      if (preguntar) {
        respuesta = await opciones.pasarela.consultar({ idPago: pago.id, modo: pago.modo, claveIdempotencia: pago.id, traza });
        const trasConsultar = respuesta.tipo === 'sinCobro' ? cancelado() : undefined;
        if (trasConsultar !== undefined) return { tipo: 'abandonado', motivo: trasConsultar };
        if (preguntarAntes && intento === 1 && (respuesta.tipo === 'exitoso' || respuesta.tipo === 'rechazado')) {
          opciones.alCobroYaDecidido?.(pago, traza);
        }
      }
      if (respuesta.tipo === 'sinCobro') {
        respuesta = await opciones.pasarela.cobrar({
          idPago: pago.id,
          modo: pago.modo,
          idAfiliado: pago.idAfiliado,
          monto: pago.monto,
          referenciaPago: pago.referenciaPago,
          claveIdempotencia: pago.id,
          traza,
        });
      }
      if (respuesta.tipo === 'exitoso' || respuesta.tipo === 'rechazado') {
        return { tipo: 'definitivo', resultado: respuesta, intentos: intento };
      }
      // Incierto: el dinero pudo moverse. La próxima vuelta pregunta antes de volver a cobrar.
      preguntar = true;
      ultimo = respuesta.mensaje;
      opciones.alReintentar?.(evento, intento, respuesta.mensaje, traza);
      if (intento < opciones.intentosPasarela) await dormir(opciones.backoffPasarelaMs * 2 ** (intento - 1));
    }
    return { tipo: 'incierto', mensaje: ultimo, intentos: opciones.intentosPasarela };
  }

  /**
   * Turnos de cobro que esta instancia tiene: un solo temporizador (mientras haya alguno) renueva los que
   * llevan un tercio de su vigencia sin renovar; si otro se quedó con el turno, se anota para que el paso
   * no empiece otra llamada a la pasarela.
   */
  const turnosActivos = new Map<string, { readonly idPago: string; renovadoEn: number; perdido?: string }>();
  let renovador: ReturnType<typeof setInterval> | undefined;
  const tercio = Math.max(1, Math.floor(opciones.duracionTurnoMs / 3));

  function vigilarTurno(titular: string, idPago: string) {
    const turno: { readonly idPago: string; renovadoEn: number; perdido?: string } = { idPago, renovadoEn: Date.now() };
    turnosActivos.set(titular, turno);
    renovador ??= setInterval(renovarTurnos, tercio);
    return turno;
  }

  function dejarDeVigilar(titular: string): void {
    turnosActivos.delete(titular);
    if (turnosActivos.size === 0 && renovador !== undefined) {
      clearInterval(renovador);
      renovador = undefined;
    }
  }

  function renovarTurnos(): void {
    const ahora = Date.now();
    for (const [titular, turno] of turnosActivos) {
      if (ahora - turno.renovadoEn < tercio) continue;
      turno.renovadoEn = ahora;
      opciones.turnos.tomar(turno.idPago, titular, opciones.duracionTurnoMs).then(
        (r) => {
          if (!r.tomado) turno.perdido = `se perdió el turno de cobro del pago ${turno.idPago}`;
        },
        () => undefined, // sin base no se renueva; si vence, otro lo tomará y esta entrega lo sabrá al renovar
      );
    }
  }

  function nuevoTitular(): string {
    entregas += 1;
    return `${opciones.titular}/${entregas}`;
  }

  /**
   * El paso de la pasarela con el turno ya tomado (por `iniciar` o `tomar`): vigilado mientras dura y
   * soltado si no acaba el pago (si lo acaba, lo suelta la misma sentencia del desenlace).
   */
  async function conTurno<T>(
    titular: string,
    idPago: string,
    senalMensaje: AbortSignal | undefined,
    paso: (cancelado: () => string | undefined) => Promise<T>,
  ): Promise<T> {
    const turno = vigilarTurno(titular, idPago);
    const cancelado = () => (senalMensaje?.aborted ? motivoDe(senalMensaje) : turno.perdido);
    try {
      return await paso(cancelado);
    } catch (error) {
      // Un fallo de infraestructura a mitad del paso: el turno se suelta para que la reentrega no espere.
      await opciones.turnos.soltar(idPago, titular).catch(() => undefined);
      throw error;
    } finally {
      dejarDeVigilar(titular);
    }
  }

  async function manejarPendiente(
    evento: EventoPago,
    traza: Trazabilidad,
    anotacion: AnotacionInbox,
    senal: AbortSignal | undefined,
  ): Promise<DesenlaceEvento> {
    for (let vuelta = 0; vuelta < MAXIMO_CONFLICTOS; vuelta += 1) {
      let pago = await opciones.repositorio.obtener(evento.idPago);
      if (!pago) return { tipo: 'pagoInexistente' };
      if (pago.estado === 'EXITOSO' || pago.estado === 'FALLIDO') {
        // Ya terminó (otra entrega lo terminó): el evento es obsoleto, se anota y no se cobra.
        const r = await opciones.inbox.anotar(anotacion);
        return r === 'duplicado' ? { tipo: 'duplicado' } : { tipo: 'obsoleto', estadoActual: pago.estado, versionActual: pago.version };
      }
      if (senal?.aborted) return { tipo: 'abandonado', motivo: motivoDe(senal) };
      // Un pago que ya estaba en PROCESANDO pudo cobrarse en una entrega anterior: se pregunta primero.
      const preguntarAntes = pago.estado === 'PROCESANDO';
      const titular = nuevoTitular();
      if (pago.estado === 'PENDIENTE') {
        // Fase 1: PROCESANDO y el turno de cobro, en la misma escritura.
        const inicio = iniciarProcesamiento(pago, contexto());
        if (!inicio.ok) throw new Error(`Transición imposible para ${pago.id}: ${inicio.error.tipo}`);
        const guardado = await opciones.turnos.iniciar(inicio.valor, pago.version, traza, titular, opciones.duracionTurnoMs);
        if (!guardado.ok) continue; // otro lo movió: releer y decidir de nuevo
        pago = guardado.valor;
      } else {
        const turno = await opciones.turnos.tomar(pago.id, titular, opciones.duracionTurnoMs);
        if (!turno.tomado) {
          // Ya no está en PROCESANDO (otra entrega lo terminó): releer lo resuelve.
          if (turno.motivo === 'noProcesando') continue;
          return { tipo: 'ocupado', reintentarEnMs: turno.restanteMs };
        }
      }
      const enProceso = pago;
      // Fase 2: la llamada externa, fuera de toda transacción y con el turno de cobro.
      const hecho = await conTurno(titular, enProceso.id, senal, async (cancelado) => {
        const paso = await pasoPasarela(evento, enProceso, traza, preguntarAntes, cancelado);
        if (paso.tipo !== 'definitivo') {
          await opciones.turnos.soltar(enProceso.id, titular);
          return paso;
        }
        // Fase 3: el desenlace, su evento, el inbox y el turno suelto, en una sentencia.
        const cambio =
          paso.resultado.tipo === 'exitoso'
            ? registrarExito(enProceso, paso.resultado.referenciaTransaccion, contexto())
            : registrarFallo(enProceso, paso.resultado.mensaje, contexto());
        if (!cambio.ok) throw new Error(`Desenlace imposible para ${enProceso.id}: ${cambio.error.tipo}`);
        const r = await opciones.inbox.guardarYAnotar(cambio.valor, enProceso.version, traza, anotacion);
        return { tipo: r, pago: cambio.valor.pago, intentos: paso.intentos } as const;
      });
      switch (hecho.tipo) {
        case 'abandonado':
          return hecho;
        case 'incierto':
          return { tipo: 'incierto', mensaje: hecho.mensaje, intentosPasarela: hecho.intentos };
        case 'aplicado':
          return { tipo: 'procesado', pago: hecho.pago, intentosPasarela: hecho.intentos };
        case 'duplicado':
          return { tipo: 'duplicado' };
        case 'conflicto':
          continue; // otra entrega terminó el pago; la siguiente vuelta lo verá final
      }
    }
    throw new Error(`Demasiados conflictos de versión procesando el pago ${evento.idPago}`);
  }

  return async function manejarEvento(evento: EventoPago, traza: Trazabilidad, senal?: AbortSignal): Promise<DesenlaceEvento> {
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
        return manejarPendiente(evento, traza, anotacion, senal);
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

function motivoDe(senal: AbortSignal): string {
  const razon: unknown = senal.reason;
  return razon instanceof Error ? razon.message : typeof razon === 'string' ? razon : 'el mensaje dejó de ser de este consumidor';
}

export type ManejadorEventos = ReturnType<typeof crearManejadorEventos>;
