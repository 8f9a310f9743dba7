import {
  Dinero,
  HechoConversion,
  ReglaComision,
  type AjusteComision,
  type Apunte,
  type Comision,
  type HechoConversion as Hecho,
  type Liquidacion,
  type Moneda,
  type PartidaLiquidacion,
} from '@aeropartners/dominio';
import { v5 } from 'uuid';

/**
 * Filas de las tablas de conversiones y comisiones (migración 0008) ↔ valores del dominio. Lo que se
 * lee de la base se vuelve a validar con el dominio: un dato roto es un error con su motivo.
 */

// Espacio de nombres fijo de los UUID derivados de una conversión (clave de orden en outbox y broker).
const ESPACIO_CONVERSIONES = '6f1c6a0e-3b9d-5c1e-9a51-0c2a1e6b7d42';

/** El UUID (v5) de una conversión en su ámbito: el mismo siempre, distinto entre ámbitos. */
export function idAgregadoConversion(idSocio: string, modo: string, idConversion: string): string {
  return v5(JSON.stringify([idSocio, modo, idConversion]), ESPACIO_CONVERSIONES);
}

function dinero(unidades: number, moneda: string): Dinero {
  const d = Dinero.deUnidadesMenores(unidades, moneda);
  if (!d.ok) throw new Error(`Importe inválido en la base: ${unidades} ${moneda}`);
  return d.valor;
}

function numero(valor: unknown): number {
  const n = typeof valor === 'string' ? Number(valor) : (valor as number);
  if (!Number.isSafeInteger(n)) throw new Error(`Entero inválido en la base: ${String(valor)}`);
  return n;
}

export interface FilaHecho {
  id_socio: string;
  id_evento: string;
  id_conversion: string;
  tipo: string;
  id_afiliado: string | null;
  monto_unidades: string | null;
  moneda: string | null;
  ocurrido_en: Date;
  version: string | null;
  motivo: string | null;
}

export function hechoDeFila(f: FilaHecho): Hecho {
  const r = HechoConversion.validar({
    tipo: f.tipo,
    idEvento: f.id_evento,
    idSocio: f.id_socio,
    idConversion: f.id_conversion,
    ocurridoEn: f.ocurrido_en,
    idAfiliado: f.id_afiliado,
    monto: f.monto_unidades === null || f.moneda === null ? null : dinero(numero(f.monto_unidades), f.moneda),
    version: f.version === null ? null : numero(f.version),
    motivo: f.motivo,
  });
  if (!r.ok) throw new Error(`Hecho ${f.id_evento} inválido en la base: ${JSON.stringify(r.error)}`);
  return r.valor;
}

type ReglaJson = {
  id_socio: string;
  version: number;
  vigente_desde: string;
  calculo: { tipo: 'porcentaje'; puntos_basicos: number } | { tipo: 'fijo'; unidades: number; moneda: string };
  tope: { unidades: number; moneda: string } | null;
  dias_bloqueo: number;
  minimo_liquidacion: { unidades: number; moneda: string } | null;
};

const dineroJson = (d: Dinero | null) => (d === null ? null : { unidades: d.unidadesMenores, moneda: d.moneda });

export function reglaAJson(regla: ReglaComision): ReglaJson {
  return {
    id_socio: regla.idSocio,
    version: regla.version,
    vigente_desde: regla.vigenteDesde.toISOString(),
    calculo:
      regla.calculo.tipo === 'porcentaje'
        ? { tipo: 'porcentaje', puntos_basicos: regla.calculo.puntosBasicos }
        : { tipo: 'fijo', unidades: regla.calculo.monto.unidadesMenores, moneda: regla.calculo.monto.moneda },
    tope: dineroJson(regla.tope),
    dias_bloqueo: regla.diasBloqueo,
    minimo_liquidacion: dineroJson(regla.minimoLiquidacion),
  };
}

export function reglaDeJson(j: ReglaJson): ReglaComision {
  const r = ReglaComision.crear({
    idSocio: j.id_socio,
    version: j.version,
    vigenteDesde: new Date(j.vigente_desde),
    calculo:
      j.calculo.tipo === 'porcentaje'
        ? { tipo: 'porcentaje', puntosBasicos: j.calculo.puntos_basicos }
        : { tipo: 'fijo', monto: dinero(j.calculo.unidades, j.calculo.moneda) },
    tope: j.tope === null ? null : dinero(j.tope.unidades, j.tope.moneda),
    diasBloqueo: j.dias_bloqueo,
    minimoLiquidacion: j.minimo_liquidacion === null ? null : dinero(j.minimo_liquidacion.unidades, j.minimo_liquidacion.moneda),
  });
  if (!r.ok) throw new Error(`Regla de comisión inválida en la base: ${JSON.stringify(r.error)}`);
  return r.valor;
}

export const COLUMNAS_COMISION = `c.id, c.id_socio, c.id_conversion, c.id_afiliado, c.moneda, c.regla, c.estado_conversion,
  c.unidades::text AS unidades, c.estado, c.pagable_desde, c.id_liquidacion, c.liquidacion_estado,
  c.liquidacion_unidades::text AS liquidacion_unidades`;

export interface FilaComision {
  id: string;
  id_socio: string;
  id_conversion: string;
  id_afiliado: string;
  moneda: string;
  regla: ReglaJson;
  estado_conversion: Comision['estadoConversion'];
  unidades: string;
  estado: Comision['estado'];
  pagable_desde: Date;
  id_liquidacion: string | null;
  liquidacion_estado: 'EN_CURSO' | 'PAGADA' | null;
  liquidacion_unidades: string | null;
}

export function comisionDeFila(f: FilaComision): Comision {
  return Object.freeze({
    id: f.id,
    idSocio: f.id_socio,
    idConversion: f.id_conversion,
    idAfiliado: f.id_afiliado,
    moneda: f.moneda as Moneda,
    regla: reglaDeJson(f.regla),
    estadoConversion: f.estado_conversion,
    unidadesMenores: numero(f.unidades),
    estado: f.estado,
    pagableDesde: f.pagable_desde,
    liquidacion:
      f.id_liquidacion === null || f.liquidacion_estado === null || f.liquidacion_unidades === null
        ? null
        : { idLiquidacion: f.id_liquidacion, estado: f.liquidacion_estado, unidadesMenores: numero(f.liquidacion_unidades) },
  });
}

/** Los parámetros de un UPSERT de comisión ($2…$14; $1 es el modo). */
export function parametrosComision(c: Comision): unknown[] {
  return [
    c.id,
    c.idSocio,
    c.idConversion,
    c.idAfiliado,
    c.moneda,
    JSON.stringify(reglaAJson(c.regla)),
    c.estadoConversion,
    c.unidadesMenores,
    c.estado,
    c.pagableDesde,
    c.liquidacion?.idLiquidacion ?? null,
    c.liquidacion?.estado ?? null,
    c.liquidacion?.unidadesMenores ?? null,
  ];
}

export const SQL_GUARDAR_COMISION = `
INSERT INTO comisiones (modo, id, id_socio, id_conversion, id_afiliado, moneda, regla, estado_conversion, unidades, estado,
                        pagable_desde, id_liquidacion, liquidacion_estado, liquidacion_unidades)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (modo, id) DO UPDATE SET
  estado_conversion = EXCLUDED.estado_conversion, unidades = EXCLUDED.unidades, estado = EXCLUDED.estado,
  id_liquidacion = EXCLUDED.id_liquidacion, liquidacion_estado = EXCLUDED.liquidacion_estado,
  liquidacion_unidades = EXCLUDED.liquidacion_unidades, actualizada_en = now()`;

export const COLUMNAS_AJUSTE = `a.id, a.tipo, a.id_comision, a.id_socio, a.id_conversion, a.id_afiliado, a.moneda,
  a.unidades::text AS unidades, a.causa, a.id_liquidacion, a.liquidacion_estado`;

export interface FilaAjuste {
  id: string;
  tipo: AjusteComision['tipo'];
  id_comision: string;
  id_socio: string;
  id_conversion: string;
  id_afiliado: string;
  moneda: string;
  unidades: string;
  causa: AjusteComision['causa'];
  id_liquidacion: string | null;
  liquidacion_estado: 'EN_CURSO' | 'PAGADA' | null;
}

export function ajusteDeFila(f: FilaAjuste): AjusteComision {
  return Object.freeze({
    id: f.id,
    tipo: f.tipo,
    idComision: f.id_comision,
    idSocio: f.id_socio,
    idConversion: f.id_conversion,
    idAfiliado: f.id_afiliado,
    moneda: f.moneda as Moneda,
    unidadesMenores: numero(f.unidades),
    causa: f.causa,
    liquidacion:
      f.id_liquidacion === null || f.liquidacion_estado === null ? null : { idLiquidacion: f.id_liquidacion, estado: f.liquidacion_estado },
  });
}

/** Inserta un ajuste nuevo ($1 modo); uno que ya existe (la misma causa) no se toca. */
export const SQL_INSERTAR_AJUSTE = `
INSERT INTO ajustes_comision (modo, id, tipo, id_comision, id_socio, id_conversion, id_afiliado, moneda, unidades, causa,
                              id_liquidacion, liquidacion_estado)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12)
ON CONFLICT (modo, id) DO NOTHING`;

export function parametrosAjuste(a: AjusteComision): unknown[] {
  return [
    a.id,
    a.tipo,
    a.idComision,
    a.idSocio,
    a.idConversion,
    a.idAfiliado,
    a.moneda,
    a.unidadesMenores,
    JSON.stringify(a.causa),
    a.liquidacion?.idLiquidacion ?? null,
    a.liquidacion?.estado ?? null,
  ];
}

export interface FilaLiquidacion {
  id: string;
  id_socio: string;
  id_afiliado: string;
  moneda: string;
  id_ejecucion: string;
  creada_en: Date;
  estado: Liquidacion['estado'];
  neto_unidades: string;
}

export interface FilaPartida {
  id_partida: string;
  tipo: PartidaLiquidacion['tipo'];
  id_comision: string;
  id_conversion: string;
  unidades: string;
}

export function liquidacionDeFilas(l: FilaLiquidacion, partidas: readonly FilaPartida[]): Liquidacion {
  const orden = { comision: 0, complemento: 1, recuperacion: 2 } as const;
  return Object.freeze({
    id: l.id,
    idSocio: l.id_socio,
    idAfiliado: l.id_afiliado,
    moneda: l.moneda as Moneda,
    idEjecucion: l.id_ejecucion,
    creadaEn: l.creada_en,
    estado: l.estado,
    netoUnidadesMenores: numero(l.neto_unidades),
    partidas: Object.freeze(
      partidas
        .map((p) =>
          Object.freeze({
            tipo: p.tipo,
            id: p.id_partida,
            idComision: p.id_comision,
            idConversion: p.id_conversion,
            unidadesMenores: numero(p.unidades),
          }),
        )
        .sort((a, b) => orden[a.tipo] - orden[b.tipo] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    ),
  });
}

/** Los apuntes de un asiento como arrays para `unnest` ($2…$9 tras el modo). */
export function parametrosApuntes(apuntes: readonly Apunte[]): unknown[] {
  return [
    apuntes.map((a) => a.id),
    apuntes.map((a) => a.idAsiento),
    apuntes.map((a) => a.idSocio),
    apuntes.map((a) => a.idAfiliado),
    apuntes.map((a) => a.moneda),
    apuntes.map((a) => a.cuenta),
    apuntes.map((a) => a.lado),
    apuntes.map((a) => a.unidadesMenores),
  ];
}

/** Inserta apuntes (parámetros desde `$n`); un id que ya existe no escribe nada (la causa se repitió). */
export function insertarApuntes(n: number): string {
  const p = (i: number) => `$${n + i}`;
  return `INSERT INTO apuntes_libro (modo, id, id_asiento, id_socio, id_afiliado, moneda, cuenta, lado, unidades)
  SELECT $1, * FROM unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[],
                           ${p(6)}::text[], ${p(7)}::int8[])
  ON CONFLICT (modo, id) DO NOTHING`;
}
