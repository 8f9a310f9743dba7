import { createHash } from 'node:crypto';
import type { ResultadoPago } from '@aeropartners/dominio';
import type { PerfilPasarelaSimulada } from './perfiles-pasarela-simulada.js';

/** Semilla de la pasarela simulada. `42` y `'42'` son la misma semilla (se usa su texto). */
export type Semilla = string | number;

/** Desenlace definitivo: lo que queda guardado con la clave. */
export type DesenlaceDefinitivo = Extract<ResultadoPago, { tipo: 'exitoso' | 'rechazado' }>;

function huella(semilla: Semilla, clave: string, tema: string, intento: number): Buffer {
  // JSON: separa los campos sin ambigüedad aunque la clave contenga cualquier carácter.
  return createHash('sha256')
    .update(JSON.stringify([String(semilla), clave, tema, intento]))
    .digest();
}

/**
 * Número uniforme en [0, 1) que depende solo de (semilla, clave, tema, intento): la misma combinación da
 * siempre el mismo número, en cualquier proceso. 48 bits de SHA-256: de sobra para tasas y latencias.
 */
export function uniforme(semilla: Semilla, clave: string, tema: string, intento = 0): number {
  return huella(semilla, clave, tema, intento).readUIntBE(0, 6) / 2 ** 48;
}

/**
 * Latencia del intento, en ms, entre `latenciaMinMs` y `latenciaMaxMs` (ambos incluidos). `tema` separa
 * esperas distintas del mismo intento (la de la respuesta y la de un cobro que sigue en curso).
 */
export function latenciaSimulada(
  perfil: PerfilPasarelaSimulada,
  semilla: Semilla,
  clave: string,
  intento: number,
  tema = 'latencia',
): number {
  const { latenciaMinMs: min, latenciaMaxMs: max } = perfil;
  if (max === min) return min; // incluye el caso 0–0: ni hash ni temporizador
  return min + Math.floor(uniforme(semilla, clave, tema, intento) * (max - min + 1));
}

/** ¿Falla este intento de forma transitoria, antes de cobrar? Depende del intento: el reintento puede pasar. */
export function esTransitorio(perfil: PerfilPasarelaSimulada, semilla: Semilla, clave: string, intento: number): boolean {
  if (perfil.tasaTransitorio <= 0) return false;
  if (perfil.tasaTransitorio >= 1) return true;
  return uniforme(semilla, clave, 'transitorio', intento) < perfil.tasaTransitorio;
}

/**
 * Cómo falla un intento que llega a decidirse (su cobro o rechazo se registra), o `undefined` si
 * responde bien: `enCurso` (la decisión se registra después, en segundo plano), `sinRespuesta` (tiempo
 * agotado tras registrar) o `error500` (HTTP 500 tras registrar). Un solo dado por intento, repartido en
 * franjas consecutivas de anchura igual a cada tasa: las tres tasas se cumplen exactamente.
 */
export type FalloTrasEnviar = 'enCurso' | 'sinRespuesta' | 'error500';

export function falloTrasEnviar(
  perfil: PerfilPasarelaSimulada,
  semilla: Semilla,
  clave: string,
  intento: number,
): FalloTrasEnviar | undefined {
  const { tasaEnCurso, tasaSinRespuesta, tasa500TrasCobro } = perfil;
  if (tasaEnCurso <= 0 && tasaSinRespuesta <= 0 && tasa500TrasCobro <= 0) return undefined;
  const u = uniforme(semilla, clave, 'tras-enviar', intento);
  if (u < tasaEnCurso) return 'enCurso';
  if (u < tasaEnCurso + tasaSinRespuesta) return 'sinRespuesta';
  if (u < tasaEnCurso + tasaSinRespuesta + tasa500TrasCobro) return 'error500';
  return undefined;
}

/**
 * El desenlace definitivo de una clave. No depende del intento ni de cuántos transitorios hubo antes:
 * con la misma semilla, una clave se cobra o se rechaza siempre igual, con la misma referencia o el
 * mismo mensaje, en cualquier proceso. `forzado` impone el tipo (tests); el detalle sigue siendo determinista.
 */
export function desenlaceDefinitivo(
  perfil: PerfilPasarelaSimulada,
  semilla: Semilla,
  clave: string,
  mensajesRechazo: readonly string[],
  prefijoReferencia: string,
  forzado?: DesenlaceDefinitivo['tipo'],
): DesenlaceDefinitivo {
  const tipo = forzado ?? (uniforme(semilla, clave, 'rechazo') < perfil.tasaRechazo ? 'rechazado' : 'exitoso');
  if (tipo === 'rechazado') {
    const indice = Math.floor(uniforme(semilla, clave, 'mensaje') * mensajesRechazo.length);
    const mensaje = mensajesRechazo[indice] ?? mensajesRechazo[0];
    if (mensaje === undefined) throw new Error('Pasarela simulada: no hay mensajes de rechazo configurados.');
    return { tipo, mensaje };
  }
  // 96 bits: sin colisiones en la práctica entre claves distintas.
  return { tipo, referenciaTransaccion: `${prefijoReferencia}${huella(semilla, clave, 'referencia', 0).toString('hex', 0, 12)}` };
}
