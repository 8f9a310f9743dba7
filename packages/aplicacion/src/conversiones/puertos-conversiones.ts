import type {
  AjusteComision,
  Ambito,
  Asiento,
  CambioPago,
  Comision,
  Conversion,
  CredencialEscritura,
  DesenlacePago,
  EstadoComision,
  EstadoConversion,
  EstadoLiquidacion,
  HechoConversion,
  Liquidacion,
  Modo,
  MotivoRechazo,
  ReglaComision,
  Saldos,
  Trazabilidad,
} from '@aeropartners/dominio';

/** Un hecho validado listo para guardarse, con su huella (contenido canónico) y el id de su mensaje. */
export interface HechoParaRegistrar {
  readonly modo: Modo;
  readonly hecho: HechoConversion;
  /** El contenido canónico del hecho: dos cuerpos con la misma huella son el mismo evento. */
  readonly huella: string;
  /** Id (UUID) del evento de outbox que lleva el hecho al consumidor. */
  readonly idMensaje: string;
  /** La credencial que la sentencia comprueba (socio activo, clave vigente); sin ella, no se comprueba. */
  readonly credencial?: CredencialEscritura | undefined;
}

/** Lo que pasó al guardar un hecho: nuevo, o ya había uno con ese `id_evento` (con su huella). */
export type ResultadoRegistroHecho =
  | { readonly tipo: 'nuevo' }
  | { readonly tipo: 'existente'; readonly huella: string; readonly idConversion: string }
  /** La credencial dejó de valer entre la autenticación y la escritura: no se escribió nada. */
  | { readonly tipo: 'denegado'; readonly motivo: MotivoRechazo };

/** Lo que el consumidor lee, con la conversión bloqueada, para aplicar un hecho (decisión 0107). */
export interface LecturaConversion {
  readonly hecho: HechoConversion;
  /** El hecho ya se aplicó (una reentrega del mensaje). */
  readonly yaAplicado: boolean;
  /** Los hechos ya aplicados de la conversión (sin el que llega). */
  readonly aplicados: readonly HechoConversion[];
  readonly comision: Comision | null;
  readonly ajustes: readonly AjusteComision[];
  readonly reglas: readonly ReglaComision[];
}

/** Lo que hay que escribir (en la misma transacción) tras aplicar un hecho. */
export type DecisionHecho =
  /** Ya estaba aplicado: nada que escribir. */
  | { readonly tipo: 'duplicado' }
  | {
      readonly tipo: 'aplicar';
      readonly conversion: Conversion;
      readonly comision: Comision | null;
      readonly ajuste: AjusteComision | null;
      readonly asiento: Asiento | null;
    }
  /** Un conflicto bloqueante: se guarda el hecho como aplicado y la conversión queda bloqueada, sin mover dinero. */
  | { readonly tipo: 'bloqueada'; readonly conversion: Conversion }
  /** No se puede aplicar ahora (p. ej. el socio no tiene regla vigente): nada se escribe. */
  | { readonly tipo: 'rechazado'; readonly motivo: string };

export type DesenlaceAplicacion = DecisionHecho | { readonly tipo: 'hechoInexistente' };

/** Lo que el cierre de una liquidación lee con la liquidación y sus comisiones bloqueadas. */
export interface LecturaCierre {
  readonly liquidacion: Liquidacion;
  readonly desenlace: DesenlacePago;
  readonly comisiones: readonly Comision[];
  readonly ajustes: readonly AjusteComision[];
}

export interface EscrituraCierre {
  readonly liquidacion: Liquidacion;
  readonly comisiones: readonly Comision[];
  readonly ajustes: readonly AjusteComision[];
  readonly ajustesNuevos: readonly AjusteComision[];
  readonly asiento: Asiento | null;
}

/** Persistencia de conversiones, comisiones, liquidaciones y libro mayor (decisión 0107). */
export interface AlmacenComisiones {
  /** Guarda el hecho, su evento de outbox y su historial en una sola sentencia; si el `id_evento` ya existe, no escribe nada. */
  registrarHecho(registro: HechoParaRegistrar, traza: Trazabilidad): Promise<ResultadoRegistroHecho>;
  /**
   * Aplica un hecho guardado: en una transacción, bloquea la conversión (la crea si no existe), lee lo
   * necesario, llama a `decidir` y escribe lo que devuelve.
   */
  aplicarHecho(ambito: Ambito, idEvento: string, decidir: (lectura: LecturaConversion) => DecisionHecho): Promise<DesenlaceAplicacion>;
  /** Marca como huérfanas las conversiones que esperan su `creada` desde hace más de `esperaMaximaMs`. Devuelve cuántas. */
  marcarHuerfanas(esperaMaximaMs: number): Promise<number>;

  /** Todas las reglas de comisión. */
  reglas(): Promise<readonly ReglaComision[]>;
  /** Guarda una regla nueva del socio con la versión siguiente a la última (vigente desde `vigenteDesde`). */
  guardarRegla(idSocio: string, crear: (version: number) => ReglaComision | Error): Promise<ReglaComision>;
  /** Comisiones aprobadas sin liquidación con el bloqueo cumplido en `ahora`, y ajustes sin liquidación. */
  candidatas(modo: Modo, ahora: Date): Promise<{ readonly comisiones: readonly Comision[]; readonly ajustes: readonly AjusteComision[] }>;
  /**
   * Crea en una sola sentencia la liquidación, sus partidas, su `Pago` (con outbox e historial), el
   * asiento y marca sus partidas; solo si todas siguen libres y con el mismo importe. `false` si no
   * escribió nada (ya existía, o alguna partida cambió mientras tanto).
   */
  crearLiquidacion(modo: Modo, liquidacion: Liquidacion, pago: CambioPago, asiento: Asiento | null, traza: Trazabilidad): Promise<boolean>;
  /** Liquidaciones en curso cuyo `Pago` ya terminó (EXITOSO o FALLIDO). */
  liquidacionesTerminadas(modo: Modo): Promise<readonly { readonly idLiquidacion: string; readonly desenlace: DesenlacePago }[]>;
  /** Cierra una liquidación en una transacción con ella y sus comisiones bloqueadas. `false` si ya no estaba en curso. */
  cerrarLiquidacion(modo: Modo, idLiquidacion: string, decidir: (lectura: LecturaCierre) => EscrituraCierre): Promise<boolean>;
}

/** Una conversión tal como la ve el socio. */
export interface VistaConversion {
  readonly idConversion: string;
  readonly estado: EstadoConversion;
  readonly bloqueada: boolean;
  readonly huerfana: boolean;
  readonly idAfiliado: string | null;
  readonly venta: { readonly unidadesMenores: number; readonly moneda: string } | null;
  readonly comision: { readonly unidadesMenores: number; readonly moneda: string; readonly estado: EstadoComision } | null;
  readonly hechos: readonly {
    readonly idEvento: string;
    readonly tipo: string;
    readonly ocurridoEn: Date;
    readonly recibidoEn: Date;
    readonly aplicado: boolean;
    readonly version: number | null;
    readonly monto: { readonly unidadesMenores: number; readonly moneda: string } | null;
  }[];
}

export interface FiltrosConversiones {
  readonly estado?: EstadoConversion | undefined;
  readonly idAfiliado?: string | undefined;
  /** Id de conversión a partir del cual seguir (excluido), orden ascendente. */
  readonly despuesDe?: string | undefined;
  readonly limite: number;
}

export interface VistaLiquidacion {
  readonly id: string;
  readonly idAfiliado: string;
  readonly moneda: string;
  readonly netoUnidadesMenores: number;
  readonly estado: EstadoLiquidacion;
  readonly idEjecucion: string;
  readonly creadaEn: Date;
  readonly idPago: string;
  readonly estadoPago: string | null;
  readonly partidas: readonly {
    readonly tipo: string;
    readonly id: string;
    readonly idConversion: string;
    readonly unidadesMenores: number;
  }[];
}

/** Una entrada del historial de una conversión (solo de inserción): lo que pasó, cuándo y con qué correlación. */
export interface EntradaHistorialConversion {
  /** `HechoRecibido`, `HechoAplicado`, `ComisionPagada`, `ComisionLiberada`, `ConversionHuerfana`. */
  readonly tipo: string;
  readonly idEvento: string | null;
  readonly estado: string | null;
  readonly detalle: Readonly<Record<string, unknown>>;
  readonly ocurridoEn: Date;
  readonly idCorrelacion: string;
}

/** Consultas de lectura, siempre dentro de un ámbito. */
export interface ConsultasComisiones {
  conversion(ambito: Ambito, idConversion: string): Promise<VistaConversion | null>;
  /** El historial de la conversión en orden; vacío si no existe en el ámbito. */
  historial(ambito: Ambito, idConversion: string): Promise<readonly EntradaHistorialConversion[]>;
  conversiones(ambito: Ambito, filtros: FiltrosConversiones): Promise<readonly VistaConversion[]>;
  /** Saldos del libro mayor del afiliado, por moneda. */
  saldos(ambito: Ambito, idAfiliado: string): Promise<readonly { readonly moneda: string; readonly saldos: Saldos }[]>;
  liquidacion(ambito: Ambito, idLiquidacion: string): Promise<VistaLiquidacion | null>;
}
