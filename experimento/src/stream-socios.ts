import http from 'node:http';
import { cabecerasDe, type SocioCorrida } from './socios.js';

/**
 * Cada socio de la corrida mantiene una conexión a `GET /eventos/stream` (Server-Sent Events) durante toda
 * la corrida, como lo haría un socio de verdad: si la conexión se corta (PostgreSQL caído, el
 * experimento que corta el socket a propósito, un silencio más largo que dos latidos), reconecta con
 * `Last-Event-ID` a la siguiente instancia de la API. Anota cada evento recibido con su hora de llegada:
 * el veredicto compara lo recibido con el feed, y el informe saca el retraso confirmación → stream.
 */

/** Un evento tal como llegó por el stream. */
export interface EventoRecibido {
  /** El `id:` del evento SSE. */
  readonly id: number;
  /** La `secuencia` del JSON de `data:` (debe ser igual al id). */
  readonly secuencia: number;
  readonly tipo: string;
  readonly sujeto: string;
  /** `registrado_en` del evento (ms Unix). */
  readonly registradoEn: number;
  /** Cuándo lo entregó el parser al cliente (ms Unix). */
  readonly llegada: number;
  /** Número de conexión (1, 2, …) por la que llegó. */
  readonly conexion: number;
}

export interface StreamSocio {
  readonly idSocio: string;
  readonly recibidos: EventoRecibido[];
  /** El último `id:` recibido: el `Last-Event-ID` de la siguiente conexión. */
  ultimo: number;
  conexiones: number;
  /** Conexiones que terminaron y se volvieron a abrir. */
  reconexiones: number;
  /** Cortes provocados por el experimento (socket destruido a mitad). */
  cortesProvocados: number;
  /** Respuestas distintas de 200 al conectar, por código (0: error de red). */
  readonly rechazos: Record<string, number>;
  /** Eventos cuyo `data:` no era un JSON de evento válido. */
  readonly malformados: string[];
  /** La API le negó el stream (401/403: el socio suspendido): ya no reconecta. */
  denegado: boolean;
}

type CampoSse = { readonly id: string | undefined; readonly evento: string; readonly datos: string };

/**
 * Lector de Server-Sent Events (el algoritmo de la especificación HTML): líneas `campo: valor`, los
 * comentarios (`:`) se ignoran, `data:` se acumula y una línea vacía entrega el evento. Se le da el texto a
 * trozos, tal como llega del socket.
 */
export function crearLectorSse(alEvento: (e: CampoSse) => void, alReintento?: (ms: number) => void) {
  let resto = '';
  let datos: string[] = [];
  let evento = '';
  let id: string | undefined;
  const linea = (l: string) => {
    if (l === '') {
      if (datos.length > 0) alEvento({ id, evento: evento || 'message', datos: datos.join('\n') });
      datos = [];
      evento = '';
      return;
    }
    if (l.startsWith(':')) return;
    const dos = l.indexOf(':');
    const campo = dos === -1 ? l : l.slice(0, dos);
    let valor = dos === -1 ? '' : l.slice(dos + 1);
    if (valor.startsWith(' ')) valor = valor.slice(1);
    if (campo === 'data') datos.push(valor);
    else if (campo === 'event') evento = valor;
    else if (campo === 'id' && !valor.includes('\0')) id = valor;
    else if (campo === 'retry' && /^\d+$/.test(valor)) alReintento?.(Number(valor));
  };
  return (trozo: string) => {
    resto += trozo;
    for (;;) {
      const fin = resto.search(/\r\n|\r|\n/);
      if (fin === -1) break;
      const salto = resto.startsWith('\r\n', fin) ? 2 : 1;
      // Un \r al final del trozo puede ser la mitad de un \r\n: se espera al siguiente.
      if (resto[fin] === '\r' && salto === 1 && fin === resto.length - 1) break;
      linea(resto.slice(0, fin));
      resto = resto.slice(fin + salto);
    }
  };
}

/** El evento de un `data:` del stream, o el motivo por el que no lo es. */
export function leerEventoSse(datos: string): { secuencia: number; tipo: string; sujeto: string; registradoEn: number } | string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(datos) as Record<string, unknown>;
  } catch {
    return 'no es JSON';
  }
  const registradoEn = typeof o['registrado_en'] === 'string' ? Date.parse(o['registrado_en']) : Number.NaN;
  if (typeof o['secuencia'] !== 'number' || typeof o['tipo'] !== 'string' || typeof o['sujeto'] !== 'string' || Number.isNaN(registradoEn))
    return 'le falta secuencia, tipo, sujeto o registrado_en';
  return { secuencia: o['secuencia'], tipo: o['tipo'], sujeto: o['sujeto'], registradoEn };
}

export interface OpcionesStreams {
  readonly socios: readonly SocioCorrida[];
  /** Las URL de las instancias de la API en este momento (se relee en cada reconexión). */
  readonly urlsApi: () => readonly string[];
  /** Sin datos (ni latidos) durante este tiempo, la conexión se da por muerta y se reabre. Por defecto 40 s. */
  readonly silencioMaximoMs?: number;
}

export interface Streams {
  readonly porSocio: ReadonlyMap<string, StreamSocio>;
  /** Corta a mitad (destruye el socket) la conexión abierta de cada socio; devuelve cuántas cortó. */
  cortar(): number;
  parar(): Promise<void>;
}

const dormir = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function iniciarStreams(o: OpcionesStreams): Streams {
  const silencioMaximoMs = o.silencioMaximoMs ?? 40_000;
  const porSocio = new Map<string, StreamSocio>();
  const abiertas = new Map<string, http.ClientRequest>();
  let parado = false;
  let turno = 0;

  /** Una conexión: resuelve cuando termina, con el código HTTP de la respuesta (0 si no llegó). */
  const conectar = (socio: SocioCorrida, s: StreamSocio, base: string, alReintento: (ms: number) => void) =>
    new Promise<number>((resolver) => {
      const conexion = s.conexiones + 1;
      s.conexiones = conexion;
      const cabeceras: Record<string, string> = { ...cabecerasDe(socio, ''), accept: 'text/event-stream' };
      if (s.ultimo > 0) cabeceras['last-event-id'] = String(s.ultimo);
      const ruta = s.ultimo > 0 ? '/eventos/stream' : '/eventos/stream?despues_de=0';
      let estado = 0;
      let vigilante: NodeJS.Timeout | undefined;
      let terminada = false;
      const terminar = () => {
        if (terminada) return;
        terminada = true;
        clearTimeout(vigilante);
        if (abiertas.get(socio.id) === peticion) abiertas.delete(socio.id);
        resolver(estado);
      };
      const peticion = http.get(new URL(`${base}${ruta}`), { headers: cabeceras }, (respuesta) => {
        estado = respuesta.statusCode ?? 0;
        if (estado !== 200) {
          respuesta.resume();
          respuesta.on('end', terminar);
          respuesta.on('error', terminar);
          return;
        }
        const vigilar = () => {
          clearTimeout(vigilante);
          vigilante = setTimeout(() => peticion.destroy(new Error('stream en silencio')), silencioMaximoMs);
        };
        vigilar();
        const leer = crearLectorSse((e) => {
          const ev = leerEventoSse(e.datos);
          if (typeof ev === 'string') {
            if (s.malformados.length < 20) s.malformados.push(`${e.id ?? '—'}: ${ev}`);
            return;
          }
          const id = Number(e.id);
          s.recibidos.push({
            id,
            secuencia: ev.secuencia,
            tipo: ev.tipo,
            sujeto: ev.sujeto,
            registradoEn: ev.registradoEn,
            llegada: Date.now(),
            conexion,
          });
          if (Number.isSafeInteger(id)) s.ultimo = id;
        }, alReintento);
        respuesta.setEncoding('utf8');
        respuesta.on('data', (trozo: string) => {
          vigilar();
          leer(trozo);
        });
        respuesta.on('end', terminar);
        respuesta.on('error', terminar);
        respuesta.on('close', terminar);
      });
      abiertas.set(socio.id, peticion);
      peticion.on('error', terminar);
    });

  const bucle = async (socio: SocioCorrida) => {
    const s: StreamSocio = {
      idSocio: socio.id,
      recibidos: [],
      ultimo: 0,
      conexiones: 0,
      reconexiones: 0,
      cortesProvocados: 0,
      rechazos: {},
      malformados: [],
      denegado: false,
    };
    porSocio.set(socio.id, s);
    let reintentoMs = 1000;
    let fallidas = 0;
    while (!parado) {
      const urls = o.urlsApi();
      const base = urls.length > 0 ? (urls[turno++ % urls.length] as string) : undefined;
      const estado = base ? await conectar(socio, s, base, (ms) => (reintentoMs = ms)) : 0;
      if (parado) break;
      if (estado === 401 || estado === 403) {
        s.rechazos[String(estado)] = (s.rechazos[String(estado)] ?? 0) + 1;
        s.denegado = true;
        break;
      }
      if (estado !== 200) {
        s.rechazos[String(estado)] = (s.rechazos[String(estado)] ?? 0) + 1;
        fallidas += 1;
      } else fallidas = 0;
      s.reconexiones += 1;
      // Lo que anuncia `retry:`; si la API no responde (base caída, reinicio), con espera creciente.
      await dormir(fallidas === 0 ? reintentoMs : Math.min(10_000, reintentoMs * 2 ** Math.min(fallidas, 4)));
    }
  };
  const bucles = o.socios.map((s) => bucle(s));

  return {
    porSocio,
    cortar() {
      let n = 0;
      for (const [id, peticion] of abiertas) {
        const s = porSocio.get(id);
        if (!s || !peticion.socket) continue;
        peticion.socket.destroy();
        s.cortesProvocados += 1;
        n += 1;
      }
      return n;
    },
    async parar() {
      parado = true;
      for (const p of abiertas.values()) p.destroy();
      await Promise.all(bucles);
    },
  };
}
