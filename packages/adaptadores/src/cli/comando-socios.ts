import type { AdministracionSocios } from '@aeropartners/aplicacion';
import type pg from 'pg';
import { PostgresAdministracionSocios } from '../postgres/socios/postgres-administracion-socios.js';
import { codigoDeSalida, conPoolDeOperacion } from './con-pool.js';
import { ErrorOperacion, type EntornoOperacion } from './entorno-operacion.js';
import { AYUDA_SOCIOS_COMISION, comandoSociosComision } from './socios-comision.js';
import { sociosClave, sociosCrear, sociosEstado, sociosListar, sociosRevocar, type ContextoSocios } from './socios-administracion.js';

/**
 * Una suborden de `pnpm socios`. Las de administración reciben el puerto ya conectado; las que llevan su
 * propia conexión (`comision`, de las conversiones) reciben solo el entorno.
 */
export type SubordenSocios =
  | {
      readonly tipo: 'administracion';
      readonly uso: string;
      readonly ejecutar: (ctx: ContextoSocios, argumentos: readonly string[]) => Promise<number>;
    }
  | {
      readonly tipo: 'propia';
      readonly uso: string;
      readonly ayuda?: string;
      readonly ejecutar: (entorno: EntornoOperacion) => Promise<number>;
    };

/** El registro de subórdenes: una línea por suborden (las de otros ficheros se registran aquí igual). */
export const SUBORDENES_SOCIOS: Readonly<Record<string, SubordenSocios>> = {
  crear: {
    tipo: 'administracion',
    uso: 'crear <nombre> [--firma-obligatoria] [--limite-rps N] [--test]\n      Un socio nuevo con su primera clave (ap_test_ con --test): una línea JSON {"id_socio","clave"} (y "secreto_firma" con --firma-obligatoria).',
    ejecutar: sociosCrear,
  },
  clave: {
    tipo: 'administracion',
    uso: 'clave <id_socio> [--expira-en <ISO|duración>] [--test]\n      Una clave nueva (rotación: como mucho 2 vigentes por modo). La anterior sigue valiendo hasta revocarla o, con --expira-en, hasta ese instante.',
    ejecutar: sociosClave,
  },
  revocar: {
    tipo: 'administracion',
    uso: 'revocar <id_socio> <prefijo>\n      Revoca la clave con ese prefijo y espera el plazo de la caché de la API (CLAVES_CACHE_MS) antes de volver: al terminar, ninguna instancia la acepta.',
    ejecutar: sociosRevocar,
  },
  suspender: {
    tipo: 'administracion',
    uso: 'suspender <id_socio>\n      Sus peticiones reciben 403 y no escriben nada (espera el plazo de la caché antes de volver).',
    ejecutar: sociosEstado('suspender'),
  },
  reactivar: { tipo: 'administracion', uso: 'reactivar <id_socio>', ejecutar: sociosEstado('reactivar') },
  listar: {
    tipo: 'administracion',
    uso: 'listar [--json]\n      Los socios y sus claves (solo prefijos: las claves no se guardan).',
    ejecutar: sociosListar,
  },
  comision: {
    tipo: 'propia',
    uso: 'comision <id_socio> (--porcentaje P | --fijo M --moneda C) [...]\n      La regla de comisión del socio (pnpm socios comision --ayuda).',
    ayuda: AYUDA_SOCIOS_COMISION,
    ejecutar: comandoSociosComision,
  },
};

export function ayudaSocios(subordenes: Readonly<Record<string, SubordenSocios>> = SUBORDENES_SOCIOS): string {
  return `Uso: pnpm socios <orden> [opciones]

${Object.values(subordenes)
  .map((s) => `  ${s.uso}`)
  .join('\n')}

Base de datos: DATABASE_URL o, si no está, la del \`pnpm start\` en marcha (.data/procesos.json).`;
}

/**
 * `pnpm socios …`: la administración de socios. Devuelve el código de salida: 0 bien, 1 fallo (una línea
 * en español en stderr, sin trazas ni contraseñas), 2 uso incorrecto.
 */
export async function comandoSocios(
  entorno: EntornoOperacion,
  opciones: {
    readonly subordenes?: Readonly<Record<string, SubordenSocios>>;
    readonly esperar?: (ms: number) => Promise<void>;
    readonly administracion?: (pool: pg.Pool) => AdministracionSocios;
  } = {},
): Promise<number> {
  const subordenes = opciones.subordenes ?? SUBORDENES_SOCIOS;
  const [orden, ...resto] = entorno.argumentos;
  return codigoDeSalida(entorno, async () => {
    if (orden === undefined || orden === 'ayuda' || orden === '--ayuda' || orden === '-h') {
      entorno.escribir(ayudaSocios(subordenes));
      return orden === undefined ? 2 : 0;
    }
    const suborden = Object.hasOwn(subordenes, orden) ? subordenes[orden] : undefined;
    if (suborden === undefined) {
      throw new ErrorOperacion(`Orden desconocida: «${orden}» (una de: ${Object.keys(subordenes).join(', ')}; pnpm socios --ayuda)`, 2);
    }
    if (suborden.tipo === 'propia') return await suborden.ejecutar({ ...entorno, argumentos: resto });
    if (resto.includes('--ayuda') || resto.includes('-h')) {
      entorno.escribir(`Uso: pnpm socios ${suborden.uso}`);
      return 0;
    }
    return await conPoolDeOperacion(entorno, 'aeropartners-socios', (pool) => {
      const administracion = (opciones.administracion ?? ((p) => new PostgresAdministracionSocios(p)))(pool);
      return suborden.ejecutar({ administracion, entorno, ahora: () => new Date(), esperar: opciones.esperar }, resto);
    });
  });
}
