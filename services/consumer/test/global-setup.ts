/** Arranca (o reutiliza, con DATABASE_URL) el PostgreSQL de los tests *.int.test.ts y publica 'urlPostgresAdmin'. */
export { iniciarPostgresParaTests as default } from '@aeropartners/adaptadores/testing';
