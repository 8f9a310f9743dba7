import { esEstadoSocio, esModo, type ClaveApi, type Socio } from '@aeropartners/dominio';

/** Una fila de `socios` tal como la entrega `pg`. */
export interface FilaSocio {
  readonly id: string;
  readonly nombre: string;
  readonly estado: string;
  readonly firma_obligatoria: boolean;
  readonly limite_rps: number | null;
}

/** Una fila de `claves_api` sin su hash. */
export interface FilaClave {
  readonly id: string;
  readonly id_socio: string;
  readonly prefijo: string;
  readonly modo: string;
  readonly creada_en: Date;
  readonly expira_en: Date | null;
  readonly revocada_en: Date | null;
}

export const COLUMNAS_SOCIO = 's.id, s.nombre, s.estado, s.firma_obligatoria, s.limite_rps';
export const COLUMNAS_CLAVE = 'c.id::text AS id, c.id_socio, c.prefijo, c.modo, c.creada_en, c.expira_en, c.revocada_en';

/** Una fila que el dominio no aceptaría es un fallo de infraestructura (datos corruptos), no un socio. */
export function filaASocio(f: FilaSocio): Socio {
  if (!esEstadoSocio(f.estado)) throw new Error(`Socio ${f.id} con estado desconocido: ${f.estado}`);
  return Object.freeze({ id: f.id, nombre: f.nombre, estado: f.estado, firmaObligatoria: f.firma_obligatoria, limiteRps: f.limite_rps });
}

export function filaAClave(f: FilaClave): ClaveApi {
  if (!esModo(f.modo)) throw new Error(`Clave ${f.prefijo} con modo desconocido: ${f.modo}`);
  return Object.freeze({
    id: f.id,
    idSocio: f.id_socio,
    prefijo: f.prefijo,
    modo: f.modo,
    creadaEn: f.creada_en,
    expiraEn: f.expira_en,
    revocadaEn: f.revocada_en,
  });
}
