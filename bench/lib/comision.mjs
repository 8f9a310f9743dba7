// La regla de comisión de un socio con la administración de socios (`pnpm socios comision`, ya compilada)
// y la comisión que debe quedar según esa regla, para los benchmarks de conversiones.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { arrancarProceso, conTope, describirSalida } from '@aeropartners/procesos';
import { versionActual } from './topologia.mjs';

/** Porcentaje de la regla de los benchmarks (en puntos básicos: 1000 = 10 %). */
export const PUNTOS_BASICOS = 1000;
/** Vigente desde antes de cualquier `ocurrido_en` que envíen los generadores. */
const VIGENTE_DESDE = '2026-01-01T00:00:00Z';

/**
 * `pnpm socios comision <idSocio> --porcentaje 10 --desde …` contra `databaseUrl`, con el bloqueo por
 * defecto (30 días: ninguna comisión se liquida mientras se mide, así que su estado final es el de su
 * conversión). `version`: la del repositorio cuya administración se usa (la del árbol por defecto).
 */
export async function fijarComision(databaseUrl, idSocio, version = versionActual) {
  const script = path.join(version.raiz, 'packages/adaptadores/dist/cli/socios.js');
  if (!existsSync(script)) throw new Error('no está la administración de socios compilada: pnpm build');
  const proceso = arrancarProceso({
    nombre: 'socios comision',
    script,
    argumentos: ['comision', idSocio, '--porcentaje', String(PUNTOS_BASICOS / 100), '--desde', VIGENTE_DESDE, '--json'],
    opcionesNode: [],
    entorno: { ...process.env, DATABASE_URL: databaseUrl },
    alLinea: (linea, flujo) => flujo === 'stderr' && process.stderr.write(`[socios comision] ${linea}\n`),
  });
  const cerrado = new Promise((resolver) => proceso.hijo.once('close', resolver));
  const salida = await proceso.salida;
  await conTope(cerrado, 5_000, 'socios comision: su salida no se cerró');
  if (salida.codigo !== 0) throw new Error(`socios comision terminó con ${describirSalida(salida)}\n${proceso.ultimasLineas().join('\n')}`);
}

/** La comisión en unidades menores de una venta con la regla de los benchmarks (mitad hacia arriba, como el dominio). */
export function comisionEsperada(ventaUnidades) {
  return Number((BigInt(ventaUnidades) * BigInt(PUNTOS_BASICOS) * 2n + 10_000n) / 20_000n);
}
