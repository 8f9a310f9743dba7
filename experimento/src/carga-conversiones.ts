import http from 'node:http';
import https from 'node:https';
import type { EstadoSuspension } from './carga.js';
import type { HechoPlaneado, PlanConversiones } from './conversiones-plan.js';
import { cabecerasDe, type SocioCorrida } from './socios.js';
import type { ObservacionHecho, ObservacionesHechos } from './veredicto-conversiones.js';

/**
 * Envía los hechos de conversión del plan (`conversiones-plan.ts`) como un socio de verdad: cada hecho
 * con sus copias (a la vez o una tras otra), reintentando lo transitorio (5xx, 429, red) hasta 3 minutos
 * igual que los pagos; las reversiones «tras el pago» cuando la API dice que la comisión está PAGADA; y
 * las réplicas tardías al final. Anota lo que ve de cada hecho para el veredicto desde fuera.
 */

export interface ContadoresConversiones {
  peticiones: number;
  r202: number;
  replays: number;
  r403: number;
  transitorios: number;
  reintentos: number;
  otros: Record<string, number>;
  /** Hechos enviados con copias simultáneas. */
  simultaneos: number;
  /** Reversiones enviadas con la comisión ya PAGADA (deben dar una recuperación) / sin llegar a pagarse. */
  revertidasTrasPago: number;
  revertidasSinPago: number;
  tardias: number;
}

export interface OpcionesCargaConversiones {
  readonly url: string;
  readonly plan: PlanConversiones;
  readonly socios: readonly SocioCorrida[];
  readonly suspension: EstadoSuspension;
  /** Hechos en vuelo como máximo (cada uno con sus copias). */
  readonly concurrencia: number;
}

const esperar = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const transitorio = (estado: number) => estado === 0 || estado >= 500 || estado === 429 || estado === 408;

interface RespuestaHttp {
  readonly estado: number;
  readonly cuerpo: string;
  readonly replay: boolean;
}

export function crearCargaConversiones(o: OpcionesCargaConversiones) {
  const base = o.url.replace(/\/+$/, '');
  const destino = new URL(`${base}/conversiones/eventos`);
  const modulo = destino.protocol === 'https:' ? https : http;
  const agente = new modulo.Agent({ keepAlive: true, maxSockets: o.concurrencia * 4 });
  const observaciones: ObservacionesHechos = new Map();
  const c: ContadoresConversiones = {
    peticiones: 0,
    r202: 0,
    replays: 0,
    r403: 0,
    transitorios: 0,
    reintentos: 0,
    otros: {},
    simultaneos: 0,
    revertidasTrasPago: 0,
    revertidasSinPago: 0,
    tardias: 0,
  };
  const socioDe = (h: HechoPlaneado): SocioCorrida => {
    const s = o.socios[h.socio - 1];
    if (!s) throw new Error(`el plan de conversiones tiene el socio ${h.socio} y la corrida solo ${o.socios.length}`);
    return s;
  };
  const obs = (h: HechoPlaneado): ObservacionHecho => {
    const id = socioDe(h).id;
    const delSocio = observaciones.get(id) ?? new Map<string, ObservacionHecho>();
    observaciones.set(id, delSocio);
    let x = delSocio.get(h.cuerpo.id_evento);
    if (!x) {
      x = { estados: [], idsConversion: new Set(), replays: 0 };
      delSocio.set(h.cuerpo.id_evento, x);
    }
    return x;
  };

  const pedir = (metodo: 'GET' | 'POST', ruta: string, cuerpo: string, cabeceras: Record<string, string>) =>
    new Promise<RespuestaHttp>((resolver) => {
      let hecho = false;
      const fin = (r: RespuestaHttp) => {
        if (!hecho) resolver(r);
        hecho = true;
      };
      const peticion = modulo.request(
        new URL(`${base}${ruta}`),
        {
          agent: agente,
          method: metodo,
          headers:
            metodo === 'POST'
              ? { ...cabeceras, 'content-type': 'application/json', 'content-length': Buffer.byteLength(cuerpo) }
              : cabeceras,
          timeout: 30_000,
        },
        (respuesta) => {
          let datos = '';
          respuesta.setEncoding('utf8');
          respuesta.on('data', (d: string) => (datos += d));
          respuesta.on('error', () => fin({ estado: 0, cuerpo: datos, replay: false }));
          respuesta.on('end', () =>
            fin({ estado: respuesta.statusCode ?? 0, cuerpo: datos, replay: respuesta.headers['idempotent-replayed'] === 'true' }),
          );
        },
      );
      peticion.on('timeout', () => peticion.destroy(new Error('tiempo agotado')));
      peticion.on('error', () => fin({ estado: 0, cuerpo: '', replay: false }));
      peticion.end(metodo === 'POST' ? cuerpo : undefined);
    });

  /** Una copia del hecho, con sus reintentos de lo transitorio (la misma petición, como un socio de verdad). */
  const unaCopia = async (h: HechoPlaneado): Promise<RespuestaHttp> => {
    const socio = socioDe(h);
    const cuerpo = JSON.stringify(h.cuerpo);
    const limite = Date.now() + 180_000;
    for (let i = 0; ; i += 1) {
      c.peticiones += 1;
      const enviada = performance.now();
      const r = await pedir('POST', '/conversiones/eventos', cuerpo, cabecerasDe(socio, cuerpo));
      const s = o.suspension;
      if (socio.id === s.idSocio && s.confirmadaEn !== undefined && enviada > s.confirmadaEn)
        s.tras.push({ referencia: `hecho ${h.cuerpo.id_evento}`, estado: r.estado, idPago: undefined });
      if (r.estado === 202) {
        c.r202 += 1;
        if (r.replay) c.replays += 1;
      } else if (r.estado === 403) c.r403 += 1;
      else if (transitorio(r.estado)) c.transitorios += 1;
      else c.otros[String(r.estado)] = (c.otros[String(r.estado)] ?? 0) + 1;
      if (!transitorio(r.estado) || Date.now() >= limite) return r;
      c.reintentos += 1;
      await esperar(Math.min(2000, 50 * 2 ** i) * (0.5 + Math.random()));
    }
  };

  const anotar = (h: HechoPlaneado, r: RespuestaHttp) => {
    const x = obs(h);
    x.estados.push(r.estado);
    if (r.estado !== 202) return;
    if (r.replay) x.replays += 1;
    try {
      const json = JSON.parse(r.cuerpo) as { id_conversion?: unknown };
      x.idsConversion.add(typeof json.id_conversion === 'string' ? json.id_conversion : '(202 sin id_conversion)');
    } catch {
      x.idsConversion.add('(202 sin JSON)');
    }
  };

  /** Todas las copias de un hecho: a la vez (compitiendo) o una tras otra. */
  const enviarHecho = async (h: HechoPlaneado): Promise<void> => {
    obs(h);
    if (h.simultaneas) {
      c.simultaneos += 1;
      const rs = await Promise.all(Array.from({ length: h.copias }, () => unaCopia(h)));
      for (const r of rs) anotar(h, r);
    } else for (let k = 0; k < h.copias; k += 1) anotar(h, await unaCopia(h));
  };

  /**
   * La carga principal de conversiones, repartida a lo largo de la de pagos: el hecho i de N sale cuando
   * `avance()` (la fracción enviada de la carga de pagos mantenida) llega a i/N, o ya si `terminada()`.
   */
  const principal = async (avance: () => number, terminada: () => boolean): Promise<void> => {
    const enCurso = new Set<Promise<void>>();
    const total = o.plan.envios.length;
    for (const [i, h] of o.plan.envios.entries()) {
      while (!terminada() && avance() < i / total) await esperar(50);
      while (enCurso.size >= o.concurrencia) await Promise.race(enCurso);
      const p = enviarHecho(h).finally(() => enCurso.delete(p));
      enCurso.add(p);
    }
    await Promise.all(enCurso);
  };

  const pendientesTrasPago = new Set(o.plan.trasPago);

  /** El estado de la comisión de la conversión del hecho según la API (con la clave de su socio), o undefined. */
  const estadoComision = async (h: HechoPlaneado): Promise<string | undefined> => {
    const r = await pedir('GET', `/conversiones/${encodeURIComponent(h.cuerpo.id_conversion)}`, '', cabecerasDe(socioDe(h), ''));
    if (r.estado !== 200) return undefined;
    try {
      return (JSON.parse(r.cuerpo) as { comision?: { estado?: string } | null }).comision?.estado;
    } catch {
      return undefined;
    }
  };

  /** Envía las reversiones cuya comisión ya está PAGADA. Devuelve cuántas quedan esperando. */
  const revertirLasPagadas = async (): Promise<number> => {
    for (const h of [...pendientesTrasPago]) {
      if ((await estadoComision(h)) !== 'PAGADA') continue;
      pendientesTrasPago.delete(h);
      c.revertidasTrasPago += 1;
      await enviarHecho(h);
      for (const x of h.siguen ?? []) await enviarHecho(x);
    }
    return pendientesTrasPago.size;
  };

  /** Las reversiones que nunca vieron su comisión pagada (socio suspendido, pago fallido cada vez): se envían igual. */
  const revertirLasDemas = async (): Promise<void> => {
    for (const h of [...pendientesTrasPago]) {
      pendientesTrasPago.delete(h);
      c.revertidasSinPago += 1;
      await enviarHecho(h);
      for (const x of h.siguen ?? []) await enviarHecho(x);
    }
  };

  /** Réplicas tardías: una copia más de los hechos marcados, con todo ya aplicado. */
  const tardias = async (): Promise<void> => {
    const lista = o.plan.conversiones.flatMap((x) => x.hechos).filter((h) => h.tardia);
    for (let i = 0; i < lista.length; i += o.concurrencia) {
      await Promise.all(
        lista.slice(i, i + o.concurrencia).map(async (h) => {
          c.tardias += 1;
          const r = await unaCopia(h);
          obs(h).tardia = { estado: r.estado, replay: r.replay };
        }),
      );
    }
  };

  /** GET de la API con la clave del socio (para las lecturas del veredicto). */
  const obtener = (socio: SocioCorrida, ruta: string) => pedir('GET', ruta, '', cabecerasDe(socio, ''));

  return {
    principal,
    revertirLasPagadas,
    revertirLasDemas,
    pendientesTrasPago: () => pendientesTrasPago.size,
    tardias,
    obtener,
    observaciones,
    contadores: c,
    cerrar: () => agente.destroy(),
  };
}

export type CargaConversiones = ReturnType<typeof crearCargaConversiones>;
