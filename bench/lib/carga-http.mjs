// Generador de carga HTTP en su propio proceso: C conexiones keep-alive, cada una con UNA petición en
// vuelo (bucle cerrado: envía, espera la respuesta entera, envía la siguiente), durante CALENTAMIENTO +
// S segundos. Solo cuentan las respuestas que terminan dentro de la ventana medida.
// Cliente: `cliente-http-crudo.mjs` (sobre `net`, no `http.request`).
//
// Uso: node carga-http.mjs URL CONCURRENCIA SEGUNDOS MODO [CALENTAMIENTO_S] [CLAVE]
//   CLAVE: clave de API del socio (`Authorization: Bearer`); sin ella, sin cabecera (modo anónimo).
//   MODO=unicos     → cada petición es un pago nuevo (referencia única)
//   MODO=repetidos  → crea 500 pagos y luego los reenvía una y otra vez, mismo cuerpo (réplicas idempotentes)
// Salida: una línea JSON (ver estadistica.mjs) con además `replays` (respuestas con Idempotent-Replayed).
import { randomUUID } from 'node:crypto';
import { Conexion, peticionHttp as peticion } from './cliente-http-crudo.mjs';
import { resumir } from './estadistica.mjs';

const [url, concurrenciaTexto, segundosTexto, modo, calentamientoTexto = '2', clave = ''] = process.argv.slice(2);
if (modo !== 'unicos' && modo !== 'repetidos') throw new Error(`MODO desconocido: ${modo}`);
const destino = new URL(url);
const concurrencia = Number(concurrenciaTexto);
const segundos = Number(segundosTexto);
const calentamiento = Number(calentamientoTexto);
const prefijo = randomUUID().slice(0, 8);
let secuencia = 0;

function cuerpoNuevo() {
  secuencia += 1;
  return JSON.stringify({
    id_afiliado: `afiliado-${secuencia % 1000}`,
    monto: 150.75,
    moneda: 'USD',
    referencia_pago: `bench-${prefijo}-${secuencia}`,
  });
}

const conexiones = Array.from({ length: concurrencia }, () => new Conexion(destino));
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
  repetibles = Array.from({ length: 500 }, () => peticion(destino, cuerpoNuevo(), clave));
  for (let i = 0; i < repetibles.length; i += concurrencia) {
    const respuestas = await Promise.all(repetibles.slice(i, i + concurrencia).map((p, j) => conexiones[j].enviar(p)));
    const fallo = respuestas.find((r) => !r.ok);
    if (fallo) throw new Error(`no se pudieron sembrar los pagos a repetir (HTTP ${fallo.estado})`);
  }
}
let indiceRepetible = 0;
const siguiente = () =>
  modo === 'repetidos' ? repetibles[indiceRepetible++ % repetibles.length] : peticion(destino, cuerpoNuevo(), clave);

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
      if (errores <= 3)
        process.stderr.write(`respuesta HTTP ${r.estado || 'sin respuesta'}: ${r.cuerpo?.toString('utf8').slice(0, 300) ?? ''}\n`);
    }
    if (r.replay) replays += 1;
  }
}
await Promise.all(conexiones.map(trabajador));
const duracion = (performance.now() - comienzo) / 1000;
for (const c of conexiones) c.destruir();
process.stdout.write(
  `${JSON.stringify({ ...resumir(latencias, segundos, errores, { peticiones: totales, segundos: duracion }), replays })}\n`,
);
