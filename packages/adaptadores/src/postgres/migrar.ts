import { Migrator, type Kysely, type Migration } from 'kysely';
import { esquemaInicial } from './migraciones/0001-esquema-inicial.js';
import { relayEInbox } from './migraciones/0002-relay-e-inbox.js';
import { avisoOutboxSoloConFilas } from './migraciones/0003-aviso-outbox-solo-con-filas.js';
import { historialClavePagoVersion } from './migraciones/0004-historial-clave-pago-version.js';
import { turnoCobro } from './migraciones/0005-turno-cobro.js';
import { epocaRelayYAlarma } from './migraciones/0006-epoca-relay-y-alarma.js';
import { sociosYClaves } from './migraciones/0007-socios-y-claves.js';
import { conversionesYComisiones } from './migraciones/0008-conversiones-y-comisiones.js';
import { registroDeEventos } from './migraciones/0009-registro-de-eventos.js';
import { webhooks } from './migraciones/0010-webhooks.js';
import { avisosDelSocio } from './migraciones/0011-avisos-del-socio.js';

/**
 * Las migraciones, en código (no en ficheros que se lean del disco) para que el empaquetado con
 * tsup las incluya. El nombre ordena: nunca renombrar ni reordenar una ya publicada.
 */
export const MIGRACIONES: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-esquema-inicial': esquemaInicial,
  '0002-relay-e-inbox': relayEInbox,
  '0003-aviso-outbox-solo-con-filas': avisoOutboxSoloConFilas,
  '0004-historial-clave-pago-version': historialClavePagoVersion,
  '0005-turno-cobro': turnoCobro,
  '0006-epoca-relay-y-alarma': epocaRelayYAlarma,
  '0007-socios-y-claves': sociosYClaves,
  '0008-conversiones-y-comisiones': conversionesYComisiones,
  '0009-registro-de-eventos': registroDeEventos,
  '0010-webhooks': webhooks,
  '0011-avisos-del-socio': avisosDelSocio,
});

export interface ResultadoMigracion {
  /** Migraciones aplicadas en esta llamada (vacío si la base ya estaba al día). */
  readonly aplicadas: readonly string[];
}

// Errores de carrera al crear las tablas de control de Kysely cuando arrancan varios procesos a la vez.
const CARRERA_AL_CREAR = new Set(['23505', '42P07', '42710']);

/**
 * Lleva el esquema a la última versión. Idempotente, y segura con varios procesos a la vez (Kysely
 * serializa con un cerrojo consultivo). Lanza un `Error` con `cause` si una migración falla; cada
 * migración corre en su propia transacción, así que una fallida no deja nada a medias.
 */
// biome-ignore lint/suspicious/noExplicitAny: un Kysely de cualquier esquema (el Migrator y el libro no dependen de sus tablas)
export async function migrarHastaLaUltima(db: Kysely<any>): Promise<ResultadoMigracion> {
  const migrador = new Migrator({ db, provider: { getMigrations: async () => ({ ...MIGRACIONES }) } });
  for (let intento = 1; ; intento += 1) {
    const { error, results } = await migrador.migrateToLatest();
    if (!error) {
      return { aplicadas: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
    }
    if (intento < 3 && CARRERA_AL_CREAR.has(codigoDeError(error) ?? '')) continue;
    const fallida = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(
      fallida ? `La migración ${fallida} falló: ${mensajeDe(error)}` : `No se pudo migrar la base de datos: ${mensajeDe(error)}`,
      { cause: error },
    );
  }
}

function codigoDeError(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function mensajeDe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
