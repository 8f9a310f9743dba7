/**
 * Cómo se comporta la pasarela simulada: latencia, rechazos y los fallos de una pasarela real. Las tasas
 * de fallo son por intento (un reintento tira los dados otra vez): `tasaTransitorio` falla ANTES de
 * cobrar; entre los intentos que llegan a decidirse, `tasaEnCurso`, `tasaSinRespuesta` y
 * `tasa500TrasCobro` se reparten un mismo dado (suman ≤ 1) y responden `incierto` aunque la decisión
 * —cobro o rechazo— quede registrada.
 */
export interface PerfilPasarelaSimulada {
  /** Latencia mínima de un intento que no es una repetición, en ms (entera, ≥ 0). */
  readonly latenciaMinMs: number;
  /** Latencia máxima, en ms (entera, ≥ `latenciaMinMs`). Con 0, ningún temporizador. */
  readonly latenciaMaxMs: number;
  /** Fracción de claves que se rechazan de forma definitiva, en [0, 1]. */
  readonly tasaRechazo: number;
  /** Fracción de intentos que fallan de forma transitoria antes de cobrar, en [0, 1]. */
  readonly tasaTransitorio: number;
  /**
   * Fracción de intentos cuya decisión queda registrada (el cobro se hizo) pero la respuesta se pierde,
   * como un tiempo agotado tras cobrar: responden `incierto`. En [0, 1].
   */
  readonly tasaSinRespuesta: number;
  /** Fracción de intentos que registran su decisión y responden un HTTP 500: `incierto`. En [0, 1]. */
  readonly tasa500TrasCobro: number;
  /**
   * Fracción de intentos que el proveedor sigue procesando cuando el cliente deja de esperar: responden
   * `incierto` («en curso») y la decisión se registra un poco después, en segundo plano. En [0, 1].
   */
  readonly tasaEnCurso: number;
}

/** Mensajes de rechazo del `StripeAdapter` de la semilla. */
export const MENSAJES_RECHAZO_SEMILLA: readonly string[] = Object.freeze([
  'Fondos insuficientes',
  'Tarjeta rechazada por el banco emisor',
  'Límite de transacciones excedido',
]);

/**
 * Por defecto, para uso local: rápido, con algún rechazo y un poco de los fallos que ejercitar, también
 * los que cobran sin que quien llama lo sepa. «En curso» no: cuándo se aclara depende de la latencia y de
 * la espera entre reintentos de quien llama, y se pide explícitamente (`tasaEnCurso`).
 */
export const PERFIL_LOCAL: PerfilPasarelaSimulada = Object.freeze({
  latenciaMinMs: 0,
  latenciaMaxMs: 20,
  tasaRechazo: 0.1,
  tasaTransitorio: 0.02,
  tasaSinRespuesta: 0.01,
  tasa500TrasCobro: 0.005,
  tasaEnCurso: 0,
});

/** El de la semilla: 2–8 s por llamada y la mitad de los pagos rechazados (sin fallos). */
export const PERFIL_SEMILLA: PerfilPasarelaSimulada = Object.freeze({
  latenciaMinMs: 2_000,
  latenciaMaxMs: 8_000,
  tasaRechazo: 0.5,
  tasaTransitorio: 0,
  tasaSinRespuesta: 0,
  tasa500TrasCobro: 0,
  tasaEnCurso: 0,
});

/** Sin latencia (ni temporizadores de latencia): para medir el resto del sistema. Lo demás, como el local. */
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

/** Lo que se reparten los fallos posteriores al envío (en curso, sin respuesta, 500): debe ser ≤ 1. */
export function sumaTasasTrasEnviar(perfil: Pick<PerfilPasarelaSimulada, 'tasaEnCurso' | 'tasaSinRespuesta' | 'tasa500TrasCobro'>): number {
  return perfil.tasaEnCurso + perfil.tasaSinRespuesta + perfil.tasa500TrasCobro;
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
  comprobarTasa('tasaSinRespuesta', perfil.tasaSinRespuesta);
  comprobarTasa('tasa500TrasCobro', perfil.tasa500TrasCobro);
  comprobarTasa('tasaEnCurso', perfil.tasaEnCurso);
  const trasEnviar = sumaTasasTrasEnviar(perfil);
  if (trasEnviar > 1 + 1e-9) {
    throw new Error(
      `Pasarela simulada: tasaEnCurso + tasaSinRespuesta + tasa500TrasCobro no puede superar 1 (suman ${+trasEnviar.toFixed(6)}): ` +
        'se reparten el mismo dado.',
    );
  }
  return Object.freeze({
    latenciaMinMs: perfil.latenciaMinMs,
    latenciaMaxMs: perfil.latenciaMaxMs,
    tasaRechazo: perfil.tasaRechazo,
    tasaTransitorio: perfil.tasaTransitorio,
    tasaSinRespuesta: perfil.tasaSinRespuesta,
    tasa500TrasCobro: perfil.tasa500TrasCobro,
    tasaEnCurso: perfil.tasaEnCurso,
  });
}
