import type { Modo } from '@aeropartners/dominio';
import type { EtapaDuplicados } from '../../observabilidad/metricas.js';
import type { PoolPostgres } from '../pool-postgres.js';

/**
 * Un duplicado absorbido: en qué etapa, con qué clave, de qué socio y sobre qué sujeto. Sin socio ni modo
 * (el mensaje que lo detectó no los lleva: `PagoExitoso`, `PagoFallido`, una llamada a la pasarela), el
 * sujeto es un id de pago y el ámbito se lee de `pagos` al escribir el lote (decisión 0153).
 */
export type DuplicadoAbsorbido = {
  /** Las etapas de las métricas (`aeropartners_pagos_duplicados_absorbidos_total{etapa}`, decisión 0074). */
  readonly etapa: EtapaDuplicados;
  readonly clave: string;
  readonly sujeto: string;
  readonly idSolicitud?: string | null | undefined;
  readonly idTraza?: string | null | undefined;
} & ({ readonly idSocio: string; readonly modo: Modo } | { readonly idSocio?: undefined; readonly modo?: undefined });

/**
 * El lote en una sentencia. Las filas sin ámbito lo toman de su pago (por la clave primaria, solo para
 * ellas); las que no tienen pago se descartan (`sinAmbito`): un duplicado no se atribuye a ningún socio
 * por conjetura.
 */
const SQL_INSERTAR = `
INSERT INTO duplicados_absorbidos (id_socio, modo, etapa, clave, sujeto, ocurrido_en, id_solicitud, id_traza, veces)
SELECT coalesce(v.id_socio, p.id_socio), coalesce(v.modo, p.modo), v.etapa, v.clave, v.sujeto, v.ocurrido_en, v.id_solicitud,
       v.id_traza, v.veces
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[], $9::int4[])
       AS v(id_socio, modo, etapa, clave, sujeto, ocurrido_en, id_solicitud, id_traza, veces)
  LEFT JOIN pagos p ON v.id_socio IS NULL
    AND p.id = CASE WHEN v.sujeto ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN v.sujeto::uuid END
WHERE coalesce(v.id_socio, p.id_socio) IS NOT NULL`;

export interface OpcionesRegistradorDuplicados {
  readonly pool: PoolPostgres;
  /** Cada cuánto se escribe lo acumulado (un INSERT por lote). Por defecto 250 ms. */
  readonly intervaloMs?: number;
  /** Entradas distintas como mucho en memoria; las que no caben se cuentan en `descartados`. Por defecto 10 000. */
  readonly capacidad?: number;
  readonly alError?: (error: Error) => void;
}

interface Acumulado {
  readonly duplicado: DuplicadoAbsorbido;
  readonly ocurridoEn: Date;
  veces: number;
}

/**
 * Registra duplicados absorbidos por lotes asíncronos (decisión 0163): `anotar` solo toca memoria (el
 * camino caliente no espera a la base), las repeticiones de la misma clave se suman en una fila
 * (`veces`), y un temporizador inserta lo acumulado. Memoria acotada: pasada la capacidad se descarta
 * y se cuenta. Un fallo de la escritura vuelve a poner el lote en cola (si cabe) y se avisa.
 */
export class RegistradorDuplicados {
  readonly #pool: PoolPostgres;
  readonly #capacidad: number;
  readonly #alError: ((error: Error) => void) | undefined;
  #pendientes = new Map<string, Acumulado>();
  #temporizador: NodeJS.Timeout;
  #escribiendo: Promise<void> = Promise.resolve();
  descartados = 0;
  /** Entradas sin socio cuyo sujeto no es un pago: no se escriben. */
  sinAmbito = 0;

  constructor(opciones: OpcionesRegistradorDuplicados) {
    this.#pool = opciones.pool;
    this.#capacidad = opciones.capacidad ?? 10_000;
    this.#alError = opciones.alError;
    this.#temporizador = setInterval(() => void this.vaciar(), opciones.intervaloMs ?? 250);
    this.#temporizador.unref();
  }

  anotar(duplicado: DuplicadoAbsorbido): void {
    const clave = `${duplicado.idSocio ?? ''}\u0000${duplicado.modo ?? ''}\u0000${duplicado.etapa}\u0000${duplicado.clave}\u0000${duplicado.sujeto}`;
    const previo = this.#pendientes.get(clave);
    if (previo) {
      previo.veces += 1;
      return;
    }
    if (this.#pendientes.size >= this.#capacidad) {
      this.descartados += 1;
      return;
    }
    this.#pendientes.set(clave, { duplicado, ocurridoEn: new Date(), veces: 1 });
  }

  /** Escribe lo acumulado (las llamadas se encadenan: nunca dos INSERT a la vez). */
  vaciar(): Promise<void> {
    this.#escribiendo = this.#escribiendo.then(() => this.#escribir());
    return this.#escribiendo;
  }

  async cerrar(): Promise<void> {
    clearInterval(this.#temporizador);
    await this.vaciar();
  }

  async #escribir(): Promise<void> {
    if (this.#pendientes.size === 0) return;
    const lote = [...this.#pendientes.values()];
    this.#pendientes = new Map();
    const col = <T>(f: (a: Acumulado) => T) => lote.map(f);
    try {
      const { rowCount } = await this.#pool.query({
        name: 'duplicados-absorbidos-insertar',
        text: SQL_INSERTAR,
        values: [
          col((a) => a.duplicado.idSocio ?? null),
          col((a) => a.duplicado.modo ?? null),
          col((a) => a.duplicado.etapa),
          col((a) => a.duplicado.clave),
          col((a) => a.duplicado.sujeto),
          col((a) => a.ocurridoEn),
          col((a) => a.duplicado.idSolicitud ?? null),
          col((a) => a.duplicado.idTraza ?? null),
          col((a) => a.veces),
        ],
      });
      this.sinAmbito += lote.length - (rowCount ?? lote.length);
    } catch (error) {
      for (const a of lote) {
        if (this.#pendientes.size >= this.#capacidad) this.descartados += a.veces;
        else this.#pendientes.set(`${this.#pendientes.size}\u0001${a.duplicado.clave}`, a);
      }
      this.#alError?.(new Error('No se pudieron registrar los duplicados absorbidos (se reintentan)', { cause: error }));
    }
  }
}
