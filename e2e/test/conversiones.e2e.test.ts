import { PostgresAlmacenComisiones } from '@aeropartners/adaptadores';
import type { SolicitudHecho } from '@aeropartners/aplicacion';
import { LibroMayor, ReglaComision, type Apunte, type Moneda } from '@aeropartners/dominio';
import { afterEach, describe, expect, it } from 'vitest';
import { Topologia } from '../src/topologia.js';

// Conversiones con procesos reales: los hechos (desordenados, repetidos, la reversión antes de la
// creación) entran por la API, que los guarda con su evento de outbox; el relay los publica por el mismo broker que los pagos; el
// consumidor los aplica y, dentro de él, las ejecuciones periódicas de liquidaciones crean pagos que el
// mismo consumidor cobra en la pasarela simulada (con rechazos: un pago FALLIDO libera sus comisiones y un
// corte siguiente las vuelve a liquidar). A mitad, el consumidor muere con SIGKILL.

const CONVERSIONES = 30;

describe('conversiones y liquidaciones de extremo a extremo', () => {
  let topologia: Topologia | undefined;
  afterEach(async () => {
    await topologia?.cerrar();
    topologia = undefined;
  });

  it('cada conversión acaba con la comisión de su plan, cada comisión aprobada se paga una vez y el libro cuadra', async () => {
    const t = (topologia = await Topologia.iniciar({
      arrancar: ['api', 'outbox', 'consumer'],
      entorno: {
        // El broker encola dos veces cada mensaje que publica el relay: el consumidor ve cada hecho repetido.
        outbox: { BROKER_DUPLICAR_ENTREGAS: 'true' },
        consumer: {
          LIQUIDACIONES_CADA: '2s',
          LIQUIDACIONES_CIERRE_MS: '300',
          PASARELA_TASA_RECHAZO: '0.3',
          BROKER_DUPLICAR_ENTREGAS: 'true',
        },
      },
    }));
    const almacen = new PostgresAlmacenComisiones(t.pool);
    // El socio del modo anónimo de la topología (la API lo crea al arrancar).
    const idSocio = 'e2e';
    await almacen.guardarRegla(idSocio, (version) => {
      const r = ReglaComision.crear({
        idSocio,
        version,
        vigenteDesde: new Date('2026-01-01T00:00:00Z'),
        calculo: { tipo: 'porcentaje', puntosBasicos: 1000 },
        diasBloqueo: 0,
      });
      return r.ok ? r.valor : new Error('regla');
    });
    /** Un hecho por la API (HTTP), como lo enviaría el socio. */
    const enviar = async (h: SolicitudHecho) => {
      const r = await fetch(`${t.urlApi}/conversiones/eventos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id_evento: h.idEvento,
          tipo: `conversion.${h.tipo}`,
          id_conversion: h.idConversion,
          ...(h.idAfiliado ? { id_afiliado: h.idAfiliado } : {}),
          ...(h.monto ? { monto: h.monto.unidadesMenores / 100, moneda: h.monto.moneda } : {}),
          ocurrido_en: h.ocurridoEn.toISOString(),
        }),
      });
      expect(r.status).toBe(202);
    };
    const enLotes = async (hechos: readonly SolicitudHecho[]) => {
      for (let i = 0; i < hechos.length; i += 10) await Promise.all(hechos.slice(i, i + 10).map(enviar));
    };

    // Planes: las pares se aprueban; una de cada tres impares se revierte antes de crearse.
    const hechos: SolicitudHecho[] = [];
    const esperado = new Map<string, { unidades: number; estado: 'PAGADA' | 'REVERTIDA' | 'PENDIENTE' }>();
    const t0 = Date.parse('2026-02-01T00:00:00Z');
    for (let i = 0; i < CONVERSIONES; i += 1) {
      const id = `e2e-${i}`;
      const venta = 1_000 + i * 37;
      hechos.push({
        idEvento: `${id}-c`,
        tipo: 'creada',
        idConversion: id,
        idAfiliado: `af-${i % 3}`,
        monto: { unidadesMenores: venta, moneda: 'USD' },
        ocurridoEn: new Date(t0),
      });
      if (i % 2 === 0) {
        hechos.push({ idEvento: `${id}-a`, tipo: 'aprobada', idConversion: id, ocurridoEn: new Date(t0 + 60_000) });
        esperado.set(id, { unidades: ReglaComision.aplicarPorcentaje(venta, 1000), estado: 'PAGADA' });
      } else if (i % 3 === 0) {
        hechos.push({ idEvento: `${id}-r`, tipo: 'revertida', idConversion: id, ocurridoEn: new Date(t0 + 60_000) });
        esperado.set(id, { unidades: ReglaComision.aplicarPorcentaje(venta, 1000), estado: 'REVERTIDA' });
      } else {
        esperado.set(id, { unidades: ReglaComision.aplicarPorcentaje(venta, 1000), estado: 'PENDIENTE' });
      }
    }
    // Todo desordenado (las reversiones delante de sus creaciones) y cada hecho dos veces.
    const orden = [...hechos, ...hechos].sort(
      (a, b) => (a.tipo === 'revertida' ? -1 : 0) - (b.tipo === 'revertida' ? -1 : 0) || (a.idEvento < b.idEvento ? 1 : -1),
    );
    const mitad = Math.floor(orden.length / 2);
    await enLotes(orden.slice(0, mitad));

    await t.esperarQue(
      async () =>
        Number(
          (await t.pool.query<{ n: string }>('SELECT count(*) AS n FROM hechos_conversion WHERE aplicado_en IS NOT NULL')).rows[0]?.n,
        ) > 5,
      30_000,
      'el consumidor aplica hechos',
    );
    await t.matar('consumer', 'SIGKILL');
    await enLotes(orden.slice(mitad));
    await t.arrancar('consumer');

    await t.esperarQue(
      async () => {
        const { rows } = await t.pool.query<{ sin_aplicar: number; sin_pagar: number; en_curso: number }>(
          `SELECT (SELECT count(*) FROM hechos_conversion WHERE aplicado_en IS NULL)::int AS sin_aplicar,
                  (SELECT count(*) FROM comisiones WHERE estado IN ('APROBADA', 'EN_LIQUIDACION'))::int AS sin_pagar,
                  (SELECT count(*) FROM liquidaciones WHERE estado = 'EN_CURSO')::int AS en_curso`,
        );
        const f = rows[0];
        return f !== undefined && f.sin_aplicar === 0 && f.sin_pagar === 0 && f.en_curso === 0 && esperado.size > 0;
      },
      90_000,
      'todas las comisiones aprobadas pagadas y ninguna liquidación en curso',
    );

    const comisiones = (
      await t.pool.query<{ id_conversion: string; unidades: string; estado: string }>(
        'SELECT id_conversion, unidades::text AS unidades, estado FROM comisiones',
      )
    ).rows;
    expect(comisiones).toHaveLength(CONVERSIONES);
    for (const c of comisiones) expect({ unidades: Number(c.unidades), estado: c.estado }).toEqual(esperado.get(c.id_conversion));

    // Cada comisión aprobada, en exactamente una liquidación PAGADA; el pago de cada liquidación pagada, EXITOSO.
    const pagadas = await t.pool.query<{ id_partida: string; n: string }>(
      `SELECT p.id_partida, count(*) AS n FROM partidas_liquidacion p JOIN liquidaciones l ON l.id = p.id_liquidacion AND l.modo = p.modo
       WHERE l.estado = 'PAGADA' GROUP BY p.id_partida`,
    );
    expect(pagadas.rows.every((r) => Number(r.n) === 1)).toBe(true);
    expect(pagadas.rows).toHaveLength([...esperado.values()].filter((e) => e.estado === 'PAGADA').length);
    const desajustes = await t.pool.query(
      `SELECT l.id FROM liquidaciones l JOIN pagos p ON p.id = l.id_pago
       WHERE (l.estado = 'PAGADA') <> (p.estado = 'EXITOSO') OR (l.estado = 'ANULADA') <> (p.estado = 'FALLIDO')`,
    );
    expect(desajustes.rows).toEqual([]);

    const apuntes = (
      await t.pool.query<{
        id: string;
        id_asiento: string;
        id_afiliado: string;
        moneda: Moneda;
        cuenta: Apunte['cuenta'];
        lado: Apunte['lado'];
        unidades: string;
      }>('SELECT id, id_asiento, id_afiliado, moneda, cuenta, lado, unidades::text AS unidades FROM apuntes_libro')
    ).rows.map((a): Apunte => ({ ...a, idAsiento: a.id_asiento, idSocio, idAfiliado: a.id_afiliado, unidadesMenores: Number(a.unidades) }));
    const pagadoEnLiquidaciones = Number(
      (await t.pool.query<{ s: string }>("SELECT coalesce(sum(neto_unidades), 0)::text AS s FROM liquidaciones WHERE estado = 'PAGADA'"))
        .rows[0]?.s,
    );
    const libros = LibroMayor.saldosPorLibro(apuntes);
    // Cada asiento cuadra: lo mismo en el debe que en el haber.
    const porAsiento = new Map<string, number>();
    for (const a of apuntes)
      porAsiento.set(a.idAsiento, (porAsiento.get(a.idAsiento) ?? 0) + (a.lado === 'debe' ? a.unidadesMenores : -a.unidadesMenores));
    expect([...porAsiento.values()].every((d) => d === 0)).toBe(true);
    const pagado = libros.reduce((s, l) => s + l.saldos.pagado - l.saldos.recuperado, 0);
    expect(pagado).toBe(pagadoEnLiquidaciones);
    // La segunda vida del consumidor aplicó hechos y absorbió las entregas duplicadas del broker: lo cuentan sus métricas.
    const metricas = await t.metricas('consumer');
    const contador = (desenlace: string) =>
      Number(
        new RegExp(`aeropartners_pagos_hechos_conversion_total\\{desenlace="${desenlace}"[^}]*\\} (\\d+)`).exec(metricas)?.[1] ??
          Number.NaN,
      );
    expect(contador('aplicado')).toBeGreaterThan(0);
    expect(contador('duplicado')).toBeGreaterThan(0);
    expect(contador('rechazado')).toBe(0);

    // Lo que ve el socio por la API: la comisión pagada de una conversión aprobada y el saldo de su afiliado.
    const vista = await t.get<{ estado: string; comision: { monto: number; estado: string } }>('/conversiones/e2e-0');
    expect(vista.cuerpo).toMatchObject({
      estado: 'APROBADA',
      comision: { monto: (esperado.get('e2e-0')?.unidades ?? 0) / 100, estado: 'PAGADA' },
    });
    const saldo = await t.get<{ saldos: { moneda: string; aprobado: number; en_liquidacion: number }[] }>('/afiliados/af-0/saldo');
    expect(saldo.cuerpo.saldos).toMatchObject([{ moneda: 'USD', aprobado: 0, en_liquidacion: 0 }]);
    const debido = [...esperado.values()].filter((e) => e.estado === 'PAGADA').reduce((s, e) => s + e.unidades, 0);
    expect(pagadoEnLiquidaciones).toBe(debido);
  }, 180_000);
});
