import { configurarVitest } from '../../vitest.shared.js';

export default configurarVitest();
