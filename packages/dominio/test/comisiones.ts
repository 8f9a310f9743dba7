/** Constructores y generadores compartidos por los tests de conversiones, comisiones y liquidaciones. */
import fc from 'fast-check';
import { Dinero } from '../src/dinero.js';
import type { Moneda } from '../src/moneda.js';
import type { Resultado } from '../src/resultado.js';
import { validarHechoConversion, type DatosHechoConversion, type HechoConversion } from '../src/comisiones/hecho-conversion.js';
import { crearReglaComision, type DatosReglaComision, type ReglaComision } from '../src/comisiones/regla-comision.js';

export const T0 = Date.parse('2025-01-01T00:00:00.000Z');
export const DIA = 24 * 60 * 60 * 1000;

/** Desenvuelve un resultado que el test espera correcto; si no lo es, el mensaje muestra el error. */
export function ok<T, E>(resultado: Resultado<T, E>): T {
  if (!resultado.ok) throw new Error(`se esperaba un resultado correcto y llegó ${JSON.stringify(resultado.error)}`);
  return resultado.valor;
}

/** El error de un resultado que el test espera fallido. */
export function error<T, E>(resultado: Resultado<T, E>): E {
  if (resultado.ok) throw new Error(`se esperaba un error y llegó ${JSON.stringify(resultado.valor)}`);
  return resultado.error;
}

export function dinero(unidadesMenores: number, moneda: Moneda = 'USD'): Dinero {
  return ok(Dinero.deUnidadesMenores(unidadesMenores, moneda));
}

export function en(minutos: number): Date {
  return new Date(T0 + minutos * 60_000);
}

type Opcionales = Partial<Omit<DatosHechoConversion, 'tipo' | 'idEvento'>>;

/** Un hecho válido de la conversión `conv-1` del socio `socio-1` (se puede sobrescribir cualquier campo). */
export function hecho(tipo: HechoConversion['tipo'], idEvento: string, extra: Opcionales = {}): HechoConversion {
  const base: DatosHechoConversion = {
    tipo,
    idEvento,
    idSocio: 'socio-1',
    idConversion: 'conv-1',
    ocurridoEn: en(0),
    ...(tipo === 'creada' ? { idAfiliado: 'afiliado-1', monto: dinero(10_000) } : {}),
    ...extra,
  };
  return ok(validarHechoConversion(base));
}

/** Una copia estructuralmente igual (objeto y fecha nuevos): deduplicar es por contenido, no por identidad. */
export function copia(h: HechoConversion): HechoConversion {
  return { ...h, ocurridoEn: new Date(h.ocurridoEn.getTime()) };
}

export function regla(extra: Partial<DatosReglaComision> = {}): ReglaComision {
  return ok(
    crearReglaComision({
      idSocio: 'socio-1',
      version: 1,
      vigenteDesde: new Date(T0 - 365 * DIA),
      calculo: { tipo: 'porcentaje', puntosBasicos: 1_000 },
      ...extra,
    }),
  );
}

// ── Ciclos de vida ───────────────────────────────────────────────────────────

export type Desenlace = 'pendiente' | 'aprobada' | 'revertida' | 'aprobada-y-revertida';

/** Lo que el socio quiere contar de una conversión: creada, ajustes opcionales y un desenlace. */
export interface PlanConversion {
  readonly idConversion: string;
  readonly idAfiliado: string;
  readonly moneda: Moneda;
  /** Importe de la creación y de cada ajuste, en orden. */
  readonly importes: readonly number[];
  readonly desenlace: Desenlace;
  /** Versiones 1, 2, 3…, ninguna, o todas iguales: sin ellas (o empatadas) decide el desempate documentado. */
  readonly versiones: 'crecientes' | 'ninguna' | 'iguales';
  /** ¿Todos los hechos con el mismo `ocurridoEn`? (Empates que solo el `idEvento` deshace.) */
  readonly mismoInstante: boolean;
  /** Minutos desde T0 de la creación. */
  readonly minuto: number;
  /** ¿Los ajustes ocurren después de la aprobación (y por tanto, a menudo, después del pago)? */
  readonly ajustesTrasAprobar: boolean;
}

/** Los hechos del plan, en el orden en que ocurrieron (cada uno con su `idEvento` propio). */
export function hechosDe(plan: PlanConversion, idSocio = 'socio-1'): HechoConversion[] {
  const comun = { idSocio, idConversion: plan.idConversion };
  const hechos: HechoConversion[] = [];
  let paso = 0;
  const version = () => (plan.versiones === 'crecientes' ? paso + 1 : plan.versiones === 'iguales' ? 1 : null);
  const siguiente = () => ({ ocurridoEn: en(plan.minuto + (plan.mismoInstante ? 0 : paso)), version: version(), ...comun });
  const importe = (i: number) => {
    const tipo = i === 0 ? 'creada' : 'ajustada';
    const datos: Opcionales = {
      ...siguiente(),
      monto: dinero(plan.importes[i] ?? 1, plan.moneda),
      ...(i === 0 ? { idAfiliado: plan.idAfiliado } : {}),
    };
    hechos.push(hecho(tipo, `${plan.idConversion}:${tipo}:${i}`, datos));
    paso += 1;
  };
  const aprueba = plan.desenlace !== 'pendiente' && plan.desenlace !== 'revertida';
  importe(0);
  if (!plan.ajustesTrasAprobar) for (let i = 1; i < plan.importes.length; i++) importe(i);
  if (aprueba) {
    hechos.push(hecho('aprobada', `${plan.idConversion}:aprobada`, siguiente()));
    paso += 1;
  }
  if (plan.ajustesTrasAprobar) for (let i = 1; i < plan.importes.length; i++) importe(i);
  if (plan.desenlace === 'revertida' || plan.desenlace === 'aprobada-y-revertida') {
    hechos.push(hecho('revertida', `${plan.idConversion}:revertida`, { ...siguiente(), motivo: 'devolución' }));
  }
  return hechos;
}

/**
 * El importe que implica el plan: el último. Con versiones crecientes lo da la versión; sin ellas o
 * empatadas, el desempate (ajuste antes que creación, después el más tardío, después el `idEvento`
 * mayor: `…:ajustada:3` > `…:ajustada:2`).
 */
export function importeEsperado(plan: PlanConversion): number {
  return plan.importes[plan.importes.length - 1] ?? 0;
}

/** Estado que implica el plan, sin importar el orden de llegada. */
export function estadoEsperado(plan: PlanConversion): 'PENDIENTE' | 'APROBADA' | 'REVERTIDA' {
  if (plan.desenlace === 'pendiente') return 'PENDIENTE';
  return plan.desenlace === 'aprobada' ? 'APROBADA' : 'REVERTIDA';
}

export interface OpcionesPlan {
  readonly idConversion?: fc.Arbitrary<string>;
  readonly afiliados?: readonly string[];
  readonly monedas?: readonly Moneda[];
}

export function planConversion(opciones: OpcionesPlan = {}): fc.Arbitrary<PlanConversion> {
  return fc.record({
    idConversion: opciones.idConversion ?? fc.constant('conv-1'),
    idAfiliado: fc.constantFrom(...(opciones.afiliados ?? ['afiliado-1'])),
    moneda: fc.constantFrom(...(opciones.monedas ?? (['USD'] as const))),
    importes: fc.array(fc.integer({ min: 1, max: 5_000_000 }), { minLength: 1, maxLength: 4 }),
    desenlace: fc.constantFrom<Desenlace>('pendiente', 'aprobada', 'revertida', 'aprobada-y-revertida'),
    versiones: fc.constantFrom('crecientes' as const, 'ninguna' as const, 'iguales' as const),
    mismoInstante: fc.boolean(),
    minuto: fc.integer({ min: 0, max: 24 * 60 }),
    ajustesTrasAprobar: fc.boolean(),
  });
}

/**
 * Los hechos casi en el orden en que ocurrieron: con copias en cualquier sitio y algunos intercambiados
 * (lo habitual en la red, y lo que hace que lleguen reversiones y ajustes con la comisión ya pagada).
 */
export function entregaCasiOrdenada(hechos: readonly HechoConversion[]): fc.Arbitrary<HechoConversion[]> {
  const n = hechos.length;
  if (n === 0) return fc.constant([]);
  return fc
    .tuple(
      fc.array(fc.tuple(fc.nat({ max: Math.max(0, n - 1) }), fc.nat({ max: n })), { maxLength: n * 2 }),
      fc.array(fc.tuple(fc.nat({ max: Math.max(0, n - 1) }), fc.nat({ max: Math.max(0, n - 1) })), { maxLength: 3 }),
    )
    .map(([copias, cambios]) => {
      const lista = [...hechos];
      for (const [i, j] of cambios) {
        const a = lista[i] as HechoConversion;
        lista[i] = lista[j] as HechoConversion;
        lista[j] = a;
      }
      for (const [i, donde] of copias) lista.splice(Math.min(donde, lista.length), 0, copia(hechos[i] as HechoConversion));
      return lista;
    });
}

/**
 * Los hechos de un ciclo barajados y con copias (cualquier número, en cualquier posición): lo que la
 * red entrega.
 */
export function entregaDesordenada(hechos: readonly HechoConversion[]): fc.Arbitrary<HechoConversion[]> {
  if (hechos.length === 0) return fc.constant([]);
  return fc.array(fc.nat({ max: Math.max(0, hechos.length - 1) }), { maxLength: hechos.length * 3 }).chain((repetidos) => {
    const todos = [...hechos, ...repetidos.map((i) => copia(hechos[i] as HechoConversion))];
    return fc.shuffledSubarray(todos, { minLength: todos.length, maxLength: todos.length });
  });
}
