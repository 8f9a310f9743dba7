import { configurarVitest } from '../../vitest.shared.js';

export default configurarVitest({ setupIntegracion: './test/global-setup.ts', pruebasDePaquete: true });
