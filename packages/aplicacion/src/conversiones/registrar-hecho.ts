import {
  Dinero,
  HechoConversion,
  Resultado,
  type Ambito,
  type CredencialEscritura,
  type ErrorHechoConversion,
  type MotivoRechazo,
  type Trazabilidad,
} from '@aeropartners/dominio';
import type { AlmacenComisiones } from './puertos-conversiones.js';

/** Un hecho tal como llega por la API (ya con la forma de JSON validada; el dominio valida el resto). */
export interface SolicitudHecho {
  readonly idEvento: string;
  readonly tipo: string;
  readonly idConversion: string;
  readonly idAfiliado?: string | null | undefined;
  readonly monto?: { readonly unidadesMenores: number; readonly moneda: string } | null | undefined;
  readonly ocurridoEn: Date;
  readonly version?: number | null | undefined;
  readonly motivo?: string | null | undefined;
}

export type HechoRegistrado = Readonly<{ idEvento: string; idConversion: string; repetido: boolean }>;

export type ErrorRegistrarHecho =
  | { readonly tipo: 'HechoInvalido'; readonly error: ErrorHechoConversion }
  /** El mismo `id_evento` ya se usó con otro contenido (422). */
  | { readonly tipo: 'EventoReutilizado'; readonly idEvento: string }
  /** La credencial dejó de valer mientras se atendía la petición (revocada, expirada, socio suspendido). */
  | { readonly tipo: 'CredencialDenegada'; readonly motivo: MotivoRechazo };

export type RegistrarHecho = (
  ambito: Ambito,
  solicitud: SolicitudHecho,
  traza: Trazabilidad,
  credencial?: CredencialEscritura,
) => Promise<Resultado<HechoRegistrado, ErrorRegistrarHecho>>;

/**
 * El contenido canónico de un hecho: lo que lo identifica como «el mismo evento». Campos en orden fijo,
 * ausentes como `null`, la fecha en ISO UTC. Sin hashing (decisión 0106): el texto mismo es la huella.
 */
export function huellaDeHecho(hecho: HechoConversion): string {
  const monto = HechoConversion.monto(hecho);
  return JSON.stringify([
    hecho.tipo,
    hecho.idConversion,
    hecho.idAfiliado,
    monto?.unidadesMenores ?? null,
    monto?.moneda ?? null,
    hecho.ocurridoEn.toISOString(),
    hecho.version,
    hecho.motivo,
  ]);
}

/**
 * `POST /conversiones/eventos`: valida el hecho (nada se escribe si no vale), lo guarda con su evento de
 * outbox y su historial en una sola sentencia y responde. El mismo evento otra vez → la misma respuesta
 * marcada como repetida; el mismo `id_evento` con otro contenido → `EventoReutilizado`.
 */
export function crearManejadorRegistrarHecho(deps: {
  readonly almacen: AlmacenComisiones;
  readonly nuevoId: () => string;
}): RegistrarHecho {
  return async (ambito, solicitud, traza, credencial) => {
    let monto: Dinero | null = null;
    if (solicitud.monto != null) {
      const m = Dinero.deUnidadesMenores(solicitud.monto.unidadesMenores, solicitud.monto.moneda);
      if (!m.ok) return Resultado.fallo({ tipo: 'HechoInvalido', error: m.error });
      monto = m.valor;
    }
    const validado = HechoConversion.validar({
      tipo: solicitud.tipo,
      idEvento: solicitud.idEvento,
      idSocio: ambito.idSocio,
      idConversion: solicitud.idConversion,
      ocurridoEn: solicitud.ocurridoEn,
      idAfiliado: solicitud.idAfiliado ?? null,
      monto,
      version: solicitud.version ?? null,
      motivo: solicitud.motivo ?? null,
    });
    if (!validado.ok) return Resultado.fallo({ tipo: 'HechoInvalido', error: validado.error });
    const hecho = validado.valor;
    const huella = huellaDeHecho(hecho);
    const r = await deps.almacen.registrarHecho({ modo: ambito.modo, hecho, huella, idMensaje: deps.nuevoId(), credencial }, traza);
    if (r.tipo === 'denegado') return Resultado.fallo({ tipo: 'CredencialDenegada', motivo: r.motivo });
    if (r.tipo === 'nuevo') return Resultado.ok({ idEvento: hecho.idEvento, idConversion: hecho.idConversion, repetido: false });
    if (r.huella !== huella) return Resultado.fallo({ tipo: 'EventoReutilizado', idEvento: hecho.idEvento });
    return Resultado.ok({ idEvento: hecho.idEvento, idConversion: r.idConversion, repetido: true });
  };
}
