/**
 * La regla de dependencias, comprobada con dependency-cruiser (`pnpm lint`):
 * `dominio ← aplicacion ← adaptadores ← services`, en un solo sentido.
 *
 * Código de pruebas: `*.test.ts`, `test/`, `src/testing/`. Los paquetes del workspace se resuelven a su
 * fuente (la condición `@aeropartners/source`), así que las rutas de destino son `packages/<x>/src/…`.
 */
const PRUEBAS = ['\\.test\\.ts$', '/test/', '/src/testing/'];

module.exports = {
  forbidden: [
    {
      name: 'dominio-sin-dependencias',
      comment: 'dominio no importa nada: ni paquetes, ni módulos de Node, ni otra capa. Solo sus propios ficheros.',
      severity: 'error',
      from: { path: '^packages/dominio/src', pathNot: PRUEBAS },
      to: { pathNot: '^packages/dominio/src' },
    },
    {
      name: 'dominio-pruebas',
      comment: 'las pruebas de dominio usan su propio código, vitest y fast-check (y la configuración común de vitest); nada más.',
      severity: 'error',
      from: { path: '^packages/dominio/' },
      to: { pathNot: ['^packages/dominio/', '^vitest\\.shared\\.ts$', '/vitest', '/fast-check', '/@vitest', '/tsup/'] },
    },
    {
      name: 'aplicacion-solo-dominio',
      comment: 'aplicacion importa solo su propio código y @aeropartners/dominio (ni módulos de Node).',
      severity: 'error',
      from: { path: '^packages/aplicacion/src', pathNot: PRUEBAS },
      to: { pathNot: ['^packages/aplicacion/src', '^packages/dominio/src'] },
    },
    {
      name: 'aplicacion-pruebas',
      comment: 'las pruebas de aplicacion usan aplicacion, dominio, vitest y fast-check.',
      severity: 'error',
      from: { path: '^packages/aplicacion/' },
      to: {
        pathNot: ['^packages/aplicacion/', '^packages/dominio/', '^vitest\\.shared\\.ts$', '/vitest', '/fast-check', '/@vitest', '/tsup/'],
      },
    },
    {
      name: 'contratos-sin-adaptadores',
      comment: '@aeropartners/contratos (suites de contrato y falsos de proveedores) depende a lo sumo de dominio y aplicacion.',
      severity: 'error',
      from: { path: '^packages/contratos/' },
      to: { path: '^(packages/(adaptadores|procesos|kit-pruebas)|services)/' },
    },
    {
      name: 'contratos-solo-en-pruebas',
      comment: 'las suites y los falsos de proveedores solo entran en código de pruebas: nunca en lo que se instala.',
      severity: 'error',
      from: { path: '^(packages|services)/', pathNot: ['^packages/contratos/', ...PRUEBAS] },
      to: { path: '^packages/contratos/' },
    },
    {
      name: 'servicios-sin-falsos-de-proveedores',
      comment: 'los tests de los servicios usan los dobles en memoria de nuestros puertos, no los falsos de Pulsar o Stripe.',
      severity: 'error',
      from: { path: '^services/' },
      to: { path: '^packages/contratos/src/(pulsar|stripe)' },
    },
    {
      name: 'paquetes-sin-servicios',
      comment: 'ningún paquete importa un servicio.',
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: '^services/' },
    },
    {
      name: 'servicios-entre-si',
      comment: 'un servicio no importa otro: se comunican por HTTP y por el broker.',
      severity: 'error',
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'sin-dependencias-no-declaradas',
      comment:
        'todo paquete importado está declarado en el package.json de quien lo importa (también las herramientas de pruebas y de compilación).',
      severity: 'error',
      from: { path: '^(packages|services|e2e|experimento)/' },
      // dependency-cruiser marca a la vez npm-no-pkg y el tipo declarado cuando el paquete resuelve por la
      // tienda de pnpm; solo es violación si no aparece declarado en ningún campo.
      to: {
        dependencyTypes: ['npm-no-pkg', 'npm-unknown'],
        dependencyTypesNot: ['npm', 'npm-dev', 'npm-peer', 'npm-optional'],
      },
    },
    {
      name: 'sin-dependencias-de-desarrollo-en-produccion',
      comment: 'el código que se ejecuta en producción no importa dependencias de desarrollo.',
      severity: 'error',
      from: { path: '^(packages|services)/[^/]+/src/', pathNot: PRUEBAS },
      // Un par (opcional) también figura en devDependencies para las pruebas: lo declara quien lo usa.
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only', 'npm', 'npm-peer', 'npm-optional'] },
    },
    {
      name: 'sin-ciclos',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'sin-importaciones-irresolubles',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Lo compilado y los datos propios, no los de los paquetes de node_modules (vitest resuelve a su dist/).
    exclude: {
      path: ['^(packages|services)/[^/]+/(dist|\\.turbo|\\.data)/', '^(e2e|experimento|bench)/(dist|\\.turbo|\\.data)/', '^\\.data/'],
    },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@aeropartners/source', 'import', 'types', 'default', 'node'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.d.ts'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
