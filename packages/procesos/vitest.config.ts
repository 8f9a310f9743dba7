import { configurarVitest } from '../../vitest.shared.js';

// Sin proyecto `int`: los tests del kit lanzan procesos de Node de verdad, pero no necesitan PostgreSQL.
// La caída real de PostgreSQL bajo el supervisor se prueba en e2e/ (postgres-caido).
export default configurarVitest();
