/**
 * Regla de dependencias (ARCHITECTURE.md §1): `dominio ← aplicacion ← adaptadores ← services`.
 *
 * - `dominio` no importa nada salvo rutas relativas dentro de sí mismo (ni `node:`, ni paquetes).
 * - `aplicacion` importa solo rutas relativas propias y `@aeropartners/dominio`.
 * - En código de pruebas (`*.test.ts`, `test/**`, `src/testing/**`) ambos pueden además importar
 *   `vitest` y `fast-check`.
 * - Ningún paquete (`packages/*`) importa un servicio, ni por nombre ni por ruta relativa.
 * - `@aeropartners/contratos` (suites de contrato y falsos de proveedores, privado) depende a lo sumo de
 *   `dominio` y `aplicacion`; los demás lo declaran solo en `devDependencies` y solo lo importa su
 *   código de pruebas (así nunca entra en lo que se instala). Los servicios no usan sus falsos de
 *   proveedores (`/pulsar`, `/stripe`): sus tests van con los dobles en memoria de nuestros puertos.
 * - Los `package.json` declaran solo dependencias de workspace permitidas por la misma regla, y todo
 *   `@aeropartners/*` importado está declarado en el `package.json` de quien lo importa.
 *
 * Los imports se extraen con expresiones regulares (tras quitar los comentarios); un autotest con
 * fuentes sintéticas demuestra que el verificador detecta cada tipo de violación.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const RAIZ = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ── Modelo: unidades del workspace y qué puede importar cada una ─────────────

type Capa = 'dominio' | 'aplicacion' | 'adaptadores' | 'contratos' | 'paquete' | 'servicio';

interface Unidad {
  /** Nombre npm: `@aeropartners/dominio`. */
  readonly nombre: string;
  /** Carpeta relativa a la raíz, con `/`: `packages/dominio`. */
  readonly carpeta: string;
  readonly capa: Capa;
  /** Todas las dependencias declaradas en su package.json, por campo. */
  readonly dependencias: Readonly<Record<CampoDependencias, Readonly<Record<string, string>>>>;
  /** Dependencias pares marcadas `optional` en `peerDependenciesMeta`. */
  readonly paresOpcionales: ReadonlySet<string>;
}

const CAMPOS_DEPENDENCIAS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'] as const;
type CampoDependencias = (typeof CAMPOS_DEPENDENCIAS)[number];
const CAMPOS_EJECUCION: readonly CampoDependencias[] = ['dependencies', 'peerDependencies', 'optionalDependencies'];

/** Servicios conocidos aunque su carpeta aún no exista: ningún paquete puede importarlos. */
const SERVICIOS_CONOCIDOS = ['@aeropartners/api', '@aeropartners/outbox', '@aeropartners/consumer'];

/** Lo único de fuera que el código de pruebas de `dominio` y `aplicacion` puede importar. */
const SOLO_PRUEBAS = new Set(['vitest', 'fast-check']);

const CAPA_POR_NOMBRE: Readonly<Record<string, Capa>> = {
  '@aeropartners/dominio': 'dominio',
  '@aeropartners/aplicacion': 'aplicacion',
  '@aeropartners/adaptadores': 'adaptadores',
  '@aeropartners/contratos': 'contratos',
};

function capaDe(nombre: string, carpeta: string): Capa {
  if (carpeta.startsWith('services/') || SERVICIOS_CONOCIDOS.includes(nombre)) return 'servicio';
  return CAPA_POR_NOMBRE[nombre] ?? 'paquete';
}

/** ¿Puede una unidad de capa `desde` depender de una unidad de capa `hacia`? */
function capaPermitida(desde: Capa, hacia: Capa): boolean {
  switch (desde) {
    case 'dominio':
      return false;
    case 'aplicacion':
      return hacia === 'dominio';
    case 'adaptadores':
      return hacia === 'dominio' || hacia === 'aplicacion' || hacia === 'contratos';
    case 'contratos':
      return hacia === 'dominio' || hacia === 'aplicacion';
    case 'paquete':
      return hacia !== 'servicio';
    case 'servicio':
      return hacia !== 'servicio';
  }
}

function leerUnidad(carpeta: string, paquete: Record<string, unknown>): Unidad {
  const nombre = typeof paquete['name'] === 'string' ? paquete['name'] : carpeta;
  const dependencias = Object.fromEntries(
    CAMPOS_DEPENDENCIAS.map((campo) => [campo, (paquete[campo] ?? {}) as Record<string, string>]),
  ) as Unidad['dependencias'];
  const meta = (paquete['peerDependenciesMeta'] ?? {}) as Record<string, { optional?: boolean } | undefined>;
  const paresOpcionales = new Set(Object.keys(meta).filter((n) => meta[n]?.optional === true));
  return { nombre, carpeta, capa: capaDe(nombre, carpeta), dependencias, paresOpcionales };
}

function descubrirUnidades(raiz: string): Unidad[] {
  const unidades: Unidad[] = [];
  for (const grupo of ['packages', 'services']) {
    const dir = path.join(raiz, grupo);
    if (!existsSync(dir)) continue;
    for (const entrada of readdirSync(dir, { withFileTypes: true })) {
      const manifiesto = path.join(dir, entrada.name, 'package.json');
      if (!entrada.isDirectory() || !existsSync(manifiesto)) continue;
      const paquete = JSON.parse(readFileSync(manifiesto, 'utf8')) as Record<string, unknown>;
      unidades.push(leerUnidad(`${grupo}/${entrada.name}`, paquete));
    }
  }
  return unidades;
}

// ── Extracción de imports ────────────────────────────────────────────────────

/**
 * Sustituye los comentarios por espacios (conservando los saltos de línea, para que los números de
 * línea sigan valiendo) sin tocar cadenas ni plantillas: un import comentado no cuenta.
 */
function quitarComentarios(fuente: string): string {
  let salida = '';
  let i = 0;
  const blanco = (texto: string) => texto.replace(/[^\n]/g, ' ');
  while (i < fuente.length) {
    const c = fuente[i];
    const siguiente = fuente[i + 1];
    if (c === '/' && siguiente === '/') {
      const fin = fuente.indexOf('\n', i);
      const hasta = fin === -1 ? fuente.length : fin;
      salida += blanco(fuente.slice(i, hasta));
      i = hasta;
    } else if (c === '/' && siguiente === '*') {
      const fin = fuente.indexOf('*/', i + 2);
      const hasta = fin === -1 ? fuente.length : fin + 2;
      salida += blanco(fuente.slice(i, hasta));
      i = hasta;
    } else if (c === '\\') {
      // Escape fuera de cadena (dentro de una expresión regular literal): `\/*` no abre un comentario.
      salida += fuente.slice(i, i + 2);
      i += 2;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < fuente.length && fuente[j] !== c) {
        if (fuente[j] === '\\') j += 1;
        else if (c !== '`' && fuente[j] === '\n') break; // cadena sin cerrar: no arrastrar el resto
        j += 1;
      }
      salida += fuente.slice(i, j + 1);
      i = j + 1;
    } else {
      salida += c;
      i += 1;
    }
  }
  return salida;
}

interface Importacion {
  readonly especificador: string;
  readonly linea: number;
}

const PATRONES_IMPORT: readonly RegExp[] = [
  // import x from '…' · import { a, type B } from '…' · import type X from '…' · import '…'
  // export * from '…' · export { a } from '…' · export type { A } from '…'
  /\b(?:import|export)\s+(?:[^'"`;()]*?\bfrom\s*)?(['"])([^'"\n]+)\1/g,
  // import('…') · await import("…", { with: … })
  /\bimport\s*\(\s*(['"`])([^'"`\n$]+)\1\s*[,)]/g,
  // require('…') · require.resolve('…') · import x = require('…')
  /\brequire(?:\.resolve)?\s*\(\s*(['"`])([^'"`\n$]+)\1\s*[,)]/g,
  // import.meta.resolve('…') · vi.mock('…') · vi.importActual('…')
  /\b(?:import\.meta\.resolve|vi\.(?:mock|doMock|importActual|importMock))\s*\(\s*(['"`])([^'"`\n$]+)\1\s*[,)]/g,
];

/** `import(expr)`, `require(expr)` o una plantilla con `${…}`: un destino que no se puede comprobar. */
const DINAMICO_NO_LITERAL = /\b(?:import|require)\s*\(\s*(?:(?![\s'"`)])|`[^`]*\$\{)/g;

function lineaDe(texto: string, indice: number): number {
  let linea = 1;
  for (let i = 0; i < indice; i++) if (texto.charCodeAt(i) === 10) linea += 1;
  return linea;
}

function extraerImportaciones(fuente: string): { importaciones: Importacion[]; dinamicasNoLiterales: number[] } {
  const codigo = quitarComentarios(fuente);
  const vistas = new Map<string, Importacion>();
  for (const patron of PATRONES_IMPORT) {
    for (const m of codigo.matchAll(patron)) {
      const especificador = m[2] ?? '';
      const linea = lineaDe(codigo, m.index);
      vistas.set(`${linea}:${especificador}`, { especificador, linea });
    }
  }
  const dinamicasNoLiterales = [...codigo.matchAll(DINAMICO_NO_LITERAL)].map((m) => lineaDe(codigo, m.index));
  return {
    importaciones: [...vistas.values()].sort((a, b) => a.linea - b.linea),
    dinamicasNoLiterales,
  };
}

// ── Reglas ───────────────────────────────────────────────────────────────────

interface Violacion {
  readonly archivo: string;
  readonly linea: number;
  readonly motivo: string;
}

/** ¿Es código de pruebas? `*.test.ts`, cualquier cosa bajo `test/` o bajo `src/testing/`. */
function esCodigoDePruebas(rutaEnUnidad: string): boolean {
  return /\.test\.[cm]?tsx?$/.test(rutaEnUnidad) || /^(?:test|src\/testing)\//.test(rutaEnUnidad);
}

/** `@scope/nombre/sub` → `@scope/nombre`; `nombre/sub` → `nombre`. */
function nombrePaquete(especificador: string): string {
  const partes = especificador.split('/');
  return (especificador.startsWith('@') ? partes.slice(0, 2) : partes.slice(0, 1)).join('/');
}

const NATIVOS = new Set(builtinModules);

type Destino =
  | { readonly tipo: 'relativo-propio' }
  | { readonly tipo: 'relativo-fuera'; readonly carpeta: string }
  | { readonly tipo: 'workspace'; readonly nombre: string; readonly capa: Capa; readonly relativo: boolean }
  | { readonly tipo: 'nativo' }
  | { readonly tipo: 'externo'; readonly nombre: string };

function clasificar(especificador: string, archivo: string, unidad: Unidad, unidades: readonly Unidad[]): Destino {
  if (/^\.{1,2}(?:\/|$)/.test(especificador) || especificador.startsWith('/')) {
    const absoluto = path.resolve(path.dirname(path.join(RAIZ, archivo)), especificador);
    const relativo = path.relative(RAIZ, absoluto).split(path.sep).join('/');
    if (relativo === unidad.carpeta || relativo.startsWith(`${unidad.carpeta}/`)) return { tipo: 'relativo-propio' };
    const otra = unidades.find((u) => relativo === u.carpeta || relativo.startsWith(`${u.carpeta}/`));
    if (otra) return { tipo: 'workspace', nombre: otra.nombre, capa: otra.capa, relativo: true };
    if (relativo.startsWith('services/')) return { tipo: 'workspace', nombre: relativo, capa: 'servicio', relativo: true };
    return { tipo: 'relativo-fuera', carpeta: relativo };
  }
  if (especificador.startsWith('node:') || NATIVOS.has(nombrePaquete(especificador))) return { tipo: 'nativo' };
  const nombre = nombrePaquete(especificador);
  const interna = unidades.find((u) => u.nombre === nombre);
  if (interna) return { tipo: 'workspace', nombre, capa: interna.capa, relativo: false };
  if (nombre.startsWith('@aeropartners/')) return { tipo: 'workspace', nombre, capa: capaDe(nombre, ''), relativo: false };
  return { tipo: 'externo', nombre };
}

/** Comprueba un archivo fuente de una unidad. `archivo` es relativo a la raíz del repositorio. */
function revisarFuente(
  archivo: string,
  fuente: string,
  unidad: Unidad,
  unidades: readonly Unidad[],
): Violacion[] {
  const violaciones: Violacion[] = [];
  const rutaEnUnidad = archivo.slice(unidad.carpeta.length + 1);
  const pruebas = esCodigoDePruebas(rutaEnUnidad);
  const estricta = unidad.capa === 'dominio' || unidad.capa === 'aplicacion';
  const { importaciones, dinamicasNoLiterales } = extraerImportaciones(fuente);
  const violar = (linea: number, motivo: string) => violaciones.push({ archivo, linea, motivo });

  if (estricta) {
    for (const linea of dinamicasNoLiterales) {
      violar(linea, `${unidad.nombre} no puede usar import()/require() con un destino que no es un literal`);
    }
  }

  for (const { especificador, linea } of importaciones) {
    const destino = clasificar(especificador, archivo, unidad, unidades);
    const cita = `'${especificador}'`;
    switch (destino.tipo) {
      case 'relativo-propio':
        break;
      case 'relativo-fuera':
        if (estricta) violar(linea, `${unidad.nombre} solo importa rutas relativas dentro de sí mismo: ${cita} sale a ${destino.carpeta}`);
        break;
      case 'nativo':
        if (estricta) violar(linea, `${unidad.nombre} no puede importar módulos de Node: ${cita}`);
        break;
      case 'externo':
        if (estricta && !(pruebas && SOLO_PRUEBAS.has(especificador))) {
          violar(
            linea,
            pruebas
              ? `el código de pruebas de ${unidad.nombre} solo puede importar vitest y fast-check, no ${cita}`
              : `${unidad.nombre} no puede importar paquetes externos: ${cita}`,
          );
        }
        break;
      case 'workspace': {
        if (destino.nombre === unidad.nombre) break;
        if (!capaPermitida(unidad.capa, destino.capa)) {
          violar(
            linea,
            destino.capa === 'servicio'
              ? `${unidad.nombre} no puede importar un servicio: ${cita}`
              : `${unidad.nombre} no puede importar ${destino.nombre} (regla dominio ← aplicacion ← adaptadores ← services): ${cita}`,
          );
        } else if (destino.relativo) {
          violar(linea, `${unidad.nombre} importa ${destino.nombre} por ruta relativa (${cita}); use '${destino.nombre}'`);
        } else if (destino.capa === 'contratos' && !pruebas) {
          violar(linea, `${unidad.nombre} importa ${cita} fuera de su código de pruebas: los contratos y falsos son solo para tests`);
        } else if (destino.capa === 'contratos' && unidad.capa === 'servicio' && especificador !== destino.nombre) {
          violar(linea, `los tests de ${unidad.nombre} usan los dobles en memoria de los puertos (@aeropartners/aplicacion/testing), no los falsos de proveedores: ${cita}`);
        } else if (!CAMPOS_DEPENDENCIAS.some((campo) => destino.nombre in unidad.dependencias[campo])) {
          violar(linea, `${unidad.nombre} importa ${cita} sin declarar ${destino.nombre} en su package.json`);
        }
        break;
      }
    }
  }
  return violaciones;
}

/** Comprueba las dependencias declaradas en el package.json de una unidad. */
function revisarManifiesto(unidad: Unidad, unidades: readonly Unidad[]): Violacion[] {
  const violaciones: Violacion[] = [];
  const archivo = `${unidad.carpeta}/package.json`;
  for (const campo of CAMPOS_DEPENDENCIAS) {
    for (const [nombre, version] of Object.entries(unidad.dependencias[campo])) {
      const interna = unidades.find((u) => u.nombre === nombre);
      const esWorkspace = interna !== undefined || nombre.startsWith('@aeropartners/') || version.startsWith('workspace:');
      const violar = (motivo: string) => violaciones.push({ archivo, linea: 0, motivo: `${campo}.${nombre}: ${motivo}` });
      if (esWorkspace) {
        if (nombre === unidad.nombre) continue;
        const capa = interna?.capa ?? capaDe(nombre, '');
        if (!capaPermitida(unidad.capa, capa)) {
          violar(capa === 'servicio' ? 'un paquete no puede depender de un servicio' : `${unidad.nombre} no puede depender de ${nombre}`);
        } else if (capa === 'contratos' && campo !== 'devDependencies') {
          violar('los contratos y falsos son de pruebas: solo en devDependencies');
        }
      } else if (campo === 'peerDependencies' && SOLO_PRUEBAS.has(nombre) && unidad.paresOpcionales.has(nombre)) {
        // vitest / fast-check como par opcional: lo usa solo la entrada `./testing` (suites de contrato).
        continue;
      } else if (unidad.capa === 'dominio' && CAMPOS_EJECUCION.includes(campo)) {
        violar('el dominio no tiene dependencias de ejecución');
      } else if (unidad.capa === 'aplicacion' && CAMPOS_EJECUCION.includes(campo)) {
        violar('aplicacion solo depende de @aeropartners/dominio');
      }
    }
  }
  return violaciones;
}

// ── Recorrido del repositorio ────────────────────────────────────────────────

const EXTENSIONES = /\.(?:[cm]?ts|tsx)$/;

function archivosBajo(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const encontrados: string[] = [];
  for (const entrada of readdirSync(dir, { withFileTypes: true })) {
    if (entrada.name === 'node_modules' || entrada.name === 'dist') continue;
    const ruta = path.join(dir, entrada.name);
    if (entrada.isDirectory()) encontrados.push(...archivosBajo(ruta));
    else if (EXTENSIONES.test(entrada.name) && statSync(ruta).isFile()) encontrados.push(ruta);
  }
  return encontrados;
}

function revisarRepositorio(raiz: string) {
  const unidades = descubrirUnidades(raiz);
  const violaciones: Violacion[] = [];
  const archivosPorUnidad = new Map<string, string[]>();
  for (const unidad of unidades) {
    const archivos = ['src', 'test']
      .flatMap((sub) => archivosBajo(path.join(raiz, unidad.carpeta, sub)))
      .map((a) => path.relative(raiz, a).split(path.sep).join('/'));
    archivosPorUnidad.set(unidad.nombre, archivos);
    for (const archivo of archivos) {
      violaciones.push(...revisarFuente(archivo, readFileSync(path.join(raiz, archivo), 'utf8'), unidad, unidades));
    }
    violaciones.push(...revisarManifiesto(unidad, unidades));
  }
  return { unidades, violaciones, archivosPorUnidad };
}

function informe(violaciones: readonly Violacion[]): string {
  return violaciones.map((v) => `${v.archivo}${v.linea > 0 ? `:${v.linea}` : ''} — ${v.motivo}`).join('\n');
}

// ── Tests ────────────────────────────────────────────────────────────────────

describe('arquitectura: regla de dependencias en el repositorio', () => {
  const { unidades, violaciones, archivosPorUnidad } = revisarRepositorio(RAIZ);

  it('encuentra las unidades y sus fuentes (el recorrido no puede quedarse vacío sin avisar)', () => {
    const capas = [...new Set(unidades.map((u) => u.capa))];
    for (const capa of ['dominio', 'aplicacion', 'adaptadores', 'contratos', 'servicio'] as const) expect(capas).toContain(capa);
    expect(archivosPorUnidad.get('@aeropartners/dominio')).toContain('packages/dominio/src/pago.ts');
    expect(archivosPorUnidad.get('@aeropartners/aplicacion')?.length ?? 0).toBeGreaterThan(0);
    // El extractor ve los imports reales: index.ts del dominio reexporta ./pago.js.
    const indice = readFileSync(path.join(RAIZ, 'packages/dominio/src/index.ts'), 'utf8');
    expect(extraerImportaciones(indice).importaciones.map((i) => i.especificador)).toContain('./pago.js');
  });

  it('ningún archivo ni package.json incumple la regla dominio ← aplicacion ← adaptadores ← services', () => {
    expect(violaciones, `\n${informe(violaciones)}\n`).toEqual([]);
  });
});

describe('arquitectura: autotest del verificador', () => {
  const manifiesto = (nombre: string, dependencies: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({
    name: nombre,
    dependencies,
    ...extra,
  });
  const dominio = leerUnidad('packages/dominio', manifiesto('@aeropartners/dominio'));
  const aplicacion = leerUnidad('packages/aplicacion', manifiesto('@aeropartners/aplicacion', { '@aeropartners/dominio': 'workspace:*' }));
  const adaptadores = leerUnidad(
    'packages/adaptadores',
    manifiesto('@aeropartners/adaptadores', {
      '@aeropartners/dominio': 'workspace:*',
      '@aeropartners/aplicacion': 'workspace:*',
      pg: '8.0.0',
    }),
  );
  const api = leerUnidad('services/api', manifiesto('@aeropartners/api', { '@aeropartners/adaptadores': 'workspace:*' }));
  const contratos = leerUnidad(
    'packages/contratos',
    manifiesto('@aeropartners/contratos', { '@aeropartners/dominio': 'workspace:*', '@aeropartners/aplicacion': 'workspace:*' }),
  );
  const unidades = [dominio, aplicacion, adaptadores, api, contratos];

  const revisar = (unidad: Unidad, archivo: string, fuente: string) =>
    revisarFuente(`${unidad.carpeta}/${archivo}`, fuente, unidad, unidades);

  it.each([
    ["import { randomUUID } from 'node:crypto';", 'módulos de Node'],
    ["import fs from 'fs';", 'módulos de Node'],
    ["import { z } from 'zod';", 'paquetes externos'],
    ["import { describe } from 'vitest';", 'paquetes externos'],
    ["import type { Algo } from '@aeropartners/aplicacion';", 'no puede importar @aeropartners/aplicacion'],
    ["export * from '@aeropartners/adaptadores';", 'no puede importar @aeropartners/adaptadores'],
    ["export { type X, y } from '@aeropartners/aplicacion/testing';", 'no puede importar @aeropartners/aplicacion'],
    ["const m = await import('@aeropartners/api');", 'no puede importar un servicio'],
    ['const pg = require("pg");', 'paquetes externos'],
    ["import {\n  a,\n  type B,\n} from 'kysely';", 'paquetes externos'],
    ["import '../../aplicacion/src/index.js';", 'no puede importar @aeropartners/aplicacion'],
    ["import { x } from '../../../scripts/utilidades.js';", 'solo importa rutas relativas dentro de sí mismo'],
    ["import { app } from '../../../services/api/src/app.js';", 'no puede importar un servicio'],
    ['const m = await import(ruta);', 'no es un literal'],
    ['const m = require(`./${nombre}.js`);', 'no es un literal'],
  ])('dado dominio con %j, entonces lo detecta (%s)', (fuente, motivo) => {
    const violaciones = revisar(dominio, 'src/malo.ts', `import { Dinero } from './dinero.js';\n${fuente}\n`);
    expect(violaciones).toHaveLength(1);
    expect(violaciones[0]?.motivo).toContain(motivo);
    expect(violaciones[0]?.linea).toBe(2);
  });

  it('dado dominio con solo imports relativos propios, o vitest/fast-check en sus tests, entonces no hay violaciones', () => {
    const fuente = "import { Dinero } from './dinero.js';\nexport { Moneda } from './moneda.js';\nexport type { Pago } from './pago.js';\n";
    expect(revisar(dominio, 'src/bueno.ts', fuente)).toEqual([]);
    const prueba = `${fuente}import fc from 'fast-check';\nimport { describe, it } from 'vitest';\n`;
    expect(revisar(dominio, 'src/bueno.unit.test.ts', prueba)).toEqual([]);
    expect(revisar(dominio, 'src/bueno.ts', prueba)).toHaveLength(2);
  });

  it('dados imports dentro de comentarios, entonces no cuentan; fuera de ellos, sí', () => {
    const fuente = [
      "// import fs from 'node:fs';",
      "/* export * from '@aeropartners/api'; */",
      '/**',
      " * Ejemplo: `const pg = require('pg')`",
      ' */',
      "const url = 'http://ejemplo.test/ruta'; import { a } from 'zod';",
      'const re = /\\/*x/; const y = 1; // */',
      "import { b } from 'kysely';",
    ].join('\n');
    expect(revisar(dominio, 'src/comentarios.ts', fuente).map((v) => [v.linea, v.motivo])).toEqual([
      [6, "@aeropartners/dominio no puede importar paquetes externos: 'zod'"],
      [8, "@aeropartners/dominio no puede importar paquetes externos: 'kysely'"],
    ]);
  });

  it('dada aplicacion, entonces solo admite el dominio, y vitest/fast-check solo en src/testing y *.test.ts', () => {
    const buena = "import { Pago, type Dinero } from '@aeropartners/dominio';\nimport { x } from './x.js';\n";
    expect(revisar(aplicacion, 'src/comandos/procesar.ts', buena)).toEqual([]);
    const conPruebas = "import { expect } from 'vitest';\nimport fc from 'fast-check';\n";
    expect(revisar(aplicacion, 'src/testing/contrato.ts', conPruebas)).toEqual([]);
    expect(revisar(aplicacion, 'src/comandos/procesar.unit.test.ts', conPruebas)).toEqual([]);
    expect(revisar(aplicacion, 'src/comandos/procesar.ts', conPruebas)).toHaveLength(2);
    expect(revisar(aplicacion, 'src/testing/contrato.ts', "import { Pool } from 'pg';")).toHaveLength(1);
    expect(revisar(aplicacion, 'src/x.ts', "import { EventEmitter } from 'node:events';")).toHaveLength(1);
    expect(revisar(aplicacion, 'src/x.ts', "import { Kysely } from '@aeropartners/adaptadores';")).toHaveLength(1);
    expect(revisar(aplicacion, 'src/x.ts', "export * from '../../dominio/src/index.js';")[0]?.motivo).toContain('por ruta relativa');
  });

  it('dados adaptadores, entonces admiten dominio, aplicacion y librerías, pero ningún servicio', () => {
    const buena = [
      "import { Pago } from '@aeropartners/dominio';",
      "import type { ProcesarPago } from '@aeropartners/aplicacion';",
      "import pg from 'pg';",
      "import { setTimeout } from 'node:timers/promises';",
    ].join('\n');
    expect(revisar(adaptadores, 'src/postgres/repositorio.ts', buena)).toEqual([]);
    for (const malo of [
      "import { crearApp } from '@aeropartners/api';",
      "import { relay } from '@aeropartners/outbox/src/relay.js';",
      "const c = await import('@aeropartners/consumer');",
      "import { app } from '../../../../services/api/src/app.js';",
      "import { x } from '../../../../services/outbox/src/main.js';",
    ]) {
      expect(revisar(adaptadores, 'src/postgres/repositorio.ts', malo).map((v) => v.motivo)).toEqual([
        expect.stringContaining('no puede importar un servicio'),
      ]);
    }
  });

  it('dados los contratos, entonces solo los importa el código de pruebas de quien los declara en devDependencies', () => {
    const conContratos = leerUnidad(
      'packages/adaptadores',
      manifiesto('@aeropartners/adaptadores', { '@aeropartners/dominio': 'workspace:*' }, { devDependencies: { '@aeropartners/contratos': 'workspace:*' } }),
    );
    const revisarCon = (archivo: string, fuente: string) => revisarFuente(`packages/adaptadores/${archivo}`, fuente, conContratos, unidades);
    const importacion = "import { PulsarFalso } from '@aeropartners/contratos/pulsar';";
    expect(revisarCon('src/pulsar/pulsar-broker.unit.test.ts', importacion)).toEqual([]);
    expect(revisarCon('test/apoyo.ts', importacion)).toEqual([]);
    expect(revisarCon('src/pulsar/pulsar-broker.ts', importacion).map((v) => v.motivo)).toEqual([expect.stringContaining('fuera de su código de pruebas')]);
    expect(revisarManifiesto(conContratos, unidades)).toEqual([]);
    const enEjecucion = leerUnidad('packages/adaptadores', manifiesto('@aeropartners/adaptadores', { '@aeropartners/contratos': 'workspace:*' }));
    expect(revisarManifiesto(enEjecucion, unidades).map((v) => v.motivo)).toEqual([expect.stringContaining('solo en devDependencies')]);
    // Los contratos no pueden depender de adaptadores (que los usa en sus tests: sería un ciclo) ni de un servicio.
    for (const destino of ['@aeropartners/adaptadores', '@aeropartners/api']) {
      const malo = leerUnidad('packages/contratos', manifiesto('@aeropartners/contratos', { [destino]: 'workspace:*' }));
      expect(revisarManifiesto(malo, unidades)).toHaveLength(1);
    }
    // Un servicio prueba con los dobles de nuestros puertos, no con los falsos de proveedores.
    const apiConContratos = leerUnidad('services/api', manifiesto('@aeropartners/api', {}, { devDependencies: { '@aeropartners/contratos': 'workspace:*' } }));
    expect(revisarFuente('services/api/src/x.unit.test.ts', "import { iniciarServidorStripeFalso } from '@aeropartners/contratos/stripe';", apiConContratos, unidades)).toEqual([
      expect.objectContaining({ motivo: expect.stringContaining('no los falsos de proveedores') }),
    ]);
    // aplicacion tampoco: los contratos dependen de ella.
    expect(revisar(aplicacion, 'src/x.unit.test.ts', "import { probarContratoBroker } from '@aeropartners/contratos';")).toHaveLength(1);
  });

  it('dado un import de workspace no declarado en package.json, entonces lo detecta', () => {
    const sinDeclarar = leerUnidad('packages/aplicacion', manifiesto('@aeropartners/aplicacion'));
    expect(revisarFuente('packages/aplicacion/src/x.ts', "import { Pago } from '@aeropartners/dominio';", sinDeclarar, unidades)).toEqual([
      expect.objectContaining({ motivo: expect.stringContaining('sin declarar') }),
    ]);
  });

  it('dados package.json que rompen la regla, entonces los detecta', () => {
    const casos: [Unidad, string][] = [
      [leerUnidad('packages/dominio', manifiesto('@aeropartners/dominio', { '@aeropartners/aplicacion': 'workspace:*' })), 'no puede depender'],
      [leerUnidad('packages/dominio', manifiesto('@aeropartners/dominio', { 'date-fns': '4.0.0' })), 'no tiene dependencias de ejecución'],
      [leerUnidad('packages/aplicacion', manifiesto('@aeropartners/aplicacion', { kysely: '0.28.0' })), 'solo depende'],
      [leerUnidad('packages/aplicacion', manifiesto('@aeropartners/aplicacion', {}, { peerDependencies: { vitest: '4.1.12' } })), 'solo depende'],
      [leerUnidad('packages/dominio', manifiesto('@aeropartners/dominio', {}, { optionalDependencies: { 'fast-check': '4.11.0' } })), 'no tiene dependencias'],
      [leerUnidad('packages/aplicacion', manifiesto('@aeropartners/aplicacion', { '@aeropartners/adaptadores': 'workspace:*' })), 'no puede depender'],
      [leerUnidad('packages/adaptadores', manifiesto('@aeropartners/adaptadores', { '@aeropartners/api': 'workspace:*' })), 'servicio'],
      [leerUnidad('packages/nuevo', manifiesto('@aeropartners/nuevo', { '@aeropartners/consumer': 'workspace:*' })), 'servicio'],
    ];
    for (const [unidad, motivo] of casos) {
      const violaciones = revisarManifiesto(unidad, unidades);
      expect(violaciones).toHaveLength(1);
      expect(violaciones[0]?.motivo).toContain(motivo);
    }
    for (const bueno of [dominio, aplicacion, adaptadores, api, contratos]) expect(revisarManifiesto(bueno, unidades)).toEqual([]);
    // vitest como par opcional (para la entrada ./testing) sí se admite.
    const conTesting = leerUnidad(
      'packages/aplicacion',
      manifiesto('@aeropartners/aplicacion', { '@aeropartners/dominio': 'workspace:*' }, {
        peerDependencies: { vitest: '4.1.12' },
        peerDependenciesMeta: { vitest: { optional: true } },
        devDependencies: { typescript: '5.9.3' },
      }),
    );
    expect(revisarManifiesto(conTesting, unidades)).toEqual([]);
  });

  it('dado un archivo real del dominio con un import prohibido añadido, entonces la revisión lo detecta', () => {
    const pago = readFileSync(path.join(RAIZ, 'packages/dominio/src/pago.ts'), 'utf8');
    expect(revisar(dominio, 'src/pago.ts', pago)).toEqual([]);
    const conVirus = `${pago}\nimport { Hono } from 'hono';\n`;
    expect(revisar(dominio, 'src/pago.ts', conVirus)).toEqual([
      expect.objectContaining({ archivo: 'packages/dominio/src/pago.ts', motivo: expect.stringContaining("'hono'") }),
    ]);
  });
});
