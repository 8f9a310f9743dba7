import { autorizar, type EstadoSocio, type Modo } from '@aeropartners/dominio';
import type { AutenticadorDeClaves, CredencialAutenticada, ResultadoAutenticacion } from '../socios/puertos-socios.js';

/**
 * Doble en memoria del autenticador de claves (el puerto {@link AutenticadorDeClaves} de los socios):
 * socios, claves en claro por modo, revocación, plazo y suspensión, con las mismas reglas que el adaptador
 * real (la clave se juzga antes que el socio; el modo anónimo crea el socio si falta). Cuenta las llamadas.
 */

interface SocioEnMemoria {
  readonly id: string;
  estado: EstadoSocio;
  firmaObligatoria: boolean;
  limiteRps: number | null;
  secretosFirma: string[];
}

interface ClaveEnMemoria {
  readonly id: string;
  readonly idSocio: string;
  readonly modo: Modo;
  expiraEn: Date | null;
  revocadaEn: Date | null;
}

export interface OpcionesSocio {
  readonly firmaObligatoria?: boolean;
  readonly limiteRps?: number | null;
  readonly secretosFirma?: readonly string[];
}

export class AutenticadorEnMemoria implements AutenticadorDeClaves {
  readonly socios = new Map<string, SocioEnMemoria>();
  readonly #claves = new Map<string, ClaveEnMemoria>();
  #emitidas = 0;
  llamadas = 0;

  crearSocio(id: string, opciones: OpcionesSocio = {}): SocioEnMemoria {
    const socio: SocioEnMemoria = {
      id,
      estado: 'activo',
      firmaObligatoria: opciones.firmaObligatoria ?? false,
      limiteRps: opciones.limiteRps ?? null,
      secretosFirma: [...(opciones.secretosFirma ?? [])],
    };
    this.socios.set(id, socio);
    return socio;
  }

  /** Una clave nueva del socio (creado si no existe), en claro: `ap_live_…` o `ap_test_…`. */
  emitirClave(idSocio: string, modo: Modo = 'live', expiraEn: Date | null = null): string {
    if (!this.socios.has(idSocio)) this.crearSocio(idSocio);
    // Con la forma de una clave real (prefijo y 43 caracteres), pero predecible: es un doble.
    const numero = ++this.#emitidas;
    const clave = `ap_${modo}_${String(numero).padStart(43, '0')}`;
    this.#claves.set(clave, { id: `clave-${numero}`, idSocio, modo, expiraEn, revocadaEn: null });
    return clave;
  }

  idClave(clave: string): string {
    const guardada = this.#claves.get(clave);
    if (!guardada) throw new Error('clave desconocida en el doble');
    return guardada.id;
  }

  revocar(clave: string, en = new Date(0)): void {
    const guardada = this.#claves.get(clave);
    if (guardada) guardada.revocadaEn = en;
  }

  suspender(idSocio: string): void {
    const socio = this.socios.get(idSocio);
    if (socio) socio.estado = 'suspendido';
  }

  async autenticar(claveEnClaro: string, ahora: Date): Promise<ResultadoAutenticacion> {
    this.llamadas += 1;
    const clave = this.#claves.get(claveEnClaro);
    const socio = clave && this.socios.get(clave.idSocio);
    if (!clave || !socio) return { tipo: 'desconocida' };
    // Las mismas reglas que el adaptador real: las del dominio.
    const permiso = autorizar(socio, clave, ahora);
    if (!permiso.ok) return { tipo: 'rechazada', motivo: permiso.error, idSocio: socio.id };
    return { tipo: 'autenticada', credencial: this.#credencial(socio, clave.id, `${claveEnClaro.slice(0, 12)}…`, clave.modo) };
  }

  async socioAnonimo(idSocio: string): Promise<CredencialAutenticada> {
    this.llamadas += 1;
    const socio = this.socios.get(idSocio) ?? this.crearSocio(idSocio);
    return this.#credencial(socio, null, null, 'live');
  }

  #credencial(socio: SocioEnMemoria, idClave: string | null, prefijoClave: string | null, modo: Modo): CredencialAutenticada {
    return {
      socio: {
        id: socio.id,
        nombre: socio.id,
        estado: socio.estado,
        firmaObligatoria: socio.firmaObligatoria,
        limiteRps: socio.limiteRps,
      },
      idClave,
      prefijoClave,
      modo,
      secretosFirma: socio.firmaObligatoria ? [...socio.secretosFirma] : [],
    };
  }
}
