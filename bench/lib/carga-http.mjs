// Generador de carga HTTP en su propio proceso: C peticiones concurrentes con keep-alive durante S segundos.
// Uso: node carga-http.mjs URL CONCURRENCIA SEGUNDOS MODO [CALENTAMIENTO_S]
//   MODO=unicos     → cada petición es un pago nuevo (referencia única)
//   MODO=repetidos  → reenvía una y otra vez 500 pagos ya creados (réplicas idempotentes)
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { resumir } from './estadistica.mjs';

const [url, concurrenciaTexto, segundosTexto, modo, calentamientoTexto = '2'] = process.argv.slice(2);
const destino = new URL(url);
const concurrencia = Number(concurrenciaTexto);
const segundos = Number(segundosTexto);
const calentamiento = Number(calentamientoTexto);
const agente = new http.Agent({ keepAlive: true, maxSockets: concurrencia });
const prefijo = randomUUID().slice(0, 8);
let secuencia = 0;

function cuerpoNuevo() {
  secuencia += 1;
  return JSON.stringify({ id_afiliado: `afiliado-${secuencia % 1000}`, monto: 150.75, moneda: 'USD', referencia_pago: `bench-${prefijo}-${secuencia}` });
}

function enviar(cuerpo) {
  return new Promise((resolver) => {
    const inicio = performance.now();
    const peticion = http.request(
      { agent: agente, host: destino.hostname, port: destino.port, path: destino.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(cuerpo) } },
      (respuesta) => {
        respuesta.resume();
        respuesta.on('end', () => resolver({ ok: respuesta.statusCode === 200, ms: performance.now() - inicio, replay: respuesta.headers['idempotent-replayed'] === 'true' }));
      },
    );
    peticion.on('error', () => resolver({ ok: false, ms: performance.now() - inicio, replay: false }));
    peticion.end(cuerpo);
  });
}

let repetibles = [];
if (modo === 'repetidos') {
  repetibles = Array.from({ length: 500 }, cuerpoNuevo);
  for (let i = 0; i < repetibles.length; i += 50) await Promise.all(repetibles.slice(i, i + 50).map(enviar));
}
const siguiente = () => (modo === 'repetidos' ? repetibles[secuencia++ % repetibles.length] : cuerpoNuevo());

const latencias = [];
let errores = 0;
let replays = 0;
let midiendo = false;
const finCalentamiento = Date.now() + calentamiento * 1000;
const fin = finCalentamiento + segundos * 1000;
async function trabajador() {
  while (Date.now() < fin) {
    const r = await enviar(siguiente());
    if (!midiendo) {
      if (Date.now() >= finCalentamiento) midiendo = true;
      else continue;
    }
    if (r.ok) latencias.push(r.ms);
    else errores += 1;
    if (r.replay) replays += 1;
  }
}
await Promise.all(Array.from({ length: concurrencia }, trabajador));
agente.destroy();
process.stdout.write(`${JSON.stringify({ ...resumir(latencias, segundos, errores), replays })}\n`);
