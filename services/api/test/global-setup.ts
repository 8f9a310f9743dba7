import { iniciarPostgresParaTests } from '@aeropartners/adaptadores/testing';
import type { TestProject } from 'vitest/node';

/** Arranca (o toma de DATABASE_URL) el PostgreSQL de los tests *.int.test.ts y publica 'urlPostgresAdmin'. */
export default (proyecto: TestProject) => iniciarPostgresParaTests(proyecto);
