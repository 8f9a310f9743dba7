import { readFileSync } from 'node:fs';
import { documentoConfiguracion, filasConfiguracion, type EsquemaDeServicio } from '@aeropartners/adaptadores';
import { describe, expect, it } from 'vitest';
import { EsquemaConfiguracion as EsquemaApi } from '../../services/api/src/config.js';
import { EsquemaConfiguracion as EsquemaConsumidor } from '../../services/consumer/src/config.js';
import { EsquemaConfiguracionRelay } from '../../services/outbox/src/config.js';

/** Los mismos esquemas, en el mismo orden, que scripts/generar-doc-configuracion.mjs. */
const SERVICIOS: readonly EsquemaDeServicio[] = [
  { servicio: 'api', esquema: EsquemaApi },
  { servicio: 'outbox', esquema: EsquemaConfiguracionRelay },
  { servicio: 'consumer', esquema: EsquemaConsumidor },
];
const DOCUMENTO = new URL('../../docs/configuracion.md', import.meta.url);

describe('docs/configuracion.md y los esquemas valibot de los servicios', () => {
  it('el fichero es exactamente lo que se genera de los esquemas (si falla: pnpm docs:configuracion)', () => {
    expect(readFileSync(DOCUMENTO, 'utf8')).toBe(documentoConfiguracion(SERVICIOS));
  });

  it('cada variable de cada esquema tiene su fila, con su valor por defecto', () => {
    const filas = filasConfiguracion(SERVICIOS);
    for (const { servicio, esquema } of SERVICIOS) {
      for (const variable of Object.keys(esquema.entries)) {
        expect(
          filas.filter((f) => f.variable === variable && f.servicios.includes(servicio)),
          `${servicio}: ${variable}`,
        ).toHaveLength(1);
      }
    }
    const fila = (variable: string, servicio: string) => filas.find((f) => f.variable === variable && f.servicios.includes(servicio));
    expect(fila('DATABASE_URL', 'api')?.porDefecto).toBeUndefined();
    expect(fila('PORT', 'api')?.porDefecto).toBe('8000');
    expect(fila('PUERTO_SALUD', 'outbox')?.porDefecto).toBe('8001');
    expect(fila('STRIPE_API_KEY', 'consumer')?.porDefecto).toBeNull();
  });
});
