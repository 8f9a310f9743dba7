#!/usr/bin/env node
/** `pnpm socios …` (o `node packages/adaptadores/dist/cli/socios.js …`): la administración de socios. */
import { comandoSocios } from './comando-socios.js';

process.exitCode = await comandoSocios({
  argumentos: process.argv.slice(2),
  env: process.env,
  directorio: process.cwd(),
  escribir: (linea) => console.log(linea),
  escribirError: (linea) => console.error(linea),
});
