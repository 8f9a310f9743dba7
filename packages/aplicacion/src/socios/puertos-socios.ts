import type { ClaveApi, ErrorSocio, Modo, MotivoRechazo, Resultado, Socio } from '@aeropartners/dominio';

/**
 * Puertos de los socios (partners): quién es el dueño de una clave de API, y su administración.
 * La API solo conoce {@link AutenticadorDeClaves}; la línea de órdenes `pnpm socios` usa
 * {@link AdministracionSocios}. El mecanismo (hash, búsqueda en tiempo constante, caché, tablas) es del
 * adaptador.
 */

/** Lo que la autenticación sabe del dueño de una clave vigente. */
export interface CredencialAutenticada {
  readonly socio: Socio;
  /**
   * Id de la clave (nunca la clave en claro): la sentencia que escribe comprueba que sigue vigente
   * (`CredencialEscritura` del dominio). `null` en el modo anónimo (sin clave).
   */
  readonly idClave: string | null;
  /** Prefijo público de la clave, para los registros; `null` en el modo anónimo. */
  readonly prefijoClave: string | null;
  /** El modo de la clave: todo lo que se crea o se lee con ella es de ese modo. */
  readonly modo: Modo;
  /** Secretos de firma vigentes (`whsec_…`) si el socio exige peticiones firmadas; vacío si no. */
  readonly secretosFirma: readonly string[];
}

export type ResultadoAutenticacion =
  | { readonly tipo: 'autenticada'; readonly credencial: CredencialAutenticada }
  /** Ninguna clave con esa forma y ese secreto: 401. */
  | { readonly tipo: 'desconocida' }
  /** La clave existe pero no deja operar (revocada o expirada: 401; socio suspendido: 403). */
  | { readonly tipo: 'rechazada'; readonly motivo: MotivoRechazo; readonly idSocio: string };

export interface AutenticadorDeClaves {
  /**
   * El dueño de `claveEnClaro` en `ahora`. Compara en tiempo constante; puede responder de una caché
   * con plazo corto (la revocación se confirma además en la sentencia que escribe: ver
   * `CredencialEscritura` del dominio).
   */
  autenticar(claveEnClaro: string, ahora: Date): Promise<ResultadoAutenticacion>;
  /**
   * Modo anónimo (compatibilidad con el servicio semilla, `API_ANONIMA_SOCIO`): el socio con ese id,
   * creado si no existe, como credencial sin clave (`idClave: null`, modo `live`).
   */
  socioAnonimo(idSocio: string): Promise<CredencialAutenticada>;
}

/** Una clave recién emitida: la única vez que se ve en claro. */
export interface ClaveEmitida {
  readonly clave: ClaveApi;
  readonly claveEnClaro: string;
}

export interface SocioConClaves {
  readonly socio: Socio;
  readonly claves: readonly ClaveApi[];
}

/** Un socio recién creado, con su primera clave y, si exige firmas, su primer secreto de firma. */
export interface SocioCreado {
  readonly socio: Socio;
  readonly clave: ClaveEmitida;
  /** `whsec_…`, solo si el socio exige firmas: como la clave, se ve en claro esta única vez. */
  readonly secretoFirma: string | null;
}

export interface DatosSocioNuevo {
  readonly nombre: string;
  readonly firmaObligatoria: boolean;
  readonly limiteRps: number | null;
  /** El modo de su primera clave. */
  readonly modo: Modo;
}

export type ErrorAdministracion =
  | ErrorSocio
  | { readonly tipo: 'SocioNoEncontrado'; readonly idSocio: string }
  | { readonly tipo: 'ClaveNoEncontrada'; readonly idSocio: string; readonly prefijo: string }
  | { readonly tipo: 'DemasiadosSecretos'; readonly idSocio: string };

/** Lo que devuelve suspender o reactivar: el socio, y si su estado cambió (repetirlo no es un error). */
export interface CambioEstadoSocio {
  readonly socio: Socio;
  readonly cambiado: boolean;
}

/**
 * Administración de socios (la línea de órdenes `pnpm socios`). Cada cambio que afecta a la
 * autenticación (revocar, suspender, reactivar) avisa en su misma transacción a las instancias que
 * tienen credenciales en caché.
 */
export interface AdministracionSocios {
  crear(datos: DatosSocioNuevo, ahora: Date): Promise<Resultado<SocioCreado, ErrorAdministracion>>;
  /**
   * Una clave nueva (rotación): la anterior sigue valiendo hasta que se revoque o, con
   * `expiraAnteriorEn`, hasta ese instante. Como mucho `MAXIMO_CLAVES_VIGENTES` por socio y modo.
   */
  emitirClave(idSocio: string, modo: Modo, ahora: Date, expiraAnteriorEn?: Date): Promise<Resultado<ClaveEmitida, ErrorAdministracion>>;
  /** Revoca la clave con ese prefijo (revocar una ya revocada no es un error: la devuelve tal cual). */
  revocarClave(idSocio: string, prefijo: string, ahora: Date): Promise<Resultado<ClaveApi, ErrorAdministracion>>;
  suspender(idSocio: string): Promise<Resultado<CambioEstadoSocio, ErrorAdministracion>>;
  reactivar(idSocio: string): Promise<Resultado<CambioEstadoSocio, ErrorAdministracion>>;
  /** Todos los socios con sus claves (sin secretos), por id. */
  listar(): Promise<readonly SocioConClaves[]>;
  /** Un secreto de firma nuevo (`whsec_…`), como mucho `MAXIMO_SECRETOS_FIRMA` vigentes. */
  emitirSecretoFirma(idSocio: string, ahora: Date): Promise<Resultado<string, ErrorAdministracion>>;
}
