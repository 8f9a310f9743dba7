import {
  EstadoPago,
  TipoEventoPago,
  Resultado,
  type Ambito,
  type CambioPago,
  type ClaveIdempotencia,
  type ConflictoDeVersion,
  type CredencialEscritura,
  type MotivoRechazo,
  type EventoPago,
  type Pago,
  type Reloj,
  type RepositorioPagos,
  type ResultadoCreacion,
  type Trazabilidad,
} from '@aeropartners/dominio';
import type { AnotacionInbox, InboxPagos, TurnoCobro, TurnosCobro } from '../consumidor/puertos-consumidor.js';
import type { ConsultasPagos, EntradaHistorial, EstadisticasOutbox, FiltrosListado, Pagina } from '../puertos.js';

/** Reloj que el test controla. */
export function relojFijo(inicio = new Date('2026-01-01T00:00:00.000Z')): Reloj & { avanzar(ms: number): void } {
  let actual = inicio.getTime();
  return {
    ahora: () => new Date(actual),
    avanzar(ms: number) {
      actual += ms;
    },
  };
}

/** Identificadores con forma de UUID y crecientes (en orden lexicográfico), deterministas para los tests. */
export function idsSecuenciales(prefijo = 0): () => string {
  let n = 0;
  const grupo = prefijo.toString(16).padStart(8, '0').slice(-8);
  return () => {
    n += 1;
    return `${grupo}-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
  };
}

export interface FilaOutboxEnMemoria {
  readonly evento: EventoPago;
  readonly traza: Trazabilidad;
  publicado: boolean;
}

const enAmbito = (pago: Pago, ambito: Ambito) => pago.idSocio === ambito.idSocio && pago.modo === ambito.modo;

/**
 * Repositorio y consultas en memoria con las mismas garantías observables que el de PostgreSQL:
 * clave de idempotencia única por socio y modo, consultas con ámbito, control optimista de versión,
 * outbox e historial atómicos, turnos de cobro con caducidad (que un desenlace final suelta), y la
 * credencial comprobada al escribir (`credencialesDenegadas`).
 */
export class RepositorioPagosEnMemoria implements RepositorioPagos, ConsultasPagos, InboxPagos, TurnosCobro {
  /** Reloj de los turnos de cobro, en ms (por defecto `Date.now`). */
  ahoraMs: () => number = () => Date.now();
  /** Turnos de cobro vigentes o vencidos: id del pago → titular y vencimiento (ms). */
  readonly turnos = new Map<string, { readonly titular: string; readonly hastaMs: number }>();
  readonly pagos = new Map<string, Pago>();
  /** Inbox: `suscripcion id_evento` → anotación. */
  readonly inbox = new Map<string, AnotacionInbox>();
  readonly claves = new Map<string, string>();
  readonly outbox: FilaOutboxEnMemoria[] = [];
  readonly historialPorPago = new Map<string, EntradaHistorial[]>();
  /**
   * Lo que la sentencia que escribe encontraría al comprobar la credencial: id de clave (o id de socio,
   * para un socio suspendido) → motivo. Lo que está aquí se responde `denegado` sin escribir nada.
   */
  readonly credencialesDenegadas = new Map<string, MotivoRechazo>();

  private anotarCambio(cambio: CambioPago, traza: Trazabilidad) {
    for (const evento of cambio.eventos) {
      if (TipoEventoPago.sePublica(evento.tipo)) this.outbox.push({ evento, traza, publicado: false });
      const historial = this.historialPorPago.get(evento.idPago) ?? [];
      historial.push({
        estado: cambio.pago.estado,
        version: evento.version,
        tipoEvento: evento.tipo,
        idEvento: evento.idEvento,
        ocurridoEn: evento.ocurridoEn,
        idCorrelacion: traza.idCorrelacion,
        idSolicitud: traza.idSolicitud ?? null,
      });
      this.historialPorPago.set(evento.idPago, historial);
    }
  }

  async crear(
    cambio: CambioPago,
    clave: ClaveIdempotencia,
    traza: Trazabilidad,
    credencial?: CredencialEscritura,
  ): Promise<ResultadoCreacion> {
    if (credencial !== undefined) {
      const motivo =
        (credencial.idClave === null ? undefined : this.credencialesDenegadas.get(credencial.idClave)) ??
        this.credencialesDenegadas.get(cambio.pago.idSocio);
      if (motivo !== undefined) return { tipo: 'denegado', motivo };
    }
    const llave = JSON.stringify([clave.idSocio, cambio.pago.modo, clave.clave]);
    const existente = this.claves.get(llave);
    if (existente !== undefined) {
      const pago = this.pagos.get(existente);
      if (!pago) throw new Error(`Clave de idempotencia huérfana: ${llave}`);
      return { tipo: 'existente', pago };
    }
    if (this.pagos.has(cambio.pago.id)) throw new Error(`Pago duplicado: ${cambio.pago.id}`);
    this.claves.set(llave, cambio.pago.id);
    this.pagos.set(cambio.pago.id, cambio.pago);
    this.anotarCambio(cambio, traza);
    return { tipo: 'creado', pago: cambio.pago };
  }

  async obtener(idPago: string): Promise<Pago | null> {
    return this.pagos.get(idPago) ?? null;
  }

  async guardar(cambio: CambioPago, versionEsperada: number, traza: Trazabilidad): Promise<Resultado<Pago, ConflictoDeVersion>> {
    const actual = this.pagos.get(cambio.pago.id);
    if (!actual || actual.version !== versionEsperada) {
      return Resultado.fallo({ tipo: 'ConflictoDeVersion', idPago: cambio.pago.id, versionEsperada });
    }
    this.pagos.set(cambio.pago.id, cambio.pago);
    if (EstadoPago.esFinal(cambio.pago.estado)) this.turnos.delete(cambio.pago.id);
    this.anotarCambio(cambio, traza);
    return Resultado.ok(cambio.pago);
  }

  async iniciar(
    cambio: CambioPago,
    versionEsperada: number,
    traza: Trazabilidad,
    titular: string,
    duracionMs: number,
  ): Promise<Resultado<Pago, ConflictoDeVersion>> {
    const r = await this.guardar(cambio, versionEsperada, traza);
    if (r.ok) this.turnos.set(cambio.pago.id, { titular, hastaMs: this.ahoraMs() + duracionMs });
    return r;
  }

  async tomar(idPago: string, titular: string, duracionMs: number): Promise<TurnoCobro> {
    const ahora = this.ahoraMs();
    const pago = this.pagos.get(idPago);
    if (pago?.estado !== 'PROCESANDO') return { tomado: false, motivo: 'noProcesando' };
    const actual = this.turnos.get(idPago);
    if (actual !== undefined && actual.titular !== titular && actual.hastaMs > ahora) {
      return { tomado: false, motivo: 'ocupado', restanteMs: actual.hastaMs - ahora };
    }
    this.turnos.set(idPago, { titular, hastaMs: ahora + duracionMs });
    return { tomado: true };
  }

  async soltar(idPago: string, titular: string): Promise<void> {
    if (this.turnos.get(idPago)?.titular === titular) this.turnos.delete(idPago);
  }

  async obtenerPago(ambito: Ambito, idPago: string): Promise<Pago | null> {
    const pago = this.pagos.get(idPago);
    return pago !== undefined && enAmbito(pago, ambito) ? pago : null;
  }

  async listar(filtros: FiltrosListado): Promise<Pagina<Pago>> {
    const todos = [...this.pagos.values()]
      .filter((p) => enAmbito(p, filtros.ambito))
      .filter((p) => filtros.estado === undefined || p.estado === filtros.estado)
      .filter((p) => filtros.idAfiliado === undefined || p.idAfiliado === filtros.idAfiliado)
      .filter((p) => filtros.referenciaPago === undefined || p.referenciaPago === filtros.referenciaPago)
      .filter((p) => filtros.cursor === undefined || p.id < filtros.cursor)
      .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const elementos = todos.slice(0, filtros.limite);
    const ultimo = elementos.at(-1);
    return { elementos, siguienteCursor: todos.length > filtros.limite && ultimo ? ultimo.id : null };
  }

  async historial(ambito: Ambito, idPago: string): Promise<readonly EntradaHistorial[] | null> {
    if ((await this.obtenerPago(ambito, idPago)) === null) return null;
    return [...(this.historialPorPago.get(idPago) ?? [])].sort((a, b) => a.version - b.version);
  }

  async estadisticasOutbox(ambito: Ambito): Promise<EstadisticasOutbox> {
    const delAmbito = this.outbox.filter((f) => {
      const pago = this.pagos.get(f.evento.idPago);
      return pago !== undefined && enAmbito(pago, ambito);
    });
    const publicados = delAmbito.filter((f) => f.publicado).length;
    return { total: delAmbito.length, publicados, pendientes: delAmbito.length - publicados };
  }

  async yaProcesado(suscripcion: string, idEvento: string): Promise<boolean> {
    return this.inbox.has(`${suscripcion} ${idEvento}`);
  }

  async anotar(anotacion: AnotacionInbox): Promise<'anotado' | 'duplicado'> {
    const llave = `${anotacion.suscripcion} ${anotacion.idEvento}`;
    if (this.inbox.has(llave)) return 'duplicado';
    this.inbox.set(llave, anotacion);
    return 'anotado';
  }

  async guardarYAnotar(
    cambio: CambioPago,
    versionEsperada: number,
    traza: Trazabilidad,
    anotacion: AnotacionInbox,
  ): Promise<'aplicado' | 'duplicado' | 'conflicto'> {
    if (this.inbox.has(`${anotacion.suscripcion} ${anotacion.idEvento}`)) return 'duplicado';
    const r = await this.guardar(cambio, versionEsperada, traza);
    if (!r.ok) return 'conflicto';
    await this.anotar(anotacion);
    return 'aplicado';
  }

  /** Cuenta de pagos por estado, útil en aserciones. */
  contarPorEstado(): Record<EstadoPago, number> {
    const cuenta = Object.fromEntries(EstadoPago.todos.map((e) => [e, 0])) as Record<EstadoPago, number>;
    for (const p of this.pagos.values()) cuenta[p.estado] += 1;
    return cuenta;
  }
}
