import { defineConfig } from 'vitest/config';

/** Tests de la raíz del repositorio (la regla de dependencias); cada paquete tiene su propia configuración. */
export default defineConfig({
  test: { name: 'arquitectura', include: ['test/**/*.unit.test.ts'] },
});
