import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VARIABLES_SUPERVISOR } from './configuracion.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README del kit', () => {
  it('la tabla del supervisor tiene una fila por variable, con su valor por defecto', () => {
    for (const { variable, porDefecto } of VARIABLES_SUPERVISOR) {
      const fila = README.split('\n').find((l) => l.startsWith(`| \`${variable}\` |`));
      expect(fila, variable).toBeDefined();
      expect(fila?.split('|')[2]?.trim().replaceAll('`', ''), variable).toBe(porDefecto);
    }
  });
});
