/**
 * Infraestructura de tests de integración con PostgreSQL real (requiere `vitest`):
 * - `iniciarPostgresParaTests(project)`: el `globalSetup` que arranca (o toma de `DATABASE_URL`) el servidor.
 * - `crearBaseDePrueba()`: una base nueva y migrada por fichero de test (o por test).
 */
export { iniciarPostgresParaTests } from './postgres-para-tests.js';
export { crearBaseDePrueba, type BaseDePrueba } from './base-de-prueba.js';
