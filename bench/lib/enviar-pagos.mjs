// Envía exactamente N pagos únicos con C conexiones keep-alive (una petición en vuelo por conexión) y,
// con probabilidad F, reenvía cada pago aceptado una vez (réplica idempotente). Usa el cliente HTTP
// mínimo de `cliente-http-crudo.mjs`: el generador comparte los 2 núcleos con el pipeline medido.
// Uso: node enviar-pagos.mjs URL C N F [CLAVE]   (CLAVE: `Authorization: Bearer` del socio; sin ella, sin cabecera)
import { randomUUID } from 'node:crypto';
import { Conexion, peticionHttp } from './cliente-http-crudo.mjs';

const [url, concurrenciaTexto, totalTexto, fraccionTexto = '0', clave = ''] = process.argv.slice(2);
const destino = new URL(url);
const concurrencia = Number(concurrenciaTexto);
const total = Number(totalTexto);
const fraccion = Number(fraccionTexto);
const prefijo = randomUUID().slice(0, 8);

let siguiente = 0;
let aceptados = 0;
let replays = 0;
let errores = 0;
const codigos = {};
const ejemplos = {};
const inicio = performance.now();
const cpuInicio = process.cpuUsage();
async function trabajador(conexion) {
  while (siguiente < total) {
    siguiente += 1;
    const n = siguiente;
    const peticion = peticionHttp(
      destino,
      JSON.stringify({
        id_afiliado: `afiliado-${n % 500}`,
        monto: (1000 + (n % 1000)) / 100,
        moneda: ['USD', 'EUR', 'COP'][n % 3],
        referencia_pago: `e2e-${prefijo}-${n}`,
      }),
      clave,
    );
    let r = await conexion.enviar(peticion);
    for (let intento = 0; r.estado !== 200 && intento < 5; intento += 1) r = await conexion.enviar(peticion); // reintento de red: idempotente
    if (r.estado === 200) aceptados += 1;
    else {
      errores += 1;
      codigos[r.estado] = (codigos[r.estado] ?? 0) + 1;
      ejemplos[r.estado] ??= r.cuerpo?.toString('utf8').slice(0, 300) ?? '';
    }
    if (r.estado === 200 && Math.random() < fraccion) {
      const rep = await conexion.enviar(peticion);
      if (rep.replay) replays += 1;
    }
  }
}
const conexiones = Array.from({ length: concurrencia }, () => new Conexion(destino));
await Promise.all(conexiones.map(trabajador));
const segundos = (performance.now() - inicio) / 1000;
const cpu = process.cpuUsage(cpuInicio);
const cpuSegundos = (cpu.user + cpu.system) / 1e6;
for (const c of conexiones) c.destruir();
process.stdout.write(
  `${JSON.stringify({ aceptados, replays, errores, codigos, ejemplos, segundos, porSegundo: aceptados / segundos, cpuSegundos })}\n`,
);
