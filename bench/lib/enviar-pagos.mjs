// Envía exactamente N pagos únicos con C peticiones concurrentes (keep-alive) y, con probabilidad F,
// reenvía cada pago aceptado una vez (réplica idempotente). Uso: node enviar-pagos.mjs URL C N F
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const [url, concurrenciaTexto, totalTexto, fraccionTexto = '0'] = process.argv.slice(2);
const destino = new URL(url);
const concurrencia = Number(concurrenciaTexto);
const total = Number(totalTexto);
const fraccion = Number(fraccionTexto);
const agente = new http.Agent({ keepAlive: true, maxSockets: concurrencia });
const prefijo = randomUUID().slice(0, 8);

function enviar(cuerpo) {
  return new Promise((resolver) => {
    const peticion = http.request(
      { agent: agente, host: destino.hostname, port: destino.port, path: destino.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(cuerpo) } },
      (respuesta) => {
        let datos = '';
        respuesta.setEncoding('utf8');
        respuesta.on('data', (d) => (datos += d));
        respuesta.on('end', () => resolver({ estado: respuesta.statusCode, replay: respuesta.headers['idempotent-replayed'] === 'true', datos }));
      },
    );
    peticion.on('error', () => resolver({ estado: 0, replay: false, datos: '' }));
    peticion.end(cuerpo);
  });
}

let siguiente = 0;
let aceptados = 0;
let replays = 0;
let errores = 0;
const codigos = {};
const ejemplos = {};
const inicio = performance.now();
async function trabajador() {
  while (siguiente < total) {
    siguiente += 1;
    const n = siguiente;
    const cuerpo = JSON.stringify({ id_afiliado: `afiliado-${n % 500}`, monto: (1000 + (n % 1000)) / 100, moneda: ['USD', 'EUR', 'COP'][n % 3], referencia_pago: `e2e-${prefijo}-${n}` });
    let r = await enviar(cuerpo);
    for (let intento = 0; r.estado !== 200 && intento < 5; intento += 1) r = await enviar(cuerpo); // reintento de red: idempotente
    if (r.estado === 200) aceptados += 1;
    else {
      errores += 1;
      codigos[r.estado] = (codigos[r.estado] ?? 0) + 1;
      ejemplos[r.estado] ??= r.datos.slice(0, 300);
    }
    if (r.estado === 200 && Math.random() < fraccion) {
      const rep = await enviar(cuerpo);
      if (rep.replay) replays += 1;
    }
  }
}
await Promise.all(Array.from({ length: concurrencia }, trabajador));
const segundos = (performance.now() - inicio) / 1000;
agente.destroy();
process.stdout.write(`${JSON.stringify({ aceptados, replays, errores, codigos, ejemplos, segundos, porSegundo: aceptados / segundos })}\n`);
