/**
 * Un modelo en memoria de lo que hará la persistencia con las funciones puras del dominio: cada
 * operación es «una transacción» que lee lo guardado, llama al dominio y escribe lo que devuelve, con
 * las mismas reglas que tendrá la base:
 * - hechos únicos por (socio, idEvento); apuntes, ajustes y liquidaciones únicos por id y escritos con
 *   `ON CONFLICT DO NOTHING` (un id repetido no escribe nada, y si llegara con otro contenido sería un
 *   defecto: aquí lanza);
 * - una liquidación que ya existe no se vuelve a crear ni vuelve a marcar sus partidas;
 * - todo lo de una conversión (o de una liquidación) se hace de una vez (la fila bloqueada).
 * `comprobar()` verifica los invariantes del libro contra el estado guardado.
 */
import { expect } from 'vitest';
import { AjusteComision } from '../src/comisiones/ajuste-comision.js';
import { Comision, comisionDe } from '../src/comisiones/comision.js';
import { estadoConversion } from '../src/comisiones/conversion.js';
import type { HechoConversion } from '../src/comisiones/hecho-conversion.js';
import { LibroMayor, type Apunte, type Asiento } from '../src/comisiones/libro-mayor.js';
import {
  Liquidacion,
  comprobarExclusividad,
  planificarLiquidaciones,
  referenciaEnLiquidaciones,
  type DesenlacePago,
  type PlanLiquidaciones,
} from '../src/comisiones/liquidacion.js';
import { aplicarHechoConversion, asientoLiquidacionCreada, cerrarLiquidacion } from '../src/comisiones/movimientos.js';
import type { ReglaComision } from '../src/comisiones/regla-comision.js';
import { ok } from './comisiones.js';

export class MundoComisiones {
  readonly hechos = new Map<string, HechoConversion[]>();
  readonly instantaneas = new Map<string, ReglaComision>();
  readonly comisiones = new Map<string, Comision>();
  readonly ajustes = new Map<string, AjusteComision>();
  readonly liquidaciones = new Map<string, Liquidacion>();
  readonly apuntes = new Map<string, Apunte>();
  readonly asientos = new Map<string, Asiento>();
  ultimoPlan: PlanLiquidaciones | null = null;
  private ejecuciones = 0;

  constructor(
    readonly reglas: readonly ReglaComision[],
    public ahora: number,
  ) {}

  /** Escribe un asiento como la base: por id, sin pisar; el mismo id con otro contenido es un defecto. */
  private escribir(asiento: Asiento | null): void {
    if (asiento === null) return;
    expect(LibroMayor.cuadra(asiento)).toBe(true);
    const previo = this.asientos.get(asiento.id);
    if (previo) {
      expect(asiento, `el asiento ${asiento.id} se repite con otro contenido`).toEqual(previo);
      return;
    }
    this.asientos.set(asiento.id, asiento);
    for (const apunte of asiento.apuntes) {
      expect(this.apuntes.has(apunte.id), `apunte repetido ${apunte.id}`).toBe(false);
      this.apuntes.set(apunte.id, apunte);
    }
  }

  private ajustesDe(idComision: string): AjusteComision[] {
    return [...this.ajustes.values()].filter((a) => a.idComision === idComision);
  }

  /** Llega un hecho (quizá repetido). Devuelve lo que cambió. */
  entregar(hecho: HechoConversion) {
    const guardados = this.hechos.get(hecho.idConversion) ?? [];
    const idComision = Comision.id(hecho.idSocio, hecho.idConversion);
    const comision = this.comisiones.get(idComision) ?? null;
    const cambio = ok(
      aplicarHechoConversion({
        hechos: guardados,
        hecho,
        reglaInstantanea: this.instantaneas.get(hecho.idConversion) ?? null,
        reglas: this.reglas,
        liquidacion: comision?.liquidacion ?? null,
        ajustes: this.ajustesDe(idComision),
      }),
    );
    if (cambio.repetido) {
      expect(cambio.asiento).toBeNull();
      expect(cambio.ajuste).toBeNull();
      return cambio;
    }
    this.hechos.set(hecho.idConversion, [...guardados, hecho]);
    if (cambio.comision) {
      this.comisiones.set(cambio.comision.id, cambio.comision);
      if (!this.instantaneas.has(hecho.idConversion)) this.instantaneas.set(hecho.idConversion, cambio.comision.regla);
    }
    if (cambio.ajuste) {
      expect(this.ajustes.has(cambio.ajuste.id)).toBe(false);
      this.ajustes.set(cambio.ajuste.id, cambio.ajuste);
    }
    this.escribir(cambio.asiento);
    return cambio;
  }

  /** Una ejecución de liquidaciones en `ahora` (con `idEjecucion` dado, para repetir una). */
  ejecutar(idEjecucion = `corte-${++this.ejecuciones}`): readonly Liquidacion[] {
    const plan = ok(
      planificarLiquidaciones({
        idEjecucion,
        ahora: new Date(this.ahora),
        comisiones: [...this.comisiones.values()],
        ajustes: [...this.ajustes.values()],
        reglas: this.reglas,
      }),
    );
    this.ultimoPlan = plan;
    const creadas: Liquidacion[] = [];
    for (const liquidacion of plan.liquidaciones) {
      if (this.liquidaciones.has(liquidacion.id)) continue; // ON CONFLICT DO NOTHING: ni se crea ni marca nada
      this.liquidaciones.set(liquidacion.id, liquidacion);
      for (const p of liquidacion.partidas) {
        if (p.tipo === 'comision') {
          const c = this.comisiones.get(p.id);
          if (!c) throw new Error(`falta la comisión ${p.id}`);
          this.comisiones.set(
            p.id,
            Comision.conLiquidacion(c, { idLiquidacion: liquidacion.id, estado: 'EN_CURSO', unidadesMenores: p.unidadesMenores }),
          );
        } else {
          const a = this.ajustes.get(p.id);
          if (!a) throw new Error(`falta el ajuste ${p.id}`);
          this.ajustes.set(p.id, AjusteComision.conLiquidacion(a, { idLiquidacion: liquidacion.id, estado: 'EN_CURSO' }));
        }
      }
      this.escribir(asientoLiquidacionCreada(liquidacion));
      creadas.push(liquidacion);
    }
    return creadas;
  }

  get ultimaEjecucion(): string {
    return `corte-${this.ejecuciones}`;
  }

  enCurso(): Liquidacion[] {
    return [...this.liquidaciones.values()].filter((l) => l.estado === 'EN_CURSO').sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** El desenlace del Pago de una liquidación; se aplica dos veces (la segunda no debe escribir nada). */
  cerrar(idLiquidacion: string, desenlace: DesenlacePago) {
    const leer = () => {
      const liquidacion = this.liquidaciones.get(idLiquidacion);
      if (!liquidacion) throw new Error(`no existe ${idLiquidacion}`);
      const idsComision = new Set(liquidacion.partidas.map((p) => p.idComision));
      const comisiones = liquidacion.partidas.filter((p) => p.tipo === 'comision').map((p) => this.comisiones.get(p.id) as Comision);
      const ajustes = [...this.ajustes.values()].filter(
        (a) => idsComision.has(a.idComision) || liquidacion.partidas.some((p) => p.id === a.id),
      );
      return { liquidacion, desenlace, comisiones, ajustes };
    };
    const cierre = ok(cerrarLiquidacion(leer()));
    this.liquidaciones.set(idLiquidacion, cierre.liquidacion);
    for (const c of cierre.comisiones) this.comisiones.set(c.id, c);
    for (const a of cierre.ajustes) this.ajustes.set(a.id, a);
    for (const a of cierre.ajustesNuevos) {
      expect(this.ajustes.has(a.id)).toBe(false);
      this.ajustes.set(a.id, a);
    }
    this.escribir(cierre.asiento);
    const otraVez = ok(cerrarLiquidacion(leer()));
    expect(otraVez.asiento).toBeNull();
    expect(otraVez.ajustesNuevos).toEqual([]);
    return cierre;
  }

  /** Los invariantes, contra todo lo guardado. */
  comprobar(): void {
    const liquidaciones = [...this.liquidaciones.values()];
    // El libro cuadra y lo pagado en liquidaciones = comisiones pagadas − recuperaciones recuperadas.
    expect(LibroMayor.verificar([...this.apuntes.values()], liquidaciones)).toEqual([]);
    expect(comprobarExclusividad(liquidaciones).ok).toBe(true);
    // Los saldos del libro son exactamente la posición de lo guardado.
    const esperados = new Map<string, { comisiones: Comision[]; ajustes: AjusteComision[] }>();
    const clave = (x: { idSocio: string; idAfiliado: string; moneda: string }) => `${x.idSocio}|${x.idAfiliado}|${x.moneda}`;
    for (const c of this.comisiones.values()) {
      const e = esperados.get(clave(c)) ?? { comisiones: [], ajustes: [] };
      e.comisiones.push(c);
      esperados.set(clave(c), e);
    }
    for (const a of this.ajustes.values()) {
      const e = esperados.get(clave(a)) ?? { comisiones: [], ajustes: [] };
      e.ajustes.push(a);
      esperados.set(clave(a), e);
    }
    const libros = new Map(LibroMayor.saldosPorLibro(this.apuntes.values()).map((l) => [clave(l), l.saldos] as const));
    for (const k of new Set([...esperados.keys(), ...libros.keys()])) {
      const e = esperados.get(k) ?? { comisiones: [], ajustes: [] };
      const posicion = LibroMayor.saldosDe(e.comisiones, e.ajustes);
      const libro = libros.get(k) ?? { gasto: 0, ...LibroMayor.SALDOS_CERO };
      expect(libro, `saldos del libro ${k}`).toEqual({ gasto: LibroMayor.compromiso(posicion), ...posicion });
    }
    // Cada comisión guardada es la que dan sus hechos, su instantánea y su liquidación.
    for (const c of this.comisiones.values()) {
      const ref = ok(referenciaEnLiquidaciones(c.id, liquidaciones));
      expect(c.liquidacion).toEqual(ref);
      const regla = this.instantaneas.get(c.idConversion) as ReglaComision;
      const conversion = estadoConversion(c, this.hechos.get(c.idConversion) ?? []);
      expect(ok(comisionDe(conversion, regla, ref))).toEqual(c);
    }
    for (const a of this.ajustes.values()) {
      expect(a.unidadesMenores).toBeGreaterThan(0);
      const ref = ok(referenciaEnLiquidaciones(a.id, liquidaciones));
      expect(a.liquidacion).toEqual(ref ? { idLiquidacion: ref.idLiquidacion, estado: ref.estado } : null);
    }
    for (const l of liquidaciones) expect(Liquidacion.datosPago(l, 'p').ok).toBe(true);
  }
}
