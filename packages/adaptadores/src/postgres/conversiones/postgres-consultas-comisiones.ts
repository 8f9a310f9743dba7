import type {
  ConsultasComisiones,
  EntradaHistorialConversion,
  FiltrosConversiones,
  VistaConversion,
  VistaLiquidacion,
} from '@aeropartners/aplicacion';
import {
  Comision,
  HechoConversion,
  LibroMayor,
  estadoConversion,
  type Ambito,
  type Apunte,
  type EstadoComision,
  type EstadoConversion,
  type Moneda,
  type Saldos,
} from '@aeropartners/dominio';
import type { PoolPostgres } from '../pool-postgres.js';
import { hechoDeFila, type FilaHecho } from './filas.js';

const COLUMNAS_HECHO = `h.id_socio, h.id_evento, h.id_conversion, h.tipo, h.id_afiliado, h.monto_unidades::text AS monto_unidades,
  h.moneda, h.ocurrido_en, h.version::text AS version, h.motivo, h.recibido_en, h.aplicado_en`;

interface FilaResumen {
  id_conversion: string;
  estado: EstadoConversion;
  bloqueada: boolean;
  huerfana: boolean;
  id_afiliado: string | null;
  venta_unidades: string | null;
  moneda: string | null;
  comision_unidades: string | null;
  comision_moneda: string | null;
  comision_estado: EstadoComision | null;
}

function resumen(f: FilaResumen): VistaConversion {
  return {
    idConversion: f.id_conversion,
    estado: f.estado,
    bloqueada: f.bloqueada,
    huerfana: f.huerfana,
    idAfiliado: f.id_afiliado,
    venta: f.venta_unidades === null || f.moneda === null ? null : { unidadesMenores: Number(f.venta_unidades), moneda: f.moneda },
    comision:
      f.comision_unidades === null || f.comision_moneda === null || f.comision_estado === null
        ? null
        : { unidadesMenores: Number(f.comision_unidades), moneda: f.comision_moneda, estado: f.comision_estado },
    hechos: [],
  };
}

/** Lo que la API lee de conversiones, saldos y liquidaciones, siempre dentro del ámbito del socio. */
export class PostgresConsultasComisiones implements ConsultasComisiones {
  constructor(private readonly pool: PoolPostgres) {}

  /**
   * La conversión con su estado como función de TODOS los hechos recibidos (el conjunto, decisión 0100:
   * lo que el socio ya nos contó, aunque el consumidor aún no lo haya aplicado), la comisión guardada y
   * los hechos en orden de llegada. `null` si no hay ningún hecho de ella en el ámbito.
   */
  async conversion(ambito: Ambito, idConversion: string): Promise<VistaConversion | null> {
    const hechos = (
      await this.pool.query<FilaHecho & { recibido_en: Date; aplicado_en: Date | null }>(
        `SELECT ${COLUMNAS_HECHO} FROM hechos_conversion h WHERE h.id_socio = $1 AND h.modo = $2 AND h.id_conversion = $3 ORDER BY h.orden`,
        [ambito.idSocio, ambito.modo, idConversion],
      )
    ).rows;
    if (hechos.length === 0) return null;
    const dominio = hechos.map(hechoDeFila);
    const conversion = estadoConversion({ idSocio: ambito.idSocio, idConversion }, dominio);
    const extra = (
      await this.pool.query<{
        comision_unidades: string | null;
        comision_moneda: string | null;
        comision_estado: EstadoComision | null;
        huerfana: boolean;
      }>(
        `SELECT c.unidades::text AS comision_unidades, c.moneda AS comision_moneda, c.estado AS comision_estado,
                COALESCE((SELECT huerfana_en IS NOT NULL FROM conversiones v WHERE v.id_socio = $3 AND v.modo = $1 AND v.id_conversion = $4), false) AS huerfana
         FROM (SELECT 1) uno LEFT JOIN comisiones c ON c.modo = $1 AND c.id = $2`,
        [ambito.modo, Comision.id(ambito.idSocio, idConversion), ambito.idSocio, idConversion],
      )
    ).rows[0];
    return {
      idConversion,
      estado: conversion.estado,
      bloqueada: conversion.bloqueada,
      huerfana: extra?.huerfana ?? false,
      idAfiliado: conversion.idAfiliado,
      venta: conversion.venta ? { unidadesMenores: conversion.venta.unidadesMenores, moneda: conversion.venta.moneda } : null,
      comision:
        extra?.comision_unidades == null || extra.comision_moneda === null || extra.comision_estado === null
          ? null
          : { unidadesMenores: Number(extra.comision_unidades), moneda: extra.comision_moneda, estado: extra.comision_estado },
      hechos: hechos.map((f, i) => {
        const h = dominio[i] as HechoConversion;
        const monto = HechoConversion.monto(h);
        return {
          idEvento: h.idEvento,
          tipo: h.tipo,
          ocurridoEn: h.ocurridoEn,
          recibidoEn: f.recibido_en,
          aplicado: f.aplicado_en !== null,
          version: h.version,
          monto: monto ? { unidadesMenores: monto.unidadesMenores, moneda: monto.moneda } : null,
        };
      }),
    };
  }

  async historial(ambito: Ambito, idConversion: string): Promise<readonly EntradaHistorialConversion[]> {
    const { rows } = await this.pool.query<{
      tipo: string;
      id_evento: string | null;
      estado: string | null;
      detalle: Record<string, unknown>;
      ocurrido_en: Date;
      id_correlacion: string;
    }>(
      `SELECT tipo, id_evento, estado, detalle, ocurrido_en, id_correlacion FROM historial_conversiones
       WHERE id_socio = $1 AND modo = $2 AND id_conversion = $3 ORDER BY id`,
      [ambito.idSocio, ambito.modo, idConversion],
    );
    return rows.map((r) => ({
      tipo: r.tipo,
      idEvento: r.id_evento,
      estado: r.estado,
      detalle: r.detalle,
      ocurridoEn: r.ocurrido_en,
      idCorrelacion: r.id_correlacion,
    }));
  }

  /** Las conversiones ya aplicadas por el consumidor, por id ascendente (cursor = el último id devuelto). */
  async conversiones(ambito: Ambito, filtros: FiltrosConversiones): Promise<readonly VistaConversion[]> {
    const { rows } = await this.pool.query<FilaResumen>(
      `SELECT v.id_conversion, v.estado, v.bloqueada, v.huerfana_en IS NOT NULL AS huerfana, v.id_afiliado,
              v.venta_unidades::text AS venta_unidades, v.moneda,
              c.unidades::text AS comision_unidades, c.moneda AS comision_moneda, c.estado AS comision_estado
       FROM conversiones v
       LEFT JOIN comisiones c ON c.modo = v.modo AND c.id_socio = v.id_socio AND c.id_conversion = v.id_conversion
       WHERE v.id_socio = $1 AND v.modo = $2
         AND ($3::text IS NULL OR v.estado = $3) AND ($4::text IS NULL OR v.id_afiliado = $4) AND ($5::text IS NULL OR v.id_conversion > $5)
       ORDER BY v.id_conversion
       LIMIT $6`,
      [ambito.idSocio, ambito.modo, filtros.estado ?? null, filtros.idAfiliado ?? null, filtros.despuesDe ?? null, filtros.limite],
    );
    return rows.map(resumen);
  }

  /** Los saldos del libro mayor del afiliado por moneda: sumas por cuenta (la referencia es `LibroMayor.saldosPorLibro`). */
  async saldos(ambito: Ambito, idAfiliado: string): Promise<readonly { readonly moneda: string; readonly saldos: Saldos }[]> {
    const { rows } = await this.pool.query<{ moneda: Moneda; cuenta: Apunte['cuenta']; lado: Apunte['lado']; total: string }>(
      `SELECT moneda, cuenta, lado, sum(unidades)::text AS total FROM apuntes_libro
       WHERE id_socio = $1 AND modo = $2 AND id_afiliado = $3
       GROUP BY moneda, cuenta, lado`,
      [ambito.idSocio, ambito.modo, idAfiliado],
    );
    const sumas: Apunte[] = rows.map((r, i) => ({
      id: String(i),
      idAsiento: 'suma',
      idSocio: ambito.idSocio,
      idAfiliado,
      moneda: r.moneda,
      cuenta: r.cuenta,
      lado: r.lado,
      unidadesMenores: Number(r.total),
    }));
    return LibroMayor.saldosPorLibro(sumas).map((l) => {
      const { gasto: _gasto, ...saldos } = l.saldos;
      return { moneda: l.moneda, saldos };
    });
  }

  async liquidacion(ambito: Ambito, idLiquidacion: string): Promise<VistaLiquidacion | null> {
    const l = (
      await this.pool.query<{
        id: string;
        id_afiliado: string;
        moneda: string;
        neto_unidades: string;
        estado: VistaLiquidacion['estado'];
        id_ejecucion: string;
        creada_en: Date;
        id_pago: string;
        estado_pago: string | null;
      }>(
        `SELECT l.id, l.id_afiliado, l.moneda, l.neto_unidades::text AS neto_unidades, l.estado, l.id_ejecucion, l.creada_en,
                l.id_pago::text AS id_pago, p.estado AS estado_pago
         FROM liquidaciones l LEFT JOIN pagos p ON p.id = l.id_pago
         WHERE l.id_socio = $1 AND l.modo = $2 AND l.id = $3`,
        [ambito.idSocio, ambito.modo, idLiquidacion],
      )
    ).rows[0];
    if (!l) return null;
    const partidas = (
      await this.pool.query<{ tipo: string; id_partida: string; id_conversion: string; unidades: string }>(
        `SELECT tipo, id_partida, id_conversion, unidades::text AS unidades FROM partidas_liquidacion
         WHERE modo = $1 AND id_liquidacion = $2 ORDER BY tipo, id_partida`,
        [ambito.modo, idLiquidacion],
      )
    ).rows;
    return {
      id: l.id,
      idAfiliado: l.id_afiliado,
      moneda: l.moneda,
      netoUnidadesMenores: Number(l.neto_unidades),
      estado: l.estado,
      idEjecucion: l.id_ejecucion,
      creadaEn: l.creada_en,
      idPago: l.id_pago,
      estadoPago: l.estado_pago,
      partidas: partidas.map((p) => ({
        tipo: p.tipo,
        id: p.id_partida,
        idConversion: p.id_conversion,
        unidadesMenores: Number(p.unidades),
      })),
    };
  }
}
