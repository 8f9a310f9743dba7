#!/usr/bin/env node
/** `node packages/adaptadores/dist/cli/migrar.js` (o `pnpm migrate`): migra la base de `DATABASE_URL`. */
import { comandoMigrar } from './comando-migrar.js';

process.exitCode = await comandoMigrar({
  env: process.env,
  escribir: (linea) => console.log(linea),
  escribirError: (linea) => console.error(linea),
});
