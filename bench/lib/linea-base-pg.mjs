// Línea base «pg crudo»: el repositorio real de pagos (`PostgresRepositorioPagos`, la misma sentencia
// de creación que usa la API: pago + outbox + historial en una sentencia, con ON CONFLICT y la lectura
// de `previos`, preparada por conexión) SIN agrupar: `loteMaximo: 1`, un pago por sentencia (= un
// commit por pago), con C llamadas concurrentes durante CALENTAMIENTO + S segundos. Sin HTTP, sin
// validación de la petición, sin idempotencia en memoria: el cambio lo fabrica el dominio (`crearPago`).
// Uso: node linea-base-pg.mjs DATABASE_URL CONCURRENCIA SEGUNDOS POOL [CALENTAMIENTO_S]
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resumir } from './estadistica.mjs';

const raiz = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { crearPersistenciaPostgres, uuidv7 } = await import(path.join(raiz, 'packages/adaptadores/dist/index.js'));
const { Dinero, crearPago } = await import(path.join(raiz, 'packages/dominio/dist/index.js'));

const [url, concurrenciaTexto, segundosTexto, poolTexto, calentamientoTexto = '2'] = process.argv.slice(2);
const tamanoPool = Number(poolTexto);
// Tantas sentencias en vuelo como conexiones (el valor por defecto) y una solicitud por sentencia.
const persistencia = crearPersistenciaPostgres({ url, tamanoPool, loteMaximo: 1, nombreAplicacion: 'bench-linea-base' });
const prefijo = randomUUID().slice(0, 8);
const ID_SOCIO = 'aeropartners';
const monto = Dinero.deUnidadesMenores(15075, 'USD');
if (!monto.ok) throw new Error(`monto de la línea base: ${JSON.stringify(monto.error)}`);
let secuencia = 0;

/** Un pago nuevo (cambio del dominio con su PagoPendiente), su clave y su traza. */
function solicitud() {
  secuencia += 1;
  const referencia = `base-${prefijo}-${secuencia}`;
  const cambio = crearPago(
    { id: uuidv7(), idSocio: ID_SOCIO, idAfiliado: `afiliado-${secuencia % 1000}`, monto: monto.valor, referenciaPago: referencia },
    { ahora: new Date(), nuevoId: uuidv7 },
  );
  if (!cambio.ok) throw new Error(`pago de la línea base: ${JSON.stringify(cambio.error)}`);
  return [cambio.valor, { idSocio: ID_SOCIO, clave: referencia }, { idCorrelacion: randomUUID() }];
}

const latencias = [];
let errores = 0;
let totales = 0;
const comienzo = performance.now();
const desde = comienzo + Number(calentamientoTexto) * 1000;
const hasta = desde + Number(segundosTexto) * 1000;
async function trabajador() {
  while (performance.now() < hasta) {
    const inicio = performance.now();
    let ok = true;
    try {
      const r = await persistencia.repositorio.crear(...solicitud());
      if (r.tipo !== 'creado') throw new Error(`respuesta inesperada: ${r.tipo}`);
    } catch (error) {
      ok = false;
      if (errores === 0) process.stderr.write(`error de la línea base: ${error.message}\n`);
    }
    const fin = performance.now();
    totales += 1;
    if (fin < desde || fin >= hasta) continue;
    if (ok) latencias.push(fin - inicio);
    else errores += 1;
  }
}
await Promise.all(Array.from({ length: Number(concurrenciaTexto) }, trabajador));
const duracion = (performance.now() - comienzo) / 1000;
const { sentencias, mayorLote } = persistencia.repositorio.metricas();
await persistencia.cerrar();
if (mayorLote > 1) throw new Error(`la línea base agrupó ${mayorLote} pagos en una sentencia: debe ser uno por sentencia`);
process.stdout.write(
  `${JSON.stringify({ ...resumir(latencias, Number(segundosTexto), errores, { peticiones: totales, segundos: duracion }), sentencias })}\n`,
);
