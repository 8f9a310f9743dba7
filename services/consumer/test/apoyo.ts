import { eventoAFila, sobreDeFila } from '@aeropartners/adaptadores';
import type { MensajeEntrante, MensajeSaliente } from '@aeropartners/aplicacion';
import type { EventoPago, Trazabilidad } from '@aeropartners/dominio';
import type { LoggerConsumidor } from '../src/app.js';

/**
 * Apoyo de los tests del consumidor: mensajes con el sobre EXACTO que publica el relay (fila del outbox
 * de `eventoAFila` → `sobreDeFila`), un logger que guarda las líneas y una suscripción guionada.
 */

/** El mensaje que el relay publicaría para este evento. */
export function mensajeDe(evento: EventoPago, traza: Trazabilidad, secuencia: number): MensajeSaliente {
  const fila = eventoAFila(evento, traza);
  return sobreDeFila({
    id: String(secuencia),
    idEvento: fila.id_evento,
    idAgregado: fila.id_agregado,
    versionAgregado: fila.version_agregado,
    tipo: fila.tipo,
    payload: fila.payload,
    metadatos: { id_correlacion: fila.metadatos.id_correlacion, traceparent: fila.metadatos.traceparent ?? undefined },
    secuencia,
    intentos: 0,
    yaNumerada: false,
  });
}

/** Como lo recibiría un consumidor en su `entregas`-ésima entrega. */
export function entrante(m: MensajeSaliente, idMensaje: string, entregas = 1): MensajeEntrante {
  const propiedades: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.propiedades)) if (v !== undefined) propiedades[k] = v;
  return { idMensaje, clave: m.clave, cuerpo: m.cuerpo, propiedades, entregas, productor: 'relay-prueba', secuencia: m.secuencia };
}

/** Un UUID (v7 de forma) determinista: `uuid(3, 12)`. */
export function uuid(grupo: number, n: number): string {
  return `${grupo.toString(16).padStart(8, '0')}-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

export interface LineaRegistro {
  readonly nivel: 'debug' | 'info' | 'warn' | 'error';
  readonly campos: Readonly<Record<string, unknown>>;
  readonly mensaje: string | undefined;
}

export function registroEnMemoria(): { readonly logger: LoggerConsumidor; readonly lineas: LineaRegistro[] } {
  const lineas: LineaRegistro[] = [];
  const en =
    (nivel: LineaRegistro['nivel']) =>
    (campos: object, mensaje?: string): void => {
      lineas.push({ nivel, campos: campos as Record<string, unknown>, mensaje });
    };
  return { lineas, logger: { debug: en('debug'), info: en('info'), warn: en('warn'), error: en('error') } };
}

/** Espera a que `condicion` se cumpla (sondeando), o falla tras `tiempoMs`. */
export async function esperarHasta(condicion: () => boolean | Promise<boolean>, tiempoMs = 5_000, que = 'la condición'): Promise<void> {
  const limite = Date.now() + tiempoMs;
  while (!(await condicion())) {
    if (Date.now() > limite) throw new Error(`Tiempo agotado esperando ${que}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
