import { iniciarPostgresParaTests } from '@aeropartners/adaptadores/testing';
import type { TestProject } from 'vitest/node';

/** Arranca (o toma de DATABASE_URL) el PostgreSQL de los tests del comprobador y publica 'urlPostgresAdmin'. */
export default (proyecto: TestProject) => iniciarPostgresParaTests(proyecto);
