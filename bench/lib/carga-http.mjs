// Generador de carga HTTP en su propio proceso: C conexiones keep-alive, cada una con UNA petición en
// vuelo (bucle cerrado: envía, espera la respuesta entera, envía la siguiente), durante CALENTAMIENTO +
// S segundos. Solo cuentan las respuestas que terminan dentro de la ventana medida.
//
// Es un cliente HTTP/1.1 mínimo sobre `net` (como wrk o autocannon), no `http.request`: en 2 núcleos
// compartidos con el servidor y PostgreSQL, el cliente de Node gastaba ~80 µs de CPU por petición que
// se le quitaban al sistema medido. Entiende Content-Length y chunked, y reconecta si el servidor cierra.
//
// Uso: node carga-http.mjs URL CONCURRENCIA SEGUNDOS MODO [CALENTAMIENTO_S]
//   MODO=unicos     → cada petición es un pago nuevo (referencia única)
//   MODO=repetidos  → crea 500 pagos y luego los reenvía una y otra vez, mismo cuerpo (réplicas idempotentes)
// Salida: una línea JSON (ver estadistica.mjs) con además `replays` (respuestas con Idempotent-Replayed).
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { resumir } from './estadistica.mjs';

const [url, concurrenciaTexto, segundosTexto, modo, calentamientoTexto = '2'] = process.argv.slice(2);
if (modo !== 'unicos' && modo !== 'repetidos') throw new Error(`MODO desconocido: ${modo}`);
const destino = new URL(url);
const concurrencia = Number(concurrenciaTexto);
const segundos = Number(segundosTexto);
const calentamiento = Number(calentamientoTexto);
const prefijo = randomUUID().slice(0, 8);
let secuencia = 0;

function cuerpoNuevo() {
  secuencia += 1;
  return JSON.stringify({ id_afiliado: `afiliado-${secuencia % 1000}`, monto: 150.75, moneda: 'USD', referencia_pago: `bench-${prefijo}-${secuencia}` });
}

/** Petición completa (cabeceras + cuerpo) como un solo Buffer: una escritura por petición. */
function peticionHttp(cuerpo) {
  const bytes = Buffer.from(cuerpo);
  const cabeceras =
    `POST ${destino.pathname} HTTP/1.1\r\nHost: ${destino.host}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${bytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(cabeceras, 'latin1'), bytes]);
}

const FIN_CABECERAS = Buffer.from('\r\n\r\n');

/**
 * Una conexión keep-alive. `enviar(peticion)` resuelve con `{ ok, estado, replay, cuerpo }` cuando
 * llega la respuesta entera; un error de red o un cierre a mitad resuelve `{ ok: false }` y la
 * conexión se reabre en el siguiente envío.
 */
class Conexion {
  #socket = null;
  #buffer = Buffer.alloc(0);
  #pendiente = null;

  #abrir() {
    const socket = net.connect({ host: destino.hostname, port: Number(destino.port), noDelay: true });
    socket.on('data', (trozo) => {
      this.#buffer = this.#buffer.length === 0 ? trozo : Buffer.concat([this.#buffer, trozo]);
      this.#intentarLeer();
    });
    const caida = () => {
      if (this.#socket !== socket) return; // una conexión anterior que termina de cerrarse
      this.#socket = null;
      this.#buffer = Buffer.alloc(0);
      const p = this.#pendiente;
      this.#pendiente = null;
      p?.({ ok: false, estado: 0, replay: false, cuerpo: null });
    };
    socket.on('error', caida);
    socket.on('close', caida);
    this.#socket = socket;
  }

  enviar(peticion) {
    if (this.#socket === null) this.#abrir();
    return new Promise((resolver) => {
      this.#pendiente = resolver;
      this.#socket.write(peticion);
    });
  }

  destruir() {
    this.#socket?.destroy();
  }

  #intentarLeer() {
    const b = this.#buffer;
    const finCabeceras = b.indexOf(FIN_CABECERAS);
    if (finCabeceras === -1) return;
    const cabeceras = b.latin1Slice(0, finCabeceras).toLowerCase();
    const estado = Number(cabeceras.slice(9, 12));
    const inicioCuerpo = finCabeceras + 4;
    let finCuerpo;
    let cuerpo;
    const largo = /\r\ncontent-length:\s*(\d+)/.exec(cabeceras);
    if (largo) {
      finCuerpo = inicioCuerpo + Number(largo[1]);
      if (b.length < finCuerpo) return;
      cuerpo = b.subarray(inicioCuerpo, finCuerpo);
    } else if (/\r\ntransfer-encoding:\s*chunked/.test(cabeceras)) {
      const trozos = [];
      let pos = inicioCuerpo;
      for (;;) {
        const finLinea = b.indexOf('\r\n', pos);
        if (finLinea === -1) return;
        const tam = Number.parseInt(b.latin1Slice(pos, finLinea), 16);
        if (b.length < finLinea + 2 + tam + 2) return;
        if (tam === 0) {
          finCuerpo = finLinea + 4;
          break;
        }
        trozos.push(b.subarray(finLinea + 2, finLinea + 2 + tam));
        pos = finLinea + 2 + tam + 2;
      }
      cuerpo = Buffer.concat(trozos);
    } else {
      // Sin longitud: el cuerpo acaba al cerrar la conexión (no lo usa ningún servidor medido).
      this.#socket?.destroy(new Error('respuesta sin Content-Length ni chunked'));
      return;
    }
    this.#buffer = b.length === finCuerpo ? Buffer.alloc(0) : b.subarray(finCuerpo);
    const replay = /\r\nidempotent-replayed:\s*true/.test(cabeceras);
    if (/\r\nconnection:\s*close/.test(cabeceras)) this.#socket?.end();
    const p = this.#pendiente;
    this.#pendiente = null;
    p?.({ ok: estado === 200, estado, replay, cuerpo });
  }
}

const conexiones = Array.from({ length: concurrencia }, () => new Conexion());
let comprobadas = 0;
/** Se comprueba el cuerpo de 1 de cada 64 respuestas correctas (el JSON de un pago registrado). */
function comprobar(r) {
  if (!r.ok || (comprobadas++ & 63) !== 0) return r;
  const pago = JSON.parse(r.cuerpo.toString('utf8'));
  if (typeof pago.id_pago !== 'string' || pago.estado !== 'PENDIENTE') {
    process.stderr.write(`respuesta inesperada: ${r.cuerpo.toString('utf8').slice(0, 300)}\n`);
    return { ...r, ok: false };
  }
  return r;
}

let repetibles = [];
if (modo === 'repetidos') {
  repetibles = Array.from({ length: 500 }, () => peticionHttp(cuerpoNuevo()));
  for (let i = 0; i < repetibles.length; i += concurrencia) {
    const respuestas = await Promise.all(repetibles.slice(i, i + concurrencia).map((p, j) => conexiones[j].enviar(p)));
    const fallo = respuestas.find((r) => !r.ok);
    if (fallo) throw new Error(`no se pudieron sembrar los pagos a repetir (HTTP ${fallo.estado})`);
  }
}
let indiceRepetible = 0;
const siguiente = () => (modo === 'repetidos' ? repetibles[indiceRepetible++ % repetibles.length] : peticionHttp(cuerpoNuevo()));

const latencias = [];
let errores = 0;
let replays = 0;
let totales = 0;
const comienzo = performance.now();
const desde = comienzo + calentamiento * 1000;
const hasta = desde + segundos * 1000;
async function trabajador(conexion) {
  while (performance.now() < hasta) {
    const inicio = performance.now();
    const r = comprobar(await conexion.enviar(siguiente()));
    const fin = performance.now();
    totales += 1;
    if (fin < desde || fin >= hasta) continue;
    if (r.ok) latencias.push(fin - inicio);
    else {
      errores += 1;
      if (errores <= 3) process.stderr.write(`respuesta HTTP ${r.estado || 'sin respuesta'}: ${r.cuerpo?.toString('utf8').slice(0, 300) ?? ''}\n`);
    }
    if (r.replay) replays += 1;
  }
}
await Promise.all(conexiones.map(trabajador));
const duracion = (performance.now() - comienzo) / 1000;
for (const c of conexiones) c.destruir();
process.stdout.write(`${JSON.stringify({ ...resumir(latencias, segundos, errores, { peticiones: totales, segundos: duracion }), replays })}\n`);
