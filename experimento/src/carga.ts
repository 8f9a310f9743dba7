import { crearClienteHttp, type Respuesta } from './cliente-http.js';
import type { ControlRitmo } from './capacidad.js';
import { COPIAS, cuerpoEnConflicto, type PagoPlaneado, type Plan } from './plan.js';
import { cabecerasDe, type SocioCorrida } from './socios.js';
import type { ObservacionFuera, PeticionTrasSuspension } from './veredicto.js';

/**
 * Ejecuta el plan contra la API al ritmo que marque el control (bucle abierto, con tope de peticiones
 * en vuelo): la rampa que mide la capacidad y después el ritmo mantenido. Anota lo que el cliente ve de
 * cada referencia (para el veredicto desde fuera) y las series temporales (respuestas y latencias por
 * instante) para el informe.
 */

export interface ObservacionMutable {
  ids: Set<string>;
  aceptada: boolean;
  aceptadaSinLeer: boolean;
  denegada: boolean;
  estadoConflicto?: number;
  tardia?: { estado: number; replay: boolean; idPago: string | undefined };
}

export interface Contadores {
  peticiones: number;
  respuestas200: number;
  replays: number;
  r422: number;
  /** Respuestas 5xx o errores de red, que el cliente reintenta (la misma petición: otro duplicado). */
  transitorios: number;
  reintentosTransitorios: number;
  /** Respuestas perdidas a propósito (timeout del cliente) cuyo original el servidor sí aceptó (200). */
  timeoutsOriginalExitoso: number;
  /** …y su reintento fue reconocido como réplica (Idempotent-Replayed). */
  timeoutsReintentoReconocido: number;
  dobles: number;
  triples: number;
  conflictos: number;
  tardias: number;
  /** Envíos cuyo número de pago es menor que otro ya enviado del mismo socio. */
  fueraDeOrden: number;
  /** Cambios de socio entre dos envíos consecutivos. */
  entrelazados: number;
  otros4xx: Record<string, number>;
}

/** Observaciones por socio (su id) y, dentro, por referencia: las referencias se repiten entre socios. */
export type Observaciones = Map<string, Map<string, ObservacionMutable>>;

/** La suspensión a mitad de carga: quién, cuándo la confirmó la administración y qué recibió después. */
export interface EstadoSuspension {
  readonly idSocio: string | undefined;
  /** `performance.now()` en el que la administración confirmó la suspensión. */
  confirmadaEn: number | undefined;
  /** Cada petición del socio suspendido enviada después de confirmarse, con lo que recibió. */
  readonly tras: PeticionTrasSuspension[];
}

export interface EstadoCarga {
  readonly contadores: Contadores;
  /** [ms desde el inicio, latencia ms] de cada respuesta leída. */
  readonly muestras: [number, number][];
  enVuelo: number;
  despachadas: number;
  ritmoObjetivo: number;
  /** Tiempo que el despachador esperó con el ritmo permitiendo enviar, pero sin hueco en la concurrencia (la API tardaba). */
  sinHuecoMs: number;
}

export interface OpcionesCarga {
  readonly url: string;
  readonly plan: Plan;
  /** El ritmo de cada momento: la rampa que mide la capacidad y después el mantenido (o uno fijo). */
  readonly control: ControlRitmo;
  readonly concurrencia: number;
  /** Los socios de la corrida, por número (el del plan, 1…P). */
  readonly socios: readonly SocioCorrida[];
  readonly suspension: EstadoSuspension;
  readonly observaciones: Observaciones;
  /** Instante (performance.now()) de referencia de las series. */
  readonly t0: number;
  readonly estado: EstadoCarga;
}

const esperar = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Una respuesta y si su petición salió después de confirmarse la suspensión de su socio. */
type Enviada = Respuesta & { readonly trasSuspension: boolean };
const transitorio = (r: Respuesta) => r.estado === 0 || r.estado >= 500 || r.estado === 429 || r.estado === 408;

export function nuevoEstadoCarga(): EstadoCarga {
  return {
    contadores: {
      peticiones: 0,
      respuestas200: 0,
      replays: 0,
      r422: 0,
      transitorios: 0,
      reintentosTransitorios: 0,
      timeoutsOriginalExitoso: 0,
      timeoutsReintentoReconocido: 0,
      dobles: 0,
      triples: 0,
      conflictos: 0,
      tardias: 0,
      fueraDeOrden: 0,
      entrelazados: 0,
      otros4xx: {},
    },
    muestras: [],
    enVuelo: 0,
    despachadas: 0,
    ritmoObjetivo: 0,
    sinHuecoMs: 0,
  };
}

export function crearEjecutor(o: OpcionesCarga) {
  const cliente = crearClienteHttp(o.url, o.concurrencia);
  const c = o.estado.contadores;
  const socioDe = (p: PagoPlaneado): SocioCorrida => {
    const s = o.socios[p.socio - 1];
    if (!s) throw new Error(`el plan tiene el socio ${p.socio} y la corrida solo ${o.socios.length}`);
    return s;
  };
  const obs = (p: PagoPlaneado): ObservacionMutable => {
    const id = socioDe(p).id;
    let delSocio = o.observaciones.get(id);
    if (!delSocio) {
      delSocio = new Map();
      o.observaciones.set(id, delSocio);
    }
    let x = delSocio.get(p.cuerpo.referencia_pago);
    if (!x) {
      x = { ids: new Set(), aceptada: false, aceptadaSinLeer: false, denegada: false };
      delSocio.set(p.cuerpo.referencia_pago, x);
    }
    return x;
  };

  const una = async (p: PagoPlaneado, cuerpo: string, perder = false): Promise<Enviada> => {
    const socio = socioDe(p);
    c.peticiones += 1;
    o.estado.enVuelo += 1;
    const enviada = performance.now();
    const r = await cliente.enviarPago(cuerpo, { perderRespuesta: perder, cabeceras: cabecerasDe(socio, cuerpo) });
    o.estado.enVuelo -= 1;
    const s = o.suspension;
    const trasSuspension = socio.id === s.idSocio && s.confirmadaEn !== undefined && enviada > s.confirmadaEn;
    if (trasSuspension) s.tras.push({ referencia: p.cuerpo.referencia_pago, estado: r.estado, idPago: r.idPago });
    if (r.estado === 403) obs(p).denegada = true;
    if (r.estado === 200 && r.perdida) obs(p).aceptadaSinLeer = true;
    if (!r.perdida) o.estado.muestras.push([performance.now() - o.t0, r.latenciaMs]);
    if (r.estado === 200 && !r.perdida) {
      c.respuestas200 += 1;
      if (r.replay) c.replays += 1;
    } else if (r.estado === 422) c.r422 += 1;
    else if (transitorio(r)) c.transitorios += 1;
    else if (!r.perdida) c.otros4xx[String(r.estado)] = (c.otros4xx[String(r.estado)] ?? 0) + 1;
    return { ...r, trasSuspension };
  };

  /** Envía y reintenta lo transitorio (5xx, red) con espera creciente durante hasta 3 minutos: como un socio de verdad. */
  const conReintentos = async (p: PagoPlaneado, cuerpo: string): Promise<Enviada> => {
    const limite = Date.now() + 180_000;
    let r = await una(p, cuerpo);
    for (let i = 0; transitorio(r) && Date.now() < limite; i += 1) {
      await esperar(Math.min(2000, 50 * 2 ** i) * (0.5 + Math.random()));
      c.reintentosTransitorios += 1;
      r = await una(p, cuerpo);
    }
    return r;
  };

  const anotar = (p: PagoPlaneado, r: Respuesta) => {
    if (r.estado !== 200 || r.perdida) return;
    const x = obs(p);
    x.aceptada = true;
    if (r.idPago) x.ids.add(r.idPago);
    else x.ids.add('(200 sin id_pago)');
  };

  /** Lo que le pasa a un pago en la carga principal: su modo de envío y, si toca, el conflicto. */
  const ejecutarPago = async (p: PagoPlaneado): Promise<void> => {
    const cuerpo = JSON.stringify(p.cuerpo);
    obs(p);
    switch (p.modo) {
      case 'unico':
        anotar(p, await conReintentos(p, cuerpo));
        break;
      case 'doble':
      case 'triple': {
        if (p.modo === 'doble') c.dobles += 1;
        else c.triples += 1;
        const rs = await Promise.all(Array.from({ length: COPIAS[p.modo] }, () => conReintentos(p, cuerpo)));
        for (const r of rs) anotar(p, r);
        break;
      }
      case 'timeout': {
        const original = await una(p, cuerpo, true);
        await esperar(20 + Math.random() * 200);
        const reintento = await conReintentos(p, cuerpo);
        if (original.estado === 200) {
          c.timeoutsOriginalExitoso += 1;
          if (reintento.estado === 200 && reintento.replay) c.timeoutsReintentoReconocido += 1;
        }
        anotar(p, reintento);
        break;
      }
    }
    if (p.conflicto) {
      c.conflictos += 1;
      const r = await conReintentos(p, JSON.stringify(cuerpoEnConflicto(p.cuerpo)));
      // Tras la suspensión lo que cuenta es el 403 (regla de la suspensión), no el 422.
      if (!r.trasSuspension) obs(p).estadoConflicto = r.estado;
    }
  };

  const tardia = async (p: PagoPlaneado): Promise<void> => {
    c.tardias += 1;
    const r = await conReintentos(p, JSON.stringify(p.cuerpo));
    if (!r.trasSuspension) obs(p).tardia = { estado: r.estado, replay: r.replay, idPago: r.idPago };
  };

  /**
   * Despacha `trabajos` (cada uno cuesta `coste` peticiones) al ritmo que marque el control en cada
   * momento (bucle abierto: cubeta de fichas), sin pasar de la concurrencia.
   */
  const despachar = async <T>(trabajos: readonly T[], coste: (t: T) => number, ejecutar: (t: T) => Promise<void>) => {
    const e = o.estado;
    const enCurso = new Set<Promise<void>>();
    let fichas = 0;
    let consumidas = 0;
    let ultimo = performance.now();
    for (const t of trabajos) {
      const k = coste(t);
      for (;;) {
        const ahora = performance.now();
        const ritmo = o.control.ritmo();
        e.ritmoObjetivo = ritmo;
        if (ritmo > 0) {
          fichas += ((ahora - ultimo) / 1000) * ritmo;
          fichas = Math.min(fichas, Math.max(k, ritmo * 0.05));
        }
        ultimo = ahora;
        const porRitmo = ritmo > 0 && fichas < k;
        if (!porRitmo && e.enVuelo + k <= o.concurrencia) break;
        await esperar(porRitmo ? Math.max(1, ((k - fichas) / ritmo) * 1000) : 2);
        if (!porRitmo) e.sinHuecoMs += performance.now() - ahora;
      }
      if (o.control.ritmo() > 0) fichas -= k;
      consumidas += k;
      e.despachadas = consumidas;
      const promesa = ejecutar(t).finally(() => enCurso.delete(promesa));
      enCurso.add(promesa);
    }
    await Promise.all(enCurso);
  };

  /** La carga principal, en el orden del plan (entrelazado y desordenado). */
  const cargaPrincipal = async () => {
    const maximos = new Map<number, number>();
    let socioAnterior: number | undefined;
    const coste = (p: PagoPlaneado) => COPIAS[p.modo] + (p.conflicto ? 1 : 0);
    await despachar(o.plan.pagos, coste, async (p) => {
      if ((maximos.get(p.socio) ?? 0) > p.n) c.fueraDeOrden += 1;
      maximos.set(p.socio, Math.max(maximos.get(p.socio) ?? 0, p.n));
      if (socioAnterior !== undefined && socioAnterior !== p.socio) c.entrelazados += 1;
      socioAnterior = p.socio;
      await ejecutarPago(p);
    });
  };

  /** Las réplicas tardías, cuando los pagos ya terminaron. */
  const replicasTardias = async () => {
    await despachar(
      o.plan.pagos.filter((p) => p.tardia),
      () => 1,
      tardia,
    );
  };

  return { cargaPrincipal, replicasTardias, cliente, cerrar: () => cliente.cerrar() };
}

/** Las observaciones mutables, congeladas para el veredicto. */
export function paraVeredicto(observaciones: Observaciones): Map<string, ReadonlyMap<string, ObservacionFuera>> {
  return new Map([...observaciones].map(([socio, refs]) => [socio, new Map(refs)]));
}

/** Cuántas referencias aceptó cada socio (para el informe). */
export function aceptadasPorSocio(observaciones: Observaciones): number {
  let n = 0;
  for (const refs of observaciones.values()) for (const x of refs.values()) if (x.aceptada) n += 1;
  return n;
}
