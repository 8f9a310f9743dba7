// Línea base «pg crudo»: la MISMA sentencia que usa el repositorio para crear pagos (`SQL_CREAR_LOTE`:
// pago + outbox + historial en una sentencia, con ON CONFLICT y la lectura de `previos`), enviada
// directamente con `pg` como sentencia preparada, UN pago por sentencia (= un commit por pago), con C
// llamadas concurrentes durante CALENTAMIENTO + S segundos. Sin HTTP, sin validación, sin agrupación.
// Los parámetros tienen la misma forma que los del repositorio (payload y metadatos del outbox
// incluidos), pero se fabrican aquí sin pasar por el dominio.
// Uso: node linea-base-pg.mjs DATABASE_URL CONCURRENCIA SEGUNDOS POOL [CALENTAMIENTO_S]
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resumir } from './estadistica.mjs';

const aqui = path.dirname(fileURLToPath(import.meta.url));
const adaptadores = path.join(aqui, '../../packages/adaptadores');
const pg = (await import(createRequire(path.join(adaptadores, 'package.json')).resolve('pg'))).default;
const { SQL_CREAR_LOTE, uuidv7 } = await import(path.join(adaptadores, 'dist/index.js'));

const [url, concurrenciaTexto, segundosTexto, poolTexto, calentamientoTexto = '2'] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: Number(poolTexto) });
const prefijo = randomUUID().slice(0, 8);
const ID_SOCIO = 'aeropartners';
let secuencia = 0;

/** Los 20 arrays de `SQL_CREAR_LOTE` ($1…$9 eventos, $10…$20 pagos) para un solo pago. */
function parametros() {
  secuencia += 1;
  const id = uuidv7();
  const idEvento = uuidv7();
  const ahora = new Date();
  const referencia = `base-${prefijo}-${secuencia}`;
  const afiliado = `afiliado-${secuencia % 1000}`;
  const correlacion = randomUUID();
  const payload = JSON.stringify({
    id_pago: id,
    ocurrido_en: ahora.toISOString(),
    id_socio: ID_SOCIO,
    id_afiliado: afiliado,
    monto_unidades_menores: 15075,
    moneda: 'USD',
    referencia_pago: referencia,
  });
  const metadatos = JSON.stringify({ id_correlacion: correlacion, traceparent: null });
  return [
    [idEvento], [id], [1], ['PagoPendiente'], [payload], [metadatos], ['PENDIENTE'], [ahora], [correlacion],
    [id], [ID_SOCIO], [referencia], [afiliado], [15075], ['USD'], [referencia], ['PENDIENTE'], [1], [ahora], [ahora],
  ];
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
      const { rows } = await pool.query({ name: 'crear-lote', text: SQL_CREAR_LOTE, values: parametros() });
      if (rows.length !== 1 || rows[0].nuevo !== true) throw new Error(`respuesta inesperada: ${JSON.stringify(rows)}`);
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
await pool.end();
process.stdout.write(`${JSON.stringify(resumir(latencias, Number(segundosTexto), errores, { peticiones: totales, segundos: duracion }))}\n`);
