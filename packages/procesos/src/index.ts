/**
 * @aeropartners/procesos — el kit de procesos del repositorio: lo usan el supervisor de `pnpm start`
 * (`@aeropartners/procesos/supervisor`), las pruebas e2e, los benchmarks y el experimento.
 *
 * ```ts
 * const { proceso, puerto } = await arrancarServicio({
 *   nombre: 'api', script: 'services/api/dist/main.js', entorno: { ...process.env, PORT: '0', DATABASE_URL },
 * });
 * // … http://127.0.0.1:${puerto} …
 * await proceso.parar({ graciaMs: 15_000 }); // SIGTERM y, si no sale a tiempo, SIGKILL
 * ```
 */
export { anunciarEscuchando, esAnuncioEscuchando, type AnuncioEscuchando } from './anuncio.js';
export { conTope, dormir, esperarQue, type OpcionesEspera } from './esperas.js';
export { esperarSinProcesos, leerPidPostmaster, pidVivo, procesosEnCarpeta, type OpcionesSinProcesos } from './postmaster.js';
export {
  ProcesoHijo,
  arrancarProceso,
  describirSalida,
  type Flujo,
  type OpcionesParada,
  type OpcionesProceso,
  type OpcionesVigilancia,
  type Salida,
} from './proceso.js';
export { puertoLibre } from './puertos.js';
export { conManejadoresPropios } from './senales.js';
export {
  arrancarServicio,
  consultarEstado,
  esperarServicioListo,
  type OpcionesListo,
  type ServicioEnMarcha,
} from './servicio.js';
