#!/usr/bin/env node
// `pnpm start`: el supervisor de packages/procesos/src/supervisor (PostgreSQL embebido vigilado, N instancias
// de api, outbox y consumer, reinicios, .data/procesos.json). Aquí solo se le dan, ya compiladas, las
// piezas de PostgreSQL de @aeropartners/adaptadores: el kit de procesos no depende de los adaptadores.
// `kill -USR2 <supervisor>` (pid en .data/procesos.json) reinicia PostgreSQL en caliente.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const raiz = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { iniciarSupervisor } = await import(path.join(raiz, 'packages/procesos/dist/supervisor/index.js'));

await iniciarSupervisor({
  raiz,
  entorno: process.env,
  cargarPostgres: async () => {
    const { iniciarPostgresEmbebido } = await import(path.join(raiz, 'packages/adaptadores/dist/postgres-embebido.js'));
    const { migrarUrl, asegurarSocioDeDemostracion } = await import(path.join(raiz, 'packages/adaptadores/dist/index.js'));
    return {
      iniciarPostgresEmbebido,
      migrarUrl,
      // La primera vez crea el socio de demostración y muestra su clave (una sola vez); después la lee de
      // socio-demo.json, junto a procesos.json (.data/ por defecto): una topología con su propio
      // ARCHIVO_PROCESOS (tests, experimento) tiene su propio socio y no pisa el de .data/.
      async prepararDatos(url) {
        const procesos = path.resolve(raiz, process.env.ARCHIVO_PROCESOS || '.data/procesos.json');
        const archivo = path.join(path.dirname(procesos), 'socio-demo.json');
        const demo = await asegurarSocioDeDemostracion({ url, archivo });
        const donde = path.relative(raiz, archivo);
        return demo.creado
          ? [
              `socio de demostración creado: ${demo.id_socio}`,
              `  clave de API (solo se muestra ahora; queda en ${donde}): ${demo.clave}`,
              `  en otra terminal: CLAVE=$(node -p "require('./${donde}').clave")  (y los curl del README)`,
            ]
          : [`socio de demostración: ${demo.id_socio} (su clave está en ${donde})`];
      },
    };
  },
});
