import {
  Dinero,
  Resultado,
  crearPago,
  type Ambito,
  type CredencialEscritura,
  type ErrorDePago,
  type MotivoRechazo,
  type Pago,
  type Reloj,
  type RepositorioPagos,
  type Trazabilidad,
} from '@aeropartners/dominio';
import type { GeneradorIds } from '../puertos.js';

/** Registra un pago recibido de un socio. No llama a la pasarela: eso ocurre de forma asíncrona. */
export interface RegistrarPago {
  readonly tipo: 'RegistrarPago';
  /** Socio y modo del pago: los de la credencial con la que llegó, nunca del cuerpo. */
  readonly ambito: Ambito;
  /** La clave con la que se pide (`idClave: null` en el modo anónimo): se comprueba al escribir. */
  readonly credencial: CredencialEscritura;
  /** Cabecera `Idempotency-Key`; si falta, la clave es `referenciaPago`. Única por socio y modo. */
  readonly claveIdempotencia?: string | undefined;
  readonly idAfiliado: string;
  readonly monto: number | string;
  readonly moneda: string;
  readonly referenciaPago: string;
  /** Con `idSolicitud` (el `Request-Id` de la petición), que se guarda con el historial y los eventos. */
  readonly traza: Trazabilidad;
}

export type ErrorRegistrarPago =
  | ErrorDePago
  | {
      /**
       * La credencial dejó de valer entre la autenticación y la escritura (clave revocada o expirada,
       * socio suspendido): no se escribió nada.
       */
      readonly tipo: 'CredencialDenegada';
      readonly motivo: MotivoRechazo;
    }
  | {
      /** La clave ya se usó con otro cuerpo: no se crea nada y se nombra el pago existente. */
      readonly tipo: 'ClaveReutilizada';
      readonly idPagoExistente: string;
      readonly camposDistintos: readonly string[];
    };

export interface PagoRegistrado {
  readonly pago: Pago;
  /** `true` si la clave ya existía con el mismo cuerpo: respuesta repetida, nada nuevo escrito. */
  readonly repetido: boolean;
}

export interface DependenciasRegistrarPago {
  readonly repositorio: RepositorioPagos;
  readonly reloj: Reloj;
  readonly nuevoId: GeneradorIds;
}

function camposDistintos(existente: Pago, solicitado: { idAfiliado: string; monto: Dinero; referenciaPago: string }) {
  const distintos: string[] = [];
  if (existente.idAfiliado !== solicitado.idAfiliado) distintos.push('id_afiliado');
  if (existente.monto.unidadesMenores !== solicitado.monto.unidadesMenores) distintos.push('monto');
  if (existente.monto.moneda !== solicitado.monto.moneda) distintos.push('moneda');
  if (existente.referenciaPago !== solicitado.referenciaPago) distintos.push('referencia_pago');
  return distintos;
}

export function crearManejadorRegistrarPago(deps: DependenciasRegistrarPago) {
  return async function registrarPago(comando: RegistrarPago): Promise<Resultado<PagoRegistrado, ErrorRegistrarPago>> {
    const monto = Dinero.de(comando.monto, comando.moneda);
    if (!monto.ok) return monto;
    const cambio = crearPago(
      {
        id: deps.nuevoId(),
        idSocio: comando.ambito.idSocio,
        modo: comando.ambito.modo,
        idAfiliado: comando.idAfiliado,
        monto: monto.valor,
        referenciaPago: comando.referenciaPago,
      },
      { ahora: deps.reloj.ahora(), nuevoId: deps.nuevoId },
    );
    if (!cambio.ok) return cambio;
    const clave = { idSocio: comando.ambito.idSocio, clave: comando.claveIdempotencia ?? comando.referenciaPago };
    const creacion = await deps.repositorio.crear(cambio.valor, clave, comando.traza, comando.credencial);
    if (creacion.tipo === 'denegado') return Resultado.fallo({ tipo: 'CredencialDenegada', motivo: creacion.motivo });
    if (creacion.tipo === 'creado') return Resultado.ok({ pago: creacion.pago, repetido: false });
    const distintos = camposDistintos(creacion.pago, cambio.valor.pago);
    if (distintos.length > 0) {
      return Resultado.fallo({ tipo: 'ClaveReutilizada', idPagoExistente: creacion.pago.id, camposDistintos: distintos });
    }
    return Resultado.ok({ pago: creacion.pago, repetido: true });
  };
}

export type ManejadorRegistrarPago = ReturnType<typeof crearManejadorRegistrarPago>;
