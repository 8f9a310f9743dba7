/**
 * La regla de dependencias (`dominio ← aplicacion ← adaptadores ← services`, docs/arquitectura.md) la
 * comprueba dependency-cruiser con `.dependency-cruiser.cjs`: los imports los resuelve él (TypeScript,
 * `exports` de cada paquete, la condición `@aeropartners/source`), no expresiones regulares nuestras.
 *
 * Este test la corre sobre el repositorio (cero violaciones, y el recorrido no puede quedarse vacío),
 * demuestra con un repositorio sembrado de violaciones que cada regla de la configuración salta donde
 * debe y no donde no, y revisa lo que dependency-cruiser no ve: qué declara cada package.json.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const RAIZ = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONFIGURACION = path.join(RAIZ, '.dependency-cruiser.cjs');
/** dependency-cruiser es devDependency de la raíz: su CLI está en node_modules de la raíz. */
const DEPCRUISE = path.join(RAIZ, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violacion {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string; readonly severity: string };
}
interface Modulo {
  readonly source: string;
  readonly dependencies: ReadonlyArray<{ readonly module: string; readonly resolved: string }>;
}
interface Resultado {
  readonly violaciones: readonly Violacion[];
  readonly modulos: readonly Modulo[];
}

/** Corre la CLI de dependency-cruiser en `directorio` con su `.dependency-cruiser.cjs` y lee su JSON. */
function cruzar(directorio: string, carpetas: readonly string[]): Resultado {
  let salida: string;
  try {
    salida = execFileSync(process.execPath, [DEPCRUISE, ...carpetas, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
      cwd: directorio,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    // Con violaciones sale con código distinto de cero; su salida JSON es igual de válida.
    const { stdout } = error as { stdout?: string };
    if (!stdout) throw error;
    salida = stdout;
  }
  const json = JSON.parse(salida) as { summary: { violations: Violacion[] }; modules: Modulo[] };
  return { violaciones: json.summary.violations, modulos: json.modules };
}

interface PackageJson {
  readonly name: string;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

function paquetesDelWorkspace(): Array<{ carpeta: string; paquete: PackageJson }> {
  return ['packages', 'services'].flatMap((grupo) =>
    readdirSync(path.join(RAIZ, grupo), { withFileTypes: true })
      .filter((entrada) => entrada.isDirectory())
      .map((entrada) => {
        const carpeta = `${grupo}/${entrada.name}`;
        return { carpeta, paquete: leerPackageJson(carpeta) };
      }),
  );
}

const leerPackageJson = (carpeta: string): PackageJson =>
  JSON.parse(readFileSync(path.join(RAIZ, carpeta, 'package.json'), 'utf8')) as PackageJson;

const todasLasDeclaradas = (paquete: PackageJson) => [
  ...Object.keys({ ...paquete.dependencies, ...paquete.peerDependencies, ...paquete.optionalDependencies }),
  ...Object.keys(paquete.devDependencies ?? {}),
];

const NOMBRES_DE_REGLAS: readonly string[] = (
  createRequire(import.meta.url)(CONFIGURACION) as { forbidden: { name: string }[] }
).forbidden.map((regla) => regla.name);

describe('arquitectura: el repositorio cumple la regla de dependencias', () => {
  const { violaciones, modulos } = cruzar(RAIZ, ['packages', 'services', 'e2e', 'experimento', 'bench', 'test']);

  it('dependency-cruiser no encuentra ninguna violación en packages, services, e2e, experimento, bench ni test', () => {
    expect(violaciones.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
    // El recorrido no puede quedarse vacío sin avisar (una exclusión demasiado amplia lo dejaría así).
    expect(modulos.length).toBeGreaterThan(200);
  });

  it('todo @aeropartners/* importado está declarado en el package.json de quien lo importa', () => {
    // Los paquetes del workspace resuelven a su fuente, así que dependency-cruiser no sabe si están declarados.
    const sinDeclarar: string[] = [];
    let importaciones = 0;
    for (const modulo of modulos) {
      const unidad = /^((?:packages|services)\/[^/]+|e2e|experimento)\//.exec(modulo.source)?.[1];
      if (!unidad) continue;
      const declaradas = todasLasDeclaradas(leerPackageJson(unidad));
      for (const { module: nombre } of modulo.dependencies) {
        const paquete = /^@aeropartners\/[^/]+/.exec(nombre)?.[0];
        if (!paquete) continue;
        importaciones += 1;
        const propio = leerPackageJson(unidad).name === paquete;
        if (!propio && !declaradas.includes(paquete)) sinDeclarar.push(`${modulo.source} → ${paquete}`);
      }
    }
    expect(importaciones).toBeGreaterThan(50);
    expect(sinDeclarar).toEqual([]);
  });
});

// ── Un repositorio sembrado: una violación por regla, y vecinos permitidos que no deben saltar ──────

/** Cada fichero sembrado, con la regla que debe hacer saltar (o `null`: está permitido). */
const SEMBRADOS: ReadonlyArray<readonly [fichero: string, contenido: string, regla: string | null]> = [
  // Permitidos: el vecino bueno de cada violación.
  ['packages/dominio/src/ok.ts', 'export const ok = 1;\n', null],
  ['packages/dominio/src/usa-propio.ts', "import { ok } from './ok';\nexport const b = ok;\n", null],
  ['packages/dominio/src/ok.test.ts', "import { describe } from 'vitest';\nimport { ok } from './ok';\nexport { describe, ok };\n", null],
  ['packages/aplicacion/src/ok.ts', "import { ok } from '../../dominio/src/ok';\nexport const a = ok;\n", null],
  ['packages/contratos/src/ok.ts', "import { a } from '../../aplicacion/src/ok';\nexport const c = a;\n", null],
  ['packages/contratos/src/pulsar/falso.ts', 'export const falso = 1;\n', null],
  [
    'packages/adaptadores/src/ok.ts',
    "import { a } from '../../aplicacion/src/ok';\nimport x from 'declarada';\nexport const d = [a, x];\n",
    null,
  ],
  [
    'packages/adaptadores/src/ok.test.ts',
    "import { c } from '../../contratos/src/ok';\nimport y from 'de-desarrollo';\nexport const t = [c, y];\n",
    null,
  ],
  ['services/api/src/ok.ts', "import { d } from '../../../packages/adaptadores/src/ok';\nexport const s = d;\n", null],
  ['services/outbox/src/ok.ts', 'export const o = 1;\n', null],
  // Una violación por regla.
  [
    'packages/dominio/src/con-node.ts',
    "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n",
    'dominio-sin-dependencias',
  ],
  ['packages/dominio/src/sube.test.ts', "import { a } from '../../aplicacion/src/ok';\nexport const t = a;\n", 'dominio-pruebas'],
  [
    'packages/aplicacion/src/con-adaptadores.ts',
    "import { d } from '../../adaptadores/src/ok';\nexport const m = d;\n",
    'aplicacion-solo-dominio',
  ],
  ['packages/aplicacion/src/testing/con-node.ts', "import path from 'node:path';\nexport const p = path;\n", 'aplicacion-pruebas'],
  [
    'packages/contratos/src/con-adaptadores.ts',
    "import { d } from '../../adaptadores/src/ok';\nexport const m = d;\n",
    'contratos-sin-adaptadores',
  ],
  [
    'packages/adaptadores/src/con-contratos.ts',
    "import { c } from '../../contratos/src/ok';\nexport const m = c;\n",
    'contratos-solo-en-pruebas',
  ],
  [
    'services/api/test/con-falso.test.ts',
    "import { falso } from '../../../packages/contratos/src/pulsar/falso';\nexport const m = falso;\n",
    'servicios-sin-falsos-de-proveedores',
  ],
  [
    'packages/adaptadores/src/con-servicio.ts',
    "import { s } from '../../../services/api/src/ok';\nexport const m = s;\n",
    'paquetes-sin-servicios',
  ],
  ['services/api/src/con-otro-servicio.ts', "import { o } from '../../outbox/src/ok';\nexport const m = o;\n", 'servicios-entre-si'],
  ['packages/adaptadores/src/no-declarada.ts', "import z from 'no-declarada';\nexport const m = z;\n", 'sin-dependencias-no-declaradas'],
  [
    'packages/adaptadores/src/dev-en-produccion.ts',
    "import y from 'de-desarrollo';\nexport const m = y;\n",
    'sin-dependencias-de-desarrollo-en-produccion',
  ],
  ['packages/adaptadores/src/ciclo-a.ts', "import { b } from './ciclo-b';\nexport const a = () => b;\n", 'sin-ciclos'],
  [
    'packages/adaptadores/src/irresoluble.ts',
    "import { nada } from './no-existe';\nexport const m = nada;\n",
    'sin-importaciones-irresolubles',
  ],
];

/** Paquetes npm de mentira en node_modules del repositorio sembrado. */
const PAQUETES_NPM = ['declarada', 'de-desarrollo', 'no-declarada', 'vitest'];

function sembrar(): string {
  const raiz = mkdtempSync(path.join(tmpdir(), 'arquitectura-'));
  cpSync(CONFIGURACION, path.join(raiz, '.dependency-cruiser.cjs'));
  cpSync(path.join(RAIZ, 'tsconfig.base.json'), path.join(raiz, 'tsconfig.base.json'));
  const escribir = (relativo: string, contenido: string) => {
    mkdirSync(path.dirname(path.join(raiz, relativo)), { recursive: true });
    writeFileSync(path.join(raiz, relativo), contenido);
  };
  for (const [fichero, contenido] of SEMBRADOS) escribir(fichero, contenido);
  // La otra mitad del ciclo: dependency-cruiser lo señala una vez, desde ciclo-a.
  escribir('packages/adaptadores/src/ciclo-b.ts', "import { a } from './ciclo-a';\nexport const b = () => a;\n");
  for (const nombre of PAQUETES_NPM) {
    escribir(`node_modules/${nombre}/package.json`, JSON.stringify({ name: nombre, version: '1.0.0', main: 'index.js' }));
    escribir(`node_modules/${nombre}/index.js`, 'module.exports = 1;\n');
  }
  escribir(
    'packages/adaptadores/package.json',
    JSON.stringify({ name: 'adaptadores', dependencies: { declarada: '1.0.0' }, devDependencies: { 'de-desarrollo': '1.0.0' } }),
  );
  for (const paquete of ['dominio', 'aplicacion', 'contratos']) {
    escribir(`packages/${paquete}/package.json`, JSON.stringify({ name: paquete, devDependencies: { vitest: '1.0.0' } }));
  }
  for (const servicio of ['api', 'outbox']) escribir(`services/${servicio}/package.json`, JSON.stringify({ name: servicio }));
  return raiz;
}

describe('arquitectura: cada regla de .dependency-cruiser.cjs salta donde debe', () => {
  const raiz = sembrar();
  afterAll(() => rmSync(raiz, { recursive: true, force: true }));
  const { violaciones } = cruzar(raiz, ['packages', 'services']);
  const reglasDe = (fichero: string) => new Set(violaciones.filter((v) => v.from === fichero).map((v) => v.rule.name));

  it('cada regla de la configuración tiene su violación sembrada (una regla nueva necesita la suya)', () => {
    const sembradas = new Set(SEMBRADOS.map(([, , regla]) => regla).filter((regla) => regla !== null));
    expect([...sembradas].sort()).toEqual([...NOMBRES_DE_REGLAS].sort());
  });

  it.each(SEMBRADOS.filter(([, , regla]) => regla !== null))('%s hace saltar su regla', (fichero, _contenido, regla) => {
    expect([...reglasDe(fichero)]).toContain(regla);
  });

  it.each(SEMBRADOS.filter(([, , regla]) => regla === null))('%s está permitido: ninguna regla salta', (fichero) => {
    expect([...reglasDe(fichero)]).toEqual([]);
  });

  it('todas las violaciones son errores (ninguna regla es solo un aviso)', () => {
    expect(violaciones.length).toBeGreaterThanOrEqual(NOMBRES_DE_REGLAS.length);
    expect(violaciones.filter((v) => v.rule.severity !== 'error')).toEqual([]);
  });
});

// ── Lo que dependency-cruiser no ve: las dependencias declaradas que nadie importa todavía ──────────

const deEjecucion = (paquete: PackageJson) =>
  Object.keys({ ...paquete.dependencies, ...paquete.peerDependencies, ...paquete.optionalDependencies });

describe('arquitectura: los package.json declaran lo que la regla permite', () => {
  const paquetes = paquetesDelWorkspace();
  const por = (nombre: string) => {
    const encontrado = paquetes.find(({ paquete }) => paquete.name === nombre);
    if (!encontrado) throw new Error(`no está ${nombre}`);
    return encontrado.paquete;
  };

  it('encuentra los paquetes y los tres servicios', () => {
    const nombres = paquetes.map(({ paquete }) => paquete.name);
    expect(nombres).toEqual(
      expect.arrayContaining([
        '@aeropartners/dominio',
        '@aeropartners/aplicacion',
        '@aeropartners/adaptadores',
        '@aeropartners/api',
        '@aeropartners/outbox',
        '@aeropartners/consumer',
      ]),
    );
  });

  it('dominio no declara dependencias de ejecución; aplicacion, solo dominio', () => {
    expect(deEjecucion(por('@aeropartners/dominio'))).toEqual([]);
    expect(deEjecucion(por('@aeropartners/aplicacion'))).toEqual(['@aeropartners/dominio']);
  });

  it('ningún paquete declara un servicio, ni un servicio otro servicio', () => {
    const servicios = new Set(paquetes.filter(({ carpeta }) => carpeta.startsWith('services/')).map(({ paquete }) => paquete.name));
    const declaraciones = paquetes.flatMap(({ paquete }) =>
      [...deEjecucion(paquete), ...Object.keys(paquete.devDependencies ?? {})]
        .filter((d) => servicios.has(d))
        .map((d) => `${paquete.name} → ${d}`),
    );
    expect(declaraciones).toEqual([]);
  });

  it('@aeropartners/contratos solo se declara en devDependencies (nunca entra en lo que se instala)', () => {
    const enEjecucion = paquetes
      .filter(({ paquete }) => deEjecucion(paquete).includes('@aeropartners/contratos'))
      .map(({ paquete }) => paquete.name);
    expect(enEjecucion).toEqual([]);
  });
});
