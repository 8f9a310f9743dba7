import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Modo } from '@aeropartners/dominio';
import { crearPoolPostgres } from '../pool-postgres.js';
import { PostgresAdministracionSocios } from './postgres-administracion-socios.js';
import { PostgresAutenticadorDeClaves } from './postgres-autenticador-de-claves.js';

/** Lo que se guarda en `.data/socio-demo.json` para las herramientas locales (curl del README, scripts). */
export interface SocioDeDemostracion {
  readonly id_socio: string;
  readonly clave: string;
}

export interface ResultadoSocioDeDemostracion extends SocioDeDemostracion {
  /** `true` si se acaba de crear (la única vez que la clave se muestra). */
  readonly creado: boolean;
}

async function leerGuardado(archivo: string): Promise<SocioDeDemostracion | null> {
  let texto: string;
  try {
    texto = await readFile(archivo, 'utf8');
  } catch {
    return null;
  }
  try {
    const o = JSON.parse(texto) as Record<string, unknown>;
    return typeof o.id_socio === 'string' && typeof o.clave === 'string' ? { id_socio: o.id_socio, clave: o.clave } : null;
  } catch {
    return null;
  }
}

/**
 * El socio de demostración de `pnpm start` (decisión 0124): la primera vez se crea, con una clave de
 * prueba (`ap_test_`: lo que se pruebe en local nunca llega a una pasarela real), y se guarda en `archivo`; las siguientes se lee de ahí. Si la clave guardada ya no vale en
 * esta base (otra base, la base borrada, la clave revocada), se crea otro y se sobrescribe el archivo.
 */
export async function asegurarSocioDeDemostracion(opciones: {
  readonly url: string;
  readonly archivo: string;
}): Promise<ResultadoSocioDeDemostracion> {
  const pool = crearPoolPostgres({ url: opciones.url, tamano: 1, nombreAplicacion: 'aeropartners-socio-demo' });
  try {
    const guardado = await leerGuardado(opciones.archivo);
    if (guardado !== null) {
      const autenticador = new PostgresAutenticadorDeClaves({ pool, url: opciones.url, plazoCacheMs: 0 });
      const r = await autenticador.autenticar(guardado.clave, new Date());
      if (r.tipo === 'autenticada' && r.credencial.socio.id === guardado.id_socio) return { ...guardado, creado: false };
    }
    const creado = await new PostgresAdministracionSocios(pool).crear(
      { nombre: 'Socio de demostración', firmaObligatoria: false, limiteRps: null, modo: Modo.PRUEBA },
      new Date(),
    );
    if (!creado.ok) throw new Error(`No se pudo crear el socio de demostración: ${creado.error.tipo}`);
    const demo: SocioDeDemostracion = { id_socio: creado.valor.socio.id, clave: creado.valor.clave.claveEnClaro };
    await mkdir(path.dirname(opciones.archivo), { recursive: true });
    // Solo para el usuario: es una clave de API.
    await writeFile(opciones.archivo, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
    await chmod(opciones.archivo, 0o600);
    return { ...demo, creado: true };
  } finally {
    await pool.end();
  }
}
