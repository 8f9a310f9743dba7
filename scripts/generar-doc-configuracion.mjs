// Escribe docs/configuracion.md: la tabla de variables de entorno generada de los esquemas valibot de
// los servicios (con su v.description). Usa lo compilado: `pnpm docs:configuracion` compila antes.
// Con --comprobar no escribe nada y sale con 1 si el fichero no coincide (el test unitario
// e2e/test/configuracion.unit.test.ts hace lo mismo desde el código fuente).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const raiz = new URL('../', import.meta.url);
const destino = fileURLToPath(new URL('docs/configuracion.md', raiz));
const desde = async (ruta) => {
  try {
    return await import(new URL(ruta, raiz).href);
  } catch (error) {
    process.stderr.write(`No se pudo cargar ${ruta}: compile antes (pnpm turbo run build --filter='./services/*').\n`);
    throw error;
  }
};

const { documentoConfiguracion } = await desde('packages/adaptadores/dist/index.js');
const api = await desde('services/api/dist/config.js');
const outbox = await desde('services/outbox/dist/config.js');
const consumer = await desde('services/consumer/dist/config.js');

const documento = documentoConfiguracion([
  { servicio: 'api', esquema: api.EsquemaConfiguracion },
  { servicio: 'outbox', esquema: outbox.EsquemaConfiguracionRelay },
  { servicio: 'consumer', esquema: consumer.EsquemaConfiguracion },
]);

if (process.argv.includes('--comprobar')) {
  const actual = await readFile(destino, 'utf8').catch(() => '');
  if (actual !== documento) {
    process.stderr.write('docs/configuracion.md no coincide con los esquemas: ejecute `pnpm docs:configuracion`.\n');
    process.exit(1);
  }
  process.stdout.write('docs/configuracion.md está al día.\n');
} else {
  await writeFile(destino, documento);
  process.stdout.write(`Escrito ${destino}\n`);
}
