#!/usr/bin/env node
/** `pnpm operacion …` (o `node packages/adaptadores/dist/cli/operacion.js …`): pagos atascados y mensajes muertos. */
import { comandoOperacion } from './comando-operacion.js';

process.exitCode = await comandoOperacion({
  argumentos: process.argv.slice(2),
  env: process.env,
  directorio: process.cwd(),
  escribir: (linea) => console.log(linea),
  escribirError: (linea) => console.error(linea),
});
