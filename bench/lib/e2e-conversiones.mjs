// Parte C de `pnpm bench:e2e` (solo la versión nueva: la base de comparación no tiene conversiones):
// BENCH_E2E_CONVERSIONES conversiones por todo el pipeline (API → outbox → relay → broker → consumidor),
// desde que la API acepta sus hechos hasta que el consumidor los aplicó y la comisión tiene su estado final.
// Sobre un PostgreSQL embebido nuevo, con el socio de `pnpm socios crear` y su regla de `pnpm socios
// comision` (10 %, bloqueo de 30 días: ninguna comisión se liquida mientras se mide, así que su estado
// final es el de su conversión). Al final, cada conversión contra su plan: estado, venta y comisión.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { comisionEsperada, fijarComision } from './comision.mjs';
import { cpuPorArbol, restarCpu } from './cpu.mjs';
import { arrancarServicioDe, crearSocio, ejecutarJson, iniciarPostgres, pg } from './topologia.mjs';
import { entero } from './variables.mjs';

const aqui = path.dirname(fileURLToPath(import.meta.url));
const fijo = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');

/** Número de conversiones de la parte C (0: no se ejecuta). */
export const CONVERSIONES_E2E = entero('BENCH_E2E_CONVERSIONES', 5_000, 0);

/** Espera a que cada hecho aceptado esté aplicado y cada conversión tenga su comisión. */
async function esperarAplicados(cliente, hechos, conversiones, limiteMs) {
  const fin = Date.now() + limiteMs;
  for (;;) {
    const { rows } = await cliente.query(
      `SELECT (SELECT count(*) FROM hechos_conversion WHERE aplicado_en IS NOT NULL)::int AS aplicados,
              (SELECT count(*) FROM comisiones)::int AS comisiones`,
    );
    const { aplicados, comisiones } = rows[0];
    if (aplicados >= hechos && comisiones >= conversiones) return;
    if (Date.now() > fin)
      throw new Error(`a tiempo solo ${aplicados} de ${hechos} hechos aplicados y ${comisiones} de ${conversiones} comisiones`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Por conversión: aceptada = el último de sus hechos que aceptó la API (`recibido_en`), final = el último
 * que aplicó el consumidor (`aplicado_en`, escrito con la comisión resultante).
 */
async function medir(cliente) {
  const { rows } = await cliente.query(
    `WITH por_conversion AS (
       SELECT id_conversion, min(recibido_en) AS primero, max(recibido_en) AS aceptada, max(aplicado_en) AS final
       FROM hechos_conversion GROUP BY id_conversion)
     SELECT count(*)::int AS n,
            (SELECT count(*) FROM hechos_conversion)::int AS hechos,
            extract(epoch FROM max(final) - min(primero))::float8 AS segundos,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM final - aceptada) * 1000) AS p50,
            percentile_disc(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM final - aceptada) * 1000) AS p99
     FROM por_conversion`,
  );
  return rows[0];
}

/** Cada conversión del plan contra lo guardado: estado, venta final, y su comisión (estado e importe). */
async function comprobarPlanes(cliente, planes) {
  const { rows } = await cliente.query(
    `SELECT c.id_conversion, c.estado, c.venta_unidades::text AS venta, k.estado AS estado_comision, k.unidades::text AS comision
     FROM conversiones c LEFT JOIN comisiones k ON k.id_socio = c.id_socio AND k.modo = c.modo AND k.id_conversion = c.id_conversion`,
  );
  const guardadas = new Map(rows.map((f) => [f.id_conversion, f]));
  const fallos = [];
  for (const [id, estado, venta] of planes) {
    const f = guardadas.get(id);
    const esperado = { estado, venta: String(venta), estado_comision: estado, comision: String(comisionEsperada(venta)) };
    const distinto = !f || Object.entries(esperado).some(([k, v]) => f[k] !== v);
    if (distinto) fallos.push({ id, esperado, guardado: f ?? null });
  }
  return { comprobadas: planes.length, guardadas: rows.length, fallos };
}

/**
 * La parte C sobre `version` (la nueva). `entornoConsumidor`: el de la parte A (pasarela sin latencia, el
 * mismo límite en vuelo). Imprime con `decir` y devuelve el detalle para el JSON del informe.
 */
export async function parteConversiones(version, { concurrencia, entornoConsumidor, decir }) {
  const n = CONVERSIONES_E2E;
  decir(
    `Parte C (${version.nombre}): ${n} conversiones (ciclos creada → [ajustada] → aprobada | revertida | nada, uno de cada diez desordenado), ` +
      `${concurrencia} clientes, comisión del 10 % (pnpm socios comision); la base de comparación no tiene conversiones`,
  );
  const postgres = await iniciarPostgres();
  const cliente = new pg.Client({ connectionString: postgres.url });
  try {
    await (await version.adaptadores()).migrarUrl(postgres.url);
    const socio = await crearSocio(version, postgres.url, 'bench-e2e-conversiones', ['--limite-rps', '1000000']);
    await fijarComision(postgres.url, socio.id_socio, version);
    await cliente.connect();
    const consumer = await arrancarServicioDe(version, 'consumer', { DATABASE_URL: postgres.url, ...entornoConsumidor });
    const outbox = await arrancarServicioDe(version, 'outbox', { DATABASE_URL: postgres.url });
    const api = await arrancarServicioDe(version, 'api', { DATABASE_URL: postgres.url });
    try {
      const raices = { api: api.proceso.pid, relay: outbox.proceso.pid, consumidor: consumer.proceso.pid, postgres: postgres.pid() };
      const cargaInicial = os.loadavg()[0];
      const cpuAntes = cpuPorArbol(raices);
      const envio = await ejecutarJson(path.join(aqui, 'carga-conversiones.mjs'), [
        `http://127.0.0.1:${api.puerto}`,
        String(concurrencia),
        'total',
        String(n),
        '0',
        socio.clave,
      ]);
      await esperarAplicados(cliente, envio.aceptadosTotales, n, 15 * 60_000);
      const cpu = restarCpu(cpuPorArbol(raices), cpuAntes);
      const medida = await medir(cliente);
      const planes = await comprobarPlanes(cliente, envio.conversiones);
      const saludConsumidor = await consumer.salud();
      const porSegundo = medida.n / medida.segundos;
      const cpuTotal = cpu ? Object.values(cpu).reduce((a, b) => a + b, 0) : Number.NaN;
      const h = envio.hechos;
      decir(
        `  aceptados/s (API)                 ${fijo(envio.porSegundo)} hechos/s  (${envio.aceptadosTotales} hechos en ${fijo(envio.duracionTotal, 1)} s: ` +
          `creada ${h.creada}, ajustada ${h.ajustada}, aprobada ${h.aprobada}, revertida ${h.revertida}; ${envio.errores} errores; ` +
          `p50 ${fijo(envio.p50, 1)} ms, p99 ${fijo(envio.p99, 1)} ms por petición)`,
      );
      decir(
        `  conversiones/s (comisión final)   ${fijo(porSegundo)}   (${medida.n} conversiones, ${medida.hechos} hechos, en ${fijo(medida.segundos, 1)} s; carga ${fijo(cargaInicial, 1)})`,
      );
      decir(`  aceptación del último hecho → comisión final   p50 ${fijo(Number(medida.p50))} ms · p99 ${fijo(Number(medida.p99))} ms`);
      if (cpu) {
        decir(
          `  CPU por conversión (ms)           ${fijo((1000 * cpuTotal) / medida.n, 2)}  (${Object.entries(cpu)
            .map(([k, v]) => `${k} ${fijo((1000 * v) / medida.n, 2)}`)
            .join(' · ')})`,
        );
      }
      decir(
        `  cada conversión con la comisión de su plan: ${planes.fallos.length === 0 ? 'sí' : 'NO'} ` +
          `(${planes.comprobadas - planes.fallos.length} de ${planes.comprobadas}; ${planes.guardadas} conversiones guardadas)` +
          (planes.fallos.length > 0 ? `; primera distinta: ${JSON.stringify(planes.fallos[0])}` : ''),
      );
      const { conversiones: _planes, ...envioSinPlanes } = envio;
      return {
        envio: envioSinPlanes,
        medida,
        porSegundo,
        cpu,
        cargaInicial,
        planes: { comprobadas: planes.comprobadas, guardadas: planes.guardadas, fallos: planes.fallos.slice(0, 20) },
        contadoresConsumidor: saludConsumidor?.contadores ?? null,
      };
    } finally {
      await Promise.all([api.parar(), outbox.parar(), consumer.parar()]);
    }
  } finally {
    await cliente.end().catch(() => {});
    await postgres.detener();
  }
}
