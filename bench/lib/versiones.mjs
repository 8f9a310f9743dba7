// Una versión del repositorio en su propia carpeta, para `pnpm bench:e2e`: la base (la de antes del
// cambio que se mide) y, si se pide, la nueva fijada en un commit. `.data/bench-base/<sha>` =
// `git archive <rev>` + `pnpm install --frozen-lockfile --offline` (ver abajo las alternativas si no se
// puede) + la compilación de sus servicios. Se prepara una vez y se reutiliza mientras exista su marca
// `.bench-lista`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { raiz, versionEn } from './topologia.mjs';

function ejecutar(programa, args, cwd, entrada) {
  return execFileSync(programa, args, { cwd, input: entrada, stdio: [entrada ? 'pipe' : 'ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
}

function fallo(paso, error) {
  const detalle = [error.stdout, error.stderr].filter(Boolean).map(String).join('\n').trim().split('\n').slice(-20).join('\n');
  return new Error(`preparar una versión: falló ${paso}\n${detalle}`, { cause: error });
}

/**
 * `rev` (commit, rama, etiqueta) → la versión compilada, preparada si hace falta. `papel` (base, nueva)
 * nombra la versión en las cifras; `decir` recibe el progreso.
 */
export function prepararVersion(rev, papel, decir) {
  let sha;
  try {
    sha = ejecutar('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], raiz)
      .toString()
      .trim();
  } catch (error) {
    throw new Error(`${papel}: «${rev}» no es un commit de este repositorio`, { cause: error });
  }
  const carpeta = path.join(raiz, '.data', 'bench-base', sha);
  const version = versionEn(carpeta, `${papel} ${sha.slice(0, 7)}`);
  if (existsSync(path.join(carpeta, '.bench-lista'))) {
    decir(`versión ${papel} ${sha.slice(0, 7)}: ya preparada en ${path.relative(raiz, carpeta)}`);
    return { ...version, sha };
  }
  decir(
    `versión ${papel} ${sha.slice(0, 7)}: preparándola en ${path.relative(raiz, carpeta)} (git archive, pnpm install, compilación; una sola vez)…`,
  );
  rmSync(carpeta, { recursive: true, force: true });
  mkdirSync(carpeta, { recursive: true });
  const inicio = Date.now();
  try {
    ejecutar('tar', ['-x', '-C', carpeta], raiz, ejecutar('git', ['archive', '--format=tar', sha], raiz));
  } catch (error) {
    throw fallo('git archive', error);
  }
  // Del almacén local si lo tiene todo; si no, del registro. Un commit cuyo pnpm-lock.yaml no cuadra con
  // sus package.json (pasa en un árbol compartido) se instala resolviendo de nuevo, y se dice.
  const intentos = [
    [['--frozen-lockfile', '--offline'], null],
    [
      ['--frozen-lockfile', '--prefer-offline'],
      'el almacén de pnpm no tiene todos sus paquetes: pnpm install --frozen-lockfile --prefer-offline',
    ],
    [
      ['--no-frozen-lockfile', '--prefer-offline'],
      'su pnpm-lock.yaml no cuadra con sus package.json: pnpm install --no-frozen-lockfile --prefer-offline',
    ],
  ];
  for (const [i, [opciones, aviso]] of intentos.entries()) {
    if (aviso) decir(`  ${aviso}`);
    try {
      ejecutar('pnpm', ['install', ...opciones], carpeta);
      break;
    } catch (error) {
      if (i === intentos.length - 1) throw fallo('pnpm install', error);
    }
  }
  try {
    ejecutar('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=./services/*', '--output-logs=errors-only'], carpeta);
  } catch (error) {
    throw fallo('la compilación (turbo run build)', error);
  }
  for (const servicio of ['api', 'outbox', 'consumer']) {
    if (!existsSync(path.join(carpeta, `services/${servicio}/dist/main.js`)))
      throw new Error(`preparar la versión ${papel}: falta services/${servicio}/dist/main.js tras compilar`);
  }
  writeFileSync(path.join(carpeta, '.bench-lista'), `${JSON.stringify({ rev, sha, preparada: new Date().toISOString() })}\n`);
  decir(`  lista en ${((Date.now() - inicio) / 1000).toFixed(0)} s`);
  return { ...version, sha };
}

/** El commit del árbol de trabajo y si su código tiene cambios sin commitear (para las cifras de «nueva»). */
export function describirArbol() {
  try {
    const sha = ejecutar('git', ['rev-parse', '--short', 'HEAD'], raiz).toString().trim();
    const cambios = ejecutar('git', ['status', '--porcelain', '--', 'packages', 'services'], raiz).toString().trim();
    return `HEAD ${sha}${cambios ? ', con cambios sin commitear en packages/ o services/' : ', sin cambios'}`;
  } catch {
    return 'sin git';
  }
}
