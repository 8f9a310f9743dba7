import {
  cerrarLiquidacionesTerminadas,
  crearAplicadorDeHechos,
  crearManejadorRegistrarHecho,
  ejecutarLiquidaciones,
  type SolicitudHecho,
} from '@aeropartners/aplicacion';
import { LibroMayor, ReglaComision, type Apunte, type Moneda } from '@aeropartners/dominio';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../ids/uuidv7.js';
import { crearBaseDePrueba } from '../../testing/index.js';
import { crearPoolPostgres, type PoolPostgres } from '../pool-postgres.js';
import { liquidacionDeFilas, type FilaLiquidacion, type FilaPartida } from './filas.js';
import { PostgresAlmacenComisiones } from './postgres-almacen-comisiones.js';

// Ciclos de vida generados (creada → ajustada? → aprobada | revertida | aprobada y después revertida), con
// cada hecho repetido y todos desordenados, entregados de tres en tres A LA VEZ y mezclados con ejecuciones
// de liquidaciones y desenlaces de pagos (exitosos y fallidos), contra PostgreSQL real. Al final: el libro
// cuadra, pagado en liquidaciones = comisiones pagadas − recuperaciones recuperadas, ninguna partida en dos
// liquidaciones vivas, y cada comisión es la que implica su plan.

let pool: PoolPostgres;
let cerrar: () => Promise<void>;
beforeAll(async () => {
  const base = await crearBaseDePrueba();
  pool = crearPoolPostgres({ url: base.url, tamano: 12, nombreAplicacion: 'test-libro-cuadra' });
  cerrar = async () => {
    await pool.end();
    await base.cerrar();
  };
});
afterAll(() => cerrar?.());

const DESTINOS = ['aprobada', 'revertida', 'aprobada-y-revertida', 'pendiente'] as const;
const arbCiclo = fc.record({
  venta: fc.integer({ min: 1, max: 50_000 }),
  ajuste: fc.option(fc.integer({ min: 1, max: 50_000 }), { nil: null }),
  destino: fc.constantFrom(...DESTINOS),
  afiliado: fc.constantFrom('a1', 'a2'),
  copias: fc.integer({ min: 1, max: 3 }),
});
type Paso = { tipo: 'hecho'; s: SolicitudHecho } | { tipo: 'ejecutar' } | { tipo: 'pagar'; exito: boolean };

describe('el libro mayor cuadra con hechos desordenados, repetidos y concurrentes, ejecuciones y pagos', () => {
  it('propiedad (PostgreSQL real)', async () => {
    let corrida = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbCiclo, { minLength: 1, maxLength: 5 }),
        fc.array(
          fc.oneof(
            fc.constant<Paso>({ tipo: 'ejecutar' }),
            fc.boolean().map((exito): Paso => ({ tipo: 'pagar', exito })),
          ),
          { maxLength: 6 },
        ),
        fc.infiniteStream(fc.nat()),
        async (ciclos, extras, azar) => {
          corrida += 1;
          const idSocio = `socio-${corrida}-${uuidv7().slice(-8)}`;
          const almacen = new PostgresAlmacenComisiones(pool);
          await almacen.guardarRegla(idSocio, (version) => {
            const r = ReglaComision.crear({
              idSocio,
              version,
              vigenteDesde: new Date('2026-01-01T00:00:00Z'),
              calculo: { tipo: 'porcentaje', puntosBasicos: 750 },
              diasBloqueo: 0,
            });
            return r.ok ? r.valor : new Error('regla');
          });
          const ambito = { idSocio, modo: 'live' as const };
          const registrar = crearManejadorRegistrarHecho({ almacen, nuevoId: uuidv7 });
          const aplicar = crearAplicadorDeHechos({ almacen });
          const deps = { almacen, nuevoId: uuidv7, ahora: () => new Date() };
          let ejecuciones = 0;
          const ejecutar = () =>
            ejecutarLiquidaciones(deps, { modo: 'live', idEjecucion: `${idSocio}-corte-${++ejecuciones}`, traza: { idCorrelacion: 't' } });
          const pagar = async (exito: boolean) => {
            await pool.query(
              `UPDATE pagos SET estado = $2 WHERE id IN (SELECT id_pago FROM liquidaciones WHERE id_socio = $1 AND estado = 'EN_CURSO')`,
              [idSocio, exito ? 'EXITOSO' : 'FALLIDO'],
            );
            await cerrarLiquidacionesTerminadas({ almacen }, 'live');
          };

          const pasos: Paso[] = [...extras];
          const t = (minutos: number) => new Date(Date.parse('2026-02-01T00:00:00Z') + minutos * 60_000);
          ciclos.forEach((c, i) => {
            const id = `conv-${i}`;
            const hechos: SolicitudHecho[] = [
              {
                idEvento: `${id}-c`,
                tipo: 'creada',
                idConversion: id,
                idAfiliado: c.afiliado,
                monto: { unidadesMenores: c.venta, moneda: 'EUR' },
                ocurridoEn: t(0),
                version: 1,
              },
            ];
            if (c.ajuste !== null)
              hechos.push({
                idEvento: `${id}-j`,
                tipo: 'ajustada',
                idConversion: id,
                monto: { unidadesMenores: c.ajuste, moneda: 'EUR' },
                ocurridoEn: t(1),
                version: 2,
              });
            if (c.destino === 'aprobada' || c.destino === 'aprobada-y-revertida')
              hechos.push({ idEvento: `${id}-a`, tipo: 'aprobada', idConversion: id, ocurridoEn: t(2) });
            if (c.destino === 'revertida' || c.destino === 'aprobada-y-revertida')
              hechos.push({ idEvento: `${id}-r`, tipo: 'revertida', idConversion: id, ocurridoEn: t(3) });
            for (const s of hechos) for (let k = 0; k < c.copias; k += 1) pasos.push({ tipo: 'hecho', s });
          });
          // Barajar con el flujo de azar de fast-check (reproducible por su semilla).
          const it = azar[Symbol.iterator]();
          for (let i = pasos.length - 1; i > 0; i -= 1) {
            const j = (it.next().value as number) % (i + 1);
            [pasos[i], pasos[j]] = [pasos[j] as Paso, pasos[i] as Paso];
          }
          const dar = async (p: Paso) => {
            if (p.tipo === 'ejecutar') await ejecutar();
            else if (p.tipo === 'pagar') await pagar(p.exito);
            else {
              const r = await registrar(ambito, p.s, { idCorrelacion: 't' });
              expect(r.ok).toBe(true);
              await aplicar(ambito, p.s.idEvento);
            }
          };
          for (let i = 0; i < pasos.length; i += 3) await Promise.all(pasos.slice(i, i + 3).map(dar));
          // Liquidar y pagar hasta que no quede nada en curso.
          for (let ronda = 0; ronda < 4; ronda += 1) {
            await ejecutar();
            await pagar(true);
          }

          const apuntes = (
            await pool.query<{
              id: string;
              id_asiento: string;
              id_afiliado: string;
              moneda: Moneda;
              cuenta: Apunte['cuenta'];
              lado: Apunte['lado'];
              unidades: string;
            }>(
              'SELECT id, id_asiento, id_afiliado, moneda, cuenta, lado, unidades::text AS unidades FROM apuntes_libro WHERE id_socio = $1',
              [idSocio],
            )
          ).rows.map(
            (a): Apunte => ({ ...a, idAsiento: a.id_asiento, idSocio, idAfiliado: a.id_afiliado, unidadesMenores: Number(a.unidades) }),
          );
          const filas = (
            await pool.query<FilaLiquidacion>(
              `SELECT id, id_socio, id_afiliado, moneda, id_ejecucion, creada_en, estado, neto_unidades::text AS neto_unidades
               FROM liquidaciones WHERE id_socio = $1`,
              [idSocio],
            )
          ).rows;
          const partidas = (
            await pool.query<FilaPartida & { id_liquidacion: string; anulada: boolean }>(
              `SELECT id_liquidacion, id_partida, tipo, id_comision, id_conversion, unidades::text AS unidades, anulada
               FROM partidas_liquidacion WHERE id_liquidacion = ANY($1::text[])`,
              [filas.map((f) => f.id)],
            )
          ).rows;
          const liquidaciones = filas.map((l) =>
            liquidacionDeFilas(
              l,
              partidas.filter((p) => p.id_liquidacion === l.id),
            ),
          );
          // El libro cuadra y pagado en liquidaciones = comisiones pagadas − recuperaciones recuperadas.
          expect(LibroMayor.verificar(apuntes, liquidaciones)).toEqual([]);
          const vivas = partidas.filter((p) => !p.anulada).map((p) => p.id_partida);
          expect(new Set(vivas).size).toBe(vivas.length);
          expect(await pool.query("SELECT 1 FROM liquidaciones WHERE estado = 'EN_CURSO' AND id_socio = $1", [idSocio])).toMatchObject({
            rowCount: 0,
          });

          // Cada comisión es la de su plan: el 7,5 % de la venta final, y REVERTIDA o no según el destino.
          const comisiones = new Map(
            (
              await pool.query<{ id_conversion: string; unidades: string; estado: string }>(
                'SELECT id_conversion, unidades::text AS unidades, estado FROM comisiones WHERE id_socio = $1',
                [idSocio],
              )
            ).rows.map((c) => [c.id_conversion, c]),
          );
          let debido = new Map<string, number>();
          ciclos.forEach((c, i) => {
            const esperada = ReglaComision.aplicarPorcentaje(c.ajuste ?? c.venta, 750);
            const fila = comisiones.get(`conv-${i}`);
            expect(Number(fila?.unidades)).toBe(esperada);
            const revertida = c.destino === 'revertida' || c.destino === 'aprobada-y-revertida';
            if (revertida) expect(fila?.estado).toBe('REVERTIDA');
            if (c.destino === 'pendiente') expect(fila?.estado).toBe('PENDIENTE');
            if (c.destino === 'aprobada') expect(['PAGADA', 'APROBADA']).toContain(fila?.estado);
            if (c.destino === 'aprobada') debido = new Map(debido).set(c.afiliado, (debido.get(c.afiliado) ?? 0) + esperada);
          });
          // Lo que el libro dice del afiliado es exactamente lo debido: cobrado o aún aprobado, menos lo que falta recuperar.
          for (const libro of LibroMayor.saldosPorLibro(apuntes)) {
            const s = libro.saldos;
            expect(s.en_liquidacion).toBe(0);
            expect(s.pagado - s.recuperado - s.por_recuperar + s.aprobado).toBe(debido.get(libro.idAfiliado) ?? 0);
          }
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});
