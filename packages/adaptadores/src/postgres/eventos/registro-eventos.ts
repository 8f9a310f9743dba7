import type { Ambito, Modo } from '@aeropartners/dominio';
import type { PoolPostgres } from '../pool-postgres.js';

/** Un evento del registro de un socio, ya numerado. */
export interface EventoSocio {
  readonly secuencia: number;
  readonly tipo: string;
  readonly sujeto: string;
  readonly ocurridoEn: Date;
  readonly registradoEn: Date;
  readonly idSolicitud: string | null;
  readonly idTraza: string | null;
  readonly idCorrelacion: string | null;
  readonly datos: Readonly<Record<string, unknown>>;
}

export interface ConsultaEventos {
  /** Solo los de secuencia mayor (0: desde el principio). */
  readonly despuesDe: number;
  /** Tipo exacto (`pago.exitoso`) o familia (`pago.*`). */
  readonly tipo?: string | undefined;
  readonly sujeto?: string | undefined;
  readonly limite: number;
}

export interface PaginaEventos {
  readonly eventos: readonly EventoSocio[];
  /** La secuencia desde la que pedir la página siguiente (la del último evento, o `despuesDe` si no hubo). */
  readonly siguiente: number;
  readonly hayMas: boolean;
}

interface FilaEvento {
  secuencia: string;
  tipo: string;
  sujeto: string;
  ocurrido_en: Date;
  registrado_en: Date;
  id_solicitud: string | null;
  id_traza: string | null;
  id_correlacion: string | null;
  datos: Record<string, unknown>;
}

const SQL_LEER = `
SELECT secuencia::text, tipo, sujeto, ocurrido_en, registrado_en, id_solicitud, id_traza, id_correlacion, datos
FROM eventos_socio
WHERE id_socio = $1 AND modo = $2 AND secuencia > $3
  AND ($4::text IS NULL OR tipo = $4 OR (right($4, 2) = '.*' AND starts_with(tipo, left($4, -1))))
  AND ($5::text IS NULL OR sujeto = $5)
ORDER BY eventos_socio.secuencia
LIMIT $6`;

/** Lee el registro de eventos de un ámbito (socio y modo), en orden de secuencia. */
export class PostgresRegistroEventos {
  readonly #pool: PoolPostgres;

  constructor(opciones: { readonly pool: PoolPostgres }) {
    this.#pool = opciones.pool;
  }

  async leer(ambito: Ambito, consulta: ConsultaEventos): Promise<PaginaEventos> {
    const { rows } = await this.#pool.query<FilaEvento>({
      name: 'eventos-socio-leer',
      text: SQL_LEER,
      values: [
        ambito.idSocio,
        ambito.modo satisfies Modo,
        consulta.despuesDe,
        consulta.tipo ?? null,
        consulta.sujeto ?? null,
        consulta.limite + 1,
      ],
    });
    const hayMas = rows.length > consulta.limite;
    const eventos = rows.slice(0, consulta.limite).map(filaAEvento);
    return { eventos, siguiente: eventos.at(-1)?.secuencia ?? consulta.despuesDe, hayMas };
  }

  /** La última secuencia asignada del ámbito (0 si ninguna): donde empieza un stream sin `Last-Event-ID`. */
  async ultima(ambito: Ambito): Promise<number> {
    const { rows } = await this.#pool.query<{ ultima: string }>({
      name: 'eventos-socio-ultima',
      text: 'SELECT ultima::text FROM eventos_contadores WHERE id_socio = $1 AND modo = $2',
      values: [ambito.idSocio, ambito.modo],
    });
    return Number(rows[0]?.ultima ?? 0);
  }
}

function filaAEvento(f: FilaEvento): EventoSocio {
  return {
    secuencia: Number(f.secuencia),
    tipo: f.tipo,
    sujeto: f.sujeto,
    ocurridoEn: f.ocurrido_en,
    registradoEn: f.registrado_en,
    idSolicitud: f.id_solicitud,
    idTraza: f.id_traza,
    idCorrelacion: f.id_correlacion,
    datos: f.datos,
  };
}
