import type { TurnoCobro, TurnosCobro } from '@aeropartners/aplicacion';
import type { CambioPago, ConflictoDeVersion, Pago, Resultado, Trazabilidad } from '@aeropartners/dominio';
import { esUuid } from '../ids/uuidv7.js';
import { AgrupadorPorLotes, type Pendiente } from './agrupador-por-lotes.js';
import type { PoolPostgres } from './pool-postgres.js';
import type { PostgresRepositorioPagos } from './postgres-repositorio-pagos.js';
import { conReintentos, rondasSinRepetir } from './sentencias-escritura.js';

/**
 * Toma (o renueva) turnos de cobro en una sentencia para un lote de pagos DISTINTOS. Un turno se toma si
 * el pago está en PROCESANDO y no hay otro vigente (o es del mismo titular). La consulta final ve la
 * instantánea previa a la actualización: para lo no tomado, devuelve el estado y el turno que lo impidió.
 * $1 ids, $2 titulares, $3 duraciones en ms.
 */
const SQL_TOMAR = `
WITH pedidos AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::int4[]) AS p(id, titular, ms)
),
tomados AS (
  UPDATE pagos g
  SET turno_titular = p.titular, turno_hasta = clock_timestamp() + make_interval(secs => p.ms / 1000.0)
  FROM pedidos p
  WHERE g.id = p.id AND g.estado = 'PROCESANDO'
    AND (g.turno_hasta IS NULL OR g.turno_hasta <= clock_timestamp() OR g.turno_titular = p.titular)
  RETURNING g.id
)
SELECT p.id::text AS id, t.id IS NOT NULL AS tomado, g.estado,
       greatest(0, ceil(extract(epoch FROM (g.turno_hasta - clock_timestamp())) * 1000))::int AS restante_ms
FROM pedidos p
LEFT JOIN tomados t ON t.id = p.id
LEFT JOIN pagos g ON g.id = p.id`;

/** Suelta el turno si sigue siendo del titular. $1 id, $2 titular. */
const SQL_SOLTAR = `
UPDATE pagos SET turno_titular = NULL, turno_hasta = NULL WHERE id = $1 AND turno_titular = $2`;

interface PedidoTurno {
  readonly idPago: string;
  readonly titular: string;
  readonly duracionMs: number;
}
type PendienteTurno = Pendiente<PedidoTurno, TurnoCobro>;

export interface OpcionesTurnosCobro {
  /** Sentencias agrupadas en vuelo a la vez. Por defecto 1. */
  readonly enVueloMaximo?: number;
  /** Pedidos como máximo por sentencia. Por defecto 500. */
  readonly loteMaximo?: number;
}

/**
 * Turnos de cobro en la tabla `pagos` (columnas `turno_titular`, `turno_hasta`), con `pg` directo. Las
 * tomas concurrentes se agrupan en una sentencia (como las escrituras del consumidor); dos pedidos del
 * mismo pago van en sentencias sucesivas. El reloj es el de PostgreSQL: los consumidores no necesitan
 * relojes sincronizados.
 */
export class PostgresTurnosCobro implements TurnosCobro {
  readonly #pool: PoolPostgres;
  readonly #repositorio: PostgresRepositorioPagos;
  readonly #agrupador: AgrupadorPorLotes<PedidoTurno, TurnoCobro>;

  /** `repositorio`: el de los pagos (el paso a PROCESANDO y el turno van en su sentencia agrupada de transiciones). */
  constructor(pool: PoolPostgres, repositorio: PostgresRepositorioPagos, opciones: OpcionesTurnosCobro = {}) {
    this.#pool = pool;
    this.#repositorio = repositorio;
    this.#agrupador = new AgrupadorPorLotes(
      { enVueloMaximo: opciones.enVueloMaximo ?? 1, loteMaximo: opciones.loteMaximo ?? 500 },
      (lote) => this.#tomarLote(lote),
    );
  }

  iniciar(
    cambio: CambioPago,
    versionEsperada: number,
    traza: Trazabilidad,
    titular: string,
    duracionMs: number,
  ): Promise<Resultado<Pago, ConflictoDeVersion>> {
    comprobarDuracion(duracionMs);
    return this.#repositorio.guardarConTurno(cambio, versionEsperada, traza, { titular, duracionMs });
  }

  tomar(idPago: string, titular: string, duracionMs: number): Promise<TurnoCobro> {
    if (!esUuid(idPago)) return Promise.resolve({ tomado: false, motivo: 'noProcesando' });
    try {
      comprobarDuracion(duracionMs);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#agrupador.enviar({ idPago, titular, duracionMs });
  }

  async soltar(idPago: string, titular: string): Promise<void> {
    if (!esUuid(idPago)) return;
    await this.#pool.query({ name: 'turno_soltar_v1', text: SQL_SOLTAR, values: [idPago, titular] });
  }

  /** Espera a que se respondan los pedidos en curso. */
  vaciar(): Promise<void> {
    return this.#agrupador.vaciar();
  }

  async #tomarLote(lote: readonly PendienteTurno[]): Promise<void> {
    for (const ronda of rondasSinRepetir(lote, (p) => [p.entrada.idPago.toLowerCase()])) {
      try {
        const { rows } = await conReintentos(() =>
          this.#pool.query<{ id: string; tomado: boolean; estado: string | null; restante_ms: number | null }>({
            name: 'turno_tomar_lote_v1',
            text: SQL_TOMAR,
            values: [ronda.map((p) => p.entrada.idPago), ronda.map((p) => p.entrada.titular), ronda.map((p) => p.entrada.duracionMs)],
          }),
        );
        const porId = new Map(rows.map((f) => [f.id.toLowerCase(), f]));
        for (const p of ronda) {
          const f = porId.get(p.entrada.idPago.toLowerCase());
          if (f?.tomado) p.resolver({ tomado: true });
          else if (f?.estado === 'PROCESANDO')
            p.resolver({ tomado: false, motivo: 'ocupado', restanteMs: Math.max(1, f.restante_ms ?? 1) });
          else p.resolver({ tomado: false, motivo: 'noProcesando' });
        }
      } catch (causa) {
        const error = new Error(`No se pudieron tomar ${ronda.length} turno(s) de cobro en PostgreSQL`, { cause: causa });
        for (const p of ronda) p.rechazar(error);
      }
    }
  }
}

function comprobarDuracion(duracionMs: number): void {
  if (!Number.isSafeInteger(duracionMs) || duracionMs < 1 || duracionMs > 2_000_000_000) {
    throw new RangeError(`duración de turno inválida: ${duracionMs} ms`);
  }
}
