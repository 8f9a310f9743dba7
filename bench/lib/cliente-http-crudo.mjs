// Cliente HTTP/1.1 mínimo sobre `net` para los generadores de carga (como wrk o autocannon), no
// `http.request`: en 2 núcleos compartidos con el servidor y PostgreSQL, el cliente de Node gastaba
// ~80 µs de CPU por petición que se le quitaban al sistema medido. Una petición en vuelo por conexión
// (keep-alive); entiende Content-Length y chunked, y reconecta si el servidor cierra.
import net from 'node:net';

/**
 * Petición completa (cabeceras + cuerpo) como un solo Buffer: una escritura por petición. Con `clave`,
 * `Authorization: Bearer <clave>` (la API autentica cada petición).
 */
export function peticionHttp(destino, cuerpo, clave) {
  const bytes = Buffer.from(cuerpo);
  const cabeceras =
    `POST ${destino.pathname} HTTP/1.1\r\nHost: ${destino.host}\r\nContent-Type: application/json\r\n` +
    `${clave ? `Authorization: Bearer ${clave}\r\n` : ''}Content-Length: ${bytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(cabeceras, 'latin1'), bytes]);
}

const FIN_CABECERAS = Buffer.from('\r\n\r\n');

/**
 * Una conexión keep-alive. `enviar(peticion)` resuelve con `{ ok, estado, replay, cuerpo }` cuando
 * llega la respuesta entera; un error de red o un cierre a mitad resuelve `{ ok: false }` y la
 * conexión se reabre en el siguiente envío.
 */
export class Conexion {
  #destino;
  #socket = null;
  #buffer = Buffer.alloc(0);
  #pendiente = null;

  constructor(destino) {
    this.#destino = destino;
  }

  #abrir() {
    const socket = net.connect({ host: this.#destino.hostname, port: Number(this.#destino.port), noDelay: true });
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
