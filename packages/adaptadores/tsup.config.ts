import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'cli/migrar': 'src/cli/migrar.ts',
    'cli/operacion': 'src/cli/operacion.ts',
  },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'es2023',
  // vitest lo aporta quien use `./testing` (no es dependencia de ejecución del paquete).
  external: ['vitest', 'vitest/node'],
});
