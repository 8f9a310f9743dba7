import { mergeConfig } from 'vitest/config';
import { configurarVitest } from '../vitest.shared.js';

// Cada fichero levanta su propia topología (PostgreSQL + tres procesos de Node): de uno en uno, para no
// pelear por los núcleos con otro fichero y que los tiempos (muertes «en vuelo») no dependan del reparto.
export default mergeConfig(configurarVitest({ setupIntegracion: './test/global-setup.ts' }), { test: { fileParallelism: false } });
