#!/usr/bin/env node
/** `pnpm liquidaciones ejecutar` (o `node packages/adaptadores/dist/cli/liquidaciones.js ejecutar`). */
import { comandoLiquidaciones } from './comando-liquidaciones.js';

process.exitCode = await comandoLiquidaciones({
  argumentos: process.argv.slice(2),
  env: process.env,
  directorio: process.cwd(),
  escribir: (linea) => console.log(linea),
  escribirError: (linea) => console.error(linea),
});
