import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { conDescripcion, enteroEnv } from './configuracion.js';
import { documentoConfiguracion, filasConfiguracion } from './tabla-configuracion.js';

const a = v.object({
  PUERTO: conDescripcion(v.optional(enteroEnv('PUERTO', 0, 65535), '8000'), 'Puerto | HTTP.'),
  URL: conDescripcion(v.string(), 'Obligatoria.'),
  CLAVE: conDescripcion(v.optional(v.string()), 'Opcional sin valor.'),
});
const b = v.object({
  PUERTO: conDescripcion(v.optional(enteroEnv('PUERTO', 0, 65535), '8000'), 'Puerto | HTTP.'),
  URL: conDescripcion(v.string(), 'Otra descripción.'),
});

describe('tabla de configuración', () => {
  it('agrupa servicios con el mismo valor por defecto y significado; separa los que difieren', () => {
    const filas = filasConfiguracion([
      { servicio: 'a', esquema: a },
      { servicio: 'b', esquema: b },
    ]);
    expect(filas.map((f) => [f.variable, f.servicios.join(','), f.porDefecto])).toEqual([
      ['CLAVE', 'a', null],
      ['PUERTO', 'a,b', '8000'],
      ['URL', 'a', undefined],
      ['URL', 'b', undefined],
    ]);
  });

  it('escribe una tabla Markdown con las barras escapadas y las obligatorias marcadas', () => {
    const doc = documentoConfiguracion([{ servicio: 'a', esquema: a }]);
    expect(doc).toContain('| `PUERTO` | a | `8000` | Puerto \\| HTTP. |');
    expect(doc).toContain('| `URL` | a | **obligatoria** | Obligatoria. |');
    expect(doc).toContain('| `CLAVE` | a | — | Opcional sin valor. |');
  });

  it('una variable sin descripción no se puede documentar', () => {
    const sin = v.object({ NUEVA: v.optional(v.string(), 'x') });
    expect(() => filasConfiguracion([{ servicio: 'prueba', esquema: sin }])).toThrow(/NUEVA no tiene descripción/);
  });
});
