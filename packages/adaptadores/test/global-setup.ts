import type { TestProject } from 'vitest/node';
import { iniciarPostgresParaTests } from '../src/testing/index.js';

/** PostgreSQL real para los tests *.int.test.ts: embebido y desechable, o el de DATABASE_URL. */
export default function setup(project: TestProject) {
  return iniciarPostgresParaTests(project);
}
