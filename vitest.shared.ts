import { defaultServerConditions } from 'vite';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * Los tests corren contra el código fuente de los paquetes del workspace, no contra dist/; las dependencias
 * se resuelven como en Node, sin la condición `module` de los empaquetadores (la entrada ESM del API de
 * OpenTelemetry no se carga en Node: decisión 0199).
 */
const condiciones = ['@aeropartners/source', ...defaultServerConditions.filter((c) => c !== 'module')];

export interface OpcionesVitest {
  /** Ruta al globalSetup que arranca PostgreSQL para los tests *.int.test.ts. */
  readonly setupIntegracion?: string;
  /** Proyecto `paquete`: tests `test/**\/*.paquete.test.ts` sobre lo compilado en dist/ (tras el build). */
  readonly pruebasDePaquete?: boolean;
}

export function configurarVitest(opciones: OpcionesVitest = {}) {
  const proyectos: TestProjectInlineConfiguration[] = [
    // El plazo solo detecta un cuelgue: las propiedades de fast-check con cientos de casos tardan varias veces
    // más cuando turbo corre a la vez las tareas de todos los paquetes en una máquina de 2 núcleos.
    {
      extends: true,
      test: { name: 'unit', include: ['src/**/*.unit.test.ts', 'test/**/*.unit.test.ts'], testTimeout: 30_000 },
    },
  ];
  if (opciones.setupIntegracion) {
    proyectos.push({
      extends: true,
      test: {
        name: 'int',
        include: ['src/**/*.int.test.ts', 'test/**/*.int.test.ts', 'test/**/*.e2e.test.ts'],
        // Los tests contra un Pulsar real (*.real.int.test.ts) solo entran cuando hay uno: PULSAR_URL.
        exclude: [...configDefaults.exclude, ...(process.env.PULSAR_URL ? [] : ['**/*.real.int.test.ts'])],
        globalSetup: [opciones.setupIntegracion],
        testTimeout: 60_000,
        hookTimeout: 120_000,
      },
    });
  }
  if (opciones.pruebasDePaquete) {
    proyectos.push({ extends: true, test: { name: 'paquete', include: ['test/**/*.paquete.test.ts'], testTimeout: 60_000 } });
  }
  return defineConfig({
    resolve: { conditions: condiciones },
    ssr: { resolve: { conditions: condiciones } },
    // vitest carga el globalSetup en el entorno `__vitest__`, que no hereda `resolve.conditions`: sin
    // esto, `@aeropartners/adaptadores/testing` se resolvería a dist/ (que no existe en un clon limpio).
    environments: { __vitest__: { resolve: { conditions: condiciones } } },
    test: { projects: proyectos },
  });
}
