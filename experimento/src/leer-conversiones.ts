import { PostgresAlmacenComisiones, type PoolPostgres } from '@aeropartners/adaptadores';
import { planificarLiquidaciones, type Apunte, type CuentaLibro, type Moneda } from '@aeropartners/dominio';
import type { ConsultorPostgres } from '@aeropartners/kit-pruebas';
import type { CargaConversiones } from './carga-conversiones.js';
import type { PlanConversiones } from './conversiones-plan.js';
import type { SocioCorrida } from './socios.js';
import type {
  DatosConversiones,
  FilaAjuste,
  FilaComision,
  FilaConversion,
  FilaHecho,
  FilaLiquidacion,
  FilaPartida,
  LecturaConversion,
  LecturaSaldo,
} from './veredicto-conversiones.js';

/**
 * Lo que el veredicto de conversiones necesita, leído de PostgreSQL (las tablas de conversiones,
 * comisiones, liquidaciones y el libro, de los socios de la corrida) y de la API (cada conversión y el
 * saldo de cada afiliado, con la clave de su socio). Lo que quedaría por liquidar lo dice el dominio
 * (`planificarLiquidaciones`) sobre las candidatas de la base.
 */
export async function leerDatosConversiones(o: {
  readonly bd: ConsultorPostgres;
  readonly pool: PoolPostgres;
  readonly socios: readonly SocioCorrida[];
  readonly plan: PlanConversiones;
  readonly carga: CargaConversiones;
}): Promise<DatosConversiones> {
  const ids = o.socios.map((s) => s.id);
  const q = async <F>(sql: string): Promise<F[]> => (await o.bd.query(sql, [ids])).rows as F[];
  const n = (x: unknown) => (x === null || x === undefined ? null : Number(x));

  const hechos = (
    await q<{ id_socio: string; id_evento: string; id_conversion: string; aplicado: boolean }>(
      `SELECT id_socio, id_evento, id_conversion, aplicado_en IS NOT NULL AS aplicado FROM hechos_conversion
       WHERE modo = 'live' AND id_socio = ANY($1::text[])`,
    )
  ).map((f): FilaHecho => ({ socio: f.id_socio, idEvento: f.id_evento, idConversion: f.id_conversion, aplicado: f.aplicado }));
  const conversiones = (
    await q<Record<string, unknown>>(
      `SELECT id_socio, id_conversion, estado, bloqueada, id_afiliado, venta_unidades, moneda FROM conversiones
       WHERE modo = 'live' AND id_socio = ANY($1::text[])`,
    )
  ).map(
    (f): FilaConversion => ({
      socio: String(f['id_socio']),
      id: String(f['id_conversion']),
      estado: String(f['estado']),
      bloqueada: f['bloqueada'] === true,
      idAfiliado: (f['id_afiliado'] as string | null) ?? null,
      venta: n(f['venta_unidades']),
      moneda: (f['moneda'] as string | null) ?? null,
    }),
  );
  const comisiones = (
    await q<Record<string, unknown>>(
      `SELECT id, id_socio, id_conversion, id_afiliado, moneda, unidades, estado, estado_conversion, id_liquidacion,
              liquidacion_estado, liquidacion_unidades
       FROM comisiones WHERE modo = 'live' AND id_socio = ANY($1::text[])`,
    )
  ).map(
    (f): FilaComision => ({
      id: String(f['id']),
      socio: String(f['id_socio']),
      idConversion: String(f['id_conversion']),
      idAfiliado: String(f['id_afiliado']),
      moneda: String(f['moneda']),
      unidades: Number(f['unidades']),
      estado: String(f['estado']),
      estadoConversion: String(f['estado_conversion']),
      idLiquidacion: (f['id_liquidacion'] as string | null) ?? null,
      liquidacionEstado: (f['liquidacion_estado'] as string | null) ?? null,
      liquidacionUnidades: n(f['liquidacion_unidades']),
    }),
  );
  const ajustes = (
    await q<Record<string, unknown>>(
      `SELECT id, tipo, id_comision, id_socio, id_afiliado, moneda, unidades, id_liquidacion, liquidacion_estado
       FROM ajustes_comision WHERE modo = 'live' AND id_socio = ANY($1::text[])`,
    )
  ).map(
    (f): FilaAjuste => ({
      id: String(f['id']),
      tipo: f['tipo'] === 'complemento' ? 'complemento' : 'recuperacion',
      idComision: String(f['id_comision']),
      socio: String(f['id_socio']),
      idAfiliado: String(f['id_afiliado']),
      moneda: String(f['moneda']),
      unidades: Number(f['unidades']),
      idLiquidacion: (f['id_liquidacion'] as string | null) ?? null,
      liquidacionEstado: (f['liquidacion_estado'] as string | null) ?? null,
    }),
  );
  const liquidaciones = (
    await q<Record<string, unknown>>(
      `SELECT l.id, l.id_socio, l.id_afiliado, l.moneda, l.estado, l.neto_unidades, l.id_pago::text AS id_pago,
              p.estado AS pago_estado, p.monto_unidades AS pago_unidades, p.moneda AS pago_moneda
       FROM liquidaciones l LEFT JOIN pagos p ON p.id = l.id_pago
       WHERE l.modo = 'live' AND l.id_socio = ANY($1::text[])`,
    )
  ).map(
    (f): FilaLiquidacion => ({
      id: String(f['id']),
      socio: String(f['id_socio']),
      idAfiliado: String(f['id_afiliado']),
      moneda: String(f['moneda']),
      estado: String(f['estado']),
      neto: Number(f['neto_unidades']),
      idPago: String(f['id_pago']),
      pago:
        f['pago_estado'] === null || f['pago_estado'] === undefined
          ? null
          : { estado: String(f['pago_estado']), unidades: Number(f['pago_unidades']), moneda: String(f['pago_moneda']) },
    }),
  );
  const partidas = (
    await q<Record<string, unknown>>(
      `SELECT pl.id_liquidacion, pl.id_partida, pl.tipo, pl.id_comision, pl.unidades, pl.anulada
       FROM partidas_liquidacion pl JOIN liquidaciones l ON l.modo = pl.modo AND l.id = pl.id_liquidacion
       WHERE pl.modo = 'live' AND l.id_socio = ANY($1::text[])`,
    )
  ).map(
    (f): FilaPartida => ({
      idLiquidacion: String(f['id_liquidacion']),
      idPartida: String(f['id_partida']),
      tipo: f['tipo'] as FilaPartida['tipo'],
      idComision: String(f['id_comision']),
      unidades: Number(f['unidades']),
      anulada: f['anulada'] === true,
    }),
  );
  const apuntes = (
    await q<Record<string, unknown>>(
      `SELECT id, id_asiento, id_socio, id_afiliado, moneda, cuenta, lado, unidades FROM apuntes_libro
       WHERE modo = 'live' AND id_socio = ANY($1::text[])`,
    )
  ).map(
    (f): Apunte => ({
      id: String(f['id']),
      idAsiento: String(f['id_asiento']),
      idSocio: String(f['id_socio']),
      idAfiliado: String(f['id_afiliado']),
      moneda: f['moneda'] as Moneda,
      cuenta: f['cuenta'] as CuentaLibro,
      lado: f['lado'] === 'debe' ? 'debe' : 'haber',
      unidadesMenores: Number(f['unidades']),
    }),
  );

  // Lo que una ejecución liquidaría ahora mismo, según el dominio, para los socios de la corrida.
  const almacen = new PostgresAlmacenComisiones(o.pool);
  const ahora = new Date();
  const [reglas, candidatas] = await Promise.all([almacen.reglas(), almacen.candidatas('live', ahora)]);
  const deLaCorrida = new Set(ids);
  const plan = planificarLiquidaciones({
    idEjecucion: 'veredicto',
    ahora,
    comisiones: candidatas.comisiones.filter((c) => deLaCorrida.has(c.idSocio)),
    ajustes: candidatas.ajustes.filter((a) => deLaCorrida.has(a.idSocio)),
    reglas,
  });
  if (!plan.ok) throw new Error(`no se pudo planificar lo que queda por liquidar: ${plan.error.tipo}`);

  // La API, con la clave de cada socio (el suspendido ya no puede leer: se lee lo de los demás).
  const api = new Map<string, LecturaConversion>();
  const saldos: LecturaSaldo[] = [];
  const porNumero = new Map(o.socios.map((s) => [s.numero, s]));
  const leerJson = (cuerpo: string): unknown => {
    try {
      return JSON.parse(cuerpo);
    } catch {
      return null;
    }
  };
  const afiliados = new Map<string, Set<string>>();
  for (const c of o.plan.conversiones) {
    const socio = porNumero.get(c.socio);
    if (!socio || socio.papel === 'suspendido') continue;
    const r = await o.carga.obtener(socio, `/conversiones/${encodeURIComponent(c.idConversion)}`);
    api.set(`${socio.id} ${c.idConversion}`, {
      estado: r.estado,
      cuerpo: r.estado === 200 ? (leerJson(r.cuerpo) as LecturaConversion['cuerpo']) : null,
    });
    afiliados.set(socio.id, (afiliados.get(socio.id) ?? new Set()).add(c.idAfiliado));
  }
  for (const socio of o.socios) {
    for (const idAfiliado of afiliados.get(socio.id) ?? []) {
      const r = await o.carga.obtener(socio, `/afiliados/${encodeURIComponent(idAfiliado)}/saldo`);
      const json = r.estado === 200 ? (leerJson(r.cuerpo) as { saldos?: Record<string, number | string>[] } | null) : null;
      saldos.push({ socio: socio.id, idAfiliado, estado: r.estado, saldos: json?.saldos ?? [] });
    }
  }
  return {
    hechos,
    conversiones,
    comisiones,
    ajustes,
    liquidaciones,
    partidas,
    apuntes,
    api,
    saldos,
    porLiquidar: plan.valor.liquidaciones.map((l) => l.id),
    sinLiquidar: plan.valor.sinLiquidar.map((g) => ({ socio: g.idSocio, idAfiliado: g.idAfiliado, moneda: g.moneda })),
  };
}
