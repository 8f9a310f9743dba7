import type {
  AlmacenComisiones,
  DecisionHecho,
  DesenlaceAplicacion,
  EscrituraCierre,
  HechoParaRegistrar,
  LecturaCierre,
  LecturaConversion,
  ResultadoRegistroHecho,
} from '@aeropartners/aplicacion';
import {
  Comision,
  type Ambito,
  type Asiento,
  type CambioPago,
  type DesenlacePago,
  type Liquidacion,
  type Modo,
  type ReglaComision,
  type Trazabilidad,
} from '@aeropartners/dominio';
import type { ClientePostgres, PoolPostgres } from '../pool-postgres.js';
import { eventoAFila } from '../serializacion-eventos.js';
import {
  COLUMNAS_AJUSTE,
  COLUMNAS_COMISION,
  SQL_GUARDAR_COMISION,
  SQL_INSERTAR_AJUSTE,
  ajusteDeFila,
  comisionDeFila,
  hechoDeFila,
  idAgregadoConversion,
  insertarApuntes,
  liquidacionDeFilas,
  parametrosAjuste,
  parametrosApuntes,
  parametrosComision,
  reglaAJson,
  reglaDeJson,
  type FilaAjuste,
  type FilaComision,
  type FilaHecho,
  type FilaLiquidacion,
  type FilaPartida,
} from './filas.js';
import { RegistroHechosPorLotes, type OpcionesRegistroHechos } from './registro-hechos-por-lotes.js';

export { TIPO_EVENTO_HECHO } from './registro-hechos-por-lotes.js';

const COLUMNAS_HECHO = `h.id_socio, h.id_evento, h.id_conversion, h.tipo, h.id_afiliado, h.monto_unidades::text AS monto_unidades,
  h.moneda, h.ocurrido_en, h.version::text AS version, h.motivo`;

/**
 * Crea una liquidación en UNA sentencia: bloquea sus partidas y comprueba que siguen libres, con el mismo
 * importe y pagables; si todas lo están, inserta la liquidación (por id: `ON CONFLICT DO NOTHING`), sus
 * partidas (el índice único parcial impide una partida en dos liquidaciones vivas), marca comisiones y
 * ajustes, crea el `Pago` con su outbox e historial (el camino normal de los pagos) y anota el asiento.
 */
const SQL_CREAR_LIQUIDACION = `
WITH partidas AS (
  SELECT * FROM unnest($10::text[], $11::text[], $12::text[], $13::text[], $14::int8[]) AS p(id, tipo, id_comision, id_conversion, unidades)
),
comisiones_libres AS (
  SELECT c.id FROM comisiones c JOIN partidas p ON p.id = c.id AND p.tipo = 'comision'
  WHERE c.modo = $1 AND c.id_liquidacion IS NULL AND c.estado_conversion = 'APROBADA' AND c.unidades = p.unidades
    AND c.pagable_desde <= $7
  ORDER BY c.id
  FOR UPDATE OF c
),
ajustes_libres AS (
  SELECT a.id FROM ajustes_comision a JOIN partidas p ON p.id = a.id AND p.tipo = a.tipo
  WHERE a.modo = $1 AND a.id_liquidacion IS NULL AND a.unidades = p.unidades
  ORDER BY a.id
  FOR UPDATE OF a
),
valida AS (
  SELECT 1 AS ok WHERE (SELECT count(*) FROM comisiones_libres) + (SELECT count(*) FROM ajustes_libres) = (SELECT count(*) FROM partidas)
),
liq AS (
  INSERT INTO liquidaciones (modo, id, id_socio, id_afiliado, moneda, id_ejecucion, creada_en, estado, neto_unidades, id_pago)
  SELECT $1, $2, $3, $4, $5, $6, $7, 'EN_CURSO', $8, $9::uuid FROM valida
  ON CONFLICT (modo, id) DO NOTHING
  RETURNING id
),
en_partidas AS (
  INSERT INTO partidas_liquidacion (modo, id_liquidacion, id_partida, tipo, id_comision, id_conversion, unidades)
  SELECT $1, liq.id, p.id, p.tipo, p.id_comision, p.id_conversion, p.unidades FROM partidas p CROSS JOIN liq
),
marcar_comisiones AS (
  UPDATE comisiones c
  SET id_liquidacion = liq.id, liquidacion_estado = 'EN_CURSO', liquidacion_unidades = c.unidades, estado = 'EN_LIQUIDACION',
      actualizada_en = now()
  FROM liq
  WHERE c.modo = $1 AND c.id IN (SELECT id FROM comisiones_libres)
),
marcar_ajustes AS (
  UPDATE ajustes_comision a SET id_liquidacion = liq.id, liquidacion_estado = 'EN_CURSO'
  FROM liq
  WHERE a.modo = $1 AND a.id IN (SELECT id FROM ajustes_libres)
),
pago AS (
  INSERT INTO pagos (id, id_socio, modo, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version,
                     fecha_creacion, fecha_actualizacion)
  SELECT $9::uuid, $3, $1, $2, $4, $8, $5, $2, 'PENDIENTE', 1, $7, $7 FROM liq
  ON CONFLICT DO NOTHING
  RETURNING id
),
en_outbox AS (
  INSERT INTO outbox (id_evento, id_agregado, version_agregado, tipo, payload, metadatos)
  SELECT $15::uuid, pago.id, 1, $16, $17::jsonb, $18::jsonb FROM pago
),
en_historial AS (
  INSERT INTO historial_pagos (id_pago, version, estado, tipo_evento, id_evento, ocurrido_en, id_correlacion)
  SELECT pago.id, 1, 'PENDIENTE', $16, $15::uuid, $7, $19 FROM pago
),
apuntes AS (
  INSERT INTO apuntes_libro (modo, id, id_asiento, id_socio, id_afiliado, moneda, cuenta, lado, unidades)
  SELECT $1, x.* FROM unnest($20::text[], $21::text[], $22::text[], $23::text[], $24::text[], $25::text[], $26::text[], $27::int8[]) AS x
  WHERE EXISTS (SELECT 1 FROM liq)
  ON CONFLICT (modo, id) DO NOTHING
)
SELECT (SELECT count(*) FROM liq)::int AS creada`;

interface FilaConversionBloqueada {
  estado: string;
}

/** Un error de la base que significa «otra transacción ganó la carrera»: la operación no escribió nada. */
function esCarrera(error: unknown): boolean {
  const codigo = (error as { code?: unknown } | null)?.code;
  return codigo === '23505' || codigo === '40P01' || codigo === '40001';
}

export class PostgresAlmacenComisiones implements AlmacenComisiones {
  /** El registro agrupado de hechos (`registrarHecho`), con sus métricas. */
  readonly registro: RegistroHechosPorLotes;

  constructor(
    private readonly pool: PoolPostgres,
    opciones: OpcionesRegistroHechos = {},
  ) {
    this.registro = new RegistroHechosPorLotes(pool, opciones);
  }

  private async enTransaccion<T>(trabajo: (cliente: ClientePostgres) => Promise<T>): Promise<T> {
    const cliente = await this.pool.connect();
    try {
      await cliente.query('BEGIN');
      const r = await trabajo(cliente);
      await cliente.query('COMMIT');
      return r;
    } catch (error) {
      await cliente.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      cliente.release();
    }
  }

  /**
   * Guarda el hecho, su evento de outbox y su historial: las llamadas concurrentes se agrupan en una sentencia
   * por lote (`RegistroHechosPorLotes`) y cada una se responde tras el commit de la suya.
   */
  registrarHecho(registro: HechoParaRegistrar, traza: Trazabilidad): Promise<ResultadoRegistroHecho> {
    return this.registro.registrar(registro, traza);
  }

  async aplicarHecho(
    ambito: Ambito,
    idEvento: string,
    decidir: (lectura: LecturaConversion) => DecisionHecho,
  ): Promise<DesenlaceAplicacion> {
    const { idSocio, modo } = ambito;
    return this.enTransaccion(async (c) => {
      const leido = await c.query<FilaHecho & { aplicado_en: Date | null }>(
        `SELECT ${COLUMNAS_HECHO}, h.aplicado_en FROM hechos_conversion h WHERE h.id_socio = $1 AND h.modo = $2 AND h.id_evento = $3`,
        [idSocio, modo, idEvento],
      );
      const filaHecho = leido.rows[0];
      if (!filaHecho) return { tipo: 'hechoInexistente' } as const;
      const hecho = hechoDeFila(filaHecho);
      const idConversion = hecho.idConversion;
      // La fila de la conversión es su cerrojo: todo lo de una conversión se aplica de uno en uno.
      await c.query(
        `INSERT INTO conversiones (id_socio, modo, id_conversion, id_agregado, estado) VALUES ($1, $2, $3, $4, 'ESPERANDO_CONVERSION')
         ON CONFLICT (id_socio, modo, id_conversion) DO NOTHING`,
        [idSocio, modo, idConversion, idAgregadoConversion(idSocio, modo, idConversion)],
      );
      await c.query<FilaConversionBloqueada>(
        'SELECT estado FROM conversiones WHERE id_socio = $1 AND modo = $2 AND id_conversion = $3 FOR UPDATE',
        [idSocio, modo, idConversion],
      );
      const yaAplicado = (
        await c.query<{ aplicado: boolean }>(
          'SELECT aplicado_en IS NOT NULL AS aplicado FROM hechos_conversion WHERE id_socio = $1 AND modo = $2 AND id_evento = $3',
          [idSocio, modo, idEvento],
        )
      ).rows[0]?.aplicado;
      const idComision = Comision.id(idSocio, idConversion);
      const aplicados = await c.query<FilaHecho>(
        `SELECT ${COLUMNAS_HECHO} FROM hechos_conversion h
           WHERE h.id_socio = $1 AND h.modo = $2 AND h.id_conversion = $3 AND h.aplicado_en IS NOT NULL AND h.id_evento <> $4
           ORDER BY h.orden`,
        [idSocio, modo, idConversion, idEvento],
      );
      const comision = await c.query<FilaComision>(
        `SELECT ${COLUMNAS_COMISION} FROM comisiones c WHERE c.modo = $1 AND c.id = $2 FOR UPDATE`,
        [modo, idComision],
      );
      const ajustes = await c.query<FilaAjuste>(
        `SELECT ${COLUMNAS_AJUSTE} FROM ajustes_comision a WHERE a.modo = $1 AND a.id_comision = $2 ORDER BY a.id`,
        [modo, idComision],
      );
      const reglas = await c.query<{ regla: Parameters<typeof reglaDeJson>[0] }>('SELECT regla FROM reglas_comision WHERE id_socio = $1', [
        idSocio,
      ]);
      const filaComision = comision.rows[0];
      const decision = decidir({
        hecho,
        yaAplicado: yaAplicado === true,
        aplicados: aplicados.rows.map(hechoDeFila),
        comision: filaComision ? comisionDeFila(filaComision) : null,
        ajustes: ajustes.rows.map(ajusteDeFila),
        reglas: reglas.rows.map((r) => reglaDeJson(r.regla)),
      });
      if (decision.tipo === 'duplicado' || decision.tipo === 'rechazado') return decision;

      const { conversion } = decision;
      await c.query(
        `UPDATE conversiones SET estado = $4, bloqueada = $5, conflictos = $6::jsonb, id_afiliado = $7, venta_unidades = $8, moneda = $9,
           creada_en = $10, actualizada_en = now()
         WHERE id_socio = $1 AND modo = $2 AND id_conversion = $3`,
        [
          idSocio,
          modo,
          idConversion,
          conversion.estado,
          conversion.bloqueada,
          JSON.stringify(conversion.conflictos),
          conversion.idAfiliado,
          conversion.venta?.unidadesMenores ?? null,
          conversion.venta?.moneda ?? null,
          conversion.creadaEn,
        ],
      );
      await c.query('UPDATE hechos_conversion SET aplicado_en = now() WHERE id_socio = $1 AND modo = $2 AND id_evento = $3', [
        idSocio,
        modo,
        idEvento,
      ]);
      let detalle: Record<string, unknown> = { bloqueada: conversion.bloqueada };
      if (decision.tipo === 'aplicar') {
        if (decision.comision) await c.query(SQL_GUARDAR_COMISION, [modo, ...parametrosComision(decision.comision)]);
        if (decision.ajuste) await c.query(SQL_INSERTAR_AJUSTE, [modo, ...parametrosAjuste(decision.ajuste)]);
        await this.anotar(c, modo, decision.asiento);
        detalle = {
          ...detalle,
          comision: decision.comision ? { unidades: decision.comision.unidadesMenores, estado: decision.comision.estado } : null,
          ajuste: decision.ajuste ? { tipo: decision.ajuste.tipo, unidades: decision.ajuste.unidadesMenores } : null,
        };
      }
      await c.query(
        `INSERT INTO historial_conversiones (id_socio, modo, id_conversion, id_evento, tipo, estado, detalle, id_correlacion)
         SELECT $1, $2, $3, $4, 'HechoAplicado', $5, $6::jsonb, id_correlacion
         FROM hechos_conversion WHERE id_socio = $1 AND modo = $2 AND id_evento = $4`,
        [idSocio, modo, idConversion, idEvento, conversion.estado, JSON.stringify(detalle)],
      );
      return decision;
    });
  }

  private async anotar(c: ClientePostgres, modo: Modo, asiento: Asiento | null): Promise<void> {
    if (asiento === null || asiento.apuntes.length === 0) return;
    await c.query(insertarApuntes(2), [modo, ...parametrosApuntes(asiento.apuntes)]);
  }

  async marcarHuerfanas(esperaMaximaMs: number): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `WITH marcadas AS (
         UPDATE conversiones SET huerfana_en = now()
         WHERE estado = 'ESPERANDO_CONVERSION' AND huerfana_en IS NULL AND esperando_desde < now() - make_interval(secs => $1::float8 / 1000)
         RETURNING id_socio, modo, id_conversion
       ),
       historial AS (
         INSERT INTO historial_conversiones (id_socio, modo, id_conversion, tipo, estado, id_correlacion)
         SELECT id_socio, modo, id_conversion, 'ConversionHuerfana', 'ESPERANDO_CONVERSION', 'marcado-huerfanas' FROM marcadas
       )
       SELECT count(*)::int AS n FROM marcadas`,
      [esperaMaximaMs],
    );
    return rows[0]?.n ?? 0;
  }

  async reglas(): Promise<readonly ReglaComision[]> {
    const { rows } = await this.pool.query<{ regla: Parameters<typeof reglaDeJson>[0] }>('SELECT regla FROM reglas_comision');
    return rows.map((r) => reglaDeJson(r.regla));
  }

  async guardarRegla(idSocio: string, crear: (version: number) => ReglaComision | Error): Promise<ReglaComision> {
    return this.enTransaccion(async (c) => {
      // Un socio a la vez: dos reglas nuevas simultáneas no pueden tomar la misma versión.
      await c.query(`SELECT pg_advisory_xact_lock(hashtextextended('reglas_comision:' || $1::text, 0))`, [idSocio]);
      const { rows } = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM reglas_comision WHERE id_socio = $1', [idSocio]);
      const regla = crear((rows[0]?.v ?? 0) + 1);
      if (regla instanceof Error) throw regla;
      await c.query('INSERT INTO reglas_comision (id_socio, version, vigente_desde, regla) VALUES ($1, $2, $3, $4::jsonb)', [
        regla.idSocio,
        regla.version,
        regla.vigenteDesde,
        JSON.stringify(reglaAJson(regla)),
      ]);
      return regla;
    });
  }

  async candidatas(modo: Modo, ahora: Date) {
    const [comisiones, ajustes] = await Promise.all([
      this.pool.query<FilaComision>(
        `SELECT ${COLUMNAS_COMISION} FROM comisiones c
         WHERE c.modo = $1 AND c.estado = 'APROBADA' AND c.id_liquidacion IS NULL AND c.pagable_desde <= $2`,
        [modo, ahora],
      ),
      this.pool.query<FilaAjuste>(`SELECT ${COLUMNAS_AJUSTE} FROM ajustes_comision a WHERE a.modo = $1 AND a.id_liquidacion IS NULL`, [
        modo,
      ]),
    ]);
    return { comisiones: comisiones.rows.map(comisionDeFila), ajustes: ajustes.rows.map(ajusteDeFila) };
  }

  async crearLiquidacion(modo: Modo, l: Liquidacion, pago: CambioPago, asiento: Asiento | null, traza: Trazabilidad): Promise<boolean> {
    const evento = pago.eventos[0];
    if (evento?.tipo !== 'PagoPendiente') throw new Error(`El pago de ${l.id} no trae su evento PagoPendiente`);
    if (pago.pago.modo !== modo) throw new Error(`El pago de ${l.id} es de modo ${pago.pago.modo}, no ${modo}`);
    const fila = eventoAFila(evento, traza);
    const apuntes = asiento?.apuntes ?? [];
    const valores = [
      modo,
      l.id,
      l.idSocio,
      l.idAfiliado,
      l.moneda,
      l.idEjecucion,
      l.creadaEn,
      l.netoUnidadesMenores,
      pago.pago.id,
      l.partidas.map((p) => p.id),
      l.partidas.map((p) => p.tipo),
      l.partidas.map((p) => p.idComision),
      l.partidas.map((p) => p.idConversion),
      l.partidas.map((p) => p.unidadesMenores),
      fila.id_evento,
      fila.tipo,
      JSON.stringify(fila.payload),
      JSON.stringify(fila.metadatos),
      traza.idCorrelacion,
      ...parametrosApuntes(apuntes),
    ];
    try {
      const { rows } = await this.pool.query<{ creada: number }>({
        name: 'crear_liquidacion',
        text: SQL_CREAR_LIQUIDACION,
        values: valores,
      });
      return rows[0]?.creada === 1;
    } catch (error) {
      // El índice único parcial (una partida en dos liquidaciones vivas) o un interbloqueo: no se escribió nada.
      if (esCarrera(error)) return false;
      throw error;
    }
  }

  async liquidacionesTerminadas(modo: Modo) {
    const { rows } = await this.pool.query<{ id: string; estado: DesenlacePago }>(
      `SELECT l.id, p.estado FROM liquidaciones l JOIN pagos p ON p.id = l.id_pago
       WHERE l.modo = $1 AND l.estado = 'EN_CURSO' AND p.estado IN ('EXITOSO', 'FALLIDO')
       ORDER BY l.id`,
      [modo],
    );
    return rows.map((r) => ({ idLiquidacion: r.id, desenlace: r.estado }));
  }

  async cerrarLiquidacion(modo: Modo, idLiquidacion: string, decidir: (lectura: LecturaCierre) => EscrituraCierre): Promise<boolean> {
    return this.enTransaccion(async (c) => {
      const filaLiq = (
        await c.query<FilaLiquidacion & { neto_unidades: string; id_pago: string }>(
          `SELECT id, id_socio, id_afiliado, moneda, id_ejecucion, creada_en, estado, neto_unidades::text AS neto_unidades, id_pago::text AS id_pago
           FROM liquidaciones WHERE modo = $1 AND id = $2 AND estado = 'EN_CURSO' FOR UPDATE`,
          [modo, idLiquidacion],
        )
      ).rows[0];
      if (!filaLiq) return false;
      const estadoPago = (await c.query<{ estado: string }>('SELECT estado FROM pagos WHERE id = $1', [filaLiq.id_pago])).rows[0]?.estado;
      if (estadoPago !== 'EXITOSO' && estadoPago !== 'FALLIDO') return false;
      const partidas = (
        await c.query<FilaPartida>(
          `SELECT id_partida, tipo, id_comision, id_conversion, unidades::text AS unidades FROM partidas_liquidacion
           WHERE modo = $1 AND id_liquidacion = $2 AND NOT anulada`,
          [modo, idLiquidacion],
        )
      ).rows;
      const liquidacion = liquidacionDeFilas(filaLiq, partidas);
      const idsComision = [...new Set(partidas.map((p) => p.id_comision))].sort();
      const comisiones = (
        await c.query<FilaComision>(
          `SELECT ${COLUMNAS_COMISION} FROM comisiones c WHERE c.modo = $1 AND c.id = ANY($2::text[]) ORDER BY c.id FOR UPDATE`,
          [modo, idsComision],
        )
      ).rows.map(comisionDeFila);
      const ajustes = (
        await c.query<FilaAjuste>(
          `SELECT ${COLUMNAS_AJUSTE} FROM ajustes_comision a WHERE a.modo = $1 AND (a.id_comision = ANY($2::text[]) OR a.id = ANY($3::text[]))
           ORDER BY a.id FOR UPDATE`,
          [modo, idsComision, partidas.map((p) => p.id_partida)],
        )
      ).rows.map(ajusteDeFila);
      const enLiquidacion = new Set(partidas.filter((p) => p.tipo === 'comision').map((p) => p.id_partida));
      const cierre = decidir({
        liquidacion,
        desenlace: estadoPago,
        comisiones: comisiones.filter((x) => enLiquidacion.has(x.id)),
        ajustes,
      });
      await c.query('UPDATE liquidaciones SET estado = $3, cerrada_en = now() WHERE modo = $1 AND id = $2', [
        modo,
        idLiquidacion,
        cierre.liquidacion.estado,
      ]);
      if (cierre.liquidacion.estado === 'ANULADA') {
        await c.query('UPDATE partidas_liquidacion SET anulada = true WHERE modo = $1 AND id_liquidacion = $2', [modo, idLiquidacion]);
      }
      for (const comision of cierre.comisiones) await c.query(SQL_GUARDAR_COMISION, [modo, ...parametrosComision(comision)]);
      for (const ajuste of cierre.ajustes) {
        await c.query('UPDATE ajustes_comision SET id_liquidacion = $3, liquidacion_estado = $4 WHERE modo = $1 AND id = $2', [
          modo,
          ajuste.id,
          ajuste.liquidacion?.idLiquidacion ?? null,
          ajuste.liquidacion?.estado ?? null,
        ]);
      }
      for (const ajuste of cierre.ajustesNuevos) await c.query(SQL_INSERTAR_AJUSTE, [modo, ...parametrosAjuste(ajuste)]);
      await this.anotar(c, modo, cierre.asiento);
      await c.query(
        `INSERT INTO historial_conversiones (id_socio, modo, id_conversion, tipo, estado, detalle, id_correlacion)
         SELECT $1, $2, x.id_conversion, $3, x.estado, jsonb_build_object('id_liquidacion', $4::text), $5
         FROM unnest($6::text[], $7::text[]) AS x(id_conversion, estado)`,
        [
          liquidacion.idSocio,
          modo,
          cierre.liquidacion.estado === 'PAGADA' ? 'ComisionPagada' : 'ComisionLiberada',
          idLiquidacion,
          `liquidacion:${idLiquidacion}`,
          cierre.comisiones.map((x) => x.idConversion),
          cierre.comisiones.map((x) => x.estado),
        ],
      );
      return true;
    });
  }
}
