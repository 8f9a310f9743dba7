// Generador de carga de hechos de conversión (`POST /conversiones/eventos`) en su propio proceso: C
// conexiones keep-alive, cada una con UNA petición en vuelo (bucle cerrado, como `carga-http.mjs`). Cada
// cliente toma una conversión nueva y envía su ciclo de vida, hecho a hecho, con id_evento nuevos:
//   creada (venta de 10,00 a 500,00 USD, version 1) → a veces ajustada (nuevo importe absoluto, version 2)
//   → aprobada, revertida o nada (se queda pendiente); en una de cada diez, el ciclo desordenado.
// El plan de cada conversión sale de su número (`planDe`), así que quien lo lanza sabe qué debe quedar.
//
// Uso: node carga-conversiones.mjs URL_BASE CONCURRENCIA MODO VALOR [CALENTAMIENTO_S] [CLAVE] [PREFIJO]
//   MODO=segundos → VALOR segundos medidos tras el calentamiento (solo cuentan las respuestas dentro);
//   MODO=total    → VALOR conversiones enteras, sin calentamiento; la salida lleva además el plan de cada una.
//   CLAVE: clave de API del socio (`Authorization: Bearer`); sin ella, sin cabecera (modo anónimo).
// Salida: una línea JSON (ver estadistica.mjs) con además `hechos` (aceptados por tipo), `replays` y, en
// MODO=total, `conversiones`: [[id_conversion, estado final, venta final en unidades menores], …].
import { randomUUID } from 'node:crypto';
import { Conexion, peticionHttp } from './cliente-http-crudo.mjs';
import { resumir } from './estadistica.mjs';

const [urlBase, concurrenciaTexto, modo, valorTexto, calentamientoTexto = '2', clave = '', prefijoDado = ''] = process.argv.slice(2);
if (modo !== 'segundos' && modo !== 'total') throw new Error(`MODO desconocido: ${modo}`);
const destino = new URL('/conversiones/eventos', urlBase);
const concurrencia = Number(concurrenciaTexto);
const valor = Number(valorTexto);
const calentamiento = modo === 'segundos' ? Number(calentamientoTexto) : 0;
const prefijo = prefijoDado || randomUUID().slice(0, 8);

/** Entero pseudoaleatorio en [0, n) fijado por (k, sal): el plan de una conversión no depende del azar de la ejecución. */
function dado(k, sal, n) {
  let x = Math.imul(k ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(sal, 0xc2b2ae35);
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  return (x >>> 0) % n;
}

/**
 * El plan de la conversión número k: sus hechos en el orden de envío y lo que debe quedar. Mezcla: toda
 * conversión se crea; 25 % se ajusta; 70 % se aprueba, 20 % se revierte y 10 % se queda pendiente; 10 %
 * de los ciclos se envía barajado (la reversión o la aprobación pueden llegar antes que la creación).
 */
function planDe(k) {
  const idConversion = `conv-${prefijo}-${k}`;
  const ahora = Date.now();
  const instante = (i) => new Date(ahora + i).toISOString();
  const venta = 1_000 + dado(k, 1, 49_001);
  const hechos = [
    {
      tipo: 'creada',
      id_afiliado: `afiliado-${k % 200}`,
      monto: venta / 100,
      moneda: 'USD',
      version: 1,
      ocurrido_en: instante(0),
    },
  ];
  let ventaFinal = venta;
  if (dado(k, 2, 100) < 25) {
    ventaFinal = 1_000 + dado(k, 3, 49_001);
    hechos.push({ tipo: 'ajustada', monto: ventaFinal / 100, moneda: 'USD', version: 2, ocurrido_en: instante(1) });
  }
  const desenlace = dado(k, 4, 100);
  let estado = 'PENDIENTE';
  if (desenlace < 70) {
    estado = 'APROBADA';
    hechos.push({ tipo: 'aprobada', ocurrido_en: instante(2) });
  } else if (desenlace < 90) {
    estado = 'REVERTIDA';
    hechos.push({ tipo: 'revertida', motivo: 'devolución', ocurrido_en: instante(2) });
  }
  if (dado(k, 5, 10) === 0) {
    for (let i = hechos.length - 1; i > 0; i -= 1) {
      const j = dado(k, 10 + i, i + 1);
      [hechos[i], hechos[j]] = [hechos[j], hechos[i]];
    }
  }
  return {
    idConversion,
    estado,
    ventaFinal,
    peticiones: hechos.map(({ tipo, ...resto }, i) => ({
      tipo,
      peticion: peticionHttp(
        destino,
        JSON.stringify({ id_evento: `${idConversion}-${i}-${tipo}`, tipo: `conversion.${tipo}`, id_conversion: idConversion, ...resto }),
        clave,
      ),
    })),
  };
}

const conexiones = Array.from({ length: concurrencia }, () => new Conexion(destino));
let comprobadas = 0;
/** 202 y, en 1 de cada 64, el cuerpo `{id_evento, id_conversion, estado_evento: "ACEPTADO"}`. */
function aceptada(r) {
  if (r.estado !== 202) return false;
  if ((comprobadas++ & 63) !== 0) return true;
  const cuerpo = JSON.parse(r.cuerpo.toString('utf8'));
  if (cuerpo.estado_evento !== 'ACEPTADO' || typeof cuerpo.id_conversion !== 'string') {
    process.stderr.write(`respuesta inesperada: ${r.cuerpo.toString('utf8').slice(0, 300)}\n`);
    return false;
  }
  return true;
}

const latencias = [];
const hechos = { creada: 0, ajustada: 0, aprobada: 0, revertida: 0 };
const conversiones = [];
let errores = 0;
let replays = 0;
let totales = 0;
let siguienteConversion = 0;
const comienzo = performance.now();
const desde = comienzo + calentamiento * 1000;
const hasta = modo === 'segundos' ? desde + valor * 1000 : Number.POSITIVE_INFINITY;
const quedaTiempo = () => performance.now() < hasta;

async function trabajador(conexion) {
  while (quedaTiempo() && (modo === 'segundos' || siguienteConversion < valor)) {
    const k = siguienteConversion++;
    const plan = planDe(k);
    if (modo === 'total') conversiones.push([plan.idConversion, plan.estado, plan.ventaFinal]);
    for (const { tipo, peticion } of plan.peticiones) {
      if (!quedaTiempo()) return;
      const inicio = performance.now();
      const r = await conexion.enviar(peticion);
      const fin = performance.now();
      totales += 1;
      const ok = aceptada(r);
      if (ok) hechos[tipo] += 1;
      if (fin < desde || fin >= hasta) continue;
      if (ok) latencias.push(fin - inicio);
      else {
        errores += 1;
        if (errores <= 3)
          process.stderr.write(`respuesta HTTP ${r.estado || 'sin respuesta'}: ${r.cuerpo?.toString('utf8').slice(0, 300) ?? ''}\n`);
      }
      if (r.replay) replays += 1;
    }
  }
}
await Promise.all(conexiones.map(trabajador));
const duracion = (performance.now() - comienzo) / 1000;
for (const c of conexiones) c.destruir();
process.stdout.write(
  `${JSON.stringify({
    ...resumir(latencias, modo === 'segundos' ? valor : duracion, errores, { peticiones: totales, segundos: duracion }),
    replays,
    hechos,
    aceptadosTotales: Object.values(hechos).reduce((a, b) => a + b, 0),
    ...(modo === 'total' ? { conversiones, inicioMs: Date.now() - duracion * 1000 } : {}),
  })}\n`,
);
