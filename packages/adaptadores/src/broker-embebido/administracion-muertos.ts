import {
  PROPIEDAD_REENVIADO_DE,
  type AdministracionMensajesMuertos,
  type MensajeMuerto,
  type ResultadoReenvio,
} from '@aeropartners/aplicacion';
import type { PoolPostgres } from '../postgres/pool-postgres.js';
import { CANAL_AVISOS } from './sql-broker.js';

/**
 * Reenvía mensajes muertos del broker embebido: los mueve de `broker.muertos` a `broker.mensajes` de su
 * suscripción (solo a ella, no a todo el tópico) en UNA sentencia: el DELETE decide quién los mueve, así
 * que reenviar dos veces, o a la vez desde dos procesos, no duplica (el segundo no encuentra la fila).
 * Entran como un mensaje nuevo al final de su clave, con las entregas a cero, la misma secuencia de
 * productor (el broker no deduplica en la cola, solo al publicar) y la propiedad `reenviado_de_muerto`.
 * Avisa por NOTIFY, como al publicar. $1 tópico, $2 suscripción, $3 ids (bigint[]) o NULL con $4 = tope
 * para «los `$4` más antiguos».
 */
const SQL_REENVIAR = `
WITH suscripcion AS (
  SELECT id FROM broker.suscripciones WHERE topico = $1 AND nombre = $2
),
elegidos AS (
  SELECT d.id FROM broker.muertos d JOIN suscripcion s ON s.id = d.id_suscripcion
  WHERE $3::bigint[] IS NULL OR d.id = ANY($3::bigint[])
  ORDER BY d.muerto_en, d.id
  LIMIT $4
  FOR UPDATE OF d SKIP LOCKED
),
movidos AS (
  DELETE FROM broker.muertos d USING elegidos e WHERE d.id = e.id
  RETURNING d.*
),
encolados AS (
  INSERT INTO broker.mensajes (id_suscripcion, clave, productor, secuencia, cuerpo, propiedades)
  SELECT id_suscripcion, clave, productor, secuencia, cuerpo,
         propiedades || jsonb_build_object('${PROPIEDAD_REENVIADO_DE}', id::text)
  FROM movidos
  ORDER BY muerto_en, id
  RETURNING 1
)
SELECT m.id::text AS id, CASE WHEN (SELECT count(*) FROM encolados) > 0 THEN pg_notify('${CANAL_AVISOS}', $1) END AS aviso
FROM movidos m
ORDER BY m.muerto_en, m.id`;

/** Los pendientes de una suscripción, del más antiguo al más reciente. $1 tópico, $2 suscripción, $3 tope. */
const SQL_LISTAR = `
SELECT d.id::text AS id, d.clave, d.cuerpo, d.propiedades, d.entregas, d.motivo, d.muerto_en
FROM broker.muertos d
JOIN broker.suscripciones s ON s.id = d.id_suscripcion
WHERE s.topico = $1 AND s.nombre = $2
ORDER BY d.muerto_en, d.id
LIMIT $3`;

/** Mensajes por sentencia de `reenviarTodos`: transacciones cortas aunque haya muchos. */
const LOTE_TODOS = 500;
const LIMITE_LISTADO = 1000;
const ID_MUERTO = /^[1-9][0-9]{0,17}$/;

export interface OpcionesAdministracionMuertosEmbebido {
  /** El pool del broker embebido (o cualquiera sobre la misma base). No se cierra al cerrar. */
  readonly pool: PoolPostgres;
  readonly topico: string;
}

/** Mensajes muertos del broker embebido (`broker.muertos`), para el CLI de operación. */
export class PostgresAdministracionMuertos implements AdministracionMensajesMuertos {
  readonly #pool: PoolPostgres;
  readonly #topico: string;

  constructor(opciones: OpcionesAdministracionMuertosEmbebido) {
    if (opciones.topico.length === 0) throw new Error('El tópico del broker embebido no puede estar vacío');
    this.#pool = opciones.pool;
    this.#topico = opciones.topico;
  }

  async listar(suscripcion: string, opciones: { readonly limite?: number } = {}): Promise<readonly MensajeMuerto[]> {
    const limite = opciones.limite ?? LIMITE_LISTADO;
    if (!Number.isSafeInteger(limite) || limite < 1) throw new RangeError(`limite debe ser un entero ≥ 1 (recibido: ${String(limite)})`);
    const { rows } = await this.#consultar('listar', SQL_LISTAR, [this.#topico, suscripcion, limite]);
    return rows.map((f) => ({
      id: String(f.id),
      suscripcion,
      clave: String(f.clave),
      cuerpo: String(f.cuerpo),
      propiedades: propiedades(f.propiedades),
      motivo: String(f.motivo),
      entregas: Number(f.entregas),
      muertoEn: f.muerto_en instanceof Date ? f.muerto_en : null,
    }));
  }

  async reenviar(suscripcion: string, id: string): Promise<ResultadoReenvio> {
    // Un id que no puede ser de `broker.muertos` (bigint positivo) no está pendiente: ni se pregunta.
    if (!ID_MUERTO.test(id)) return { tipo: 'noPendiente', id };
    const { rows } = await this.#consultar('reenviar', SQL_REENVIAR, [this.#topico, suscripcion, [id], 1]);
    return rows.length > 0 ? { tipo: 'reenviado', id } : { tipo: 'noPendiente', id };
  }

  async reenviarTodos(suscripcion: string): Promise<readonly ResultadoReenvio[]> {
    const hechos: ResultadoReenvio[] = [];
    for (;;) {
      const { rows } = await this.#consultar('reenviar', SQL_REENVIAR, [this.#topico, suscripcion, null, LOTE_TODOS]);
      for (const f of rows) hechos.push({ tipo: 'reenviado', id: String(f.id) });
      if (rows.length < LOTE_TODOS) return hechos;
    }
  }

  async cerrar(): Promise<void> {}

  async #consultar(que: string, texto: string, valores: unknown[]) {
    try {
      return await this.#pool.query(texto, valores);
    } catch (causa) {
      throw new Error(`No se pudieron ${que} los mensajes muertos del tópico «${this.#topico}» en el broker embebido`, { cause: causa });
    }
  }
}

function propiedades(valor: unknown): Record<string, string> {
  const resultado: Record<string, string> = {};
  if (typeof valor === 'object' && valor !== null) {
    for (const [k, v] of Object.entries(valor)) if (typeof v === 'string') resultado[k] = v;
  }
  return resultado;
}
