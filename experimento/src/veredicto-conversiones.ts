import {
  Dinero,
  LibroMayor,
  calcularComision,
  crearReglaComision,
  estadoConversion,
  validarHechoConversion,
  type Apunte,
  type Conversion,
  type CuentaLibro,
  type HechoConversion,
  type Liquidacion,
  type Moneda,
  type ReglaComision,
} from '@aeropartners/dominio';
import { MAXIMO_IDS, type ResultadoRegla, type Violacion } from '@aeropartners/kit-pruebas';
import type { CuerpoHecho, HechoPlaneado, PlanConversiones, ReglaPlaneada } from './conversiones-plan.js';

/**
 * El veredicto de las conversiones (issue 12), desde dentro (lo que quedó en PostgreSQL) y desde la API
 * (lo que un socio lee): lo que «cada hecho surte efecto una vez en cualquier orden y cada comisión llega
 * al afiliado una vez» significa. Lo esperado de cada conversión lo calcula el DOMINIO
 * (`estadoConversion`, `calcularComision`) sobre el conjunto de hechos de su plan; el libro lo comprueba
 * `LibroMayor.verificar`. Este módulo es puro: la lectura de la base y de la API va en
 * `leer-conversiones.ts`, y los tests plantan cada violación en datos hechos a mano.
 */

export type CodigoReglaConversiones =
  | 'hechos-aceptados'
  | 'conversion-segun-plan'
  | 'comision-una-vez'
  | 'recuperacion-una-vez'
  | 'libro-cuadra'
  | 'pagos-de-liquidaciones';

export const DESCRIPCION_REGLAS_CONVERSIONES: Readonly<Record<CodigoReglaConversiones, string>> = {
  'hechos-aceptados':
    'Cada hecho de conversión acabó en 202 (el socio suspendido: 202 o 403) con su id_conversion, como mucho una respuesta sin Idempotent-Replayed, la réplica tardía reconocida, y cada hecho aceptado está guardado y aplicado (ninguno sin enviar)',
  'conversion-segun-plan':
    'Estado, venta y comisión (importe y estado) de cada conversión, en la base y en GET /conversiones/{id}, son los que el dominio calcula sobre los hechos de su plan, sea cual sea el orden de llegada',
  'comision-una-vez':
    'Ninguna comisión ni ajuste en dos liquidaciones no anuladas, y cada comisión apunta a la liquidación viva que la contiene con el mismo importe',
  'recuperacion-una-vez':
    'Por cada comisión pagada, lo pagado + complementos − recuperaciones es exactamente lo debido (0 si se revirtió): cada recuperación una vez; sin pago, ningún ajuste',
  'libro-cuadra':
    'Libro mayor: cada asiento cuadra, por afiliado y moneda liquidaciones pagadas = pagado − recuperado (LibroMayor.verificar), y GET /afiliados/{id}/saldo lo dice igual',
  'pagos-de-liquidaciones':
    'Cada liquidación: neto = sus partidas = su pago; PAGADA ⇔ pago EXITOSO, ANULADA ⇔ FALLIDO, ninguna en curso ni nada por liquidar al final; por afiliado y moneda, los pagos EXITOSO suman el neto de las comisiones pagadas',
};

const REGLAS = Object.keys(DESCRIPCION_REGLAS_CONVERSIONES) as CodigoReglaConversiones[];

/** Lo que el cliente vio de un hecho (un `id_evento` de un socio). */
export interface ObservacionHecho {
  /** Estado HTTP final de cada copia, tras sus reintentos. */
  readonly estados: number[];
  /** `id_conversion` de cada respuesta 202. */
  readonly idsConversion: Set<string>;
  replays: number;
  tardia?: { readonly estado: number; readonly replay: boolean };
}

/** Por socio (id) y `id_evento`. */
export type ObservacionesHechos = Map<string, Map<string, ObservacionHecho>>;

export interface FilaHecho {
  readonly socio: string;
  readonly idEvento: string;
  readonly idConversion: string;
  readonly aplicado: boolean;
}
export interface FilaConversion {
  readonly socio: string;
  readonly id: string;
  readonly estado: string;
  readonly bloqueada: boolean;
  readonly idAfiliado: string | null;
  readonly venta: number | null;
  readonly moneda: string | null;
}
export interface FilaComision {
  readonly id: string;
  readonly socio: string;
  readonly idConversion: string;
  readonly idAfiliado: string;
  readonly moneda: string;
  readonly unidades: number;
  readonly estado: string;
  readonly estadoConversion: string;
  readonly idLiquidacion: string | null;
  readonly liquidacionEstado: string | null;
  readonly liquidacionUnidades: number | null;
}
export interface FilaAjuste {
  readonly id: string;
  readonly tipo: 'recuperacion' | 'complemento';
  readonly idComision: string;
  readonly socio: string;
  readonly idAfiliado: string;
  readonly moneda: string;
  readonly unidades: number;
  readonly idLiquidacion: string | null;
  readonly liquidacionEstado: string | null;
}
export interface FilaLiquidacion {
  readonly id: string;
  readonly socio: string;
  readonly idAfiliado: string;
  readonly moneda: string;
  readonly estado: string;
  readonly neto: number;
  readonly idPago: string;
  /** El pago de la liquidación (null: no existe). */
  readonly pago: { readonly estado: string; readonly unidades: number; readonly moneda: string } | null;
}
export interface FilaPartida {
  readonly idLiquidacion: string;
  readonly idPartida: string;
  readonly tipo: 'comision' | 'complemento' | 'recuperacion';
  readonly idComision: string;
  readonly unidades: number;
  readonly anulada: boolean;
}
/** `GET /conversiones/{id}` con la clave de su socio. */
export interface LecturaConversion {
  readonly estado: number;
  readonly cuerpo: {
    readonly estado?: string;
    readonly monto?: number | null;
    readonly comision?: { readonly monto: number; readonly estado: string } | null;
  } | null;
}
/** `GET /afiliados/{id}/saldo` con la clave de su socio. */
export interface LecturaSaldo {
  readonly socio: string;
  readonly idAfiliado: string;
  readonly estado: number;
  readonly saldos: readonly Readonly<Record<string, number | string>>[];
}

export interface DatosConversiones {
  readonly hechos: readonly FilaHecho[];
  readonly conversiones: readonly FilaConversion[];
  readonly comisiones: readonly FilaComision[];
  readonly ajustes: readonly FilaAjuste[];
  readonly liquidaciones: readonly FilaLiquidacion[];
  readonly partidas: readonly FilaPartida[];
  readonly apuntes: readonly Apunte[];
  /** Por `${socio} ${id_conversion}`. */
  readonly api: ReadonlyMap<string, LecturaConversion>;
  readonly saldos: readonly LecturaSaldo[];
  /** Lo que una ejecución liquidaría ahora (`planificarLiquidaciones` sobre las candidatas): al final, nada. */
  readonly porLiquidar: readonly string[];
  /** Grupos (socio, afiliado, moneda) que no se liquidan (p. ej. saldo negativo arrastrado): sus comisiones siguen APROBADA. */
  readonly sinLiquidar: readonly { readonly socio: string; readonly idAfiliado: string; readonly moneda: string }[];
}

export interface EntradaConversiones {
  readonly plan: PlanConversiones;
  /** Ids de los socios, por número del plan (1…P → índice 0…P−1). */
  readonly socios: readonly string[];
  readonly suspendido?: string;
  readonly observaciones: ObservacionesHechos;
  readonly datos: DatosConversiones;
}

export interface CifrasConversiones {
  readonly conversiones: number;
  readonly porEstado: Readonly<Record<string, number>>;
  readonly liquidaciones: number;
  readonly liquidacionesPorEstado: Readonly<Record<string, number>>;
  readonly pagosExitosos: number;
  readonly pagosFallidos: number;
  readonly pagadoUnidades: number;
  readonly recuperaciones: number;
  readonly recuperacionesRecuperadas: number;
  readonly complementos: number;
}

export interface VeredictoConversiones {
  readonly reglas: ResultadoRegla<CodigoReglaConversiones>[];
  readonly violaciones: Violacion<CodigoReglaConversiones>[];
  readonly cifras: CifrasConversiones;
}

const clave = (...partes: string[]) => partes.join(' ');
const aUnidades = (n: number | null | undefined) => (typeof n === 'number' ? Math.round(n * 100) : null);

/** El hecho del plan como lo ve el dominio (con el socio que lo envió). */
export function hechoDeDominio(idSocio: string, c: CuerpoHecho): HechoConversion {
  const monto = c.monto === undefined ? null : Dinero.de(c.monto, c.moneda);
  if (monto && !monto.ok) throw new Error(`el plan tiene un importe inválido en ${c.id_evento}`);
  const r = validarHechoConversion({
    tipo: c.tipo.slice('conversion.'.length),
    idEvento: c.id_evento,
    idSocio,
    idConversion: c.id_conversion,
    ocurridoEn: new Date(c.ocurrido_en),
    idAfiliado: c.id_afiliado ?? null,
    monto: monto?.valor ?? null,
    version: c.version ?? null,
    motivo: c.motivo ?? null,
  });
  if (!r.ok) throw new Error(`el plan tiene un hecho inválido (${c.id_evento}): ${r.error.tipo}`);
  return r.valor;
}

/** La regla planeada como la del dominio (la que `pnpm socios comision` debe haber guardado). */
export function reglaDeDominio(idSocio: string, r: ReglaPlaneada): ReglaComision {
  const tope = r.tope ? Dinero.deUnidadesMenores(r.tope.unidadesMenores, r.tope.moneda) : null;
  const regla = crearReglaComision({
    idSocio,
    version: 1,
    vigenteDesde: new Date(0),
    calculo: { tipo: 'porcentaje', puntosBasicos: r.puntosBasicos },
    tope: tope?.ok ? tope.valor : null,
    diasBloqueo: r.diasBloqueo,
  });
  if (!regla.ok) throw new Error(`regla planeada inválida para ${idSocio}: ${regla.error.tipo}`);
  return regla.valor;
}

/** ¿Qué hechos de un socio cuentan? Todos los del plan; del suspendido, solo los que recibieron 202. */
function aceptado(e: EntradaConversiones, idSocio: string, h: HechoPlaneado): boolean {
  if (idSocio !== e.suspendido) return true;
  const x = e.observaciones.get(idSocio)?.get(h.cuerpo.id_evento);
  return (x?.estados.includes(202) ?? false) || x?.tardia?.estado === 202;
}

export function juzgarConversiones(e: EntradaConversiones): VeredictoConversiones {
  const fallos = new Map<CodigoReglaConversiones, string[]>(REGLAS.map((r) => [r, []]));
  const anotar = (regla: CodigoReglaConversiones, texto: string) => fallos.get(regla)?.push(texto);
  const d = e.datos;
  const socioDe = (numero: number) => e.socios[numero - 1] ?? `socio-${numero}`;

  // ── hechos-aceptados ──
  const hechosEnBase = new Map(d.hechos.map((h) => [clave(h.socio, h.idEvento), h]));
  const planeados = new Set<string>();
  for (const c of e.plan.conversiones) {
    const socio = socioDe(c.socio);
    for (const h of c.hechos) {
      const id = h.cuerpo.id_evento;
      planeados.add(clave(socio, id));
      const quien = `${socio} · ${id}`;
      const x = e.observaciones.get(socio)?.get(id);
      if (!x || x.estados.length === 0) {
        anotar('hechos-aceptados', `${quien}: no se envió`);
        continue;
      }
      const validos = socio === e.suspendido ? [202, 403] : [202];
      const malos = x.estados.filter((s) => !validos.includes(s));
      if (malos.length > 0) anotar('hechos-aceptados', `${quien}: respuestas ${malos.join(', ')}`);
      const ids = [...x.idsConversion];
      if (ids.some((i) => i !== h.cuerpo.id_conversion)) anotar('hechos-aceptados', `${quien}: id_conversion ${ids.join(', ')}`);
      const nuevos = x.estados.filter((s) => s === 202).length - x.replays;
      if (nuevos > 1) anotar('hechos-aceptados', `${quien}: ${nuevos} respuestas 202 sin Idempotent-Replayed`);
      if (x.tardia && !(x.tardia.estado === 202 && x.tardia.replay) && !(socio === e.suspendido && x.tardia.estado === 403))
        anotar('hechos-aceptados', `${quien}: réplica tardía ${x.tardia.estado}${x.tardia.replay ? ' (replay)' : ''}`);
      if (x.estados.includes(202)) {
        const enBase = hechosEnBase.get(clave(socio, id));
        if (!enBase) anotar('hechos-aceptados', `${quien}: aceptado y no está en la base`);
        else if (!enBase.aplicado) anotar('hechos-aceptados', `${quien}: guardado y sin aplicar`);
      }
    }
  }
  for (const h of d.hechos)
    if (!planeados.has(clave(h.socio, h.idEvento)))
      anotar('hechos-aceptados', `${h.socio} · ${h.idEvento}: en la base sin haberse enviado`);

  // ── conversion-segun-plan ──
  const conversionesEnBase = new Map(d.conversiones.map((c) => [clave(c.socio, c.id), c]));
  const comisionDeConversion = new Map(d.comisiones.map((c) => [clave(c.socio, c.idConversion), c]));
  const sinLiquidar = new Set(d.sinLiquidar.map((g) => clave(g.socio, g.idAfiliado, g.moneda)));
  const enPlan = new Set<string>();
  const esperadas = new Map<string, Conversion>();
  for (const c of e.plan.conversiones) {
    const socio = socioDe(c.socio);
    const k = clave(socio, c.idConversion);
    enPlan.add(k);
    const quien = `${socio} · ${c.idConversion}`;
    const hechos = c.hechos.filter((h) => aceptado(e, socio, h)).map((h) => hechoDeDominio(socio, h.cuerpo));
    const db = conversionesEnBase.get(k);
    if (hechos.length === 0) {
      if (db) anotar('conversion-segun-plan', `${quien}: en la base sin ningún hecho aceptado`);
      continue;
    }
    const esperada = estadoConversion({ idSocio: socio, idConversion: c.idConversion }, hechos);
    esperadas.set(k, esperada);
    if (!db) {
      anotar('conversion-segun-plan', `${quien}: no está en la base (se esperaba ${esperada.estado})`);
      continue;
    }
    const venta = esperada.venta?.unidadesMenores ?? null;
    const difiere: string[] = [];
    if (db.estado !== esperada.estado) difiere.push(`estado ${db.estado} ≠ ${esperada.estado}`);
    if (db.bloqueada !== esperada.bloqueada) difiere.push(`bloqueada ${db.bloqueada}`);
    if (db.idAfiliado !== esperada.idAfiliado) difiere.push(`afiliado ${db.idAfiliado} ≠ ${esperada.idAfiliado}`);
    if (db.venta !== venta) difiere.push(`venta ${db.venta} ≠ ${venta}`);
    if (db.moneda !== (esperada.venta?.moneda ?? null)) difiere.push(`moneda ${db.moneda} ≠ ${esperada.venta?.moneda}`);
    const comision = comisionDeConversion.get(k);
    let importe: number | null = null;
    let estadoComision: string | null = null;
    if (esperada.venta && esperada.estado !== 'ESPERANDO_CONVERSION') {
      const calculo = calcularComision(esperada.venta, reglaDeDominio(socio, e.plan.reglas[c.socio - 1] as ReglaPlaneada));
      if (!calculo.ok) difiere.push(`el dominio no calcula la comisión: ${calculo.error.tipo}`);
      else importe = calculo.valor;
      // Aprobada: pagada al final, salvo que su grupo no se pueda liquidar (saldo negativo arrastrado).
      const puedeQuedarAprobada =
        comision?.estado === 'APROBADA' && sinLiquidar.has(clave(socio, esperada.idAfiliado ?? '', esperada.venta.moneda));
      estadoComision = esperada.estado === 'APROBADA' ? (puedeQuedarAprobada ? 'APROBADA' : 'PAGADA') : esperada.estado;
      if (!comision) difiere.push('sin comisión');
      else {
        if (comision.unidades !== importe) difiere.push(`comisión ${comision.unidades} ≠ ${importe}`);
        if (comision.estado !== estadoComision) difiere.push(`comisión ${comision.estado} ≠ ${estadoComision}`);
        if (comision.estadoConversion !== esperada.estado) difiere.push(`comisión de una conversión ${comision.estadoConversion}`);
      }
    } else if (comision) difiere.push(`comisión sin conversión creada (${comision.estado})`);
    // Lo que lee el socio por la API.
    const api = d.api.get(k);
    // El suspendido ya no puede leer: lo suyo se juzga solo en la base.
    if (socio === e.suspendido) {
      // nada que leer
    } else if (api?.estado !== 200 || !api.cuerpo) difiere.push(`GET /conversiones: ${api?.estado ?? 'sin leer'}`);
    else {
      if (api.cuerpo.estado !== esperada.estado) difiere.push(`API estado ${api.cuerpo.estado}`);
      if (aUnidades(api.cuerpo.monto) !== venta) difiere.push(`API venta ${api.cuerpo.monto}`);
      const ac = api.cuerpo.comision ?? null;
      if ((ac === null) !== (importe === null)) difiere.push(`API comisión ${ac ? 'presente' : 'ausente'}`);
      else if (ac && (aUnidades(ac.monto) !== importe || ac.estado !== estadoComision))
        difiere.push(`API comisión ${ac.monto} ${ac.estado}`);
    }
    if (difiere.length > 0) anotar('conversion-segun-plan', `${quien}: ${difiere.join('; ')}`);
  }
  for (const c of d.conversiones)
    if (!enPlan.has(clave(c.socio, c.id))) anotar('conversion-segun-plan', `${c.socio} · ${c.id}: en la base sin estar en el plan`);

  // ── comision-una-vez ──
  const liquidacion = new Map(d.liquidaciones.map((l) => [l.id, l]));
  const vivasDe = new Map<string, FilaPartida[]>();
  for (const p of d.partidas) {
    const l = liquidacion.get(p.idLiquidacion);
    if (!l) anotar('comision-una-vez', `partida ${p.idPartida}: de una liquidación que no existe (${p.idLiquidacion})`);
    else if (p.anulada !== (l.estado === 'ANULADA'))
      anotar('comision-una-vez', `partida ${p.idPartida} en ${p.idLiquidacion} (${l.estado}): anulada=${p.anulada}`);
    if (!p.anulada) vivasDe.set(p.idPartida, [...(vivasDe.get(p.idPartida) ?? []), p]);
  }
  for (const [id, ps] of vivasDe)
    if (ps.length > 1)
      anotar('comision-una-vez', `${id}: en ${ps.length} liquidaciones no anuladas (${ps.map((p) => p.idLiquidacion).join(', ')})`);
  const coherente = (
    id: string,
    marca: { idLiquidacion: string | null; liquidacionEstado: string | null; liquidacionUnidades?: number | null },
  ) => {
    const viva = vivasDe.get(id)?.[0];
    const l = viva ? liquidacion.get(viva.idLiquidacion) : undefined;
    if (!viva) {
      if (marca.idLiquidacion !== null) anotar('comision-una-vez', `${id}: marcada en ${marca.idLiquidacion} sin estar viva en ninguna`);
    } else if (
      marca.idLiquidacion !== viva.idLiquidacion ||
      marca.liquidacionEstado !== l?.estado ||
      (marca.liquidacionUnidades !== undefined && marca.liquidacionUnidades !== viva.unidades)
    )
      anotar(
        'comision-una-vez',
        `${id}: marcada ${marca.idLiquidacion ?? '—'} ${marca.liquidacionEstado ?? ''} ${marca.liquidacionUnidades ?? ''}, viva en ${viva.idLiquidacion} ${l?.estado ?? ''} ${viva.unidades}`,
      );
  };
  for (const c of d.comisiones) coherente(c.id, c);
  for (const a of d.ajustes) coherente(a.id, a);

  // ── recuperacion-una-vez ──
  const ajustesDe = new Map<string, FilaAjuste[]>();
  for (const a of d.ajustes) ajustesDe.set(a.idComision, [...(ajustesDe.get(a.idComision) ?? []), a]);
  const pagadaEn = (id: string) =>
    d.partidas.filter((p) => p.idPartida === id && p.tipo === 'comision' && liquidacion.get(p.idLiquidacion)?.estado === 'PAGADA');
  for (const c of d.comisiones) {
    const pagos = pagadaEn(c.id);
    const ajustes = ajustesDe.get(c.id) ?? [];
    const pagado = pagos.reduce((t, p) => t + p.unidades, 0);
    const debida = c.estadoConversion === 'REVERTIDA' ? 0 : c.unidades;
    if (pagos.length === 0) {
      if (ajustes.length > 0) anotar('recuperacion-una-vez', `${c.id}: nunca pagada y con ajustes ${ajustes.map((a) => a.id).join(', ')}`);
      continue;
    }
    const neto = ajustes.reduce((t, a) => t + (a.tipo === 'complemento' ? a.unidades : -a.unidades), pagado);
    if (neto !== debida)
      anotar(
        'recuperacion-una-vez',
        `${c.id}: pagado ${pagado} ${ajustes.map((a) => `${a.tipo === 'complemento' ? '+' : '−'}${a.unidades}`).join(' ')} = ${neto}, debida ${debida}`,
      );
  }

  // ── libro-cuadra ──
  const comoLiquidacion = (l: FilaLiquidacion): Liquidacion =>
    Object.freeze({
      id: l.id,
      idSocio: l.socio,
      idAfiliado: l.idAfiliado,
      moneda: l.moneda as Moneda,
      idEjecucion: '',
      creadaEn: new Date(0),
      estado: l.estado as Liquidacion['estado'],
      partidas: [],
      netoUnidadesMenores: l.neto,
    });
  for (const v of LibroMayor.verificar(d.apuntes, d.liquidaciones.map(comoLiquidacion))) {
    if (v.tipo === 'AsientoDescuadrado') anotar('libro-cuadra', `${v.idAsiento}: debe ${v.debe} ≠ haber ${v.haber}`);
    else
      anotar(
        'libro-cuadra',
        `${v.libro.idSocio} · ${v.libro.idAfiliado} ${v.libro.moneda}: liquidaciones pagadas ${v.pagosLiquidaciones} ≠ pagado − recuperado ${v.pagadoMenosRecuperado}`,
      );
  }
  const libros = new Map(LibroMayor.saldosPorLibro(d.apuntes).map((l) => [clave(l.idSocio, l.idAfiliado, l.moneda), l.saldos]));
  const CUENTAS_API: readonly Exclude<CuentaLibro, 'gasto' | 'recuperado'>[] = [
    'pendiente',
    'aprobado',
    'en_liquidacion',
    'pagado',
    'por_recuperar',
  ];
  for (const s of d.saldos) {
    const quien = `${s.socio} · GET /afiliados/${s.idAfiliado}/saldo`;
    if (s.estado !== 200) {
      anotar('libro-cuadra', `${quien}: ${s.estado}`);
      continue;
    }
    const monedas = new Set([
      ...s.saldos.map((x) => String(x['moneda'])),
      ...[...libros.keys()].filter((k) => k.startsWith(clave(s.socio, s.idAfiliado, ''))).map((k) => k.split(' ').at(-1) ?? ''),
    ]);
    for (const moneda of monedas) {
      const libro = libros.get(clave(s.socio, s.idAfiliado, moneda));
      const api = s.saldos.find((x) => x['moneda'] === moneda);
      const distintas = CUENTAS_API.filter((cuenta) => aUnidades(Number(api?.[cuenta] ?? 0)) !== (libro?.[cuenta] ?? 0));
      if (distintas.length > 0)
        anotar(
          'libro-cuadra',
          `${quien} ${moneda}: ${distintas.map((cuenta) => `${cuenta} ${api?.[cuenta] ?? 0} (libro ${libro?.[cuenta] ?? 0})`).join(', ')}`,
        );
    }
  }

  // ── pagos-de-liquidaciones ──
  const partidasDe = new Map<string, FilaPartida[]>();
  for (const p of d.partidas) partidasDe.set(p.idLiquidacion, [...(partidasDe.get(p.idLiquidacion) ?? []), p]);
  const exitosos = new Map<string, number>();
  for (const l of d.liquidaciones) {
    const quien = `${l.id}`;
    const suma = (partidasDe.get(l.id) ?? []).reduce((t, p) => t + (p.tipo === 'recuperacion' ? -p.unidades : p.unidades), 0);
    if (suma !== l.neto) anotar('pagos-de-liquidaciones', `${quien}: neto ${l.neto} ≠ partidas ${suma}`);
    if (!l.pago) {
      anotar('pagos-de-liquidaciones', `${quien}: su pago ${l.idPago} no existe`);
      continue;
    }
    if (l.pago.unidades !== l.neto || l.pago.moneda !== l.moneda)
      anotar('pagos-de-liquidaciones', `${quien}: pago de ${l.pago.unidades} ${l.pago.moneda} para un neto de ${l.neto} ${l.moneda}`);
    const esperado = l.estado === 'PAGADA' ? 'EXITOSO' : l.estado === 'ANULADA' ? 'FALLIDO' : undefined;
    if (l.estado === 'EN_CURSO') anotar('pagos-de-liquidaciones', `${quien}: sigue EN_CURSO al final (pago ${l.pago.estado})`);
    else if (l.pago.estado !== esperado) anotar('pagos-de-liquidaciones', `${quien}: ${l.estado} con su pago ${l.pago.estado}`);
    if (l.pago.estado === 'EXITOSO') {
      const k = clave(l.socio, l.idAfiliado, l.moneda);
      exitosos.set(k, (exitosos.get(k) ?? 0) + l.pago.unidades);
    }
  }
  const pagadoNeto = new Map<string, number>();
  const sumar = (k: string, n: number) => pagadoNeto.set(k, (pagadoNeto.get(k) ?? 0) + n);
  for (const c of d.comisiones)
    if (c.liquidacionEstado === 'PAGADA') sumar(clave(c.socio, c.idAfiliado, c.moneda), c.liquidacionUnidades ?? 0);
  for (const a of d.ajustes)
    if (a.liquidacionEstado === 'PAGADA')
      sumar(clave(a.socio, a.idAfiliado, a.moneda), a.tipo === 'complemento' ? a.unidades : -a.unidades);
  for (const k of new Set([...exitosos.keys(), ...pagadoNeto.keys()])) {
    if ((exitosos.get(k) ?? 0) !== (pagadoNeto.get(k) ?? 0))
      anotar('pagos-de-liquidaciones', `${k}: pagos EXITOSO ${exitosos.get(k) ?? 0} ≠ comisiones pagadas netas ${pagadoNeto.get(k) ?? 0}`);
  }
  for (const id of d.porLiquidar) anotar('pagos-de-liquidaciones', `${id}: quedó por liquidar al final`);

  const reglas: ResultadoRegla<CodigoReglaConversiones>[] = [];
  const violaciones: Violacion<CodigoReglaConversiones>[] = [];
  for (const regla of REGLAS) {
    const lista = fallos.get(regla) ?? [];
    const descripcion = DESCRIPCION_REGLAS_CONVERSIONES[regla];
    reglas.push({ regla, descripcion, violaciones: lista.length });
    if (lista.length > 0) violaciones.push({ regla, descripcion, total: lista.length, ids: lista.slice(0, MAXIMO_IDS) });
  }
  const contar = <T>(xs: readonly T[], f: (x: T) => string) => {
    const r: Record<string, number> = {};
    for (const x of xs) r[f(x)] = (r[f(x)] ?? 0) + 1;
    return r;
  };
  const recuperaciones = d.ajustes.filter((a) => a.tipo === 'recuperacion');
  return {
    reglas,
    violaciones,
    cifras: {
      conversiones: d.conversiones.length,
      porEstado: contar(d.conversiones, (c) => c.estado),
      liquidaciones: d.liquidaciones.length,
      liquidacionesPorEstado: contar(d.liquidaciones, (l) => l.estado),
      pagosExitosos: d.liquidaciones.filter((l) => l.pago?.estado === 'EXITOSO').length,
      pagosFallidos: d.liquidaciones.filter((l) => l.pago?.estado === 'FALLIDO').length,
      pagadoUnidades: [...exitosos.values()].reduce((a, b) => a + b, 0),
      recuperaciones: recuperaciones.length,
      recuperacionesRecuperadas: recuperaciones.filter((a) => a.liquidacionEstado === 'PAGADA').length,
      complementos: d.ajustes.filter((a) => a.tipo === 'complemento').length,
    },
  };
}
