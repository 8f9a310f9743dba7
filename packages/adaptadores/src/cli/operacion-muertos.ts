import type { AdministracionMensajesMuertos, MensajeMuerto } from '@aeropartners/aplicacion';
import { ErrorOperacion, tabla } from './entorno-operacion.js';

export type AccionMuertos =
  | { readonly tipo: 'listar'; readonly limite: number }
  | { readonly tipo: 'reenviar'; readonly id: string }
  | { readonly tipo: 'reenviarTodos' };

export interface PeticionMuertos {
  readonly administracion: AdministracionMensajesMuertos;
  readonly suscripcion: string;
  readonly accion: AccionMuertos;
  readonly formato: 'tabla' | 'json';
  readonly escribir: (linea: string) => void;
  readonly escribirError: (linea: string) => void;
}

/** `muertos listar|reenviar <id>|reenviar --todos`. Devuelve el código de salida. */
export async function operacionMuertos(p: PeticionMuertos): Promise<number> {
  const { administracion, suscripcion, accion } = p;
  switch (accion.tipo) {
    case 'listar': {
      const muertos = await administracion.listar(suscripcion, { limite: accion.limite });
      const resumen = `${muertos.length} mensaje(s) muerto(s) pendiente(s) en la suscripción «${suscripcion}».${muertos.length >= accion.limite ? ` Se muestran los ${accion.limite} primeros (--limite).` : ''}`;
      if (p.formato === 'json') {
        for (const m of muertos) p.escribir(JSON.stringify(aJson(m)));
        p.escribirError(resumen);
        return 0;
      }
      if (muertos.length > 0) {
        const filas = muertos.map((m) => [
          m.id,
          m.clave,
          m.propiedades.tipo ?? '?',
          m.entregas === null ? '?' : String(m.entregas),
          m.muertoEn?.toISOString() ?? '?',
          recortar(m.motivo, 100),
        ]);
        for (const l of tabla(['ID', 'CLAVE (PAGO)', 'TIPO', 'ENTREGAS', 'MUERTO EN', 'MOTIVO'], filas)) p.escribir(l);
      }
      p.escribir(resumen);
      return 0;
    }
    case 'reenviar': {
      const r = await administracion.reenviar(suscripcion, accion.id);
      if (r.tipo === 'noPendiente') {
        throw new ErrorOperacion(
          `El mensaje ${accion.id} no está entre los mensajes muertos pendientes de «${suscripcion}» (no existe o ya se reenvió): no se reenvió nada.`,
        );
      }
      escribirReenviados(p, [r.id]);
      return 0;
    }
    case 'reenviarTodos': {
      const hechos = await administracion.reenviarTodos(suscripcion);
      escribirReenviados(
        p,
        hechos.map((h) => h.id),
      );
      return 0;
    }
    default: {
      const imposible: never = accion;
      throw new Error(`Acción desconocida: ${JSON.stringify(imposible)}`);
    }
  }
}

function escribirReenviados(p: PeticionMuertos, ids: readonly string[]): void {
  const resumen = `${ids.length} mensaje(s) reenviado(s) a la suscripción «${p.suscripcion}»: el consumidor los manejará como mensajes nuevos.`;
  if (p.formato === 'json') {
    for (const id of ids) p.escribir(JSON.stringify({ id, suscripcion: p.suscripcion, accion: 'reenviado' }));
    p.escribirError(resumen);
    return;
  }
  for (const id of ids) p.escribir(`reenviado ${id}`);
  p.escribir(resumen);
}

function aJson(m: MensajeMuerto) {
  return {
    id: m.id,
    suscripcion: m.suscripcion,
    clave: m.clave,
    motivo: m.motivo,
    entregas: m.entregas,
    muerto_en: m.muertoEn?.toISOString() ?? null,
    propiedades: m.propiedades,
    cuerpo: m.cuerpo,
  };
}

function recortar(texto: string, largo: number): string {
  const unaLinea = texto.replace(/\s+/g, ' ');
  return unaLinea.length <= largo ? unaLinea : `${unaLinea.slice(0, largo - 1)}…`;
}
