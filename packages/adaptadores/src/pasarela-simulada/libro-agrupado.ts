import type { SolicitudCobro } from '@aeropartners/dominio';
import { sql, type Kysely } from 'kysely';
import { AgrupadorPorLotes, type Pendiente } from '../postgres/agrupador-por-lotes.js';
import { conReintentos, esErrorDeDatos } from '../postgres/sentencias-escritura.js';
import type { DesenlaceDefinitivo } from './decisiones-simuladas.js';
import { aCargoSimulado, type CargoSimulado, type EsquemaPasarelaSimulada } from './libro-cargos-simulados.js';

interface SolicitudRegistro {
  readonly solicitud: SolicitudCobro;
  readonly desenlace: DesenlaceDefinitivo;
  readonly intento: number;
}
type PendienteBuscar = Pendiente<string, CargoSimulado | undefined>;
type PendienteRegistrar = Pendiente<SolicitudRegistro, boolean>;

export function envolver(operacion: string, error: unknown): Error {
  const detalle = error instanceof Error ? error.message : String(error);
  return new Error(`La pasarela simulada no pudo ${operacion} en su libro de cargos: ${detalle}`, { cause: error });
}

/**
 * Búsquedas y registros en el libro de cargos de la pasarela simulada, agrupados («group commit» del
 * lado del cliente): con un hueco libre, cada llamada sale sola y enseguida (sin temporizadores); con
 * carga, las que esperan comparten una sentencia.
 */
export class LibroAgrupado {
  readonly #db: Kysely<EsquemaPasarelaSimulada>;
  readonly #agrupadorBuscar: AgrupadorPorLotes<string, CargoSimulado | undefined>;
  readonly #agrupadorRegistrar: AgrupadorPorLotes<SolicitudRegistro, boolean>;
  // Por qué falló el registro de la primera solicitud de una clave (para rechazar también sus repetidas).
  readonly #causas = new WeakMap<PendienteRegistrar, unknown>();

  constructor(db: Kysely<EsquemaPasarelaSimulada>, agrupacion: { readonly enVueloMaximo: number; readonly loteMaximo: number }) {
    this.#db = db;
    this.#agrupadorBuscar = new AgrupadorPorLotes(agrupacion, (lote) => this.#buscarLote(lote));
    this.#agrupadorRegistrar = new AgrupadorPorLotes(agrupacion, (lote) => this.#registrarLote(lote));
  }

  buscar(clave: string): Promise<CargoSimulado | undefined> {
    return this.#agrupadorBuscar.enviar(clave);
  }

  /** `true` si esta llamada registró el desenlace; `false` si la clave ya tenía uno. */
  registrar(solicitud: SolicitudCobro, desenlace: DesenlaceDefinitivo, intento: number): Promise<boolean> {
    return this.#agrupadorRegistrar.enviar({ solicitud, desenlace, intento });
  }

  /** Un lote de búsquedas: una sentencia (`= ANY`) para todas las claves distintas del lote. */
  async #buscarLote(lote: readonly PendienteBuscar[]): Promise<void> {
    const claves = [...new Set(lote.map((p) => p.entrada))];
    let porClave: Map<string, CargoSimulado>;
    try {
      const { rows } = await sql<Parameters<typeof aCargoSimulado>[0]>`
        SELECT * FROM pasarela_simulada.cargos WHERE clave_idempotencia = ANY(${claves}::text[])`.execute(this.#db);
      porClave = new Map(rows.map((f) => [f.clave_idempotencia, aCargoSimulado(f)]));
    } catch (causa) {
      if (claves.length > 1 && esErrorDeDatos(causa)) {
        // Una clave imposible no hace fallar a las demás: cada una por su cuenta.
        await Promise.all(claves.map((clave) => this.#buscarLote(lote.filter((p) => p.entrada === clave))));
        return;
      }
      for (const p of lote) p.rechazar(envolver(`buscar la clave ${p.entrada}`, causa));
      return;
    }
    for (const p of lote) p.resolver(porClave.get(p.entrada));
  }

  /**
   * Un lote de registros: un `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING` con la
   * primera solicitud de cada clave. Las repetidas del mismo lote pierden la carrera (exactamente una
   * registra) y quien llamó busca después la fila ganadora, como si hubiera perdido contra otro proceso.
   */
  async #registrarLote(lote: readonly PendienteRegistrar[]): Promise<void> {
    const primeras = new Map<string, PendienteRegistrar>();
    for (const p of lote) {
      const clave = p.entrada.solicitud.claveIdempotencia;
      if (!primeras.has(clave)) primeras.set(clave, p);
    }
    const unicas = [...primeras.values()];
    await this.#registrarUnicas(unicas);
    for (const p of lote) {
      if (p.respondido) continue;
      const clave = p.entrada.solicitud.claveIdempotencia;
      const primera = primeras.get(clave)!;
      const causa = this.#causas.get(primera);
      if (causa !== undefined) {
        p.rechazar(envolver(`registrar el cobro del pago ${p.entrada.solicitud.idPago}`, causa));
      } else {
        p.resolver(false);
      }
    }
    for (const p of unicas) this.#causas.delete(p);
  }

  async #registrarUnicas(unicas: readonly PendienteRegistrar[]): Promise<void> {
    // Orden fijo por clave: dos procesos que insertan lotes solapados no se interbloquean.
    const orden = [...unicas].sort((a, b) => {
      const x = a.entrada.solicitud.claveIdempotencia;
      const y = b.entrada.solicitud.claveIdempotencia;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    let registradas: Set<string>;
    try {
      const e = orden.map((p) => p.entrada);
      const claves = e.map((x) => x.solicitud.claveIdempotencia);
      const idsPago = e.map((x) => x.solicitud.idPago);
      const resultados = e.map((x) => x.desenlace.tipo);
      const referencias = e.map((x) => (x.desenlace.tipo === 'exitoso' ? x.desenlace.referenciaTransaccion : null));
      const mensajes = e.map((x) => (x.desenlace.tipo === 'rechazado' ? x.desenlace.mensaje : null));
      const unidades = e.map((x) => x.solicitud.monto.unidadesMenores);
      const monedas = e.map((x) => x.solicitud.monto.moneda);
      const intentos = e.map((x) => x.intento);
      const correlaciones = e.map((x) => x.solicitud.traza.idCorrelacion);
      const { rows } = await conReintentos(() =>
        sql<{ clave_idempotencia: string }>`
          INSERT INTO pasarela_simulada.cargos (clave_idempotencia, id_pago, resultado, referencia_transaccion, mensaje,
                                                unidades_menores, moneda, intentos, id_correlacion)
          SELECT clave_idempotencia, id_pago, resultado, referencia_transaccion, mensaje, unidades_menores, moneda,
                 intentos, id_correlacion
          FROM unnest(${claves}::text[], ${idsPago}::uuid[], ${resultados}::text[], ${referencias}::text[],
                      ${mensajes}::text[], ${unidades}::int8[], ${monedas}::text[], ${intentos}::int4[],
                      ${correlaciones}::text[]) WITH ORDINALITY
            AS v(clave_idempotencia, id_pago, resultado, referencia_transaccion, mensaje, unidades_menores, moneda,
                 intentos, id_correlacion, orden)
          ORDER BY orden
          ON CONFLICT (clave_idempotencia) DO NOTHING
          RETURNING clave_idempotencia`.execute(this.#db),
      );
      registradas = new Set(rows.map((r) => r.clave_idempotencia));
    } catch (causa) {
      if (orden.length > 1 && esErrorDeDatos(causa)) {
        // Una fila imposible no hace fallar a las demás: cada una en su propia sentencia.
        await Promise.all(orden.map((p) => this.#registrarUnicas([p])));
        return;
      }
      for (const p of orden) {
        this.#causas.set(p, causa);
        p.rechazar(envolver(`registrar el cobro del pago ${p.entrada.solicitud.idPago}`, causa));
      }
      return;
    }
    for (const p of orden) p.resolver(registradas.has(p.entrada.solicitud.claveIdempotencia));
  }
}
