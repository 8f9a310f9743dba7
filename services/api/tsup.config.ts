import { cp } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts', 'src/config.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  sourcemap: true,
  // El panel (HTML, JS y CSS propios) se sirve desde dist/panel: `directorioPanel()` lo busca ahí.
  onSuccess: async () => {
    await cp('src/panel/estaticos', 'dist/panel', { recursive: true });
  },
  // Las dependencias (incluidos los paquetes del workspace) quedan externas: se instalan con el servicio.
});
