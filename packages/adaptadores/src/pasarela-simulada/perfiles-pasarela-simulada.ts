/** Cómo se comporta la pasarela simulada: latencia, rechazos y fallos transitorios. */
export interface PerfilPasarelaSimulada {
  /** Latencia mínima de un intento que no es una repetición, en ms (entera, ≥ 0). */
  readonly latenciaMinMs: number;
  /** Latencia máxima, en ms (entera, ≥ `latenciaMinMs`). Con 0, ningún temporizador. */
  readonly latenciaMaxMs: number;
  /** Fracción de claves que se rechazan de forma definitiva, en [0, 1]. */
  readonly tasaRechazo: number;
  /** Fracción de intentos que fallan de forma transitoria antes de cobrar, en [0, 1]. */
  readonly tasaTransitorio: number;
}

/** Mensajes de rechazo del `StripeAdapter` de la semilla. */
export const MENSAJES_RECHAZO_SEMILLA: readonly string[] = Object.freeze([
  'Fondos insuficientes',
  'Tarjeta rechazada por el banco emisor',
  'Límite de transacciones excedido',
]);

/** Por defecto, para uso local: rápido, con algún rechazo y algún transitorio que ejercitar. */
export const PERFIL_LOCAL: PerfilPasarelaSimulada = Object.freeze({
  latenciaMinMs: 0,
  latenciaMaxMs: 20,
  tasaRechazo: 0.1,
  tasaTransitorio: 0.02,
});

/** El de la semilla: 2–8 s por llamada y la mitad de los pagos rechazados (sin fallos transitorios). */
export const PERFIL_SEMILLA: PerfilPasarelaSimulada = Object.freeze({
  latenciaMinMs: 2_000,
  latenciaMaxMs: 8_000,
  tasaRechazo: 0.5,
  tasaTransitorio: 0,
});

/** Sin latencia (ni temporizadores): para medir el resto del sistema. Rechazos y transitorios como el local. */
export const PERFIL_SIN_LATENCIA: PerfilPasarelaSimulada = Object.freeze({
  ...PERFIL_LOCAL,
  latenciaMaxMs: 0,
});

/** Perfiles con nombre, para elegirlos desde la configuración (`local`, `semilla`, `sin-latencia`). */
export const PERFILES_PASARELA_SIMULADA = Object.freeze({
  local: PERFIL_LOCAL,
  semilla: PERFIL_SEMILLA,
  'sin-latencia': PERFIL_SIN_LATENCIA,
} satisfies Record<string, PerfilPasarelaSimulada>);

export type NombrePerfilPasarelaSimulada = keyof typeof PERFILES_PASARELA_SIMULADA;

function comprobarEnteroNoNegativo(nombre: string, valor: number): void {
  if (!Number.isSafeInteger(valor) || valor < 0) {
    throw new Error(`Pasarela simulada: ${nombre} debe ser un entero ≥ 0 (recibido: ${valor}).`);
  }
}

function comprobarTasa(nombre: string, valor: number): void {
  if (!Number.isFinite(valor) || valor < 0 || valor > 1) {
    throw new Error(`Pasarela simulada: ${nombre} debe estar entre 0 y 1 (recibido: ${valor}).`);
  }
}

/** Lanza un `Error` claro si el perfil es imposible: es configuración, se detecta al arrancar. */
export function validarPerfilPasarelaSimulada(perfil: PerfilPasarelaSimulada): PerfilPasarelaSimulada {
  comprobarEnteroNoNegativo('latenciaMinMs', perfil.latenciaMinMs);
  comprobarEnteroNoNegativo('latenciaMaxMs', perfil.latenciaMaxMs);
  if (perfil.latenciaMinMs > perfil.latenciaMaxMs) {
    throw new Error(
      `Pasarela simulada: latenciaMinMs (${perfil.latenciaMinMs}) no puede superar a latenciaMaxMs (${perfil.latenciaMaxMs}).`,
    );
  }
  comprobarTasa('tasaRechazo', perfil.tasaRechazo);
  comprobarTasa('tasaTransitorio', perfil.tasaTransitorio);
  return Object.freeze({
    latenciaMinMs: perfil.latenciaMinMs,
    latenciaMaxMs: perfil.latenciaMaxMs,
    tasaRechazo: perfil.tasaRechazo,
    tasaTransitorio: perfil.tasaTransitorio,
  });
}
