import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts', 'src/config.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  sourcemap: true,
  // Las dependencias (incluidos los paquetes del workspace) quedan externas: se instalan con el servicio.
});
